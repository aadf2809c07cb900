"""The whole-VPC audit (`hp-preflight --vpc vpc-…` without a config) on a moto account: what
it reads (by vpc-id only, so its calls do not grow with the account), what it finds per
subnet and group, where it places nodes, and what it says when a read is denied."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_world import (
    REGION,
    Network,
    add_default_route,
    denied,
    healthy_network,
    make_route_table,
    make_sg,
    make_subnet,
    make_vpc,
    new_facts,
)
from conftest import moto_env

from hyperpod_preflight.audit import run_vpc_audit
from hyperpod_preflight.models import Report, Status


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Any, Network, dict[str, str]]]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        net = healthy_network(ec2)
        extra: dict[str, str] = {}
        # a second private subnet in another zone, NAT route but no S3 gateway endpoint
        extra["b"] = make_subnet(ec2, net.vpc, "10.0.64.0/22", zone_id="usw2-az2")
        make_route_table_with_nat = make_route_table(ec2, net.vpc, [extra["b"]])
        add_default_route(ec2, make_route_table_with_nat, NatGatewayId=net.nat)
        # a tiny private subnet with no way out (main table: no default route)
        extra["tiny"] = make_subnet(ec2, net.vpc, "10.0.99.0/28", zone_id="usw2-az1")
        # a group without the self rules
        extra["web"] = make_sg(ec2, net.vpc, "web", self_ingress=False, self_egress=False)
        # noise elsewhere in the account: the audit must not read it
        other = make_vpc(ec2, "10.9.0.0/16")
        for i in range(5):
            make_subnet(ec2, other, f"10.9.{i}.0/24", zone_id="usw2-az1")
            make_sg(ec2, other, f"other-{i}")
        yield ec2, net, extra


def audit(world: Any, **kwargs: Any) -> tuple[Report, Any]:
    facts = new_facts()
    _, net, _ = world
    kwargs.setdefault("instance_types", ["ml.p5.48xlarge"])
    return run_vpc_audit(net.vpc, facts=facts, **kwargs), facts


def by(report: Report, check_id: str) -> dict[str, Any]:
    return {f.resource: f for f in report.results if f.check_id == check_id}


def test_audit_places_nodes_in_the_best_private_subnet(world: Any, lifted_endpoint: None) -> None:
    _, net, extra = world
    report, _ = audit(world, nodes=4)
    assert report.kind == "vpc"
    assert report.target == f"{net.vpc} (from --vpc)"
    subnets = by(report, "vpc.subnet")
    assert subnets[net.subnets["a"]].status is Status.PASS
    assert subnets[net.subnets["public"]].status is Status.WARN  # public: no home for nodes
    assert "public" in subnets[net.subnets["public"]].message
    assert subnets[extra["b"]].status is Status.WARN  # no S3 gateway endpoint
    assert "modify-vpc-endpoint" in subnets[extra["b"]].remediation
    assert subnets[extra["tiny"]].status is Status.WARN
    groups = by(report, "vpc.security-group")
    assert groups[net.sgs["efa"]].status is Status.PASS
    assert groups[extra["web"]].status is Status.WARN
    assert "authorize-security-group-ingress" in groups[extra["web"]].remediation
    placement = by(report, "vpc.placement")["ml.p5.48xlarge"]
    assert placement.status is Status.PASS
    assert report.vpc_audit is not None
    chosen = report.vpc_audit.placements[0]
    assert (chosen.subnet_id, chosen.security_group_id) == (net.subnets["a"], net.sgs["efa"])
    assert chosen.ips_per_node == 32
    assert report.summary.exit_code == 0
    config = report.vpc_audit.suggested_config
    assert config is not None
    assert config["VpcConfig"] == {
        "SecurityGroupIds": [net.sgs["efa"]],
        "Subnets": [net.subnets["a"]],
    }


def test_audit_fails_when_nodes_fit_no_subnet(world: Any, lifted_endpoint: None) -> None:
    # the /20 (4091 free) holds 126 p5 nodes under EKS rules (81 IPs each): ask for 200
    report, _ = audit(world, nodes=200, orchestrator="eks")
    placement = by(report, "vpc.placement")["ml.p5.48xlarge"]
    assert placement.status is Status.FAIL
    assert "create-subnet" in placement.remediation
    assert "81" in placement.message
    assert report.summary.exit_code == 1
    assert report.vpc_audit is not None
    assert report.vpc_audit.fix_first[0].command.startswith("aws ec2 create-subnet")


def test_audit_reads_only_the_vpc(world: Any, lifted_endpoint: None) -> None:
    report, facts = audit(world)
    # each kind of fact once, whatever else the account holds
    assert facts.calls["ec2:DescribeSubnets"] == 1
    assert facts.calls["ec2:DescribeSecurityGroups"] == 1
    assert facts.calls["ec2:DescribeRouteTables"] == 1
    assert facts.calls["ec2:DescribeAvailabilityZones"] == 0  # the audit judges zone ids only
    subnets = by(report, "vpc.subnet")
    assert len(subnets) == 4  # the other VPC's five are not there


def test_denied_security_groups_are_unknown_not_fail(world: Any, lifted_endpoint: None) -> None:
    _, net, _ = world
    facts = new_facts()
    denied("DescribeSecurityGroups").attach(facts.client("ec2"))
    report = run_vpc_audit(net.vpc, facts=facts, instance_types=["ml.p5.48xlarge"])
    reads = by(report, "vpc.read")
    assert "security_groups" in reads
    assert "ec2:DescribeSecurityGroups" in reads["security_groups"].message
    placement = by(report, "vpc.placement")["ml.p5.48xlarge"]
    assert placement.status is Status.UNKNOWN
    assert report.summary.exit_code == 0


def test_missing_vpc_fails_with_the_vpc_named(world: Any, lifted_endpoint: None) -> None:
    report = run_vpc_audit("vpc-0123456789abcdef0", facts=new_facts())
    exists = by(report, "vpc.exists")["vpc-0123456789abcdef0"]
    assert exists.status is Status.FAIL
    assert "(from --vpc)" in exists.message
    assert report.summary.exit_code == 1


def test_denied_subnets_are_unknown_not_fail(world: Any, lifted_endpoint: None) -> None:
    _, net, _ = world
    facts = new_facts()
    denied("DescribeSubnets").attach(facts.client("ec2"))
    report = run_vpc_audit(net.vpc, facts=facts, instance_types=["ml.p5.48xlarge"])
    assert "ec2:DescribeSubnets" in by(report, "vpc.read")["subnets"].message
    placement = by(report, "vpc.placement")["ml.p5.48xlarge"]
    assert placement.status is Status.UNKNOWN
    assert "create-subnet" not in placement.remediation
    assert report.vpc_audit is not None
    assert not any("create-subnet" in f.command for f in report.vpc_audit.fix_first)
    assert report.summary.exit_code == 0


def test_denied_security_groups_suggest_no_new_group(world: Any, lifted_endpoint: None) -> None:
    _, net, _ = world
    facts = new_facts()
    denied("DescribeSecurityGroups").attach(facts.client("ec2"))
    report = run_vpc_audit(net.vpc, facts=facts, instance_types=["ml.p5.48xlarge"])
    placement = by(report, "vpc.placement")["ml.p5.48xlarge"]
    assert "could not be read" in placement.message
    assert "no security group allows" not in placement.message
    assert report.vpc_audit is not None
    assert not any("create-security-group" in f.command for f in report.vpc_audit.fix_first)


def test_skip_vpc_placement_omits_the_placement_findings(world: Any, lifted_endpoint: None) -> None:
    """The audit's findings are registered checks: --skip drops one kind, the rest stay."""
    whole, _ = audit(world)
    assert by(whole, "vpc.placement")
    skipped, _ = audit(world, skip=["vpc.placement"])
    assert not by(skipped, "vpc.placement")
    assert {f.check_id for f in skipped.results} == {f.check_id for f in whole.results} - {
        "vpc.placement"
    }
    assert skipped.vpc_audit is not None and skipped.vpc_audit.placements  # the typed audit stays


def test_cli_vpc_skip_vpc_placement(
    world: Any, lifted_endpoint: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hp-preflight --region R --vpc vpc-x --skip vpc.placement` omits the placement
    findings (the documented shortcut of the audit)."""
    import json

    from hyperpod_preflight.cli import main

    _, net, _ = world
    argv = ["--region", REGION, "--vpc", net.vpc, "--instance-type", "ml.p5.48xlarge"]
    for extra, present in (([], True), (["--skip", "vpc.placement"], False)):
        with pytest.raises(SystemExit):
            main([*argv, *extra, "--output", "json"])
        out = capsys.readouterr()
        assert out.out.strip(), out.err
        report = json.loads(out.out)
        ids = {r["check_id"] for r in report["results"]}
        assert ("vpc.placement" in ids) is present, ids
        assert report["kind"] == "vpc" and "vpc.subnet" in ids
