"""Fixture trees for the host tests, built from the real captures in fixtures/.

A tree is a directory laid out like a node's ``/`` (proc, sys, dev, etc, usr/bin) that the
readers take as ``root``. GPU data comes from the captures: a pynvml-like fake replays
``nvml.json`` (plus the NVLink status and XML captures for what the dump lacks), and a fake
``nvidia-smi`` script prints the captured CSV / XML / NVLink output. Tools are tiny shell
scripts printing what the real tool prints.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EFA_DEVICE = "0xefa1"


def capture(node: str, name: str) -> str:
    return (FIXTURES / node / name).read_text()


def command_output(node: str, name: str) -> str:
    """The output part of a ``$ command`` / ``[rc=0]`` capture file."""
    lines = capture(node, name).splitlines()
    body = [line for line in lines if not line.startswith("$ ") and not line.startswith("[rc=")]
    return "\n".join(body) + "\n"


# --------------------------------------------------------------------------- fake pynvml


class FakeNVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return {
            3: "Not Supported",
            4: "Insufficient Permissions",
            9: "Driver Not Loaded",
            2: "Invalid Argument",
        }.get(self.value, f"NVML error {self.value}")


class FakeFabricInfo(ctypes.Structure):
    _fields_ = [("state", ctypes.c_uint), ("status", ctypes.c_uint)]


class FakePciInfo:
    def __init__(self, bus_id: str) -> None:
        self.busId = bus_id.encode()


class FakeMemory:
    def __init__(self, total: int) -> None:
        self.total = total


def _parse_tuple(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"-?\d+", text)]


class FakeNvml:
    """Replays an ``nvml.json`` capture through the pynvml functions hp-preflight calls.

    ``gpu_overrides[i]`` replaces fields of GPU i (same keys as the capture, plus
    ``nvlink`` (list of link states), ``ecc_volatile``, ``ecc_aggregate``, ``fabric``
    (state, status)); ``init_error`` makes nvmlInit fail with that NVML code.
    """

    NVMLError = FakeNVMLError
    NVML_ERROR_NOT_SUPPORTED = 3
    NVML_ERROR_NO_PERMISSION = 4
    NVML_ERROR_FUNCTION_NOT_FOUND = 13
    NVML_SUCCESS = 0
    NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
    NVML_VOLATILE_ECC = 0
    NVML_AGGREGATE_ECC = 1
    NVML_NVLINK_MAX_LINKS = 36
    c_nvmlGpuFabricInfoV_t = FakeFabricInfo

    def __init__(
        self,
        dump: dict[str, Any],
        *,
        nvlinks: dict[int, list[bool]] | None = None,
        fabric: dict[int, tuple[int, int]] | None = None,
        gpu_overrides: dict[int, dict[str, Any]] | None = None,
        init_error: int | None = None,
    ) -> None:
        self.dump = json.loads(json.dumps(dump))
        for index, changes in (gpu_overrides or {}).items():
            self.dump["gpus"][index].update(changes)
        self.nvlinks = nvlinks or {}
        self.fabric = fabric or {}
        self.init_error = init_error
        self.calls: list[str] = []
        self.shutdown = False

    @staticmethod
    def _maybe_error(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("ERR "):
            raise FakeNVMLError(3 if "NotSupported" in value else 999)
        return value

    def _gpu(self, handle: int) -> dict[str, Any]:
        gpu: dict[str, Any] = self.dump["gpus"][handle]
        return gpu

    def nvmlInit(self) -> None:
        self.calls.append("init")
        if self.init_error is not None:
            raise FakeNVMLError(self.init_error)

    def nvmlShutdown(self) -> None:
        self.shutdown = True

    def nvmlSystemGetDriverVersion(self) -> str:
        return str(self.dump["driver"])

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        return int(self.dump["cuda_driver"])

    def nvmlSystemGetNVMLVersion(self) -> str:
        return str(self.dump["nvml"])

    def nvmlDeviceGetCount(self) -> int:
        return len(self.dump["gpus"])

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, h: int) -> str:
        return str(self._gpu(h)["name"])

    def nvmlDeviceGetUUID(self, h: int) -> str:
        return str(self._gpu(h)["uuid"])

    def nvmlDeviceGetPciInfo(self, h: int) -> FakePciInfo:
        return FakePciInfo(self._gpu(h)["pci"])

    def nvmlDeviceGetCudaComputeCapability(self, h: int) -> tuple[int, int]:
        major, minor = self._gpu(h)["cc"]
        return int(major), int(minor)

    def nvmlDeviceGetMemoryInfo(self, h: int) -> FakeMemory:
        return FakeMemory(int(self._gpu(h)["mem_total"]))

    def nvmlDeviceGetEccMode(self, h: int) -> list[int]:
        return _parse_tuple(self._maybe_error(self._gpu(h)["ecc"]))

    def nvmlDeviceGetTotalEccErrors(self, h: int, error_type: int, counter: int) -> int:
        key = "ecc_volatile" if counter == 0 else "ecc_aggregate"
        return int(self._maybe_error(self._gpu(h).get(key, 0)))

    def nvmlDeviceGetRetiredPagesPendingStatus(self, h: int) -> int:
        return int(self._maybe_error(self._gpu(h)["retired_pending"]))

    def nvmlDeviceGetRemappedRows(self, h: int) -> tuple[int, ...]:
        return tuple(_parse_tuple(self._maybe_error(self._gpu(h)["remapped_rows"])))

    def nvmlDeviceGetCurrPcieLinkGeneration(self, h: int) -> int:
        return int(self._gpu(h)["pcie_gen_cur"])

    def nvmlDeviceGetMaxPcieLinkGeneration(self, h: int) -> int:
        return int(self._gpu(h)["pcie_gen_max"])

    def nvmlDeviceGetCurrPcieLinkWidth(self, h: int) -> int:
        return int(self._gpu(h)["pcie_width_cur"])

    def nvmlDeviceGetMaxPcieLinkWidth(self, h: int) -> int:
        return int(self._gpu(h)["pcie_width_max"])

    def nvmlDeviceGetPersistenceMode(self, h: int) -> int:
        return int(self._gpu(h)["persistence"])

    def nvmlDeviceGetMigMode(self, h: int) -> list[int]:
        return _parse_tuple(self._maybe_error(self._gpu(h)["mig"]))

    def nvmlDeviceGetNvLinkState(self, h: int, link: int) -> int:
        gpu = self._gpu(h)
        if "nvlink" in gpu:
            links = gpu["nvlink"]
        elif h in self.nvlinks:
            links = self.nvlinks[h]
        else:
            self._maybe_error(gpu["nvlink0_state"])  # NotSupported on a GPU without NVLink
            links = [bool(int(gpu["nvlink0_state"]))]
        if link >= len(links):
            raise FakeNVMLError(2)  # invalid argument: past the last link
        return int(links[link])

    def nvmlDeviceGetGpuFabricInfoV(self, h: int, ref: Any) -> int:
        if h not in self.fabric:
            raise FakeNVMLError(3)
        info = ref._obj
        info.state, info.status = self.fabric[h]
        return 0


def nvml_from_capture(node: str, **kwargs: Any) -> FakeNvml:
    """A fake pynvml replaying ``fixtures/<node>/nvml.json`` with the NVLink and fabric state
    of that node's other captures."""
    dump = json.loads(capture(node, "nvml.json"))
    nvlinks: dict[int, list[bool]] = {}
    fabric: dict[int, tuple[int, int]] = {}
    if (FIXTURES / node / "nvlink_status.txt").exists():
        from hyperpod_preflight.host.nvsmi import parse_nvlink_status

        nvlinks = parse_nvlink_status(command_output(node, "nvlink_status.txt"))
    xml = capture(node, "nvsmi_q.xml")
    states = re.findall(r"<fabric>\s*<state>([^<]*)</state>\s*<status>([^<]*)</status>", xml)
    for index, (state, status) in enumerate(states):
        if state.strip() == "Completed":
            fabric[index] = (3, 0 if status.strip() == "Success" else 1)
    kwargs.setdefault("nvlinks", nvlinks)
    kwargs.setdefault("fabric", fabric)
    return FakeNvml(dump, **kwargs)


def eight_gpu_dump(node: str = "h200x2") -> dict[str, Any]:
    """An 8-GPU NVML dump made by repeating the captured GPU with fresh PCI addresses."""
    dump: dict[str, Any] = json.loads(capture(node, "nvml.json"))
    template = dump["gpus"][0]
    dump["gpus"] = []
    for i in range(8):
        gpu = dict(template)
        gpu["pci"] = f"00000000:00:{0x10 + i:02X}.0"
        gpu["uuid"] = template["uuid"][:-2] + f"{i:02d}"
        dump["gpus"].append(gpu)
    dump["count"] = 8
    return dump


# --------------------------------------------------------------------------- trees


def write(root: Path, path: str, text: str, mode: int | None = None) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    if mode is not None:
        target.chmod(mode)
    return target


def script(root: Path, path: str, body: str) -> Path:
    return write(
        root,
        path,
        "#!/bin/sh\n" + body + "\n",
        stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH,
    )


def tool(root: Path, name: str, output: str, *, directory: str = "/usr/bin") -> Path:
    """A fake tool printing ``output`` whatever it is asked."""
    quoted = output.replace("'", "'\\''")
    return script(root, f"{directory}/{name}", f"printf '%s\\n' '{quoted}'")


TOOL_OUTPUT = {
    "gcc": "gcc (Ubuntu 13.2.0-23ubuntu4) 13.2.0",
    "cmake": "cmake version 3.28.3",
    "ninja": "1.11.1",
    "git": "git version 2.43.0",
    "python3": "Python 3.12.3",
    "virsh": "10.0.0",
    "qemu-system-x86_64": "QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1.4)",
    "criu": "Version: 3.19",
    "cuda-checkpoint": "cuda-checkpoint",
    "containerd": "containerd containerd.io 1.7.22 7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c",
    "nvidia-ctk": "NVIDIA Container Toolkit CLI version 1.16.2",
    "runc": "runc version 1.1.14",
    "apptainer": "apptainer version 1.3.4",
    "sinfo": "slurm 24.05.4",
    "srun": "slurm 24.05.4",
}


def docker(root: Path, *, compose: bool = True, buildx: bool = True) -> None:
    """A fake docker whose compose/buildx plugins exist or not."""
    script(
        root,
        "/usr/bin/docker",
        "\n".join(
            [
                'case "$1" in',
                '  --version) echo "Docker version 27.3.1, build ce12230";;',
                "  compose) "
                + (
                    'echo "Docker Compose version v2.29.7";;'
                    if compose
                    else "echo \"docker: 'compose' is not a docker command.\" >&2; exit 1;;"
                ),
                "  buildx) "
                + (
                    'echo "github.com/docker/buildx v0.17.1 257815a";;'
                    if buildx
                    else "echo \"docker: 'buildx' is not a docker command.\" >&2; exit 1;;"
                ),
                "esac",
            ]
        ),
    )


def fake_nvidia_smi(root: Path, node: str, *, fail: str | None = None) -> None:
    """``nvidia-smi`` printing the captures of ``node`` (CSV, XML, nvlink -s, -L)."""
    folder = root / "usr/share/fake-nvidia-smi"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "csv").write_text(command_output(node, "nvsmi_csv.txt"))
    (folder / "xml").write_text(capture(node, "nvsmi_q.xml"))
    nvlink = (
        command_output(node, "nvlink_status.txt")
        if (FIXTURES / node / "nvlink_status.txt").exists()
        else ""
    )
    (folder / "nvlink").write_text(nvlink)
    dump = json.loads(capture(node, "nvml.json"))
    listing = "".join(
        f"GPU {i}: {g['name']} (UUID: {g['uuid']})\n" for i, g in enumerate(dump["gpus"])
    )
    (folder / "list").write_text(listing)
    if fail:
        quoted = fail.replace("'", "'\\''")
        script(root, "/usr/bin/nvidia-smi", f"printf '%s\\n' '{quoted}'; exit 9")
        return
    script(
        root,
        "/usr/bin/nvidia-smi",
        "\n".join(
            [
                f'd="{folder}"',
                'case "$*" in',
                '  *--query-gpu*) cat "$d/csv";;',
                '  *-q*) cat "$d/xml";;',
                '  nvlink*) cat "$d/nvlink";;',
                '  -L) cat "$d/list";;',
                '  *) cat "$d/list";;',
                "esac",
            ]
        ),
    )


@dataclass
class Node:
    """What a fixture tree holds; every default is a healthy HyperPod-like node."""

    gpus: int = 1  # NVIDIA PCI functions on the bus
    gpu_first: int = 6  # first PCI device number (the captures use 00:06.0, 00:07.0)
    gpu_device: str = "0x2330"  # H100 SXM
    efa: int = 0
    cores: int = 16
    threads_per_core: int = 1
    vmx: bool = False
    hypervisor: bool = True
    mem_gib: int = 128
    kernel: str = "6.8.0-1015-aws"
    os_id: str = "ubuntu"
    os_version: str = "22.04"
    cgroup_v2: bool = True
    memlock: str = "unlimited"
    modules: tuple[str, ...] = ("nvidia", "nvidia_uvm", "efa", "ib_uverbs", "ib_core")
    # /proc/driver/nvidia/version as the loaded module writes it; None: no such file
    nvrm_version: str | None = None
    uverbs: int | None = None  # default: one per EFA device
    iommu: bool = True
    kvm: bool = False
    uid: int = 1000
    user_groups: tuple[str, ...] = ("docker", "kvm", "libvirt")
    hostname: str = "ip-10-1-2-3"
    mounts: list[tuple[str, str]] = field(default_factory=lambda: [("/", "ext4")])
    cmdline: str = "BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1p1 ro"


def _pci(
    root: Path,
    address: str,
    vendor: str,
    device: str,
    klass: str,
    driver: str | None,
    group: int | None,
    width: int = 16,
) -> None:
    base = f"/sys/bus/pci/devices/{address}"
    write(root, f"{base}/vendor", vendor + "\n")
    write(root, f"{base}/device", device + "\n")
    write(root, f"{base}/class", klass + "\n")
    write(root, f"{base}/numa_node", "0\n")
    write(root, f"{base}/current_link_speed", "32.0 GT/s PCIe\n")
    write(root, f"{base}/max_link_speed", "32.0 GT/s PCIe\n")
    write(root, f"{base}/current_link_width", f"{width}\n")
    write(root, f"{base}/max_link_width", "16\n")
    device_dir = root / base.lstrip("/")
    if driver:
        (root / f"sys/bus/pci/drivers/{driver}").mkdir(parents=True, exist_ok=True)
        os.symlink(f"../../../../bus/pci/drivers/{driver}", device_dir / "driver")
    if group is not None:
        group_dir = root / f"sys/kernel/iommu_groups/{group}/devices"
        group_dir.mkdir(parents=True, exist_ok=True)
        os.symlink(f"../../../../kernel/iommu_groups/{group}", device_dir / "iommu_group")
        os.symlink(f"../../../../bus/pci/devices/{address}", group_dir / address)


def nvrm_version(version: str, *, open_module: bool = False) -> str:
    """/proc/driver/nvidia/version of a loaded driver (proprietary or open kernel module)."""
    if open_module:
        first = (
            f"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  {version}  Release "
            "Build  (dvs-builder@U16-I3-B03-4-3)  Thu Oct  9 20:21:42 UTC 2025"
        )
    else:
        first = (
            f"NVRM version: NVIDIA UNIX x86_64 Kernel Module  {version}  Thu Oct  9 "
            "20:21:42 UTC 2025"
        )
    return first + "\nGCC version:  gcc version 13.3.0 (Ubuntu 13.3.0-6ubuntu2~24.04)\n"


def gpu_addresses(count: int, first: int = 6) -> list[str]:
    """PCI addresses matching the captures (00:06.0, 00:07.0, …)."""
    return [f"0000:00:{first + i:02x}.0" for i in range(count)]


def build_tree(root: Path, node: Node | None = None) -> Path:
    n = node or Node()
    root.mkdir(parents=True, exist_ok=True)
    write(root, "/proc/sys/kernel/osrelease", n.kernel + "\n")
    write(root, "/proc/sys/kernel/hostname", n.hostname + "\n")
    flags = "fpu vme de pse tsc msr pae mce cx8 apic sep sse sse2 ht syscall nx lm"
    flags += " vmx" if n.vmx else ""
    flags += " hypervisor" if n.hypervisor else ""
    cpu_lines = []
    for cpu in range(n.cores * n.threads_per_core):
        cpu_lines.append(
            f"processor\t: {cpu}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) "
            f"Platinum 8488C\nphysical id\t: 0\ncore id\t\t: {cpu % n.cores}\ncpu cores\t: "
            f"{n.cores}\nflags\t\t: {flags}\n"
        )
    write(root, "/proc/cpuinfo", "\n".join(cpu_lines))
    kb = n.mem_gib * 1024 * 1024
    write(
        root,
        "/proc/meminfo",
        f"MemTotal:       {kb} kB\nMemFree:        {kb // 2} kB\nMemAvailable:   {kb // 2} kB\n",
    )
    write(
        root,
        "/proc/modules",
        "".join(f"{m} 12345 0 - Live 0x0000000000000000\n" for m in n.modules),
    )
    write(root, "/proc/cmdline", n.cmdline + "\n")
    if n.nvrm_version is not None:
        write(root, "/proc/driver/nvidia/version", n.nvrm_version)
    soft = hard = n.memlock
    write(
        root,
        "/proc/self/limits",
        "Limit                     Soft Limit           Hard Limit           Units     \n"
        "Max open files            1048576              1048576              files     \n"
        f"Max locked memory         {soft:<20} {hard:<20} bytes     \n",
    )
    groups = {"root": 0, "adm": 4, "docker": 999, "kvm": 993, "libvirt": 117, "ubuntu": 1000}
    member = [str(groups[g]) for g in n.user_groups if g in groups]
    write(
        root,
        "/proc/self/status",
        f"Name:\tpython3\nUid:\t{n.uid}\t{n.uid}\t{n.uid}\t{n.uid}\n"
        f"Gid:\t{n.uid}\t{n.uid}\t{n.uid}\t{n.uid}\nGroups:\t{' '.join(member)}\n",
    )
    write(
        root,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash\n",
    )
    write(root, "/etc/group", "".join(f"{g}:x:{gid}:\n" for g, gid in groups.items()))
    write(
        root,
        "/etc/os-release",
        f'NAME="{n.os_id.title()}"\nID={n.os_id}\n'
        f'VERSION_ID="{n.os_version}"\nPRETTY_NAME="{n.os_id.title()} {n.os_version}"\n',
    )
    if n.cgroup_v2:
        write(root, "/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n")
    else:
        for c in ("cpu", "memory", "devices", "unified"):
            (root / f"sys/fs/cgroup/{c}").mkdir(parents=True, exist_ok=True)
    write(root, "/proc/self/mounts", "".join(f"/dev/x {p} {t} rw 0 0\n" for p, t in n.mounts))
    (root / "sys/kernel").mkdir(parents=True, exist_ok=True)
    (root / "sys/bus/pci/devices").mkdir(parents=True, exist_ok=True)
    group = 10
    for address in gpu_addresses(n.gpus, n.gpu_first):
        _pci(
            root, address, "0x10de", n.gpu_device, "0x030200", "nvidia", group if n.iommu else None
        )
        group += 1
    for i in range(n.efa):
        address = f"0000:{0x20 + i:02x}:00.0"
        _pci(root, address, "0x1d0f", EFA_DEVICE, "0x020000", "efa", group if n.iommu else None)
        group += 1
        (root / f"sys/class/infiniband/rdmap{0x20 + i}s0").mkdir(parents=True)
    # Amazon's ENA network card and NVMe controller share the vendor id: never EFA.
    _pci(root, "0000:00:05.0", "0x1d0f", "0xec20", "0x020000", "ena", group if n.iommu else None)
    uverbs = n.efa if n.uverbs is None else n.uverbs
    (root / "dev/infiniband").mkdir(parents=True, exist_ok=True)
    for i in range(uverbs):
        write(root, f"/dev/infiniband/uverbs{i}", "")
    if n.kvm:
        write(root, "/dev/kvm", "")
    # statvfs needs real directories: the mount points of the tree.
    for path, _ in n.mounts:
        (root / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
    return root


def resource_config(root: Path, instance_type: str, ip: str = "10.1.2.3") -> None:
    """HyperPod's /opt/ml/config/resource_config.json naming this node's group and type."""
    doc = {
        "ClusterConfig": {
            "ClusterArn": "arn:aws:sagemaker:us-west-2:111122223333:cluster/abc",
            "ClusterName": "ml-cluster",
        },
        "InstanceGroups": [
            {
                "Name": "controller",
                "InstanceType": "ml.m5.xlarge",
                "Instances": [
                    {
                        "InstanceName": "controller-1",
                        "CustomerIpAddress": "10.1.0.9",
                        "InstanceId": "i-0aaa",
                    }
                ],
            },
            {
                "Name": "workers",
                "InstanceType": instance_type,
                "Instances": [
                    {"InstanceName": "workers-1", "CustomerIpAddress": ip, "InstanceId": "i-0bbb"}
                ],
            },
        ],
    }
    write(root, "/opt/ml/config/resource_config.json", json.dumps(doc, indent=1))
