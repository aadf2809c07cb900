"""Facts of this machine: the local tools' versions (each run once, never through a shell,
with a timeout) and the Kubernetes API of ``--kube-context`` (read-only listings through the
optional ``kubernetes`` client, ``pip install 'hyperpod-preflight[kube]'``).

Readers like any other of the facts layer: checks declare ``need("tool_run", name, args)``,
``need("lint_tool", argv, stdin)`` (the lifecycle lint's ``bash -n`` and ``shellcheck``) or
``need("kube_snapshot")`` and judge what the run gathered.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import FactUnavailable
from ..records import KubeSnapshot, ToolResult, ToolRun

# Runs ``argv`` with ``stdin`` on this machine; None when the tool is not installed
# (``hyperpod_preflight.lifecycle_local.default_run_tool``).
RunTool = Callable[[list[str], bytes], ToolResult | None]

DEFAULT_TIMEOUT_S = 10.0
MAX_OUTPUT = 8_000
KUBE_TIMEOUT_S = 15


class KubeUnavailable(FactUnavailable):
    """The client is not installed, or the context cannot be loaded."""

    def __init__(self, detail: str) -> None:
        super().__init__("kubernetes", "error", detail)

    def describe(self) -> str:
        return self.detail


class ToolProbe:
    """Runs ``name args`` for each tool at most once; ``path`` overrides ``$PATH``."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, path: str | None = None) -> None:
        self.timeout_s = timeout_s
        self.path = path
        self._runs: dict[tuple[str, tuple[str, ...]], ToolRun] = {}
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, tuple[str, ...]], threading.Lock] = {}

    def run(self, name: str, args: tuple[str, ...]) -> ToolRun:
        key = (name, tuple(args))
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._runs:
                self._runs[key] = self._run(name, tuple(args))
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


def client_installed() -> bool:
    try:
        import kubernetes  # noqa: F401
    except ImportError:
        return False
    return True


def read_snapshot(context: str, config_file: str | None = None) -> KubeSnapshot:
    """DaemonSets of every namespace and the CRD names, through ``context`` of the
    kubeconfig (``$KUBECONFIG`` or ``~/.kube/config`` unless ``config_file``)."""
    try:
        from kubernetes import client, config
    except ImportError as exc:
        raise KubeUnavailable("the kubernetes client is not installed") from exc
    try:
        api_client = config.new_client_from_config(config_file=config_file, context=context)
    except Exception as exc:  # a missing context or file: the client raises several kinds
        raise KubeUnavailable(f"cannot load kube context {context!r}: {exc}") from exc
    with api_client:
        daemonsets: tuple[tuple[str, str], ...] | None = None
        crds: tuple[str, ...] | None = None
        ds_error = crd_error = ""
        try:
            listed: Any = client.AppsV1Api(api_client).list_daemon_set_for_all_namespaces(
                _request_timeout=KUBE_TIMEOUT_S
            )
            daemonsets = tuple((d.metadata.namespace, d.metadata.name) for d in listed.items)
        except Exception as exc:
            ds_error = _reason(exc, "list daemonsets (all namespaces)")
        try:
            found: Any = client.ApiextensionsV1Api(api_client).list_custom_resource_definition(
                _request_timeout=KUBE_TIMEOUT_S
            )
            crds = tuple(c.metadata.name for c in found.items)
        except Exception as exc:
            crd_error = _reason(exc, "list customresourcedefinitions")
    return KubeSnapshot(daemonsets, crds, ds_error, crd_error)


def _reason(exc: Exception, verb: str) -> str:
    status = getattr(exc, "status", None)
    if status in (401, 403):
        return f"the Kubernetes API refused to {verb} (HTTP {status}): RBAC must allow it"
    text = " ".join(str(exc).split())[:200]
    return f"could not {verb}: {type(exc).__name__}: {text}"


class LocalFacts:
    """This machine's readers for one run: tool versions and the Kubernetes listing."""

    def __init__(
        self,
        *,
        probe: ToolProbe | None = None,
        kube_context: str | None = None,
        kubeconfig: str | None = None,
        kube_snapshot: KubeSnapshot | None = None,
        run_tool: RunTool | None = None,
    ) -> None:
        self.probe = probe or ToolProbe()
        self._run_tool = run_tool
        self.kube_context = kube_context
        self.kubeconfig = kubeconfig
        self._snapshot = kube_snapshot

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> LocalFacts:
        """From the run's options: ``tool_timeout_s``, ``kube_context``, ``kubeconfig``
        (a ``tool_probe``, ``kube_snapshot`` or ``run_tool`` given there is used as is;
        without ``run_tool`` the lint's tools are not run)."""
        probe = options.get("tool_probe")
        if not isinstance(probe, ToolProbe):
            probe = ToolProbe(float(options.get("tool_timeout_s") or DEFAULT_TIMEOUT_S))
        snapshot = options.get("kube_snapshot")
        return cls(
            probe=probe,
            kube_context=options.get("kube_context") or None,
            kubeconfig=options.get("kubeconfig") or None,
            kube_snapshot=snapshot if isinstance(snapshot, KubeSnapshot) else None,
            run_tool=run_tool if callable(run_tool := options.get("run_tool")) else None,
        )

    def tool_run(self, name: str, args: tuple[str, ...]) -> ToolRun:
        """``name args`` run once on this machine's PATH (what the tool said)."""
        return self.probe.run(name, tuple(args))

    def lint_tool(self, argv: tuple[str, ...], stdin: bytes) -> ToolResult | None:
        """``argv`` (``bash -n``, ``shellcheck``) run on this machine with ``stdin``, for the
        lifecycle lint; None when the tool is not installed or this run runs no tools."""
        if self._run_tool is None:
            return None
        try:
            return self._run_tool(list(argv), stdin)
        except Exception as exc:  # the runner failed: said as a tool that could not run
            return ToolResult(returncode=-1, stderr=f"{type(exc).__name__}: {exc}")

    def kube_snapshot(self) -> KubeSnapshot | str:
        """The DaemonSets and CRDs of ``--kube-context``; a string saying why nothing was
        read (no context given, no client installed: SKIP) instead of a snapshot. Raises
        :class:`KubeUnavailable` when the context cannot be loaded."""
        if self._snapshot is not None:
            return self._snapshot
        if not self.kube_context:
            return "not read without --kube-context"
        if not client_installed():
            return "the kubernetes client is not installed"
        return read_snapshot(self.kube_context, self.kubeconfig)
