"""`hp-preflight --vpc vpc-…` without a config: the whole-VPC readiness audit, a run of kind
``vpc`` through the one run pipeline. Its findings are the registered ``vpc.*`` checks
(:mod:`hyperpod_preflight.checks.vpc`), so ``--only``/``--skip``/``--ignore`` select them;
the typed audit (tables, ranked fixes, a suggested ``VpcConfig``) is ``Report.vpc_audit``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .analysis.vpc_audit import DEFAULT_AUDIT_TYPES, AuditRequest, audit_vpc
from .analysis.vpc_inventory import inventory_from
from .errors import InputError
from .registry import Check, CheckContext
from .results import RunReport
from .runner import ProgressCallback, gatherer_for
from .runs import pipeline
from .runs.settings import VpcAuditRun, with_fields
from .spec import ClusterSpec

AUDIT_IDS = (
    "vpc.exists",
    "vpc.dns",
    "vpc.read",
    "vpc.subnet",
    "vpc.security-group",
    "vpc.placement",
)


def run_vpc_audit(
    vpc_id: str,
    settings: VpcAuditRun | None = None,
    *,
    progress: ProgressCallback | None = None,
    **fields: Any,
) -> RunReport:
    """Audit ``vpc_id`` as a home for ``nodes`` × each of ``instance_types``.

    ``settings`` (:class:`~hyperpod_preflight.runs.settings.VpcAuditRun`) or keyword
    ``fields`` (``instance_types=``, ``nodes=``, ``facts=``, ``skip=``, ``timeout_s=``...)."""
    run = with_fields(settings or VpcAuditRun(), fields)
    types = tuple(dict.fromkeys(f"ml.{t.removeprefix('ml.')}" for t in run.instance_types))
    request = AuditRequest(
        instance_types=types or DEFAULT_AUDIT_TYPES,
        nodes=run.nodes,
        orchestrator=run.orchestrator or "slurm",
        ip_headroom=run.ip_headroom,
        fsx=run.fsx,
    )
    selection = run.choice.selection()

    def prepare(checks: list[Check], deadline: float | None) -> pipeline.Prepared:
        from .planner import build_plan
        from .preflight import connect_with

        if run.offline:
            raise InputError(
                "--offline: the VPC audit (--vpc without --config) reads the VPC from AWS"
            )
        owns = run.aws.facts is None
        facts = connect_with(run.aws) if owns else run.aws.facts
        spec = ClusterSpec(name=vpc_id, vpc_id=vpc_id)
        ctx = CheckContext(
            spec=spec, plan=build_plan(spec), facts=facts, options={"audit": request}
        )
        gatherer = gatherer_for(ctx, selection)

        def finish(report: RunReport) -> RunReport:
            view = gatherer.view("vpc audit", gatherer.gathered())
            audit = audit_vpc(inventory_from(view, vpc_id, request), request)
            return replace(report, vpc_audit=audit)

        return pipeline.Prepared(
            ctx, target=f"{vpc_id} (from --vpc)", gatherer=gatherer, finish=finish, owns_facts=owns
        )

    return pipeline.run("vpc", selection, prepare, progress=progress)
