"""Quota checks (area ``quotas``): will the account's quotas let this cluster be created?

SageMaker HyperPod capacity is governed by SageMaker quotas looked up by name:
``ml.<type> for cluster usage`` (shared by every HyperPod cluster of the region, so the
instances of existing clusters count), ``Maximum number instances allowed per SageMaker
HyperPod cluster``, ``Total number of instances allowed across SageMaker HyperPod clusters``
and ``Maximum size of EBS volume in GB for a SageMaker HyperPod cluster instance``; groups
with ``CapacityRequirements.Spot`` use the spot variants. A group with
``InstanceRequirements`` (several types) may land on any of them, so ``quotas.instance-type``
counts it in full against each of its types' quotas (the worst case, said in the message).
These checks FAIL with the numbers (applied value, in use, this config needs, deficit) and
the exact increase command.

Network interfaces, NAT-gateway Elastic IPs and EC2 vCPU quotas are advisory (WARN): what
HyperPod creates in the account is derived, not documented, and EC2 vCPU quotas do not
govern HyperPod capacity at all.

A check never FAILs because it could not read something: an unreadable quota or usage is
UNKNOWN on that quota, naming the IAM action. What a config needs is the planner's
(:func:`~hyperpod_preflight.planner.sagemaker_quota_needs`); these checks judge it.
"""

from __future__ import annotations

from typing import Any

from ..errors import FactUnavailable
from ..planner import (
    EBS_QUOTA,
    ClusterPlan,
    NeedKind,
    QuotaNeed,
    increase_command,
    request_hint,
    sagemaker_quota_needs,
)
from ..registry import CheckContext, Request, Then, check
from ..registry import need as ask
from ..results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ..spec import ClusterSpec
from . import _needs
from ._common import read_egress_paths

ENI_SERVICE, ENI_CODE = "vpc", "L-DF5E4CA3"
EIP_SERVICE, EIP_CODE = "ec2", "L-0263D0A3"


# -- remediation text ---------------------------------------------------------------------
def _increase_remediation(ctx: CheckContext, quota: Any, desired: int, *, all_at_once: bool) -> str:
    if not quota.adjustable:
        return (
            f"'{quota.name}' is not adjustable through Service Quotas: reduce what the config "
            "asks for, or ask AWS Support."
        )
    text = f"Request at least {desired}: " + increase_command(
        quota.service_code, quota.quota_code, desired, ctx.aws.region
    )
    if all_at_once:
        text += f" (or every quota this config needs at once: {request_hint(ctx.spec)})"
    return text


def _not_found(ctx: CheckContext, resource: str, service: str, what: str) -> Outcome:
    return unknown(
        resource,
        f"could not tell: no quota {what} in Service Quotas ({service}, {ctx.aws.region}), "
        "neither with an applied value nor as an AWS default",
        remediation=(
            "Look it up in the Service Quotas console; an instance type with no "
            "'for cluster usage' quota is usually not offered for HyperPod in this region."
        ),
        service_code=service,
    )


def _unreadable(resource: str, exc: FactUnavailable, what: str) -> Outcome:
    return unknown(
        resource,
        f"could not tell: {what}: {exc.describe()}",
        remediation=exc.remediation,
        action=exc.action,
        error_kind=exc.reason,
    )


def _n(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# -- the SageMaker quota judgement shared by four checks ----------------------------------
def judge_sagemaker_need(ctx: CheckContext, need: QuotaNeed) -> Outcome:
    """PASS/WARN/FAIL/UNKNOWN of one SageMaker quota need, with the numbers."""
    quota = _read_quota(ctx, need)
    if isinstance(quota, Outcome):
        return quota
    numbers: dict[str, Any] = {
        "quota_code": quota.quota_code,
        "service_code": quota.service_code,
        "value": quota.value,
        "value_source": quota.source,
        "needed": need.needed,
        "unit": need.unit,
        "groups": list(need.groups),
    }
    in_use = _read_usage(ctx, need, quota, numbers) if need.shared else 0
    if isinstance(in_use, Outcome):
        return in_use
    return _judge_numbers(ctx, need, quota, in_use, numbers)


def _read_quota(ctx: CheckContext, need: QuotaNeed) -> Any:
    """The quota (with a value), or the UNKNOWN saying why it is not known."""
    resource = need.quota_name
    try:
        quota = ctx.aws.sagemaker_quota(need.quota_name, *need.aliases)
    except FactUnavailable as exc:
        return _unreadable(resource, exc, "the SageMaker quotas could not be read")
    if quota is None:
        return _not_found(ctx, resource, "sagemaker", f"named '{need.quota_name}'")
    if quota.value is None:
        return unknown(
            resource,
            f"could not tell: Service Quotas has no value for '{quota.name}' "
            f"({quota.error or 'no reason given'})",
            quota_code=quota.quota_code,
            default_value=quota.default_value,
        )
    return quota


def _read_usage(
    ctx: CheckContext, need: QuotaNeed, quota: Any, numbers: dict[str, Any]
) -> int | Outcome:
    """What existing HyperPod clusters hold of a shared quota (recorded in ``numbers``), or
    the outcome when that cannot be read: FAIL only when this config alone overflows."""
    resource, limit = need.quota_name, int(quota.value)
    try:
        usage = ctx.aws.hyperpod_usage()
    except FactUnavailable as exc:
        fixed = need.needed - _flexible_count(ctx, need)
        if fixed > limit:  # short even if nothing else held any: proven
            deficit = need.needed - limit
            return failed(
                resource,
                f"quota {quota.described}; this config alone needs {need.needed} "
                f"{need.unit} → short by at least {deficit} (instances of existing "
                f"clusters could not be read: {exc.describe()})",
                _increase_remediation(ctx, quota, need.needed, all_at_once=True),
                **numbers,
                in_use=None,
                deficit=deficit,
            )
        return _unreadable(
            resource,
            exc,
            f"quota {quota.described}, this config needs {need.needed}, but the "
            "instances existing HyperPod clusters hold could not be read",
        )
    in_use = need.in_use(usage)
    holders = dict(need.holders(usage))
    # `diagnose` judges a live cluster: its own instances are what the config needs, not
    # usage on top of it (counting them twice would be a false FAIL).
    diagnosed = ctx.options.get("diagnosed_cluster")
    if diagnosed and diagnosed in holders:
        in_use -= holders.pop(diagnosed)
    numbers["in_use"] = in_use
    numbers["in_use_by_cluster"] = holders
    same_name = usage.cluster(getattr(ctx.spec, "name", ""))
    if same_name is not None and same_name.name == diagnosed:
        numbers["note"] = f"the diagnosed cluster '{diagnosed}' is not counted as in use"
    elif same_name is not None:
        numbers["note"] = (
            f"a cluster named '{same_name.name}' already exists and is counted as in use; "
            "create-cluster would fail on the name"
        )
    return int(numbers["in_use"])


def _judge_numbers(
    ctx: CheckContext, need: QuotaNeed, quota: Any, in_use: int, numbers: dict[str, Any]
) -> Outcome:
    resource, limit = need.quota_name, int(quota.value)
    flexible = ""
    if need.flexible_groups:
        names = ", ".join(need.flexible_groups)
        numbers["flexible_groups"] = list(need.flexible_groups)
        flexible = (
            f" (worst case: flexible group{'s' if len(need.flexible_groups) > 1 else ''} "
            f"{names} (InstanceRequirements) may land entirely on {need.instance_type}, so "
            "counted in full against each of its types' quotas)"
        )
    total = in_use + need.needed
    deficit = total - limit
    used = f"in use {in_use}" + (
        f" ({', '.join(f'{k}: {v}' for k, v in sorted(numbers['in_use_by_cluster'].items()))})"
        if numbers.get("in_use_by_cluster")
        else ""
    )
    if deficit > 0 and deficit - _flexible_count(ctx, need) <= 0:
        # Only the worst case overflows: where a flexible group lands is HyperPod's choice
        # at creation, so the shortfall is possible, not certain (no FAIL).
        return warned(
            resource,
            f"quota {quota.described}, {used}, this config needs {need.needed}{flexible} → "
            f"short by {deficit} only if the flexible group(s) land entirely on "
            f"{need.instance_type}; the groups of fixed type fit",
            _increase_remediation(ctx, quota, total, all_at_once=True),
            **numbers,
            deficit=deficit,
            desired_value=total,
        )
    if deficit > 0:
        figures = (
            f"quota {quota.described}, {used}, this config needs {need.needed}"
            if need.shared
            else f"quota {quota.described}, this config needs {need.needed} {need.unit}"
        )
        return failed(
            resource,
            f"{figures}{flexible} → short by {deficit}; create-cluster would exceed the quota",
            _increase_remediation(ctx, quota, total, all_at_once=True),
            **numbers,
            deficit=deficit,
            desired_value=total,
        )
    figures = (
        f"quota {quota.described}, {used}, this config needs {need.needed}{flexible}: "
        f"{limit - total} to spare"
        if need.shared
        else f"quota {quota.described} covers the {need.needed} {need.unit} this config needs"
    )
    return passed(resource, figures, **numbers, deficit=0)


def _flexible_count(ctx: CheckContext, need: QuotaNeed) -> int:
    """The instances of ``need`` counted only as the worst case of flexible groups."""
    flexible = set(need.flexible_groups)
    return sum(g.count for g in ctx.spec.instance_groups if g.name in flexible)


def _kind_needs(*kinds: NeedKind) -> Any:
    """The SageMaker quotas of ``kinds`` the config needs, beside the HyperPod usage of
    existing clusters when a quota is shared between clusters (all read at once)."""

    def needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
        worst_case = "instance-type" in kinds
        found = [
            n
            for n in sagemaker_quota_needs(spec, plan, flexible_worst_case=worst_case)
            if n.kind in kinds
        ]
        reads: list[Request] = [ask("sagemaker_quota", n.quota_name, *n.aliases) for n in found]
        return reads + ([ask("hyperpod_usage")] if any(n.shared for n in found) else [])

    return needs


def _judge_kind(ctx: CheckContext, *kinds: NeedKind) -> list[Outcome]:
    worst_case = "instance-type" in kinds
    needs = [
        n
        for n in sagemaker_quota_needs(ctx.spec, ctx.plan, flexible_worst_case=worst_case)
        if n.kind in kinds
    ]
    return [judge_sagemaker_need(ctx, n) for n in needs]


@check(
    "quotas.instance-type",
    "Instance-type quota (ml.<type> for cluster usage) covers existing clusters plus this config",
    Severity.CRITICAL,
    needs=_kind_needs("instance-type"),
)
def instance_type_quota(ctx: CheckContext) -> list[Outcome]:
    """Each 'ml.<type> for cluster usage' quota covers existing clusters plus this config."""
    return _judge_kind(ctx, "instance-type")


@check(
    "quotas.instances-per-cluster",
    "Instances per HyperPod cluster quota covers this config",
    Severity.CRITICAL,
    needs=_kind_needs("per-cluster"),
)
def instances_per_cluster_quota(ctx: CheckContext) -> list[Outcome]:
    """The per-cluster instance quota covers this config's instance count."""
    return _judge_kind(ctx, "per-cluster")


@check(
    "quotas.instances-total",
    "Instances across all HyperPod clusters quota covers existing clusters plus this config",
    Severity.CRITICAL,
    needs=_kind_needs("total"),
)
def instances_total_quota(ctx: CheckContext) -> list[Outcome]:
    """The across-clusters instance quota covers existing clusters plus this config."""
    return _judge_kind(ctx, "total")


@check(
    "quotas.ebs-volume-size",
    "EBS volume size quota per HyperPod cluster instance covers the largest volume",
    Severity.CRITICAL,
    needs=_kind_needs("ebs-volume-size"),
)
def ebs_volume_size_quota(ctx: CheckContext) -> list[Outcome]:
    """The largest EBS volume of the config fits the per-instance EBS size quota."""
    if not ctx.plan.max_ebs_gb:
        return [skipped(EBS_QUOTA, "no InstanceStorageConfigs EBS volume in the config")]
    return _judge_kind(ctx, "ebs-volume-size")


# -- advisory: network interfaces, Elastic IPs, EC2 vCPUs ----------------------------------
def _usable_quota(aws: Any, service: str, code: str) -> Any:
    """The quota when it was read with a value, else None (the judge says why)."""
    try:
        quota = aws.quota_by_code(service, code)
    except FactUnavailable:
        return None
    return quota if quota is not None and quota.value is not None else None


def _eni_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """The ENI quota, then the region's interfaces counted up to the room it leaves."""
    if not spec.all_subnets or plan.enis_needed is None:
        return []
    needed = plan.enis_needed

    def count(ctx: CheckContext) -> list[Request]:
        quota = _usable_quota(ctx.aws, ENI_SERVICE, ENI_CODE)
        if quota is None:
            return []
        return [ask("network_interface_count", stop_after=max(int(quota.value) - needed, 0))]

    return [ask("quota_by_code", ENI_SERVICE, ENI_CODE), Then(count)]


def _eip_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """The subnets' egress, the Elastic IP quota, then the addresses in use."""
    if not spec.all_subnets:
        return []

    def in_use(ctx: CheckContext) -> list[Request]:
        quota = _usable_quota(ctx.aws, EIP_SERVICE, EIP_CODE)
        return [ask("elastic_ip_count")] if quota is not None else []

    return [*_needs.egress(spec), ask("quota_by_code", EIP_SERVICE, EIP_CODE), Then(in_use)]


def _quota_by_code(ctx: CheckContext, service: str, code: str, resource: str) -> Any:
    """The quota, or an UNKNOWN Outcome explaining why not."""
    try:
        quota = ctx.aws.quota_by_code(service, code)
    except FactUnavailable as exc:
        return _unreadable(resource, exc, f"the {service} quota {code} could not be read")
    if quota is None:
        return _not_found(ctx, resource, service, f"with code {code}")
    if quota.value is None:
        return unknown(
            resource, f"could not tell: no value for {service} quota {code} ({quota.error})"
        )
    return quota


@check(
    "quotas.network-interfaces",
    "Network interfaces per Region quota leaves room for the cluster's interfaces (advisory)",
    Severity.MEDIUM,
    needs=lambda spec, plan: _eni_needs(spec, plan),
)
def network_interfaces_quota(ctx: CheckContext) -> list[Outcome]:
    """Network interfaces per Region leave room for the cluster's ENIs (advisory)."""
    resource = "Network interfaces per Region"
    if not ctx.spec.all_subnets:
        return [
            skipped(
                resource,
                "no VpcConfig: the nodes create no network interfaces in your VPCs",
            )
        ]
    needed = ctx.plan.enis_needed
    if needed is None:
        return [
            unknown(
                resource,
                "could not tell: the plan could not size the network interfaces of every "
                "instance type (unknown type)",
            )
        ]
    quota = _quota_by_code(ctx, ENI_SERVICE, ENI_CODE, resource)
    if isinstance(quota, Outcome):
        return [quota]
    limit = int(quota.value)
    room = limit - needed
    try:
        counted = ctx.aws.network_interface_count(stop_after=max(room, 0))
    except FactUnavailable as exc:
        return [_unreadable(resource, exc, "the region's network interfaces could not be counted")]
    in_use = f"{counted.count}" if counted.complete else f"more than {max(room, 0)}"
    numbers = {
        "quota_code": ENI_CODE,
        "service_code": ENI_SERVICE,
        "value": quota.value,
        "value_source": quota.source,
        "in_use": counted.count,
        "in_use_complete": counted.complete,
        "needed": needed,
    }
    advisory = (
        "advisory: the cluster's interface count is derived from the instance types, not "
        "documented; 'ENI limit exceeded' fails creation"
    )
    if counted.count > room:
        deficit = counted.count + needed - limit
        desired = counted.count + needed
        short = f"short by {deficit}" if counted.complete else f"short by at least {deficit}"
        return [
            warned(
                resource,
                f"quota {quota.described}, in use {in_use}, this cluster creates about "
                f"{needed} → {short} ({advisory})",
                _increase_remediation(ctx, quota, desired, all_at_once=False),
                **numbers,
                deficit=deficit,
                desired_value=desired,
            )
        ]
    return [
        passed(
            resource,
            f"quota {quota.described}, in use {in_use}, this cluster creates about {needed}: "
            f"{limit - counted.count - needed} to spare",
            **numbers,
            deficit=0,
        )
    ]


@check(
    "quotas.elastic-ips",
    "Elastic IP quota leaves one address per NAT gateway the cluster's subnets still need "
    "(advisory)",
    Severity.LOW,
    needs=lambda spec, plan: _eip_needs(spec, plan),
)
def elastic_ips_quota(ctx: CheckContext) -> list[Outcome]:
    """The Elastic IP quota has an address for each NAT gateway still needed (advisory)."""
    resource = "EC2-VPC Elastic IPs"
    subnet_ids = list(ctx.spec.all_subnets)
    if not subnet_ids:
        return [skipped(resource, "no VpcConfig: the cluster needs no NAT gateway of yours")]
    try:
        subnets = ctx.aws.subnets(subnet_ids)
        paths = read_egress_paths(ctx, tuple(subnet_ids))
    except FactUnavailable as exc:
        return [
            _unreadable(
                resource, exc, "the subnets' route tables or NAT gateways could not be read"
            )
        ]
    # The same route analysis as network.egress: a transit gateway, appliance or pending
    # NAT gateway is a way out already; a deleted or private NAT gateway is not.
    zones_without_nat = sorted(
        {
            str(subnets[s].get("AvailabilityZoneId") or subnets[s].get("AvailabilityZone", "?"))
            for s in subnet_ids
            if s in subnets and (s not in paths or paths[s].needs_nat_gateway)
        }
    )
    needed = len(zones_without_nat)
    quota = _quota_by_code(ctx, EIP_SERVICE, EIP_CODE, resource)
    if isinstance(quota, Outcome):
        return [quota]
    try:
        in_use = ctx.aws.elastic_ip_count()
    except FactUnavailable as exc:
        return [_unreadable(resource, exc, "the region's Elastic IPs could not be counted")]
    limit = int(quota.value)
    free = limit - in_use
    numbers = {
        "quota_code": EIP_CODE,
        "service_code": EIP_SERVICE,
        "value": quota.value,
        "value_source": quota.source,
        "in_use": in_use,
        "needed": needed,
        "zones_without_nat": zones_without_nat,
    }
    if needed == 0:
        return [
            passed(
                resource,
                f"every cluster subnet already has egress (a NAT gateway, transit gateway or "
                f"other route): no new Elastic IP needed ({in_use} of {_n(quota.value)} in use)",
                **numbers,
                deficit=0,
            )
        ]
    note = (
        f"subnets in {', '.join(zones_without_nat)} have no egress route (see "
        "network.egress); a NAT gateway per zone needs one Elastic IP each (not one per "
        "node), unless egress goes through VPC endpoints instead"
    )
    if free < needed:
        deficit = needed - free
        return [
            warned(
                resource,
                f"quota {quota.described}, in use {in_use}, NAT gateways to add {needed} → "
                f"short by {deficit} (advisory: {note})",
                _increase_remediation(ctx, quota, in_use + needed, all_at_once=False),
                **numbers,
                deficit=deficit,
                desired_value=in_use + needed,
            )
        ]
    return [
        passed(
            resource,
            f"quota {quota.described}, in use {in_use}: {free} free for the {needed} NAT "
            f"gateway(s) you may add ({note})",
            **numbers,
            deficit=0,
        )
    ]


@check(
    "quotas.ec2-vcpus",
    "EC2 On-Demand vCPU quotas vs this config's instances (advisory; HyperPod does not use them)",
    Severity.INFO,
    needs=lambda spec, plan: [ask("quota_by_code", "ec2", n.quota_code) for n in plan.vcpus],
)
def ec2_vcpu_quotas(ctx: CheckContext) -> list[Outcome]:
    """EC2 On-Demand vCPU quotas vs the config's vCPUs (advisory: HyperPod does not use them)."""
    vcpus = list(ctx.plan.vcpus)
    if not vcpus:
        return [skipped("-", "the plan has no EC2 vCPU figures for these instance types")]
    out: list[Outcome] = []
    for need in vcpus:
        resource = need.quota_name
        quota = _quota_by_code(ctx, "ec2", need.quota_code, resource)
        if isinstance(quota, Outcome):
            out.append(quota)
            continue
        limit = int(quota.value)
        numbers = {
            "quota_code": need.quota_code,
            "service_code": "ec2",
            "value": quota.value,
            "value_source": quota.source,
            "needed_vcpus": need.vcpus,
            "instance_types": list(need.instance_types),
        }
        advisory = (
            "advisory only: HyperPod instances count against the SageMaker 'for cluster usage' "
            "quotas, not this EC2 quota; it matters only to run the same instances in EC2"
        )
        if need.vcpus > limit:
            out.append(
                warned(
                    resource,
                    f"EC2 quota {quota.described} vCPUs; this config's instances "
                    f"({', '.join(need.instance_types)}) total {need.vcpus} vCPUs → "
                    f"{need.vcpus - limit} vCPUs over ({advisory})",
                    _increase_remediation(ctx, quota, need.vcpus, all_at_once=False),
                    severity=Severity.INFO,
                    **numbers,
                    deficit=need.vcpus - limit,
                )
            )
        else:
            out.append(
                passed(
                    resource,
                    f"EC2 quota {quota.described} vCPUs covers the {need.vcpus} vCPUs of "
                    f"{', '.join(need.instance_types)} ({advisory})",
                    **numbers,
                    deficit=0,
                )
            )
    return out
