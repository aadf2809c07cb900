"""What ``--deep`` measured and read, as plain data (serialised into the report's facts).

Units: TFLOP/s for matrix multiplies (2·n³ floating-point operations per n×n×n product);
decimal GB/s (10^9 bytes per second) for every bandwidth. ``d2d_gbps`` counts the bytes read
*and* the bytes written by a device-to-device copy (a copy of N bytes moves 2·N through HBM).
``None`` always means "not measured"; the reason is in ``errors`` or ``skipped``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# NVML clock-event (formerly "throttle") reason bits, nvmlClocksEventReasons.
CLOCK_EVENT_BITS: dict[int, str] = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}


def clock_event_names(mask: int) -> list[str]:
    """``0x48`` → ``['hw_slowdown', 'hw_thermal_slowdown']``."""
    return [name for bit, name in sorted(CLOCK_EVENT_BITS.items()) if mask & bit]


@dataclass(kw_only=True)
class GpuDeep:
    """One GPU's figures."""

    index: int
    """NVML index (gpuN in every other finding)."""
    pci_bus_id: str | None = None
    name: str | None = None
    cuda_ordinal: int | None = None
    numa_node: int | None = None
    """From /sys/bus/pci/devices."""
    matmul_tflops: dict[str, float] = field(default_factory=dict)
    """Dense matmul TFLOP/s by dtype (bf16, fp16, fp8)."""
    matmul_size: int | None = None
    """n of the n×n×n products."""
    d2d_gbps: float | None = None
    """Device-to-device copy, bytes read + written per second."""
    h2d_gbps: float | None = None
    """Pinned host-to-device copy."""
    d2h_gbps: float | None = None
    """Pinned device-to-host copy."""
    clock_event_mask: int | None = None
    """OR of NVML's clock-event reasons sampled under load."""
    clock_event_samples: int = 0
    sm_clock_max_mhz: int | None = None
    """Highest SM clock sampled."""
    errors: dict[str, str] = field(default_factory=dict)
    """step → why it failed"""
    skipped: dict[str, str] = field(default_factory=dict)
    """step → why not run"""

    @property
    def clock_events(self) -> list[str]:
        return clock_event_names(self.clock_event_mask or 0)


@dataclass(kw_only=True)
class PairDeep:
    """Peer-to-peer copy bandwidth between two GPUs (the lower of the two directions)."""

    a: int
    b: int
    link: str
    """`NVLink`, `PCIe (…)`, or `unknown`."""
    peer_access: bool | None = None
    gbps: float | None = None
    gbps_ab: float | None = None
    gbps_ba: float | None = None
    error: str | None = None


@dataclass(kw_only=True)
class NcclDeep:
    """All-reduce over every local GPU, one process per GPU (torch.distributed, NCCL)."""

    gpus: int
    nbytes: int = 0
    iterations: int = 0
    algbw_gbps: float | None = None
    busbw_gbps: float | None = None
    """algbw × 2(n−1)/n, the figure nccl-tests reports."""
    nccl_version: str | None = None
    error: str | None = None


@dataclass(kw_only=True)
class StepTime:
    name: str
    seconds: float
    status: str
    """ran | failed | skipped"""
    note: str = ""


@dataclass(kw_only=True)
class XidEvent:
    xid: int
    pci_bus_id: str | None = None
    """`0000:00:06.0` when given."""
    text: str
    """What followed the code on the kernel log line."""
    count: int = 1
    action: str
    """none | reset-gpu | reboot-node | replace-node | unknown (not in the table)"""
    name: str = ""


@dataclass(kw_only=True)
class XidFacts:
    source: str | None = None
    """/dev/kmsg | dmesg | journalctl -k; None: none readable."""
    events: list[XidEvent] = field(default_factory=list)
    error: str | None = None
    """Why no kernel log could be read."""


@dataclass(kw_only=True)
class DeepFacts:
    backend: str | None = None
    """`torch` or `cupy`; None: neither."""
    backend_version: str | None = None
    reason: str | None = None
    """Why nothing could be measured."""
    budget_s: float = 60.0
    elapsed_s: float | None = None
    gpus: list[GpuDeep] = field(default_factory=list)
    pairs: list[PairDeep] = field(default_factory=list)
    pairs_skipped: str | None = None
    nccl: NcclDeep | None = None
    nccl_skipped: str | None = None
    steps: list[StepTime] = field(default_factory=list)
    xid: XidFacts | None = None

    def __post_init__(self) -> None:
        # --deep-seconds 40 from the library is 40.0 in the report, as pydantic wrote it
        self.budget_s = float(self.budget_s)
