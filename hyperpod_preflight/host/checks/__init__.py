"""Host checks: importing this package registers every ``host.*`` check.

Each module judges one area of :class:`~hyperpod_preflight.host.models.HostFacts` against the
requirement items of the chosen profile (``ctx.options["profile"]``); none does I/O.

A check whose requirement is not in the profile is SKIPped (the measuring checks of
:mod:`.measure` run when asked for instead). Where a check's docstring says a shortfall FAILs,
it FAILs for a ``required`` item and WARNs for an ``optional`` one; what could not be read is
UNKNOWN rather than FAIL.
"""

from __future__ import annotations

from . import cluster, deep, gpu, measure, system, tools, virt

__all__ = ["cluster", "deep", "gpu", "measure", "system", "tools", "virt"]
