"""Builders of CreateCluster configs (plain dicts, as a user writes them) for the spec, plan
and config-check tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/hyperpod-execution"
EKS_ARN = f"arn:aws:eks:us-west-2:{ACCOUNT}:cluster/ml-eks"
SUBNET_A = "subnet-0a1b2c3d4e5f60718"
SUBNET_B = "subnet-0a1b2c3d4e5f60719"
SUBNET_C = "subnet-0a1b2c3d"
SG = "sg-0a1b2c3d4e5f60718"
LIFECYCLE = {
    "SourceS3Uri": "s3://sagemaker-lifecycle-bucket/lifecycle/",
    "OnCreate": "on_create.sh",
}
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def group(
    name: str, instance_type: str = "ml.p5.48xlarge", count: int = 1, **extra: Any
) -> dict[str, Any]:
    """One InstanceGroups entry with a role and a lifecycle config; ``extra`` adds or replaces
    keys (a value of None removes the key)."""
    body: dict[str, Any] = {
        "InstanceGroupName": name,
        "InstanceType": instance_type,
        "InstanceCount": count,
        "ExecutionRole": ROLE,
        "LifeCycleConfig": dict(LIFECYCLE),
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def cluster(
    *groups: dict[str, Any],
    subnets: list[str] | None = None,
    eks: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A whole config; one VPC subnet by default (``subnets=[]`` for none)."""
    body: dict[str, Any] = {"ClusterName": "test-cluster", "InstanceGroups": list(groups)}
    subnet_ids = [SUBNET_A] if subnets is None else subnets
    if subnet_ids:
        body["VpcConfig"] = {"SecurityGroupIds": [SG], "Subnets": subnet_ids}
    if eks:
        body["Orchestrator"] = {"Eks": {"ClusterArn": EKS_ARN}}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def example(name: str) -> dict[str, Any]:
    """A fresh copy of one of the shipped example configs."""
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return copy.deepcopy(data)
