"""`hp-preflight capacity`: where ``count`` × an ``ml.`` type can run, across regions, a run
of kind ``capacity`` through the one run pipeline.

Its findings are the registered checks ``capacity.region`` and ``capacity.anywhere``
(:mod:`hyperpod_preflight.checks.capacity_regions`), so ``--only``/``--skip``/``--ignore``/
``--fail-on``/``--timeout`` apply as in every run. This module is only the input: it opens
one :class:`~hyperpod_preflight.facts.AwsFacts` per region (one session, clients made before
any thread starts) behind one reader of several regions
(:class:`~hyperpod_preflight.facts.regions.RegionalFacts`), and adds the ranked scan
(``Report.capacity``) to the report. The gatherer reads every region's requests at once,
so the wall time stays near the slowest region rather than the sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .analysis.capacity_scan import NOT_ENABLED_NOTE, CapacityRequest, every_read, scan_of
from .errors import InputError
from .planner import build_plan
from .registry import Check, CheckContext, need
from .results import RunReport
from .runner import ProgressCallback
from .runs import pipeline
from .runs.gather import FactSources, Gatherer
from .runs.settings import CapacityRun, with_fields
from .spec import ClusterSpec

if TYPE_CHECKING:
    from boto3 import Session

    from .facts.aws import AwsFacts
    from .facts.regions import RegionalFacts

__all__ = ["NOT_ENABLED_NOTE", "partition_regions", "run_capacity_scan"]

MAX_REGION_WORKERS = 8
READS_PER_REGION = 4  # a region's first reads, side by side: quota, usage, zones, model
FactsFor = Callable[[str], "AwsFacts"]


def partition_regions(session: Session, service: str = "sagemaker") -> list[str]:
    """Every region botocore's partition data lists for ``service`` in the session's
    partition (``aws`` unless the session's region is in another one)."""
    home = str(getattr(session, "region_name", "") or "")
    for partition in session.get_available_partitions():
        regions = list(session.get_available_regions(service, partition_name=partition))
        if home in regions:
            return sorted(regions)
    return sorted(session.get_available_regions(service))


def run_capacity_scan(
    instance_type: str,
    count: int,
    settings: CapacityRun | None = None,
    *,
    facts_for: FactsFor | None = None,
    progress: ProgressCallback | None = None,
    **fields: Any,
) -> RunReport:
    """Judge every region for ``count`` × ``instance_type``; a report of kind ``capacity``.

    ``settings`` (:class:`~hyperpod_preflight.runs.settings.CapacityRun`) or keyword
    ``fields`` (``regions=``, ``vpc=``, ``skip=``, ``timeout_s=``, ``session=``...).
    ``facts_for`` (tests, benchmarks) makes the facts of one region."""
    run = with_fields(settings or CapacityRun(), fields)
    selection = run.choice.selection()
    if count < 1:
        raise InputError(f"--count {count}: must be at least 1")
    itype = f"ml.{instance_type.removeprefix('ml.')}"

    def prepare(checks: list[Check], deadline: float | None) -> pipeline.Prepared:
        regional, names = _open_regions(run, facts_for)
        request = CapacityRequest(
            instance_type=itype,
            count=count,
            regions=tuple(names),
            home=regional.region or "",
            orchestrator=run.orchestrator,
            vpc=run.vpc,
        )
        return _prepared(run, request, regional, owns=facts_for is None)

    return pipeline.run("capacity", selection, prepare, progress=progress)


def _prepared(
    run: CapacityRun, request: CapacityRequest, regional: RegionalFacts, *, owns: bool
) -> pipeline.Prepared:
    """The scan's context and gatherer; its report gains the ranked scan."""
    spec = ClusterSpec(name=f"capacity-{request.instance_type.removeprefix('ml.')}")
    ctx = CheckContext(
        spec=spec, plan=build_plan(spec), facts=regional, options={"capacity": request}
    )
    per_queue = max(1, run.workers) * READS_PER_REGION
    gatherer = Gatherer(FactSources(aws=regional, per_service=per_queue))

    def finish(report: RunReport) -> RunReport:
        return replace(report, capacity=scan_of(gathered(gatherer, request), request))

    return pipeline.Prepared(
        ctx,
        target=f"{request.count} × {request.instance_type}",
        gatherer=gatherer,
        finish=finish,
        owns_facts=owns,
    )


def gathered(gatherer: Gatherer, request: CapacityRequest) -> Any:
    """A view of every read the scan may ask, as the run left them (the gatherer is closed
    by then: a read the run never started answers "not read: the run ended first")."""
    wanted = [
        need("in_region", region, reader, *args) for region, reader, args in every_read(request)
    ]
    for asked in wanted:
        gatherer.read(asked)
    return gatherer.view("capacity scan", [asked.key for asked in wanted])


def _open_regions(run: CapacityRun, facts_for: FactsFor | None) -> tuple[RegionalFacts, list[str]]:
    """The facts of every region asked (the home region's identity verified first)."""
    from .facts.regions import RegionalFacts

    if facts_for is not None:
        home_region = run.aws.region or ""
        names = _region_names(run.regions, None, home_region)
        by_region = {name: facts_for(name) for name in names}
        return RegionalFacts(by_region, home_region=home_region or None), names
    from .facts.aws import AwsFacts
    from .preflight import connect_with

    home = connect_with(run.aws)
    names = _region_names(run.regions, home.session, str(home.region))

    def make(name: str) -> AwsFacts:
        if name == home.region:
            return home
        aws = run.aws
        return AwsFacts(
            home.session, region=name, retry_mode=aws.retry_mode, max_attempts=aws.max_attempts
        )

    return RegionalFacts({name: make(name) for name in names}, home), names


def _region_names(
    regions: Sequence[str] | str | None, session: Session | None, home: str
) -> list[str]:
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
