"""``config.scheduled-update`` (offline): each ``ScheduledUpdateConfig.ScheduleExpression``
is a cron expression HyperPod accepts; ``capacity.rollback-alarms``: every CloudWatch alarm
its rollback configuration (and ``AutoPatchConfig``'s) names exists.

botocore's model gives the expression only a length; the pattern below is the one AWS
publishes for the same field in CloudFormation (``AWS::SageMaker::Cluster
ScheduledUpdateConfig``, https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-sagemaker-cluster-scheduledupdateconfig.html):
``cron(minutes hours day-of-month month day-of-week year)``.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import FactUnavailable
from ...registry import CheckContext, Request, check, need
from ...results import Outcome, Severity, failed, passed, skipped
from ...shell import arg
from ...spec import ClusterSpec
from ...spec.raw import raw_groups
from .._common import could_not_tell

SCHEDULE_DOCS = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
    "aws-properties-sagemaker-cluster-scheduledupdateconfig.html"
)
CRON = re.compile(
    r"^cron\((?:[0-5][0-9]|[0-9]|) (?:[01][0-9]|2[0-3]|[0-9]) "
    r"(?:[1-9]|0[1-9]|[12][0-9]|3[01]|\?) (?:[1-9]|0[1-9]|1[0-2]|\*|\*/(?:[1-9]|1[0-2])|) "
    r"(?:MON|TUE|WED|THU|FRI|SAT|SUN|[1-7]|\?|L|(?:[1-7]#[1-5])|(?:[1-7]L)) "
    r"(?:20[2-9][0-9]|\*|)\)$"
)


def rollback_alarms(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """(config field, alarm name) of every rollback alarm a group's entry names."""
    found: list[tuple[str, str]] = []
    for key in ("ScheduledUpdateConfig", "AutoPatchConfig"):
        deployment = (raw.get(key) or {}).get("DeploymentConfig") or {}
        for alarm in deployment.get("AutoRollbackConfiguration") or ():
            if isinstance(alarm, dict) and alarm.get("AlarmName"):
                found.append((f"{key}.DeploymentConfig", str(alarm["AlarmName"])))
    return found


def _expression_problem(raw: dict[str, Any]) -> tuple[str, str] | None:
    expression = (raw.get("ScheduledUpdateConfig") or {}).get("ScheduleExpression")
    if expression is None or CRON.match(str(expression)):
        return None
    return (
        f"ScheduleExpression {expression!r} is not of the form cron(minutes hours "
        "day-of-month month day-of-week year) HyperPod accepts",
        'set ScheduleExpression like "cron(0 3 ? * SUN *)" (03:00 UTC every Sunday); '
        f"see {SCHEDULE_DOCS}",
    )


@check(
    "config.scheduled-update",
    "Each scheduled AMI update has a cron expression HyperPod accepts",
    Severity.MEDIUM,
    needs_aws=False,
)
def scheduled_update(ctx: CheckContext) -> list[Outcome]:
    """Each ScheduledUpdateConfig.ScheduleExpression is a cron expression HyperPod accepts."""
    groups = [(g, raw) for g, raw in raw_groups(ctx.spec) if raw.get("ScheduledUpdateConfig")]
    if not groups:
        return [skipped("-", "no instance group has a ScheduledUpdateConfig")]
    out: list[Outcome] = []
    for group, raw in groups:
        problem = _expression_problem(raw)
        if problem:
            out.append(failed(group.name, f"group {group.name}: {problem[0]}", problem[1]))
        else:
            expression = raw["ScheduledUpdateConfig"].get("ScheduleExpression")
            out.append(passed(group.name, f"group {group.name}: schedule {expression} is valid"))
    return out


def _alarm_needs(spec: ClusterSpec) -> list[Request]:
    names = [name for _, raw in raw_groups(spec) for _, name in rollback_alarms(raw)]
    return [need("alarms", names)] if names else []


@check(
    "capacity.rollback-alarms",
    "Every CloudWatch alarm an AMI update rolls back on exists",
    Severity.MEDIUM,
    needs=lambda spec, plan: _alarm_needs(spec),
)
def rollback_alarms_exist(ctx: CheckContext) -> list[Outcome]:
    """Each rollback alarm of ScheduledUpdateConfig/AutoPatchConfig exists in CloudWatch."""
    groups = [(g, named) for g, raw in raw_groups(ctx.spec) if (named := rollback_alarms(raw))]
    if not groups:
        return [skipped("-", "no instance group names a rollback alarm")]
    try:
        alarms = ctx.aws.alarms(name for _, named in groups for _, name in named)
    except FactUnavailable as exc:
        about = "whether the rollback alarms exist"
        return [could_not_tell(group.name, exc, about, cause=exc.reason) for group, _ in groups]
    out: list[Outcome] = []
    for group, named in groups:
        missing = [(where, name) for where, name in named if name not in alarms]
        if not missing:
            names = ", ".join(n for _, n in named)
            out.append(passed(group.name, f"group {group.name}: alarms {names} exist"))
            continue
        out.append(
            failed(
                group.name,
                f"group {group.name}: "
                + "; ".join(f"rollback alarm {n!r} ({w}) does not exist" for w, n in missing)
                + ": the update cannot watch it",
                "; ".join(
                    f"create alarm {n!r} (`aws cloudwatch put-metric-alarm --alarm-name {arg(n)} "
                    f"...`) or remove it from {w}.AutoRollbackConfiguration"
                    for w, n in missing
                ),
                alarms=[n for _, n in named],
            )
        )
    return out
