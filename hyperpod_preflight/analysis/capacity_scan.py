"""Where ``count`` × an ``ml.`` instance type can run, judged per region, pure.

A region is, in this order of preference:

- ``ready``: the ``ml.<type> for cluster usage`` quota minus what the region's HyperPod
  clusters already hold covers ``count``, and EC2 offers the type in at least one zone id;
- ``quota``: offered, but the headroom is short; the command requests in use + count;
- ``reservation``: not offered on demand in any zone; training-plan offerings that cover the
  count (if any) are listed with their start, duration, zones and upfront fee;
- ``unknown``: a read failed (region not enabled for the account, access denied …); the
  reason is given and the other regions go on.

Within a status, regions with more headroom, then more zones, come first.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..audit_models import RegionCapacity
from ..shell import command

STATUS_ORDER = {"ready": 0, "quota": 1, "reservation": 2, "unknown": 3}


@dataclass(frozen=True)
class RegionFacts:
    """What was read in one region (None: not read; ``errors`` says why)."""

    region: str
    quota_value: int | None = None
    quota_source: str = ""
    quota_code: str = ""
    quota_found: bool = True
    in_use: int | None = None
    zones: frozenset[str] | None = None
    offerings: list[dict[str, Any]] | None = None
    vpc_room: dict[str, int] | None = None
    errors: dict[str, str] = field(default_factory=dict)


def offering_summary(offering: dict[str, Any]) -> dict[str, Any]:
    """The fields of one ``TrainingPlanOfferings`` entry a user chooses by."""
    capacities = offering.get("ReservedCapacityOfferings") or []
    starts = [c.get("StartTime") for c in capacities if c.get("StartTime")]
    return {
        "id": str(offering.get("TrainingPlanOfferingId", "")),
        "start": str(min(starts)) if starts else "",
        "duration_hours": offering.get("DurationHours"),
        "zones": sorted(
            {str(c.get("AvailabilityZone")) for c in capacities if c.get("AvailabilityZone")}
        ),
        "instances": sum(int(c.get("InstanceCount") or 0) for c in capacities),
        "upfront_fee": (
            f"{offering.get('UpfrontFee', '?')} {offering.get('CurrencyCode', '')}".strip()
        ),
    }


def covering(
    offerings: Iterable[dict[str, Any]], instance_type: str, count: int
) -> list[dict[str, Any]]:
    """Offerings whose reserved capacity of ``instance_type`` adds up to ``count``."""
    found = []
    for offering in offerings:
        held = sum(
            int(c.get("InstanceCount") or 0)
            for c in offering.get("ReservedCapacityOfferings") or []
            if c.get("InstanceType") in (None, instance_type)
        )
        if held >= count:
            found.append(offering_summary(offering))
    return found


def judge_region(facts: RegionFacts, instance_type: str, count: int) -> RegionCapacity:
    """One region's status for ``count`` × ``instance_type``, with reasons and a command."""
    result = RegionCapacity(region=facts.region, status="unknown")
    result.zones_offered = sorted(facts.zones or ())
    if facts.offerings is not None:
        result.offerings = covering(facts.offerings, instance_type, count)
    result.vpc_room = facts.vpc_room
    result.quota, result.quota_source, result.in_use = (
        facts.quota_value,
        facts.quota_source,
        facts.in_use,
    )
    quota_name = f"{instance_type} for cluster usage"
    if "quota" in facts.errors or "usage" in facts.errors:
        result.reasons += [f"could not tell: {v}" for k, v in facts.errors.items()]
        return result
    if not facts.quota_found or facts.quota_value is None:
        result.reasons.append(f"could not tell: Service Quotas has no value for '{quota_name}'")
        return result
    in_use = facts.in_use or 0
    result.headroom = facts.quota_value - in_use
    if facts.zones is None:
        result.reasons.append(
            f"could not tell the zones offering it: {facts.errors.get('zones', 'not read')}"
        )
        return result
    for key, reason in facts.errors.items():
        result.reasons.append(f"{key}: {reason}")
    if not facts.zones:
        result.status = "reservation"
        result.reasons.append(f"{instance_type} is offered in no zone of {facts.region}")
        if result.offerings:
            first = result.offerings[0]
            result.command = "aws sagemaker create-training-plan --training-plan-name <name> " + (
                command("--training-plan-offering-id", first["id"], "--region", facts.region)
            )
        return result
    if result.headroom >= count:
        result.status = "ready"
        result.reasons.append(
            f"quota {facts.quota_value} − {in_use} in use = {result.headroom} ≥ {count}"
        )
    else:
        result.status = "quota"
        result.reasons.append(
            f"quota {facts.quota_value} − {in_use} in use = {result.headroom} < {count}"
        )
        desired = in_use + count
        code = (
            shlex.quote(facts.quota_code)
            if facts.quota_code
            else "<quota code of '" + quota_name + "'>"
        )
        result.command = (
            "aws service-quotas request-service-quota-increase --service-code sagemaker "
            f"--quota-code {code} " + command("--desired-value", desired, "--region", facts.region)
        )
    if facts.vpc_room is not None:
        room = {z: n for z, n in facts.vpc_room.items() if z in (facts.zones or ())}
        if not any(n >= count for n in room.values()):
            result.reasons.append(
                f"no subnet of the VPC in an offering zone holds {count} nodes "
                f"(best: {max(room.values(), default=0)})"
            )
    return result


def rank(results: Iterable[RegionCapacity]) -> list[RegionCapacity]:
    """Ready first, then quota, then reservation, then unknown; more headroom first."""
    return sorted(
        results,
        key=lambda r: (
            STATUS_ORDER.get(r.status, 9),
            -(r.headroom or 0),
            -len(r.zones_offered),
            r.region,
        ),
    )
