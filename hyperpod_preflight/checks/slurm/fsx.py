"""FSx checks (area ``slurm``): each FSx for Lustre or OpenZFS file system the config mounts
(``InstanceStorageConfigs[].FsxLustreConfig`` / ``FsxOpenZfsConfig``) or the lifecycle
``provisioning_parameters.json`` names (``fsx_dns_name``, ``fsx_mountname``) exists, is
AVAILABLE, sits in the cluster's VPC and its groups' zones, has the mount name the config
gives, and its security groups let the cluster's nodes in.

A node that cannot mount the file system fails its lifecycle script (Slurm) or its pods
(EKS). One finding per file system.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...analysis.security_groups import allows_tcp_port
from ...errors import FactUnavailable
from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...shell import command
from .._common import could_not_tell
from ._common import (
    CLIENT_PORTS,
    FSX_TYPE,
    KIND_LABEL,
    LIFECYCLE_FAILURE,
    FsxKind,
    FsxRef,
    described,
    fs_subnets,
    fsx_needs,
    fsx_start,
    ports_text,
    read_file_systems,
)

LUSTRE_ONLY: tuple[FsxKind, ...] = ("lustre",)
BAD_LIFECYCLES = frozenset({"FAILED", "DELETING", "MISCONFIGURED", "MISCONFIGURED_UNAVAILABLE"})


def _describe_file_system(fs_id: str, query: str) -> str:
    """The command that shows the field of the file system a finding could not read."""
    return command(
        "aws", "fsx", "describe-file-systems", "--file-system-ids", fs_id, "--query", query
    )


def _fix_subnet_ids(undescribed: dict[str, list[str]]) -> str:
    """The fix when EC2 does not describe some groups' subnets (group → subnets)."""
    unseen = (s for subnets in undescribed.values() for s in subnets)
    return (
        "Fix the subnet ids ("
        + command("aws", "ec2", "describe-subnets", "--subnet-ids", *unseen)
        + ")"
    )


def _cluster_subnets(ctx: CheckContext) -> dict[str, dict[str, Any]]:
    return ctx.aws.subnets(ctx.spec.all_subnets) if ctx.spec.all_subnets else {}


@check(
    "slurm.fsx-exists",
    "Each FSx file system the cluster mounts exists, is AVAILABLE and of the configured type",
    Severity.CRITICAL,
    needs=fsx_needs(),
)
def fsx_exists(ctx: CheckContext) -> list[Outcome]:
    """Each mounted FSx file system exists in the region, is AVAILABLE and of its type."""
    refs, out = fsx_start(ctx)
    for ref, fs in read_file_systems(ctx, refs, out):
        if fs is None:
            out.append(
                failed(
                    ref.resource,
                    f"{KIND_LABEL[ref.kind]} file system {ref.file_system_id} "
                    f"({', '.join(ref.sources)}) does not exist in {ctx.aws.region} (or this "
                    f'account): the nodes cannot mount it. Expect: "{LIFECYCLE_FAILURE}"',
                    "Fix the DNS name, or find the file system with `"
                    + command(
                        "aws",
                        "fsx",
                        "describe-file-systems",
                        "--region",
                        ctx.aws.region,
                        "--query",
                        "FileSystems[].[FileSystemId,DNSName]",
                    )
                    + "`.",
                )
            )
            continue
        out.append(_judge_state(ref, fs))
    return out


def _judge_state(ref: FsxRef, fs: dict[str, Any]) -> Outcome:
    fs_id = ref.resource
    kind = str(fs.get("FileSystemType") or "")
    if kind and kind != FSX_TYPE[ref.kind]:
        return failed(
            fs_id,
            f"{fs_id} is an FSx {kind} file system, but {', '.join(ref.sources)} mounts it as "
            f"{KIND_LABEL[ref.kind]}",
            f"Use {'FsxOpenZfsConfig' if kind == 'OPENZFS' else 'FsxLustreConfig'} for {fs_id}, "
            f"or name a {KIND_LABEL[ref.kind]} file system.",
            file_system_type=kind,
        )
    state = fs.get("Lifecycle")
    if state is None:
        return unknown(
            fs_id,
            f"could not tell whether {fs_id} is AVAILABLE: the DescribeFileSystems answer has "
            "no Lifecycle",
            _describe_file_system(fs_id, "FileSystems[0].Lifecycle"),
        )
    if state == "AVAILABLE":
        return passed(fs_id, f"{fs_id} exists and is AVAILABLE", lifecycle=state)
    reason = (fs.get("FailureDetails") or {}).get("Message")
    text = f"{fs_id} is {state}" + (f" ({reason})" if reason else "")
    if state in BAD_LIFECYCLES:
        return failed(
            fs_id,
            f'{text}: nodes cannot mount it. Expect: "{LIFECYCLE_FAILURE}"',
            "Repair or replace the file system (see the FSx console's failure details), "
            "then create the cluster.",
            lifecycle=state,
        )
    return warned(
        fs_id,
        f"{text}: nodes that start before it is AVAILABLE fail to mount it",
        "Wait until `"
        + _describe_file_system(fs_id, "FileSystems[0].Lifecycle")
        + "` says AVAILABLE.",
        lifecycle=state,
    )


def _fs_vpc(ctx: CheckContext, fs: dict[str, Any]) -> str | None:
    if fs.get("VpcId"):
        return str(fs["VpcId"])
    vpcs = {str(s["VpcId"]) for s in fs_subnets(ctx, fs).values() if s.get("VpcId")}
    return vpcs.pop() if len(vpcs) == 1 else None


@check(
    "slurm.fsx-vpc",
    "Each mounted FSx file system is in the cluster's VPC",
    Severity.CRITICAL,
    needs=fsx_needs(cluster_vpc=True, fs_subnets=True, vpc_links=True),
)
def fsx_vpc(ctx: CheckContext) -> list[Outcome]:
    """Each mounted FSx file system is in the cluster's VPC (found through its subnets)."""
    refs, out = fsx_start(ctx)
    if not refs:
        return out
    cluster_vpc = ctx.aws.cluster_vpc_id(ctx.spec.all_subnets, ctx.spec.vpc_id)
    if cluster_vpc is None:
        return [*out, skipped("-", "the config names no subnet that exists, so no cluster VPC")]
    for ref, fs in described(ctx, refs, out):
        fs_id = ref.resource
        vpc = _fs_vpc(ctx, fs)
        if vpc is None:
            out.append(
                unknown(
                    fs_id,
                    f"could not tell the VPC of {fs_id}: the answer has no VpcId and its "
                    f"subnets ({', '.join(fs.get('SubnetIds') or ()) or 'none'}) could not be "
                    "read in this account",
                    _describe_file_system(fs_id, "FileSystems[0].[VpcId,SubnetIds]"),
                )
            )
        elif vpc == cluster_vpc:
            out.append(passed(fs_id, f"{fs_id} is in the cluster's VPC {vpc}", vpc_id=vpc))
        else:
            out.append(_judge_other_vpc(ctx, fs_id, vpc, cluster_vpc))
    return out


def _judge_other_vpc(ctx: CheckContext, fs_id: str, vpc: str, cluster_vpc: str) -> Outcome:
    """A file system in another VPC: reachable only through a peering connection or a
    transit gateway (FSx: "Only resources within the associated VPC, or a peered VPC, can
    access your file system's network interface",
    https://docs.aws.amazon.com/fsx/latest/LustreGuide/limit-access-security-groups.html).
    None of either between the two VPCs is a FAIL; one is a WARN (its routes and rules are
    not read); an unreadable link is UNKNOWN."""
    figures: dict[str, Any] = {"vpc_id": vpc, "cluster_vpc_id": cluster_vpc}
    try:
        peerings = [
            str(p.get("VpcPeeringConnectionId"))
            for p in ctx.aws.vpc_peerings(cluster_vpc)
            if vpc
            in (
                (p.get("RequesterVpcInfo") or {}).get("VpcId"),
                (p.get("AccepterVpcInfo") or {}).get("VpcId"),
            )
        ]
        shared = sorted(
            ctx.aws.vpc_transit_gateways(cluster_vpc) & ctx.aws.vpc_transit_gateways(vpc)
        )
    except FactUnavailable as exc:
        return could_not_tell(
            fs_id, exc, f"whether {vpc} (of {fs_id}) is linked to the cluster's {cluster_vpc}"
        )
    links = [
        *(f"peering connection {p}" for p in peerings),
        *(f"transit gateway {t}" for t in shared),
    ]
    if links:
        return warned(
            fs_id,
            f"{fs_id} is in {vpc}, the cluster in {cluster_vpc}, linked by {', '.join(links)}: "
            "the nodes reach it only if the route tables and security groups on both sides let "
            "TCP 988 and 1018-1023 through (not verified)",
            "Check the routes to the file system's subnets from the cluster's route tables ("
            + command(
                "aws",
                "ec2",
                "describe-route-tables",
                "--filters",
                f"Name=vpc-id,Values={cluster_vpc}",
            )
            + ")",
            links=links,
            **figures,
        )
    return failed(
        fs_id,
        f"{fs_id} is in {vpc}, the cluster in {cluster_vpc}, and no peering connection or "
        f'transit gateway links them: the nodes cannot reach it. Expect: "{LIFECYCLE_FAILURE}"',
        f"Use a file system in {cluster_vpc} (create one with `aws fsx create-file-system "
        f"--subnet-ids <subnet of {cluster_vpc}> ...`), or peer {vpc} with {cluster_vpc} "
        "and route between them.",
        **figures,
    )


def _zone_ids(subnets: Iterable[dict[str, Any]]) -> set[str]:
    return {str(s["AvailabilityZoneId"]) for s in subnets if s.get("AvailabilityZoneId")}


@check(
    "slurm.fsx-zone",
    "Each mounted FSx file system is in the zone of the groups that mount it",
    Severity.LOW,
    needs=fsx_needs(cluster_subnets=True, fs_subnets=True),
)
def fsx_zone(ctx: CheckContext) -> list[Outcome]:
    """Groups mounting an FSx file system from another AZ are told the cross-AZ cost."""
    refs, out = fsx_start(ctx)
    if not refs:
        return out
    cluster_subnets = _cluster_subnets(ctx)
    for ref, fs in described(ctx, refs, out):
        fs_zones = _zone_ids(fs_subnets(ctx, fs).values())
        if not fs_zones:
            out.append(
                unknown(
                    ref.resource,
                    f"could not tell the zone of {ref.resource}: its subnets could not be read",
                    _describe_file_system(ref.resource, "FileSystems[0].SubnetIds"),
                )
            )
            continue
        placed = _mounting_zones(ctx, ref, cluster_subnets, fs_zones)
        out.append(_judge_zone(ref.resource, fs_zones, placed))
    return out


@dataclass
class MountingZones:
    """Where the groups that mount one file system run, against the file system's zones."""

    elsewhere: dict[str, list[str]] = field(default_factory=dict)  # group → zones not its
    undescribed: dict[str, list[str]] = field(default_factory=dict)  # group → unread subnets


def _mounting_zones(
    ctx: CheckContext, ref: FsxRef, cluster_subnets: dict[str, dict[str, Any]], fs_zones: set[str]
) -> MountingZones:
    by_name = {g.name: g for g in ctx.spec.instance_groups}
    found = MountingZones()
    for name in ref.groups:
        vpc = ctx.spec.vpc_for(by_name[name]) if name in by_name else None
        zones = _zone_ids(
            cluster_subnets[s] for s in (vpc.subnets if vpc else ()) if s in cluster_subnets
        )
        if zones - fs_zones:
            found.elsewhere[name] = sorted(zones - fs_zones)
        unseen = [s for s in (vpc.subnets if vpc else ()) if s not in cluster_subnets]
        if unseen:
            found.undescribed[name] = unseen
    return found


def _judge_zone(fs_id: str, fs_zones: set[str], placed: MountingZones) -> Outcome:
    zones = ", ".join(sorted(fs_zones))
    figures: dict[str, Any] = {
        "file_system_zones": sorted(fs_zones),
        "groups_elsewhere": placed.elsewhere,
    }
    if not placed.elsewhere and placed.undescribed:
        return unknown(
            fs_id,
            f"could not tell whether the groups that mount {fs_id} are in its zone "
            f"({zones}): EC2 does not describe the subnets "
            + "; ".join(f"{g}: {', '.join(s)}" for g, s in placed.undescribed.items()),
            _fix_subnet_ids(placed.undescribed),
            **figures,
        )
    if not placed.elsewhere:
        return passed(fs_id, f"{fs_id} is in {zones}, with the groups that mount it", **figures)
    groups = "; ".join(f"{g} in {', '.join(z)}" for g, z in placed.elsewhere.items())
    return warned(
        fs_id,
        f"{fs_id} is in {zones}, but groups mount it from other "
        f"zones ({groups}): that traffic crosses zones, is billed per GB in each "
        "direction and adds latency to every I/O",
        "Place those groups in the file system's zone (OverrideVpcConfig.Subnets), or "
        "accept the inter-AZ data transfer cost.",
        **figures,
    )


@check(
    "slurm.fsx-mount-name",
    "The FSx for Lustre mount name in the config matches the file system's",
    Severity.HIGH,
    needs=fsx_needs(),
)
def fsx_mount_name(ctx: CheckContext) -> list[Outcome]:
    """The Lustre mount name given (config or fsx_mountname) is the file system's own."""
    refs, out = fsx_start(ctx, LUSTRE_ONLY)
    for ref, fs in described(ctx, refs, out):
        fs_id = ref.resource
        if not ref.mount_names:
            out.append(skipped(fs_id, "no mount name given for it"))
            continue
        actual = (fs.get("LustreConfiguration") or {}).get("MountName")
        if not actual:
            out.append(
                unknown(
                    fs_id,
                    f"could not tell the mount name of {fs_id}: the answer has no "
                    "LustreConfiguration.MountName",
                    _describe_file_system(fs_id, "FileSystems[0].LustreConfiguration.MountName"),
                )
            )
            continue
        wrong = {src: name for src, name in ref.mount_names.items() if name != actual}
        if not wrong:
            out.append(passed(fs_id, f"{fs_id} mounts as {actual}", mount_name=actual))
            continue
        out.append(
            failed(
                fs_id,
                f"{fs_id}'s mount name is {actual}, but "
                + "; ".join(f"{src} gives {name!r}" for src, name in wrong.items())
                + f': the mount fails. Expect: "{LIFECYCLE_FAILURE}"',
                f"Set the mount name to {actual!r} in "
                + ", ".join(wrong)
                + " (MountName / fsx_mountname).",
                mount_name=actual,
            )
        )
    return out


@check(
    "slurm.fsx-security-groups",
    "The FSx file system's groups admit the cluster (Lustre TCP 988, 1018-1023; OpenZFS 2049)",
    Severity.HIGH,
    needs=fsx_needs(cluster_subnets=True, interfaces=True),
)
def fsx_security_groups(ctx: CheckContext) -> list[Outcome]:
    """The FSx network interfaces' groups admit its client port from each cluster group."""
    refs, out = fsx_start(ctx)
    if not refs:
        return out
    subnets = _cluster_subnets(ctx)
    for ref, fs in described(ctx, refs, out):
        nodes = _mounting_nodes(ctx, ref, subnets)
        if not nodes.security_groups:
            out.append(skipped(ref.resource, "the groups that mount it name no security group"))
            continue
        guards = _file_system_groups(ctx, ref.resource, fs)
        if isinstance(guards, Outcome):
            out.append(guards)
            continue
        out.append(_judge_ports(ref, nodes, guards, _closed_ports(nodes, guards, ref.kind)))
    return out


# An instance group's nodes: its name, all of its security groups (a node carries them all at
# once, so a rule naming any one of them admits it) and the address blocks of its subnets.
Node = tuple[str, tuple[str, ...], list[ipaddress.IPv4Network]]


@dataclass
class MountingNodes:
    """The instance groups that mount one file system, and the subnets EC2 did not
    describe (group → subnets)."""

    nodes: list[Node] = field(default_factory=list)
    undescribed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def security_groups(self) -> set[str]:
        return {sg for _, sgs, _ in self.nodes for sg in sgs}


def _mounting_nodes(
    ctx: CheckContext, ref: FsxRef, subnets: dict[str, dict[str, Any]]
) -> MountingNodes:
    by_name = {g.name: g for g in ctx.spec.instance_groups}
    found = MountingNodes()
    for name in ref.groups:
        vpc = ctx.spec.vpc_for(by_name[name]) if name in by_name else None
        if vpc is None or not vpc.security_group_ids:
            continue
        cidrs = [
            ipaddress.IPv4Network(str(subnets[s]["CidrBlock"]), strict=False)
            for s in vpc.subnets
            if subnets.get(s, {}).get("CidrBlock")
        ]
        found.nodes.append((name, vpc.security_group_ids, cidrs))
        unseen = [s for s in vpc.subnets if s not in subnets]
        if unseen:
            found.undescribed[name] = unseen
    return found


@dataclass(frozen=True)
class FsGuards:
    """The security groups of a file system's network interfaces, as EC2 describes them."""

    ids: list[str]
    groups: dict[str, dict[str, Any]]


def _file_system_groups(ctx: CheckContext, fs_id: str, fs: dict[str, Any]) -> FsGuards | Outcome:
    """The file system's network interfaces → their security groups, or UNKNOWN saying
    which read came back short."""
    eni_ids = [str(e) for e in fs.get("NetworkInterfaceIds") or ()]
    if not eni_ids:
        return unknown(
            fs_id,
            f"could not tell which security groups guard {fs_id}: the answer names no "
            "NetworkInterfaceIds",
            _describe_file_system(fs_id, "FileSystems[0].NetworkInterfaceIds"),
        )
    enis = ctx.aws.network_interfaces(eni_ids)
    fs_sgs = sorted({str(g["GroupId"]) for e in enis.values() for g in e.get("Groups", [])})
    if not fs_sgs:
        return unknown(
            fs_id,
            f"could not read the security groups of {fs_id}'s network interfaces "
            f"({', '.join(eni_ids)})",
            command(
                "aws", "ec2", "describe-network-interfaces", "--network-interface-ids", *eni_ids
            ),
        )
    groups = ctx.aws.security_groups(fs_sgs)
    unreadable = [g for g in fs_sgs if g not in groups]
    if unreadable:
        return unknown(fs_id, f"could not read security groups {', '.join(unreadable)} of {fs_id}")
    return FsGuards(ids=fs_sgs, groups=groups)


@dataclass
class ClosedPorts:
    """Per set of node security groups, the port ranges the file system's groups do not
    admit and the instance groups carrying them; ``untold``: groups whose ports are shut
    unless a rule by address range holds subnets EC2 did not describe."""

    missing: dict[tuple[str, ...], list[tuple[int, int]]] = field(default_factory=dict)
    shut_groups: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    untold: dict[str, list[str]] = field(default_factory=dict)


def _closed_ports(nodes: MountingNodes, guards: FsGuards, kind: FsxKind) -> ClosedPorts:
    found = ClosedPorts()
    for name, sgs, cidrs in nodes.nodes:
        shut = [
            (low, high)
            for low, high in CLIENT_PORTS[kind]
            if not all(
                any(
                    allows_tcp_port(g.get("IpPermissions", []), p, set(sgs), cidrs)
                    for g in guards.groups.values()
                )
                for p in range(low, high + 1)
            )
        ]
        if shut and name in nodes.undescribed:
            found.untold[name] = nodes.undescribed[name]
        elif shut:
            found.missing[sgs] = sorted({*found.missing.get(sgs, []), *shut})
            found.shut_groups.setdefault(sgs, []).append(name)
    return found


def _judge_ports(
    ref: FsxRef, nodes: MountingNodes, guards: FsGuards, closed: ClosedPorts
) -> Outcome:
    fs_id, fs_sgs = ref.resource, guards.ids
    port = ports_text(CLIENT_PORTS[ref.kind])
    figures: dict[str, Any] = {"file_system_security_groups": fs_sgs, "port": port}
    shut = sorted(closed.missing)
    if not shut and closed.untold:
        return unknown(
            fs_id,
            f"could not tell whether {fs_id}'s groups ({', '.join(fs_sgs)}) admit TCP "
            f"{port} from "
            + "; ".join(f"{g} (subnets {', '.join(s)})" for g, s in closed.untold.items())
            + ": EC2 does not describe those subnets, so a rule by address range "
            "cannot be judged",
            _fix_subnet_ids(closed.untold),
            **figures,
        )
    if not shut:
        return passed(
            fs_id,
            f"{fs_id}'s groups ({', '.join(fs_sgs)}) admit TCP {port} from "
            f"{', '.join(sorted(nodes.security_groups))}",
            **figures,
        )
    fixes = "; ".join(
        command(
            "aws",
            "ec2",
            "authorize-security-group-ingress",
            "--group-id",
            fs_sgs[0],
            "--ip-permissions",
            f"IpProtocol=tcp,FromPort={low},ToPort={high},UserIdGroupPairs=[{{GroupId={sgs[0]}}}]",
        )
        for sgs in shut
        for low, high in closed.missing[sgs]
    )
    figures["missing_ports"] = {
        " or ".join(sgs): ports_text(tuple(ranges)) for sgs, ranges in closed.missing.items()
    }
    return failed(
        fs_id,
        f"{fs_id}'s security groups ({', '.join(fs_sgs)}) do not admit TCP "
        + "; ".join(
            f"{ports_text(tuple(closed.missing[sgs]))} from {' or '.join(sgs)} (instance "
            f"group(s) {', '.join(closed.shut_groups[sgs])})"
            for sgs in shut
        )
        + f": the {KIND_LABEL[ref.kind]} mount hangs. "
        f'Expect: "{LIFECYCLE_FAILURE}"',
        fixes,
        **figures,
    )
