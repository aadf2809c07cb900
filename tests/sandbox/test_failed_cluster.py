"""`hp-preflight demo --failed-cluster`: a failed cluster in the sandbox, diagnosed through
the normal pipeline; the pre-flight FAILs name the planted causes."""

from __future__ import annotations

import json

import pytest

from hyperpod_preflight.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_demo_failed_cluster_diagnoses_the_planted_defects(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(["demo", "--failed-cluster", "-q", "-o", "json"], capsys)
    assert code == 1, err
    report = json.loads(out)
    assert report["kind"] == "diagnose"
    found = {(f["check_id"], f["status"]) for f in report["results"]}
    # what only the live cluster has
    assert ("cluster.status", "FAIL") in found
    assert ("cluster.nodes", "FAIL") in found
    assert ("cluster.lifecycle-logs", "FAIL") in found
    # the pre-flight names the planted causes, with their fixes
    assert ("lifecycle.scripts", "FAIL") in found  # crlf-script
    # no-nat: a WARN (no HyperPod page requires interface endpoints; S3 has its endpoint)
    assert ("network.egress", "WARN") in found
    status = next(f for f in report["results"] if f["check_id"] == "cluster.status")
    assert "Lifecycle scripts did not run successfully" in status["message"]
    assert "lifecycle.scripts" in status["details"]["likely_causes"]
    logs = next(f for f in report["results"] if f["check_id"] == "cluster.lifecycle-logs")
    assert "command not found" in logs["message"]
    scripts = next(
        f
        for f in report["results"]
        if f["check_id"] == "lifecycle.scripts" and f["status"] == "FAIL"
    )
    assert scripts["remediation"]
    # nothing else fails: the planted defects are the only causes
    other = {c for c, s in found if s == "FAIL"} - {
        "cluster.status",
        "cluster.nodes",
        "cluster.lifecycle-logs",
        "lifecycle.scripts",
    }
    assert not other, other


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["diagnose", "--cluster", "bad name!"], "not a HyperPod cluster name"),
        (["diagnose"], "--cluster"),
    ],
)
def test_diagnose_bad_input_is_one_line_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_cli(args, capsys)
    assert code == 2
    assert needle in err and "Traceback" not in err
