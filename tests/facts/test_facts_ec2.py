"""The EC2 and capacity readers against moto: what they return, how many calls they make
(batched, memoized, independent of the account's size), and how failures surface."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_world import (
    REGION,
    Injector,
    TrainingPlans,
    denied,
    ec2_error,
    ec2_response,
    healthy_network,
    main_route_table,
    make_sg,
    make_subnet,
    new_facts,
    training_plan_body,
)
from conftest import moto_env

from hyperpod_preflight.facts import FactUnavailable

MISSING_SUBNET = "subnet-0123456789abcdef0"


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        net = healthy_network(ec2)
        implicit = make_subnet(ec2, net.vpc, "10.0.64.0/24", zone_name="us-west-2a")
        yield {"ec2": ec2, "net": net, "implicit": implicit}


@pytest.fixture
def facts(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return new_facts()


def test_subnets_one_call_missing_ids_absent_and_memoized(
    world: dict[str, Any], facts: Any
) -> None:
    a = world["net"].subnets["a"]
    found = facts.subnets([a, MISSING_SUBNET, world["implicit"]])
    assert set(found) == {a, world["implicit"]}
    assert found[a]["AvailabilityZoneId"] == "usw2-az1"
    # The same set in another order is the same read.
    facts.subnets([world["implicit"], MISSING_SUBNET, a, a])
    assert facts.calls["ec2:DescribeSubnets"] == 1


def test_route_tables_explicit_and_implicit_main(world: dict[str, Any], facts: Any) -> None:
    net = world["net"]
    tables = facts.subnet_route_tables([net.subnets["a"], world["implicit"], MISSING_SUBNET])
    assert tables[net.subnets["a"]].route_table_id == net.route_tables["private"]
    assert not tables[net.subnets["a"]].implicit
    assert tables[net.subnets["a"]].association_id
    implicit = tables[world["implicit"]]
    assert implicit.implicit and implicit.association_id is None
    assert implicit.route_table_id == main_route_table(world["ec2"], net.vpc)
    assert MISSING_SUBNET not in tables
    assert facts.calls["ec2:DescribeRouteTables"] == 1  # explicit and main in one call


def test_vpc_and_attributes(world: dict[str, Any], facts: Any) -> None:
    vpc = world["net"].vpc
    assert facts.vpc(vpc)["VpcId"] == vpc
    assert facts.vpc("vpc-0123456789abcdef0") is None
    assert facts.vpc_attribute(vpc, "enableDnsHostnames") is True
    assert facts.vpc_attribute(vpc, "enableDnsSupport") is True
    assert facts.vpc_attribute("vpc-0123456789abcdef0", "enableDnsSupport") is None
    assert facts.cluster_vpc_id([MISSING_SUBNET, world["net"].subnets["a"]]) == vpc
    assert facts.cluster_vpc_id([MISSING_SUBNET]) is None
    assert facts.cluster_vpc_id([], given="vpc-0aaaaaaaaaaaaaaaa") == "vpc-0aaaaaaaaaaaaaaaa"


def test_endpoints_nat_and_security_groups(world: dict[str, Any], facts: Any) -> None:
    net = world["net"]
    endpoints = facts.vpc_endpoints(net.vpc)
    assert [e["VpcEndpointId"] for e in endpoints] == [net.s3_endpoint]
    nats = facts.nat_gateways([net.nat, "nat-0123456789abcdef0"])
    assert set(nats) == {net.nat} and nats[net.nat]["State"] == "available"
    groups = facts.security_groups([net.sgs["efa"], "sg-0123456789abcdef0"])
    assert set(groups) == {net.sgs["efa"]}


def test_zones_map_names_to_ids(facts: Any) -> None:
    zones = facts.availability_zones()
    # moto, like AWS, maps names to ids differently from their order.
    assert zones.id_by_name["us-west-2a"] == "usw2-az2"
    assert zones.to_id("us-west-2b") == "usw2-az1" and zones.to_id("usw2-az1") == "usw2-az1"
    assert zones.label("usw2-az1") == "usw2-az1 (us-west-2b)"


def test_instance_types_and_offerings_strip_ml(facts: Any) -> None:
    types = facts.instance_types(("ml.p5.48xlarge", "p5.48xlarge", "ml.nope.large"))
    assert set(types) == {"p5.48xlarge"}
    assert types["p5.48xlarge"]["NetworkInfo"]["MaximumNetworkCards"] == 32
    offered = facts.instance_type_offerings(("ml.trn1.32xlarge", "ml.nope.large"))
    assert offered["trn1.32xlarge"] and all(
        z.startswith("usw2-az") for z in offered["trn1.32xlarge"]
    )
    assert offered["nope.large"] == frozenset()
    assert facts.calls["ec2:DescribeInstanceTypes"] == 1
    assert facts.calls["ec2:DescribeInstanceTypeOfferings"] == 1


def test_denied_names_the_action_and_is_not_repeated(facts: Any) -> None:
    inj = denied("DescribeSecurityGroups").attach(facts.client("ec2"))
    for _ in range(2):
        with pytest.raises(FactUnavailable) as info:
            facts.security_groups(["sg-0123456789abcdef0"])
        assert info.value.action == "ec2:DescribeSecurityGroups"
        assert info.value.reason == "denied"
    assert inj.seen["DescribeSecurityGroups"] == 1


def test_throttling_is_retried(world: dict[str, Any], facts: Any) -> None:
    inj = Injector().queue("DescribeSubnets", ec2_error("RequestLimitExceeded", 503))
    inj.attach(facts.client("ec2"))
    found = facts.subnets([world["net"].subnets["a"]])
    assert set(found) == {world["net"].subnets["a"]}
    assert inj.seen["DescribeSubnets"] == 2  # one throttled attempt, one answered by moto
    assert facts.calls["ec2:DescribeSubnets"] == 1


def test_training_plan_stubbed_missing_and_absent(facts: Any) -> None:
    # moto has no DescribeTrainingPlan: it is an absent API, not a FAIL.
    with pytest.raises(FactUnavailable) as info:
        facts.training_plan("arn:aws:sagemaker:us-west-2:123456789012:training-plan/p1")
    assert info.value.reason == "absent"
    assert info.value.action == "sagemaker:DescribeTrainingPlan"

    fresh = new_facts()
    TrainingPlans({"p1": training_plan_body("p1")}).attach(fresh.client("sagemaker"))
    plan = fresh.training_plan("arn:aws:sagemaker:us-west-2:123456789012:training-plan/p1")
    assert plan["Status"] == "Active" and "ResponseMetadata" not in plan
    assert fresh.training_plan("p2") is None
    assert fresh.calls["sagemaker:DescribeTrainingPlan"] == 2


def test_call_count_does_not_depend_on_account_size(world: dict[str, Any], facts: Any) -> None:
    net = world["net"]

    def read_all(f: Any) -> None:
        subnet_ids = [net.subnets["a"], world["implicit"]]
        f.subnets(subnet_ids)
        f.subnet_route_tables(subnet_ids)
        f.security_groups([net.sgs["efa"]])
        f.vpc_endpoints(net.vpc)
        f.nat_gateways([net.nat])

    read_all(facts)
    before = dict(facts.calls)
    ec2 = world["ec2"]
    for i in range(50):
        make_subnet(ec2, net.vpc, f"10.0.{128 + i}.0/28", zone_name="us-west-2c")
        make_sg(ec2, net.vpc, f"noise-{i}", self_ingress=False, self_egress=False)
    again = new_facts()
    read_all(again)
    assert dict(again.calls) == before


def test_a_vpc_attribute_answer_without_the_attribute_is_unavailable_not_off(
    world: dict[str, Any], facts: Any
) -> None:
    """EC2 answered DescribeVpcAttribute but left the attribute out: that proves nothing
    (was read as False, so network.vpc-dns FAILed)."""
    vpc = world["net"].vpc
    Injector().always(
        "DescribeVpcAttribute", lambda _r: ec2_response("DescribeVpcAttribute", {"VpcId": vpc})
    ).attach(facts.client("ec2"))
    with pytest.raises(FactUnavailable) as caught:
        facts.vpc_attribute(vpc, "enableDnsSupport")
    assert caught.value.action == "ec2:DescribeVpcAttribute"
    assert "EnableDnsSupport" in caught.value.describe()
