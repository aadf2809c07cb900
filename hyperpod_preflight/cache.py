"""The per-user state of hp-preflight on this machine: ``$XDG_CACHE_HOME/hyperpod-preflight/``
(else ``~/.cache/hyperpod-preflight/``). It holds lock files that serialize quota requests
per account and region; never an AWS value that a judgement would trust.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path


def cache_dir() -> Path:
    """The folder (not created here)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hyperpod-preflight"


@contextlib.contextmanager
def exclusive_lock(name: str) -> Iterator[Path]:
    """Hold an exclusive ``flock`` on ``<cache_dir>/<name>.lock`` (blocking until any other
    holder on this machine lets go; released when the block ends or the process dies)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    path = cache_dir() / f"{safe}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield path
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
