"""Published dense peaks per GPU model (``gpu_peaks.json``, with its sources).

:func:`lookup` matches NVML's device name (``NVIDIA H200``, ``NVIDIA H100 80GB HBM3``,
``NVIDIA A100-SXM4-80GB``) against the table, first entry first; an unknown model gets
``None``, and its figures are then judged only against the node's other GPUs.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, Field


class Peak(BaseModel):
    model: str
    match: list[str]
    source: str = Field(description="A link to the data sheet the figures come from.")
    tflops: dict[str, float | None] = Field(default_factory=dict)
    memory_gbps: float | None = None
    nvlink_gbps: float | None = Field(default=None, description="One direction, per GPU.")


@lru_cache(maxsize=1)
def table() -> list[Peak]:
    text = resources.files(__package__).joinpath("gpu_peaks.json").read_text(encoding="utf-8")
    data = json.loads(text)
    sources: dict[str, str] = data["sources"]
    peaks = []
    for entry in data["models"]:
        entry = dict(entry)
        entry["source"] = sources[entry["source"]]
        peaks.append(Peak.model_validate(entry))
    return peaks


def lookup(name: str | None) -> Peak | None:
    """The table's entry for a GPU named ``name`` (case-insensitive substring), or None."""
    if not name:
        return None
    low = name.lower()
    for peak in table():
        if any(m.lower() in low for m in peak.match):
            return peak
    return None
