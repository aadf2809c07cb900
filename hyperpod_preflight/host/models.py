"""The host facts: what one node looks like, as plain data.

:class:`HostFacts` is built once per run by :mod:`hyperpod_preflight.host.facts` and judged by
the host checks; it is also serialised into the report's ``facts`` so a fleet aggregate can
compare nodes. ``None`` always means "could not be read"; a field that the hardware does not
have is named in ``not_supported`` (NVML's NotSupported), never reported as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ..results import jsonable
from .deep.models import DeepFacts

GpuSource = Literal["nvml", "nvidia-smi", "nvidia-smi-xml", "none"]
T = TypeVar("T")


@dataclass(kw_only=True)
class GpuInfo:
    """One NVIDIA GPU as the driver sees it."""

    index: int
    name: str | None = None
    uuid: str | None = None
    pci_bus_id: str | None = None
    """`0000:00:06.0`, lower case."""
    compute_capability: str | None = None
    """`9.0`"""
    memory_total_mib: int | None = None
    ecc_enabled: bool | None = None
    ecc_pending_enabled: bool | None = None
    ecc_uncorrected_volatile: int | None = None
    ecc_uncorrected_aggregate: int | None = None
    retired_pages_pending: bool | None = None
    remapped_rows_correctable: int | None = None
    remapped_rows_uncorrectable: int | None = None
    remap_pending: bool | None = None
    remap_failure: bool | None = None
    pcie_gen_current: int | None = None
    pcie_gen_max: int | None = None
    pcie_width_current: int | None = None
    pcie_width_max: int | None = None
    persistence_mode: bool | None = None
    mig_enabled: bool | None = None
    nvlink_active: list[bool] | None = None
    """State of each NVLink (True: up); None: unknown or none."""
    fabric_state: str | None = None
    """not-supported | not-started | in-progress | completed"""
    fabric_status_ok: bool | None = None
    not_supported: list[str] = field(default_factory=list)
    """Fields the GPU or driver reports as not supported."""
    errors: dict[str, str] = field(default_factory=dict)
    """Fields that could not be read, with the reason."""

    @property
    def label(self) -> str:
        """How findings name this GPU: ``gpu0 (0000:00:06.0)``."""
        return f"gpu{self.index} ({self.pci_bus_id})" if self.pci_bus_id else f"gpu{self.index}"

    def why_missing(self, field: str, source: str) -> tuple[bool, str]:
        """(not_supported, reason) for a field left at None."""
        if field in self.not_supported:
            return True, f"{field} is not supported on {self.label}"
        if field in self.errors:
            return False, f"{field} unknown on {self.label}: {self.errors[field]}"
        return False, f"{field} unknown on {self.label}: not reported by {source}"


@dataclass(kw_only=True)
class GpuFacts:
    """GPUs and driver, from NVML or, without it, from nvidia-smi."""

    source: GpuSource = "none"
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    """`13.0`"""
    nvml_version: str | None = None
    gpus: list[GpuInfo] = field(default_factory=list)
    error: str | None = None
    """Why no GPU could be read (driver not loaded, no tool …)."""
    permission_denied: bool = False
    driver_loaded: bool | None = None
    """Without NVML or nvidia-smi: whether the nvidia kernel module is loaded (/proc/modules,
    /proc/driver/nvidia); None: could not tell, or not looked at."""
    driver_version_source: str | None = None
    """Where driver_version was read when neither NVML nor nvidia-smi was usable
    (`/proc/driver/nvidia/version`); None: from the GPU source."""

    @property
    def readable(self) -> bool:
        return self.source != "none"


@dataclass(kw_only=True)
class PciDevice:
    """One PCI function from /sys/bus/pci/devices."""

    address: str
    vendor_id: str
    device_id: str
    class_code: str
    driver: str | None = None
    iommu_group: int | None = None
    numa_node: int | None = None
    current_link_speed: str | None = None
    current_link_width: int | None = None
    max_link_speed: str | None = None
    max_link_width: int | None = None

    @property
    def is_nvidia_gpu(self) -> bool:
        return self.vendor_id == "0x10de" and self.class_code[:6] in ("0x0302", "0x0300")

    @property
    def is_efa(self) -> bool:
        return self.vendor_id == "0x1d0f" and self.device_id.startswith("0xefa")


@dataclass(kw_only=True)
class CpuFacts:
    vendor: str | None = None
    model_name: str | None = None
    logical_cpus: int | None = None
    physical_cores: int | None = None
    sockets: int | None = None
    virtualization_flag: str | None = None
    """`vmx`, `svm` or None."""
    hypervisor: bool | None = None
    """Running as a virtual machine."""


@dataclass(kw_only=True)
class Limit:
    """A resource limit; ``None`` means unlimited."""

    soft: int | None
    hard: int | None


@dataclass(kw_only=True)
class CgroupFacts:
    version: int | None = None
    """2, 1, or None when unreadable."""
    controllers: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class DiskFacts:
    path: str
    exists: bool
    free_bytes: int | None = None
    total_bytes: int | None = None
    mount_point: str | None = None
    fstype: str | None = None
    error: str | None = None


@dataclass(kw_only=True)
class ToolInfo:
    """A command looked up on PATH (and its version, when the profile needs it)."""

    name: str
    path: str | None = None
    version: str | None = None
    ran: bool = False
    exit_code: int | None = None
    output: str = ""
    """First lines of what it printed."""
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.path is not None


@dataclass(kw_only=True)
class ServiceFacts:
    name: str
    state: str | None = None
    """active | inactive | failed | … ; None when unknown."""
    source: str | None = None
    """How the state was learned."""
    detail: str = ""


@dataclass(kw_only=True)
class KvmFacts:
    exists: bool = False
    accessible: bool = False


@dataclass(kw_only=True)
class UserFacts:
    name: str | None = None
    uid: int | None = None
    groups: list[str] | None = None
    error: str | None = None
    """Why the groups could not be read."""


@dataclass(kw_only=True)
class ResourceConfigFacts:
    """HyperPod's /opt/ml/config/resource_config.json, when present."""

    path: str
    found: bool = False
    cluster_name: str | None = None
    group: str | None = None
    instance_type: str | None = None
    instance_id: str | None = None
    """This node's InstanceId (found by its address), if listed."""
    error: str | None = None


@dataclass(kw_only=True)
class SlurmNodeFacts:
    node: str | None = None
    gres: str | None = None
    state: str | None = None
    error: str | None = None


@dataclass(kw_only=True)
class BandwidthResult:
    gpu_index: int
    pci_bus_id: str | None = None
    gbps: float | None = None
    bytes_per_copy: int = 0
    copies: int = 0
    error: str | None = None


@dataclass(kw_only=True)
class BandwidthFacts:
    backend: str | None = None
    """`torch` or `cupy`; None: neither."""
    results: list[BandwidthResult] = field(default_factory=list)
    reason: str | None = None


@dataclass(kw_only=True)
class DcgmTest:
    name: str
    category: str = ""
    status: str
    messages: list[str] = field(default_factory=list)
    gpus: list[int] = field(default_factory=list)


@dataclass(kw_only=True)
class DcgmFacts:
    ran: bool = False
    level: int = 1
    """The run level: dcgmi diag -r LEVEL."""
    exit_code: int | None = None
    tests: list[DcgmTest] = field(default_factory=list)
    error: str | None = None


@dataclass(kw_only=True)
class HostFacts:
    """Everything the host checks judge, read once."""

    root: str = "/"
    hostname: str | None = None
    kernel_release: str | None = None
    os_release: dict[str, str] = field(default_factory=dict)
    cpu: CpuFacts = field(default_factory=CpuFacts)
    mem_total_bytes: int | None = None
    mem_available_bytes: int | None = None
    modules: list[str] | None = None
    cmdline: str | None = None
    iommu_group_count: int | None = None
    pci_devices: list[PciDevice] = field(default_factory=list)
    """NVIDIA GPUs and Amazon EFA devices only."""
    pci_error: str | None = None
    """Why /sys/bus/pci/devices could not be read (fully); pci_devices is then empty or a lower
    bound. None: read."""
    infiniband_devices: list[str] | None = None
    uverbs_devices: list[str] | None = None
    cgroup: CgroupFacts = field(default_factory=CgroupFacts)
    memlock: Limit | None = None
    user: UserFacts = field(default_factory=UserFacts)
    kvm: KvmFacts = field(default_factory=KvmFacts)
    disks: list[DiskFacts] = field(default_factory=list)
    tools: dict[str, ToolInfo] = field(default_factory=dict)
    gpu: GpuFacts = field(default_factory=GpuFacts)
    fabric_manager: ServiceFacts | None = None
    resource_config: ResourceConfigFacts | None = None
    instance_type: str | None = None
    instance_type_source: str | None = None
    slurm: SlurmNodeFacts | None = None
    python_version: str | None = None
    """python3 on PATH."""
    apptainer_nvliblist: str | None = None
    """Apptainer's nvliblist.conf (needed by --nv), if found."""
    apptainer_nvliblist_error: str | None = None
    """When no nvliblist.conf was found: the places that could not be looked at (permission denied
    …), so its absence is not certain."""
    bandwidth: BandwidthFacts | None = None
    dcgm: DcgmFacts | None = None
    deep: DeepFacts | None = None
    """What --deep measured (and the Xid history it read)."""
    collect_seconds: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def pci_gpus(self) -> list[PciDevice]:
        return [d for d in self.pci_devices if d.is_nvidia_gpu]

    @property
    def efa_devices(self) -> list[PciDevice]:
        return [d for d in self.pci_devices if d.is_efa]

    def tool(self, name: str) -> ToolInfo:
        return self.tools.get(name) or ToolInfo(name=name)

    def summary(self) -> dict[str, Any]:
        """The report's ``facts``: everything, JSON-ready."""
        return dict(jsonable(self))


def validated(kind: type[T], data: Any) -> T:
    """``data`` (parsed JSON: a report's ``facts``, a ``--deep`` capture) as ``kind``, one of
    the dataclasses above or of :mod:`.deep.models`, nested records included, checked and
    coerced by pydantic as its models did; keys that are not fields (the report's
    ``profile`` …) are ignored. pydantic is imported here, so only a path that parses JSON
    into these records loads it (a host run builds them from what it reads)."""
    from pydantic import TypeAdapter

    return TypeAdapter(kind).validate_python(data)
