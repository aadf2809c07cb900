"""`hp-preflight capacity`: where ``count`` × an ``ml.`` type can run, across regions.

Each region is read on its own :class:`~hyperpod_preflight.facts.AwsFacts` (one session,
clients made before the threads start), all regions at once in one bounded pool, so the
wall time stays near the slowest region rather than the sum. Per region: the
``ml.<type> for cluster usage`` quota by name (applied, else AWS default) minus what the
region's HyperPod clusters hold, the zone ids where EC2 offers the type, and the
``SearchTrainingPlanOfferings`` offerings that cover the count; with ``--vpc``, the room in
the VPC's subnets (home region only: a VPC lives in one region). A region whose reads fail
(not enabled for the account, access denied) is UNKNOWN with the reason; the others go on.

Finding ids (stable): ``capacity.region`` (one per region) and ``capacity.anywhere`` (FAIL
when no region is ready now; UNKNOWN instead while a region that might be could not be read).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import __version__
from .analysis.capacity_scan import RegionFacts, judge_region, rank
from .audit_models import CapacityScan, RegionCapacity
from .errors import FactUnavailable, InputError
from .models import Finding, Report, Severity, Status
from .planner import instance_type_quota_name
from .runner import summarize

MAX_REGION_WORKERS = 8
# the reads the VPC's room is judged from (names of audit.read_inventory)
ROOM_READS = ("vpc", "subnets", "route_tables", "nat_gateways", "endpoints")
SERVICES = ("ec2", "sagemaker", "service-quotas")
NOT_ENABLED_CODES = (
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AuthFailure",
    "OptInRequired",
)


class RoomUnknown(Exception):
    """The VPC's room could not be told: a read it needs failed, or a subnet that might
    hold the nodes could not be judged."""


def partition_regions(session: Any, service: str = "sagemaker") -> list[str]:
    """Every region botocore's partition data lists for ``service`` in the session's
    partition (``aws`` unless the session's region is in another one)."""
    home = str(getattr(session, "region_name", "") or "")
    for partition in session.get_available_partitions():
        regions = list(session.get_available_regions(service, partition_name=partition))
        if home in regions:
            return sorted(regions)
    return sorted(session.get_available_regions(service))


def read_region(
    facts: Any, instance_type: str, count: int, vpc_room: Callable[[Any], dict[str, int]] | None
) -> RegionFacts:
    """Every read of one region; a failure is kept as a reason, never raised."""
    errors: dict[str, str] = {}
    quota = None
    found = True
    in_use: int | None = None
    zones: frozenset[str] | None = None
    offerings: list[dict[str, Any]] | None = None
    room: dict[str, int] | None = None
    name = instance_type_quota_name(instance_type)
    ec2_name = instance_type.removeprefix("ml.")
    searchable = instance_type in facts.training_plan_instance_types()
    # The three chains of reads run side by side: quota listings + usage, offered zones,
    # training-plan offerings (and the VPC); the region takes as long as the longest.
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix=f"{facts.region}") as pool:
        zones_job = pool.submit(facts.instance_type_offerings, (ec2_name,))
        offers_job = (
            pool.submit(facts.training_plan_offerings, instance_type, count)
            if searchable and count <= 256
            else None
        )
        room_job = pool.submit(vpc_room, facts) if vpc_room is not None else None
        facts.warm_sagemaker_quota_reads()  # listings and usage side by side
        try:
            quota = facts.sagemaker_quota(name)
            found = quota is not None
        except FactUnavailable as exc:
            errors["quota"] = _why(exc)
        try:
            in_use = int(facts.hyperpod_usage().instances_of(instance_type))
        except FactUnavailable as exc:
            errors["usage"] = _why(exc)
        try:
            zones = zones_job.result().get(ec2_name, frozenset())
        except FactUnavailable as exc:
            errors["zones"] = _why(exc)
        if not searchable:
            errors["offerings"] = f"training plans do not offer {instance_type}"
        elif offers_job is None:
            errors["offerings"] = "SearchTrainingPlanOfferings asks for at most 256 instances"
        else:
            try:
                offerings = offers_job.result()
            except FactUnavailable as exc:
                errors["offerings"] = _why(exc)
        if room_job is not None:
            try:
                room = room_job.result()
            except FactUnavailable as exc:
                errors["vpc"] = _why(exc)
            except RoomUnknown as exc:
                errors["vpc"] = str(exc)
    return RegionFacts(
        region=str(facts.region),
        quota_value=quota.limit if quota is not None else None,
        quota_source=quota.source if quota is not None else "",
        quota_code=quota.quota_code if quota is not None else "",
        quota_found=found,
        in_use=in_use,
        zones=zones,
        offerings=offerings,
        vpc_room=room,
        errors=errors,
    )


NOT_ENABLED_NOTE = " (the region may not be enabled for this account)"


def _why(exc: FactUnavailable) -> str:
    text = exc.describe()
    if any(code in exc.detail for code in NOT_ENABLED_CODES):
        text += NOT_ENABLED_NOTE
    return text


def _not_enabled(result: RegionCapacity) -> bool:
    """An unknown region whose reads were refused as a region the account has not enabled:
    nothing can run there now, whatever its quota."""
    return any(NOT_ENABLED_NOTE in reason for reason in result.reasons)


def vpc_room_reader(
    vpc_id: str, instance_type: str, count: int, orchestrator: str
) -> Callable[[Any], dict[str, int]]:
    """zone id → nodes of ``instance_type`` the best candidate subnet of ``vpc_id`` holds."""
    from .analysis.vpc_audit import AuditRequest, audit_vpc
    from .audit import read_inventory

    def read(facts: Any) -> dict[str, int]:
        inventory = read_inventory(facts, vpc_id, (instance_type,))
        if inventory.vpc is None and "vpc" not in inventory.unknown:
            return {}
        request = AuditRequest(
            instance_types=(instance_type,), nodes=count, orchestrator=orchestrator
        )
        blind = [f"{k}: {inventory.unknown[k]}" for k in ROOM_READS if k in inventory.unknown]
        if blind:
            raise RoomUnknown("; ".join(blind))
        room: dict[str, int] = {}
        unsure: list[str] = []
        for subnet in audit_vpc(inventory, request).subnets:
            held = subnet.nodes.get(instance_type, {}).get(orchestrator)
            if subnet.candidate and held is not None:
                room[subnet.zone_id] = max(room.get(subnet.zone_id, 0), held)
            elif subnet.candidate is None or (subnet.candidate and held is None):
                unsure.append(subnet.subnet_id)
        if unsure and not any(n >= count for n in room.values()):
            raise RoomUnknown(
                "could not tell how many nodes "
                + ", ".join(unsure)
                + " hold (its way out or free addresses)"
            )
        return room

    return read


def run_capacity_scan(
    instance_type: str,
    count: int,
    *,
    regions: Sequence[str] | str | None = None,
    orchestrator: str = "slurm",
    vpc: str | None = None,
    session: Any = None,
    profile: str | None = None,
    region: str | None = None,
    facts_for: Callable[[str], Any] | None = None,
    fail_on: str = "fail",
    retry_mode: str = "standard",
    max_attempts: int = 10,
    workers: int = MAX_REGION_WORKERS,
) -> Report:
    """Judge every region for ``count`` × ``instance_type``, concurrently; a report of kind
    ``capacity``. ``regions``: names, ``"all"`` (botocore's partition data), or None (the
    session's region). ``facts_for`` (tests, benchmarks) makes the facts of one region."""
    if fail_on not in ("fail", "warn", "unknown"):
        raise InputError(f"--fail-on {fail_on!r}: choose fail, warn or unknown")
    if count < 1:
        raise InputError(f"--count {count}: must be at least 1")
    itype = f"ml.{instance_type.removeprefix('ml.')}"
    started = time.perf_counter()
    account = None
    if facts_for is None:
        from .preflight import connect

        home = connect(
            session,
            profile=profile,
            region=region,
            retry_mode=retry_mode,
            max_attempts=max_attempts,
        )
        account, home_region, base = home.account, str(home.region), home.session
        names = _region_names(regions, base, home_region)

        def make(name: str) -> Any:
            if name == home_region:
                return home
            from .facts import AwsFacts

            return AwsFacts(base, region=name, retry_mode=retry_mode, max_attempts=max_attempts)

        facts_for = make
    else:
        home_region = region or ""
        names = _region_names(regions, None, home_region)
    per_region = [facts_for(name) for name in names]
    for facts in per_region:  # boto3 sessions are not thread-safe: clients made here
        for service in SERVICES:
            facts.client(service)
    room_of = vpc_room_reader(vpc, itype, count, orchestrator) if vpc else None

    def one(facts: Any) -> RegionCapacity:
        reader = (
            room_of
            if room_of is not None and str(facts.region) == (home_region or names[0])
            else None
        )
        return judge_region(read_region(facts, itype, count, reader), itype, count)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(per_region)))) as pool:
        results = rank(pool.map(one, per_region))
    scan = CapacityScan(
        instance_type=itype, count=count, orchestrator=orchestrator, regions=results
    )
    findings = capacity_findings(scan)
    return Report(
        tool_version=__version__,
        kind="capacity",
        target=f"{count} × {itype}",
        region=home_region or None,
        account=account,
        duration_s=round(time.perf_counter() - started, 3),
        api_calls=sum(int(getattr(f, "call_count", 0)) for f in per_region),
        results=findings,
        summary=summarize(findings, fail_on),  # type: ignore[arg-type]
        capacity=scan,
    )


def _region_names(regions: Sequence[str] | str | None, session: Any, home: str) -> list[str]:
    if regions is None or (not isinstance(regions, str) and not regions):
        if not home:
            raise InputError("capacity: no region: pass --region or --regions")
        return [home]
    if isinstance(regions, str):
        regions = [regions]
    if list(regions) == ["all"]:
        if session is None:
            raise InputError("--regions all needs an AWS session")
        return partition_regions(session)
    return list(dict.fromkeys(r.strip() for r in regions if r.strip()))


_STATUS = {
    "ready": (Status.PASS, "ready now"),
    "quota": (Status.WARN, "needs a quota increase"),
    "reservation": (Status.WARN, "needs a reservation (training plan)"),
    "unknown": (Status.UNKNOWN, "could not tell"),
}


def capacity_findings(scan: CapacityScan) -> list[Finding]:
    """One finding per region, then whether any region is ready now."""
    what = f"{scan.count} × {scan.instance_type}"
    out: list[Finding] = []
    for r in scan.regions:
        status, label = _STATUS[r.status]
        out.append(
            Finding(
                check_id="capacity.region",
                area="capacity",
                status=status,
                severity=Severity.HIGH,
                resource=r.region,
                message=f"{what} in {r.region}: {label}: " + "; ".join(r.reasons),
                remediation=r.command,
                details={"status": r.status, "headroom": r.headroom, "zones": r.zones_offered},
                title="The region can run the nodes now (quota, offered zones, reservations)",
            )
        )
    ready = [r.region for r in scan.regions if r.status == "ready"]
    known = [r for r in scan.regions if r.status != "unknown"]
    if ready:
        status, message, fix = Status.PASS, f"{what} can run now in {', '.join(ready)}", ""
    elif known:
        best = known[0]
        closest = f"closest: {best.region} ({best.status})"
        unread = [r.region for r in scan.regions if r.status == "unknown" and not _not_enabled(r)]
        if unread:  # a region that could not be read may be ready
            status = Status.UNKNOWN
            message = (
                f"no region read can run {what} now ({closest}); could not tell for "
                + ", ".join(unread)
            )
        else:
            status = Status.FAIL
            message = f"no region can run {what} now; {closest}"
        fix = best.command
    else:
        status, message, fix = (
            Status.UNKNOWN,
            f"could not tell for any region whether {what} can run",
            "",
        )
    out.append(
        Finding(
            check_id="capacity.anywhere",
            area="capacity",
            status=status,
            severity=Severity.HIGH,
            resource=scan.instance_type,
            message=message,
            remediation=fix,
            title="Some region can run the nodes now",
        )
    )
    return out
