"""host.* checks of hyperpod_preflight/host/checks/cluster.py on fixture trees: EFA, locked
memory, the fabric manager and the shared mount, and what they say when they cannot read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from host_check_support import (
    build_tree,
    fabric_manager,
    findings,
    nvml_from_capture,
    one,
    p5e_node,
    p5e_nvml,
    run,
    status,
    training_node,
)

from hyperpod_preflight.models import Status


@pytest.mark.parametrize(
    ("node", "check_id", "expect_in_message"),
    [
        ({"memlock": "65536"}, "host.memlock", "ulimit -l is 64 KiB, not unlimited"),
        ({"efa": 31}, "host.efa-devices", "31 EFA device(s) on the PCI bus"),
        ({"modules": ("nvidia", "ib_uverbs")}, "host.efa-driver", "efa is not loaded"),
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


def test_fabric_manager_inactive_fails_with_the_driver_version(tmp_path: Path) -> None:
    root = p5e_node(tmp_path)
    fabric_manager(root, "inactive")
    report = run(root, p5e_nvml(), instance_type="ml.p5e.48xlarge")
    service = findings(report, "host.fabric-manager")[0]
    assert service.status is Status.FAIL and service.resource == "nvidia-fabricmanager"
    assert "580.159.04" in service.remediation


def test_fabric_registration_in_progress_fails_per_gpu(tmp_path: Path) -> None:
    root = p5e_node(tmp_path)
    nvml = p5e_nvml()
    nvml.fabric[4] = (2, 0)
    report = run(root, nvml, instance_type="ml.p5e.48xlarge")
    failing = [f for f in findings(report, "host.fabric-manager") if f.status is Status.FAIL]
    assert [f.resource for f in failing] == ["gpu4 (0000:00:14.0)"]


def test_unreadable_limits_are_unknown_not_fail(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    (root / "proc/self/limits").unlink()
    report = run(root, nvml_from_capture("h100"))
    assert status(report, "host.memlock") is Status.UNKNOWN


def test_pci_bus_permission_denied_is_unknown_for_efa_not_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = p5e_node(tmp_path)
    devices = root / "sys/bus/pci/devices"
    real_iterdir = Path.iterdir

    def iterdir(self: Path) -> Any:
        if self == devices:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    report = run(root, p5e_nvml(), instance_type="ml.p5e.48xlarge")
    efa = one(report, "host.efa-devices")
    assert efa.status is Status.UNKNOWN and "Permission denied" in efa.message
    assert "ml.p5e.48xlarge has 32" in efa.message
    # The driver is readable: its GPU count stands; the bus only adds detail.
    assert status(report, "host.gpu-count") is Status.PASS
    assert status(report, "host.ecc") is Status.PASS
    # Without the driver either, nothing says "no GPU": every GPU item is UNKNOWN.
    report = run(root, None, instance_type="ml.p5e.48xlarge")
    assert one(report, "host.gpu-count").status is Status.UNKNOWN
    assert one(report, "host.driver-version").status is Status.UNKNOWN
    assert status(report, "host.ecc") is Status.UNKNOWN
    assert status(report, "host.efa-driver") is not Status.SKIP


def test_shared_mount_with_an_unreadable_mount_table_is_unknown(tmp_path: Path) -> None:
    root = training_node(tmp_path, mounts=[("/", "ext4")])
    (root / "fsx").mkdir()
    (root / "proc/self/mounts").unlink()
    report = run(root, None, profile="training", shared_mounts=["/fsx"])
    finding = one(report, "host.shared-mount")
    assert finding.status is Status.UNKNOWN
    assert "mount table" in finding.message and "findmnt /fsx" in finding.remediation


def test_efa_count_zero_in_the_profile_skips_and_says_so(tmp_path: Path) -> None:
    root = p5e_node(tmp_path, efa=0)
    report = run(root, p5e_nvml(), instance_type="ml.p5e.48xlarge", requires={"efa-count": "0"})
    efa = one(report, "host.efa-devices")
    assert efa.status is Status.SKIP
    assert efa.message == "the profile asks for no EFA device (efa-count = 0)"
    report = run(root, p5e_nvml(), instance_type="ml.p5e.48xlarge", requires={"efa-count": "2"})
    efa = one(report, "host.efa-devices")
    assert efa.status is Status.FAIL
    assert efa.message == "0 EFA device(s) on the PCI bus, expected at least 2"
