"""InstanceGroup.capacity_type: which groups the config puts on Spot capacity, read from
`CapacityRequirements` (botocore shape ClusterCapacityRequirements: Spot | OnDemand)."""

from __future__ import annotations

from typing import Any

import pytest
from hp_configs import ROLE, cluster, group

from hyperpod_preflight.sagemaker_model import sagemaker_service_model
from hyperpod_preflight.spec import load_spec, spec_from_flags


def test_the_model_names_spot_and_on_demand_capacity() -> None:
    members = sagemaker_service_model().shape_for("ClusterCapacityRequirements").members
    assert {"Spot", "OnDemand"} <= set(members)


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        (None, "on-demand"),
        ({"OnDemand": {}}, "on-demand"),
        ({"Spot": {}}, "spot"),
    ],
)
def test_capacity_type_follows_capacity_requirements(
    requirements: dict[str, Any] | None, expected: str
) -> None:
    spec = load_spec(cluster(group("w", CapacityRequirements=requirements)))
    assert spec.instance_groups[0].capacity_type == expected


def test_each_group_has_its_own_capacity_type() -> None:
    config = cluster(
        group("ctl", "ml.m5.xlarge"),
        group("spot-workers", CapacityRequirements={"Spot": {}}),
        group("workers", CapacityRequirements={"OnDemand": {}}),
        RestrictedInstanceGroups=[
            {
                "InstanceGroupName": "restricted",
                "InstanceType": "ml.p5.48xlarge",
                "InstanceCount": 1,
                "ExecutionRole": ROLE,
            }
        ],
    )
    spec = load_spec(config)
    assert {g.name: g.capacity_type for g in spec.instance_groups} == {
        "ctl": "on-demand",
        "spot-workers": "spot",
        "workers": "on-demand",
        "restricted": "on-demand",
    }


def test_groups_from_flags_are_on_demand() -> None:
    spec = spec_from_flags(instance_groups=["w=ml.p5.48xlarge:2"])
    assert spec.instance_groups[0].capacity_type == "on-demand"
