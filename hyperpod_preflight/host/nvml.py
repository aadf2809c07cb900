"""GPU facts through NVML (the ``pynvml`` module of nvidia-ml-py).

:func:`read_nvml` takes the module as a parameter, so tests pass a pynvml-like fake and a
node without nvidia-ml-py simply gets ``None`` from :func:`load_pynvml`. Each field is read
on its own: NVML's NotSupported marks the field as not supported (a SKIP later, never a
FAIL), any other NVML error is kept as the reason the field is unknown.

nvidia-ml-py 13.x notes: ``nvmlDeviceGetGpuFabricInfoV`` fills a caller-made struct passed
by reference (``c_nvmlGpuFabricInfoV_t``); PCI bus ids come back as bytes with an 8-digit
domain (``00000000:00:06.0``).
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable
from typing import Any

from .models import GpuFacts, GpuInfo

FABRIC_STATES = {0: "not-supported", 1: "not-started", 2: "in-progress", 3: "completed"}
_MAX_LINKS_FALLBACK = 18


def load_pynvml() -> Any | None:
    """The pynvml module, or None when nvidia-ml-py is not installed."""
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


def normalize_bus_id(bus_id: str | bytes | None) -> str | None:
    """``00000000:00:06.0`` or ``0000:00:06.0`` → ``0000:00:06.0`` (lower case)."""
    if bus_id is None:
        return None
    text = bus_id.decode() if isinstance(bus_id, bytes) else str(bus_id)
    text = text.strip().lower()
    if not text or text in ("n/a", "[n/a]"):
        return None
    parts = text.split(":")
    if len(parts) == 3:
        domain = parts[0][-4:].rjust(4, "0")
        return f"{domain}:{parts[1]}:{parts[2]}"
    if len(parts) == 2:
        return f"0000:{parts[0]}:{parts[1]}"
    return text


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class _Reader:
    """Reads fields of one GPU, remembering what was not supported or failed."""

    def __init__(self, nvml: Any, gpu: GpuInfo) -> None:
        self.nvml = nvml
        self.gpu = gpu

    def is_not_supported(self, exc: BaseException) -> bool:
        code = getattr(exc, "value", None)
        return code in (
            getattr(self.nvml, "NVML_ERROR_NOT_SUPPORTED", 3),
            getattr(self.nvml, "NVML_ERROR_FUNCTION_NOT_FOUND", 13),
        )

    def call(self, field: str, fn_name: str, *args: Any) -> Any:
        fn: Callable[..., Any] | None = getattr(self.nvml, fn_name, None)
        if fn is None:
            self.gpu.not_supported.append(field)
            return None
        try:
            return fn(*args)
        except self.nvml.NVMLError as exc:
            if self.is_not_supported(exc):
                if field not in self.gpu.not_supported:
                    self.gpu.not_supported.append(field)
            else:
                self.gpu.errors[field] = str(exc) or type(exc).__name__
            return None
        except Exception as exc:  # a binding or driver fault: this field is unknown, no more
            self.gpu.errors[field] = f"{type(exc).__name__}: {exc}"
            return None


def _read_gpu(nvml: Any, index: int) -> GpuInfo:
    gpu = GpuInfo(index=index)
    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
    except nvml.NVMLError as exc:
        gpu.errors["handle"] = str(exc)
        return gpu
    r = _Reader(nvml, gpu)

    name = r.call("name", "nvmlDeviceGetName", handle)
    gpu.name = _text(name) if name is not None else None
    uuid = r.call("uuid", "nvmlDeviceGetUUID", handle)
    gpu.uuid = _text(uuid) if uuid is not None else None
    pci = r.call("pci_bus_id", "nvmlDeviceGetPciInfo", handle)
    if pci is not None:
        gpu.pci_bus_id = normalize_bus_id(getattr(pci, "busId", None))

    cc = r.call("compute_capability", "nvmlDeviceGetCudaComputeCapability", handle)
    if cc is not None:
        gpu.compute_capability = f"{cc[0]}.{cc[1]}"
    memory = r.call("memory_total_mib", "nvmlDeviceGetMemoryInfo", handle)
    if memory is not None:
        gpu.memory_total_mib = int(memory.total) // (1024 * 1024)

    ecc = r.call("ecc_enabled", "nvmlDeviceGetEccMode", handle)
    if ecc is not None:
        gpu.ecc_enabled, gpu.ecc_pending_enabled = bool(ecc[0]), bool(ecc[1])
    else:
        _mirror(gpu, "ecc_enabled", "ecc_pending_enabled")
    if gpu.ecc_enabled:
        uncorrected = getattr(nvml, "NVML_MEMORY_ERROR_TYPE_UNCORRECTED", 1)
        gpu.ecc_uncorrected_volatile = r.call(
            "ecc_uncorrected_volatile",
            "nvmlDeviceGetTotalEccErrors",
            handle,
            uncorrected,
            getattr(nvml, "NVML_VOLATILE_ECC", 0),
        )
        gpu.ecc_uncorrected_aggregate = r.call(
            "ecc_uncorrected_aggregate",
            "nvmlDeviceGetTotalEccErrors",
            handle,
            uncorrected,
            getattr(nvml, "NVML_AGGREGATE_ECC", 1),
        )

    pending = r.call("retired_pages_pending", "nvmlDeviceGetRetiredPagesPendingStatus", handle)
    gpu.retired_pages_pending = bool(pending) if pending is not None else None
    rows = r.call("remap_pending", "nvmlDeviceGetRemappedRows", handle)
    if rows is not None:
        corr, unc, pend, fail = rows
        gpu.remapped_rows_correctable, gpu.remapped_rows_uncorrectable = int(corr), int(unc)
        gpu.remap_pending, gpu.remap_failure = bool(pend), bool(fail)
    else:
        _mirror(gpu, "remap_pending", "remap_failure")

    gpu.pcie_gen_current = r.call("pcie_gen_current", "nvmlDeviceGetCurrPcieLinkGeneration", handle)
    gpu.pcie_gen_max = r.call("pcie_gen_max", "nvmlDeviceGetMaxPcieLinkGeneration", handle)
    gpu.pcie_width_current = r.call("pcie_width_current", "nvmlDeviceGetCurrPcieLinkWidth", handle)
    gpu.pcie_width_max = r.call("pcie_width_max", "nvmlDeviceGetMaxPcieLinkWidth", handle)

    persistence = r.call("persistence_mode", "nvmlDeviceGetPersistenceMode", handle)
    gpu.persistence_mode = bool(persistence) if persistence is not None else None
    mig = r.call("mig_enabled", "nvmlDeviceGetMigMode", handle)
    gpu.mig_enabled = bool(mig[0]) if mig is not None else None

    gpu.nvlink_active = _nvlinks(nvml, handle, r)
    _fabric(nvml, handle, gpu, r)
    return gpu


def _mirror(gpu: GpuInfo, source: str, target: str) -> None:
    """Give ``target`` the same not-supported/error mark as ``source``."""
    if source in gpu.not_supported:
        gpu.not_supported.append(target)
    if source in gpu.errors:
        gpu.errors[target] = gpu.errors[source]


def _nvlinks(nvml: Any, handle: Any, r: _Reader) -> list[bool] | None:
    """State of each NVLink; links are numbered from 0 and end at the first error."""
    states: list[bool] = []
    past_last = (
        getattr(nvml, "NVML_ERROR_INVALID_ARGUMENT", 2),
        getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", 3),
    )
    for link in range(int(getattr(nvml, "NVML_NVLINK_MAX_LINKS", _MAX_LINKS_FALLBACK))):
        try:
            states.append(bool(nvml.nvmlDeviceGetNvLinkState(handle, link)))
        except nvml.NVMLError as exc:
            if link == 0 and r.is_not_supported(exc):
                r.gpu.not_supported.append("nvlink_active")
                return None
            if link > 0 and getattr(exc, "value", None) in past_last:
                break  # past the GPU's last link
            # Any other error (GPU lost, unknown error) leaves the links unknown: a GPU that
            # fell off the bus must not pass with the links read before it did.
            r.gpu.errors["nvlink_active"] = f"NVLink {link}: {exc}"
            return None
    return states


def _fabric(nvml: Any, handle: Any, gpu: GpuInfo, r: _Reader) -> None:
    """GPU fabric state (NVSwitch systems): set by the fabric manager once the GPU joined."""
    struct_type = getattr(nvml, "c_nvmlGpuFabricInfoV_t", None)
    fn_name = "nvmlDeviceGetGpuFabricInfoV"
    if struct_type is None:
        struct_type = getattr(nvml, "c_nvmlGpuFabricInfo_t", None)
        fn_name = "nvmlDeviceGetGpuFabricInfo"
    if struct_type is None or not hasattr(nvml, fn_name):
        gpu.not_supported.append("fabric_state")
        return
    info = struct_type()
    done = r.call("fabric_state", fn_name, handle, ctypes.byref(info))
    if done is None and ("fabric_state" in gpu.not_supported or "fabric_state" in gpu.errors):
        return
    state = int(getattr(info, "state", 0))
    gpu.fabric_state = FABRIC_STATES.get(state, f"state-{state}")
    if state == 0:
        gpu.fabric_state = None
        gpu.not_supported.append("fabric_state")
        return
    gpu.fabric_status_ok = int(getattr(info, "status", 0)) == getattr(nvml, "NVML_SUCCESS", 0)


def _read_gpu_safely(nvml: Any, index: int) -> GpuInfo:
    """:func:`_read_gpu`, with a fault of the binding (an odd return shape, a ctypes error)
    kept as the GPU's error rather than ending the run."""
    try:
        return _read_gpu(nvml, index)
    except Exception as exc:
        return GpuInfo(index=index, errors={"handle": f"{type(exc).__name__}: {exc}"})


def read_nvml(nvml: Any) -> GpuFacts:
    """All GPUs and the driver through NVML; ``source='none'`` with the reason when NVML
    cannot start (no driver, no library, no permission)."""
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        denied = getattr(exc, "value", None) == getattr(nvml, "NVML_ERROR_NO_PERMISSION", 4)
        return GpuFacts(source="none", error=f"NVML: {exc}", permission_denied=denied)
    except OSError as exc:  # a broken libnvidia-ml
        return GpuFacts(source="none", error=f"NVML: {exc}")
    try:
        facts = GpuFacts(source="nvml")
        with contextlib.suppress(nvml.NVMLError):
            facts.driver_version = _text(nvml.nvmlSystemGetDriverVersion())
        try:
            cuda = int(nvml.nvmlSystemGetCudaDriverVersion_v2())
            facts.cuda_driver_version = f"{cuda // 1000}.{(cuda % 1000) // 10}"
        except (nvml.NVMLError, AttributeError):
            pass
        with contextlib.suppress(nvml.NVMLError, AttributeError):
            facts.nvml_version = _text(nvml.nvmlSystemGetNVMLVersion())
        try:
            count = int(nvml.nvmlDeviceGetCount())
        except nvml.NVMLError as exc:
            return GpuFacts(source="none", error=f"NVML: {exc}")
        facts.gpus = [_read_gpu_safely(nvml, i) for i in range(count)]
        return facts
    finally:
        with contextlib.suppress(Exception):  # shutting down must never hide the facts read
            nvml.nvmlShutdown()
