"""A live cluster's DescribeCluster answer is turned back into its CreateCluster request."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import EXAMPLES

from hyperpod_preflight.spec import load_spec
from hyperpod_preflight.spec.from_cluster import create_request_of


@pytest.mark.parametrize("example", ["slurm-p5-cluster.json", "eks-p5-g5-cluster.json"])
def test_round_trip_gives_back_the_request(example: str) -> None:
    config: dict[str, Any] = json.loads((EXAMPLES / example).read_text())
    described = {k: v for k, v in config.items() if k not in ("InstanceGroups", "Tags")}
    described |= {
        "ClusterArn": "arn:aws:sagemaker:us-west-2:123456789012:cluster/abcdef123456",
        "ClusterStatus": "Failed",
        "FailureMessage": "x",
        "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
        "InstanceGroups": [
            {k: v for k, v in g.items() if k != "InstanceCount"}
            | {
                "TargetCount": g["InstanceCount"],
                "CurrentCount": 0,
                "Status": "Failed",
                "CurrentImageId": "ami-0123456789abcdef0",
            }
            for g in config["InstanceGroups"]
        ],
    }
    rebuilt = create_request_of(described)
    expected = {k: v for k, v in config.items() if k != "Tags"}
    assert rebuilt == expected
    assert load_spec(rebuilt).name == config["ClusterName"]


def test_state_fields_are_dropped_and_counts_fall_back() -> None:
    rebuilt = create_request_of(
        {
            "ClusterName": "c1",
            "ClusterStatus": "InService",
            "InstanceGroups": [
                {
                    "InstanceGroupName": "g",
                    "CurrentCount": 3,
                    "Status": "InService",
                    "InstanceType": "ml.g5.xlarge",
                    "ExecutionRole": "arn:aws:iam::123456789012:role/r",
                }
            ],
        }
    )
    assert rebuilt == {
        "ClusterName": "c1",
        "InstanceGroups": [
            {
                "InstanceGroupName": "g",
                "InstanceType": "ml.g5.xlarge",
                "InstanceCount": 3,
                "ExecutionRole": "arn:aws:iam::123456789012:role/r",
            }
        ],
    }
