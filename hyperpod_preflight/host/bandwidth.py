"""Pinned host-to-device copy bandwidth (``--measure-bandwidth`` only).

Uses torch, else cupy, whichever imports; neither is a dependency. Each GPU gets a pinned
host buffer copied to it a few times after a warm-up, timed with CUDA events. Figures are
decimal GB/s (10^9 bytes per second), the unit PCIe peaks are quoted in.
"""

from __future__ import annotations

import os
from typing import Any

from ..dynamic import first_importable
from .models import BandwidthFacts, BandwidthResult, GpuInfo

COPY_BYTES = 256 * 1024 * 1024
COPIES = 10

# PCIe transfer rate per lane (GT/s) and line-code efficiency, per generation.
_PCIE_GEN = {
    1: (2.5, 8 / 10),
    2: (5.0, 8 / 10),
    3: (8.0, 128 / 130),
    4: (16.0, 128 / 130),
    5: (32.0, 128 / 130),
    6: (64.0, 242 / 256),
}


def pcie_peak_gbps(generation: int | None, width: int | None) -> float | None:
    """Theoretical one-direction PCIe bandwidth in GB/s (Gen5 x16 ≈ 63.0)."""
    if not generation or not width or generation not in _PCIE_GEN:
        return None
    rate, efficiency = _PCIE_GEN[generation]
    return rate * efficiency * width / 8


def _torch_measure(torch: Any, device: int, nbytes: int, copies: int) -> float:
    with torch.cuda.device(device):
        host = torch.empty(nbytes, dtype=torch.uint8, pin_memory=True)
        dev = torch.empty(nbytes, dtype=torch.uint8, device=f"cuda:{device}")
        dev.copy_(host, non_blocking=True)
        torch.cuda.synchronize(device)
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(copies):
            dev.copy_(host, non_blocking=True)
        end.record()
        end.synchronize()
        ms = float(start.elapsed_time(end))
        del host, dev
    return nbytes * copies / (ms / 1000) / 1e9


def _torch_ordinals(torch: Any) -> dict[str, int]:
    """PCI bus id → CUDA ordinal (CUDA_VISIBLE_DEVICES may renumber devices)."""
    ordinals = {}
    for ordinal in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(ordinal)
        domain = getattr(props, "pci_domain_id", None)
        bus = getattr(props, "pci_bus_id", None)
        device = getattr(props, "pci_device_id", None)
        if None not in (domain, bus, device):
            ordinals[f"{domain:04x}:{bus:02x}:{device:02x}.0"] = ordinal
    return ordinals


def _cupy_measure(cupy: Any, device: int, nbytes: int, copies: int) -> float:
    import numpy

    with cupy.cuda.Device(device):
        pinned = cupy.cuda.alloc_pinned_memory(nbytes)
        host = numpy.frombuffer(pinned, dtype=numpy.uint8, count=nbytes)
        dev = cupy.empty(nbytes, dtype=cupy.uint8)
        stream = cupy.cuda.Stream(non_blocking=True)
        dev.set(host, stream=stream)
        stream.synchronize()
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record(stream)
        for _ in range(copies):
            dev.set(host, stream=stream)
        end.record(stream)
        end.synchronize()
        ms = float(cupy.cuda.get_elapsed_time(start, end))
    return nbytes * copies / (ms / 1000) / 1e9


def measure(
    gpus: list[GpuInfo], *, nbytes: int = COPY_BYTES, copies: int = COPIES
) -> BandwidthFacts:
    """Measure every GPU in ``gpus``; the reason is given when nothing could run."""
    if not gpus:
        return BandwidthFacts(reason="no GPU to measure")
    # Number CUDA devices like NVML does (by PCI bus id), so gpuN means the same GPU.
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    backend, module, errors = first_importable("torch", "cupy")
    if backend is None or module is None:
        return BandwidthFacts(
            reason="neither torch nor cupy is importable (" + ", ".join(errors) + "); "
            "install one (pip install torch) to measure host-to-device bandwidth"
        )
    facts = BandwidthFacts(backend=backend)
    ordinals: dict[str, int] = {}
    if backend == "torch":
        if not module.cuda.is_available():
            facts.reason = "torch is installed but sees no CUDA device"
            return facts
        ordinals = _torch_ordinals(module)
    for gpu in gpus:
        result = BandwidthResult(
            gpu_index=gpu.index, pci_bus_id=gpu.pci_bus_id, bytes_per_copy=nbytes, copies=copies
        )
        ordinal = ordinals.get(gpu.pci_bus_id or "") if ordinals else gpu.index
        if ordinal is None:
            result.error = "not visible to CUDA here (CUDA_VISIBLE_DEVICES?)"
            facts.results.append(result)
            continue
        try:
            fn = _torch_measure if backend == "torch" else _cupy_measure
            result.gbps = round(fn(module, ordinal, nbytes, copies), 2)
        except Exception as exc:  # out of memory, a GPU in use: report, never crash
            result.error = f"{type(exc).__name__}: {exc}"[:300]
        facts.results.append(result)
    return facts
