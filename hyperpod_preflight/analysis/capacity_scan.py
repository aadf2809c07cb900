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

from ..audit_models import CapacityScan, RegionCapacity
from ..errors import FactUnavailable
from ..shell import command
from .vpc_audit import AuditRequest, audit_vpc
from .vpc_inventory import inventory_from, inventory_reads

STATUS_ORDER = {"ready": 0, "quota": 1, "reservation": 2, "unknown": 3}
# SearchTrainingPlanOfferings asks for at most this many instances.
MOST_OFFERED = 256
# the reads the VPC's room is judged from (names of the VPC audit's inventory)
ROOM_READS = ("vpc", "subnets", "route_tables", "nat_gateways", "endpoints")
NOT_ENABLED_CODES = (
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AuthFailure",
    "OptInRequired",
)
NOT_ENABLED_NOTE = " (the region may not be enabled for this account)"


@dataclass(frozen=True)
class CapacityRequest:
    """What `hp-preflight capacity` asks (the run's option ``capacity``): ``count`` ×
    ``instance_type`` (an ``ml.`` name) in each of ``regions``; with ``vpc``, the room in
    that VPC's subnets, read in ``home`` (a VPC lives in one region)."""

    instance_type: str
    count: int
    regions: tuple[str, ...]
    home: str = ""
    orchestrator: str = "slurm"
    vpc: str | None = None

    @property
    def quota_name(self) -> str:
        return f"{self.instance_type} for cluster usage"

    @property
    def ec2_name(self) -> str:
        return self.instance_type.removeprefix("ml.")

    @property
    def room_region(self) -> str | None:
        """The region whose VPC room is judged (None without ``--vpc``)."""
        if not self.vpc or not self.regions:
            return None
        return self.home or self.regions[0]


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


class RoomUnknown(Exception):
    """The VPC's room could not be told: a read it needs failed, or a subnet that might
    hold the nodes could not be judged."""


class RegionReads:
    """The facts of one region, through a reader of several regions (``in_region``): the
    facts layer's readers, called as ``aws.in_region(region, reader, *args)``; the VPC
    audit's inventory reads them as attributes."""

    def __init__(self, aws: Any, region: str) -> None:
        self._aws = aws
        self.region = region

    def __getattr__(self, reader: str) -> Any:
        if reader.startswith("_"):
            raise AttributeError(reader)

        def read(*args: Any) -> Any:
            return self._aws.in_region(self.region, reader, *args)

        return read


def region_reads(request: CapacityRequest) -> list[tuple[str, tuple[Any, ...]]]:
    """The first reads of each region, side by side (its offerings follow once its model's
    searchable types are in): (reader, args)."""
    return [
        ("training_plan_instance_types", ()),
        ("instance_type_offerings", ((request.ec2_name,),)),
        ("sagemaker_quota", (request.quota_name,)),
        ("hyperpod_usage", ()),
    ]


def offering_reads(
    request: CapacityRequest, searchable: frozenset[str]
) -> list[tuple[str, tuple[Any, ...]]]:
    """The training-plan offerings read, when the type can be searched for that many."""
    if request.instance_type in searchable and request.count <= MOST_OFFERED:
        return [("training_plan_offerings", (request.instance_type, request.count))]
    return []


def every_read(request: CapacityRequest) -> list[tuple[str, str, tuple[Any, ...]]]:
    """Every read the scan may ask, as (region, reader, args): each region's, its offerings
    (when its model lets the type be searched), the VPC's in the home region."""
    out: list[tuple[str, str, tuple[Any, ...]]] = []
    for region in request.regions:
        reads = region_reads(request)
        reads += offering_reads(request, frozenset({request.instance_type}))
        out += [(region, reader, args) for reader, args in reads]
    room = request.room_region
    if room is not None and request.vpc:
        found = inventory_reads(request.vpc, room_request(request))
        out += [(room, reader, args) for reader, args in found.values()]
    return out


def why(exc: FactUnavailable) -> str:
    """The reason of a failed read, noting a region the account may not have enabled."""
    text = exc.describe()
    if any(code in exc.detail for code in NOT_ENABLED_CODES):
        text += NOT_ENABLED_NOTE
    return text


def not_enabled(result: RegionCapacity) -> bool:
    """An unknown region whose reads were refused as a region the account has not enabled:
    nothing can run there now, whatever its quota."""
    return any(NOT_ENABLED_NOTE in reason for reason in result.reasons)


def region_facts(aws: Any, request: CapacityRequest, region: str) -> RegionFacts:
    """What was gathered of ``region`` (``aws``: a reader with ``in_region``); a failed read
    is kept as a reason, never raised."""
    reads = RegionReads(aws, region)
    errors: dict[str, str] = {}
    got: dict[str, Any] = {}
    for key, reader, args in (
        ("quota", "sagemaker_quota", (request.quota_name,)),
        ("usage", "hyperpod_usage", ()),
        ("zones", "instance_type_offerings", ((request.ec2_name,),)),
    ):
        try:
            got[key] = getattr(reads, reader)(*args)
        except FactUnavailable as exc:
            errors[key] = why(exc)
    offerings = _offerings(reads, request, errors)
    room = _room(reads, request, errors) if region == request.room_region else None
    quota = got.get("quota")
    return RegionFacts(
        region=region,
        quota_value=quota.limit if quota is not None else None,
        quota_source=quota.source if quota is not None else "",
        quota_code=quota.quota_code if quota is not None else "",
        quota_found=quota is not None or "quota" in errors,
        in_use=int(got["usage"].instances_of(request.instance_type)) if "usage" in got else None,
        zones=got["zones"].get(request.ec2_name, frozenset()) if "zones" in got else None,
        offerings=offerings,
        vpc_room=room,
        errors=errors,
    )


def _offerings(
    reads: RegionReads, request: CapacityRequest, errors: dict[str, str]
) -> list[dict[str, Any]] | None:
    try:
        searchable = reads.training_plan_instance_types()
    except FactUnavailable as exc:
        errors["offerings"] = why(exc)
        return None
    wanted = offering_reads(request, searchable)
    if request.instance_type not in searchable:
        errors["offerings"] = f"training plans do not offer {request.instance_type}"
    elif not wanted:
        errors["offerings"] = (
            f"SearchTrainingPlanOfferings asks for at most {MOST_OFFERED} instances"
        )
    else:
        try:
            return list(reads.training_plan_offerings(*wanted[0][1]))
        except FactUnavailable as exc:
            errors["offerings"] = why(exc)
    return None


def _room(
    reads: RegionReads, request: CapacityRequest, errors: dict[str, str]
) -> dict[str, int] | None:
    try:
        return vpc_room(reads, request)
    except RoomUnknown as exc:
        errors["vpc"] = str(exc)
        return None


def room_request(request: CapacityRequest) -> AuditRequest:
    """The VPC audit's request for the room of ``request``'s nodes."""
    return AuditRequest(
        instance_types=(request.instance_type,),
        nodes=request.count,
        orchestrator=request.orchestrator,
    )


def vpc_room(reads: Any, request: CapacityRequest) -> dict[str, int]:
    """zone id → nodes of the type the best candidate subnet of the VPC holds (empty: no
    such VPC); :class:`RoomUnknown` when that cannot be told."""
    assert request.vpc is not None
    itype = request.instance_type
    audit_request = room_request(request)
    inventory = inventory_from(reads, request.vpc, audit_request)
    if inventory.vpc is None and "vpc" not in inventory.unknown:
        return {}
    blind = [f"{k}: {inventory.unknown[k]}" for k in ROOM_READS if k in inventory.unknown]
    if blind:
        raise RoomUnknown("; ".join(blind))
    room: dict[str, int] = {}
    unsure: list[str] = []
    for subnet in audit_vpc(inventory, audit_request).subnets:
        held = subnet.nodes.get(itype, {}).get(request.orchestrator)
        if subnet.candidate and held is not None:
            room[subnet.zone_id] = max(room.get(subnet.zone_id, 0), held)
        elif subnet.candidate is None or (subnet.candidate and held is None):
            unsure.append(subnet.subnet_id)
    if unsure and not any(n >= request.count for n in room.values()):
        raise RoomUnknown(
            "could not tell how many nodes "
            + ", ".join(unsure)
            + " hold (its way out or free addresses)"
        )
    return room


def scan_of(aws: Any, request: CapacityRequest) -> CapacityScan:
    """Every region of ``request`` judged from what was gathered, ranked."""
    results = [
        judge_region(region_facts(aws, request, r), request.instance_type, request.count)
        for r in request.regions
    ]
    return CapacityScan(
        instance_type=request.instance_type,
        count=request.count,
        orchestrator=request.orchestrator,
        regions=rank(results),
    )


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
