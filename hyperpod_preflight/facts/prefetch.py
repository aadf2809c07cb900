"""Named reads that checks declare (``@check(..., reads=(...))``) and the run starts, all at
once, before the checks run: each fills the readers' memo, where the checks find the result
(or the failure, which they report as UNKNOWN). A read here is only ever one that its
checks make anyway, so prefetching changes when calls start, never how many there are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

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
    facts.nat_gateways(
        str(r["NatGatewayId"])
        for t in tables.values()
        for r in t.routes
        if r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("NatGatewayId")
    )


def _vpc_endpoints(facts: AwsFacts, spec: ClusterSpec) -> None:
    subnet_ids = tuple(spec.all_subnets)
    if not subnet_ids:
        return
    subnets = facts.subnets(subnet_ids)
    for vpc_id in dict.fromkeys(str(s.get("VpcId", "")) for s in subnets.values()):
        if vpc_id:
            facts.vpc_endpoints(vpc_id)


def _sagemaker_quotas(facts: AwsFacts, spec: ClusterSpec) -> None:
    facts.warm_sagemaker_quota_reads()


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
    "ec2.route-tables": _route_tables,
    "ec2.egress": _egress,
    "ec2.vpc-endpoints": _vpc_endpoints,
    f"{SAGEMAKER}.quotas-and-usage": _sagemaker_quotas,
    "ec2.subnets": _subnets,
    "eks.cluster": _eks_cluster,
    "eks.vpc-cni": _eks_vpc_cni,
    "eks.access-entries": _eks_access_entries,
}


def prefetch_jobs(
    facts: AwsFacts, spec: ClusterSpec, names: Iterable[str]
) -> list[Callable[[], None]]:
    """One job per declared read (an unknown name is a defect of the check: KeyError)."""
    return [functools.partial(READS[name], facts, spec) for name in dict.fromkeys(names)]
