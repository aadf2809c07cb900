"""The Kubernetes reader of eks.hyperpod-dependencies against a loopback API server that
answers the two list calls it makes (needs the ``kubernetes`` client: the [kube] extra).
Any other request is answered 405, so a call that would change the cluster fails the test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aws_world import ACCOUNT, REGION, by_resource, run

import hyperpod_preflight.checks.eks  # noqa: F401  (registers the checks)
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup

pytest.importorskip("kubernetes")

from hyperpod_preflight.facts.local import KubeUnavailable, read_snapshot

DAEMONSETS = "/apis/apps/v1/daemonsets"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def _daemonset(namespace: str, name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {}},
    }


def _crd(name: str) -> dict[str, Any]:
    plural, group = name.split(".", 1)
    return {
        "metadata": {"name": name},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": plural.rstrip("s").title()},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }


class FakeApi:
    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self.requests: list[str] = []


@pytest.fixture
def api() -> Iterator[tuple[FakeApi, int]]:
    state = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            state.requests.append(f"{self.command} {self.path}")
            path = self.path.split("?")[0]
            status, body = (
                state.answers.get(path, (404, {"kind": "Status", "code": 404}))
                if self.command == "GET"
                else (405, {"kind": "Status", "code": 405})
            )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _kubeconfig(tmp_path: Path, port: int) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "ml", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "ml",
            }
        )
    )
    return str(path)


SPEC = ClusterSpec(
    name="hp",
    orchestrator="eks",
    eks_cluster_arn=f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/ml",
    instance_groups=(InstanceGroup(name="g", instance_type="ml.g5.8xlarge", count=1),),
)


def test_the_reader_lists_and_the_check_judges(api: tuple[FakeApi, int], tmp_path: Path) -> None:
    state, port = api
    state.answers[DAEMONSETS] = (
        200,
        {
            "kind": "DaemonSetList",
            "apiVersion": "apps/v1",
            "metadata": {},
            "items": [
                _daemonset("aws-hyperpod", "health-monitoring-agent"),
                _daemonset("kube-system", "hp-nvidia-device-plugin"),
            ],
        },
    )
    state.answers[CRDS] = (
        200,
        {
            "kind": "CustomResourceDefinitionList",
            "metadata": {},
            "items": [_crd("pytorchjobs.kubeflow.org")],
        },
    )
    config = _kubeconfig(tmp_path, port)
    snapshot = read_snapshot("ml", config)
    assert ("aws-hyperpod", "health-monitoring-agent") in (snapshot.daemonsets or ())
    assert snapshot.crds == ("pytorchjobs.kubeflow.org",)
    found = by_resource(
        run("eks.hyperpod-dependencies", SPEC, None, kube_context="ml", kubeconfig=config)
    )
    assert found["DaemonSet/aws-hyperpod/health-monitoring-agent"].status.value == "PASS"
    assert found["CustomResourceDefinition/mpijobs.kubeflow.org"].status.value == "WARN"
    assert found["DaemonSet/aws-efa-k8s-device-plugin"].status.value == "WARN"
    assert all(r.startswith("GET ") for r in state.requests), state.requests


def test_rbac_refusal_is_unknown_and_a_missing_context_is_unknown(
    api: tuple[FakeApi, int], tmp_path: Path
) -> None:
    state, port = api
    state.answers[DAEMONSETS] = (403, {"kind": "Status", "code": 403, "reason": "Forbidden"})
    state.answers[CRDS] = (403, {"kind": "Status", "code": 403, "reason": "Forbidden"})
    config = _kubeconfig(tmp_path, port)
    found = run("eks.hyperpod-dependencies", SPEC, None, kube_context="ml", kubeconfig=config)
    assert {f.status.value for f in found} == {"UNKNOWN"}
    assert all("HTTP 403" in f.message for f in found)
    with pytest.raises(KubeUnavailable):
        read_snapshot("no-such-context", config)
    (finding,) = run(
        "eks.hyperpod-dependencies", SPEC, None, kube_context="nope", kubeconfig=config
    )
    assert finding.status.value == "UNKNOWN" and "nope" in finding.message
