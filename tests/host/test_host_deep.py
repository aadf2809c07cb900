"""The --deep readers and runners of hyperpod_preflight/host/deep/: the Xid parser and the
kernel-log fallbacks, the measurement entry point without torch, the bounded NCCL launcher
(with fake interpreters), and the CLI options."""

from __future__ import annotations

import builtins
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from host_dcgm_samples import DCGM3
from host_fixture_trees import build_tree, nvml_from_capture, script, write

from hyperpod_preflight.cli.host import host as host_cli
from hyperpod_preflight.host import run_host_preflight
from hyperpod_preflight.host.commands import run_command
from hyperpod_preflight.host.deep.measure import Budget, run_deep, run_nccl
from hyperpod_preflight.host.deep.xid import classify, parse_xids, read_xids
from hyperpod_preflight.host.models import GpuInfo, ToolInfo
from hyperpod_preflight.models import Status

XID = Path(__file__).resolve().parent / "fixtures" / "xid"


def test_parser_reads_every_xid_form_and_counts_repeats() -> None:
    lines = (XID / "kmsg.txt").read_text().splitlines()
    events = {(e.xid, e.pci_bus_id): e for e in parse_xids([ln.split(";", 1)[-1] for ln in lines])}
    app = events[(13, "0000:00:06.0")]
    assert app.count == 2 and app.action == "none"
    assert app.text.startswith("pid=4321, name=python3, Graphics Exception")  # the last one
    assert events[(63, "0000:00:07.0")].action == "reset-gpu"
    assert events[(79, "0000:00:08.0")].action == "reboot-node"
    assert events[(154, "0000:00:09.0")].action == "reboot-node"
    assert events[(64, "0000:00:0a.0")].action == "replace-node"
    assert events[(999, "0000:00:0b.0")].action == "unknown"
    assert parse_xids(["NVRM: loading NVIDIA UNIX Open Kernel Module", "usb 1-1: new"]) == []


def test_xid_154_takes_the_drivers_own_recovery_action() -> None:
    assert (
        classify(154, "GPU recovery action changed from 0x0 (None) to 0x1 (GPU Reset Required)")[1]
        == "reset-gpu"
    )
    assert (
        classify(154, "GPU recovery action changed from 0x1 (GPU Reset Required) to 0x0 (None)")[1]
        == "none"
    )
    assert classify(48, "DBE")[1] == "reset-gpu"


def test_kmsg_of_the_tree_is_read_record_by_record(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    write(root, "/dev/kmsg", (XID / "kmsg.txt").read_text())
    facts = read_xids(root, {}, run_command)
    assert facts.source == "/dev/kmsg" and facts.error is None
    assert sorted(e.xid for e in facts.events) == [13, 63, 64, 79, 154, 999]


def test_without_kmsg_dmesg_then_journalctl_else_unknown_with_reasons(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    dmesg = script(root, "/usr/bin/dmesg", f"cat '{XID / 'dmesg.txt'}'")
    facts = read_xids(root, {"dmesg": ToolInfo(name="dmesg", path=str(dmesg))}, run_command)
    assert facts.source == "dmesg" and [e.xid for e in facts.events] == [63]
    denied = script(
        root,
        "/usr/bin/dmesg",
        "echo 'dmesg: read kernel buffer failed: Operation not permitted' >&2; exit 1",
    )
    journal = script(root, "/usr/bin/journalctl", f"cat '{XID / 'dmesg.txt'}'")
    tools = {
        "dmesg": ToolInfo(name="dmesg", path=str(denied)),
        "journalctl": ToolInfo(name="journalctl", path=str(journal)),
    }
    assert read_xids(root, tools, run_command).source == "journalctl -k"
    facts = read_xids(root, {"dmesg": ToolInfo(name="dmesg", path=str(denied))}, run_command)
    assert facts.source is None
    assert facts.error is not None
    assert "/dev/kmsg: absent" in facts.error and "Operation not permitted" in facts.error
    assert "journalctl -k: not found" in facts.error


def test_unreadable_kmsg_is_named(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads a mode-000 file")
    root = build_tree(tmp_path)
    kmsg = write(root, "/dev/kmsg", "x")
    kmsg.chmod(0)
    facts = read_xids(root, {}, run_command)
    assert facts.error is not None and "permission denied (needs root" in facts.error


def test_measurements_skip_plainly_without_torch_or_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_gpu_frameworks(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in ("torch", "cupy"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gpu_frameworks)
    lines: list[str] = []
    facts = run_deep([GpuInfo(index=0, name="NVIDIA H200")], [], budget_s=5, progress=lines.append)
    assert facts.reason is not None and "pip install torch" in facts.reason
    assert facts.gpus[0].matmul_tflops == {}
    assert [s.name for s in facts.steps] == ["import torch/cupy and start CUDA"]
    assert any("start CUDA: ran" in line for line in lines)


def test_the_measurement_module_imports_no_gpu_framework() -> None:
    import subprocess

    code = (
        "import sys, hyperpod_preflight.host.deep.measure, hyperpod_preflight.host.checks; "
        "print(sorted(m for m in ('torch', 'cupy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def fake_python(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-python"
    path.write_text(f"#!{sys.executable}\nimport sys, time, json\nargs = sys.argv[3:]\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_nccl_ranks_are_killed_at_the_deadline(tmp_path: Path) -> None:
    import time

    python = fake_python(tmp_path, "time.sleep(60)")
    started = time.perf_counter()
    result = run_nccl([0, 1], Budget(1.5), python=python)
    assert time.perf_counter() - started < 10
    assert result.busbw_gbps is None
    assert result.error is not None and result.error.startswith("did not finish within")


def test_nccl_rank_failures_and_results(tmp_path: Path) -> None:
    python = fake_python(
        tmp_path, "print('NCCL error: unhandled system error', file=sys.stderr); sys.exit(1)"
    )
    result = run_nccl([0, 1], Budget(20), python=python)
    assert result.error is not None and "rank 0 exited 1: NCCL error: unhandled" in result.error
    python = fake_python(
        tmp_path,
        "out = args[args.index('--out') + 1]\n"
        "rank = args[args.index('--rank') + 1]\n"
        "if rank == '0': json.dump({'algbw_gbps': 200.0, 'busbw_gbps': 350.0, "
        "'nccl_version': '2.21.5'}, open(out, 'w'))",
    )
    result = run_nccl([0, 1, 2, 3], Budget(20), python=python)
    assert (result.busbw_gbps, result.nccl_version, result.error) == (350.0, "2.21.5", None)


def test_budget_shares_never_exceed_what_is_left() -> None:
    now = [0.0]
    budget = Budget(60, clock=lambda: now[0])
    assert budget.share(0.12, 6.0) == 6.0
    now[0] = 58.0
    assert budget.share(0.12, 6.0) == 2.0
    now[0] = 70.0
    assert budget.share(0.12, 6.0) == 0.25  # the floor: a step that starts measures something


def test_cli_deep_on_a_captured_tree(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    write(root, "/dev/kmsg", (XID / "kmsg.txt").read_text())
    result = CliRunner().invoke(
        host_cli, ["--root", str(root), "--deep", "--deep-seconds", "5", "-o", "json"]
    )
    report = json.loads(result.stdout)
    deep = report["facts"]["deep"]
    assert deep["budget_s"] == 5.0 and "a captured tree" in deep["reason"]
    statuses = {f["check_id"]: f["status"] for f in report["results"]}
    assert statuses["host.deep-matmul"] == "SKIP"
    assert statuses["host.deep-xid"] in ("FAIL", "WARN")
    assert result.exit_code == 1  # Xid 79 and 64 in the log: reboot/replace


def test_cli_rejects_a_bad_budget_or_level(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    for argv in (["--deep-seconds", "0"], ["--dcgm-level", "4"]):
        result = CliRunner().invoke(host_cli, ["--root", str(root), *argv])
        assert result.exit_code == 2, result.output


def test_dcgm_level_runs_that_level(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    (tmp_path / "diag.json").write_text(json.dumps(DCGM3))
    script(root, "/usr/bin/dcgmi", f"echo \"$@\" > '{tmp_path}/argv'; cat '{tmp_path}/diag.json'")
    report = run_host_preflight(
        root=str(root), nvml=nvml_from_capture("h100"), dcgm_level=2, only=["host.dcgm"]
    )
    assert (tmp_path / "argv").read_text().split() == ["diag", "-r", "2", "-j"]
    failing = [f for f in report.results if f.status is Status.FAIL]
    assert failing and "dcgmi diag -r 2 -v" in failing[0].remediation


def _deep_report(folder: Path, node: str, **figures: Any) -> None:
    """The report written on the real H100, renamed, with --deep figures of 8 GPUs."""
    report = json.loads((XID.parent / "h100" / "hp_preflight_host_p5.json").read_text())
    report["target"] = node
    deep = json.loads((XID.parent / "h200" / "deep.json").read_text())
    gpu = deep["gpus"][0]
    deep["gpus"] = [dict(gpu, index=i) for i in range(8)]
    for key, value in figures.items():
        if key == "kernel":
            report["facts"]["kernel_release"] = value
        elif key == "nccl":
            deep["nccl"] = {"gpus": 8, "busbw_gbps": value, "nccl_version": "2.21.5"}
        else:
            deep["gpus"][2][key] = value
    deep.setdefault("nccl", {"gpus": 8, "busbw_gbps": 360.0, "nccl_version": "2.21.5"})
    deep["backend_version"] = "2.5.1"
    report["facts"]["deep"] = deep
    (folder / f"{node}.json").write_text(json.dumps(report))


def test_aggregate_lists_slow_nodes_and_other_versions_first(tmp_path: Path) -> None:
    for node in ("node-a", "node-b", "node-c"):
        _deep_report(tmp_path, node)
    _deep_report(tmp_path, "node-slow", matmul_tflops={"bf16": 600.0, "fp16": 801.0})
    _deep_report(tmp_path, "node-nccl", nccl=200.0)
    _deep_report(tmp_path, "node-kernel", kernel="6.8.0-1015-aws")
    result = CliRunner().invoke(host_cli, ["aggregate", str(tmp_path)])
    out = result.stdout
    assert result.exit_code == 1
    assert "matmul-bf16 600 TFLOP/s (77% of the fleet median 777)" in out
    assert "nccl-busbw 200 GB/s (56% of the fleet median 360)" in out
    assert "kernel 6.8.0-1015-aws (most nodes: " in out
    assert "fleet medians (--deep, weakest GPU or pair per node): matmul-bf16 777 TFLOP/s" in out
    rows = [line.split()[0] for line in out.splitlines()[2:8]]
    assert set(rows[:3]) == {"node-slow", "node-nccl", "node-kernel"}
    view = json.loads(
        CliRunner().invoke(host_cli, ["aggregate", str(tmp_path), "-o", "json"]).stdout
    )
    assert view["medians"]["d2d"] == 4250.0
    slow = next(n for n in view["nodes"] if n["node"] == "node-slow")
    assert slow["figures"]["matmul-bf16"] == 600.0 and slow["versions"]["NCCL"] == "2.21.5"


def test_every_fleet_launcher_passes_deep_through() -> None:
    fleet = Path(__file__).resolve().parents[2] / "examples" / "fleet"
    names = {opt for param in host_cli.params for opt in param.opts}
    for launcher in ("slurm-host-preflight.sbatch", "ssm-host-preflight.sh"):
        text = (fleet / launcher).read_text()
        assert "--deep --deep-seconds" in text and "DEEP=${DEEP:-}" in text
    k8s = (fleet / "k8s-host-preflight-job.yaml").read_text()
    assert "$DEEP_ARGS" in k8s and "value: --deep --deep-seconds 90" in k8s
    assert {"--deep", "--deep-seconds"} <= names


_NO_BOTO3 = """
import json, sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("boto3", "botocore"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, Absent())
from hyperpod_preflight.cli import main
try:
    main(["host", "--root", sys.argv[1], "--deep", "--deep-seconds", "3", "-o", "json"])
except SystemExit as exc:
    print(json.dumps({"code": exc.code}), file=sys.stderr)
"""


def test_host_deep_runs_where_boto3_is_not_installed(tmp_path: Path) -> None:
    import subprocess

    root = build_tree(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", _NO_BOTO3, str(root)], capture_output=True, text=True, timeout=120
    )
    assert json.loads(proc.stderr.strip().splitlines()[-1])["code"] in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert "host.deep-xid" in {f["check_id"] for f in report["results"]}


def _with_fake_torch(
    monkeypatch: pytest.MonkeyPatch, gpus: int, capability: tuple[int, int]
) -> Any:
    import fake_torch

    fake_torch.cuda.count, fake_torch.cuda.capability = gpus, capability
    fake_torch.calls.clear()
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    return fake_torch


def _gpus(count: int) -> list[GpuInfo]:
    return [
        GpuInfo(index=i, name="NVIDIA H200", pci_bus_id=f"0000:00:{0x10 + i:02x}.0")
        for i in range(count)
    ]


def test_measurement_paths_run_end_to_end_on_a_fake_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _with_fake_torch(monkeypatch, 1, (9, 0))
    facts = run_deep(_gpus(1), [], budget_s=5, nvml=None, progress=lambda _l: None)
    assert facts.reason is None and facts.backend == "torch"
    (gpu,) = facts.gpus
    assert gpu.cuda_ordinal == 0 and gpu.matmul_size == 8192
    assert set(gpu.matmul_tflops) == {"bf16", "fp16", "fp8"} and fake.calls["scaled_mm"] > 3
    # 1 ms for a batch of 20 products of 8192³ (the batch fills ~20 ms of a 1 ms call).
    assert gpu.matmul_tflops["bf16"] == round(2 * 8192**3 / (1 / 20 / 1000) / 1e12, 1)
    assert gpu.d2d_gbps is not None and gpu.h2d_gbps is not None and gpu.d2h_gbps is not None
    assert gpu.skipped["clock-events"].startswith("NVML not available")
    assert facts.pairs_skipped == "1 GPU visible: no pair to measure"
    names = [s.name for s in facts.steps]
    assert names[0] == "import torch/cupy and start CUDA" and names[-1].startswith("gpu0 host")
    assert facts.elapsed_s is not None and facts.elapsed_s < 5 + 1


def test_fake_ampere_has_no_fp8_and_pairs_and_nccl_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _with_fake_torch(monkeypatch, 2, (8, 0))
    # The NCCL ranks are separate interpreters that import torch themselves: on a GPU node a
    # real torch would start a real 2-rank all-reduce (on a 1-GPU node it waits out the
    # budget). A torch that cannot be imported, first on their path, makes them fail here
    # as on a machine without torch.
    broken = tmp_path / "no-torch" / "torch"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("no torch for the NCCL ranks")\n')
    monkeypatch.setenv("PYTHONPATH", str(broken.parent))
    facts = run_deep(_gpus(2), [], budget_s=40, nvml=None, progress=lambda _l: None)
    assert "compute capability 8.0 has no fp8" in facts.gpus[0].skipped["matmul-fp8"]
    (pair,) = facts.pairs
    assert (pair.a, pair.b, pair.link, pair.peer_access) == (0, 1, "unknown", True)
    assert pair.gbps is not None
    # The NCCL ranks are real interpreters: without torch they fail, and say so.
    assert facts.nccl is not None and facts.nccl.error is not None
    assert "rank 0 exited" in facts.nccl.error


def test_a_spent_budget_skips_the_remaining_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_fake_torch(monkeypatch, 2, (9, 0))
    facts = run_deep(_gpus(2), [], budget_s=0.2, nvml=None, progress=lambda _l: None)
    gpu = facts.gpus[0]
    assert gpu.skipped.get("matmul-bf16") == "time budget spent"
    assert gpu.skipped.get("host-copies") == "time budget spent"
    assert facts.nccl is None and facts.nccl_skipped is not None
    assert "time budget spent" in facts.nccl_skipped
