"""The pure security-group rule judge the network.sg-* checks, slurm.fsx-security-groups and
the VPC audit share, on plain DescribeSecurityGroups data: EFA self rules and their near
misses, rules as AWS counts them, open-only egress, TCP ports open within the cluster."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from hyperpod_preflight.analysis.security_groups import (
    allows_tcp_port,
    closed_fsx_lustre_ports,
    egress_open_only,
    near_rule_limit,
    rule_count,
    rule_counts,
    self_all_traffic,
    self_rule_near_misses,
)

SG = "sg-0aaa"
CLUSTER = [ipaddress.IPv4Network("10.0.0.0/20"), ipaddress.IPv4Network("10.0.16.0/20")]


def rule(
    protocol: str = "-1",
    ports: tuple[int, int] | None = None,
    groups: tuple[str, ...] = (),
    cidrs: tuple[str, ...] = (),
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "IpProtocol": protocol,
        "UserIdGroupPairs": [{"GroupId": g} for g in groups],
        "IpRanges": [{"CidrIp": c} for c in cidrs],
    }
    if ports is not None:
        found["FromPort"], found["ToPort"] = ports
    return found


def test_self_rule_in_a_later_rule_and_pair_counts_a_port_range_does_not() -> None:
    assert self_all_traffic([rule(groups=("sg-other",)), rule(groups=("sg-x", SG))], SG)
    assert not self_all_traffic([rule("tcp", (0, 65535), groups=(SG,))], SG)
    assert not self_all_traffic([rule(cidrs=("0.0.0.0/0",))], SG)


def test_near_misses_name_each_self_rule_that_is_not_all_traffic() -> None:
    perms = [
        rule("tcp", (0, 65535), groups=(SG,)),
        rule("udp", groups=(SG,)),
        rule("tcp", (443, 443), groups=("sg-other",)),
        rule(groups=(SG,)),
    ]
    assert self_rule_near_misses(perms, SG) == ["tcp 0-65535", "udp all"]
    assert self_rule_near_misses([], SG) == []


def test_rules_count_per_family_references_count_toward_both() -> None:
    perms = [
        rule(cidrs=("10.0.0.0/8", "0.0.0.0/0")),
        {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        {"IpProtocol": "-1", "PrefixListIds": [{"PrefixListId": "pl-1"}]},
        rule(groups=(SG,)),
    ]
    assert rule_count(perms) == 4  # IPv4: 2 + prefix list + pair; IPv6: 1 + 2
    group = {"IpPermissions": perms, "IpPermissionsEgress": []}
    assert rule_counts(group) == {"inbound": 4, "outbound": 0}


@pytest.mark.parametrize(("count", "near"), [(54, False), (55, True), (60, True), (61, True)])
def test_near_the_limit_is_within_five(count: int, near: bool) -> None:
    assert near_rule_limit(count, 60) is near


@pytest.mark.parametrize(
    ("perms", "open_only"),
    [
        ([], False),  # no outbound rule at all is not "only 0.0.0.0/0"
        ([rule(cidrs=("0.0.0.0/0",))], True),
        (
            [
                rule(cidrs=("0.0.0.0/0",)),
                {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            ],
            True,
        ),
        ([rule(cidrs=("0.0.0.0/0",), groups=(SG,))], False),
        ([rule(cidrs=("10.0.0.0/16",))], False),
    ],
)
def test_egress_open_only(perms: list[dict[str, Any]], open_only: bool) -> None:
    assert egress_open_only(perms) is open_only


@pytest.mark.parametrize(
    ("perm", "allowed"),
    [
        (rule("tcp", (988, 988), groups=(SG,)), True),
        (rule("6", (900, 1000), groups=("sg-x", SG)), True),  # protocol number, second pair
        (rule("tcp", (1018, 1023), groups=(SG,)), False),  # a range not holding 988
        (rule("tcp", None, groups=(SG,)), False),  # tcp without ports allows nothing here
        (rule("udp", (988, 988), groups=(SG,)), False),
        (rule("-1", groups=(SG,)), True),
        (rule("tcp", (988, 988), groups=("sg-other",)), False),
        (rule("tcp", (988, 988), cidrs=("10.0.0.0/16",)), True),  # holds every cluster subnet
        (rule("tcp", (988, 988), cidrs=("10.0.0.0/20",)), False),  # holds only one of them
        (rule("tcp", (988, 988), cidrs=("0.0.0.0/0",)), True),
    ],
)
def test_allows_tcp_port(perm: dict[str, Any], allowed: bool) -> None:
    assert allows_tcp_port([perm], 988, {SG}, CLUSTER) is allowed


def test_anywhere_holds_the_cluster_even_when_its_subnets_are_unknown() -> None:
    assert allows_tcp_port([rule("tcp", (988, 988), cidrs=("0.0.0.0/0",))], 988, {SG}, [])
    assert not allows_tcp_port([rule("tcp", (988, 988), cidrs=("10.0.0.0/8",))], 988, {SG}, [])


def test_closed_fsx_ports_lists_what_the_rules_leave_shut() -> None:
    only_988 = [rule("tcp", (988, 988), groups=(SG,))]
    assert closed_fsx_lustre_ports(only_988, SG, CLUSTER) == [1018, 1019, 1020, 1021, 1022, 1023]
    assert closed_fsx_lustre_ports([rule(groups=(SG,))], SG, CLUSTER) == []
