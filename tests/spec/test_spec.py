"""load_spec and spec_from_flags: what a user sees for good and bad configs and flags."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import botocore.session
import botocore.validate
import pytest
from hp_configs import (
    EKS_ARN,
    EXAMPLES,
    ROLE,
    SG,
    SUBNET_A,
    SUBNET_B,
    cluster,
    example,
    group,
)

from hyperpod_preflight.errors import InputError
from hyperpod_preflight.spec import ClusterSpec, load_spec, spec_from_flags


def _write(tmp_path: Path, config: Any, name: str = "cluster.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(config) if not isinstance(config, str) else config)
    return path


def _error(source: Any) -> str:
    with pytest.raises(InputError) as info:
        load_spec(source, strict=True)
    message = str(info.value)
    assert "\n" not in message
    assert info.value.exit_code == 2
    return message


def _botocore_accepts(config: dict[str, Any]) -> bool:
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateCluster").input_shape
    return not botocore.validate.ParamValidator().validate(config, shape).has_errors()


# -- the examples ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["slurm-p5-cluster.json", "eks-p5-g5-cluster.json"])
def test_examples_are_valid_create_cluster_input(name: str) -> None:
    config = example(name)
    assert _botocore_accepts(config)
    spec = load_spec(EXAMPLES / name)
    assert spec.source == str(EXAMPLES / name)
    assert spec.raw == config
    assert spec.notices == ()


def test_slurm_example_reads_into_the_spec() -> None:
    spec = load_spec(EXAMPLES / "slurm-p5-cluster.json")
    assert spec.orchestrator == "slurm"
    assert [(g.name, g.instance_type, g.count) for g in spec.instance_groups] == [
        ("controller", "ml.m5.12xlarge", 1),
        ("login", "ml.m5.4xlarge", 1),
        ("workers", "ml.p5.48xlarge", 4),
    ]
    workers = spec.instance_groups[2]
    assert workers.json_path == "InstanceGroups[2]"
    assert workers.ebs_volume_sizes_gb == (500,)
    assert workers.slurm_node_type == "Compute"
    assert workers.partition_names == ("gpu",)
    assert workers.threads_per_core == 1
    assert workers.deep_health_checks == ("InstanceStress", "InstanceConnectivity")
    assert workers.lifecycle_on_create == "on_create.sh"
    assert spec.vpc_config is not None and len(spec.vpc_config.subnets) == 1
    assert spec.node_recovery == "Automatic"


def test_eks_example_reads_the_orchestrator() -> None:
    spec = load_spec(EXAMPLES / "eks-p5-g5-cluster.json")
    assert spec.orchestrator == "eks"
    assert spec.eks_cluster_arn == "arn:aws:eks:us-west-2:123456789012:cluster/ml-eks"


# -- reading the fields ---------------------------------------------------------------------------
def test_config_without_orchestrator_is_slurm() -> None:
    spec = load_spec(cluster(group("workers")))
    assert spec.orchestrator == "slurm"
    assert spec.eks_cluster_arn is None
    assert spec.source == "<dict>"


def test_eks_orchestrator_and_slurm_strategy() -> None:
    assert load_spec(cluster(group("w"), eks=True)).eks_cluster_arn == EKS_ARN
    slurm = load_spec(
        cluster(group("w"), Orchestrator={"Slurm": {"SlurmConfigStrategy": "Managed"}})
    )
    assert (slurm.orchestrator, slurm.slurm_config_strategy) == ("slurm", "Managed")


def test_restricted_groups_override_vpc_training_plan_and_requirements() -> None:
    plan_arn = f"arn:aws:sagemaker:us-west-2:{ROLE.split(':')[4]}:training-plan/my-plan-1"
    config = cluster(
        group(
            "flex",
            instance_type=None,
            InstanceRequirements={"InstanceTypes": ["ml.g5.12xlarge", "ml.g6.12xlarge"]},
            OverrideVpcConfig={"SecurityGroupIds": [SG], "Subnets": [SUBNET_B]},
            TrainingPlanArn=plan_arn,
        ),
        RestrictedInstanceGroups=[
            {
                "InstanceGroupName": "restricted",
                "InstanceType": "ml.p5.48xlarge",
                "InstanceCount": 2,
                "ExecutionRole": ROLE,
            }
        ],
    )
    spec = load_spec(config)
    flex, restricted = spec.instance_groups
    assert flex.instance_type is None
    assert flex.types == ("ml.g5.12xlarge", "ml.g6.12xlarge")
    assert flex.ec2_types == ("g5.12xlarge", "g6.12xlarge")
    assert flex.override_vpc is not None and flex.override_vpc.subnets == (SUBNET_B,)
    assert spec.vpc_for(flex).subnets == (SUBNET_B,)  # type: ignore[union-attr]
    assert flex.training_plan_arn == plan_arn
    assert (restricted.restricted, restricted.json_path) == (True, "RestrictedInstanceGroups[0]")
    assert spec.all_subnets == (SUBNET_A, SUBNET_B)


def test_missing_cluster_name_is_tolerated_and_said() -> None:
    config = cluster(group("w"))
    del config["ClusterName"]
    spec = load_spec(config)
    assert spec.name == "unnamed"
    assert any("ClusterName" in n and "--cluster-name" in n for n in spec.notices)


def test_tags_with_unicode_letters_pass_the_model_pattern() -> None:
    spec = load_spec(cluster(group("w"), Tags=[{"Key": "équipe", "Value": "ML plateforme"}]))
    assert spec.raw["Tags"][0]["Key"] == "équipe"


# -- what botocore's ParamValidator lets through, and we do not -----------------------------------
def test_pattern_is_checked_although_paramvalidator_skips_it() -> None:
    config = cluster(group("w"), ClusterName="my_cluster!")
    assert _botocore_accepts(config)
    message = _error(config)
    assert "ClusterName: 'my_cluster!' does not match the ClusterName pattern" in message


def test_enum_error_names_the_path_and_the_closest_type(tmp_path: Path) -> None:
    config = cluster(group("a"), group("b"), group("c", instance_type="ml.p5.48xl"))
    assert _botocore_accepts(config)
    path = _write(tmp_path, config)
    message = _error(path)
    assert message.startswith(f"{path}: ")
    assert (
        "InstanceGroups[2].InstanceType: 'ml.p5.48xl' is not a valid ClusterInstanceType; "
        "closest: ml.p5.48xlarge"
    ) in message


def test_type_without_ml_prefix_is_pointed_to_the_prefixed_name() -> None:
    message = _error(cluster(group("w", instance_type="p5.48xlarge")))
    assert "closest: ml.p5.48xlarge (HyperPod types take the ml. prefix)" in message


def test_maximum_is_checked_although_paramvalidator_checks_only_minimums() -> None:
    config = cluster(group("w", count=7000))
    assert _botocore_accepts(config)
    assert "InstanceGroups[0].InstanceCount: 7000 is above the maximum 6758" in _error(config)


def test_small_enum_lists_its_values() -> None:
    message = _error(cluster(group("w"), NodeRecovery="Sometimes"))
    assert "NodeRecovery: 'Sometimes' is not a valid ClusterNodeRecovery" in message
    assert "Automatic" in message


def test_boolean_is_not_an_integer() -> None:
    message = _error(cluster(group("w", ThreadsPerCore=True)))
    assert "InstanceGroups[0].ThreadsPerCore: must be an integer, not true" in message


def test_unknown_key_is_an_error_with_a_suggestion() -> None:
    config = cluster(group("w"))
    config["InstanceGroups"][0]["InstanceTyp"] = "ml.p5.48xlarge"
    message = _error(config)
    assert "InstanceGroups[0]: unknown key 'InstanceTyp' (did you mean 'InstanceType'?)" in message


def test_missing_required_key_is_named_by_its_path() -> None:
    message = _error(cluster(group("w", ExecutionRole=None)))
    assert "InstanceGroups[0].ExecutionRole: required but missing" in message


def test_wrong_type_is_reported() -> None:
    message = _error(cluster(group("w", count="4")))
    assert "InstanceGroups[0].InstanceCount: must be an integer, not a string '4'" in message


def test_many_problems_make_one_capped_line() -> None:
    config = cluster(*[group(f"g{i}", instance_type="ml.nope") for i in range(12)])
    message = _error(config)
    assert message.count("; ") >= 3
    assert message.endswith("(+6 more)")
    assert len(message) < 2000


# -- HyperPod forms ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda c: c["VpcConfig"].update(Subnets=["subnet-123"]),
            "VpcConfig.Subnets[0]: 'subnet-123' is not of the form subnet-",
        ),
        (
            lambda c: c["VpcConfig"].update(SecurityGroupIds=["sg-xyz12345"]),
            "VpcConfig.SecurityGroupIds[0]: 'sg-xyz12345' is not of the form sg-",
        ),
        (
            lambda c: c["VpcConfig"].update(Subnets=[SUBNET_A, SUBNET_A]),
            f"VpcConfig.Subnets: lists {SUBNET_A} more than once",
        ),
        (
            lambda c: c["InstanceGroups"][0].update(
                ExecutionRole="arn:aws:iam::123456789012:rolex"
            ),
            "InstanceGroups[0].ExecutionRole: 'arn:aws:iam::123456789012:rolex' is not an IAM role",
        ),
        (
            lambda c: c.update(Orchestrator={"Eks": {"ClusterArn": EKS_ARN}, "Slurm": {}}),
            "Orchestrator: set exactly one of Eks or Slurm (both given)",
        ),
        (
            lambda c: c["InstanceGroups"][0].pop("InstanceType"),
            "InstanceGroups[0]: set exactly one of InstanceType or InstanceRequirements",
        ),
    ],
)
def test_hyperpod_forms_beyond_the_model(mutate: Any, expected: str) -> None:
    config = cluster(group("w"))
    mutate(config)
    assert expected in _error(config)


# -- reading files --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"  \n\t ", "is empty"),
        (b'{"ClusterName": "x",\n  "InstanceGroups": [}', "invalid JSON at line 2:22"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary data"),
        (b"\xff\xfe{}", "not UTF-8 text (byte 0xff at offset 0)"),
        (b"[1, 2]", "the top level must be a JSON object"),
        (b'"cluster"', "the top level must be a JSON object"),
        (b'{"ClusterName": NaN}', "NaN is not valid JSON"),
        (b'{"ClusterName": "a", "ClusterName": "b"}', "key 'ClusterName' appears twice"),
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
    ],
)
def test_bad_files_are_input_errors_naming_the_file(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "cluster.json"
    path.write_bytes(content)
    message = _error(path)
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.json") == f"{tmp_path / 'nope.json'}: no such file"
    assert "is a directory" in _error(tmp_path)


def test_file_url_and_utf8_bom_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(cluster(group("w"))).encode())
    assert load_spec(f"file://{path}").instance_groups[0].name == "w"


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.dumps(cluster(group("w"))).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    spec = load_spec("-")
    assert (spec.source, spec.instance_groups[0].name) == ("-", "w")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"{")))
    assert _error("-").startswith("<stdin>: invalid JSON")


# -- flags ----------------------------------------------------------------------------------------
def test_vpc_alone_is_a_valid_spec() -> None:
    spec = spec_from_flags(vpc="vpc-0a1b2c3d4e5f60718")
    assert isinstance(spec, ClusterSpec)
    assert spec.vpc_id == "vpc-0a1b2c3d4e5f60718"
    assert spec.instance_groups == ()
    assert spec.vpc_config is None
    assert spec.source == "flags"


def test_flags_build_groups_and_vpc() -> None:
    spec = spec_from_flags(
        subnets=[f"{SUBNET_A},{SUBNET_B}"],
        security_groups=[SG],
        instance_groups=["workers=ml.p5.48xlarge:4", "ctl=m5.xlarge:1"],
        execution_role=ROLE,
        lifecycle_uri="s3://sagemaker-x/lc/",
        name="my-cluster",
    )
    assert [(g.name, g.instance_type, g.count) for g in spec.instance_groups] == [
        ("workers", "ml.p5.48xlarge", 4),
        ("ctl", "ml.m5.xlarge", 1),
    ]
    assert spec.vpc_config is not None and spec.vpc_config.subnets == (SUBNET_A, SUBNET_B)
    assert spec.instance_groups[0].execution_role == ROLE
    assert spec.instance_groups[0].lifecycle_source_s3_uri == "s3://sagemaker-x/lc/"
    assert spec.name == "my-cluster"
    assert spec.orchestrator == "slurm"


def test_eks_is_inferred_from_the_cluster_arn() -> None:
    spec = spec_from_flags(eks_cluster_arn=EKS_ARN)
    assert (spec.orchestrator, spec.eks_cluster_arn) == ("eks", EKS_ARN)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"vpc": "vpc-xyz"}, "--vpc 'vpc-xyz': not a VPC id"),
        ({"subnets": ["subnet-12"]}, "--subnet 'subnet-12': not a subnet id"),
        ({"security_groups": "sg-1"}, "--security-group 'sg-1': not a security group id"),
        (
            {"instance_groups": ["w=ml.p5.48xl:4"]},
            "--instance-group 'w=ml.p5.48xl:4': 'ml.p5.48xl' is not a valid ClusterInstanceType; "
            "closest: ml.p5.48xlarge",
        ),
        ({"instance_groups": ["w:ml.p5.48xlarge=4"]}, "expected NAME=ml.TYPE:COUNT"),
        ({"instance_groups": ["w=ml.p5.48xlarge:four"]}, "count 'four' must be a whole number"),
        ({"instance_groups": ["w=ml.p5.48xlarge:7000"]}, "from 0 to 6758"),
        ({"instance_groups": ["bad_name=ml.p5.48xlarge:1"]}, "group name 'bad_name'"),
        (
            {"instance_groups": ["w=ml.p5.48xlarge:1", "w=ml.g5.xlarge:1"]},
            "group name 'w' given twice",
        ),
        ({"orchestrator": "k8s"}, "--orchestrator 'k8s': must be slurm or eks"),
        (
            {"orchestrator": "slurm", "eks_cluster_arn": EKS_ARN},
            "--eks-cluster-arn: given with --orchestrator slurm",
        ),
        ({"eks_cluster_arn": "arn:aws:eks:us-west-2:1:cluster/x"}, "not an EKS cluster ARN"),
        ({"execution_role": "arn:aws:iam::123456789012:user/bob"}, "--execution-role"),
        ({"lifecycle_uri": "https://example.com/x"}, "--lifecycle-uri"),
        ({"name": "my_cluster"}, "--name 'my_cluster'"),
    ],
)
def test_each_bad_flag_is_named(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(InputError) as info:
        spec_from_flags(**kwargs)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
