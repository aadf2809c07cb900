"""Constants, messages and helpers the network checks share (no check is registered here)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ...analysis.network import (
    InterfaceEndpoints,
    interface_endpoints,
)
from ...errors import FactUnavailable
from ...registry import CheckContext
from ...results import Outcome, skipped, unknown
from ...shell import arg
from ...spec import InstanceGroup, VpcSettings

EFA_FAILURE = (
    "EFA health checks did not run successfully. Ensure that your VPC and security groups "
    "are properly configured before attempting to create a new cluster."
)
LIFECYCLE_FAILURE = (
    "Lifecycle scripts did not run successfully. Ensure the scripts exist in provided S3 "
    "path, are accessible, and run without errors."
)

MAX_SGS_PER_VPC_CONFIG = 5

# Interface endpoints nodes use when the subnet has no route to a NAT gateway.
BASE_INTERFACE_SERVICES = ("ssm", "ssmmessages", "ec2messages", "logs", "sts")
EKS_INTERFACE_SERVICES = ("ecr.api", "ecr.dkr")


# -- shared helpers -----------------------------------------------------------------------
def cluster_vpc_id(ctx: CheckContext) -> str | None:
    """The VPC the cluster uses: ``--vpc`` when given, else the VPC of its first subnet
    that exists (None when neither tells)."""
    return ctx.aws.cluster_vpc_id(ctx.spec.all_subnets, ctx.spec.vpc_id)


def _no_vpc(ctx: CheckContext) -> Outcome:
    if ctx.spec.all_subnets:
        return skipped(
            "-",
            "the VPC is unknown: none of the config's subnets exist (see network.subnet-exists)",
        )
    return skipped(
        "-",
        "no VpcConfig and no --vpc: nothing to check (a Slurm cluster without VpcConfig "
        "uses the HyperPod service VPC)",
    )


def _from_vpc_flag(ctx: CheckContext) -> str | None:
    """``VPC vpc-x (from --vpc)`` when --vpc was given: messages say what was given."""
    return f"VPC {ctx.spec.vpc_id} (from --vpc)" if ctx.spec.vpc_id else None


def _audit_hint(ctx: CheckContext) -> str:
    return f"; `hp-preflight --vpc {ctx.spec.vpc_id}` alone audits all of its subnets and groups"


def _no_subnets(ctx: CheckContext) -> Outcome:
    given = _from_vpc_flag(ctx)
    if given and ctx.spec.vpc_config is None:
        return skipped("-", f"{given}: no --subnet given{_audit_hint(ctx)}")
    return skipped("-", "the config names no subnets (VpcConfig.Subnets)")


def _no_sgs(ctx: CheckContext) -> Outcome:
    given = _from_vpc_flag(ctx)
    if given and ctx.spec.vpc_config is None:
        return skipped("-", f"{given}: no --security-group given{_audit_hint(ctx)}")
    return skipped("-", "the config names no security groups (VpcConfig.SecurityGroupIds)")


def _no_vpc_config(ctx: CheckContext) -> Outcome:
    given = _from_vpc_flag(ctx)
    if given:
        return skipped("-", f"{given}: no --subnet or --security-group given{_audit_hint(ctx)}")
    return skipped("-", "the config has no VpcConfig")


def _missing_subnet(subnet_id: str) -> Outcome:
    return skipped(subnet_id, "the subnet does not exist (see network.subnet-exists)")


def _no_vpc_id(subnet_id: str) -> Outcome:
    return unknown(
        subnet_id,
        f"could not tell: DescribeSubnets gave no VpcId for subnet {subnet_id}",
        f"Check it with `aws ec2 describe-subnets --subnet-ids {arg(subnet_id)}`, then run again.",
    )


def _missing_sg(sg_id: str) -> Outcome:
    return skipped(sg_id, "the security group does not exist (see network.sg-exists)")


def _vpc_settings(ctx: CheckContext) -> list[tuple[str, VpcSettings]]:
    """Every VpcConfig of the config, labelled by where it sits."""
    found: list[tuple[str, VpcSettings]] = []
    if ctx.spec.vpc_config is not None:
        found.append(("VpcConfig", ctx.spec.vpc_config))
    for group in ctx.spec.instance_groups:
        if group.override_vpc is not None:
            found.append((f"InstanceGroups[{group.name}].OverrideVpcConfig", group.override_vpc))
    return found


def _groups_using(
    ctx: CheckContext, *, subnet: str | None = None, sg: str | None = None
) -> list[str]:
    names = []
    for group in ctx.spec.instance_groups:
        vpc = ctx.spec.vpc_for(group)
        if vpc is None:
            continue
        if (subnet and subnet in vpc.subnets) or (sg and sg in vpc.security_group_ids):
            names.append(group.name)
    return names


def _zone_label(subnet: dict[str, Any]) -> str:
    return f"{subnet.get('AvailabilityZoneId', '?')} ({subnet.get('AvailabilityZone', '?')})"


def interface_endpoints_of(ctx: CheckContext, vpc_id: str) -> InterfaceEndpoints:
    """The VPC's interface endpoints, sorted into usable and unusable by service."""
    return interface_endpoints(ctx.aws.vpc_endpoints(vpc_id), ctx.aws.region)


def no_route_table(subnet_id: str) -> Outcome:
    """No route table governs the subnet in what was read (neither an explicit association
    nor a main table of its VPC): egress, S3 and publicity cannot be told."""
    return unknown(
        subnet_id,
        f"could not tell: no route table of subnet {subnet_id} was found (neither an explicit "
        "association nor its VPC's main route table was returned by DescribeRouteTables)",
        f"Check with `aws ec2 describe-route-tables --filters Name=association.subnet-id,"
        f"Values={arg(subnet_id)}` and the VPC's main table, then run again.",
    )


def existing_subnets(ctx: CheckContext, out: list[Outcome]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each config subnet that exists and names its VPC, with its DescribeSubnets entry.
    The others get their outcome appended to ``out`` (none configured, missing, no VpcId):
    the per-subnet checks judge only what they can place."""
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        out.append(_no_subnets(ctx))
        return
    subnets = ctx.aws.subnets(subnet_ids)
    for sid in subnet_ids:
        subnet = subnets.get(sid)
        if subnet is None:
            out.append(_missing_subnet(sid))
        elif not subnet.get("VpcId"):
            out.append(_no_vpc_id(sid))
        else:
            yield sid, subnet


def existing_groups(ctx: CheckContext, out: list[Outcome]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each config security group that exists, with its DescribeSecurityGroups entry; the
    others get their outcome appended to ``out`` (none configured, missing)."""
    sg_ids = ctx.spec.all_security_groups
    if not sg_ids:
        out.append(_no_sgs(ctx))
        return
    groups = ctx.aws.security_groups(sg_ids)
    for sg_id in sg_ids:
        group = groups.get(sg_id)
        if group is None:
            out.append(_missing_sg(sg_id))
        else:
            yield sg_id, group


def efa_support(ctx: CheckContext, groups: Iterable[InstanceGroup]) -> dict[str, bool | None]:
    """EC2 type → supports EFA (None when it cannot be told): from
    ``DescribeInstanceTypes``, else from the plan's figures."""

    names = tuple(dict.fromkeys(t for g in groups for t in g.ec2_types))
    result: dict[str, bool | None] = dict.fromkeys(names)
    try:
        described = ctx.aws.instance_types(names)
        for name in names:
            if name in described:
                result[name] = bool(described[name].get("NetworkInfo", {}).get("EfaSupported"))
    except FactUnavailable:
        pass
    for plan_group in ctx.plan.groups:
        ec2_name = (plan_group.instance_type or "").removeprefix("ml.")
        if result.get(ec2_name) is None and plan_group.efa_interfaces is not None:
            result[ec2_name] = plan_group.efa_interfaces > 0
    return result
