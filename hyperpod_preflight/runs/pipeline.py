"""The one run pipeline every kind of run goes through (``check``, the VPC audit, ``host``,
the sandbox's check): select the checks once (``--only``/``--skip``/``--ignore`` validated
there), let the kind prepare its context (open AWS, plan, read the node), gather every
selected check's facts at once and judge each, apply ``--ignore`` and ``--fail-on``, and
build one report, timed once from the start of the run.

A kind of run is an input to this module, not a copy of it: it hands :func:`run` a
:class:`Preparation` (how to make its context once the checks are known) and gets a
:class:`~hyperpod_preflight.models.Report` back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .. import __version__
from ..errors import InputError
from ..registry import Check, RunContext
from ..results import RunReport
from ..runner import ProgressCallback, Selection, run_checks, select_checks, summarize
from .gather import Gatherer


@dataclass
class Prepared:
    """What a kind of run made ready: the checks' context, the gatherer (None: made from the
    context), and what its report says beyond the findings."""

    ctx: RunContext
    target: str = ""
    gatherer: Gatherer | None = None
    facts_summary: dict[str, Any] = field(default_factory=dict)
    finish: Callable[[RunReport], RunReport] | None = None  # adds the kind's own report fields
    owns_facts: bool = False  # the run made its facts: closed when it ends


# Given the selected checks and the run's deadline (``time.monotonic()``, None: none).
Prepare = Callable[[list[Check], float | None], Prepared]


def run(
    kind: str,
    selection: Selection,
    prepare: Prepare,
    *,
    progress: ProgressCallback | None = None,
) -> RunReport:
    """Select → prepare → gather and judge → summarize → report, timed once."""
    started = time.perf_counter()
    deadline = None if selection.timeout_s is None else time.monotonic() + selection.timeout_s
    checks = select_checks(kind, selection)  # bad ids: exit 2 before any AWS call
    if not checks:
        raise InputError(
            f"the selection is empty (--only {','.join(selection.only) or 'all'} "
            f"--skip {','.join(selection.skip) or 'none'}): no check would run"
        )
    prepared = prepare(checks, deadline)
    try:
        findings = run_checks(
            checks,
            prepared.ctx,
            selection,
            deadline=deadline,
            progress=progress,
            gatherer=prepared.gatherer,
        )
    finally:
        if prepared.owns_facts:  # nothing this run started may reach an endpoint after it
            close = getattr(prepared.ctx.facts, "close", None)
            if close is not None:
                close()
    facts = prepared.ctx.facts
    report = RunReport(
        tool_version=__version__,
        kind=kind,
        target=prepared.target,
        region=getattr(facts, "region", None),
        account=getattr(facts, "account", None),
        duration_s=0.0,
        api_calls=getattr(facts, "call_count", None),
        results=findings,
        summary=summarize(findings, selection.fail_on),
        facts=prepared.facts_summary,
    )
    if prepared.finish is not None:
        report = prepared.finish(report)
    return replace(report, duration_s=round(time.perf_counter() - started, 3))
