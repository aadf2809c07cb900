"""Readers of the node: /proc and /sys trees, NVML through a fake pynvml, nvidia-smi's CSV,
XML and NVLink output from the real captures, tool versions, HyperPod's resource config and
the metadata service (faked on loopback)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from host_fixture_trees import (
    FakeNvml,
    FakeNVMLError,
    Node,
    build_tree,
    capture,
    command_output,
    nvml_from_capture,
    nvrm_version,
    resource_config,
    tool,
    write,
)

from hyperpod_preflight.host import sysfs
from hyperpod_preflight.host.commands import (
    TOOLS,
    parse_version,
    probe_tool,
    version_at_least,
)
from hyperpod_preflight.host.instance_types import (
    expectation,
    imds_instance_type,
    read_resource_config,
)
from hyperpod_preflight.host.nvml import normalize_bus_id, read_nvml
from hyperpod_preflight.host.nvsmi import (
    parse_nvlink_status,
    parse_query_csv,
    parse_query_xml,
    read_nvidia_smi,
)

# --------------------------------------------------------------------- NVML (fake pynvml)


def test_nvml_reads_the_h100_capture_with_not_supported_fields() -> None:
    fake = nvml_from_capture("h100")
    facts = read_nvml(fake)
    assert facts.source == "nvml"
    assert facts.driver_version == "580.159.04"
    assert facts.cuda_driver_version == "13.0"
    (gpu,) = facts.gpus
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.pci_bus_id == "0000:00:06.0"
    assert gpu.label == "gpu0 (0000:00:06.0)"
    assert gpu.compute_capability == "9.0"
    assert gpu.memory_total_mib == 81559  # what nvidia-smi shows for the same card
    assert (gpu.pcie_gen_current, gpu.pcie_width_current) == (5, 16)
    assert gpu.persistence_mode is True and gpu.ecc_enabled is True and gpu.mig_enabled is False
    assert gpu.remap_pending is False and gpu.remap_failure is False
    # Not supported on this single-GPU VM: recorded as such, never as an error.
    assert gpu.retired_pages_pending is None and "retired_pages_pending" in gpu.not_supported
    assert gpu.nvlink_active is None and "nvlink_active" in gpu.not_supported
    assert "fabric_state" in gpu.not_supported
    assert gpu.errors == {}
    assert fake.shutdown


def test_nvml_reads_all_nvlinks_and_fabric_of_the_h200_pair() -> None:
    facts = read_nvml(nvml_from_capture("h200x2"))
    assert [g.pci_bus_id for g in facts.gpus] == ["0000:00:06.0", "0000:00:07.0"]
    for gpu in facts.gpus:
        assert gpu.nvlink_active == [True] * 18
        assert gpu.fabric_state == "completed" and gpu.fabric_status_ok is True
        assert gpu.memory_total_mib == 143771


def test_nvml_that_cannot_start_says_why() -> None:
    facts = read_nvml(nvml_from_capture("h100", init_error=9))
    assert facts.source == "none" and "Driver Not Loaded" in (facts.error or "")
    denied = read_nvml(nvml_from_capture("h100", init_error=4))
    assert denied.permission_denied


class _GpuLostAtLink3(FakeNvml):
    """The H200 pair's dump, where GPU 1 falls off the bus while its links are read."""

    def nvmlDeviceGetNvLinkState(self, h: int, link: int) -> int:
        if h == 1 and link >= 3:
            raise FakeNVMLError(15)  # NVML_ERROR_GPU_IS_LOST
        return super().nvmlDeviceGetNvLinkState(h, link)

    def nvmlDeviceGetName(self, h: int) -> bytes:  # type: ignore[override]
        return b"NVIDIA H200 \xff"

    def nvmlDeviceGetRemappedRows(self, h: int) -> tuple[int, ...]:
        if h == 1:
            raise RuntimeError("binding fault")
        return super().nvmlDeviceGetRemappedRows(h)


def test_nvml_errors_mid_run_leave_fields_unknown_not_passed() -> None:
    base = nvml_from_capture("h200x2")
    fake = _GpuLostAtLink3(base.dump, nvlinks=base.nvlinks, fabric=base.fabric)
    facts = read_nvml(fake)
    healthy, lost = facts.gpus
    assert healthy.nvlink_active == [True] * 18
    assert lost.nvlink_active is None and "NVLink 3" in lost.errors["nvlink_active"]
    assert healthy.name == "NVIDIA H200 \ufffd"  # non-UTF-8 bytes are replaced, not raised
    assert lost.remap_pending is None and "binding fault" in lost.errors["remap_pending"]


def test_nvml_gpu_whose_reading_faults_is_kept_with_the_reason() -> None:
    class OddShape(FakeNvml):
        def nvmlDeviceGetCudaComputeCapability(self, h: int) -> tuple[int, int]:
            return ()  # type: ignore[return-value]

    facts = read_nvml(OddShape(nvml_from_capture("h100").dump))
    (gpu,) = facts.gpus
    assert "handle" in gpu.errors and gpu.compute_capability is None


def test_bus_ids_are_normalised() -> None:
    assert normalize_bus_id(b"00000000:00:1E.0") == "0000:00:1e.0"
    assert normalize_bus_id("0000:3b:00.0") == "0000:3b:00.0"
    assert normalize_bus_id("[N/A]") is None


# --------------------------------------------------------------------- nvidia-smi captures


def test_csv_capture_with_header_and_units() -> None:
    facts = parse_query_csv(command_output("h100", "nvsmi_csv.txt"))
    (gpu,) = facts.gpus
    assert facts.driver_version == "580.159.04"
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.compute_capability == "9.0"
    assert gpu.memory_total_mib == 81559
    assert (gpu.pcie_gen_current, gpu.pcie_gen_max, gpu.pcie_width_max) == (5, 5, 16)
    assert gpu.persistence_mode is True and gpu.ecc_enabled is True and gpu.mig_enabled is False
    assert "retired_pages_pending" in gpu.not_supported  # "[N/A]"
    assert "remap_pending" in gpu.errors  # the CSV query cannot tell


def test_csv_without_header_uses_the_query_order() -> None:
    fields = ("index", "name", "memory.total", "persistence_mode")
    facts = parse_query_csv(
        "0, NVIDIA H200, 143771, Disabled\n1, NVIDIA H200, 143771, Enabled\n", fields
    )
    assert [g.persistence_mode for g in facts.gpus] == [False, True]


def test_csv_garbage_is_unreadable_not_zero_gpus() -> None:
    facts = parse_query_csv("Unable to determine the device handle for GPU0000:00:06.0\n")
    assert facts.source == "none" and "unexpected output" in (facts.error or "")


def test_csv_odd_values_are_errors_of_that_field() -> None:
    fields = ("index", "name", "compute_cap", "memory.total", "persistence_mode")
    facts = parse_query_csv(
        "0, NVIDIA H100, [Not Supported], [N/A], Enabled\n"
        "1, NVIDIA H100, ERR!, [GPU requires reset], Enabled\n",
        fields,
    )
    first, second = facts.gpus
    assert "compute_capability" in first.not_supported and "memory_total_mib" in first.not_supported
    assert second.compute_capability is None and "ERR!" in second.errors["compute_capability"]
    assert "memory_total_mib" in second.errors and second.persistence_mode is True


def test_xml_capture_gives_remap_ecc_and_fabric() -> None:
    facts = parse_query_xml(capture("h200x2", "nvsmi_q.xml"))
    assert facts.source == "nvidia-smi-xml"
    assert facts.cuda_driver_version == "13.0"
    assert len(facts.gpus) == 2
    gpu = facts.gpus[1]
    assert gpu.pci_bus_id == "0000:00:07.0"
    assert gpu.memory_total_mib == 143771
    assert gpu.remap_pending is False and gpu.remap_failure is False
    assert gpu.ecc_uncorrected_volatile == 0 and gpu.ecc_uncorrected_aggregate == 0
    assert gpu.fabric_state == "completed" and gpu.fabric_status_ok is True
    assert (gpu.pcie_width_current, gpu.pcie_width_max) == (16, 16)
    h100 = parse_query_xml(capture("h100", "nvsmi_q.xml")).gpus[0]
    assert "fabric_state" in h100.not_supported


def test_nvlink_status_capture() -> None:
    links = parse_nvlink_status(command_output("h200x2", "nvlink_status.txt"))
    assert sorted(links) == [0, 1] and all(len(v) == 18 and all(v) for v in links.values())
    down = parse_nvlink_status(
        "GPU 0: NVIDIA H200 (UUID: x)\n\t Link 0: 26.562 GB/s\n\t Link 1: <inactive>\n"
    )
    assert down == {0: [True, False]}


def test_nvidia_smi_falls_back_to_xml_when_the_csv_query_is_refused() -> None:
    from hyperpod_preflight.host.commands import CommandResult

    def run(argv: list[str]) -> CommandResult:
        if any(a.startswith("--query-gpu") for a in argv):
            return CommandResult(
                argv, 2, 'Field "ecc.mode.pending" is not a valid field to query.', ""
            )
        return CommandResult(argv, 0, capture("h100", "nvsmi_q.xml"), "")

    facts = read_nvidia_smi("nvidia-smi", run)
    assert facts.source == "nvidia-smi-xml" and facts.gpus[0].name == "NVIDIA H100 80GB HBM3"


# --------------------------------------------------------------------- /proc and /sys


def test_tree_readers(tmp_path: Path) -> None:
    root = build_tree(tmp_path, Node(gpus=2, efa=4, cores=48, threads_per_core=2, memlock="65536"))
    cpu = sysfs.cpu_info(root)
    assert (cpu.logical_cpus, cpu.physical_cores) == (96, 48)
    assert cpu.hypervisor is True and cpu.virtualization_flag is None
    assert sysfs.meminfo(root)["MemTotal"] == 128 * 2**30
    devices = sysfs.pci_devices(root) or []
    gpus = [d for d in devices if d.is_nvidia_gpu]
    efa = [d for d in devices if d.is_efa]
    assert [g.address for g in gpus] == ["0000:00:06.0", "0000:00:07.0"]
    assert gpus[0].driver == "nvidia" and gpus[0].iommu_group == 10
    assert len(efa) == 4  # the ENA card (same vendor, 0xec20) is not counted
    assert sysfs.iommu_group_members(root, 10) == ["0000:00:06.0"]
    assert sysfs.memlock(root) is not None and sysfs.memlock(root).soft == 65536  # type: ignore[union-attr]
    assert sysfs.cgroup(root).version == 2
    assert sysfs.kernel_release(root) == "6.8.0-1015-aws"
    assert sysfs.os_release(root)["VERSION_ID"] == "22.04"
    assert sysfs.user(root).groups == ["docker", "kvm", "libvirt", "ubuntu"]
    assert sysfs.uverbs_devices(root) == ["uverbs0", "uverbs1", "uverbs2", "uverbs3"]


def test_nvidia_kernel_driver_from_proc(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    assert sysfs.nvidia_kernel_driver_version(root) is None
    assert sysfs.nvidia_driver_loaded(root, ["nvidia"]) is True
    assert sysfs.nvidia_driver_loaded(root, ["efa"]) is False
    assert sysfs.nvidia_driver_loaded(root, None) is None
    for open_module in (False, True):
        write(
            root, "/proc/driver/nvidia/version", nvrm_version("580.95.05", open_module=open_module)
        )
        assert sysfs.nvidia_kernel_driver_version(root) == "580.95.05"
        assert sysfs.nvidia_driver_loaded(root, None) is True
    write(root, "/proc/driver/nvidia/version", "garbage\n")
    assert sysfs.nvidia_kernel_driver_version(root) is None
    write(root, "/sys/module/nvidia/version", "570.133.20\n")
    assert sysfs.nvidia_kernel_driver_version(root) == "570.133.20"


def test_pci_scan_tells_an_unreadable_bus_from_an_empty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build_tree(tmp_path, Node(gpus=0))
    devices, error = sysfs.pci_scan(root)
    assert devices is not None and not any(d.is_nvidia_gpu for d in devices) and error is None
    (root / "sys/bus/pci/devices/0000:00:05.0/vendor").unlink()
    devices, error = sysfs.pci_scan(root)
    assert devices == [] and error is not None and "0000:00:05.0" in error
    missing, error = sysfs.pci_scan(tmp_path / "nowhere")
    assert missing is None and error and "No such file" in error
    real_iterdir = Path.iterdir

    def iterdir(self: Path) -> Any:
        if self.name == "devices":
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    denied, error = sysfs.pci_scan(root)
    assert denied is None and error and "Permission denied" in error


def test_unreadable_files_give_none_not_errors(tmp_path: Path) -> None:
    assert sysfs.memlock(tmp_path) is None
    assert sysfs.modules(tmp_path) is None
    assert sysfs.cpu_info(tmp_path).logical_cpus is None
    assert sysfs.cgroup(tmp_path).version is None
    assert sysfs.pci_devices(tmp_path) is None


def test_garbage_and_odd_files_give_none_not_errors(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    write(root, "/proc/self/status", "Uid:\tabc\nGid:\nGroups:\tx 4\n")
    user = sysfs.user(root)
    assert user.uid is None and user.groups == ["adm"]
    comm = root / "proc/1234/comm"
    comm.parent.mkdir(parents=True)
    comm.write_bytes(b"\xff\xfenv\n")  # a process may name itself with any bytes
    assert sysfs.fabric_manager_process(root) is False
    (root / "proc/1235").mkdir()
    (root / "proc/1235/comm").write_bytes(b"nv-fabricmanager\n")
    assert sysfs.fabric_manager_process(root) is True


def test_a_path_that_cannot_be_looked_at_is_an_error_not_an_exception(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    odd = "/" + "a" * 300  # ENAMETOOLONG from stat(), as EACCES would be for a non-root user
    disk = sysfs.disk(root, odd, sysfs.mounts(root))
    assert disk.exists and disk.error and disk.free_bytes is None
    assert sysfs.disk(root, "/nowhere", []).exists is False


def test_host_run_with_an_unreadable_path_is_unknown(tmp_path: Path) -> None:
    from hyperpod_preflight.host import run_host_preflight

    root = build_tree(tmp_path)
    odd = "/" + "a" * 300
    report = run_host_preflight(root=str(root), nvml=None, paths=[odd], only=["host.disk-free"])
    (finding,) = report.results
    assert finding.status.value == "UNKNOWN" and "could not tell" in finding.message


def test_which_skips_a_path_entry_it_cannot_look_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperpod_preflight.host.commands import which

    root = build_tree(tmp_path)
    tool(root, "git", "git version 2.43.0")
    monkeypatch.setenv("PATH", "/" + "b" * 300 + ":/usr/bin")
    assert which("git", root) == str(root / "usr/bin/git")


def test_readers_that_meet_permission_denied_say_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build_tree(tmp_path, Node(cgroup_v2=False))
    shutil.rmtree(root / "sys/kernel/iommu_groups")
    assert sysfs.iommu_group_count(root) == 0  # /sys/kernel read: no IOMMU groups
    denied = {root / "sys/fs/cgroup", root / "sys/kernel"}
    real_stat = Path.stat

    def fake_stat(self: Path, **kwargs: Any) -> Any:
        if self in denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", fake_stat)
    assert sysfs.cgroup(root).version is None
    assert sysfs.iommu_group_count(root) is None
    assert sysfs.is_dir(root / "sys/kernel") is None
    assert sysfs.is_file(root / "etc/passwd") is True
    assert sysfs.is_file(root / "nowhere") is False


def test_cgroup_v1_hybrid_is_not_v2(tmp_path: Path) -> None:
    assert sysfs.cgroup(build_tree(tmp_path, Node(cgroup_v2=False))).version == 1


# --------------------------------------------------------------------- tools


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("gcc (Ubuntu 13.2.0-23ubuntu4) 13.2.0", "13.2.0"),
        ("containerd github.com/containerd/containerd v1.6.8 9cd3357", "1.6.8"),
        ("Version: 3.19", "3.19"),
        ("apptainer version 1.3.4-1.el8", "1.3.4"),
        ("no digits here", None),
    ],
)
def test_version_parsing(text: str, version: str | None) -> None:
    assert parse_version(text) == version


def test_version_comparison() -> None:
    assert version_at_least("580.159.04", "535")
    assert not version_at_least("470.256.02", "535")
    assert version_at_least("6.8.0-1015-aws", "5.15")
    assert not version_at_least("5.4.0-1103-aws", "5.15")


def test_probe_runs_the_tool_in_the_tree(tmp_path: Path) -> None:
    tool(tmp_path, "cmake", "cmake version 3.16.3")
    info = probe_tool(TOOLS["cmake"], tmp_path, want_version=True)
    assert info.found and info.version == "3.16.3"
    missing = probe_tool(TOOLS["criu"], tmp_path, want_version=True)
    assert not missing.found and missing.error is None


# --------------------------------------------------------------------- instance type


def test_resource_config_names_this_nodes_type(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    resource_config(root, "ml.p5.48xlarge")
    found = read_resource_config(root, "ip-10-1-2-3")
    assert found is not None and found.instance_type == "ml.p5.48xlarge"
    assert found.group == "workers" and found.cluster_name == "ml-cluster"
    assert read_resource_config(tmp_path / "nowhere", None) is None


@pytest.mark.parametrize(
    "text",
    [
        '{"InstanceGroups": 5}',
        '{"InstanceGroups": [{"InstanceType": 5, "Instances": 3}]}',
        '{"InstanceGroups": [{"InstanceType": ["ml.p5.48xlarge"]}, '
        '{"InstanceType": "ml.p5.48xlarge", "Instances": [{"CustomerIpAddress": ["10.1.2.3"]}]}]}',
        '{"ClusterConfig": {"ClusterName": 7}, "InstanceGroups": "abc"}',
        "[" * 100_000 + "]" * 100_000,
        "not json",
    ],
)
def test_resource_config_of_any_shape_is_an_error_not_an_exception(
    tmp_path: Path, text: str
) -> None:
    root = build_tree(tmp_path)
    write(root, "/opt/ml/config/resource_config.json", text)
    found = read_resource_config(root, "ip-10-1-2-3")
    assert found is not None and found.found
    assert found.instance_type is None or isinstance(found.instance_type, str)
    assert found.cluster_name is None or isinstance(found.cluster_name, str)
    assert found.error or found.instance_type


def test_resource_config_that_is_not_utf8_is_named_in_the_finding(tmp_path: Path) -> None:
    from hyperpod_preflight.host import run_host_preflight

    root = build_tree(tmp_path)
    target = root / "opt/ml/config/resource_config.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\xff\xfe{")
    report = run_host_preflight(root=str(root), nvml=None, only=["host.gpu-count"])
    (finding,) = report.results
    assert finding.status.value == "UNKNOWN"
    assert "resource_config.json: unreadable" in finding.message


def test_expectations_of_known_types() -> None:
    p5 = expectation("ml.p5.48xlarge")
    assert p5 is not None and (p5.gpus, p5.efa_devices, p5.nvswitch) == (8, 32, True)
    p5en = expectation("p5en.48xlarge")
    assert p5en is not None and p5en.efa_devices == 16
    trn = expectation("ml.trn1.32xlarge")
    assert trn is not None and trn.gpus == 0 and trn.accelerator == "neuron"
    assert expectation("ml.zz9.huge") is None


class _Imds(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_PUT(self) -> None:
        self.hits.append(f"PUT {self.path}")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"token-123")

    def do_GET(self) -> None:
        self.hits.append(f"GET {self.path} {self.headers.get('X-aws-ec2-metadata-token')}")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"p5.48xlarge")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_imds() -> Iterator[str]:
    _Imds.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Imds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_imds_v2_token_then_instance_type(fake_imds: str) -> None:
    assert imds_instance_type(fake_imds) == "p5.48xlarge"
    assert _Imds.hits == ["PUT /latest/api/token", "GET /latest/meta-data/instance-type token-123"]


def test_imds_only_with_the_flag(tmp_path: Path, fake_imds: str) -> None:
    from hyperpod_preflight.host import run_host_preflight

    root = str(build_tree(tmp_path))
    report = run_host_preflight(root=root, imds_url=fake_imds, nvml=None)
    assert _Imds.hits == [] and report.facts["instance_type"] is None
    report = run_host_preflight(root=root, imds=True, imds_url=fake_imds, nvml=None)
    assert report.facts["instance_type"] == "p5.48xlarge"
    assert report.facts["instance_type_source"] == "instance metadata"


def test_imds_silence_is_not_an_error() -> None:
    assert imds_instance_type("http://127.0.0.1:9", timeout=0.5) is None
