"""What the config checks share: the SKIP of a spec without groups, whether a spec came from
flags, an instance type's figures and an ARN's partition."""

from __future__ import annotations

from ...catalog import InstanceTypeInfo, lookup
from ...planner import ClusterPlan
from ...results import Outcome, skipped
from ...spec import ClusterSpec


def no_groups() -> list[Outcome]:
    return [
        skipped(
            "InstanceGroups",
            "no instance groups given (only --vpc or network flags): nothing to check here; "
            "add --instance-group NAME=ml.TYPE:COUNT or use --config",
        )
    ]


def from_flags(spec: ClusterSpec) -> bool:
    return spec.source == "flags"


def type_info(plan: ClusterPlan, ec2_type: str) -> InstanceTypeInfo | None:
    return plan.type_info.get(ec2_type) or lookup(ec2_type)


def partition_of(arn: str | None) -> str | None:
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 2)
    return parts[1] if len(parts) > 2 else None
