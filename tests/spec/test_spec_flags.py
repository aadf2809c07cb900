"""spec_from_flags beyond the basics of test_spec.py: id lists, limits from the model, the
orchestrator rules, and a raw config that botocore's model accepts."""

from __future__ import annotations

from typing import Any

import pytest
from hp_configs import EKS_ARN, ROLE, SG, SUBNET_A, SUBNET_B

from hyperpod_preflight.errors import InputError
from hyperpod_preflight.spec import config_problems, spec_from_flags


def _subnet(i: int) -> str:
    return f"subnet-{i:017x}"


def _sg(i: int) -> str:
    return f"sg-{i:017x}"


def _error(**kwargs: Any) -> str:
    with pytest.raises(InputError) as info:
        spec_from_flags(**kwargs)
    assert info.value.exit_code == 2
    return str(info.value)


def test_repeated_and_comma_separated_ids_are_merged_in_order() -> None:
    spec = spec_from_flags(
        subnets=[f"{SUBNET_B}, {SUBNET_A}", SUBNET_B, f" {SUBNET_A} ,"],
        security_groups=f"{SG},{SG}",
    )
    assert spec.vpc_config is not None
    assert spec.vpc_config.subnets == (SUBNET_B, SUBNET_A)
    assert spec.vpc_config.security_group_ids == (SG,)


def test_the_limits_count_distinct_ids_and_come_from_the_model() -> None:
    sixteen = [_subnet(i) for i in range(16)]
    spec = spec_from_flags(subnets=[*sixteen, *sixteen[:4]])
    assert spec.vpc_config is not None and len(spec.vpc_config.subnets) == 16
    assert _error(subnets=[_subnet(i) for i in range(17)]) == (
        "--subnet: at most 16 subnets, 17 given"
    )
    assert _error(security_groups=[_sg(i) for i in range(6)]) == (
        "--security-group: at most 5 security groups, 6 given"
    )


def test_a_bad_id_anywhere_in_a_list_is_named() -> None:
    assert _error(subnets=[SUBNET_A, f"{SUBNET_B},subnet-XYZ"]).startswith(
        "--subnet 'subnet-XYZ': not a subnet id"
    )


@pytest.mark.parametrize(
    ("kwargs", "orchestrator"),
    [
        ({}, "slurm"),
        ({"orchestrator": " EKS "}, "eks"),
        ({"orchestrator": ""}, "slurm"),
        ({"eks_cluster_arn": EKS_ARN}, "eks"),
        ({"orchestrator": "eks", "eks_cluster_arn": EKS_ARN}, "eks"),
    ],
)
def test_the_orchestrator_follows_the_flag_or_the_cluster_arn(
    kwargs: dict[str, Any], orchestrator: str
) -> None:
    assert spec_from_flags(**kwargs).orchestrator == orchestrator


def test_the_same_group_name_twice_is_refused_even_after_many_groups() -> None:
    groups = [f"g{i}=ml.m5.xlarge:1" for i in range(300)]
    assert _error(instance_groups=[*groups, "g7=ml.m5.xlarge:2"]) == (
        "--instance-group: group name 'g7' given twice"
    )


def test_the_raw_config_of_a_flag_spec_is_valid_create_cluster_input() -> None:
    spec = spec_from_flags(
        subnets=[SUBNET_A],
        security_groups=SG,
        instance_groups=["workers=p5.48xlarge:2", "ctl=ml.m5.xlarge:1"],
        execution_role=ROLE,
        lifecycle_uri="s3://sagemaker-x/lc/",
        name="c1",
        eks_cluster_arn=EKS_ARN,
    )
    assert config_problems(spec.raw) == ([], [])
    assert spec.raw["Orchestrator"] == {"Eks": {"ClusterArn": EKS_ARN}}
    assert [g["InstanceType"] for g in spec.raw["InstanceGroups"]] == [
        "ml.p5.48xlarge",
        "ml.m5.xlarge",
    ]
