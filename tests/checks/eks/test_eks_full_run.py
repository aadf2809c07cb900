"""A whole pre-flight of an EKS config: every EKS read the policy grants is made, the
declared reads change when calls start but never how many there are, and a Slurm config
makes no EKS call at all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import ACCOUNT, REGION, healthy_network, new_facts
from conftest import RECORDED_ACTIONS, moto_env, policy_actions
from eks_world import ADMIN_ROLE, EksFake, cluster_body

from hyperpod_preflight.preflight import run_cluster_preflight
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, VpcSettings

ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/ml"


@pytest.fixture(scope="module")
def net() -> Iterator[SimpleNamespace]:
    with moto_env():
        yield SimpleNamespace(n=healthy_network(boto3.client("ec2", region_name=REGION)))


def _spec(net: Any, orchestrator: str = "eks") -> ClusterSpec:
    return ClusterSpec(
        name="hp",
        orchestrator=orchestrator,  # type: ignore[arg-type]
        eks_cluster_arn=ARN if orchestrator == "eks" else None,
        instance_groups=(InstanceGroup(name="g", instance_type="ml.g5.8xlarge", count=1),),
        vpc_config=VpcSettings(subnets=(net.subnets["a"],), security_group_ids=(net.sgs["efa"],)),
    )


def _run(net: Any, concurrency: int, orchestrator: str = "eks") -> tuple[Any, Counter[str]]:
    facts = new_facts()
    fake = EksFake(
        {"ml": cluster_body("ml", vpc_id=net.vpc, cluster_sg=net.sgs["efa"])},
        addons={"ml/vpc-cni": "v1.19.2-eksbuild.1"},
        entries={ADMIN_ROLE: {"policies": ["AmazonEKSClusterAdminPolicy"]}},
    ).attach(facts.client("eks"))
    # The run's identity call (verify_identity) makes its own STS client from the session:
    # answer it there, as real STS would answer every client alike.
    facts.session.events.register("before-call.sts.GetCallerIdentity", fake)
    facts.verify_identity()
    report = run_cluster_preflight(
        _spec(net, orchestrator), facts=facts, only=["eks"], concurrency=concurrency
    )
    assert fake is not None
    return report, Counter(facts.calls)


@pytest.mark.usefixtures("lifted_endpoint")
def test_eks_run_reads_each_granted_eks_action_once(net: SimpleNamespace) -> None:
    RECORDED_ACTIONS.discard("eks:DescribeCluster")
    report, calls = _run(net.n, concurrency=16)
    by_check = {f.check_id: f.status.value for f in report.results}
    assert by_check["eks.cluster"] == "PASS"
    assert by_check["eks.caller-access"] == "PASS"
    assert by_check["eks.hyperpod-dependencies"] == "SKIP"  # no --kube-context
    assert not [f for f in report.results if f.status.value in ("UNKNOWN", "FAIL")], [
        (f.check_id, f.message) for f in report.results if f.status.value != "PASS"
    ]
    eks_calls = {k: v for k, v in calls.items() if k.startswith("eks:")}
    granted = {a for a in policy_actions("hp-preflight-readonly") if a.startswith("eks:")}
    assert {f"eks:{k.split(':')[1]}" for k in eks_calls} == granted
    assert all(v == 1 for v in eks_calls.values()), eks_calls


@pytest.mark.usefixtures("lifted_endpoint")
def test_prefetch_changes_no_call_count(net: SimpleNamespace) -> None:
    _, sequential = _run(net.n, concurrency=1)  # concurrency 1: no warm-up reads
    _, concurrent = _run(net.n, concurrency=16)
    assert sequential == concurrent


@pytest.mark.usefixtures("lifted_endpoint")
def test_slurm_config_makes_no_eks_call(net: SimpleNamespace) -> None:
    report, calls = _run(net.n, concurrency=16, orchestrator="slurm")
    assert not [k for k in calls if k.startswith("eks:")]
    assert {f.status.value for f in report.results} == {"SKIP"}
