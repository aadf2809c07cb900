"""The runner's progress callback: told at most once a second what a long run still waits
for, told nothing else on a quick run, and told once that the run is finished."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable

from hyperpod_preflight.models import CheckInfo, Outcome, Severity, passed
from hyperpod_preflight.registry import Check
from hyperpod_preflight.runner import (
    CheckContext,
    Progress,
    RunContext,
    Selection,
    run_checks,
)


def make_check(check_id: str, fn: Callable[[CheckContext], Iterable[Outcome]]) -> Check:
    info = CheckInfo(
        check_id=check_id, area="network", title=check_id, severity=Severity.HIGH, needs_aws=False
    )
    return Check(info=info, fn=fn)


def sleeping(seconds: float) -> Callable[[CheckContext], list[Outcome]]:
    def fn(ctx: CheckContext) -> list[Outcome]:
        time.sleep(seconds)
        return [passed("vpc-1", "slow but fine")]

    return fn


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[float, Progress]] = []
        self.threads: set[str] = set()

    def __call__(self, progress: Progress) -> None:
        self.calls.append((time.monotonic(), progress))
        self.threads.add(threading.current_thread().name)

    @property
    def waits(self) -> list[Progress]:
        return [p for _, p in self.calls if not p.finished]


def test_a_slow_check_is_reported_at_most_once_a_second() -> None:
    checks = [
        make_check("network.fast", lambda ctx: [passed("vpc-1", "fine")]),
        make_check("network.slow", sleeping(2.6)),
    ]
    record = Recorder()
    started = time.monotonic()
    findings = run_checks(checks, RunContext(), Selection(), progress=record)
    assert [f.check_id for f in findings] == ["network.fast", "network.slow"]
    waits = record.waits
    assert 1 <= len(waits) <= 3
    assert all(p.waiting == 1 and p.total == 2 and p.longest == "network.slow" for p in waits)
    assert waits[0].longest_s >= 0.9 and waits[-1].longest_s > waits[0].longest_s
    times = [t for t, p in record.calls if not p.finished]
    assert times[0] - started >= 0.9  # nothing during the first second
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(times))
    assert record.calls[-1][1].finished and len(record.calls) == len(waits) + 1
    # the callback runs on the caller's thread, not in a check's worker
    assert record.threads == {threading.current_thread().name}


def test_a_quick_run_reports_only_that_it_finished() -> None:
    checks = [make_check(f"network.c{i}", lambda ctx: [passed("vpc-1", "ok")]) for i in range(5)]
    record = Recorder()
    run_checks(checks, RunContext(), Selection(concurrency=1), progress=record)
    assert [p.finished for _, p in record.calls] == [True]


def test_progress_stops_at_the_deadline() -> None:
    checks = [make_check("network.stuck", sleeping(6))]
    record = Recorder()
    started = time.monotonic()
    findings = run_checks(
        checks,
        RunContext(),
        Selection(timeout_s=1.5),
        deadline=started + 1.5,
        progress=record,
    )
    assert time.monotonic() - started < 3
    assert findings[0].details.get("reason") == "timeout"
    assert record.calls[-1][1].finished and len(record.waits) <= 2
