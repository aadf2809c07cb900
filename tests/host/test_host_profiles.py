"""Each profile end to end on fixture trees built from the real captures: a passing node,
failures that span several checks, missing tools, and the profile's own rules (optional items
warn, --require, unknown names). Tests of one check module's findings live in checks/."""

from __future__ import annotations

from pathlib import Path

import pytest
from host_check_runs import (
    checkpoint_host,
    findings,
    one,
    p5e_node,
    p5e_nvml,
    run,
    scontrol,
    status,
    training_node,
    workstation,
)
from host_fixture_trees import (
    FakeNvml,
    Node,
    build_tree,
    docker,
    fake_nvidia_smi,
    nvml_from_capture,
    resource_config,
    tool,
)

from hyperpod_preflight.errors import InputError
from hyperpod_preflight.host import run_host_preflight
from hyperpod_preflight.models import Status

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


def test_single_gpu_without_instance_type_cannot_tell_counts(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    report = run(root, nvml_from_capture("h100"))
    assert status(report, "host.gpu-count") is Status.UNKNOWN
    assert "--instance-type" in one(report, "host.gpu-count").remediation
    assert status(report, "host.nvlink") is Status.SKIP
    assert status(report, "host.fabric-manager") is Status.SKIP
    assert status(report, "host.persistence-mode") is Status.PASS


def test_optional_requirement_warns_instead_of_failing(tmp_path: Path) -> None:
    root = p5e_node(tmp_path, modules=("nvidia",))
    report = run(root, p5e_nvml(), instance_type="ml.p5e.48xlarge")
    assert status(report, "host.efa-driver") is Status.WARN  # efa-driver is optional


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


# ------------------------------------------------------------------ checkpoint


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


# ------------------------------------------------------------------ training


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
