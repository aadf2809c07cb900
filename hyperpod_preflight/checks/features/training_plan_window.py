"""``capacity.training-plan-window``: each group's training plan reserves capacity for a
window (``StartTime``–``EndTime`` of ``DescribeTrainingPlan``) that covers now, or the user
is told when it starts. ``capacity.training-plan`` judges the rest of the plan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ...errors import FactUnavailable
from ...registry import CheckContext, Request, check, need
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...shell import command
from ...spec import ClusterSpec
from .._common import could_not_tell


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _span(delta_s: float) -> str:
    hours = delta_s / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def judge_window(
    name: str, group: str, plan: dict[str, Any], now: datetime
) -> tuple[str, str, str]:
    """(status, message, fix) of one plan's window at ``now``."""
    start, end = _when(plan.get("StartTime")), _when(plan.get("EndTime"))
    plan_name = plan.get("TrainingPlanName", name)
    if start is None or end is None:
        return (
            "UNKNOWN",
            f"could not tell the window of training plan {plan_name}: the answer has no "
            "StartTime/EndTime (the plan may not be scheduled yet)",
            command(
                "aws", "sagemaker", "describe-training-plan", "--training-plan-name", plan_name
            ),
        )
    if end <= now:
        return (
            "FAIL",
            f"group {group}: training plan {plan_name} ended {end.isoformat()}: it reserves no "
            "capacity now",
            "Remove TrainingPlanArn (on-demand capacity) or buy a new plan "
            "(`aws sagemaker search-training-plan-offerings`).",
        )
    if start > now:
        return (
            "WARN",
            f"group {group}: training plan {plan_name} starts {start.isoformat()} (in "
            f"{_span((start - now).total_seconds())}): its nodes wait for capacity until then",
            "Create the cluster when the plan starts, or expect the group to wait.",
        )
    return (
        "PASS",
        f"training plan {plan_name} covers now, until {end.isoformat()} "
        f"({_span((end - now).total_seconds())} left)",
        "",
    )


def _plan_needs(spec: ClusterSpec) -> list[Request]:
    arns = dict.fromkeys(
        str(g.training_plan_arn) for g in spec.instance_groups if g.training_plan_arn
    )
    return [need("training_plan", arn) for arn in arns]


@check(
    "capacity.training-plan-window",
    "Each group's training plan window covers now (or says when it starts)",
    Severity.HIGH,
    needs=lambda spec, plan: _plan_needs(spec),
)
def training_plan_window(ctx: CheckContext) -> list[Outcome]:
    """Each group's training plan window covers now; a future start is a WARN with its date."""
    groups = [g for g in ctx.spec.instance_groups if g.training_plan_arn]
    if not groups:
        return [skipped("-", "no instance group uses a TrainingPlanArn")]
    now = datetime.now(UTC)
    out: list[Outcome] = []
    for group in groups:
        arn = str(group.training_plan_arn)
        try:
            plan = ctx.aws.training_plan(arn)
        except FactUnavailable as exc:
            out.append(could_not_tell(group.name, exc, training_plan=arn))
            continue
        if plan is None:
            out.append(skipped(group.name, f"{arn} does not exist (capacity.training-plan)"))
            continue
        status, message, fix = judge_window(arn, group.name, plan, now)
        figures: dict[str, Any] = {
            "training_plan": arn,
            "start": str(plan.get("StartTime")),
            "end": str(plan.get("EndTime")),
        }
        if status == "FAIL":
            out.append(failed(group.name, message, fix, **figures))
        elif status == "WARN":
            out.append(warned(group.name, message, fix, **figures))
        elif status == "UNKNOWN":
            out.append(unknown(group.name, message, fix, **figures))
        else:
            out.append(passed(group.name, message, **figures))
    return out
