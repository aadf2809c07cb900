"""End to end through the CLI against moto: the invocations a user types first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_world import Network, healthy_network, make_sg
from conftest import EXAMPLES, moto_env
from iam_stubs import healthy_execution_role

from hyperpod_preflight.cli import main

pytestmark = pytest.mark.usefixtures("lifted_endpoint")


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Any, Network]]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name="us-west-2")
        # The example config's lifecycle bucket, holding its OnCreate script.
        s3 = boto3.client("s3", region_name="us-west-2")
        bucket = "sagemaker-hyperpod-lifecycle-123456789012"
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration=dict.fromkeys(
                (
                    "BlockPublicAcls",
                    "IgnorePublicAcls",
                    "BlockPublicPolicy",
                    "RestrictPublicBuckets",
                ),
                True,
            ),
        )
        s3.put_object(Bucket=bucket, Key="lifecycle/on_create.sh", Body=b"#!/bin/bash\n")
        iam = boto3.client("iam", region_name="us-west-2")
        for name in ("sagemaker-hyperpod-execution", "sagemaker-hyperpod-eks-execution"):
            healthy_execution_role(iam, name)
        yield ec2, healthy_network(ec2)


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(SystemExit) as info:
        main([*args, "-o", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    code = info.value.code
    return (code if isinstance(code, int) else 0), json.loads(out)


def config_for(tmp_path: Path, net: Network, sgs: list[str]) -> str:
    cfg = json.loads((EXAMPLES / "slurm-p5-cluster.json").read_text())
    cfg["VpcConfig"] = {"Subnets": [net.subnets["a"]], "SecurityGroupIds": sgs}
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def test_vpc_only_runs_vpc_checks_and_skips_the_rest_with_a_reason(
    world: tuple[Any, Network], capsys: pytest.CaptureFixture[str]
) -> None:
    _, net = world
    code, report = run_json(["--region", "us-west-2", "--vpc", net.vpc], capsys)
    by_id = {r["check_id"]: r for r in report["results"]}
    assert by_id["network.vpc-exists"]["status"] == "PASS"
    assert by_id["network.vpc-dns"]["status"] == "PASS"
    assert by_id["network.subnet-exists"]["status"] == "SKIP"
    assert by_id["network.subnet-exists"]["message"]
    assert code == 0 and report["account"] == "123456789012" and report["api_calls"] > 0


def test_healthy_network_passes_and_unreadable_quotas_are_unknown_not_fail(
    world: tuple[Any, Network], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, net = world
    config = config_for(tmp_path, net, [net.sgs["efa"]])
    code, report = run_json(["check", "--config", config], capsys)
    statuses = {r["status"] for r in report["results"]}
    assert "FAIL" not in statuses and code == 0
    quota_findings = [r for r in report["results"] if r["check_id"] == "quotas.instance-type"]
    assert quota_findings and all(r["status"] == "UNKNOWN" for r in quota_findings)
    code, _ = run_json(["check", "--config", config, "--fail-on", "unknown"], capsys)
    assert code == 1


def test_a_group_without_self_rules_fails_naming_it_and_the_fix(
    world: tuple[Any, Network], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2, net = world
    bare = make_sg(ec2, net.vpc, "no-self-rules", self_ingress=False, self_egress=False)
    config = config_for(tmp_path, net, [net.sgs["efa"], bare])
    code, report = run_json(["check", "--config", config, "--only", "network"], capsys)
    ingress = {
        r["resource"]: r
        for r in report["results"]
        if r["check_id"] == "network.sg-efa-self-ingress"
    }
    assert ingress[net.sgs["efa"]]["status"] == "PASS"
    assert ingress[bare]["status"] == "FAIL"
    assert bare in ingress[bare]["remediation"]
    assert code == 1
    code, report = run_json(
        ["check", "--config", config, "--only", "network", "--ignore", "network"], capsys
    )
    assert code == 0
    assert any(r["ignored"] and r["resource"] == bare for r in report["results"])
