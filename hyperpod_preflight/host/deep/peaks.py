"""Published dense peaks per GPU model (``gpu_peaks.json``, with its sources).

:func:`lookup` matches NVML's device name (``NVIDIA H200``, ``NVIDIA H100 80GB HBM3``,
``NVIDIA A100-SXM4-80GB``) against the table, first entry first; an unknown model gets
``None``, and its figures are then judged only against the node's other GPUs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources


@dataclass(kw_only=True)
class Peak:
    model: str
    match: list[str]
    source: str
    """A link to the data sheet the figures come from."""
    tflops: dict[str, float | None] = field(default_factory=dict)
    memory_gbps: float | None = None
    nvlink_gbps: float | None = None
    """One direction, per GPU."""


@lru_cache(maxsize=1)
def table() -> list[Peak]:
    text = resources.files(__package__).joinpath("gpu_peaks.json").read_text(encoding="utf-8")
    data = json.loads(text)
    sources: dict[str, str] = data["sources"]
    return [
        Peak(
            model=str(entry["model"]),
            match=[str(m) for m in entry["match"]],
            source=sources[entry["source"]],
            tflops={str(k): _figure(v) for k, v in entry.get("tflops", {}).items()},
            memory_gbps=_figure(entry.get("memory_gbps")),
            nvlink_gbps=_figure(entry.get("nvlink_gbps")),
        )
        for entry in data["models"]
    ]


def _figure(value: object) -> float | None:
    """A figure of the table as a float (``2000`` → ``2000.0``, as pydantic made it); None:
    not published."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"gpu_peaks.json: {value!r} is not a number")
    return float(value)


def lookup(name: str | None) -> Peak | None:
    """The table's entry for a GPU named ``name`` (case-insensitive substring), or None."""
    if not name:
        return None
    low = name.lower()
    for peak in table():
        if any(m.lower() in low for m in peak.match):
            return peak
    return None
