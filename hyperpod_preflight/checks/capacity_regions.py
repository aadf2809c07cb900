"""Where ``count`` × an ``ml.`` type can run, region by region: the checks of a run of kind
``capacity`` (``hp-preflight capacity``), judged through the one run pipeline.

The request (type, count, regions, VPC) is the run's option ``capacity``
(:class:`~hyperpod_preflight.analysis.capacity_scan.CapacityRequest`). Every region is read
through the run's reader of several regions (``in_region(region, reader, *args)``): the
``ml.<type> for cluster usage`` quota, what the region's HyperPod clusters hold, the zone
ids where EC2 offers the type, the training-plan offerings that cover the count (once the
model says the type can be searched), and with ``--vpc`` the VPC's resources in the home
region. A region whose reads fail (not enabled for the account, access denied) is UNKNOWN
with the reason; the others go on.

Stable ids: ``capacity.region`` (one finding per region) and ``capacity.anywhere`` (FAIL
when no region is ready now; UNKNOWN instead while a region that might be could not be
read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..analysis.capacity_scan import (
    CapacityRequest,
    not_enabled,
    offering_reads,
    region_reads,
    room_request,
    scan_of,
)
from ..analysis.vpc_inventory import inventory_reads
from ..audit_models import CapacityScan
from ..planner import ClusterPlan
from ..registry import CheckContext, Request, Then, check, need
from ..results import Outcome, Severity, Status
from ..spec import ClusterSpec

KIND = "capacity"
DOCS = "README.md#where-to-run-it-hp-preflight-capacity"  # not a kind of docs/checks.md
STATUS = {
    "ready": (Status.PASS, "ready now"),
    "quota": (Status.WARN, "needs a quota increase"),
    "reservation": (Status.WARN, "needs a reservation (training plan)"),
    "unknown": (Status.UNKNOWN, "could not tell"),
}


def capacity_request(ctx: CheckContext) -> CapacityRequest | None:
    """The run's request (``options['capacity']``); None outside a capacity run."""
    given = ctx.options.get("capacity")
    return given if isinstance(given, CapacityRequest) else None


def _in(region: str, reads: Iterable[tuple[str, tuple[object, ...]]]) -> list[Request]:
    return [need("in_region", region, reader, *args) for reader, args in reads]


def scan_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """Every region's reads at once; its offerings once its model says they can be asked;
    the VPC's resources in the home region."""

    def regions(ctx: CheckContext) -> list[Request]:
        request = capacity_request(ctx)
        if request is None:
            return []
        out: list[Request] = []
        for region in request.regions:
            out += _in(region, region_reads(request))
            out.append(Then(_offerings_of(request, region)))
        room = request.room_region
        if room is not None and request.vpc:
            found = inventory_reads(request.vpc, room_request(request))
            out += _in(room, found.values())
        return out

    return [Then(regions)]


def _offerings_of(request: CapacityRequest, region: str) -> Callable[[CheckContext], list[Request]]:
    """The region's offerings read, asked once its model's searchable types are in."""

    def follow(ctx: CheckContext) -> list[Request]:
        searchable = ctx.aws.in_region(region, "training_plan_instance_types")
        return _in(region, offering_reads(request, searchable))

    return follow


def scan(ctx: CheckContext) -> CapacityScan | None:
    """Every region judged from what was gathered (None outside a capacity run)."""
    request = capacity_request(ctx)
    return None if request is None else scan_of(ctx.aws, request)


def region_outcomes(found: CapacityScan) -> list[Outcome]:
    """One outcome per region, best first."""
    what = f"{found.count} × {found.instance_type}"
    out: list[Outcome] = []
    for r in found.regions:
        status, label = STATUS[r.status]
        out.append(
            Outcome(
                status=status,
                resource=r.region,
                message=f"{what} in {r.region}: {label}: " + "; ".join(r.reasons),
                remediation=r.command,
                details={"status": r.status, "headroom": r.headroom, "zones": r.zones_offered},
            )
        )
    return out


def anywhere_outcome(found: CapacityScan) -> Outcome:
    """Whether any region is ready now; else the closest one and its fix."""
    what = f"{found.count} × {found.instance_type}"
    ready = [r.region for r in found.regions if r.status == "ready"]
    known = [r for r in found.regions if r.status != "unknown"]
    if ready:
        return Outcome(
            status=Status.PASS,
            resource=found.instance_type,
            message=f"{what} can run now in {', '.join(ready)}",
        )
    if not known:
        return Outcome(
            status=Status.UNKNOWN,
            resource=found.instance_type,
            message=f"could not tell for any region whether {what} can run",
        )
    best = known[0]
    closest = f"closest: {best.region} ({best.status})"
    unread = [r.region for r in found.regions if r.status == "unknown" and not not_enabled(r)]
    if unread:  # a region that could not be read may be ready
        status = Status.UNKNOWN
        message = f"no region read can run {what} now ({closest}); could not tell for " + ", ".join(
            unread
        )
    else:
        status, message = Status.FAIL, f"no region can run {what} now; {closest}"
    return Outcome(
        status=status, resource=found.instance_type, message=message, remediation=best.command
    )


@check(
    "capacity.region",
    "The region can run the nodes now (quota, offered zones, reservations)",
    Severity.HIGH,
    needs=scan_needs,
    kind=KIND,
    docs_url=DOCS,
)
def region(ctx: CheckContext) -> list[Outcome]:
    """Each region: ready now, short of quota, needing a reservation, or could not tell."""
    found = scan(ctx)
    return [] if found is None else region_outcomes(found)


@check(
    "capacity.anywhere",
    "Some region can run the nodes now",
    Severity.HIGH,
    needs=scan_needs,
    kind=KIND,
    docs_url=DOCS,
)
def anywhere(ctx: CheckContext) -> list[Outcome]:
    """Some region can run the nodes now; else the closest region and its fix."""
    found = scan(ctx)
    return [] if found is None else [anywhere_outcome(found)]
