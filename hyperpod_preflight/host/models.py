"""The host facts: what one node looks like, as plain data.

:class:`HostFacts` is built once per run by :mod:`hyperpod_preflight.host.facts` and judged by
the host checks; it is also serialised into the report's ``facts`` so a fleet aggregate can
compare nodes. ``None`` always means "could not be read"; a field that the hardware does not
have is named in ``not_supported`` (NVML's NotSupported), never reported as a failure.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .deep.models import DeepFacts

GpuSource = Literal["nvml", "nvidia-smi", "nvidia-smi-xml", "none"]


class GpuInfo(BaseModel):
    """One NVIDIA GPU as the driver sees it."""

    index: int
    name: str | None = None
    uuid: str | None = None
    pci_bus_id: str | None = Field(default=None, description="`0000:00:06.0`, lower case.")
    compute_capability: str | None = Field(default=None, description="`9.0`")
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
    nvlink_active: list[bool] | None = Field(
        default=None, description="State of each NVLink (True: up); None: unknown or none."
    )
    fabric_state: str | None = Field(
        default=None, description="not-supported | not-started | in-progress | completed"
    )
    fabric_status_ok: bool | None = None
    not_supported: list[str] = Field(
        default_factory=list, description="Fields the GPU or driver reports as not supported."
    )
    errors: dict[str, str] = Field(
        default_factory=dict, description="Fields that could not be read, with the reason."
    )

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


class GpuFacts(BaseModel):
    """GPUs and driver, from NVML or, without it, from nvidia-smi."""

    source: GpuSource = "none"
    driver_version: str | None = None
    cuda_driver_version: str | None = Field(default=None, description="`13.0`")
    nvml_version: str | None = None
    gpus: list[GpuInfo] = Field(default_factory=list)
    error: str | None = Field(
        default=None, description="Why no GPU could be read (driver not loaded, no tool …)."
    )
    permission_denied: bool = False
    driver_loaded: bool | None = Field(
        default=None,
        description="Without NVML or nvidia-smi: whether the nvidia kernel module is loaded "
        "(/proc/modules, /proc/driver/nvidia); None: could not tell, or not looked at.",
    )
    driver_version_source: str | None = Field(
        default=None,
        description="Where driver_version was read when neither NVML nor nvidia-smi was "
        "usable (`/proc/driver/nvidia/version`); None: from the GPU source.",
    )

    @property
    def readable(self) -> bool:
        return self.source != "none"


class PciDevice(BaseModel):
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


class CpuFacts(BaseModel):
    vendor: str | None = None
    model_name: str | None = None
    logical_cpus: int | None = None
    physical_cores: int | None = None
    sockets: int | None = None
    virtualization_flag: str | None = Field(default=None, description="`vmx`, `svm` or None.")
    hypervisor: bool | None = Field(default=None, description="Running as a virtual machine.")


class Limit(BaseModel):
    """A resource limit; ``None`` means unlimited."""

    soft: int | None
    hard: int | None


class CgroupFacts(BaseModel):
    version: int | None = Field(default=None, description="2, 1, or None when unreadable.")
    controllers: list[str] = Field(default_factory=list)


class DiskFacts(BaseModel):
    path: str
    exists: bool
    free_bytes: int | None = None
    total_bytes: int | None = None
    mount_point: str | None = None
    fstype: str | None = None
    error: str | None = None


class ToolInfo(BaseModel):
    """A command looked up on PATH (and its version, when the profile needs it)."""

    name: str
    path: str | None = None
    version: str | None = None
    ran: bool = False
    exit_code: int | None = None
    output: str = Field(default="", description="First lines of what it printed.")
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.path is not None


class ServiceFacts(BaseModel):
    name: str
    state: str | None = Field(
        default=None, description="active | inactive | failed | … ; None when unknown."
    )
    source: str | None = Field(default=None, description="How the state was learned.")
    detail: str = ""


class KvmFacts(BaseModel):
    exists: bool = False
    accessible: bool = False


class UserFacts(BaseModel):
    name: str | None = None
    uid: int | None = None
    groups: list[str] | None = None
    error: str | None = Field(default=None, description="Why the groups could not be read.")


class ResourceConfigFacts(BaseModel):
    """HyperPod's /opt/ml/config/resource_config.json, when present."""

    path: str
    found: bool = False
    cluster_name: str | None = None
    group: str | None = None
    instance_type: str | None = None
    instance_id: str | None = Field(
        default=None, description="This node's InstanceId (found by its address), if listed."
    )
    error: str | None = None


class SlurmNodeFacts(BaseModel):
    node: str | None = None
    gres: str | None = None
    state: str | None = None
    error: str | None = None


class BandwidthResult(BaseModel):
    gpu_index: int
    pci_bus_id: str | None = None
    gbps: float | None = None
    bytes_per_copy: int = 0
    copies: int = 0
    error: str | None = None


class BandwidthFacts(BaseModel):
    backend: str | None = Field(default=None, description="`torch` or `cupy`; None: neither.")
    results: list[BandwidthResult] = Field(default_factory=list)
    reason: str | None = None


class DcgmTest(BaseModel):
    name: str
    category: str = ""
    status: str
    messages: list[str] = Field(default_factory=list)
    gpus: list[int] = Field(default_factory=list)


class DcgmFacts(BaseModel):
    ran: bool = False
    level: int = Field(default=1, description="The run level: dcgmi diag -r LEVEL.")
    exit_code: int | None = None
    tests: list[DcgmTest] = Field(default_factory=list)
    error: str | None = None


class HostFacts(BaseModel):
    """Everything the host checks judge, read once."""

    root: str = "/"
    hostname: str | None = None
    kernel_release: str | None = None
    os_release: dict[str, str] = Field(default_factory=dict)
    cpu: CpuFacts = Field(default_factory=CpuFacts)
    mem_total_bytes: int | None = None
    mem_available_bytes: int | None = None
    modules: list[str] | None = None
    cmdline: str | None = None
    iommu_group_count: int | None = None
    pci_devices: list[PciDevice] = Field(
        default_factory=list, description="NVIDIA GPUs and Amazon EFA devices only."
    )
    pci_error: str | None = Field(
        default=None,
        description="Why /sys/bus/pci/devices could not be read (fully); pci_devices is then "
        "empty or a lower bound. None: read.",
    )
    infiniband_devices: list[str] | None = None
    uverbs_devices: list[str] | None = None
    cgroup: CgroupFacts = Field(default_factory=CgroupFacts)
    memlock: Limit | None = None
    user: UserFacts = Field(default_factory=UserFacts)
    kvm: KvmFacts = Field(default_factory=KvmFacts)
    disks: list[DiskFacts] = Field(default_factory=list)
    tools: dict[str, ToolInfo] = Field(default_factory=dict)
    gpu: GpuFacts = Field(default_factory=GpuFacts)
    fabric_manager: ServiceFacts | None = None
    resource_config: ResourceConfigFacts | None = None
    instance_type: str | None = None
    instance_type_source: str | None = None
    slurm: SlurmNodeFacts | None = None
    python_version: str | None = Field(default=None, description="python3 on PATH.")
    apptainer_nvliblist: str | None = Field(
        default=None, description="Apptainer's nvliblist.conf (needed by --nv), if found."
    )
    apptainer_nvliblist_error: str | None = Field(
        default=None,
        description="When no nvliblist.conf was found: the places that could not be looked "
        "at (permission denied …), so its absence is not certain.",
    )
    bandwidth: BandwidthFacts | None = None
    dcgm: DcgmFacts | None = None
    deep: DeepFacts | None = Field(
        default=None, description="What --deep measured (and the Xid history it read)."
    )
    collect_seconds: float | None = None
    notes: list[str] = Field(default_factory=list)

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
        return self.model_dump(mode="json")
