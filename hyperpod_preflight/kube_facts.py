"""The I/O edge to a Kubernetes API: read-only listings of DaemonSets and CRDs through the
optional ``kubernetes`` client (``pip install 'hyperpod-preflight[kube]'``), for the
``eks.hyperpod-dependencies`` check. Only ``list`` calls are made; nothing is changed.
"""

from __future__ import annotations

from typing import Any

from .analysis.eks import KubeSnapshot

TIMEOUT_S = 15


class KubeUnavailable(Exception):
    """The client is not installed, or the context cannot be loaded."""


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
                _request_timeout=TIMEOUT_S
            )
            daemonsets = tuple((d.metadata.namespace, d.metadata.name) for d in listed.items)
        except Exception as exc:
            ds_error = _reason(exc, "list daemonsets (all namespaces)")
        try:
            found: Any = client.ApiextensionsV1Api(api_client).list_custom_resource_definition(
                _request_timeout=TIMEOUT_S
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
