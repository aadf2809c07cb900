"""One account pre-flight run: validate the selection, open the AWS session (unless
offline), size the instance types from EC2, plan, run the checks, return the report.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, wait
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .planner import build_plan
from .registry import Check, CheckContext
from .results import RunReport, jsonable
from .runner import ProgressCallback, gatherer_for, summarize
from .runs import pipeline
from .runs.settings import DEFAULT_TIMEOUT_S, AwsAccess, ClusterRun, with_fields
from .spec import ClusterSpec
from .spec.trace import trace_findings
from .workers import DaemonPool

if TYPE_CHECKING:
    from boto3 import Session

    from .facts.aws import AwsFacts
    from .planner import ClusterPlan

__all__ = ["DEFAULT_TIMEOUT_S", "connect", "plan_with_live_types", "run_cluster_preflight"]


def run_cluster_preflight(
    spec: ClusterSpec,
    settings: ClusterRun | None = None,
    *,
    progress: ProgressCallback | None = None,
    **fields: Any,
) -> RunReport:
    """Run every selected cluster check of ``spec`` through the run pipeline.

    ``settings`` (:class:`~hyperpod_preflight.runs.settings.ClusterRun`): AWS access
    (facts, a session, or profile and region), the selection and its deadline, offline, IP
    headroom and the checks' options; keyword ``fields`` override it (``only=[...]``,
    ``facts=...``, ``timeout_s=...``). Raises InputError for a bad selection and
    CannotRunError when AWS cannot be used at all, both before any check runs.

    ``timeout_s`` is the run deadline, counted from this call: checks still waiting then are
    UNKNOWN "timed out after N s" and the report is returned (None: no deadline).
    ``progress`` is told, at most once a second, which checks a long run still waits for
    (:class:`~hyperpod_preflight.runner.Progress`); nothing here prints.

    ``quota_code_cache``: read SageMaker quotas by the codes an earlier run learned (the
    per-user cache, see :mod:`hyperpod_preflight.facts.quotas`) and learn new ones; applies
    to the facts this call makes, not to ``facts`` handed in.

    ``kind``: ``cluster`` (a config before creation) or ``diagnose`` (a live cluster: the
    ``cluster.*`` checks run too).
    """
    run = with_fields(settings or ClusterRun(), fields)
    selection = run.choice.selection()

    def prepare(checks: list[Check], deadline: float | None) -> pipeline.Prepared:
        facts = run.aws.facts
        owns = not run.offline and facts is None
        identity: Future[Any] | None = None
        if owns:  # the identity verified while the checks' first reads are worked out
            facts = open_facts(run.aws)
            identity = DaemonPool(1, name="identity").submit(facts.verify_identity)
        ctx = CheckContext(
            spec=spec, plan=build_plan(spec), facts=facts, options=dict(run.options or {})
        )
        ctx.options.setdefault("ip_headroom", run.ip_headroom)
        ctx.options.setdefault("run_tool", _local_tool_runner())
        gatherer = gatherer_for(ctx, selection)
        # The first reads that need no account go out beside GetCallerIdentity.
        gatherer.get_ready(checks, ctx, early=identity is not None)
        if identity is not None and facts is not None:
            try:
                identity.result()  # CannotRunError (exit 3): nothing else is read
            except BaseException:
                gatherer.close()
                facts.close()
                raise
        # What needs no live instance-type figures starts beside DescribeInstanceTypes.
        gatherer.prime(checks, ctx, deadline=deadline)
        plan, notes = plan_with_live_types(
            spec,
            facts,
            run.ip_headroom,
            pool=DaemonPool(1, name="instance-types"),
            deadline=deadline,
        )
        return pipeline.Prepared(
            replace(ctx, plan=plan),
            target=spec.name,
            gatherer=gatherer,
            facts_summary={"plan": jsonable(plan), "notes": notes},
            owns_facts=owns,
        )

    report = pipeline.run(run.kind, selection, prepare, progress=progress)
    # Findings point into the file the user wrote; values left to deploy time are SKIPs.
    traced = trace_findings(report.results, spec)
    if traced is not report.results:
        summary = summarize(traced, selection.fail_on)
        report = replace(report, results=traced, summary=summary)
    return report


def connect_with(aws: AwsAccess) -> AwsFacts:
    """The facts of ``aws``'s session (or profile and region), identity verified."""
    facts = open_facts(aws)
    facts.verify_identity()
    return facts


def open_facts(aws: AwsAccess) -> AwsFacts:
    """The facts of ``aws``'s session (or profile and region), identity not verified yet
    (``verify_identity`` is then the first call)."""
    from .facts.aws import AwsFacts

    return AwsFacts(
        aws.session,
        profile=aws.profile,
        region=aws.region,
        retry_mode=aws.retry_mode,
        max_attempts=aws.max_attempts,
        quota_code_cache=aws.quota_code_cache,
    )


def _local_tool_runner() -> Any:
    """``bash -n`` / ``shellcheck`` for the lifecycle lint, run on this machine."""
    from .lifecycle_local import default_run_tool

    return default_run_tool


def connect(
    session: Session | None = None,
    *,
    profile: str | None = None,
    region: str | None = None,
    retry_mode: str = "standard",
    max_attempts: int = 10,
    quota_code_cache: bool = False,
) -> AwsFacts:
    """An :class:`~hyperpod_preflight.facts.AwsFacts` for one run, its identity verified
    (``CannotRunError`` when there are no credentials or the endpoint cannot be reached)."""
    from .facts.aws import AwsFacts

    facts = AwsFacts(
        session,
        profile=profile,
        region=region,
        retry_mode=retry_mode,
        max_attempts=max_attempts,
        quota_code_cache=quota_code_cache,
    )
    facts.verify_identity()
    return facts


def plan_with_live_types(
    spec: ClusterSpec,
    facts: AwsFacts | None,
    ip_headroom: int,
    *,
    pool: DaemonPool | None = None,
    deadline: float | None = None,
) -> tuple[ClusterPlan, list[str]]:
    """Plan with EC2's own instance-type figures when AWS is reachable, else the catalog
    (also when ``DescribeInstanceTypes`` has not answered by ``deadline``, read on ``pool``)."""
    from .catalog import from_ec2_description
    from .planner import build_plan

    notes: list[str] = []
    live: dict[str, Any] | None = None
    names = tuple(dict.fromkeys(t for g in spec.instance_groups for t in g.ec2_types))
    if facts is not None and names:
        from .facts import FactUnavailable

        try:
            if pool is None or deadline is None:
                described = facts.instance_types(names)
            else:
                fut = pool.submit(facts.instance_types, names)
                # At most half of the time left: a silent EC2 must not hold the checks of
                # every other service (they are judged on the catalog's figures instead).
                done, _ = wait([fut], timeout=max(0.0, deadline - time.monotonic()) / 2)
                if not done:
                    notes.append(
                        "instance types sized from the built-in catalog: "
                        "ec2:DescribeInstanceTypes did not answer before the run deadline"
                    )
                described = fut.result() if done else {}
        except FactUnavailable as exc:
            notes.append(f"instance types sized from the built-in catalog: {exc.describe()}")
            described = {}
        live = {}
        for name, description in described.items():
            try:
                live[name] = from_ec2_description(description)
            except ValueError as exc:  # a partial answer: that type falls back to the catalog
                notes.append(f"{name} sized from the built-in catalog: {exc}")
    return build_plan(spec, ip_headroom=ip_headroom, instance_types=live), notes
