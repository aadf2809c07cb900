"""The I/O edge of the ``tools`` checks: find a command on PATH and run it for its version,
never through a shell, with a timeout, once per run (thread-safe memo)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading

from .analysis.tool_versions import ToolRun

DEFAULT_TIMEOUT_S = 10.0
MAX_OUTPUT = 8_000


class ToolProbe:
    """Runs ``name args`` for each tool at most once; ``path`` overrides ``$PATH``."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, path: str | None = None) -> None:
        self.timeout_s = timeout_s
        self.path = path
        self._runs: dict[tuple[str, tuple[str, ...]], ToolRun] = {}
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, tuple[str, ...]], threading.Lock] = {}

    def run(self, name: str, args: tuple[str, ...]) -> ToolRun:
        key = (name, args)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._runs:
                self._runs[key] = self._run(name, args)
            return self._runs[key]

    def _run(self, name: str, args: tuple[str, ...]) -> ToolRun:
        path = shutil.which(name, path=self.path if self.path is not None else None)
        if path is None:
            return ToolRun(name, None)
        env = dict(os.environ)
        env.setdefault("AWS_PAGER", "")  # aws v2 would page long output
        try:
            done = subprocess.run(
                [path, *args],
                capture_output=True,
                text=True,
                errors="replace",
                timeout=self.timeout_s,
                stdin=subprocess.DEVNULL,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return ToolRun(name, path, error=f"did not answer within {self.timeout_s:g} s")
        except OSError as exc:
            return ToolRun(name, path, error=f"could not be run: {exc.strerror or exc}")
        output = (done.stdout + "\n" + done.stderr).strip()[:MAX_OUTPUT]
        return ToolRun(name, path, output, done.returncode)
