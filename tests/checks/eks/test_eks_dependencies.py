"""eks.hyperpod-dependencies: off unless asked (SKIP saying how), and the judgement of what
the Kubernetes API listed (a snapshot handed in through the options, as the reader builds
it), including listings RBAC refused."""

from __future__ import annotations

import importlib.util

import pytest
from aws_world import ACCOUNT, REGION, by_resource, run

import hyperpod_preflight.checks.eks  # noqa: F401  (registers the checks)
from hyperpod_preflight.analysis.eks import CHART_COMPONENTS
from hyperpod_preflight.records import KubeSnapshot
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup

ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/ml"
SPEC = ClusterSpec(
    name="hp",
    orchestrator="eks",
    eks_cluster_arn=ARN,
    instance_groups=(InstanceGroup(name="g", instance_type="ml.g5.8xlarge", count=1),),
)
HEALTHY_DS = (
    ("aws-hyperpod", "health-monitoring-agent"),
    ("kube-system", "hyperpod-dependencies-nvidia-device-plugin"),
    ("kube-system", "hyperpod-dependencies-aws-efa-k8s-device-plugin"),
    ("kube-system", "aws-node"),
)
HEALTHY_CRDS = ("pytorchjobs.kubeflow.org", "mpijobs.kubeflow.org", "tfjobs.kubeflow.org")
HMA = "DaemonSet/aws-hyperpod/health-monitoring-agent"


def test_without_kube_context_it_is_a_skip_saying_how_to_enable_it() -> None:
    (finding,) = run("eks.hyperpod-dependencies", SPEC, None)  # offline is fine: no AWS read
    assert finding.status.value == "SKIP"
    assert "--kube-context" in finding.message and "hyperpod-preflight[kube]" in finding.message


@pytest.mark.skipif(
    importlib.util.find_spec("kubernetes") is not None, reason="the kube extra is installed"
)
def test_without_the_client_it_is_a_skip_naming_the_extra() -> None:
    (finding,) = run("eks.hyperpod-dependencies", SPEC, None, kube_context="ml")
    assert finding.status.value == "SKIP" and "not installed" in finding.message
    assert "pip install 'hyperpod-preflight[kube]'" in finding.message


def test_every_component_present_passes() -> None:
    snapshot = KubeSnapshot(HEALTHY_DS, HEALTHY_CRDS)
    found = run("eks.hyperpod-dependencies", SPEC, None, kube_snapshot=snapshot)
    assert len(found) == len(CHART_COMPONENTS)
    assert {f.status.value for f in found} == {"PASS"}


def test_a_missing_agent_fails_and_a_missing_device_plugin_warns() -> None:
    # the agent in the wrong namespace does not count
    daemonsets = (("default", "health-monitoring-agent"), ("kube-system", "aws-node"))
    found = by_resource(
        run(
            "eks.hyperpod-dependencies",
            SPEC,
            None,
            kube_snapshot=KubeSnapshot(daemonsets, ("mpijobs.kubeflow.org",)),
        )
    )
    assert found[HMA].status.value == "FAIL"
    assert "helm install hyperpod-dependencies HyperPodHelmChart" in found[HMA].remediation
    # The Helm page calls only the resiliency components required; the Kubeflow training
    # operator is job tooling the chart also installs: its absence is a WARN (was FAIL).
    assert found["CustomResourceDefinition/pytorchjobs.kubeflow.org"].status.value == "WARN"
    assert found["CustomResourceDefinition/mpijobs.kubeflow.org"].status.value == "PASS"
    assert found["DaemonSet/nvidia-device-plugin"].status.value == "WARN"


def test_a_listing_rbac_refused_is_unknown_not_missing() -> None:
    refused = "the Kubernetes API refused to list customresourcedefinitions (HTTP 403)"
    snapshot = KubeSnapshot(HEALTHY_DS, None, crds_error=refused)
    found = by_resource(run("eks.hyperpod-dependencies", SPEC, None, kube_snapshot=snapshot))
    assert found["CustomResourceDefinition/pytorchjobs.kubeflow.org"].status.value == "UNKNOWN"
    assert "403" in found["CustomResourceDefinition/pytorchjobs.kubeflow.org"].message
    assert found[HMA].status.value == "PASS"
