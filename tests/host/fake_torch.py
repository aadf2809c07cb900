"""A stand-in for the parts of torch that hyperpod_preflight.host.deep.measure calls, so CI
(no GPU, no torch) runs the measurement code paths end to end. Timings are fixed: every CUDA
event pair measures 1 ms, so the figures are plain arithmetic."""

from __future__ import annotations

import contextlib
import types
from typing import Any

__version__ = "0.0-fake"
bfloat16, float16, float32, uint8, float8_e4m3fn = "bf16", "fp16", "fp32", "u8", "fp8"
calls: dict[str, int] = {}


def _count(name: str) -> None:
    calls[name] = calls.get(name, 0) + 1


class Tensor:
    def __init__(self, *shape: int, device: str | None = None) -> None:
        self.shape, self.device = shape, device

    def to(self, _dtype: Any) -> Tensor:
        return self

    def t(self) -> Tensor:
        return self

    def copy_(self, _other: Tensor, non_blocking: bool = False) -> Tensor:
        _count("copy")
        return self


def randn(*shape: int, device: str | None = None, dtype: Any = None) -> Tensor:
    return Tensor(*shape, device=device)


def empty(
    *shape: int, device: str | None = None, dtype: Any = None, pin_memory: bool = False
) -> Tensor:
    return Tensor(*shape, device=device)


def empty_like(other: Tensor) -> Tensor:
    return Tensor(*other.shape, device=other.device)


def ones(*shape: Any, device: str | None = None, dtype: Any = None) -> Tensor:
    return Tensor(device=device)


def matmul(a: Tensor, b: Tensor, out: Tensor | None = None) -> Tensor:
    _count("matmul")
    return out or a


def _scaled_mm(a: Tensor, b: Tensor, **_kwargs: Any) -> Tensor:
    _count("scaled_mm")
    return a


class _Props:
    def __init__(self, index: int) -> None:
        self.pci_domain_id, self.pci_bus_id, self.pci_device_id = 0, 0, 0x10 + index


class _Event:
    def __init__(self, enable_timing: bool = False) -> None:
        pass

    def record(self) -> None:
        pass

    def synchronize(self) -> None:
        pass

    def elapsed_time(self, _end: _Event) -> float:
        return 1.0


class _Cuda(types.SimpleNamespace):
    count = 1
    capability = (9, 0)

    def is_available(self) -> bool:
        return True

    def init(self) -> None:
        pass

    def device_count(self) -> int:
        return self.count

    def get_device_properties(self, index: int) -> _Props:
        return _Props(index)

    def get_device_capability(self, _index: int) -> tuple[int, int]:
        return self.capability

    def device(self, _index: int) -> Any:
        return contextlib.nullcontext()

    def mem_get_info(self, _index: int) -> tuple[int, int]:
        return 100 * 1024**3, 141 * 1024**3

    def synchronize(self, _index: int | None = None) -> None:
        pass

    def empty_cache(self) -> None:
        pass

    def can_device_access_peer(self, _a: int, _b: int) -> bool:
        return True

    Event = _Event


cuda = _Cuda()
