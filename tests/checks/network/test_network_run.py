"""The network and capacity sections run together through the engine on a Slurm config like
the examples': the API calls they make, that throttling changes nothing, and that the call
count does not grow with unrelated resources in the account."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import (
    ACCOUNT,
    REGION,
    Injector,
    ec2_error,
    healthy_network,
    make_sg,
    make_subnet,
    make_vpc,
    new_facts,
)
from conftest import moto_env

from hyperpod_preflight.preflight import run_cluster_preflight
from hyperpod_preflight.spec import load_spec

# What the healthy example costs: one read per kind of fact, whatever the account holds.
EXPECTED_CALLS = {
    "ec2:DescribeSubnets": 1,
    "ec2:DescribeVpcs": 1,
    "ec2:DescribeVpcAttribute": 2,
    "ec2:DescribeRouteTables": 1,
    "ec2:DescribeNatGateways": 1,
    "ec2:DescribeVpcEndpoints": 1,
    "ec2:DescribeSecurityGroups": 1,
    "ec2:DescribeInstanceTypes": 1,
    "ec2:DescribeInstanceTypeOfferings": 1,
    "ec2:DescribeAvailabilityZones": 1,
    # network.sg-rule-count: the account's rules-per-security-group quota (moto: 60 applied)
    "service-quotas:GetServiceQuota": 1,
}


def slurm_config(subnet: str, sg: str) -> dict[str, Any]:
    role = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-hyperpod-execution"
    lifecycle = {
        "SourceS3Uri": "s3://sagemaker-lifecycle-example/scripts/",
        "OnCreate": "on_create.sh",
    }

    def group(name: str, itype: str, count: int) -> dict[str, Any]:
        return {
            "InstanceGroupName": name,
            "InstanceType": itype,
            "InstanceCount": count,
            "LifeCycleConfig": lifecycle,
            "ExecutionRole": role,
            "ThreadsPerCore": 1,
        }

    return {
        "ClusterName": "ml-cluster",
        "InstanceGroups": [
            group("controller-machine", "ml.m5.xlarge", 1),
            group("login-group", "ml.m5.4xlarge", 1),
            group("worker-group-1", "ml.p5.48xlarge", 4),
        ],
        "VpcConfig": {"SecurityGroupIds": [sg], "Subnets": [subnet]},
        "Orchestrator": {"Slurm": {"SlurmConfigStrategy": "Managed"}},
        "NodeRecovery": "Automatic",
    }


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        net = healthy_network(ec2)
        yield SimpleNamespace(ec2=ec2, net=net)


@pytest.fixture
def lifted(w: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return w


def preflight(w: SimpleNamespace, facts: Any) -> list[tuple[str, str, str, str]]:
    spec = load_spec(slurm_config(w.net.subnets["a"], w.net.sgs["efa"]))
    described = facts.instance_types(tuple(t for g in spec.instance_groups for t in g.ec2_types))
    assert "p5.48xlarge" in described
    report = run_cluster_preflight(
        spec, facts=facts, only=["network", "capacity"], options={"fsx": True}
    )
    return sorted((f.check_id, f.resource, f.status.value, f.message) for f in report.results)


def test_healthy_example_passes_with_one_call_per_fact(lifted: SimpleNamespace) -> None:
    facts = new_facts()
    findings = preflight(lifted, facts)
    bad = [f for f in findings if f[2] not in ("PASS", "SKIP")]
    assert bad == []
    assert dict(facts.calls) == EXPECTED_CALLS
    assert facts.call_count == 12


def test_throttled_calls_yield_the_same_findings(lifted: SimpleNamespace) -> None:
    baseline = preflight(lifted, new_facts())
    facts = new_facts()
    throttle = ec2_error("RequestLimitExceeded", 503, "Request limit exceeded.")
    inj = (
        Injector()
        .queue("DescribeSubnets", throttle)
        .queue("DescribeSecurityGroups", throttle)
        .queue("DescribeRouteTables", throttle)
        .attach(facts.client("ec2"))
    )
    assert preflight(lifted, facts) == baseline
    assert inj.seen["DescribeSubnets"] == 2 and inj.seen["DescribeSecurityGroups"] == 2
    assert dict(facts.calls) == EXPECTED_CALLS  # retries are not new calls


def test_call_count_does_not_grow_with_unrelated_resources(lifted: SimpleNamespace) -> None:
    before = new_facts()
    baseline = preflight(lifted, before)
    ec2 = lifted.ec2
    elsewhere = make_vpc(ec2, "10.50.0.0/16")
    for i in range(25):
        # Unrelated subnets and groups both in the cluster's VPC and in another one.
        make_subnet(ec2, lifted.net.vpc, f"10.0.{200 + i}.0/28", zone_id="usw2-az3")
        make_subnet(ec2, elsewhere, f"10.50.{i}.0/28", zone_id="usw2-az2")
        make_sg(ec2, lifted.net.vpc, f"noise-a-{i}", self_ingress=False, self_egress=False)
        make_sg(ec2, elsewhere, f"noise-b-{i}", self_ingress=False, self_egress=False)
    after = new_facts()
    assert preflight(lifted, after) == baseline
    assert dict(after.calls) == dict(before.calls) == EXPECTED_CALLS
