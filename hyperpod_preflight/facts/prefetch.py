"""Named reads that checks declare (``@check(..., reads=(...))``) and the run starts, all at
once, before the checks run: each fills the readers' memo, where the checks find the result
(or the failure, which they report as UNKNOWN). A read here is only ever one that its
checks make anyway, so prefetching changes when calls start, never how many there are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import TYPE_CHECKING

from ..analysis.iam_roles import (
    caller_needs,
    caller_principal,
    config_roles,
    simulation_batches,
)
from ..analysis.kms_lifecycle import execution_roles_reading, key_reference, needs_key_policy
from ..analysis.lifecycle import DEFAULT_MAX_BYTES as LINT_MAX_BYTES
from ..analysis.network import nat_ids
from ..analysis.s3_lifecycle import (
    PROVISIONING_PARAMETERS,
    LifecycleObject,
    lifecycle_groups,
    lifecycle_objects,
    lifecycle_prefixes,
)
from ..errors import FactUnavailable
from .quotas import SAGEMAKER

if TYPE_CHECKING:
    from ..spec import ClusterSpec
    from . import AwsFacts

Read = Callable[["AwsFacts", "ClusterSpec"], None]

# Service Quotas "Inbound or outbound rules per security group" (vpc L-0EA8095F).
RULES_PER_SG_QUOTA = ("vpc", "L-0EA8095F")


def _security_groups(facts: AwsFacts, spec: ClusterSpec) -> None:
    if spec.all_security_groups:
        facts.security_groups(spec.all_security_groups)


# The advisory quotas of ``quotas.network-interfaces`` and ``quotas.elastic-ips``.
ENI_QUOTA = ("vpc", "L-DF5E4CA3")
EIP_QUOTA = ("ec2", "L-0263D0A3")


def _eni_quota(facts: AwsFacts, spec: ClusterSpec) -> None:
    if spec.instance_groups:
        facts.quota_by_code(*ENI_QUOTA)


def _eip_quota(facts: AwsFacts, spec: ClusterSpec) -> None:
    """The Elastic IP quota, then the addresses in use (what the check reads after it)."""
    if spec.all_subnets and facts.quota_by_code(*EIP_QUOTA) is not None:
        facts.elastic_ip_count()


def _rules_quota(facts: AwsFacts, spec: ClusterSpec) -> None:
    facts.quota_by_code(*RULES_PER_SG_QUOTA)


def _subnets(facts: AwsFacts, spec: ClusterSpec) -> None:
    if spec.all_subnets:
        facts.subnets(spec.all_subnets)


def _route_tables(facts: AwsFacts, spec: ClusterSpec) -> None:
    """subnets → their route tables (explicit association, else the main table)."""
    subnet_ids = tuple(spec.all_subnets)
    if subnet_ids:
        facts.subnets(subnet_ids)
        facts.subnet_route_tables(subnet_ids)


def _egress(facts: AwsFacts, spec: ClusterSpec) -> None:
    """subnets → their route tables → the NAT gateways the default routes name."""
    subnet_ids = tuple(spec.all_subnets)
    if not subnet_ids:
        return
    facts.subnets(subnet_ids)
    tables = facts.subnet_route_tables(subnet_ids)
    facts.nat_gateways(nat_ids(tables.values()))  # the NAT gateways the checks read


def _vpc_endpoints(facts: AwsFacts, spec: ClusterSpec) -> None:
    subnet_ids = tuple(spec.all_subnets)
    if not subnet_ids:
        return
    subnets = facts.subnets(subnet_ids)
    for vpc_id in dict.fromkeys(str(s.get("VpcId", "")) for s in subnets.values()):
        if vpc_id:
            facts.vpc_endpoints(vpc_id)


def _lifecycle_bucket(facts: AwsFacts, spec: ClusterSpec) -> None:
    """Per distinct lifecycle bucket: its location and owner, policy and Block Public Access
    (the account's Block Public Access is read later, by the one check that may need it)."""
    for bucket in lifecycle_groups(spec):
        if facts.bucket_location(bucket) is not None:
            _together(facts.bucket_policy, facts.bucket_public_access_block, arg=bucket)


def _lifecycle_objects(facts: AwsFacts, spec: ClusterSpec) -> None:
    """Per distinct bucket that may exist, its default encryption and one HeadObject per
    distinct file (a bucket known to be missing costs nothing more)."""
    objects = lifecycle_objects(spec)
    for bucket in dict.fromkeys(o.bucket for o in objects):
        try:
            if facts.bucket_location(bucket) is None:
                continue
        except FactUnavailable:  # unreadable: the objects are still HEADed
            pass
        reads: list[Callable[[], object]] = [
            functools.partial(facts.bucket_default_encryption, bucket)
        ]
        reads += [
            functools.partial(facts.head_object, obj.bucket, obj.key)
            for obj in objects
            if obj.bucket == bucket
        ]
        _together(*reads)


def _lifecycle_prefix(facts: AwsFacts, spec: ClusterSpec) -> None:
    """Each SourceS3Uri prefix listed, then its entry scripts (what the lint fetches first)."""
    for where in lifecycle_prefixes(spec):
        try:
            sizes = facts.prefix_listing(where.bucket, where.prefix).sizes
        except FactUnavailable:
            continue
        _together(
            *(
                functools.partial(
                    facts.object_head_bytes, where.bucket, where.prefix + n, LINT_MAX_BYTES
                )
                for n in where.entries
                if sizes.get(n, LINT_MAX_BYTES + 1) <= LINT_MAX_BYTES
            )
        )


def _provisioning_parameters(facts: AwsFacts, spec: ClusterSpec) -> None:
    """Slurm: each prefix listed, then its ``provisioning_parameters.json`` (the copy the
    nodes read; the slurm checks judge the file systems it names)."""
    if spec.orchestrator != "slurm":
        return
    for where in lifecycle_prefixes(spec):
        with suppress(FactUnavailable):  # failures are memoized: the checks report them
            if PROVISIONING_PARAMETERS in facts.prefix_listing(where.bucket, where.prefix).sizes:
                key = where.prefix + PROVISIONING_PARAMETERS
                facts.object_head_bytes(where.bucket, key, LINT_MAX_BYTES)


def _together(*reads: Callable[..., object], arg: object = None) -> None:
    """Independent reads of one resource at once (failures stay in the readers' memo)."""
    calls = [functools.partial(r, arg) if arg is not None else r for r in reads]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(calls)))) as pool:
        for done in [pool.submit(c) for c in calls]:
            with suppress(Exception):
                done.result()


def _roles_here(facts: AwsFacts, spec: ClusterSpec) -> list[str]:
    """The names of the config's roles in the caller's account (the IAM checks judge a role
    of another account UNKNOWN without reading it)."""
    named = config_roles(spec)
    if not named:
        return []
    account = facts.account or caller_principal(facts.identity_arn()).account
    return list(dict.fromkeys(r.name for r in named if r.account == account))


def _each_role(facts: AwsFacts, spec: ClusterSpec, read: Callable[[str], object]) -> None:
    names = _roles_here(facts, spec)
    if not names:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
        for done in [pool.submit(read, name) for name in names]:
            with suppress(Exception):  # failures are memoized: the checks report them
                done.result()


def _iam_roles(facts: AwsFacts, spec: ClusterSpec) -> None:
    """``GetRole`` of every role of the config."""
    _each_role(facts, spec, facts.role)


def _iam_attached(facts: AwsFacts, spec: ClusterSpec) -> None:
    """Every existing role → its attached managed policies (the list only)."""

    def attached(name: str) -> None:
        if facts.role(name) is not None:
            facts.attached_role_policies(name)

    _each_role(facts, spec, attached)


def _iam_role_policies(facts: AwsFacts, spec: ClusterSpec) -> None:
    """Every role → its managed, inline and boundary policy documents."""
    _each_role(facts, spec, facts.role_policies)


def _iam_caller(facts: AwsFacts, spec: ClusterSpec) -> None:
    """The caller's identity → its role's real ARN (the session ARN has no path), beside
    whether HyperPod's service-linked role exists → the simulator calls
    ``iam.caller-permissions`` makes (one per action, all at once)."""
    caller = caller_principal(facts.identity_arn())
    if caller.kind not in ("role", "user"):
        return
    with ThreadPoolExecutor(max_workers=4) as pool:
        slr = pool.submit(facts.service_linked_role_exists)
        principal = caller.principal_arn
        if ":assumed-role/" in caller.identity_arn and caller.account == facts.account:
            role = facts.role(caller.name)
            principal = str(role["Arn"]) if role and role.get("Arn") else principal
        needs = caller_needs(spec, caller, facts.region, slr.result())
        sims = [
            pool.submit(facts.simulate_principal_policy, principal, [action], resources, context)
            for (action, context), resources in simulation_batches(needs).items()
        ]
        for sim in sims:
            sim.result()


def _lifecycle_kms(facts: AwsFacts, spec: ClusterSpec) -> None:
    """Each lifecycle object of an existing bucket → its KMS key (``HeadObject``; the
    bucket's default encryption for a missing object) → ``DescribeKey`` per key →
    ``GetKeyPolicy`` of this account's enabled customer managed keys, beside the policies of
    the execution roles reading them: the reads ``iam.lifecycle-kms`` makes (its lazy
    ``ListGrants`` is not prefetched)."""
    by_ref: dict[str, list[LifecycleObject]] = {}
    for obj in lifecycle_objects(spec):
        with suppress(FactUnavailable):  # unreadable: the objects are still HEADed
            if facts.bucket_location(obj.bucket) is None:
                continue
        try:
            head = facts.head_object(obj.bucket, obj.key)
            default = None if head is not None else facts.bucket_default_encryption(obj.bucket)
        except FactUnavailable:
            continue
        ref = key_reference(head, default)
        if ref is not None:
            by_ref.setdefault(ref, []).append(obj)
    if not by_ref:
        return
    account = facts.account or caller_principal(facts.identity_arn()).account
    readers = execution_roles_reading(
        config_roles(spec), [o for objs in by_ref.values() for o in objs]
    )
    names = list(dict.fromkeys(r.name for r in readers if r.account == account))
    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(facts.role_policies, name) for name in names]
        for ref in by_ref:
            with suppress(FactUnavailable):
                key = facts.key(ref)
                if key is not None and needs_key_policy(key, account):
                    facts.key_policy(key.arn)
        for job in jobs:
            with suppress(Exception):  # failures are memoized: the check reports them
                job.result()


def _sagemaker_lookups(spec: ClusterSpec, *kinds: str) -> list[tuple[str, ...]]:
    """``(name, *aliases)`` of the SageMaker quotas of ``kinds`` that ``spec`` needs, as the
    quota checks ask for them (instance types in the worst case of flexible groups, as
    ``quotas.instance-type`` counts them). Only counts and sizes decide which quotas are
    needed, so the catalog plan names the same ones as the live one."""
    from ..planner import build_plan, sagemaker_quota_needs

    needs = sagemaker_quota_needs(spec, build_plan(spec), flexible_worst_case=True)
    return [(n.quota_name, *n.aliases) for n in needs if n.kind in kinds]


def _sagemaker_quotas(facts: AwsFacts, spec: ClusterSpec) -> None:
    """The HyperPod usage beside the instance-type and across-clusters quotas (by cached
    code, else the listings)."""
    facts.warm_sagemaker_quota_reads(*_sagemaker_lookups(spec, "instance-type", "total"))


def _sagemaker_cluster_quotas(facts: AwsFacts, spec: ClusterSpec) -> None:
    """The per-cluster instance and EBS volume size quotas (by cached code, else the
    listings)."""
    lookups = _sagemaker_lookups(spec, "per-cluster", "ebs-volume-size")
    if not lookups:
        return
    with ThreadPoolExecutor(max_workers=len(lookups)) as pool:
        for done in [pool.submit(facts.sagemaker_quota, *names) for names in lookups]:
            with suppress(Exception):  # failures are memoized: the checks report them
                done.result()


def _eks_name(facts: AwsFacts, spec: ClusterSpec) -> str | None:
    """The EKS cluster name the checks will describe: only when its ARN is of this run's
    region and account (the checks describe nothing otherwise)."""
    from ..spec.forms import EKS_CLUSTER_ARN_RE

    if spec.orchestrator != "eks" or not spec.eks_cluster_arn:
        return None
    match = EKS_CLUSTER_ARN_RE.fullmatch(spec.eks_cluster_arn)
    if match is None or match["region"] != facts.region:
        return None
    account = facts.account or facts.caller_identity()["Account"]
    return match["name"] if match["account"] == account else None


def _eks_cluster(facts: AwsFacts, spec: ClusterSpec) -> None:
    name = _eks_name(facts, spec)
    if name:
        facts.eks_cluster(name)


def _eks_vpc_cni(facts: AwsFacts, spec: ClusterSpec) -> None:
    name = _eks_name(facts, spec)
    if name and facts.eks_cluster(name) is not None:
        facts.eks_addon(name, "vpc-cni")


def _eks_access_entries(facts: AwsFacts, spec: ClusterSpec) -> None:
    """Only where eks.caller-access lists them: the cluster exists, uses access entries, and
    the caller is a principal an entry can name."""
    from ..analysis.eks import principal

    name = _eks_name(facts, spec)
    cluster = facts.eks_cluster(name) if name else None
    if name is None or cluster is None:
        return
    if (cluster.get("accessConfig") or {}).get("authenticationMode") == "CONFIG_MAP":
        return
    if principal(facts.caller_identity()["Arn"]) is not None:
        facts.eks_access_entries(name)


READS: dict[str, Read] = {
    "ec2.security-groups": _security_groups,
    "vpc.rules-per-group-quota": _rules_quota,
    "vpc.network-interfaces-quota": _eni_quota,
    "ec2.elastic-ips": _eip_quota,
    "ec2.route-tables": _route_tables,
    "ec2.egress": _egress,
    "ec2.vpc-endpoints": _vpc_endpoints,
    f"{SAGEMAKER}.quotas-and-usage": _sagemaker_quotas,
    f"{SAGEMAKER}.cluster-quotas": _sagemaker_cluster_quotas,
    "s3.lifecycle-bucket": _lifecycle_bucket,
    "s3.lifecycle-objects": _lifecycle_objects,
    "s3.lifecycle-prefix": _lifecycle_prefix,
    "s3.provisioning-parameters": _provisioning_parameters,
    "iam.roles": _iam_roles,
    "iam.attached-policies": _iam_attached,
    "iam.role-policies": _iam_role_policies,
    "iam.caller": _iam_caller,
    "ec2.subnets": _subnets,
    "eks.cluster": _eks_cluster,
    "eks.vpc-cni": _eks_vpc_cni,
    "eks.access-entries": _eks_access_entries,
    "kms.lifecycle-keys": _lifecycle_kms,
}


def prefetch_jobs(
    facts: AwsFacts, spec: ClusterSpec, names: Iterable[str]
) -> list[Callable[[], None]]:
    """One job per declared read (an unknown name is a defect of the check: KeyError)."""
    return [functools.partial(READS[name], facts, spec) for name in dict.fromkeys(names)]
