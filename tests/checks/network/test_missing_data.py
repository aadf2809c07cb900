"""Missing data is UNKNOWN, never FAIL or PASS: judgements on plain-data facts."""

from __future__ import annotations

import pytest
from plain_facts import PlainFacts, context, subnet, table

from hyperpod_preflight import registry
from hyperpod_preflight.models import Status
from hyperpod_preflight.runner import gather_and_judge, gatherer_for

NAT_ROUTE = {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active"}


def judge(check_id: str, facts: PlainFacts, *subnets: str, sgs: tuple[str, ...] = ()) -> dict:
    registry.all_checks()
    ctx = context(facts, *subnets, sgs=sgs)
    findings = gather_and_judge(registry.get(check_id), ctx, gatherer_for(ctx))
    return {f.resource: f for f in findings}


@pytest.mark.parametrize(
    "check_id", ["network.egress", "network.s3-gateway-endpoint", "network.subnet-private"]
)
def test_a_subnet_without_a_route_table_is_unknown(check_id: str) -> None:
    facts = PlainFacts(subnet_data={"subnet-a": subnet("subnet-a")})
    found = judge(check_id, facts, "subnet-a")
    assert found["subnet-a"].status is Status.UNKNOWN
    assert "no route table of subnet subnet-a was found" in found["subnet-a"].message
    assert "describe-route-tables" in found["subnet-a"].remediation


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        ("network.egress", Status.PASS),
        ("network.subnet-private", Status.PASS),
    ],
)
def test_with_its_route_table_the_subnet_is_judged(check_id: str, expected: Status) -> None:
    facts = PlainFacts(
        subnet_data={"subnet-a": subnet("subnet-a")},
        tables={"subnet-a": table("subnet-a", NAT_ROUTE)},
        nats={"nat-1": {"NatGatewayId": "nat-1", "State": "available"}},
    )
    assert judge(check_id, facts, "subnet-a")["subnet-a"].status is expected


def test_a_public_ip_subnet_without_route_table_is_still_public() -> None:
    """MapPublicIpOnLaunch alone proves it public: the missing table does not hide it."""
    data = subnet("subnet-a")
    data["MapPublicIpOnLaunch"] = True
    found = judge("network.subnet-private", PlainFacts(subnet_data={"subnet-a": data}), "subnet-a")
    assert found["subnet-a"].status is Status.WARN


def test_a_security_group_without_vpc_id_is_unknown() -> None:
    facts = PlainFacts(
        subnet_data={"subnet-a": subnet("subnet-a")},
        groups={
            "sg-1": {"GroupId": "sg-1", "GroupName": "efa"},
            "sg-2": {"GroupId": "sg-2", "GroupName": "other", "VpcId": "vpc-9"},
        },
    )
    found = judge("network.sg-exists", facts, "subnet-a", sgs=("sg-1", "sg-2"))
    assert found["sg-1"].status is Status.UNKNOWN and "VpcId" in found["sg-1"].message
    assert "None" not in found["sg-1"].message
    assert found["sg-2"].status is Status.FAIL  # provably in another VPC


def test_s3_endpoint_missing_and_nat_denied_is_unknown_only_where_nat_decides() -> None:
    facts = PlainFacts(
        subnet_data={"subnet-a": subnet("subnet-a"), "subnet-b": subnet("subnet-b")},
        tables={
            "subnet-a": table("subnet-a", NAT_ROUTE, rtb="rtb-a"),
            "subnet-b": table("subnet-b", rtb="rtb-b"),
        },
        endpoints=[
            {
                "VpcEndpointId": "vpce-s3",
                "VpcEndpointType": "Gateway",
                "ServiceName": "com.amazonaws.us-west-2.s3",
                "State": "available",
                "RouteTableIds": ["rtb-b"],
            }
        ],
        denied={"ec2:DescribeNatGateways"},
    )
    found = judge("network.s3-gateway-endpoint", facts, "subnet-a", "subnet-b")
    assert found["subnet-b"].status is Status.PASS
    assert found["subnet-a"].status is Status.UNKNOWN
    assert "ec2:DescribeNatGateways" in found["subnet-a"].message
