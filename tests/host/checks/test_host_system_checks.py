"""host.* checks of hyperpod_preflight/host/checks/system.py on fixture trees: cgroup, kernel
and free disk space."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from host_check_support import (
    build_tree,
    deny_stat,
    findings,
    nvml_from_capture,
    one,
    p5e_node,
    p5e_nvml,
    run,
    workstation,
)

from hyperpod_preflight.models import Status


@pytest.mark.parametrize(
    ("node", "check_id", "expect_in_message"),
    [
        ({"cgroup_v2": False}, "host.cgroup-v2", "cgroup v1"),
        ({"kernel": "5.4.0-1103-aws"}, "host.kernel-version", "older than 5.15"),
    ],
)
def test_each_node_failure(
    tmp_path: Path, node: dict[str, Any], check_id: str, expect_in_message: str
) -> None:
    root = p5e_node(tmp_path, **node)
    report = run(root, p5e_nvml(), instance_type="ml.p5e.48xlarge")
    bad = [f for f in findings(report, check_id) if f.status in (Status.FAIL, Status.WARN)]
    assert bad and expect_in_message in bad[0].message, [f.message for f in bad]
    assert bad[0].remediation


def test_disk_free_default_path_missing_warns_explicit_missing_fails(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    report = run(root, nvml_from_capture("h100"))
    assert one(report, "host.disk-free").status is Status.WARN
    report = run(root, nvml_from_capture("h100"), paths=["/scratch"])
    assert one(report, "host.disk-free").status is Status.FAIL
    report = run(
        root, nvml_from_capture("h100"), paths=["/"], requires={"disk-free-gb": "1000000000"}
    )
    assert "below 1e+09 GB" in one(report, "host.disk-free").message


def test_cgroup_that_cannot_be_looked_at_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = workstation(tmp_path, cgroup_v2=False)
    deny_stat(monkeypatch, root / "sys/fs/cgroup")
    report = run(root, None, profile="checkpoint", only=["host.cgroup-v2"])
    assert one(report, "host.cgroup-v2").status is Status.UNKNOWN
