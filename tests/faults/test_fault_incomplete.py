"""A run where checks could not tell must not look healthy: the summary line says
INCOMPLETE and the JSON summary carries ``complete: false``; exit codes do not change."""

from __future__ import annotations

import json

from aws_world import Injector
from fault_kit import faulty_facts, html_page, small_spec

from hyperpod_preflight.preflight import run_cluster_preflight
from hyperpod_preflight.render import render_report, summary_line


def test_unknown_checks_make_the_run_incomplete() -> None:
    inj = Injector().always("DescribeSubnets", lambda _r: html_page())
    report = run_cluster_preflight(
        small_spec(), facts=faulty_facts(inj, max_attempts=1), only=["network"], timeout_s=30
    )
    unknown = {f.check_id for f in report.results if f.status.value == "UNKNOWN"}
    failing = [f for f in report.results if f.status.value == "FAIL"]
    assert len(unknown) >= 2 and not failing
    line = summary_line(report)
    assert line.startswith(f"INCOMPLETE: {len(unknown)} checks could not tell: ")
    assert not line.startswith("OK")
    summary = json.loads(render_report(report, "json"))["summary"]
    assert summary["complete"] is False and summary["unknown_checks"] == len(unknown)
    assert summary["exit_code"] == 0


def test_a_run_that_judged_everything_is_complete() -> None:
    report = run_cluster_preflight(small_spec(), only=["config"], offline=True)
    assert report.summary.complete and report.summary.unknown_checks == 0
    assert summary_line(report).startswith("OK: ")
    assert json.loads(render_report(report, "json"))["summary"]["complete"] is True
