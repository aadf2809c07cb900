"""A config that breaks the CreateCluster model is judged, not refused: one ``config.schema``
FAIL per violation with its JSON path and the model's rule, exit 1, and every check whose
inputs are still valid runs on the rest (issue 16, item 6). What cannot be read as a config
at all stays exit 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import ACCOUNT, REGION, healthy_network, new_facts
from conftest import moto_env
from hp_configs import ROLE, SG, SUBNET_A, cluster, group

from hyperpod_preflight.cli import main
from hyperpod_preflight.models import Status
from hyperpod_preflight.preflight import run_cluster_preflight
from hyperpod_preflight.spec import load_spec


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def broken_config() -> dict[str, Any]:
    """Two violations (a ClusterName against its pattern, an unknown instance type) in an
    otherwise correct Slurm config of two groups."""
    return cluster(
        group("controller", "ml.m5.xlarge", SlurmConfig={"NodeType": "Controller"}),
        group("workers", "ml.p5.48xlargee", 2, SlurmConfig={"NodeType": "Compute"}),
        ClusterName="bad_name!",
    )


def test_violations_are_findings_with_paths_and_the_other_checks_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(broken_config()))
    code, out, err = run_cli(["check", "--offline", "--config", str(path), "-o", "json"], capsys)
    assert code == 1, err
    report = json.loads(out)
    schema = [f for f in report["results"] if f["check_id"] == "config.schema"]
    assert {f["resource"]: f["status"] for f in schema} == {
        "ClusterName": "FAIL",
        "InstanceGroups[1].InstanceType": "FAIL",
    }
    by_path = {f["details"]["path"]: f for f in schema}
    assert "does not match the ClusterName pattern" in by_path["ClusterName"]["message"]
    assert "not a valid ClusterInstanceType" in by_path["InstanceGroups[1].InstanceType"]["message"]
    others = {(f["check_id"], f["resource"]): f["status"] for f in report["results"]}
    # the rest of the config is still judged, each group where it is valid
    assert others[("config.unique-group-names", "controller")] == "PASS"
    assert others[("config.unique-group-names", "workers")] == "PASS"
    assert others[("config.execution-role-arn", ROLE)] == "PASS"
    assert others[("config.controller-group", "controller")] == "PASS"


def test_a_group_missing_a_required_member_is_left_out_whole() -> None:
    config = cluster(group("a"), group("b", InstanceCount=None))
    spec = load_spec(config)
    assert [g.name for g in spec.instance_groups] == ["a"]
    assert spec.instance_groups[0].json_path == "InstanceGroups[0]"
    problems = [str(p) for p in spec.problems]
    assert problems == ["InstanceGroups[1].InstanceCount: required but missing"]


def test_paths_of_groups_after_a_dropped_one_stay_those_of_the_file() -> None:
    spec = load_spec(cluster(group("a", InstanceCount="four"), group("b")))
    assert [(g.name, g.json_path) for g in spec.instance_groups] == [("b", "InstanceGroups[1]")]


def test_a_bad_instance_type_keeps_the_rest_of_its_group() -> None:
    spec = load_spec(cluster(group("a", InstanceType="ml.nope"), group("b")))
    assert [(g.name, g.types) for g in spec.instance_groups] == [
        ("a", ()),
        ("b", ("ml.p5.48xlarge",)),
    ]


def test_a_bad_subnet_id_leaves_the_good_ones() -> None:
    spec = load_spec(cluster(group("a"), subnets=[SUBNET_A, "subnet-XYZ"]))
    assert spec.all_subnets == (SUBNET_A,)
    assert spec.all_security_groups == (SG,)
    assert [p.path for p in spec.problems] == ["VpcConfig.Subnets[1]"]


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ("not json", "not a cluster config"),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ("{}", "is empty"),
    ],
)
def test_what_cannot_be_read_stays_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expect: str
) -> None:
    path = tmp_path / "cluster.json"
    path.write_text(content)
    code, _, err = run_cli(["check", "--offline", "--config", str(path)], capsys)
    assert code == 2
    assert expect in err


@pytest.fixture(scope="module")
def world() -> Iterator[SimpleNamespace]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        yield SimpleNamespace(ec2=ec2, net=healthy_network(ec2))


def test_a_bad_cluster_name_does_not_stop_the_network_checks(
    world: SimpleNamespace, lifted_endpoint: None
) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-hyperpod-execution"
    config = cluster(
        group("workers", "ml.p5.48xlarge", 2, ExecutionRole=role),
        subnets=[world.net.subnets["a"]],
        ClusterName="bad_name!",
    )
    config["VpcConfig"]["SecurityGroupIds"] = [world.net.sgs["efa"]]
    spec = load_spec(config)
    report = run_cluster_preflight(spec, facts=new_facts(), only=["config.schema", "network"])
    schema = [f for f in report.results if f.check_id == "config.schema"]
    assert [(f.resource, f.status) for f in schema] == [("ClusterName", Status.FAIL)]
    network = [f for f in report.results if f.area == "network"]
    assert network and all(f.status in (Status.PASS, Status.SKIP) for f in network), [
        (f.check_id, f.status, f.message) for f in network if f.status not in (Status.PASS,)
    ]
    assert world.net.subnets["a"] in {f.resource for f in network}
    assert report.summary.exit_code == 1
