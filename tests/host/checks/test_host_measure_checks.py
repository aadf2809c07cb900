"""host.* checks of hyperpod_preflight/host/checks/measure.py: host-to-device bandwidth and
DCGM's quick diagnostic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from host_check_support import (
    DCGM3,
    build_tree,
    checkpoint_host,
    nvml_from_capture,
    one,
    run,
    script,
)

from hyperpod_preflight.host import run_host_preflight
from hyperpod_preflight.models import Status


def test_bandwidth_skipped_plainly_without_torch_or_cupy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_gpu_frameworks(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in ("torch", "cupy"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gpu_frameworks)
    root = checkpoint_host(tmp_path)
    report = run(root, nvml_from_capture("h100"), profile="checkpoint", measure_bandwidth=True)
    finding = one(report, "host.h2d-bandwidth")
    assert finding.status is Status.SKIP
    assert "neither torch nor cupy is importable" in finding.message


def test_bandwidth_figures_are_judged_against_threshold_and_link_peak() -> None:
    from hyperpod_preflight.host.bandwidth import pcie_peak_gbps
    from hyperpod_preflight.host.checks.measure import h2d_bandwidth
    from hyperpod_preflight.host.models import BandwidthFacts, BandwidthResult, HostFacts
    from hyperpod_preflight.host.nvml import read_nvml
    from hyperpod_preflight.host.profiles import load_profile
    from hyperpod_preflight.registry import HostContext

    assert pcie_peak_gbps(5, 16) == pytest.approx(63.0, abs=0.1)
    facts = HostFacts(gpu=read_nvml(nvml_from_capture("h100")))
    facts.bandwidth = BandwidthFacts(
        backend="torch",
        results=[BandwidthResult(gpu_index=0, gbps=54.6, bytes_per_copy=1, copies=1)],
    )
    ctx = HostContext(host=facts, options={"profile": load_profile("checkpoint")})
    (outcome,) = h2d_bandwidth(ctx)
    assert outcome.status is Status.PASS
    assert "54.6 GB/s" in outcome.message and "87% of the PCIe Gen5 x16 peak" in outcome.message
    facts.bandwidth.results[0].gbps = 12.0
    (outcome,) = h2d_bandwidth(ctx)
    assert outcome.status is Status.FAIL and "below 25 GB/s" in outcome.message


def test_dcgm_findings_through_a_fake_dcgmi(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    (tmp_path / "diag.json").write_text(json.dumps(DCGM3))
    script(root, "/usr/bin/dcgmi", f"cat '{tmp_path}/diag.json'")
    report = run_host_preflight(
        root=str(root), nvml=nvml_from_capture("h100"), dcgm=True, only=["host.dcgm"]
    )
    by_resource = {f.resource: f for f in report.results}
    assert by_resource["dcgm Inforom"].status is Status.FAIL
    assert "Inforom for GPU 0 is corrupt" in by_resource["dcgm Inforom"].message
    assert by_resource["dcgm Persistence Mode"].status is Status.WARN
    assert by_resource["dcgm Denylist"].status is Status.PASS
    assert report.summary.exit_code == 1


def test_dcgm_absent_or_broken(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    report = run_host_preflight(root=str(root), nvml=None, dcgm=True, only=["host.dcgm"])
    (finding,) = report.results
    assert finding.status is Status.SKIP and "not installed" in finding.message
    script(
        root,
        "/usr/bin/dcgmi",
        "echo 'Error: unable to establish a connection to the specified host: localhost'; exit 255",
    )
    report = run_host_preflight(root=str(root), nvml=None, dcgm=True, only=["host.dcgm"])
    (finding,) = report.results
    assert finding.status is Status.UNKNOWN and "unable to establish" in finding.message
    report = run_host_preflight(root=str(root), nvml=None, only=["host.dcgm"])
    assert report.results[0].message.startswith("not run: pass --dcgm")
