"""CloudFormation templates and Terraform plans given to --config (issue 19): each gives the
same findings as the equivalent CreateCluster JSON, apart from the SKIPs of values known only
after deploy; findings point at the template's lines; bad templates are one line, exit 2.

The fixtures under iac/ are written here, in the shapes of the public samples (a nested
cluster stack with parameters and conditions; `terraform show -json` of an awscc cluster)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import REGION, healthy_network, new_facts
from conftest import moto_env
from hp_configs import ROLE, SG, SUBNET_A

from hyperpod_preflight.cli import main
from hyperpod_preflight.models import Finding, Status
from hyperpod_preflight.preflight import run_cluster_preflight
from hyperpod_preflight.spec import ClusterSpec, load_spec, load_specs

IAC = Path(__file__).parent / "iac"
STACK = IAC / "eks-cluster-stack.yaml"
PSEUDO = {"AWS::AccountId": "123456789012", "AWS::Region": "us-west-2"}
EKS_ARN = "arn:aws:eks:us-west-2:123456789012:cluster/ml-eks"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def findings(spec: ClusterSpec) -> list[Finding]:
    return run_cluster_preflight(spec, offline=True).results


def comparable(spec: ClusterSpec) -> set[tuple[str, str, str, str]]:
    """The findings without what names the file (config.schema's resource, locations)."""
    out = set()
    for f in findings(spec):
        resource = "<config>" if f.resource == spec.source else f.resource
        out.add((f.check_id, resource, f.status.value, f.message.replace(spec.source, "<config>")))
    return out


def eks_twin() -> dict[str, Any]:
    """The CreateCluster JSON the stack deploys with its defaults and PSEUDO."""
    lifecycle = {
        "SourceS3Uri": "s3://sagemaker-lifecycle-bucket/lifecycle/",
        "OnCreate": "on_create.sh",
    }
    return {
        "ClusterName": "ml-eks-cluster",
        "InstanceGroups": [
            {
                "InstanceGroupName": "gpu-workers",
                "InstanceType": "ml.p5.48xlarge",
                "InstanceCount": 2,
                "ThreadsPerCore": 1,
                "ExecutionRole": ROLE,
                "LifeCycleConfig": lifecycle,
                "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 500}}],
                "OnStartDeepHealthChecks": ["InstanceStress"],
            },
            {
                "InstanceGroupName": "system",
                "InstanceType": "ml.m5.2xlarge",
                "InstanceCount": 1,
                "ExecutionRole": ROLE,
                "LifeCycleConfig": lifecycle,
            },
        ],
        "NodeRecovery": "Automatic",
        "Orchestrator": {"Eks": {"ClusterArn": EKS_ARN}},
        "VpcConfig": {"SecurityGroupIds": [SG], "Subnets": [SUBNET_A]},
    }


def slurm_twin() -> dict[str, Any]:
    """The CreateCluster JSON of plan-known.json."""
    lifecycle = {
        "OnCreate": "on_create.sh",
        "SourceS3Uri": "s3://sagemaker-lifecycle-bucket/lifecycle/",
    }

    def group(name: str, itype: str, count: int, node_type: str) -> dict[str, Any]:
        return {
            "InstanceGroupName": name,
            "InstanceType": itype,
            "InstanceCount": count,
            "ExecutionRole": ROLE,
            "ThreadsPerCore": 1,
            "LifeCycleConfig": lifecycle,
            "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 500}}],
            "SlurmConfig": {"NodeType": node_type},
        }

    return {
        "ClusterName": "ml-slurm",
        "InstanceGroups": [
            group("controller", "ml.m5.xlarge", 1, "Controller"),
            group("workers", "ml.p5.48xlarge", 2, "Compute"),
        ],
        "NodeRecovery": "Automatic",
        "Orchestrator": {"Slurm": {"SlurmConfigStrategy": "Managed"}},
        "Tags": [{"Key": "team", "Value": "ml"}],
        "VpcConfig": {"SecurityGroupIds": [SG], "Subnets": [SUBNET_A]},
    }


# -- CloudFormation ---------------------------------------------------------------------------
def stack_spec(**parameters: str) -> ClusterSpec:
    return load_spec(STACK, parameters={"SecurityGroupId": SG, **PSEUDO, **parameters})


def test_the_nested_stack_evaluates_to_its_create_cluster_twin() -> None:
    spec = stack_spec()
    assert spec.raw == eks_twin()
    assert spec.problems == () and spec.unknowns == {}
    assert (spec.source_kind, spec.resource, spec.name) == (
        "cloudformation",
        "HyperPodCluster",
        "ml-eks-cluster",
    )


def test_the_nested_stack_gives_the_findings_of_its_twin() -> None:
    assert comparable(stack_spec()) == comparable(load_spec(eks_twin()))


@pytest.mark.parametrize(
    ("parameters", "checks", "groups"),
    [
        ({"ConnectivityCheck": "true"}, ["InstanceStress", "InstanceConnectivity"], 2),
        ({"StressCheck": "false", "ConnectivityCheck": "true"}, ["InstanceConnectivity"], 2),
        ({"StressCheck": "false", "CreateSystemGroup": "false"}, None, 1),
    ],
)
def test_conditions_follow_the_parameters(
    parameters: dict[str, str], checks: list[str] | None, groups: int
) -> None:
    spec = stack_spec(**parameters)
    gpu = spec.raw["InstanceGroups"][0]
    assert gpu.get("OnStartDeepHealthChecks") == checks
    assert len(spec.instance_groups) == groups


def test_list_parameter_number_coercion_and_training_plan() -> None:
    plan = "arn:aws:sagemaker:us-west-2:123456789012:training-plan/p1"
    spec = stack_spec(
        SubnetIds=f"{SUBNET_A},subnet-0a1b2c3d4e5f60719", GpuCount="8", TrainingPlanArn=plan
    )
    assert spec.all_subnets == (SUBNET_A, "subnet-0a1b2c3d4e5f60719")
    assert spec.instance_groups[0].count == 8
    assert spec.instance_groups[0].training_plan_arn == plan


def test_without_the_account_the_roles_and_the_eks_arn_are_deploy_time_skips() -> None:
    spec = load_spec(STACK, parameters={"SecurityGroupId": SG})
    assert set(spec.unknowns) == {
        "InstanceGroups[0].ExecutionRole",
        "InstanceGroups[1].ExecutionRole",
        "Orchestrator.Eks.ClusterArn",
    }
    assert spec.problems == ()  # a value left to deploy time is not "missing"
    assert [g.name for g in spec.instance_groups] == ["gpu-workers", "system"]
    results = findings(spec)
    role = [f for f in results if f.check_id == "config.execution-role-arn"]
    assert {(f.resource, f.status) for f in role} == {
        ("InstanceGroups[0].ExecutionRole", Status.SKIP),
        ("InstanceGroups[1].ExecutionRole", Status.SKIP),
    }
    assert "known only after deploy" in role[0].message and "AWS::AccountId" in role[0].message
    # everything else runs: the same findings as the twin for the checks needing neither
    deferred = {f.check_id for f in results if "known only after deploy" in f.message}
    assert {"config.execution-role-arn", "config.eks-vpc-config"} <= deferred
    assert "config.unique-group-names" not in deferred
    twin = {(f.check_id, f.resource, f.status) for f in findings(load_spec(eks_twin()))}
    mine = {(f.check_id, f.resource, f.status) for f in results if f.check_id not in deferred}
    assert mine == {t for t in twin if t[0] not in deferred}


def test_getatt_of_a_resource_of_the_template_is_not_guessed(tmp_path: Path) -> None:
    text = STACK.read_text().replace(
        "        Subnets: !Ref SubnetIds", "        Subnets: [!GetAtt PrivateSubnet.SubnetId]"
    )
    text = text.replace(
        "Resources:\n", "Resources:\n  PrivateSubnet:\n    Type: AWS::EC2::Subnet\n"
    )
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    spec = load_spec(path, parameters={"SecurityGroupId": SG, **PSEUDO})
    assert spec.unknowns == {"VpcConfig.Subnets[0]": "!GetAtt PrivateSubnet.SubnetId"}
    by_check = {f.check_id: f for f in findings(spec)}
    assert by_check["config.efa-single-subnet-az"].status is Status.SKIP
    assert by_check["config.efa-single-subnet-az"].resource == "VpcConfig.Subnets[0]"
    assert by_check["config.unique-group-names"].status is Status.PASS


@pytest.mark.parametrize("shape", ["deploy", "create-stack", "codepipeline"])
def test_parameters_files_in_each_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    values = {"SecurityGroupId": SG, "GpuCount": "3"}
    data: Any = {
        "deploy": [f"{k}={v}" for k, v in values.items()],
        "create-stack": [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        "codepipeline": {"Parameters": values},
    }[shape]
    params = tmp_path / "params.json"
    params.write_text(json.dumps(data))
    args = ["check", "--offline", "--config", str(STACK), "--parameters-file", str(params)]
    args += ["--parameter", "AWS::AccountId=123456789012", "--parameter", "AWS::Region=us-west-2"]
    code, out, err = run_cli([*args, "-o", "json", "--only", "config"], capsys)
    assert code == 0, err
    report = json.loads(out)
    counts = [f for f in report["results"] if f["check_id"] == "config.instance-count-limit"]
    assert "4 instances" in counts[-1]["message"]


def test_a_parameter_breaking_the_name_pattern_is_reported_at_the_template_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["check", "--offline", "--config", str(STACK), "--only", "config", "-o", "json"]
    args += ["--parameter", f"SecurityGroupId={SG}", "--parameter", "ClusterNameParam=bad_name!"]
    code, out, _ = run_cli(args, capsys)
    assert code == 1
    (schema,) = [
        f
        for f in json.loads(out)["results"]
        if f["check_id"] == "config.schema" and f["status"] == "FAIL"
    ]
    assert schema["resource"] == "ClusterName"
    assert "does not match the ClusterName pattern" in schema["message"]
    lines = STACK.read_text().splitlines()
    line = next(
        i for i, text in enumerate(lines, 1) if "ClusterName: !Ref ClusterNameParam" in text
    )
    assert schema["location"] == {
        "file": str(STACK),
        "line": line,
        "column": lines[line - 1].index("!Ref") + 1,
        "path": "Resources.HyperPodCluster.Properties.ClusterName",
        "config_path": "ClusterName",
    }


def test_findings_about_groups_point_at_the_group(capsys: pytest.CaptureFixture[str]) -> None:
    spec = stack_spec(ThreadsPerCore="3")
    by_check = {(f.check_id, f.resource): f for f in findings(spec)}
    lines = STACK.read_text().splitlines()
    group_line = next(i for i, t in enumerate(lines, 1) if "InstanceGroupName: gpu-workers" in t)
    unique = by_check[("config.unique-group-names", "gpu-workers")]
    assert unique.location is not None and unique.location.line == group_line
    threads = by_check[("config.schema", "InstanceGroups[0].ThreadsPerCore")]
    assert threads.status is Status.FAIL
    line = next(i for i, t in enumerate(lines, 1) if "ThreadsPerCore: !Ref ThreadsPerCore" in t)
    assert threads.location is not None and threads.location.line == line


def test_a_json_template_is_read_too(tmp_path: Path) -> None:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def long_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {name: value}

    Loader.add_multi_constructor("!", long_form)
    template = yaml.load(STACK.read_text(), Loader=Loader)
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(template, indent=2))
    spec = load_spec(path, parameters={"SecurityGroupId": SG, **PSEUDO})
    assert spec.raw == eks_twin()
    loc = spec.locations["ClusterName"]
    assert loc.line is not None and '"ClusterName"' in path.read_text().splitlines()[loc.line - 1]


# -- Terraform ----------------------------------------------------------------------------------
def test_a_plan_with_every_value_known_gives_the_findings_of_its_twin() -> None:
    spec = load_spec(IAC / "plan-known.json")
    assert spec.raw == slurm_twin()
    assert (spec.source_kind, spec.resource) == (
        "terraform-plan",
        "module.hyperpod.awscc_sagemaker_cluster.this",
    )
    assert comparable(spec) == comparable(load_spec(slurm_twin()))


def test_a_subnet_created_by_the_same_plan_is_a_skip_and_the_rest_runs() -> None:
    spec = load_spec(IAC / "plan-unknown-subnet.json")
    assert list(spec.unknowns) == ["VpcConfig.Subnets[0]"]
    twin = comparable(load_spec(slurm_twin()))
    mine = comparable(spec)
    skipped = {c for c in mine if c not in twin}
    assert skipped and all(s[2] == "SKIP" and s[1] == "VpcConfig.Subnets[0]" for s in skipped)
    assert all("known only after deploy" in s[3] for s in skipped)
    lost = {t[0] for t in twin if t not in mine}
    assert lost == {s[0] for s in skipped if s[0] != "config.schema"}
    judged_offline = {t[0] for t in twin if t[0] in lost and "--offline" not in t[3]}
    assert judged_offline == {"config.efa-single-subnet-az"}  # the one config check on subnets
    located = spec.locations["VpcConfig.Subnets[0]"]
    assert located.line == 1 and located.path.endswith("change.after.vpc_config.subnets[0]")


def test_every_cluster_of_a_plan_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = json.loads((IAC / "plan-known.json").read_text())
    second = json.loads(json.dumps(plan["resource_changes"][0]))
    second["address"] = "awscc_sagemaker_cluster.second"
    second["change"]["actions"] = ["update"]
    second["change"]["after"]["cluster_name"] = "second"
    noop = json.loads(json.dumps(second))
    noop["address"] = "awscc_sagemaker_cluster.untouched"
    noop["change"]["actions"] = ["no-op"]
    plan["resource_changes"] += [second, noop]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    specs = load_specs(path)
    assert [s.name for s in specs] == ["ml-slurm", "second"]
    assert [s.name for s in load_specs(path, resource="awscc_sagemaker_cluster.second")] == [
        "second"
    ]
    args = ["check", "--offline", "--config", str(path), "-o", "json", "--only", "config"]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["target"] == "ml-slurm, second"
    files = {f["location"]["path"].split(".change")[0] for f in report["results"] if f["location"]}
    assert files == {"resource_changes[0]", "resource_changes[1]"}


# -- bad templates: one line, exit 2 -----------------------------------------------------------
NO_CLUSTER = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
CIDR = (
    "Resources:\n  C:\n    Type: AWS::SageMaker::Cluster\n    Properties:\n"
    "      ClusterName: !Cidr [10.0.0.0/16, 2, 8]\n"
)
NO_DEFAULT = (
    "Parameters:\n  Name:\n    Type: String\nResources:\n  C:\n"
    "    Type: AWS::SageMaker::Cluster\n    Properties:\n      ClusterName: !Ref Name\n"
)
NOT_CFN = "name: my-cluster\ngroups:\n  - a\n"
TRANSFORM = "Transform: AWS::LanguageExtensions\n" + NO_CLUSTER
BAD_YAML = "Resources:\n  C: [unclosed\n"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("no-cluster.yaml", NO_CLUSTER, "no AWS::SageMaker::Cluster resource in the template"),
        ("cidr.yaml", CIDR, "(line 5, column 20): Fn::Cidr is not supported here"),
        ("no-default.yaml", NO_DEFAULT, "(line 2, column 3): parameter Name has no value and no"),
        ("not-cfn.yaml", NOT_CFN, "YAML that is not a CloudFormation template (no Resources)"),
        ("bad.yaml", BAD_YAML, "neither JSON nor YAML at line"),
        ("transform.yaml", TRANSFORM, "(line 1, column 12): the template declares a Transform"),
        (
            "plan.json",
            (IAC / "plan-without-cluster.json").read_text(),
            "no awscc_sagemaker_cluster",
        ),
    ],
)
def test_bad_templates_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    code, out, err = run_cli(["check", "--offline", "--config", str(path)], capsys)
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"hp-preflight: error: {path}")
    assert expected in lines[0]


# -- against an account (moto): the network checks judge the plan as they judge its twin -------
@pytest.fixture(scope="module")
def world() -> Iterator[SimpleNamespace]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        yield SimpleNamespace(ec2=ec2, net=healthy_network(ec2))


def _plan_in(world: SimpleNamespace, tmp_path: Path, name: str) -> Path:
    text = (IAC / name).read_text()
    text = text.replace(SUBNET_A, world.net.subnets["a"]).replace(SG, world.net.sgs["efa"])
    path = tmp_path / name
    path.write_text(text)
    return path


def _online(spec: ClusterSpec) -> set[tuple[str, str, str, str]]:
    report = run_cluster_preflight(spec, facts=new_facts(), only=["config", "network"])
    return {
        (f.check_id, "<config>" if f.resource == spec.source else f.resource, f.status.value,
         f.message.replace(spec.source, "<config>"))
        for f in report.results
    }  # fmt: skip


def test_against_an_account_the_plans_judge_as_their_twin(
    world: SimpleNamespace, lifted_endpoint: None, tmp_path: Path
) -> None:
    twin = slurm_twin()
    twin["VpcConfig"] = {
        "SecurityGroupIds": [world.net.sgs["efa"]],
        "Subnets": [world.net.subnets["a"]],
    }
    expected = _online(load_spec(twin))
    assert any(f[0] == "network.subnet-exists" and f[2] == "PASS" for f in expected)
    known = load_spec(_plan_in(world, tmp_path, "plan-known.json"))
    assert _online(known) == expected
    unknown = _online(load_spec(_plan_in(world, tmp_path, "plan-unknown-subnet.json")))
    deferred = {f for f in unknown if "known only after deploy" in f[3]}
    assert {f[0] for f in deferred} >= {"network.subnet-exists", "network.subnet-capacity"}
    assert all(f[2] == "SKIP" and f[1] == "VpcConfig.Subnets[0]" for f in deferred)
    # config.schema adds a SKIP for the value it could not validate, beside its PASS
    skipped_checks = {d[0] for d in deferred} - {"config.schema"}
    same = {f for f in expected if f[0] not in skipped_checks}
    assert unknown - deferred == same
    # the security group checks still ran on the group the plan names
    assert any(f[0] == "network.sg-efa-self-ingress" and f[2] == "PASS" for f in same)
