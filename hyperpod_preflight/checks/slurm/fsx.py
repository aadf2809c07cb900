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
from typing import Any

from ...analysis.security_groups import allows_tcp_port
from ...models import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...registry import CheckContext, check
from ._common import (
    CLIENT_PORTS,
    FSX_TYPE,
    KIND_LABEL,
    LIFECYCLE_FAILURE,
    FsxRef,
    described,
    fs_subnets,
    fsx_needs,
    fsx_references,
    no_fsx,
    ports_text,
    read_file_systems,
)

BAD_LIFECYCLES = frozenset({"FAILED", "DELETING", "MISCONFIGURED", "MISCONFIGURED_UNAVAILABLE"})


@check(
    "slurm.fsx-exists",
    "Each FSx file system the cluster mounts exists, is AVAILABLE and of the configured type",
    Severity.CRITICAL,
    needs=fsx_needs(),
)
def fsx_exists(ctx: CheckContext) -> list[Outcome]:
    """Each mounted FSx file system exists in the region, is AVAILABLE and of its type."""
    if not fsx_references(ctx):
        return [no_fsx(ctx)]
    out: list[Outcome] = []
    for ref, fs in read_file_systems(ctx, out):
        if fs is None:
            out.append(
                failed(
                    ref.resource,
                    f"{KIND_LABEL[ref.kind]} file system {ref.file_system_id} "
                    f"({', '.join(ref.sources)}) does not exist in {ctx.aws.region} (or this "
                    f'account): the nodes cannot mount it. Expect: "{LIFECYCLE_FAILURE}"',
                    f"Fix the DNS name, or find the file system with `aws fsx "
                    f"describe-file-systems --region {ctx.aws.region} --query "
                    "'FileSystems[].[FileSystemId,DNSName]'`.",
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
            f"aws fsx describe-file-systems --file-system-ids {fs_id} "
            "--query 'FileSystems[0].Lifecycle'",
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
        f"Wait until `aws fsx describe-file-systems --file-system-ids {fs_id} --query "
        "'FileSystems[0].Lifecycle'` says AVAILABLE.",
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
    needs=fsx_needs(cluster_vpc=True, fs_subnets=True),
)
def fsx_vpc(ctx: CheckContext) -> list[Outcome]:
    """Each mounted FSx file system is in the cluster's VPC (found through its subnets)."""
    if not fsx_references(ctx):
        return [no_fsx(ctx)]
    cluster_vpc = ctx.aws.cluster_vpc_id(ctx.spec.all_subnets, ctx.spec.vpc_id)
    if cluster_vpc is None:
        return [skipped("-", "the config names no subnet that exists, so no cluster VPC")]
    out: list[Outcome] = []
    for ref, fs in described(ctx, out):
        fs_id = ref.resource
        vpc = _fs_vpc(ctx, fs)
        if vpc is None:
            out.append(
                unknown(
                    fs_id,
                    f"could not tell the VPC of {fs_id}: the answer has no VpcId and its "
                    f"subnets ({', '.join(fs.get('SubnetIds') or ()) or 'none'}) could not be "
                    "read in this account",
                    f"aws fsx describe-file-systems --file-system-ids {fs_id} "
                    "--query 'FileSystems[0].[VpcId,SubnetIds]'",
                )
            )
        elif vpc == cluster_vpc:
            out.append(passed(fs_id, f"{fs_id} is in the cluster's VPC {vpc}", vpc_id=vpc))
        else:
            out.append(
                failed(
                    fs_id,
                    f"{fs_id} is in {vpc}, the cluster in {cluster_vpc}: the nodes cannot reach "
                    f'it without peering. Expect: "{LIFECYCLE_FAILURE}"',
                    f"Use a file system in {cluster_vpc} (create one with `aws fsx "
                    f"create-file-system --subnet-ids <subnet of {cluster_vpc}> ...`), or peer "
                    f"{vpc} with {cluster_vpc} and route between them.",
                    vpc_id=vpc,
                    cluster_vpc_id=cluster_vpc,
                )
            )
    return out


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
    if not fsx_references(ctx):
        return [no_fsx(ctx)]
    out: list[Outcome] = []
    cluster_subnets = ctx.aws.subnets(ctx.spec.all_subnets) if ctx.spec.all_subnets else {}
    by_name = {g.name: g for g in ctx.spec.instance_groups}
    for ref, fs in described(ctx, out):
        fs_id = ref.resource
        fs_zones = _zone_ids(fs_subnets(ctx, fs).values())
        if not fs_zones:
            out.append(
                unknown(
                    fs_id,
                    f"could not tell the zone of {fs_id}: its subnets could not be read",
                    f"aws fsx describe-file-systems --file-system-ids {fs_id} "
                    "--query 'FileSystems[0].SubnetIds'",
                )
            )
            continue
        elsewhere: dict[str, list[str]] = {}
        undescribed: dict[str, list[str]] = {}  # group → its subnets EC2 did not describe
        for name in ref.groups:
            vpc = ctx.spec.vpc_for(by_name[name]) if name in by_name else None
            zones = _zone_ids(
                cluster_subnets[s] for s in (vpc.subnets if vpc else ()) if s in cluster_subnets
            )
            if zones - fs_zones:
                elsewhere[name] = sorted(zones - fs_zones)
            unseen = [s for s in (vpc.subnets if vpc else ()) if s not in cluster_subnets]
            if unseen:
                undescribed[name] = unseen
        figures: dict[str, Any] = {
            "file_system_zones": sorted(fs_zones),
            "groups_elsewhere": elsewhere,
        }
        if not elsewhere and undescribed:
            out.append(
                unknown(
                    fs_id,
                    f"could not tell whether the groups that mount {fs_id} are in its zone "
                    f"({', '.join(sorted(fs_zones))}): EC2 does not describe the subnets "
                    + "; ".join(f"{g}: {', '.join(s)}" for g, s in undescribed.items()),
                    "Fix the subnet ids (aws ec2 describe-subnets --subnet-ids "
                    + " ".join(s for ss in undescribed.values() for s in ss)
                    + ")",
                    **figures,
                )
            )
            continue
        if not elsewhere:
            out.append(
                passed(
                    fs_id,
                    f"{fs_id} is in {', '.join(sorted(fs_zones))}, with the groups that mount it",
                    **figures,
                )
            )
            continue
        groups = "; ".join(f"{g} in {', '.join(z)}" for g, z in elsewhere.items())
        out.append(
            warned(
                fs_id,
                f"{fs_id} is in {', '.join(sorted(fs_zones))}, but groups mount it from other "
                f"zones ({groups}): that traffic crosses zones, is billed per GB in each "
                "direction and adds latency to every I/O",
                "Place those groups in the file system's zone (OverrideVpcConfig.Subnets), or "
                "accept the inter-AZ data transfer cost.",
                **figures,
            )
        )
    return out


@check(
    "slurm.fsx-mount-name",
    "The FSx for Lustre mount name in the config matches the file system's",
    Severity.HIGH,
    needs=fsx_needs(),
)
def fsx_mount_name(ctx: CheckContext) -> list[Outcome]:
    """The Lustre mount name given (config or fsx_mountname) is the file system's own."""
    refs = [r for r in fsx_references(ctx) if r.kind == "lustre"]
    if not refs:
        return [no_fsx(ctx)]
    out: list[Outcome] = []
    for ref, fs in described(ctx, out):
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
                    f"aws fsx describe-file-systems --file-system-ids {fs_id} "
                    "--query 'FileSystems[0].LustreConfiguration.MountName'",
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
    if not fsx_references(ctx):
        return [no_fsx(ctx)]
    by_name = {g.name: g for g in ctx.spec.instance_groups}
    subnets = ctx.aws.subnets(ctx.spec.all_subnets) if ctx.spec.all_subnets else {}
    out: list[Outcome] = []
    for ref, fs in described(ctx, out):
        fs_id = ref.resource
        ranges = CLIENT_PORTS[ref.kind]
        port = ports_text(ranges)
        # Each instance group's nodes carry all of its security groups at once, so a rule
        # naming any one of them (or a block holding its subnets) admits them.
        nodes: list[tuple[str, tuple[str, ...], list[ipaddress.IPv4Network]]] = []
        undescribed: dict[str, list[str]] = {}  # group → its subnets EC2 did not describe
        for name in ref.groups:
            vpc = ctx.spec.vpc_for(by_name[name]) if name in by_name else None
            if vpc is None or not vpc.security_group_ids:
                continue
            cidrs = [
                ipaddress.IPv4Network(str(subnets[s]["CidrBlock"]), strict=False)
                for s in vpc.subnets
                if subnets.get(s, {}).get("CidrBlock")
            ]
            nodes.append((name, vpc.security_group_ids, cidrs))
            unseen = [s for s in vpc.subnets if s not in subnets]
            if unseen:
                undescribed[name] = unseen
        cluster_sgs = {sg for _, sgs, _ in nodes for sg in sgs}
        if not cluster_sgs:
            out.append(skipped(fs_id, "the groups that mount it name no security group"))
            continue
        eni_ids = [str(e) for e in fs.get("NetworkInterfaceIds") or ()]
        if not eni_ids:
            out.append(
                unknown(
                    fs_id,
                    f"could not tell which security groups guard {fs_id}: the answer names no "
                    "NetworkInterfaceIds",
                    f"aws fsx describe-file-systems --file-system-ids {fs_id} --query "
                    "'FileSystems[0].NetworkInterfaceIds'",
                )
            )
            continue
        enis = ctx.aws.network_interfaces(eni_ids)
        fs_sgs = sorted({str(g["GroupId"]) for e in enis.values() for g in e.get("Groups", [])})
        if not fs_sgs:
            out.append(
                unknown(
                    fs_id,
                    f"could not read the security groups of {fs_id}'s network interfaces "
                    f"({', '.join(eni_ids)})",
                    "aws ec2 describe-network-interfaces --network-interface-ids "
                    + " ".join(eni_ids),
                )
            )
            continue
        groups = ctx.aws.security_groups(fs_sgs)
        unreadable = [g for g in fs_sgs if g not in groups]
        if unreadable:
            out.append(
                unknown(fs_id, f"could not read security groups {', '.join(unreadable)} of {fs_id}")
            )
            continue
        missing: dict[tuple[str, ...], list[tuple[int, int]]] = {}
        shut_groups: dict[tuple[str, ...], list[str]] = {}
        untold: dict[str, list[str]] = {}  # shut unless a CIDR rule holds undescribed subnets
        for name, sgs, cidrs in nodes:
            shut = [
                (low, high)
                for low, high in ranges
                if not all(
                    any(
                        allows_tcp_port(g.get("IpPermissions", []), p, set(sgs), cidrs)
                        for g in groups.values()
                    )
                    for p in range(low, high + 1)
                )
            ]
            if shut and name in undescribed:
                untold[name] = undescribed[name]
            elif shut:
                missing[sgs] = sorted({*missing.get(sgs, []), *shut})
                shut_groups.setdefault(sgs, []).append(name)
        closed = sorted(missing)
        figures: dict[str, Any] = {"file_system_security_groups": fs_sgs, "port": port}
        if not closed and untold:
            out.append(
                unknown(
                    fs_id,
                    f"could not tell whether {fs_id}'s groups ({', '.join(fs_sgs)}) admit TCP "
                    f"{port} from "
                    + "; ".join(f"{g} (subnets {', '.join(s)})" for g, s in untold.items())
                    + ": EC2 does not describe those subnets, so a rule by address range "
                    "cannot be judged",
                    "Fix the subnet ids (aws ec2 describe-subnets --subnet-ids "
                    + " ".join(s for ss in untold.values() for s in ss)
                    + ")",
                    **figures,
                )
            )
            continue
        if not closed:
            out.append(
                passed(
                    fs_id,
                    f"{fs_id}'s groups ({', '.join(fs_sgs)}) admit TCP {port} from "
                    f"{', '.join(sorted(cluster_sgs))}",
                    **figures,
                )
            )
            continue
        fixes = "; ".join(
            f"aws ec2 authorize-security-group-ingress --group-id {fs_sgs[0]} --ip-permissions "
            f"'IpProtocol=tcp,FromPort={low},ToPort={high},UserIdGroupPairs=[{{GroupId={sgs[0]}}}]'"
            for sgs in closed
            for low, high in missing[sgs]
        )
        figures["missing_ports"] = {
            " or ".join(sgs): ports_text(tuple(shut)) for sgs, shut in missing.items()
        }
        out.append(
            failed(
                fs_id,
                f"{fs_id}'s security groups ({', '.join(fs_sgs)}) do not admit TCP "
                + "; ".join(
                    f"{ports_text(tuple(missing[sgs]))} from {' or '.join(sgs)} (instance "
                    f"group(s) {', '.join(shut_groups[sgs])})"
                    for sgs in closed
                )
                + f": the {KIND_LABEL[ref.kind]} mount hangs. "
                f'Expect: "{LIFECYCLE_FAILURE}"',
                fixes,
                **figures,
            )
        )
    return out
