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


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


def config_for(tmp_path: Path, net: Network, sgs: list[str]) -> str:
    cfg = json.loads((EXAMPLES / "slurm-p5-cluster.json").read_text())
    cfg["VpcConfig"] = {"Subnets": [net.subnets["a"]], "SecurityGroupIds": sgs}
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def test_vpc_alone_runs_the_whole_vpc_audit(
    world: tuple[Any, Network], capsys: pytest.CaptureFixture[str]
) -> None:
    _, net = world
    code, report = run_json(["--region", "us-west-2", "--vpc", net.vpc], capsys)
    assert report["kind"] == "vpc"
    by_id = {r["check_id"]: r for r in report["results"]}
    assert by_id["vpc.exists"]["status"] == "PASS"
    assert by_id["vpc.dns"]["status"] == "PASS"
    assert f"VPC {net.vpc} (from --vpc)" in by_id["vpc.dns"]["message"]
    assert not any("no VpcConfig" in r["message"] for r in report["results"])
    subnets = {r["resource"] for r in report["results"] if r["check_id"] == "vpc.subnet"}
    assert subnets == set(net.subnets.values())
    placements = [r for r in report["results"] if r["check_id"] == "vpc.placement"]
    assert len(placements) == 5  # the default types: p5, p5en, p4d, g5, trn1
    assert report["vpc_audit"]["placements"][0]["subnet_id"] == net.subnets["a"]
    # moto offers p5en.48xlarge in usw2-az2..4 only: the one usable subnet is in usw2-az1
    p5en = next(r for r in placements if r["resource"] == "ml.p5en.48xlarge")
    assert p5en["status"] == "FAIL" and "not offered in zone usw2-az1" in p5en["message"]
    assert code == 1 and report["account"] == "123456789012" and report["api_calls"] > 0
    # `audit --vpc` is the same audit; the table shows the subnets and the placement
    code, out, _ = run_cli(["audit", "--region", "us-west-2", "--vpc", net.vpc], capsys)
    assert "Subnets" in out and "Placement" in out and net.subnets["a"] in out
    code, out, _ = run_cli(
        [
            "--region",
            "us-west-2",
            "--vpc",
            net.vpc,
            "--instance-type",
            "ml.p5.48xlarge",
            "--nodes",
            "2",
            "--suggest-config",
        ],
        capsys,
    )
    suggested = json.loads(out)
    assert suggested["VpcConfig"] == {
        "SecurityGroupIds": [net.sgs["efa"]],
        "Subnets": [net.subnets["a"]],
    }
    assert suggested["InstanceGroups"][0]["InstanceCount"] == 2


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
    # Beside a group with both self rules, the bare one is no FAIL: "the EFA must be a member
    # of a security group that allows all inbound and outbound traffic to and from the
    # security group itself" (EC2 create-efa page).
    beside = config_for(tmp_path, net, [net.sgs["efa"], bare])
    code, report = run_json(["check", "--config", beside, "--only", "network"], capsys)
    ingress = {
        r["resource"]: r
        for r in report["results"]
        if r["check_id"] == "network.sg-efa-self-ingress"
    }
    assert ingress[net.sgs["efa"]]["status"] == "PASS"
    assert ingress[bare]["status"] == "PASS"
    config = config_for(tmp_path, net, [bare])
    code, report = run_json(["check", "--config", config, "--only", "network"], capsys)
    ingress = {
        r["resource"]: r
        for r in report["results"]
        if r["check_id"] == "network.sg-efa-self-ingress"
    }
    assert ingress[bare]["status"] == "FAIL"
    assert bare in ingress[bare]["remediation"]
    assert code == 1
    code, report = run_json(
        ["check", "--config", config, "--only", "network", "--ignore", "network"], capsys
    )
    assert code == 0
    assert any(r["ignored"] and r["resource"] == bare for r in report["results"])


def test_check_with_vpc_and_groups_says_what_was_given(
    world: tuple[Any, Network], capsys: pytest.CaptureFixture[str]
) -> None:
    _, net = world
    _, report = run_json(
        [
            "check",
            "--region",
            "us-west-2",
            "--vpc",
            net.vpc,
            "--instance-group",
            "w=ml.p5.48xlarge:2",
            "--only",
            "network",
        ],
        capsys,
    )
    assert report["kind"] == "cluster"
    messages = [r["message"] for r in report["results"] if r["status"] == "SKIP"]
    assert messages and not any("the config has no VpcConfig" in m for m in messages)
    assert not any("the config names no" in m for m in messages)
    assert any(f"VPC {net.vpc} (from --vpc): no --subnet given" in m for m in messages)


def test_the_vpc_audit_fits_a_100_column_terminal(
    world: tuple[Any, Network], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, net = world
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = run_cli(["audit", "--region", "us-west-2", "--vpc", net.vpc], capsys)
    assert code in (0, 1) and "Subnets" in out
    assert all(len(line) <= 100 for line in out.splitlines()), max(out.splitlines(), key=len)
    for subnet in net.subnets.values():
        assert subnet in out  # whole


def test_a_plain_check_on_a_machine_without_local_tools_has_no_tools_finding(
    world: tuple[Any, Network],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 16: no session-manager-plugin, helm or kubectl on PATH (a CI runner) is not a
    finding about the account: `check` leaves the tools area to `tools`/--with-tools."""
    _, net = world
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    config = config_for(tmp_path, net, [net.sgs["efa"]])
    code, report = run_json(["check", "--region", "us-west-2", "--config", config], capsys)
    assert not [r for r in report["results"] if r["area"] == "tools"]
    assert code == report["summary"]["exit_code"]
    code, report = run_json(
        ["check", "--region", "us-west-2", "--config", config, "--with-tools"], capsys
    )
    tools = {r["check_id"]: r["status"] for r in report["results"] if r["area"] == "tools"}
    assert tools["tools.session-manager-plugin"] == "FAIL" and code == 1
