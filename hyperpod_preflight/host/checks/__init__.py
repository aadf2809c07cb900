"""Host checks: importing this package registers every ``host.*`` check.

Each module judges one area of :class:`~hyperpod_preflight.host.models.HostFacts` against the
requirement items of the chosen profile (``ctx.options["profile"]``); none does I/O.
"""

from __future__ import annotations

from . import cluster, gpu, measure, system, tools, virt

__all__ = ["cluster", "gpu", "measure", "system", "tools", "virt"]
