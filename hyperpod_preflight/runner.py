"""The check engine: selects checks, runs them concurrently, isolates their errors, applies
--ignore and --fail-on, and builds the report.

A check that raises never crashes the run: a :class:`~hyperpod_preflight.errors.FactUnavailable`
becomes UNKNOWN naming the IAM action or the reason; any other exception is a defect of the
check and becomes UNKNOWN marked ``internal_error`` (with the exception type; the traceback is
logged to the ``hyperpod_preflight`` logger, which the CLI shows with HP_PREFLIGHT_DEBUG=1).
Outcomes a check yielded before it raised are kept. Every other check goes on.

The runner never prints. A caller that wants to show a long wait passes ``progress``: a
callable handed a :class:`Progress` at most once a second while checks are still running
(the first after a second, so a quick run sees none), then once with ``finished=True``.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, replace
from typing import Literal

from .errors import FactUnavailable, InputError
from .facts.local import LocalFacts
from .registry import (
    Check,
    CheckContext,
    HostContext,
    RunContext,
    all_checks,
    known_checks,
    load_for,
)
from .results import Finding, Outcome, Severity, Status, Summary
from .runs.gather import FactSources, Gatherer
from .workers import DaemonPool

__all__ = [
    "CheckContext",
    "HostContext",
    "Progress",
    "ProgressCallback",
    "RunContext",
    "Selection",
    "all_checks",
]

log = logging.getLogger("hyperpod_preflight")

FailOn = Literal["fail", "warn", "unknown"]
FAIL_LEVELS: dict[str, frozenset[Status]] = {
    "fail": frozenset({Status.FAIL}),
    "warn": frozenset({Status.FAIL, Status.WARN}),
    "unknown": frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN}),
}


@dataclass(frozen=True)
class Progress:
    """What a run is still waiting for: handed to a ``progress`` callback."""

    waiting: int  # checks not finished yet (running or queued)
    total: int  # checks in the run
    longest: str | None  # the id of the check that has been running longest
    longest_s: float  # for how long, in seconds
    finished: bool = False  # the last call: every check is done (or the deadline passed)


ProgressCallback = Callable[[Progress], None]
PROGRESS_INTERVAL_S = 1.0


@dataclass
class Selection:
    """Which checks run and how their results count (--only/--skip/--ignore/--fail-on)."""

    only: Sequence[str] = ()
    skip: Sequence[str] = ()
    ignore: Sequence[str] = ()
    fail_on: FailOn = "fail"
    concurrency: int = 16
    timeout_s: float | None = None  # the run deadline (--timeout); None: no deadline

    @property
    def ignore_all(self) -> bool:
        return "all" in self.ignore


def _validate_ids(ids: Iterable[str], known: Sequence[str], option: str) -> None:
    areas = {k.split(".", 1)[0] for k in known}
    for check_id in ids:
        if check_id == "all" and option == "--ignore":
            continue
        if check_id in known or check_id in areas:
            continue
        close = difflib.get_close_matches(check_id, list(known) + sorted(areas), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see hp-preflight list-checks"
        raise InputError(f"{option}: unknown check id {check_id!r}{hint}")


def _matches(check: Check, ids: Sequence[str]) -> bool:
    """A check matches its own id, or its area's name (``--skip quotas``)."""
    return check.check_id in ids or check.info.area in ids


def select_checks(kind: str, selection: Selection) -> list[Check]:
    """The checks of ``kind`` that ``selection`` runs; no check module is imported here
    (:func:`run_checks` imports those of the checks that will be judged)."""
    checks = known_checks(kind)
    known = [c.check_id for c in checks]
    _validate_ids(selection.only, known, "--only")
    _validate_ids(selection.skip, known, "--skip")
    _validate_ids(selection.ignore, known, "--ignore")
    chosen = [c for c in checks if not selection.only or _matches(c, selection.only)]
    return [c for c in chosen if not _matches(c, selection.skip)]


def _to_finding(check: Check, outcome: Outcome) -> Finding:
    return Finding(
        check_id=check.check_id,
        area=check.info.area,
        status=outcome.status,
        severity=outcome.severity or check.info.severity,
        resource=outcome.resource,
        message=outcome.message,
        remediation=outcome.remediation,
        details=outcome.details,
        internal_error=bool(outcome.details.get("internal_error", False)),
        title=check.info.title,
        docs_url=check.info.docs_url,
    )


def gather_and_judge(check: Check, ctx: RunContext, gatherer: Gatherer) -> list[Finding]:
    """Gather what ``check`` declares (waiting only for its own reads), then judge it with a
    view holding exactly that; a defect in its needs is an internal error like one in its
    judge."""
    if check.info.needs_aws and ctx.offline:
        return run_one(check, ctx)
    try:
        allowed = gatherer.gather_for(check, ctx)
    except FactUnavailable as exc:
        return [_to_finding(check, _unavailable(exc))]
    except Exception as exc:
        log.error("needs of %s raised %s", check.check_id, type(exc).__name__, exc_info=exc)
        return [_to_finding(check, _internal_error(exc))]
    view = gatherer.view(check.check_id, allowed)
    return run_one(check, dataclasses.replace(ctx, facts=view))


def gatherer_for(ctx: RunContext, selection: Selection | None = None) -> Gatherer:
    """The reads of one run: its AWS facts (None offline) and this machine's."""
    per_service = selection.concurrency if selection is not None else 16
    local = LocalFacts.from_options(ctx.options)
    return Gatherer(FactSources(aws=ctx.facts, local=local, per_service=per_service))


def run_one(check: Check, ctx: RunContext) -> list[Finding]:
    """Run one check's judge; what it raises becomes one UNKNOWN finding after the outcomes
    it had produced."""
    if check.info.needs_aws and ctx.offline:
        return [
            _to_finding(
                check,
                Outcome(
                    status=Status.SKIP,
                    resource="-",
                    message="needs AWS access; skipped with --offline",
                ),
            )
        ]
    outcomes: list[Outcome] = []
    try:
        for outcome in check.fn(ctx):
            outcomes.append(outcome)
    except FactUnavailable as exc:  # could not read: UNKNOWN naming the action
        outcomes.append(_unavailable(exc))
    except Exception as exc:  # a defect: never a traceback, never a FAIL, never hidden
        log.error("check %s raised %s", check.check_id, type(exc).__name__, exc_info=exc)
        outcomes.append(_internal_error(exc))
    if not outcomes:
        outcomes = [Outcome(status=Status.SKIP, resource="-", message="nothing to check")]
    return [_to_finding(check, o) for o in outcomes]


def _unavailable(exc: FactUnavailable) -> Outcome:
    return Outcome(
        status=Status.UNKNOWN,
        resource=str(getattr(exc, "resource", "") or "-"),
        message=f"could not tell: {exc.describe()}",
        remediation=exc.remediation,
        details={"action": exc.action, "reason": exc.reason},
    )


def _internal_error(exc: Exception) -> Outcome:
    text = " ".join(str(exc).split())
    return Outcome(
        status=Status.UNKNOWN,
        resource="-",
        message=(
            f"could not tell: internal error in this check ({type(exc).__name__}: {text}); "
            "please report it"
        )[:500],
        remediation="Run again with HP_PREFLIGHT_DEBUG=1 for the traceback and report it.",
        details={"internal_error": True, "error": type(exc).__name__},
    )


def apply_ignores(findings: list[Finding], selection: Selection) -> list[Finding]:
    """--ignore: a FAIL becomes a WARN marked ignored; it stays in the report."""
    out = []
    for f in findings:
        if f.status is Status.FAIL and (
            selection.ignore_all or f.check_id in selection.ignore or f.area in selection.ignore
        ):
            f = replace(
                f,
                status=Status.WARN,
                ignored=True,
                message=f"{f.message} [ignored: FAIL downgraded by --ignore]",
            )
        out.append(f)
    return out


def summarize(findings: Sequence[Finding], fail_on: FailOn) -> Summary:
    counts = Counter(f.status.value for f in findings)
    unknown_checks = {f.check_id for f in findings if f.status is Status.UNKNOWN}
    failing = FAIL_LEVELS[fail_on]
    exit_code = 1 if any(f.status in failing for f in findings) else 0
    return Summary(
        total=len(findings),
        by_status={s.value: counts.get(s.value, 0) for s in Status},
        exit_code=exit_code,
        fail_on=fail_on,
        internal_errors=sum(1 for f in findings if f.internal_error),
        complete=not unknown_checks,
        unknown_checks=len(unknown_checks),
    )


def run_checks(
    checks: Sequence[Check],
    ctx: RunContext,
    selection: Selection,
    *,
    deadline: float | None = None,
    progress: ProgressCallback | None = None,
    gatherer: Gatherer | None = None,
) -> list[Finding]:
    """Gather every selected check's facts at once and judge each as soon as its own reads
    are in, in stable order.

    Each check waits on its own daemon thread for its reads (queued per service, at most
    ``selection.concurrency`` at once per service), so one silent endpoint holds only the
    checks that read it. ``deadline`` (a ``time.monotonic()`` instant): a check still
    waiting then is one UNKNOWN "timed out after N s"; reads not started are cancelled, and
    threads still in a call are daemon threads that never keep the process alive.
    ``progress``: see the module docstring.
    """
    gatherer = gatherer or gatherer_for(ctx, selection)
    # Offline, a check that needs AWS is only reported as skipped, here: no thread, and its
    # module is never imported. The modules of the checks judged are imported before the
    # threads start.
    where = [i for i, c in enumerate(checks) if not (c.info.needs_aws and ctx.offline)]
    judged = load_for(checks[i] for i in where)
    if deadline is not None and time.monotonic() >= deadline:
        # The deadline passed before judging began (while the run was prepared): every check
        # is "timed out", none is started, so the verdicts never depend on a race.
        gatherer.close()
        done = {i: _timed_out(c, selection) for i, c in zip(where, judged, strict=True)}
    else:
        futures = _judge_on_threads(judged, ctx, gatherer, deadline, progress)
        done = {
            i: fut.result() if fut.done() and not fut.cancelled() else _timed_out(c, selection)
            for i, c, fut in zip(where, judged, futures, strict=True)
        }
    results = [done[i] if i in done else run_one(c, ctx) for i, c in enumerate(checks)]
    findings = [f for group in results for f in group]
    return apply_ignores(findings, selection)


def _judge_on_threads(
    checks: Sequence[Check],
    ctx: RunContext,
    gatherer: Gatherer,
    deadline: float | None,
    progress: ProgressCallback | None,
) -> list[Future[list[Finding]]]:
    """Each check gathered and judged on its own daemon thread, waited for until
    ``deadline``; the futures (those not done by then are cancelled or left running)."""
    started: dict[str, float] = {}  # check id → when its thread began

    def timed(check: Check) -> list[Finding]:
        started[check.check_id] = time.monotonic()
        return gather_and_judge(check, ctx, gatherer)

    try:
        with DaemonPool(max(1, len(checks)), name="check") as pool:
            futures: list[Future[list[Finding]]] = [pool.submit(timed, c) for c in checks]
            if progress is None:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                wait(futures, timeout=remaining)
            else:
                _wait_reporting(checks, futures, started, deadline, progress)
            pool.shutdown(cancel_pending=True)
    finally:
        gatherer.close()
    return futures


def _wait_reporting(
    checks: Sequence[Check],
    futures: Sequence[Future[list[Finding]]],
    started: dict[str, float],
    deadline: float | None,
    progress: ProgressCallback,
) -> None:
    """Wait for ``futures`` (until ``deadline``), telling ``progress`` what is still running
    at most once per :data:`PROGRESS_INTERVAL_S`."""
    total = len(futures)
    while True:
        now = time.monotonic()
        step = PROGRESS_INTERVAL_S
        if deadline is not None:
            step = min(step, max(0.0, deadline - now))
        _done, pending = wait(futures, timeout=step)
        now = time.monotonic()
        if not pending or (deadline is not None and now >= deadline):
            break
        running = [
            (started[c.check_id], c.check_id)
            for c, fut in zip(checks, futures, strict=True)
            if not fut.done() and c.check_id in started
        ]
        since, longest = min(running) if running else (now, None)
        progress(Progress(len(pending), total, longest, now - since))
    progress(Progress(0, total, None, 0.0, finished=True))


def _timed_out(check: Check, selection: Selection) -> list[Finding]:
    limit = f"{selection.timeout_s:g}" if selection.timeout_s is not None else "?"
    outcome = Outcome(
        status=Status.UNKNOWN,
        resource="-",
        message=f"could not tell: timed out after {limit} s (the run deadline, --timeout)",
        remediation="Run again with a larger --timeout, or check the network path to the "
        "AWS endpoints (proxy, VPC endpoints, throttling).",
        details={"reason": "timeout", "timeout_s": selection.timeout_s},
    )
    return [_to_finding(check, outcome)]


def worst(findings: Iterable[Finding]) -> Severity | None:
    failing = [f.severity for f in findings if f.status is Status.FAIL]
    return max(failing, key=lambda s: s.rank) if failing else None
