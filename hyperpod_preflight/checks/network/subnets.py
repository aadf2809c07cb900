"""The cluster's subnets: they exist in the VPC, have the free addresses the plan needs, and
are private.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ...analysis.network import (
    no_public_ip_command,
    public_reasons,
)
from ...planner import SubnetNeed
from ...records import SubnetRouteTable
from ...registry import CheckContext, check
from ...registry import need as ask
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...shell import arg, command
from .. import _needs
from ._common import (
    _missing_subnet,
    _no_subnets,
    _no_vpc_id,
    _zone_label,
    cluster_vpc_id,
    existing_subnets,
    no_route_table,
)


# -- subnets ------------------------------------------------------------------------------
@check(
    "network.subnet-exists",
    "Each subnet exists and is in the cluster's VPC",
    Severity.CRITICAL,
    needs=lambda spec, plan: [
        *_needs.subnets(spec),
        ask("cluster_vpc_id", spec.all_subnets, spec.vpc_id),
    ],
)
def subnet_exists(ctx: CheckContext) -> list[Outcome]:
    """Each subnet exists and is in the cluster's VPC; missing or elsewhere is a FAIL."""
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [_no_subnets(ctx)]
    subnets = ctx.aws.subnets(subnet_ids)
    vpc_id = cluster_vpc_id(ctx)
    out = []
    for sid in subnet_ids:
        subnet = subnets.get(sid)
        if subnet is None:
            out.append(
                failed(
                    sid,
                    f"The subnet '{sid}' does not exist in {ctx.aws.region}.",
                    f"Fix the id in the config, or check the region; list the VPC's subnets "
                    "with `aws ec2 describe-subnets --filters "
                    f"Name=vpc-id,Values={arg(vpc_id or '<vpc-id>')}`.",
                )
            )
        elif not subnet.get("VpcId"):
            out.append(_no_vpc_id(sid))
        elif vpc_id and subnet["VpcId"] != vpc_id:
            out.append(
                failed(
                    sid,
                    f"subnet {sid} is in {subnet['VpcId']}, not in the cluster's VPC {vpc_id}: "
                    "all subnets and security groups of a cluster must be in one VPC",
                    f"Use subnets of {vpc_id} only (`aws ec2 describe-subnets --filters "
                    f"Name=vpc-id,Values={arg(vpc_id)}`), or fix --vpc.",
                    vpc_id=subnet["VpcId"],
                )
            )
        elif subnet.get("State", "available") != "available":
            out.append(
                warned(
                    sid,
                    f"subnet {sid} is {subnet.get('State')}",
                    "Wait until it is available, then run again.",
                )
            )
        else:
            out.append(
                passed(
                    sid,
                    f"subnet {sid} exists in {subnet['VpcId']}, zone {_zone_label(subnet)}, "
                    f"{subnet.get('CidrBlock', '?')}",
                    availability_zone=subnet.get("AvailabilityZone"),
                    availability_zone_id=subnet.get("AvailabilityZoneId"),
                    cidr=subnet.get("CidrBlock"),
                )
            )
    return out


def _usable(prefix: int) -> int:
    return max(0, (1 << (32 - prefix)) - 5)


@check(
    "network.subnet-capacity",
    "Each subnet has enough free IP addresses for the nodes placed in it",
    Severity.CRITICAL,
    needs=lambda spec, plan: _needs.subnets(
        spec, spec.all_subnets or [n.subnet_id for n in plan.subnets]
    ),
)
def subnet_capacity(ctx: CheckContext) -> list[Outcome]:
    """Each subnet's free addresses hold every node the plan places there, with headroom."""
    needs = list(ctx.plan.subnets)
    if not needs:
        if ctx.spec.vpc_config is None and ctx.spec.vpc_id:
            return [_no_subnets(ctx)]
        return [skipped("-", "no subnet needs in the plan (no VpcConfig subnets)")]
    subnets = ctx.aws.subnets(ctx.spec.all_subnets or [n.subnet_id for n in needs])
    out: list[Outcome] = []
    for need in needs:
        subnet = subnets.get(need.subnet_id)
        if subnet is None:
            out.append(_missing_subnet(need.subnet_id))
        elif subnet.get("AvailableIpAddressCount") is None:
            out.append(_free_count_unknown(need))
        else:
            out.append(_capacity(need, subnet))
    return out


def _free_count_unknown(need: SubnetNeed) -> Outcome:
    return unknown(
        need.subnet_id,
        f"could not tell: DescribeSubnets gave no AvailableIpAddressCount for "
        f"subnet {need.subnet_id}; it needs {need.total_needed} addresses",
        f"Check it with `aws ec2 describe-subnets --subnet-ids {arg(need.subnet_id)} "
        "--query 'Subnets[].AvailableIpAddressCount'`, then run again.",
        needed=need.total_needed,
    )


def _capacity(need: SubnetNeed, subnet: dict[str, Any]) -> Outcome:
    """The subnet's free addresses against what the plan places there."""
    free = int(subnet["AvailableIpAddressCount"])
    cidr = str(subnet.get("CidrBlock", ""))
    figures: dict[str, Any] = {
        "needed": need.total_needed,
        "free": free,
        "nodes": need.nodes,
        "headroom": need.headroom_addresses,
        "min_prefix": need.min_prefix,
        "cidr": cidr,
        "groups": list(need.groups),
    }
    counted = (
        f"{need.total_needed} addresses ({need.addresses_needed} for {need.nodes} nodes of "
        f"{', '.join(need.groups)} + {need.headroom_addresses} headroom)"
    )
    if free < need.total_needed:
        return _too_few_free(need, subnet, counted, figures)
    if need.unsized_groups:
        return warned(
            need.subnet_id,
            f"subnet {need.subnet_id} has {free} free for {counted}, but groups "
            f"{', '.join(need.unsized_groups)} could not be sized (instance type unknown) "
            "and are not counted",
            "Run with AWS access to ec2:DescribeInstanceTypes so every type is sized.",
            severity=Severity.MEDIUM,
            **figures,
        )
    return passed(need.subnet_id, f"{free} free addresses cover the {counted}", **figures)


def _too_few_free(
    need: SubnetNeed, subnet: dict[str, Any], counted: str, figures: dict[str, Any]
) -> Outcome:
    """Too few free addresses: why (too small even empty, or in use), and a larger subnet."""
    free, cidr = figures["free"], figures["cidr"]
    size = ipaddress.ip_network(cidr).prefixlen if cidr else None
    too_small = size is not None and _usable(size) < need.total_needed
    why = (
        f"even empty, a /{size} holds only {_usable(size)} usable addresses"
        if too_small and size is not None
        else "the rest is in use"
    )
    return failed(
        need.subnet_id,
        f"subnet {need.subnet_id} ({cidr}) needs {counted} but has {free} free "
        f"({why}); a /{need.min_prefix} or larger fits "
        f"({_usable(need.min_prefix)} usable)",
        f"A subnet's size cannot change. Create a /{need.min_prefix} (or larger) in "
        f"zone {subnet.get('AvailabilityZoneId')}: `aws ec2 create-subnet --vpc-id "
        f"{arg(subnet.get('VpcId', '<vpc-id>'))} --availability-zone-id "
        f"{arg(subnet.get('AvailabilityZoneId'))} "
        f"--cidr-block <free /{need.min_prefix} block of the VPC>` and use it in "
        "VpcConfig.Subnets (or the group's OverrideVpcConfig); or lower InstanceCount.",
        **figures,
    )


# https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-eks-prerequisites.html
# (Requirements, Networking): "The type of the subnet in your VPC must be private for HyperPod
# clusters." https://docs.aws.amazon.com/vpc/latest/userguide/configure-subnets.html#subnet-types:
# "Public subnet - The subnet has a direct route to an internet gateway ... Private subnet - The
# subnet does not have a direct route to an internet gateway." A route to an internet gateway is
# the FAIL on EKS; MapPublicIpOnLaunch alone does not make a subnet public: a WARN.
EKS_PRIVATE_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-eks-prerequisites.html"
)
SUBNET_TYPES_DOC = (
    "https://docs.aws.amazon.com/vpc/latest/userguide/configure-subnets.html#subnet-types"
)


@check(
    "network.subnet-private",
    "Subnets are private (no public IPs, no route to an internet gateway)",
    Severity.HIGH,
    needs=lambda spec, plan: _needs.route_tables(spec),
)
def subnet_private(ctx: CheckContext) -> list[Outcome]:
    """Subnets route to no internet gateway (FAIL on EKS, else WARN) and map no public IP
    (WARN)."""
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [_no_subnets(ctx)]
    tables = ctx.aws.subnet_route_tables(subnet_ids)
    eks = ctx.spec.orchestrator == "eks"
    out: list[Outcome] = []
    for sid, subnet in existing_subnets(ctx, out):
        table = tables.get(sid)
        if table is None and not subnet.get("MapPublicIpOnLaunch"):
            out.append(no_route_table(sid))
            continue
        reasons = public_reasons(subnet, table)
        if not reasons:
            where = (
                f"main route table {table.route_table_id}"
                if table and table.implicit
                else f"route table {table.route_table_id}"
                if table
                else "no route table"
            )
            out.append(passed(sid, f"subnet {sid} is private ({where}: no internet gateway route)"))
            continue
        out.append(_public_outcome(sid, subnet, table, reasons, eks=eks))
    return out


def _private_fixes(
    sid: str, subnet: dict[str, Any], table: SubnetRouteTable | None, reasons: list[str]
) -> list[str]:
    """The commands that make ``sid`` private: the attribute off, a private route table."""
    fixes = []
    if subnet.get("MapPublicIpOnLaunch"):
        fixes.append(no_public_ip_command(sid))
    if table is not None and any("internet gateway" in r for r in reasons):
        if table.implicit:
            fixes.append(
                command("aws", "ec2", "associate-route-table", "--subnet-id", sid)
                + " --route-table-id <private route table with a NAT gateway route>"
            )
        else:
            fixes.append(
                command(
                    "aws",
                    "ec2",
                    "replace-route-table-association",
                    "--association-id",
                    table.association_id,
                )
                + " --route-table-id <private route table with a NAT gateway route>"
            )
    return fixes


def _public_outcome(
    sid: str,
    subnet: dict[str, Any],
    table: SubnetRouteTable | None,
    reasons: list[str],
    *,
    eks: bool,
) -> Outcome:
    """A subnet with public ``reasons``: FAIL on EKS for an internet gateway route, else WARN."""
    fixes = _private_fixes(sid, subnet, table, reasons)
    message = f"subnet {sid} is public: {'; '.join(reasons)}"
    remediation = "Use a private subnet, or make this one private: " + "; ".join(fixes)
    routed = table is not None and any("internet gateway" in r for r in reasons)
    if eks and routed:
        return failed(
            sid,
            message + f" (EKS-orchestrated HyperPod requires private subnets: {EKS_PRIVATE_DOC})",
            remediation,
        )
    if eks:
        return warned(
            sid,
            f"subnet {sid} maps public IPs on launch (MapPublicIpOnLaunch is true) but routes "
            "to no internet gateway, so it is private by the VPC definition "
            f"({SUBNET_TYPES_DOC}); turn the attribute off to keep it that way",
            remediation,
            severity=Severity.MEDIUM,
        )
    return warned(
        sid,
        message + " (HyperPod nodes get no public IP here, so they have no internet access "
        "through it)",
        remediation,
        severity=Severity.MEDIUM,
    )
