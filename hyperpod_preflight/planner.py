"""The requirement planner: pure functions from a ClusterSpec (and instance-type facts) to
what the cluster will need — instances per type, IP addresses per node and per subnet, the
smallest subnet that fits, ENIs, the largest EBS volume, EC2 vCPU equivalents. No I/O.

Decisions a user sees:

- IP addresses per node. Slurm: one per network card (1 for a type without several cards).
  EKS: the primary ENI's IPv4 addresses (the VPC CNI hands them to pods) plus one for each
  other network card. p5.48xlarge: 32 (Slurm) and 81 (EKS), as the HyperPod docs say.
- A group with several subnets is sized as if all its nodes could land in any one of them:
  HyperPod chooses the subnet of each node and promises no spread, so every subnet of the
  group must hold the whole group. Groups that share a subnet add up there.
- Headroom: ``ip_headroom`` extra nodes per (non-empty) group, the replacement node HyperPod
  launches while a faulty one is still being torn down.
- ENIs: one per network card per node (headroom included), for both orchestrators; the
  EKS figure above already assumes the pods' addresses live on the primary ENI.
- AWS reserves 5 addresses in every subnet; a subnet prefix "fits" only what is left.
- SageMaker quotas (:func:`sagemaker_quota_needs`): the one place that says which quotas a
  config needs and how much of each; the quota checks, ``quota_requests`` and the ``quotas``
  CLI use it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .catalog import InstanceTypeInfo, lookup
from .errors import InputError
from .shell import command

if TYPE_CHECKING:
    from .spec import ClusterSpec, InstanceGroup

AWS_RESERVED_PER_SUBNET = 5  # AWS keeps 5 addresses of every subnet
SMALLEST_SUBNET_PREFIX = 28  # AWS allows IPv4 subnets from /28 ...
LARGEST_SUBNET_PREFIX = 16  # ... to /16

# EC2 On-Demand vCPU quotas by instance family letters (Service Quotas, service code ec2).
STANDARD_QUOTA = ("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", "L-1216C47A")
EC2_VCPU_QUOTAS: dict[str, tuple[str, str]] = {
    "p": ("Running On-Demand P instances", "L-417A185B"),
    "g": ("Running On-Demand G and VT instances", "L-DB2E81BA"),
    "gr": ("Running On-Demand G and VT instances", "L-DB2E81BA"),
    "vt": ("Running On-Demand G and VT instances", "L-DB2E81BA"),
    "trn": ("Running On-Demand Trn instances", "L-2C3B7624"),
    "inf": ("Running On-Demand Inf instances", "L-1945791B"),
    **dict.fromkeys(("a", "c", "d", "h", "i", "m", "r", "t", "z"), STANDARD_QUOTA),
}


@dataclass(kw_only=True)
class GroupPlan:
    name: str
    instance_type: str | None
    count: int
    ips_per_node: int | None
    """None when the type cannot be sized."""
    efa_interfaces: int | None = None
    network_cards: int | None = None
    subnets: tuple[str, ...] = ()
    availability_note: str = ""
    instance_types: tuple[str, ...] = ()
    """Every type the group may use (InstanceRequirements)."""
    headroom_nodes: int = 0
    """Replacement nodes kept room for."""
    json_path: str = ""


@dataclass(kw_only=True)
class SubnetNeed:
    subnet_id: str
    groups: tuple[str, ...]
    nodes: int
    addresses_needed: int
    """Addresses for every node of the groups placed here."""
    headroom_addresses: int
    """Addresses kept for replacement nodes."""
    total_needed: int
    min_prefix: int
    """Smallest subnet (largest prefix length) that fits."""
    unsized_groups: tuple[str, ...] = ()


@dataclass(kw_only=True)
class VcpuNeed:
    quota_name: str
    quota_code: str
    vcpus: int
    instance_types: tuple[str, ...]


@dataclass(kw_only=True)
class ClusterPlan:
    orchestrator: str
    instances_by_type: dict[str, int]
    total_instances: int
    groups: list[GroupPlan]
    subnets: list[SubnetNeed]
    enis_needed: int | None
    max_ebs_gb: int | None
    vcpus: list[VcpuNeed] = field(default_factory=list)
    """Advisory EC2 equivalents."""
    ip_headroom_nodes: int = 1
    notes: list[str] = field(default_factory=list)
    unsized_groups: list[str] = field(default_factory=list)
    """Groups whose instance type could not be sized."""
    type_info: dict[str, InstanceTypeInfo] = field(default_factory=dict)
    """The figures used per EC2 type (catalog or describe_instance_types)."""


# -- pure helpers -------------------------------------------------------------------------------
def ips_per_node(info: InstanceTypeInfo, orchestrator: str) -> int:
    """IPv4 addresses one node takes from its subnet (see the module docstring)."""
    cards = max(1, info.network_cards)
    if orchestrator == "eks":
        return info.ipv4_per_eni + cards - 1
    return cards


def usable_addresses(prefix: int) -> int:
    """Addresses a subnet of ``/prefix`` leaves for instances (AWS reserves 5)."""
    return max(0, (1 << (32 - prefix)) - AWS_RESERVED_PER_SUBNET)


def min_subnet_prefix(addresses: int) -> int:
    """The largest prefix length (smallest subnet) whose usable addresses hold ``addresses``.

    Never above /28, the smallest subnet AWS allows; may be below /16 (the largest it allows)
    when nothing fits, which the caller reports.
    """
    prefix = SMALLEST_SUBNET_PREFIX
    while prefix > 0 and usable_addresses(prefix) < addresses:
        prefix -= 1
    return prefix


def ec2_vcpu_quota(ec2_type: str) -> tuple[str, str] | None:
    """(quota name, quota code) of the EC2 On-Demand vCPU quota counting ``ec2_type``."""
    match = re.match(r"[a-z]+", ec2_type.removeprefix("ml."))
    return EC2_VCPU_QUOTAS.get(match.group(0)) if match else None


def _resolve(ec2_type: str, overrides: Mapping[str, InstanceTypeInfo]) -> InstanceTypeInfo | None:
    return overrides.get(ec2_type) or lookup(ec2_type)


# -- the plan -----------------------------------------------------------------------------------
def build_plan(
    spec: ClusterSpec,
    *,
    ip_headroom: int = 1,
    instance_types: Mapping[str, InstanceTypeInfo] | None = None,
) -> ClusterPlan:
    """What ``spec`` needs. ``instance_types`` (keyed by EC2 name, e.g. from
    ``describe_instance_types``) takes precedence over the built-in catalog."""
    if ip_headroom < 0:
        raise InputError(f"--ip-headroom {ip_headroom}: must be 0 or more")
    overrides = {k.removeprefix("ml."): v for k, v in (instance_types or {}).items()}
    notes: list[str] = []
    sizing = _size_groups(spec, overrides, ip_headroom)
    groups, sized = sizing.groups, sizing.sized
    instances_by_type: dict[str, int] = {}
    for group in spec.instance_groups:
        if group.instance_type:
            instances_by_type[group.instance_type] = (
                instances_by_type.get(group.instance_type, 0) + group.count
            )
    flexible = [g.name for g in spec.instance_groups if not g.instance_type and g.count]
    if flexible:
        notes.append(
            f"group(s) {', '.join(flexible)} use InstanceRequirements: their instances are in "
            "the total but not under one type; sized by their most demanding type"
        )
    subnets = _subnet_needs(groups, sizing.unsized_groups, notes)
    notes += _layout_notes(spec, groups)
    enis: int | None = sum(
        (g.count + g.headroom_nodes) * (g.network_cards or 1) for g in groups if g.name in sized
    )
    if any(g.count for g in groups if g.name not in sized):
        enis = None
    for ec2_type in sizing.unsized_types:
        notes.append(
            f"ml.{ec2_type} cannot be sized offline (not in the built-in catalog): run with "
            "AWS credentials so its figures come from ec2:DescribeInstanceTypes"
        )
    sizes = [s for g in spec.instance_groups for s in g.ebs_volume_sizes_gb]
    return ClusterPlan(
        orchestrator=spec.orchestrator,
        instances_by_type=instances_by_type,
        total_instances=sum(g.count for g in spec.instance_groups),
        groups=groups,
        subnets=subnets,
        enis_needed=enis,
        max_ebs_gb=max(sizes) if sizes else None,
        vcpus=_vcpu_needs(spec.instance_groups, sized, notes),
        ip_headroom_nodes=ip_headroom,
        notes=notes,
        unsized_groups=sizing.unsized_groups,
        type_info=sizing.type_info,
    )


@dataclass
class _Sizing:
    """Each group's plan, and which types and groups could (not) be sized."""

    groups: list[GroupPlan] = field(default_factory=list)
    sized: dict[str, list[InstanceTypeInfo]] = field(default_factory=dict)
    unsized_groups: list[str] = field(default_factory=list)
    unsized_types: dict[str, None] = field(default_factory=dict)
    type_info: dict[str, InstanceTypeInfo] = field(default_factory=dict)


def _size_groups(
    spec: ClusterSpec, overrides: Mapping[str, InstanceTypeInfo], ip_headroom: int
) -> _Sizing:
    """Each group sized by its most demanding instance type (EC2's figures, else the
    catalog's); a group with a type neither knows is unsized."""
    out = _Sizing()
    for group in spec.instance_groups:
        infos = []
        for ec2_type in group.ec2_types:
            info = _resolve(ec2_type, overrides)
            if info is None:
                out.unsized_types[ec2_type] = None
            else:
                out.type_info[ec2_type] = info
                infos.append(info)
        complete = bool(group.types) and len(infos) == len(group.types)
        if complete:
            out.sized[group.name] = infos
        else:
            out.unsized_groups.append(group.name)
        vpc = spec.vpc_for(group)
        out.groups.append(
            GroupPlan(
                name=group.name,
                instance_type=group.instance_type,
                count=group.count,
                # A group that may use several types is sized by the most demanding one.
                ips_per_node=max(ips_per_node(i, spec.orchestrator) for i in infos)
                if complete
                else None,
                efa_interfaces=min(i.efa_interfaces for i in infos) if complete else None,
                network_cards=max(i.network_cards for i in infos) if complete else None,
                subnets=vpc.subnets if vpc else (),
                instance_types=group.types,
                headroom_nodes=ip_headroom if group.count > 0 else 0,
                json_path=group.json_path,
            )
        )
    return out


def _layout_notes(spec: ClusterSpec, groups: list[GroupPlan]) -> list[str]:
    """What the sizing assumes about subnets, EKS pods and the managed VPC."""
    notes: list[str] = []
    if any(len(g.subnets) > 1 for g in groups if g.count):
        notes.append(
            "a group with several subnets is sized as if all its nodes could land in any one "
            "of them: each of its subnets must hold the whole group"
        )
    if spec.orchestrator == "eks" and spec.instance_groups:
        notes.append(
            "EKS: IPs per node are what a node takes at start (the primary ENI's addresses for "
            "pods, plus one per other network card); a node running more pods than that can "
            "attach further ENIs and take more"
        )
    if spec.instance_groups and not spec.all_subnets:
        notes.append(
            "no VpcConfig: the cluster uses the SageMaker-managed VPC; no subnet to size"
            if spec.orchestrator == "slurm"
            else "no VpcConfig: an EKS-orchestrated cluster needs one; no subnet to size"
        )
    return notes


def _subnet_needs(
    groups: list[GroupPlan], unsized_groups: list[str], notes: list[str]
) -> list[SubnetNeed]:
    order: dict[str, list[GroupPlan]] = {}
    for group in groups:
        for subnet in dict.fromkeys(group.subnets):
            order.setdefault(subnet, []).append(group)
    needs = []
    for subnet, placed in order.items():
        sized = [g for g in placed if g.ips_per_node is not None]
        addresses = sum(g.count * (g.ips_per_node or 0) for g in sized)
        headroom = sum(g.headroom_nodes * (g.ips_per_node or 0) for g in sized)
        unsized = tuple(g.name for g in placed if g.name in unsized_groups)
        total = addresses + headroom
        need = SubnetNeed(
            subnet_id=subnet,
            groups=tuple(g.name for g in placed),
            nodes=sum(g.count for g in placed),
            addresses_needed=addresses,
            headroom_addresses=headroom,
            total_needed=total,
            min_prefix=min_subnet_prefix(total),
            unsized_groups=unsized,
        )
        if need.min_prefix < LARGEST_SUBNET_PREFIX:
            notes.append(
                f"{subnet} would need {total} addresses: more than the largest subnet AWS "
                f"allows (/16, {usable_addresses(LARGEST_SUBNET_PREFIX)} usable); spread the "
                "groups over more subnets"
            )
        if unsized:
            notes.append(
                f"{subnet}: the addresses of {', '.join(unsized)} are not counted (type not "
                "sized); the figure is a lower bound"
            )
        needs.append(need)
    return needs


def _vcpu_needs(
    spec_groups: tuple[InstanceGroup, ...],
    sized: Mapping[str, list[InstanceTypeInfo]],
    notes: list[str],
) -> list[VcpuNeed]:
    by_quota: dict[tuple[str, str], tuple[int, dict[str, None]]] = {}
    for group in spec_groups:
        infos = sized.get(group.name)
        if not infos or not group.count:
            continue
        largest = max(infos, key=lambda i: i.vcpus)
        quota = ec2_vcpu_quota(largest.name)
        if quota is None:
            notes.append(f"ml.{largest.name}: no EC2 On-Demand vCPU quota family known")
            continue
        vcpus, types = by_quota.get(quota, (0, {}))
        types.update(dict.fromkeys(f"ml.{i.name}" for i in infos))
        by_quota[quota] = (vcpus + group.count * largest.vcpus, types)
    return [
        VcpuNeed(quota_name=name, quota_code=code, vcpus=vcpus, instance_types=tuple(types))
        for (name, code), (vcpus, types) in by_quota.items()
    ]


# -- SageMaker quotas a config needs -------------------------------------------------------
PER_CLUSTER_QUOTA = "Maximum number instances allowed per SageMaker HyperPod cluster"
TOTAL_QUOTA = "Total number of instances allowed across SageMaker HyperPod clusters"
SPOT_TOTAL_QUOTA = "Total number of Spot instances allowed across SageMaker HyperPod clusters"
EBS_QUOTA = "Maximum size of EBS volume in GB for a SageMaker HyperPod cluster instance"
# Other spellings seen in AWS documentation; tried after the name AWS lists today.
ALIASES: dict[str, tuple[str, ...]] = {
    PER_CLUSTER_QUOTA: ("Maximum number of instances allowed per SageMaker HyperPod cluster",),
    EBS_QUOTA: ("Maximum size of EBS volume in GB for a HyperPod cluster instance",),
}

NeedKind = Literal["instance-type", "per-cluster", "total", "ebs-volume-size"]


def instance_type_quota_name(instance_type: str, *, spot: bool = False) -> str:
    """``ml.p5.48xlarge for cluster usage`` (or ``… for cluster spot instance usage``)."""
    ml_type = instance_type if instance_type.startswith("ml.") else f"ml.{instance_type}"
    return f"{ml_type} for cluster {'spot instance ' if spot else ''}usage"


@dataclass(frozen=True, kw_only=True)
class QuotaNeed:
    """One SageMaker quota this config needs, and how much of it."""

    kind: NeedKind
    quota_name: str
    aliases: tuple[str, ...] = ()
    needed: int
    shared: bool  # instances of existing clusters count against it
    spot: bool = False
    instance_type: str | None = None
    groups: tuple[str, ...] = ()
    unit: str = "instances"
    # Groups with InstanceRequirements (several types) counted in full on this type: a
    # flexible group may land on any of its types, so the worst case is all of it on each.
    flexible_groups: tuple[str, ...] = ()

    def in_use(self, usage: Any) -> int:
        """What existing clusters already hold of this quota (0 when not shared)."""
        if not self.shared:
            return 0
        if self.kind == "instance-type" and self.instance_type:
            return int(usage.instances_of(self.instance_type, spot=self.spot))
        return int(usage.total(spot=self.spot))

    def holders(self, usage: Any) -> dict[str, int]:
        if not self.shared:
            return {}
        held: dict[str, int] = usage.holders(self.instance_type, spot=self.spot)
        return held


def spot_groups(spec: ClusterSpec) -> set[str]:
    """Names of the groups the config puts on Spot (``CapacityRequirements.Spot``)."""
    return {g.name for g in spec.instance_groups if g.capacity_type == "spot"}


def sagemaker_quota_needs(
    spec: ClusterSpec, plan: ClusterPlan, *, flexible_worst_case: bool = False
) -> list[QuotaNeed]:
    """Every SageMaker quota ``spec`` needs, from the plan's instance counts and EBS size.

    ``flexible_worst_case``: also count each group with ``InstanceRequirements`` (several
    types) in full against every one of its types' quotas, the worst case of where it may
    land (``quotas.instance-type`` does; a quota request asks only for what is certain)."""
    on_spot = spot_groups(spec)
    counts = _count_by_type(spec, plan, on_spot, flexible_worst_case)
    needs = [*_instance_type_needs(counts), *_cluster_count_needs(spec, plan, on_spot)]
    ebs = _ebs_need(spec, plan)
    if ebs is not None:
        needs.append(ebs)
    return needs


@dataclass
class _TypeCounts:
    """Instances per type, on demand and on Spot, and the groups behind each count
    (key: type and whether on Spot); ``flexible_of``: the groups counted at their worst case."""

    on_demand: Counter[str]
    spot: Counter[str] = field(default_factory=Counter)
    groups_of: dict[tuple[str, bool], list[str]] = field(default_factory=dict)
    flexible_of: dict[tuple[str, bool], list[str]] = field(default_factory=dict)


def _count_by_type(
    spec: ClusterSpec, plan: ClusterPlan, on_spot: set[str], flexible_worst_case: bool
) -> _TypeCounts:
    """The plan's instances per type, with the Spot groups' moved to the Spot counts."""
    counts = _TypeCounts(Counter({t: int(n) for t, n in plan.instances_by_type.items()}))
    on_demand, spot = counts.on_demand, counts.spot
    for group in spec.instance_groups:
        is_spot = group.name in on_spot
        for t in group.types:
            counts.groups_of.setdefault((t, is_spot), []).append(group.name)
        if is_spot and group.instance_type:
            spot[group.instance_type] += group.count
            on_demand[group.instance_type] = max(0, on_demand[group.instance_type] - group.count)
        if flexible_worst_case and not group.instance_type and group.count > 0:
            for t in dict.fromkeys(group.types):
                (spot if is_spot else on_demand)[t] += group.count
                counts.flexible_of.setdefault((t, is_spot), []).append(group.name)
    return counts


def _instance_type_needs(counts: _TypeCounts) -> list[QuotaNeed]:
    """One need per instance type with instances, on demand first, then Spot."""
    needs: list[QuotaNeed] = []
    for table, is_spot in ((counts.on_demand, False), (counts.spot, True)):
        for instance_type in sorted(table):
            if table[instance_type] <= 0:
                continue
            needs.append(
                QuotaNeed(
                    kind="instance-type",
                    quota_name=instance_type_quota_name(instance_type, spot=is_spot),
                    needed=table[instance_type],
                    shared=True,
                    spot=is_spot,
                    instance_type=instance_type,
                    groups=tuple(counts.groups_of.get((instance_type, is_spot), ())),
                    flexible_groups=tuple(counts.flexible_of.get((instance_type, is_spot), ())),
                )
            )
    return needs


def _cluster_count_needs(
    spec: ClusterSpec, plan: ClusterPlan, on_spot: set[str]
) -> list[QuotaNeed]:
    """The instance counts of the cluster as a whole: per cluster, in total, on Spot."""
    total = int(plan.total_instances)
    needs = [
        QuotaNeed(
            kind="per-cluster",
            quota_name=PER_CLUSTER_QUOTA,
            aliases=ALIASES.get(PER_CLUSTER_QUOTA, ()),
            needed=total,
            shared=False,
            groups=tuple(g.name for g in spec.instance_groups),
        )
    ]
    # The fixed-type spot groups (not the Spot counts per type: a flexible group is in there
    # once per type it may land on).
    spot_total = sum(g.count for g in spec.instance_groups if g.name in on_spot and g.instance_type)
    needs.append(
        QuotaNeed(
            kind="total",
            quota_name=TOTAL_QUOTA,
            needed=max(0, total - spot_total),
            shared=True,
            groups=tuple(g.name for g in spec.instance_groups if g.name not in on_spot),
        )
    )
    if spot_total:
        needs.append(
            QuotaNeed(
                kind="total",
                quota_name=SPOT_TOTAL_QUOTA,
                needed=spot_total,
                shared=True,
                spot=True,
                groups=tuple(g.name for g in spec.instance_groups if g.name in on_spot),
            )
        )
    return needs


def _ebs_need(spec: ClusterSpec, plan: ClusterPlan) -> QuotaNeed | None:
    """The largest EBS volume any group asks for, against the per-volume size quota."""
    if not plan.max_ebs_gb:
        return None
    largest = int(plan.max_ebs_gb)
    return QuotaNeed(
        kind="ebs-volume-size",
        quota_name=EBS_QUOTA,
        aliases=ALIASES.get(EBS_QUOTA, ()),
        needed=largest,
        shared=False,
        groups=tuple(g.name for g in spec.instance_groups if largest in g.ebs_volume_sizes_gb),
        unit="GB",
    )


def increase_command(service_code: str, quota_code: str, desired: int, region: str) -> str:
    """The exact AWS CLI command that requests ``desired`` for one quota."""
    return command(
        "aws",
        "service-quotas",
        "request-service-quota-increase",
        "--service-code",
        service_code,
        "--quota-code",
        quota_code,
        "--desired-value",
        desired,
        "--region",
        region,
    )


def request_hint(spec: Any) -> str:
    source = str(getattr(spec, "source", "") or "")
    if source and source not in ("flags", "-"):
        return command("hp-preflight", "quotas", "request", "--config", source)
    return "hp-preflight quotas request --config <config.json>"
