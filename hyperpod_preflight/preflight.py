"""One account pre-flight run: validate the selection, open the AWS session (unless
offline), size the instance types from EC2, plan, run the checks, return the report.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import wait
from typing import Any

from .models import Report
from .registry import CheckContext
from .runner import FailOn, ProgressCallback, Selection, build_report, select_checks
from .spec import ClusterSpec
from .workers import DaemonPool

DEFAULT_TIMEOUT_S = 120.0


def run_cluster_preflight(
    spec: ClusterSpec,
    *,
    session: Any = None,
    facts: Any = None,
    profile: str | None = None,
    region: str | None = None,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str = "fail",
    offline: bool = False,
    ip_headroom: int = 1,
    concurrency: int = 16,
    retry_mode: str = "standard",
    max_attempts: int = 10,
    options: dict[str, Any] | None = None,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
    progress: ProgressCallback | None = None,
    quota_code_cache: bool = True,
) -> Report:
    """Run every selected cluster check of ``spec``.

    ``facts`` (an :class:`~hyperpod_preflight.facts.AwsFacts`) or ``session`` (a
    ``boto3.Session``) may be given; otherwise one session is made from ``profile`` and
    ``region``. Raises InputError for a bad selection and CannotRunError when AWS cannot be
    used at all, both before any check runs.

    ``timeout_s`` is the run deadline, counted from this call: checks still waiting then are
    UNKNOWN "timed out after N s" and the report is returned (None: no deadline).
    ``progress`` is told, at most once a second, which checks a long run still waits for
    (:class:`~hyperpod_preflight.runner.Progress`); nothing here prints.

    ``quota_code_cache``: read SageMaker quotas by the codes an earlier run learned (the
    per-user cache, see :mod:`hyperpod_preflight.facts.quotas`) and learn new ones; applies
    to the facts this call makes, not to ``facts`` handed in.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    if fail_on not in ("fail", "warn", "unknown"):
        from .errors import InputError

        raise InputError(f"--fail-on {fail_on!r}: choose fail, warn or unknown")
    fail_level: FailOn = fail_on  # type: ignore[assignment]
    selection = Selection(
        only=list(only),
        skip=list(skip),
        ignore=list(ignore),
        fail_on=fail_level,
        concurrency=concurrency,
        timeout_s=timeout_s,
    )
    started = time.perf_counter()
    # bad ids are bad input: exit 2 before any AWS call
    selected = select_checks("cluster", selection)
    if not selected:
        from .errors import InputError

        raise InputError(
            f"the selection is empty (--only {','.join(only) or 'all'} "
            f"--skip {','.join(skip) or 'none'}): no check would run"
        )

    if not offline and facts is None:
        facts = connect(
            session,
            profile=profile,
            region=region,
            retry_mode=retry_mode,
            max_attempts=max_attempts,
            quota_code_cache=quota_code_cache,
        )

    plan, notes = plan_with_live_types(
        spec, facts, ip_headroom, pool=DaemonPool(1, name="instance-types"), deadline=deadline
    )
    ctx = CheckContext(spec=spec, plan=plan, facts=facts, options=dict(options or {}))
    ctx.options.setdefault("ip_headroom", ip_headroom)
    ctx.options.setdefault("run_tool", _local_tool_runner())
    report = build_report(
        "cluster",
        ctx,
        selection,
        target=spec.name,
        facts_summary={"plan": plan.model_dump(mode="json"), "notes": notes},
        deadline=deadline,
        progress=progress,
    )
    # the whole run: identity check, instance types and warm-up included, not the checks alone
    return report.model_copy(update={"duration_s": round(time.perf_counter() - started, 3)})


def _local_tool_runner() -> Any:
    """``bash -n`` / ``shellcheck`` for the lifecycle lint, run on this machine."""
    from .lifecycle_local import default_run_tool

    return default_run_tool


def connect(
    session: Any = None,
    *,
    profile: str | None = None,
    region: str | None = None,
    retry_mode: str = "standard",
    max_attempts: int = 10,
    quota_code_cache: bool = False,
) -> Any:
    """An :class:`~hyperpod_preflight.facts.AwsFacts` for one run, its identity verified
    (``CannotRunError`` when there are no credentials or the endpoint cannot be reached)."""
    from .facts import AwsFacts

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
    facts: Any,
    ip_headroom: int,
    *,
    pool: DaemonPool | None = None,
    deadline: float | None = None,
) -> tuple[Any, list[str]]:
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
                done, _ = wait([fut], timeout=max(0.0, deadline - time.monotonic()))
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
