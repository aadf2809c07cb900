"""policies/ grant exactly what the code calls: nothing missing, nothing more.

Three views must agree: the actions the facts layer can call (read from its source), the
actions recorded through botocore's ``before-call`` event while a full check + quotas +
quota-request run executes here (conftest records them for the whole test run too, and
fails the run if any is not granted), and the two policy documents.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from aws_world import healthy_network
from conftest import RECORDED_ACTIONS, REPO, moto_env, policy_actions
from fsx_world import FS_OK, dns, file_systems, lustre
from iam_stubs import IamStub, assumed_role_env, healthy_execution_role
from pydantic import TypeAdapter
from quota_stubs import (
    EC2_VPC_QUOTAS,
    ServiceQuotasFake,
    create_existing_clusters,
    default_account,
    fresh_facts,
    sagemaker_quotas,
    slurm_config,
)

from hyperpod_preflight.audit import run_vpc_audit
from hyperpod_preflight.capacity_run import run_capacity_scan
from hyperpod_preflight.facts.core import action_name
from hyperpod_preflight.preflight import run_cluster_preflight
from hyperpod_preflight.quota_requests import plan_quota_requests, submit_quota_requests
from hyperpod_preflight.spec import load_spec

MUTATING_OR_REQUEST_ONLY = {
    "servicequotas:RequestServiceQuotaIncrease",
    "servicequotas:GetRequestedServiceQuotaChange",
}
# Not called by our code: Service Quotas creates its service-linked role on a first request.
IMPLICIT = {"iam:CreateServiceLinkedRole"}
# Read only for an EKS config; tests/checks/eks/test_eks_full_run.py proves each is called.
EKS_CONFIG_ONLY = {
    "eks:DescribeAccessEntry",
    "eks:DescribeAddon",
    "eks:DescribeCluster",
    "eks:ListAccessEntries",
    "eks:ListAssociatedAccessPolicies",
}

# Read only for a file system in another VPC than the cluster's;
# tests/checks/slurm/test_slurm_fsx.py (test_vpc_of_a_peered_vpc_…) proves each is called.
FSX_OTHER_VPC_ONLY = {
    "ec2:DescribeTransitGatewayAttachments",
    "ec2:DescribeVpcPeeringConnections",
}


# Read only by `hp-preflight diagnose`; tests/checks/cluster/test_live.py calls each.
DIAGNOSE_ONLY = {
    "logs:FilterLogEvents",
    "sagemaker:DescribeClusterEvent",
    "sagemaker:ListClusterEvents",
    "sagemaker:ListClusterNodes",
}


def _iam_action(service: str, operation: str) -> str:
    model = botocore.session.get_session().get_service_model(service)
    return action_name(service, model.signing_name or model.endpoint_prefix, operation)


def _operation_of(service: str, snake_name: str) -> str:
    model = botocore.session.get_session().get_service_model(service)
    for name in model.operation_names:
        if botocore.xform_name(name) == snake_name:
            return str(name)
    raise AssertionError(f"{service} has no operation {snake_name}")


def actions_in_source() -> set[str]:
    """Every action the facts layer can call, read from its source."""
    found: set[str] = set()
    for path in (REPO / "hyperpod_preflight" / "facts").glob("*.py"):
        tree = ast.parse(path.read_text())
        clients: dict[str, str] = {}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            attr = node.func.attr
            if attr in ("call", "paginate") and len(args) >= 2:
                found.add(_iam_action(args[0], args[1]))
            elif attr == "client" and args:
                clients[path.name] = args[0]
            elif attr == "get_paginator" and args:
                found.add(
                    _iam_action(clients[path.name], _operation_of(clients[path.name], args[0]))
                )
            elif attr == "get_caller_identity":
                found.add("sts:GetCallerIdentity")
    return found


def test_policies_are_valid_and_name_single_actions() -> None:
    for name in ("hp-preflight-readonly", "hp-preflight-quota-requests"):
        doc = json.loads((REPO / "policies" / f"{name}.json").read_text())
        assert doc["Version"] == "2012-10-17"
        for action in policy_actions(name):
            assert "*" not in action, f"{name} grants a wildcard: {action}"


def test_readonly_policy_is_exactly_what_check_and_quotas_can_call() -> None:
    source = actions_in_source()
    readonly = policy_actions("hp-preflight-readonly")
    assert readonly == source - MUTATING_OR_REQUEST_ONLY
    assert not readonly & MUTATING_OR_REQUEST_ONLY, "the read-only policy must not mutate"
    assert policy_actions("hp-preflight-quota-requests") == MUTATING_OR_REQUEST_ONLY | IMPLICIT


@pytest.fixture
def full_run_actions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> set[str]:
    """Run check, quotas and a submitted quota request against moto + the quotas fake."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    RECORDED_ACTIONS.clear()
    with moto_env():
        ec2 = boto3.client("ec2", region_name="us-west-2")
        net = healthy_network(ec2)
        create_existing_clusters(boto3.client("sagemaker", region_name="us-west-2"))
        # The config's lifecycle bucket, without Block Public Access of its own (so the
        # account's setting is read too).
        s3 = boto3.client("s3", region_name="us-west-2")
        s3.create_bucket(
            Bucket="sagemaker-lcs", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
        for name in ("on_create.sh", "provisioning_parameters.json"):
            s3.put_object(Bucket="sagemaker-lcs", Key=f"base/{name}", Body=b"#!/bin/bash\n")
        # on_create.sh under a KMS key the execution role may not use: iam.lifecycle-kms
        # reads the key, its policy and the role's grants.
        key = boto3.client("kms", region_name="us-west-2").create_key()["KeyMetadata"]["Arn"]
        s3.put_object(
            Bucket="sagemaker-lcs",
            Key="base/on_create.sh",
            Body=b"#!/bin/bash\n",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=key,
        )
        iam = boto3.client("iam", region_name="us-west-2")
        healthy_execution_role(iam, "HyperPodExec")
        for name, value in assumed_role_env(iam, "Deployer", path="/ops/").items():
            monkeypatch.setenv(name, value)
        applied, defaults = sagemaker_quotas(
            applied=default_account({"ml.p5.48xlarge for cluster usage": 4})
        )
        # The vCPU quotas sit at their defaults: read through GetAWSDefaultServiceQuota.
        fake = ServiceQuotasFake(
            applied=[*applied, *EC2_VPC_QUOTAS[:2]], defaults=[*defaults, *EC2_VPC_QUOTAS[2:]]
        )
        facts = fresh_facts()
        fake.attach(facts)
        IamStub(simulate=lambda action, resource, context: "allowed").attach(facts)
        config = slurm_config([net.subnets["a"]], [net.sgs["efa"]])
        with_fsx_ami_and_alarm(ec2, net, facts, config["InstanceGroups"][2])
        spec = load_spec(config)
        facts.verify_identity()
        report = run_cluster_preflight(spec, facts=facts, options={"fsx": True})
        assert not [
            f
            for f in report.results
            if f.status.value == "UNKNOWN" and f.check_id != "capacity.training-plan"
        ]
        # the whole-VPC audit and the capacity scan read through the same facts
        run_vpc_audit(net.vpc, facts=facts)
        run_capacity_scan("ml.p5.48xlarge", 4, regions=["us-west-2"], facts_for=lambda _: facts)
        plans = plan_quota_requests(spec, report_plan(report), facts)
        results = submit_quota_requests(plans, facts, wait=True, timeout_s=5, poll_s=0.01)
        assert results, "the account is short of p5 quota: a request must be planned"
    return set(RECORDED_ACTIONS)


def with_fsx_ami_and_alarm(ec2: Any, net: Any, facts: Any, workers: dict[str, Any]) -> None:
    """The workers mount an FSx for Lustre file system (answered with the fields moto's FSx
    leaves out), run a custom AMI and roll scheduled updates back on a CloudWatch alarm."""
    eni = ec2.create_network_interface(SubnetId=net.subnets["a"], Groups=[net.sgs["efa"]])
    fs = lustre(FS_OK, net.subnets["a"], [eni["NetworkInterface"]["NetworkInterfaceId"]])
    file_systems({FS_OK: fs}).attach(facts.client("fsx"))
    workers.setdefault("InstanceStorageConfigs", []).append(
        {"FsxLustreConfig": {"DnsName": dns(FS_OK), "MountName": "abcdefgh"}}
    )
    base = next(
        i for i in ec2.describe_images(Owners=["amazon"])["Images"] if i["Architecture"] == "x86_64"
    )
    instance = ec2.run_instances(ImageId=base["ImageId"], MinCount=1, MaxCount=1)["Instances"][0]
    workers["ImageId"] = ec2.create_image(InstanceId=instance["InstanceId"], Name="hp-custom")[
        "ImageId"
    ]
    boto3.client("cloudwatch", region_name="us-west-2").put_metric_alarm(
        AlarmName="hp-rollback",
        MetricName="Errors",
        Namespace="HP",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    workers["ScheduledUpdateConfig"] = {
        "ScheduleExpression": "cron(0 3 ? * SUN *)",
        "DeploymentConfig": {"AutoRollbackConfiguration": [{"AlarmName": "hp-rollback"}]},
    }


def report_plan(report: object) -> object:
    from hyperpod_preflight.planner import ClusterPlan

    return TypeAdapter(ClusterPlan).validate_python(report.facts["plan"])


def test_a_full_run_calls_only_granted_actions_and_covers_the_policies(
    full_run_actions: set[str],
) -> None:
    granted = policy_actions("hp-preflight-readonly", "hp-preflight-quota-requests")
    assert full_run_actions <= granted
    # Everything granted is really used (training plans need a config that names one).
    unused = (
        granted
        - full_run_actions
        - IMPLICIT
        - EKS_CONFIG_ONLY
        - DIAGNOSE_ONLY
        - FSX_OTHER_VPC_ONLY
        - {"sagemaker:DescribeTrainingPlan"}
    )
    assert not unused, f"granted but never called: {sorted(unused)}"
