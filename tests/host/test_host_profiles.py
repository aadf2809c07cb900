"""Each profile on fixture trees built from the real captures: a passing node, each failure,
missing tools, no GPU at all, and the cases where the tool cannot tell."""

from __future__ import annotations

import shutil
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
    nvml_from_capture,
    nvrm_version,
    resource_config,
    script,
    tool,
    write,
)

from hyperpod_preflight.errors import InputError
from hyperpod_preflight.host import run_host_preflight
from hyperpod_preflight.models import Finding, Report, Status


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


def run(root: Path, nvml: Any = None, **kwargs: Any) -> Report:
    kwargs.setdefault("paths", [])
    return run_host_preflight(root=str(root), nvml=nvml, **kwargs)


# ------------------------------------------------------------------ hyperpod-node


def test_healthy_p5e_node_passes_every_check(tmp_path: Path) -> None:
    root = p5e_node(tmp_path)
    report = run(
        root,
        p5e_nvml(),
        instance_type="ml.p5e.48xlarge",
        paths=["/opt/sagemaker"],
        requires={"disk-free-gb": "0"},
    )
    bad = [
        f"{f.check_id} {f.status.value}: {f.message}"
        for f in report.results
        if f.status is not Status.PASS
    ]
    assert bad == []
    assert report.summary.exit_code == 0
    assert one(report, "host.gpu-count").message == (
        "8 GPUs visible to the driver (ml.p5e.48xlarge has 8)"
    )
    assert "18/18 NVLinks up" in findings(report, "host.nvlink")[0].message
    assert findings(report, "host.ecc")[3].resource == "gpu3 (0000:00:13.0)"
    assert report.kind == "host" and report.target == "ip-10-1-2-3"
    assert report.facts["profile"] == "hyperpod-node"
    assert report.facts["expectation"]["efa_devices"] == 32


def test_instance_type_from_hyperpods_resource_config(tmp_path: Path) -> None:
    root = p5e_node(tmp_path)
    resource_config(root, "ml.p5e.48xlarge")
    report = run(root, p5e_nvml())
    assert report.facts["instance_type_source"] == "resource_config.json"
    assert status(report, "host.gpu-count") is Status.PASS


def test_h100_capture_against_p5_fails_on_gpu_count(tmp_path: Path) -> None:
    root = build_tree(tmp_path, Node(gpus=1, efa=0))
    report = run(root, nvml_from_capture("h100"), instance_type="ml.p5.48xlarge")
    gpu_count = one(report, "host.gpu-count")
    assert gpu_count.status is Status.FAIL
    assert gpu_count.message.startswith("1 GPU visible to the driver, ml.p5.48xlarge has 8")
    assert "scontrol update" in gpu_count.remediation
    assert status(report, "host.efa-devices") is Status.FAIL
    assert (
        "0 EFA device(s) on the PCI bus, ml.p5.48xlarge has 32"
        in one(report, "host.efa-devices").message
    )
    # The VM has no fabric manager, and the p5 needs it.
    assert status(report, "host.fabric-manager") is Status.FAIL
    # The healthy single GPU itself passes, and NotSupported is a SKIP, never a FAIL.
    assert status(report, "host.ecc") is Status.PASS
    assert status(report, "host.row-remap") is Status.PASS
    assert status(report, "host.nvlink") is Status.WARN  # p5 promises NVSwitch; none seen
    assert report.summary.exit_code == 1


def test_ecc_on_with_an_unreadable_error_count_is_unknown_not_pass(tmp_path: Path) -> None:
    root = p5e_node(tmp_path)
    nvml = p5e_nvml(gpu_overrides={2: {"ecc_volatile": "ERR GpuIsLost"}})
    report = run(root, nvml, instance_type="ml.p5e.48xlarge")
    by_gpu = {f.resource: f for f in findings(report, "host.ecc")}
    lost = by_gpu["gpu2 (0000:00:12.0)"]
    assert lost.status is Status.UNKNOWN and "ecc_uncorrected_volatile" in lost.message
    assert by_gpu["gpu1 (0000:00:11.0)"].status is Status.PASS


def test_single_gpu_without_instance_type_cannot_tell_counts(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    report = run(root, nvml_from_capture("h100"))
    assert status(report, "host.gpu-count") is Status.UNKNOWN
    assert "--instance-type" in one(report, "host.gpu-count").remediation
    assert status(report, "host.nvlink") is Status.SKIP
    assert status(report, "host.fabric-manager") is Status.SKIP
    assert status(report, "host.persistence-mode") is Status.PASS


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


@pytest.mark.parametrize(
    ("node", "check_id", "expect_in_message"),
    [
        ({"memlock": "65536"}, "host.memlock", "ulimit -l is 64 KiB, not unlimited"),
        ({"cgroup_v2": False}, "host.cgroup-v2", "cgroup v1"),
        ({"kernel": "5.4.0-1103-aws"}, "host.kernel-version", "older than 5.15"),
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


def test_optional_requirement_warns_instead_of_failing(tmp_path: Path) -> None:
    root = p5e_node(tmp_path, modules=("nvidia",))
    report = run(root, p5e_nvml(), instance_type="ml.p5e.48xlarge")
    assert status(report, "host.efa-driver") is Status.WARN  # efa-driver is optional


# ------------------------------------------------------------------ no GPU / cannot tell


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


def test_unreadable_limits_are_unknown_not_fail(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    (root / "proc/self/limits").unlink()
    report = run(root, nvml_from_capture("h100"))
    assert status(report, "host.memlock") is Status.UNKNOWN


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


def test_unknown_profile_requirement_and_root_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="did you mean workstation"):
        run_host_preflight(profile="workstaton", root=str(tmp_path))
    with pytest.raises(InputError, match="driver-min"):
        run_host_preflight(requires={"driver-minimum": "550"}, root=str(tmp_path))
    with pytest.raises(InputError, match="not a directory"):
        run_host_preflight(root=str(tmp_path / "missing"))
    with pytest.raises(InputError, match="unknown check id"):
        run_host_preflight(only=["host.gpu-cuont"], root=str(tmp_path))


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


def test_workstation_passes(tmp_path: Path) -> None:
    root = workstation(tmp_path)
    report = run(
        root,
        nvml_from_capture("h100"),
        profile="workstation",
        paths=["/"],
        requires={"disk-free-gb": "0"},
    )
    bad = [
        f"{f.check_id} {f.resource}: {f.message}"
        for f in report.results
        if f.status is not Status.PASS
    ]
    assert bad == []
    tools = {f.resource: f.message for f in findings(report, "host.tools")}
    assert tools["cmake"].startswith("cmake 3.28.3 (>= 3.18)")
    assert set(tools) == {
        "libvirt",
        "qemu",
        "docker",
        "docker-compose",
        "docker-buildx",
        "gcc",
        "cmake",
        "ninja",
        "git",
    }


def test_workstation_failures(tmp_path: Path) -> None:
    root = workstation(
        tmp_path,
        vmx=False,
        iommu=False,
        kvm=False,
        cores=4,
        mem_gib=16,
        os_id="ubuntu",
        os_version="20.04",
        kernel="5.15.0-125-generic",
        user_groups=("docker",),
    )
    (root / "usr/bin/virsh").unlink()
    tool(root, "cmake", "cmake version 3.16.3")
    docker(root, compose=False)
    report = run(root, None, profile="workstation", paths=["/"])
    failing = {(f.check_id, f.resource) for f in report.results if f.status is Status.FAIL}
    assert {
        ("host.virtualization", "cpu"),
        ("host.iommu", "iommu"),
        ("host.kvm", "/dev/kvm"),
        ("host.cpu-cores", "cpu"),
        ("host.memory", "memory"),
        ("host.os-release", "os"),
        ("host.tools", "libvirt"),
        ("host.tools", "cmake"),
        ("host.tools", "docker-compose"),
        ("host.groups", "kvm"),
        ("host.groups", "libvirt"),
    } <= failing
    assert ("host.tools", "docker-buildx") not in failing
    kernel = one(report, "host.kernel-version")
    assert kernel.status is Status.WARN and "recommended 6.12" in kernel.message
    iommu = one(report, "host.iommu")
    assert "intel_iommu=on" in iommu.remediation
    cmake = next(f for f in findings(report, "host.tools") if f.resource == "cmake")
    assert cmake.message == "cmake 3.16.3 is older than 3.18"
    # No GPU readable and none required: GPU items do not apply.
    assert status(report, "host.compute-capability") is Status.UNKNOWN  # GPU on bus, no driver


@pytest.mark.parametrize("how", ["missing", "unreadable"])
def test_workstation_with_an_unreadable_etc_group_is_unknown_not_fail(
    tmp_path: Path, how: str
) -> None:
    root = workstation(tmp_path)
    (root / "etc/group").unlink()
    if how == "unreadable":
        (root / "etc/group").mkdir()  # read() fails (EISDIR), as EACCES would for a user
    report = run(root, None, profile="workstation", paths=["/"])
    groups = findings(report, "host.groups")
    assert [f.status for f in groups] == [Status.UNKNOWN]
    assert "/etc/group unreadable" in groups[0].message
    assert report.facts["user"]["groups"] is None


def _deny_stat(monkeypatch: pytest.MonkeyPatch, *denied: Path) -> None:
    """stat() of ``denied`` fails with EACCES (what a non-root user meets; tests run as
    root, where chmod does not stop anything)."""
    real_stat = Path.stat

    def fake_stat(self: Path, **kwargs: Any) -> Any:
        if self in denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", fake_stat)


def test_cgroup_and_iommu_that_cannot_be_looked_at_are_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = workstation(tmp_path, cgroup_v2=False)
    shutil.rmtree(root / "sys/kernel/iommu_groups")
    _deny_stat(monkeypatch, root / "sys/fs/cgroup", root / "sys/kernel")
    report = run(root, None, profile="workstation", paths=["/"], only=["host.iommu"])
    assert one(report, "host.iommu").status is Status.UNKNOWN
    report = run(root, None, profile="checkpoint", only=["host.cgroup-v2"])
    assert one(report, "host.cgroup-v2").status is Status.UNKNOWN


def test_workstation_without_gpus_skips_gpu_items(tmp_path: Path) -> None:
    root = workstation(tmp_path, gpus=0)
    report = run(root, None, profile="workstation", paths=["/"])
    assert status(report, "host.driver-version") is Status.SKIP
    assert status(report, "host.compute-capability") is Status.SKIP


# ------------------------------------------------------------------ checkpoint


def checkpoint_host(tmp_path: Path, **node: Any) -> Path:
    defaults: dict[str, Any] = {"gpus": 1, "mem_gib": 256}
    defaults.update(node)
    root = build_tree(tmp_path / "ckpt", Node(**defaults))
    for name in ("criu", "cuda-checkpoint", "containerd", "nvidia-ctk", "runc"):
        tool(root, name, TOOL_OUTPUT[name])
    return root


def test_checkpoint_host_passes(tmp_path: Path) -> None:
    root = checkpoint_host(tmp_path)
    report = run(root, nvml_from_capture("h100"), profile="checkpoint")
    bad = [f"{f.check_id}: {f.message}" for f in report.results if f.status not in (Status.PASS,)]
    # host-to-device is only measured with --measure-bandwidth, and says so.
    assert bad == ["host.h2d-bandwidth: not measured: pass --measure-bandwidth"]
    ratio = one(report, "host.host-ram-vs-vram")
    assert "host memory 256 GiB is 3.21x the 80 GiB of GPU memory" in ratio.message


def test_checkpoint_host_failures(tmp_path: Path) -> None:
    root = checkpoint_host(tmp_path, mem_gib=128)
    tool(root, "containerd", "containerd github.com/containerd/containerd v1.5.9 1407cab")
    (root / "usr/bin/criu").unlink()
    dump = nvml_from_capture("h100").dump
    dump["gpus"][0]["cc"] = [7, 5]  # a Turing card: not Ampere
    report = run(root, FakeNvml(dump), profile="checkpoint")
    assert one(report, "host.host-ram-vs-vram").status is Status.FAIL
    assert one(report, "host.compute-capability").message.endswith("below 8.0")
    tools = {f.resource: f for f in findings(report, "host.tools")}
    assert tools["criu"].status is Status.FAIL
    assert tools["containerd"].message == "containerd 1.5.9 is older than 1.6"
    assert tools["runc"].status is Status.PASS


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


def test_apptainer_nvliblist_that_cannot_be_looked_at_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = training_node(tmp_path)
    conf = root / "etc/apptainer/nvliblist.conf"
    conf.unlink()
    _deny_stat(monkeypatch, conf)
    report = run(root, None, profile="training", only=["host.apptainer-nv"])
    finding = one(report, "host.apptainer-nv")
    assert finding.status is Status.UNKNOWN
    assert "/etc/apptainer/nvliblist.conf" in finding.message


def scontrol(root: Path, gres: str) -> None:
    script(
        root,
        "/usr/bin/scontrol",
        f'echo "NodeName=ip-10-1-2-3 Arch=x86_64 CoresPerSocket=48 Gres={gres} '
        f'State=IDLE ThreadsPerCore=2"',
    )


def test_training_node_passes(tmp_path: Path) -> None:
    root = training_node(tmp_path)
    scontrol(root, "gpu:h200:2(S:0)")
    report = run(
        root,
        nvml_from_capture("h200x2"),
        profile="training",
        shared_mounts=["/fsx"],
        requires={"shared-mount-free-gb": "0"},
    )
    bad = [
        f"{f.check_id} {f.resource}: {f.message}"
        for f in report.results
        if f.status is not Status.PASS
    ]
    assert bad == []
    assert one(report, "host.nvidia-smi").message == "nvidia-smi -L lists 2 GPUs"
    assert one(report, "host.slurm-gres").message == "Gres=gpu:h200:2(S:0) (2 GPU(s))"


def test_training_node_failures(tmp_path: Path) -> None:
    root = training_node(tmp_path, mounts=[("/", "ext4")])
    scontrol(root, "(null)")
    tool(root, "apptainer", "apptainer version 1.0.3")
    tool(root, "python3", "Python 3.10.12")
    (root / "etc/apptainer/nvliblist.conf").unlink()
    (root / "fsx").mkdir()
    fake_nvidia_smi(
        root,
        "h200x2",
        fail="NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    )
    report = run(root, None, profile="training", shared_mounts=["/fsx"])
    assert "couldn't communicate" in one(report, "host.nvidia-smi").message
    assert "no GPU GRES" in one(report, "host.slurm-gres").message
    assert "Gres=gpu:" in one(report, "host.slurm-gres").remediation
    assert "not a mount point" in one(report, "host.shared-mount").message
    assert one(report, "host.python-version").message == "python3 is 3.10.12, older than 3.11"
    assert status(report, "host.apptainer-nv") is Status.FAIL
    apptainer = next(f for f in findings(report, "host.tools") if f.resource == "apptainer")
    assert apptainer.message == "apptainer 1.0.3 is older than 1.1"
    tools = {f.resource: f.status for f in findings(report, "host.tools")}
    assert tools["scontrol"] is Status.PASS and tools["sinfo"] is Status.PASS


def test_shared_mount_with_an_unreadable_mount_table_is_unknown(tmp_path: Path) -> None:
    root = training_node(tmp_path, mounts=[("/", "ext4")])
    (root / "fsx").mkdir()
    (root / "proc/self/mounts").unlink()
    report = run(root, None, profile="training", shared_mounts=["/fsx"])
    finding = one(report, "host.shared-mount")
    assert finding.status is Status.UNKNOWN
    assert "mount table" in finding.message and "findmnt /fsx" in finding.remediation


def test_training_without_slurm_or_mount_given(tmp_path: Path) -> None:
    root = training_node(tmp_path)
    report = run(root, nvml_from_capture("h200x2"), profile="training")
    assert status(report, "host.slurm-gres") is Status.SKIP
    assert "pass --shared-mount" in one(report, "host.shared-mount").message
    missing = {f.resource for f in findings(report, "host.tools") if f.status is Status.FAIL}
    assert missing == {"scontrol"}


def test_require_adds_a_requirement_from_another_profile(tmp_path: Path) -> None:
    root = build_tree(tmp_path, Node(cores=4))
    report = run(root, nvml_from_capture("h100"), requires={"cpu-cores-min": "8"})
    assert one(report, "host.cpu-cores").status is Status.FAIL
    assert report.facts["overrides"] == {"cpu-cores-min": 8}
