"""Facts: the only package that does I/O (boto3, the Kubernetes client, local tool probes,
S3 objects). Readers are memoized per run and thread-safe; checks never import this package,
they declare what they need and judge what the run gathered.

``AwsFacts`` (:mod:`.aws`) imports boto3: it is loaded on first use, so this package's
boto3-free modules (:mod:`.local`) stay cheap to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import FactUnavailable

if TYPE_CHECKING:
    from .aws import AwsFacts
    from .core import FactsCore, classify, memoized

__all__ = ["AwsFacts", "FactUnavailable", "FactsCore", "classify", "memoized"]


def __getattr__(name: str) -> Any:
    if name == "AwsFacts":
        from .aws import AwsFacts

        return AwsFacts
    if name in ("FactsCore", "classify", "memoized"):
        from . import core

        return getattr(core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
