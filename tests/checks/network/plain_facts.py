"""Plain-data AWS facts for judging checks without moto: the readers' answers are given as
data (what DescribeSubnets, DescribeRouteTables … returned), so each judgement can be tested
on the edge cases real accounts produce (a missing field, an empty list)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hyperpod_preflight.errors import FactUnavailable
from hyperpod_preflight.planner import build_plan
from hyperpod_preflight.records import SubnetRouteTable
from hyperpod_preflight.registry import CheckContext
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, VpcSettings


@dataclass
class PlainFacts:
    region: str = "us-west-2"
    account: str | None = "123456789012"
    subnet_data: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, SubnetRouteTable] = field(default_factory=dict)
    nats: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    attributes: dict[str, bool] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)

    def _gate(self, action: str) -> None:
        if action in self.denied:
            raise FactUnavailable(action, "denied", "AccessDenied")

    def subnets(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        self._gate("ec2:DescribeSubnets")
        return {i: self.subnet_data[i] for i in ids if i in self.subnet_data}

    def cluster_vpc_id(self, ids: Iterable[str], given: str | None = None) -> str | None:
        if given:
            return given
        for sub in self.subnets(ids).values():
            if sub.get("VpcId"):
                return str(sub["VpcId"])
        return None

    def subnet_route_tables(self, ids: Iterable[str]) -> dict[str, SubnetRouteTable]:
        self._gate("ec2:DescribeRouteTables")
        return {i: self.tables[i] for i in ids if i in self.tables}

    def nat_gateways(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(ids)
        if wanted:
            self._gate("ec2:DescribeNatGateways")
        return {i: self.nats[i] for i in wanted if i in self.nats}

    def vpc_endpoints(self, vpc_id: str) -> list[dict[str, Any]]:
        self._gate("ec2:DescribeVpcEndpoints")
        return [e for e in self.endpoints if e.get("VpcId", vpc_id) == vpc_id]

    def endpoint_service_name(self, service: str) -> str:
        return f"com.amazonaws.{self.region}.{service}"

    def security_groups(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        self._gate("ec2:DescribeSecurityGroups")
        return {i: self.groups[i] for i in ids if i in self.groups}

    def vpc_attribute(self, vpc_id: str, attribute: str) -> bool | None:
        return self.attributes.get(attribute)


def subnet(sid: str, vpc: str | None = "vpc-1", cidr: str = "10.0.1.0/24") -> dict[str, Any]:
    found: dict[str, Any] = {
        "SubnetId": sid,
        "CidrBlock": cidr,
        "AvailabilityZone": "us-west-2a",
        "AvailabilityZoneId": "usw2-az1",
        "AvailableIpAddressCount": 250,
        "MapPublicIpOnLaunch": False,
    }
    if vpc:
        found["VpcId"] = vpc
    return found


def table(sid: str, *routes: dict[str, Any], rtb: str = "rtb-1") -> SubnetRouteTable:
    return SubnetRouteTable(
        subnet_id=sid,
        route_table={
            "RouteTableId": rtb,
            "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}, *routes],
            "Associations": [{"SubnetId": sid, "RouteTableAssociationId": "rtbassoc-1"}],
        },
        implicit=False,
    )


def context(facts: PlainFacts, *subnets: str, sgs: tuple[str, ...] = ()) -> CheckContext:
    group = InstanceGroup(name="workers", instance_type="ml.p5.48xlarge", count=2)
    spec = ClusterSpec(
        name="c",
        instance_groups=(group,),
        vpc_config=VpcSettings(subnets=subnets, security_group_ids=sgs),
    )
    return CheckContext(spec=spec, plan=build_plan(spec), facts=facts)  # type: ignore[arg-type]
