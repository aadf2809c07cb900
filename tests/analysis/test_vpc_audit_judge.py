"""The pure VPC-audit judge on plain data: EFA self rules across every rule and pair, rule
counts, route-table resolution (explicit, else main), and placement edge cases."""

from __future__ import annotations

from typing import Any

from hyperpod_preflight.analysis.vpc_audit import (
    AuditRequest,
    VpcInventory,
    audit_vpc,
    resolve_route_tables,
    rule_count,
    self_all_traffic,
)
from hyperpod_preflight.catalog import lookup

SG = "sg-0aaa"


def pair_rule(*groups: str, protocol: str = "-1") -> dict[str, Any]:
    return {"IpProtocol": protocol, "UserIdGroupPairs": [{"GroupId": g} for g in groups]}


def test_self_rule_found_in_any_rule_and_any_pair() -> None:
    assert self_all_traffic([pair_rule("sg-other", SG)], SG)  # second pair of one rule
    assert self_all_traffic([pair_rule("sg-other"), pair_rule(SG)], SG)  # second rule
    assert not self_all_traffic([pair_rule(SG, protocol="tcp")], SG)  # a port range is not all
    assert not self_all_traffic([pair_rule("sg-other")], SG)
    assert not self_all_traffic([], SG)


def test_rule_count_counts_ipv4_and_ipv6_apart() -> None:
    perms = [
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}, {"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        pair_rule(SG),
    ]
    assert rule_count(perms) == 3  # 2 IPv4 + the pair; IPv6 side: 1 + the pair


def test_subnet_without_explicit_table_gets_the_main_one() -> None:
    subnets = [
        {"SubnetId": "subnet-a", "VpcId": "vpc-1"},
        {"SubnetId": "subnet-b", "VpcId": "vpc-1"},
    ]
    tables = [
        {"RouteTableId": "rtb-main", "VpcId": "vpc-1", "Associations": [{"Main": True}]},
        {
            "RouteTableId": "rtb-b",
            "VpcId": "vpc-1",
            "Associations": [
                {"SubnetId": "subnet-b"},
                {"SubnetId": "subnet-x", "AssociationState": {"State": "disassociated"}},
            ],
        },
    ]
    found = resolve_route_tables(subnets, tables)
    assert (found["subnet-a"].route_table_id, found["subnet-a"].implicit) == ("rtb-main", True)
    assert (found["subnet-b"].route_table_id, found["subnet-b"].implicit) == ("rtb-b", False)


def _inventory(**changes: Any) -> VpcInventory:
    info = lookup("p5.48xlarge")
    assert info is not None
    base: dict[str, Any] = {
        "vpc_id": "vpc-1",
        "region": "us-west-2",
        "vpc": {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"},
        "dns_support": True,
        "dns_hostnames": True,
        "subnets": [
            {
                "SubnetId": "subnet-a",
                "VpcId": "vpc-1",
                "AvailabilityZoneId": "usw2-az1",
                "CidrBlock": "10.0.0.0/20",
                "AvailableIpAddressCount": 4000,
            }
        ],
        "security_groups": [
            {
                "GroupId": SG,
                "IpPermissions": [pair_rule(SG)],
                "IpPermissionsEgress": [pair_rule(SG)],
            }
        ],
        "route_tables": [
            {
                "RouteTableId": "rtb-main",
                "VpcId": "vpc-1",
                "Associations": [{"Main": True}],
                "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"}],
            }
        ],
        "nat_gateways": {"nat-1": {"NatGatewayId": "nat-1", "State": "available"}},
        "internet_gateways": [],
        "endpoints": [],
        "types": {"p5.48xlarge": info},
        "offerings": {"p5.48xlarge": frozenset({"usw2-az1"})},
    }
    base.update(changes)
    return VpcInventory(**base)


REQUEST = AuditRequest(instance_types=("ml.p5.48xlarge",), nodes=4)


def test_ready_placement_and_the_missing_s3_endpoint_is_a_fix() -> None:
    audit = audit_vpc(_inventory(), REQUEST)
    placement = audit.placements[0]
    assert placement.ready is True and placement.subnet_id == "subnet-a"
    assert placement.addresses_needed == (4 + 1) * 32
    assert [f.command.split(" --")[0] for f in audit.fix_first] == ["aws ec2 create-vpc-endpoint"]


def test_unreadable_nat_gateways_make_placement_unknown_not_fail() -> None:
    audit = audit_vpc(_inventory(nat_gateways=None, unknown={"nat_gateways": "denied"}), REQUEST)
    assert audit.subnets[0].candidate is None
    assert audit.placements[0].ready is None


def test_no_efa_group_fails_with_the_create_commands() -> None:
    groups = [{"GroupId": SG, "IpPermissions": [], "IpPermissionsEgress": []}]
    audit = audit_vpc(_inventory(security_groups=groups), REQUEST)
    placement = audit.placements[0]
    assert placement.ready is False
    assert any("create-security-group" in f for f in placement.fixes)
    assert audit.suggested_config is None


def test_dns_off_blocks_every_type_and_is_fixed_first() -> None:
    audit = audit_vpc(_inventory(dns_hostnames=False), REQUEST)
    assert audit.placements[0].ready is False
    assert audit.fix_first[0].command.endswith("--enable-dns-hostnames")


def test_unreadable_endpoints_leave_a_subnet_without_nat_route_unknown() -> None:
    # no 0.0.0.0/0 route: only interface endpoints could give it a way out, and they were
    # not read, so it is neither "no egress" nor a candidate
    tables = [{"RouteTableId": "rtb-main", "VpcId": "vpc-1", "Associations": [{"Main": True}]}]
    inventory = _inventory(
        route_tables=tables, endpoints=None, unknown={"endpoints": "ec2:DescribeVpcEndpoints"}
    )
    audit = audit_vpc(inventory, REQUEST)
    subnet = audit.subnets[0]
    assert subnet.candidate is None
    assert not any(p.startswith("no egress") for p in subnet.problems)
    assert audit.placements[0].ready is None
    assert not any("create-subnet" in f.command for f in audit.fix_first)


def test_a_dead_default_route_is_replaced_not_created() -> None:
    # the subnet's own table still sends 0.0.0.0/0 to a NAT gateway that was deleted:
    # `create-route` would fail with RouteAlreadyExists
    tables = [
        {
            "RouteTableId": "rtb-a",
            "VpcId": "vpc-1",
            "Associations": [{"SubnetId": "subnet-a", "RouteTableAssociationId": "rtbassoc-1"}],
            "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-gone"}],
        }
    ]
    audit = audit_vpc(_inventory(route_tables=tables), REQUEST)
    subnet = audit.subnets[0]
    assert subnet.candidate is False
    assert any(f.startswith("aws ec2 replace-route --route-table-id rtb-a") for f in subnet.fixes)
    assert not any("create-route " in f for f in subnet.fixes)
