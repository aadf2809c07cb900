"""Host checks for GPU nodes: facts of the node (/proc, /sys, NVML, commands), requirement
profiles as data, the ``host.*`` checks, GPU inventory and fleet aggregation.

``run_host_preflight`` is the library entry point; importing this package stays cheap (the
submodules load on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import run_host_preflight

__all__ = ["run_host_preflight"]


def __getattr__(name: str) -> Any:
    if name == "run_host_preflight":
        from .api import run_host_preflight

        return run_host_preflight
    raise AttributeError(name)
