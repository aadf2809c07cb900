"""The I/O edge of the lifecycle lint for a local directory, and the tool runner.

``local_source`` turns a directory (what ``aws s3 sync`` would upload to the
``SourceS3Uri``) into the listing and bounded ``fetch`` that
:func:`hyperpod_preflight.analysis.lifecycle.lint` takes; ``default_run_tool`` runs
``bash -n`` and ``shellcheck`` with a timeout, never through a shell.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from .records import LIFECYCLE_MAX_BYTES as DEFAULT_MAX_BYTES
from .records import ToolResult

TOOL_TIMEOUT_S = 20.0
MAX_LISTED_FILES = 10_000
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules"}


def local_source(
    root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[dict[str, int], Callable[[str], bytes | None]]:
    """(relative path → size, fetch) for the regular files under ``root``.

    Symbolic links are listed with their target's size (``aws s3 sync`` follows them);
    version-control and cache directories are skipped. ``fetch`` reads only listed paths and
    at most ``max_bytes + 1`` bytes of each, so an oversized file is seen as such without
    reading it all.
    """
    root = root.resolve()
    listing: dict[str, int] = {}
    for directory, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            path = Path(directory, name)
            try:
                if not path.is_file():
                    continue
                size = path.stat().st_size
            except OSError:
                continue
            listing[path.relative_to(root).as_posix()] = size
            if len(listing) >= MAX_LISTED_FILES:
                return listing, _fetcher(root, listing, max_bytes)
    return listing, _fetcher(root, listing, max_bytes)


def _fetcher(root: Path, listing: dict[str, int], max_bytes: int) -> Callable[[str], bytes | None]:
    def fetch(relative: str) -> bytes | None:
        if relative not in listing:  # only what the walk found: no path leaves the root
            return None
        try:
            with open(root / relative, "rb") as handle:
                return handle.read(max_bytes + 1)
        except OSError:
            return None

    return fetch


def default_run_tool(argv: list[str], stdin: bytes) -> ToolResult | None:
    """Run ``argv`` (no shell) with ``stdin``; None when ``argv[0]`` is not on PATH.

    The tool runs in its own process group, killed whole when it outlives the timeout, so
    that a child it started cannot keep the pipes (and the lint) open.
    """
    executable = shutil.which(argv[0])
    if executable is None:
        return None
    try:
        proc = subprocess.Popen(
            argv,
            executable=executable,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
    except OSError as e:
        return ToolResult(returncode=-1, stderr=f"{type(e).__name__}: {e}")
    try:
        stdout, stderr = proc.communicate(stdin, timeout=TOOL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return ToolResult(returncode=-1, timed_out=True, stderr="timed out")
    return ToolResult(
        returncode=proc.returncode,
        stdout=stdout.decode("utf-8", errors="replace"),
        stderr=stderr.decode("utf-8", errors="replace"),
    )
