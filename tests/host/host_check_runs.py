"""Running the host checks on fixture trees: the node builders of each profile (a healthy
ml.p5e.48xlarge, a workstation, a checkpoint host, a training node) and the helpers that pick
findings out of the report. Shared by the profile tests here and the per-module check tests
in ``checks/`` (which reach this folder through ``checks/host_check_support.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from host_fixture_trees import (
    TOOL_OUTPUT,
    FakeNvml,
    Node,
    build_tree,
    docker,
    eight_gpu_dump,
    fake_nvidia_smi,
    script,
    tool,
    write,
)

from hyperpod_preflight.host import run_host_preflight
from hyperpod_preflight.models import Finding, Report, Status

__all__ = [
    "checkpoint_host",
    "deny_stat",
    "fabric_manager",
    "findings",
    "one",
    "p5e_node",
    "p5e_nvml",
    "run",
    "scontrol",
    "status",
    "training_node",
    "workstation",
]


def findings(report: Report, check_id: str) -> list[Finding]:
    found = [f for f in report.results if f.check_id == check_id]
    assert found, f"{check_id} did not run"
    return found


def status(report: Report, check_id: str) -> Status:
    ranked = [Status.FAIL, Status.WARN, Status.UNKNOWN, Status.PASS, Status.SKIP]
    got = {f.status for f in findings(report, check_id)}
    return next(s for s in ranked if s in got)


def one(report: Report, check_id: str) -> Finding:
    (finding,) = findings(report, check_id)
    return finding


def run(root: Path, nvml: Any = None, **kwargs: Any) -> Report:
    kwargs.setdefault("paths", [])
    return run_host_preflight(root=str(root), nvml=nvml, **kwargs)


def deny_stat(monkeypatch: pytest.MonkeyPatch, *denied: Path) -> None:
    """stat() of ``denied`` fails with EACCES (what a non-root user meets; tests run as
    root, where chmod does not stop anything)."""
    real_stat = Path.stat

    def fake_stat(self: Path, **kwargs: Any) -> Any:
        if self in denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", fake_stat)


# ------------------------------------------------------------------ hyperpod-node


def fabric_manager(root: Path, state: str) -> None:
    code = 0 if state == "active" else 3
    script(root, "/usr/bin/systemctl", f"echo {state}; exit {code}")


def p5e_node(tmp_path: Path, **node: Any) -> Path:
    """A healthy ml.p5e.48xlarge: 8 H200 (the captured card, repeated), 32 EFA devices."""
    defaults: dict[str, Any] = {
        "gpus": 8,
        "gpu_first": 0x10,
        "gpu_device": "0x2335",
        "efa": 32,
        "cores": 96,
        "mem_gib": 2048,
    }
    defaults.update(node)
    root = build_tree(tmp_path / "node", Node(**defaults))
    fabric_manager(root, "active")
    (root / "opt/sagemaker").mkdir(parents=True)
    return root


def p5e_nvml(**kwargs: Any) -> FakeNvml:
    return FakeNvml(
        eight_gpu_dump("h200x2"),
        nvlinks={i: [True] * 18 for i in range(8)},
        fabric={i: (3, 0) for i in range(8)},
        **kwargs,
    )


# ------------------------------------------------------------------ workstation


def workstation(tmp_path: Path, **node: Any) -> Path:
    defaults: dict[str, Any] = {
        "gpus": 1,
        "vmx": True,
        "hypervisor": False,
        "kvm": True,
        "cores": 16,
        "mem_gib": 64,
        "kernel": "6.12.9-amd64",
        "os_id": "debian",
        "os_version": "13",
    }
    defaults.update(node)
    root = build_tree(tmp_path / "ws", Node(**defaults))
    for name in ("gcc", "cmake", "ninja", "git", "python3", "virsh", "qemu-system-x86_64"):
        tool(root, name, TOOL_OUTPUT[name])
    docker(root)
    return root


# ------------------------------------------------------------------ checkpoint


def checkpoint_host(tmp_path: Path, **node: Any) -> Path:
    defaults: dict[str, Any] = {"gpus": 1, "mem_gib": 256}
    defaults.update(node)
    root = build_tree(tmp_path / "ckpt", Node(**defaults))
    for name in ("criu", "cuda-checkpoint", "containerd", "nvidia-ctk", "runc"):
        tool(root, name, TOOL_OUTPUT[name])
    return root


# ------------------------------------------------------------------ training


def training_node(tmp_path: Path, **node: Any) -> Path:
    defaults: dict[str, Any] = {"gpus": 2, "mounts": [("/", "ext4"), ("/fsx", "lustre")]}
    defaults.update(node)
    root = build_tree(tmp_path / "train", Node(**defaults))
    fake_nvidia_smi(root, "h200x2")
    for name in ("apptainer", "sinfo", "srun", "python3"):
        tool(root, name, TOOL_OUTPUT[name])
    write(root, "/etc/apptainer/nvliblist.conf", "libcuda.so\nlibnvidia-ml.so\n")
    return root


def scontrol(root: Path, gres: str) -> None:
    script(
        root,
        "/usr/bin/scontrol",
        f'echo "NodeName=ip-10-1-2-3 Arch=x86_64 CoresPerSocket=48 Gres={gres} '
        f'State=IDLE ThreadsPerCore=2"',
    )
