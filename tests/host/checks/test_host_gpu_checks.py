"""host.* checks of hyperpod_preflight/host/checks/gpu.py on fixture trees: each GPU failure
named by GPU, no GPU at all, a driver that cannot be asked, and the counts that cannot be told."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from host_check_support import (
    FakeNvml,
    Node,
    build_tree,
    checkpoint_host,
    eight_gpu_dump,
    fake_nvidia_smi,
    findings,
    nvml_from_capture,
    nvrm_version,
    one,
    p5e_node,
    p5e_nvml,
    run,
    status,
    workstation,
)

from hyperpod_preflight.host.checks._counts import expected_count
from hyperpod_preflight.host.checks.gpu import judge_gpu_count
from hyperpod_preflight.host.instance_types import expectation
from hyperpod_preflight.host.models import GpuFacts, GpuInfo, HostFacts, PciDevice
from hyperpod_preflight.host.profiles import Requirement
from hyperpod_preflight.models import Outcome, Status


def test_ecc_on_with_an_unreadable_error_count_is_unknown_not_pass(tmp_path: Path) -> None:
    root = p5e_node(tmp_path)
    nvml = p5e_nvml(gpu_overrides={2: {"ecc_volatile": "ERR GpuIsLost"}})
    report = run(root, nvml, instance_type="ml.p5e.48xlarge")
    by_gpu = {f.resource: f for f in findings(report, "host.ecc")}
    lost = by_gpu["gpu2 (0000:00:12.0)"]
    assert lost.status is Status.UNKNOWN and "ecc_uncorrected_volatile" in lost.message
    assert by_gpu["gpu1 (0000:00:11.0)"].status is Status.PASS


@pytest.mark.parametrize(
    ("gpu_changes", "check_id", "expect_in_message"),
    [
        ({"ecc": "[0, 0]"}, "host.ecc", "ECC is disabled"),
        ({"ecc_volatile": 2}, "host.ecc", "2 uncorrectable ECC error(s) since the driver"),
        ({"remapped_rows": "(0, 1, 1, 0)"}, "host.row-remap", "row remap is pending"),
        ({"remapped_rows": "(0, 0, 0, 1)"}, "host.row-remap", "row remapping failed"),
        ({"pcie_width_cur": 8}, "host.pcie-link", "PCIe Gen5 x8 (max Gen5 x16)"),
        ({"persistence": 0}, "host.persistence-mode", "persistence mode is off"),
        ({"cc": [6, 0]}, "host.compute-capability", "compute capability 6.0, below 7.0"),
        ({"nvlink": [True] * 16 + [False, False]}, "host.nvlink", "NVLink 16, 17 down (16/18"),
    ],
)
def test_each_gpu_failure_names_the_gpu(
    tmp_path: Path, gpu_changes: dict[str, Any], check_id: str, expect_in_message: str
) -> None:
    root = p5e_node(tmp_path)
    report = run(root, p5e_nvml(gpu_overrides={5: gpu_changes}), instance_type="ml.p5e.48xlarge")
    failing = [f for f in findings(report, check_id) if f.status is Status.FAIL]
    assert [f.resource for f in failing] == ["gpu5 (0000:00:15.0)"]
    assert expect_in_message in failing[0].message
    assert failing[0].remediation
    assert report.summary.exit_code == 1


def test_lifetime_ecc_errors_warn_only(tmp_path: Path) -> None:
    root = p5e_node(tmp_path)
    report = run(
        root, p5e_nvml(gpu_overrides={0: {"ecc_aggregate": 3}}), instance_type="ml.p5e.48xlarge"
    )
    assert findings(report, "host.ecc")[0].status is Status.WARN


def test_pcie_generation_below_max_warns(tmp_path: Path) -> None:
    root = p5e_node(tmp_path)
    report = run(
        root, p5e_nvml(gpu_overrides={2: {"pcie_gen_cur": 1}}), instance_type="ml.p5e.48xlarge"
    )
    finding = findings(report, "host.pcie-link")[2]
    assert finding.status is Status.WARN and "idle" in finding.message


def test_old_driver_fails(tmp_path: Path) -> None:
    root = p5e_node(tmp_path)
    dump = eight_gpu_dump()
    dump["driver"] = "470.256.02"
    report = run(root, FakeNvml(dump), instance_type="ml.p5e.48xlarge")
    finding = one(report, "host.driver-version")
    assert finding.status is Status.FAIL and "470.256.02 is older than 535" in finding.message


def test_no_gpu_at_all(tmp_path: Path) -> None:
    root = build_tree(tmp_path, Node(gpus=0))
    report = run(root, None, instance_type="ml.p5.48xlarge")
    count = one(report, "host.gpu-count")
    assert count.status is Status.FAIL and count.message.startswith("0 GPUs visible")
    for check_id in (
        "host.ecc",
        "host.row-remap",
        "host.pcie-link",
        "host.nvlink",
        "host.driver-version",
        "host.persistence-mode",
    ):
        assert status(report, check_id) is Status.SKIP, check_id


def test_gpu_on_the_bus_without_driver_fails_driver_check(tmp_path: Path) -> None:
    # No nvidia module in /proc/modules and no /proc/driver/nvidia: the driver is missing.
    root = build_tree(tmp_path, Node(gpus=2, modules=("efa", "ib_uverbs")))
    report = run(root, nvml_from_capture("h100", init_error=9), instance_type="ml.p5.48xlarge")
    driver = one(report, "host.driver-version")
    assert driver.status is Status.FAIL and "Driver Not Loaded" in driver.message
    assert "the nvidia driver is not loaded" in driver.message
    assert "sudo modprobe nvidia" in driver.remediation
    count = one(report, "host.gpu-count")
    assert count.status is Status.FAIL
    assert "2 NVIDIA GPUs on the PCI bus but none usable" in count.message
    assert "sudo modprobe nvidia" in count.remediation
    assert status(report, "host.ecc") is Status.UNKNOWN


@pytest.mark.parametrize("open_module", [False, True])
def test_loaded_driver_without_nvml_or_nvidia_smi_is_judged_from_proc(
    tmp_path: Path, open_module: bool
) -> None:
    # GPUs bound to nvidia, the module loaded, but no nvidia-ml-py and no nvidia-smi: the
    # version comes from /proc/driver/nvidia/version; the count cannot be confirmed.
    text = nvrm_version("580.159.04", open_module=open_module)
    root = build_tree(tmp_path, Node(gpus=2, nvrm_version=text))
    report = run(root, None, requires={"gpu-count": "2"})
    driver = one(report, "host.driver-version")
    assert driver.status is Status.PASS, driver.message
    assert driver.message.startswith("driver 580.159.04 (>= 535)")
    assert "/proc/driver/nvidia/version" in driver.message
    count = one(report, "host.gpu-count")
    assert count.status is Status.UNKNOWN, count.message
    assert "2 of 2 NVIDIA GPUs on the PCI bus bound to the nvidia driver" in count.message
    assert "pip install nvidia-ml-py" in count.remediation
    ecc = one(report, "host.ecc")
    assert ecc.status is Status.UNKNOWN and "pip install nvidia-ml-py" in ecc.remediation
    assert "580.159.04" in ecc.message
    assert report.facts["gpu"]["driver_version"] == "580.159.04"

    old = run(root, None, requires={"gpu-count": "2", "driver-min": "590"})
    assert one(old, "host.driver-version").status is Status.FAIL
    assert "older than 590" in one(old, "host.driver-version").message


def test_loaded_driver_with_a_gpu_not_bound_fails_count(tmp_path: Path) -> None:
    root = build_tree(tmp_path, Node(gpus=2, nvrm_version=nvrm_version("580.159.04")))
    (root / "sys/bus/pci/devices/0000:00:07.0/driver").unlink()  # unbound (or vfio-pci)
    report = run(root, None, requires={"gpu-count": "2"})
    count = one(report, "host.gpu-count")
    assert count.status is Status.FAIL
    assert count.message.startswith("1 of 2 NVIDIA GPUs on the PCI bus bound to the nvidia")


def test_loaded_module_with_unreadable_version_is_unknown(tmp_path: Path) -> None:
    root = build_tree(tmp_path, Node(gpus=1))  # nvidia in /proc/modules, no /proc/driver
    report = run(root, None, profile="checkpoint")
    driver = one(report, "host.driver-version")
    assert driver.status is Status.UNKNOWN
    assert "nvidia kernel module is loaded but its version could not be read" in driver.message
    assert "pip install nvidia-ml-py" in driver.remediation
    assert one(report, "host.gpu-count").status is Status.UNKNOWN


def test_nvml_permission_denied_is_unknown(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    report = run(root, nvml_from_capture("h100", init_error=4), instance_type="ml.p5.48xlarge")
    assert status(report, "host.gpu-count") is Status.UNKNOWN
    assert status(report, "host.ecc") is Status.UNKNOWN


def test_nvidia_smi_fallback_from_the_csv_capture(tmp_path: Path) -> None:
    root = build_tree(tmp_path, Node(gpus=2))
    fake_nvidia_smi(root, "h200x2")
    report = run(root, None, requires={"gpu-count": "2"})
    assert report.facts["gpu"]["source"] == "nvidia-smi"
    assert status(report, "host.gpu-count") is Status.PASS
    assert status(report, "host.driver-version") is Status.PASS
    # The CSV cannot tell remaps; NVLink comes from `nvidia-smi nvlink -s`.
    assert status(report, "host.row-remap") is Status.UNKNOWN
    assert "nvidia-ml-py" in findings(report, "host.row-remap")[0].remediation
    assert [f.message for f in findings(report, "host.nvlink")] == ["18/18 NVLinks up"] * 2


def test_workstation_without_gpus_skips_gpu_items(tmp_path: Path) -> None:
    root = workstation(tmp_path, gpus=0)
    report = run(root, None, profile="workstation", paths=["/"])
    assert status(report, "host.driver-version") is Status.SKIP
    assert status(report, "host.compute-capability") is Status.SKIP


def test_checkpoint_no_gpu_fails_count(tmp_path: Path) -> None:
    root = checkpoint_host(tmp_path, gpus=0)
    report = run(root, None, profile="checkpoint")
    assert one(report, "host.gpu-count").status is Status.FAIL
    assert status(report, "host.host-ram-vs-vram") is Status.SKIP


def test_checkpoint_with_an_unreadable_pci_bus_is_unknown_not_zero_gpus(tmp_path: Path) -> None:
    root = checkpoint_host(tmp_path, gpus=1)
    shutil.rmtree(root / "sys/bus/pci")  # a --root (or node) without a readable /sys/bus/pci
    report = run(root, None, profile="checkpoint")
    count = one(report, "host.gpu-count")
    assert count.status is Status.UNKNOWN, count.message
    assert "/sys/bus/pci/devices" in count.message and "0 GPUs" not in count.message
    for check_id in ("host.driver-version", "host.compute-capability", "host.host-ram-vs-vram"):
        assert status(report, check_id) is Status.UNKNOWN, check_id
    assert report.facts["pci_error"].startswith("/sys/bus/pci/devices: ")


# ------------------------------------------------------------------ judge_gpu_count, plain data


def _host(
    driver_gpus: int | None,
    bus_gpus: int = 0,
    *,
    bound: int | None = None,
    pci_error: str | None = None,
    driver_loaded: bool | None = None,
    permission_denied: bool = False,
) -> HostFacts:
    """``driver_gpus`` GPUs from NVML (None: no GPU list), ``bus_gpus`` NVIDIA GPUs on the
    PCI bus of which ``bound`` (default all) are bound to the nvidia driver."""
    bound = bus_gpus if bound is None else bound
    pci = [
        PciDevice(
            address=f"0000:00:{0x10 + i:02x}.0",
            vendor_id="0x10de",
            device_id="0x2335",
            class_code="0x030200",
            driver="nvidia" if i < bound else None,
        )
        for i in range(bus_gpus)
    ]
    gpu = GpuFacts(
        source="none" if driver_gpus is None else "nvml",
        gpus=[GpuInfo(index=i) for i in range(driver_gpus or 0)],
        error=None if driver_gpus is not None else "NVML: Driver Not Loaded",
        driver_loaded=driver_loaded,
        permission_denied=permission_denied,
    )
    return HostFacts(pci_devices=pci, pci_error=pci_error, gpu=gpu)


def _required(threshold: Any = "instance-type", level: str = "required") -> Requirement:
    return Requirement(
        id="gpu-count", check="host.gpu-count", description="", level=level, threshold=threshold
    )


def _judge(host: HostFacts, threshold: Any = "instance-type", **kwargs: Any) -> Outcome:
    req = _required(threshold, **kwargs)
    expected = expected_count(threshold, "gpus", expectation("ml.p5.48xlarge"), host)
    (outcome,) = judge_gpu_count(req, host, expected)
    return outcome


@pytest.mark.parametrize(
    ("host", "threshold", "status", "message"),
    [
        (
            _host(8, 8),
            "instance-type",
            Status.PASS,
            "8 GPUs visible to the driver (ml.p5.48xlarge has 8)",
        ),
        (
            _host(7, 8),
            "instance-type",
            Status.FAIL,
            "7 GPUs visible to the driver, ml.p5.48xlarge has 8; 8 on the PCI bus, so 1 the "
            "driver cannot use",
        ),
        (
            _host(9, 9),
            "instance-type",
            Status.WARN,
            "9 GPUs visible, more than the 8 of ml.p5.48xlarge: is --instance-type right?",
        ),
        (_host(9, 9), 8, Status.PASS, "9 GPUs visible to the driver (expected at least 8)"),
        (_host(0), 1, Status.FAIL, "0 GPUs visible to the driver, expected at least 1"),
        (
            _host(None, 2, driver_loaded=False),
            2,
            Status.FAIL,
            "2 NVIDIA GPUs on the PCI bus but none usable: the nvidia driver is not loaded "
            "(NVML: Driver Not Loaded); expected 2",
        ),
        (
            _host(None, 0, pci_error="/sys/bus/pci/devices: Permission denied"),
            1,
            Status.UNKNOWN,
            "could not tell: no GPU list from the driver (NVML: Driver Not Loaded) and 0 found "
            "on the PCI bus, which could not be read (/sys/bus/pci/devices: Permission denied); "
            "expected at least 1",
        ),
        (
            _host(None, 2, driver_loaded=True),
            2,
            Status.UNKNOWN,
            "could not tell how many GPUs the driver can use: NVML and nvidia-smi unusable "
            "(NVML: Driver Not Loaded); 2 of 2 NVIDIA GPUs on the PCI bus bound to the nvidia "
            "driver (expected at least 2)",
        ),
        (
            _host(None, 2, bound=1, driver_loaded=True),
            2,
            Status.FAIL,
            "1 of 2 NVIDIA GPUs on the PCI bus bound to the nvidia driver, expected at least 2 "
            "(NVML/nvidia-smi unusable: NVML: Driver Not Loaded)",
        ),
        (
            _host(None, permission_denied=True),
            1,
            Status.UNKNOWN,
            "could not tell: NVML: Driver Not Loaded",
        ),
        (_host(8, 8), "lots", Status.UNKNOWN, "gpu-count threshold 'lots' is not a number"),
    ],
)
def test_judge_gpu_count_on_plain_facts(
    host: HostFacts, threshold: Any, status: Status, message: str
) -> None:
    outcome = _judge(host, threshold)
    assert (outcome.status, outcome.message) == (status, message)
    assert outcome.resource == "gpus"


def test_judge_gpu_count_fewer_gpus_of_an_optional_item_warns() -> None:
    outcome = _judge(_host(1, 1), 2, level="optional")
    assert outcome.status is Status.WARN
    assert outcome.message == "1 GPU visible to the driver, expected at least 2 (optional)"
    assert "scontrol update" in outcome.remediation
    assert outcome.details["expected"] == 2 and outcome.details["requirement"] == "gpu-count"


def test_judge_gpu_count_without_the_instance_type_cannot_tell() -> None:
    host = _host(8, 8)
    expected = expected_count("instance-type", "gpus", None, host)
    (outcome,) = judge_gpu_count(_required(), host, expected)
    assert outcome.status is Status.UNKNOWN
    assert outcome.message == (
        "could not tell the expected GPU count: the instance type is unknown (no "
        "--instance-type, no /opt/ml/config/resource_config.json); 8 GPUs visible to the "
        "driver, 8 on the PCI bus"
    )
    assert "--instance-type ml.p5.48xlarge" in outcome.remediation


def test_judge_gpu_count_skips_a_neuron_instance_type() -> None:
    host = _host(0)
    expected = expected_count("instance-type", "gpus", expectation("ml.trn1.32xlarge"), host)
    (outcome,) = judge_gpu_count(_required(), host, expected)
    assert outcome.status is Status.SKIP
    assert outcome.message == (
        "ml.trn1.32xlarge has Neuron (Trainium) accelerators, not NVIDIA GPUs"
    )
