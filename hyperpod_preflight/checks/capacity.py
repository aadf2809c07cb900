"""Capacity checks (area ``capacity``): is each instance type offered in the availability
zone of the subnets its group uses, and does each training plan cover its group.

Zones are compared by **id** (``usw2-az1``), never by name: zone names map to different
physical zones in each account. EC2 offerings are advice, not proof: HyperPod's capacity
pool is separate from EC2's.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from ..registry import Request, check, need
from ..results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ..shell import arg
from . import _needs
from ._common import could_not_tell

if TYPE_CHECKING:
    from ..planner import ClusterPlan
    from ..records import ZoneMap
    from ..registry import CheckContext
    from ..spec import ClusterSpec, InstanceGroup

CAPACITY_FAILURE = (
    "We currently do not have sufficient capacity for the requested instance type(s) / "
    "Insufficient capacity in the Availability Zone"
)


def _group_zone_ids(
    ctx: CheckContext, group: InstanceGroup, subnets: dict[str, dict[str, Any]]
) -> dict[str, list[str]]:
    """Zone id → the group's subnets in it (subnets that exist)."""
    zones: dict[str, list[str]] = {}
    vpc = ctx.spec.vpc_for(group)
    for sid in vpc.subnets if vpc else ():
        if sid in subnets and subnets[sid].get("AvailabilityZoneId"):
            zones.setdefault(str(subnets[sid]["AvailabilityZoneId"]), []).append(sid)
    return zones


def _labels(zones: ZoneMap, ids: Any) -> str:
    return ", ".join(zones.label(z) for z in sorted(ids)) or "none"


def _offered_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    types = tuple(dict.fromkeys(t for g in spec.instance_groups if g.types for t in g.ec2_types))
    if not types:
        return []
    return [
        need("instance_type_offerings", types),
        need("availability_zones"),
        *_needs.subnets(spec),
    ]


@check(
    "capacity.instance-type-offered",
    "Each instance type is offered in the availability zone of its group's subnets",
    Severity.HIGH,
    needs=_offered_needs,
)
def instance_type_offered(ctx: CheckContext) -> list[Outcome]:
    """Each group's type is offered in its subnets' AZ ids; not offered is a FAIL."""
    groups = [g for g in ctx.spec.instance_groups if g.types]
    if not groups:
        return [skipped("-", "no instance group names an instance type")]
    all_types = tuple(dict.fromkeys(t for g in groups for t in g.ec2_types))
    offered = ctx.aws.instance_type_offerings(all_types)
    zones = ctx.aws.availability_zones()
    subnets = ctx.aws.subnets(ctx.spec.all_subnets) if ctx.spec.all_subnets else {}
    out: list[Outcome] = []
    for group in groups:
        group_zones = _group_zone_ids(ctx, group, subnets)
        problems: list[str] = []
        where: dict[str, list[str]] = {}
        for ml_type, ec2_type in zip(group.types, group.ec2_types, strict=True):
            here = offered.get(ec2_type, frozenset())
            where[ml_type] = sorted(here)
            if not here:
                problems.append(f"{ml_type} is not offered by EC2 in any zone of {ctx.aws.region}")
                continue
            lacking = [z for z in group_zones if z not in here]
            for zone in lacking:
                problems.append(
                    f"{ml_type} is not offered in {zones.label(zone)} (subnets "
                    f"{', '.join(group_zones[zone])}); it is offered in {_labels(zones, here)}"
                )
        vpc = ctx.spec.vpc_for(group)
        unplaced = [
            sid
            for sid in (vpc.subnets if vpc else ())
            if not subnets.get(sid, {}).get("AvailabilityZoneId")
        ]
        if not problems and unplaced:
            out.append(
                unknown(
                    group.name,
                    f"could not tell whether {', '.join(group.types)} is offered in the zone "
                    f"of subnet(s) {', '.join(unplaced)} of group {group.name}: EC2 gives no "
                    "zone for them (not described)",
                    "Fix the subnet ids (aws ec2 describe-subnets --subnet-ids "
                    + " ".join(shlex.quote(s) for s in unplaced)
                    + "), then run again.",
                    offered_in=where,
                )
            )
            continue
        if not problems:
            if group_zones:
                msg = f"{', '.join(group.types)} offered in {_labels(zones, group_zones)}"
            else:
                msg = (
                    f"{', '.join(group.types)} offered in {ctx.aws.region} "
                    "(no subnets: HyperPod picks the zone)"
                )
            out.append(passed(group.name, msg, offered_in=where))
            continue
        out.append(_not_offered(group, problems, where, group_zones, subnets))
    return out


def _not_offered(
    group: InstanceGroup,
    problems: list[str],
    where: dict[str, list[str]],
    group_zones: dict[str, list[str]],
    subnets: dict[str, dict[str, Any]],
) -> Outcome:
    vpc_id = next(
        (
            subnets[s]["VpcId"]
            for ids in group_zones.values()
            for s in ids
            if subnets[s].get("VpcId")
        ),
        "<vpc-id>",
    )
    return warned(
        group.name,
        f"group {group.name}: {'; '.join(problems)}. Creation in that zone is likely "
        f'to fail with "{CAPACITY_FAILURE}" (EC2 offerings are advice, not proof: '
        "HyperPod capacity is separate)",
        "Place the group in a zone that offers the type, through its "
        "OverrideVpcConfig.Subnets: find one with `aws ec2 describe-subnets --filters "
        f"Name=vpc-id,Values={arg(vpc_id)} Name=availability-zone-id,Values=<zone-id>` or "
        f"create one with `aws ec2 create-subnet --vpc-id {arg(vpc_id)} "
        "--availability-zone-id <zone-id> --cidr-block <cidr>`; or use a training plan.",
        offered_in=where,
        group_zones=sorted(group_zones),
    )


def _summary_zone_id(summary: dict[str, Any], zones: ZoneMap) -> str | None:
    """The zone id of a reserved capacity: ``AvailabilityZoneId`` when the response has
    it, else its ``AvailabilityZone`` name mapped through this account's zones."""
    if summary.get("AvailabilityZoneId"):
        return str(summary["AvailabilityZoneId"])
    if summary.get("AvailabilityZone"):
        return zones.to_id(str(summary["AvailabilityZone"]))
    return None


def _plan_problems(
    plan: dict[str, Any],
    group: InstanceGroup,
    wanted_count: int,
    wanted_on_plan: int,
    group_zones: dict[str, list[str]],
    zones: ZoneMap,
) -> tuple[list[str], list[str]]:
    """(failures, warnings) of one training plan for one group: ``wanted_count`` is what
    the plan's groups of this group's type need, ``wanted_on_plan`` what all its groups
    need."""
    fails: list[str] = []
    warns: list[str] = []
    name = plan.get("TrainingPlanName", "?")
    status = plan.get("Status")
    if status in ("Expired", "Failed"):
        fails.append(f"training plan {name} is {status}")
    elif status != "Active":
        start = plan.get("StartTime")
        when = f" (starts {start})" if start else ""
        warns.append(f"training plan {name} is {status}{when}: no capacity until it is Active")
    targets = plan.get("TargetResources")
    if targets and "hyperpod-cluster" not in targets:
        fails.append(f"training plan {name} targets {', '.join(targets)}, not hyperpod-cluster")
    summaries = plan.get("ReservedCapacitySummaries", [])
    matching = [s for s in summaries if s.get("InstanceType") in group.types]
    if summaries and not matching:
        kinds = sorted({str(s.get("InstanceType")) for s in summaries})
        fails.append(
            f"training plan {name} reserves {', '.join(kinds)}, not {', '.join(group.types)}"
        )
    available = plan.get("AvailableInstanceCount")
    reserved = sum(int(s.get("TotalInstanceCount", 0)) for s in matching)
    other_types = {s.get("InstanceType") for s in summaries} - set(group.types)
    if matching and other_types:
        # The plan's available count covers every type it reserves: hold the group to the
        # capacity of its own type, and all groups on the plan to the plan's count.
        kind = ", ".join(group.types)
        if wanted_count > reserved:
            fails.append(
                f"the {kind} groups on training plan {name} need {wanted_count} {kind}, it "
                f"reserves {reserved} {kind}"
            )
        if available is not None and wanted_on_plan > int(available):
            fails.append(
                f"the groups on training plan {name} need {wanted_on_plan} instances of all "
                f"types, it has {available} available"
            )
    else:
        if available is None and matching:
            available = reserved
        if available is not None and wanted_count > int(available):
            fails.append(
                f"the groups on training plan {name} need {wanted_count} instances, it has "
                f"{available} available"
            )
    plan_zones = {z for s in matching if (z := _summary_zone_id(s, zones))}
    outside = {z: s for z, s in group_zones.items() if plan_zones and z not in plan_zones}
    if outside:
        fails.append(
            f"subnets {', '.join(s for ids in outside.values() for s in ids)} are in "
            f"{_labels(zones, outside)}, the plan's capacity is in {_labels(zones, plan_zones)}"
        )
    return fails, warns


def _plan_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    arns = list(
        dict.fromkeys(str(g.training_plan_arn) for g in spec.instance_groups if g.training_plan_arn)
    )
    if not arns:
        return []
    reads = [need("training_plan", arn) for arn in arns]
    return [*reads, need("availability_zones"), *_needs.subnets(spec)]


@check(
    "capacity.training-plan",
    "Each group's training plan exists, is active and covers the group",
    Severity.CRITICAL,
    needs=_plan_needs,
)
def training_plan(ctx: CheckContext) -> list[Outcome]:
    """Each group's training plan exists, is Active, and reserves its type, count and AZ."""
    from ..errors import FactUnavailable

    groups = [g for g in ctx.spec.instance_groups if g.training_plan_arn]
    if not groups:
        return [skipped("-", "no instance group uses a TrainingPlanArn")]
    subnets = ctx.aws.subnets(ctx.spec.all_subnets) if ctx.spec.all_subnets else {}
    # Groups sharing a plan draw on the same available count.
    per_type: dict[tuple[str, str | None], int] = {}
    per_plan: dict[str, int] = {}
    for g in groups:
        key = (str(g.training_plan_arn), g.instance_type)
        per_type[key] = per_type.get(key, 0) + g.count
        per_plan[key[0]] = per_plan.get(key[0], 0) + g.count
    out: list[Outcome] = []
    zones: ZoneMap | None = None
    for group in groups:
        arn = str(group.training_plan_arn)
        try:
            plan = ctx.aws.training_plan(arn)
            if zones is None:
                zones = ctx.aws.availability_zones()
        except FactUnavailable as exc:
            out.append(could_not_tell(group.name, exc, cause=exc.reason, training_plan=arn))
            continue
        if plan is None:
            out.append(
                failed(
                    group.name,
                    f"training plan {arn} of group {group.name} does not exist in "
                    f"{ctx.aws.region} (or this account)",
                    "Fix TrainingPlanArn; list plans with `aws sagemaker list-training-plans "
                    f"--region {arg(ctx.aws.region)}`.",
                    training_plan=arn,
                )
            )
            continue
        assert zones is not None
        group_zones = _group_zone_ids(ctx, group, subnets)
        wanted = per_type[(arn, group.instance_type)]
        fails, warns = _plan_problems(plan, group, wanted, per_plan[arn], group_zones, zones)
        figures: dict[str, Any] = {
            "training_plan": arn,
            "status": plan.get("Status"),
            "available": plan.get("AvailableInstanceCount"),
            "needed": wanted,
        }
        if fails:
            out.append(
                failed(
                    group.name,
                    f'group {group.name}: {"; ".join(fails + warns)}. Expect: "{CAPACITY_FAILURE}"',
                    "Match the group to its plan: same instance type, InstanceCount within the "
                    "plan's available count, subnets in the plan's zone (OverrideVpcConfig); "
                    f"see `aws sagemaker describe-training-plan --training-plan-name "
                    f"{arg(plan.get('TrainingPlanName', arn))}`.",
                    **figures,
                )
            )
        elif warns:
            out.append(
                warned(
                    group.name,
                    f"group {group.name}: {'; '.join(warns)}",
                    "Create the cluster once the plan is Active, or expect its nodes to wait.",
                    **figures,
                )
            )
        else:
            out.append(
                passed(
                    group.name,
                    f"training plan {plan.get('TrainingPlanName')} is Active and covers "
                    f"{group.count} x {group.instance_type}",
                    **figures,
                )
            )
    return out
