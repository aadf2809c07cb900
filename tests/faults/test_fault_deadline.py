"""The run deadline (--timeout): a hung endpoint turns the checks still waiting UNKNOWN
"timed out after N s", the report comes back on time, and the hung threads never keep the
process alive."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_world import Injector
from fault_kit import faulty_facts, small_spec

from hyperpod_preflight.preflight import run_cluster_preflight

HERE = Path(__file__).resolve().parent


@pytest.fixture
def hang() -> Iterator[threading.Event]:
    """An event that every hung call waits on; set at the end so the threads finish."""
    release = threading.Event()
    yield release
    release.set()


def test_hung_endpoint_checks_are_unknown_timed_out(hang: threading.Event) -> None:
    inj = Injector().always("DescribeSubnets", lambda _r: hang.wait())
    facts = faulty_facts(inj, max_attempts=1)
    started = time.monotonic()
    report = run_cluster_preflight(small_spec(), facts=facts, only=["network"], timeout_s=1)
    took = time.monotonic() - started
    assert took < 4, f"the report took {took:.1f} s with a 1 s deadline"
    subnet = [f for f in report.results if f.check_id == "network.subnet-exists"]
    assert [f.status.value for f in subnet] == ["UNKNOWN"]
    assert "timed out after 1 s" in subnet[0].message
    assert report.summary.exit_code == 0  # exit as usual: UNKNOWN is not a FAIL


def test_a_run_without_hangs_is_not_cut_short() -> None:
    inj = Injector()
    report = run_cluster_preflight(
        small_spec(), facts=faulty_facts(inj, max_attempts=1), only=["config"], timeout_s=30
    )
    assert report.results and not any("timed out" in f.message for f in report.results)


def test_hung_threads_do_not_keep_the_process_alive() -> None:
    script = textwrap.dedent(
        """
        import sys, threading
        sys.path[:0] = [{tests!r}, {faults!r}]
        from aws_world import Injector
        from fault_kit import faulty_facts, small_spec
        from hyperpod_preflight.preflight import run_cluster_preflight
        forever = threading.Event()
        inj = Injector().always("DescribeSubnets", lambda _r: forever.wait())
        inj.always("DescribeSecurityGroups", lambda _r: forever.wait())
        report = run_cluster_preflight(
            small_spec(), facts=faulty_facts(inj, max_attempts=1), timeout_s=1
        )
        print(sum("timed out after 1 s" in f.message for f in report.results))
        """
    ).format(tests=str(HERE.parent), faults=str(HERE))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) >= 2
    assert took < 30, f"the process lived {took:.1f} s after a 1 s deadline"
