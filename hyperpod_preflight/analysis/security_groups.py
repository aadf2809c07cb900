"""Security-group rules judged pure, over ``DescribeSecurityGroups`` entries: the EFA self
rules (an all-traffic rule naming the group itself, in each direction), rules as AWS counts
them against the rules-per-group quota, open-only egress, and TCP ports open within the
cluster (FSx). The ``network.sg-*`` checks, ``slurm.fsx-security-groups`` and the VPC audit
all judge through these functions, so they agree.

Every rule and every group pair of a rule is looked at, not only the first: a rule holding
several pairs is a known source of false EFA findings.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable
from typing import Any

from ..shell import command
from .network import ANYWHERE_V4, ANYWHERE_V6, covers

# The key of each direction's rules in a DescribeSecurityGroups entry.
PERMISSIONS_KEY = {"ingress": "IpPermissions", "egress": "IpPermissionsEgress"}
# Service Quotas "Inbound or outbound rules per security group" (applies to IPv4 and IPv6
# rules separately); its AWS default is the fallback when the account's value is unreadable.
RULES_PER_SG_QUOTA = ("vpc", "L-0EA8095F")
DEFAULT_RULES_PER_DIRECTION = 60
RULE_COUNT_MARGIN = 5  # near the limit this close: the EFA self rules may not fit
# FSx for Lustre: TCP 988 and 1018-1023 between the clients and the file system
# (https://docs.aws.amazon.com/fsx/latest/LustreGuide/limit-access-security-groups.html).
FSX_LUSTRE_PORT_RANGES = ((988, 988), (1018, 1023))
FSX_LUSTRE_PORTS = tuple(p for low, high in FSX_LUSTRE_PORT_RANGES for p in range(low, high + 1))

Permissions = Iterable[dict[str, Any]]


def _names_group(permission: dict[str, Any], group_ids: Collection[str]) -> bool:
    return any(pair.get("GroupId") in group_ids for pair in permission.get("UserIdGroupPairs", []))


# -- EFA self rules ----------------------------------------------------------------------------
def self_all_traffic(permissions: Permissions, group_id: str) -> bool:
    """A protocol -1 (all traffic) rule naming ``group_id`` among its pairs (every rule,
    every pair)."""
    return any(
        str(p.get("IpProtocol")) == "-1" and _names_group(p, (group_id,)) for p in permissions
    )


def self_rule_near_misses(permissions: Permissions, group_id: str) -> list[str]:
    """Self rules that do not count for EFA: a protocol or port range instead of all traffic,
    each as ``"<protocol> <from>-<to>"`` (``all`` when the rule names no port)."""
    found = []
    for p in permissions:
        if str(p.get("IpProtocol")) == "-1" or not _names_group(p, (group_id,)):
            continue
        ports = f"{p.get('FromPort')}-{p.get('ToPort')}" if p.get("FromPort") is not None else "all"
        found.append(f"{p.get('IpProtocol')} {ports}")
    return found


def self_rule_command(direction: str, group_id: str) -> str:
    """The command adding the all-traffic rule of ``direction`` (ingress, egress) from or to
    the group itself."""
    return command(
        "aws",
        "ec2",
        f"authorize-security-group-{direction}",
        "--group-id",
        group_id,
        "--ip-permissions",
        f"IpProtocol=-1,UserIdGroupPairs=[{{GroupId={group_id}}}]",
    )


# -- rule counts -------------------------------------------------------------------------------
def rule_entries(permissions: Permissions) -> list[tuple[str, str]]:
    """(kind, value) of every rule as AWS counts them: each IPv4 (``v4``) and IPv6 (``v6``)
    CIDR, prefix list (``pl``) and group pair (``sg``) is one rule."""
    entries: list[tuple[str, str]] = []
    for p in permissions:
        entries += [("v4", str(r.get("CidrIp", ""))) for r in p.get("IpRanges", [])]
        entries += [("v6", str(r.get("CidrIpv6", ""))) for r in p.get("Ipv6Ranges", [])]
        entries += [("pl", str(r.get("PrefixListId", ""))) for r in p.get("PrefixListIds", [])]
        entries += [("sg", str(r.get("GroupId", ""))) for r in p.get("UserIdGroupPairs", [])]
    return entries


def rule_count(permissions: Permissions) -> int:
    """Rules of one direction against the quota: it applies to IPv4 and IPv6 rules apart, and
    group and prefix-list references count toward both; the larger of the two."""
    entries = rule_entries(permissions)
    return max(
        sum(1 for kind, _ in entries if kind != "v6"),
        sum(1 for kind, _ in entries if kind != "v4"),
    )


def rule_counts(group: dict[str, Any]) -> dict[str, int]:
    """``{"inbound": n, "outbound": n}``: the group's rule count of each direction."""
    return {
        "inbound": rule_count(group.get(PERMISSIONS_KEY["ingress"], [])),
        "outbound": rule_count(group.get(PERMISSIONS_KEY["egress"], [])),
    }


def near_rule_limit(count: int, limit: int) -> bool:
    """Within :data:`RULE_COUNT_MARGIN` of the rules-per-direction limit (or past it)."""
    return count >= limit - RULE_COUNT_MARGIN


# -- egress and ports --------------------------------------------------------------------------
def egress_open_only(permissions: Permissions) -> bool:
    """Outbound rules exist and every one is to 0.0.0.0/0 or ::/0 (HyperPod's docs warn that
    this can make the EFA health checks fail)."""
    entries = rule_entries(permissions)
    return bool(entries) and all(value in (ANYWHERE_V4, ANYWHERE_V6) for _, value in entries)


def allows_tcp_port(
    permissions: Permissions,
    port: int,
    peer_groups: Collection[str],
    peer_cidrs: list[ipaddress.IPv4Network],
) -> bool:
    """A rule allows TCP ``port`` (all traffic, or a TCP range holding it) from/to one of
    ``peer_groups`` or an IPv4 block holding every one of ``peer_cidrs`` (0.0.0.0/0 holds
    any; a rule for some other network does not count)."""
    for p in permissions:
        protocol = str(p.get("IpProtocol"))
        if protocol in ("tcp", "6"):
            low, high = p.get("FromPort"), p.get("ToPort")
            if low is None or high is None or not int(low) <= port <= int(high):
                continue
        elif protocol != "-1":
            continue
        if _names_group(p, peer_groups):
            return True
        if any(covers(str(r.get("CidrIp", "")), peer_cidrs) for r in p.get("IpRanges", [])):
            return True
    return False


def closed_fsx_lustre_ports(
    permissions: Permissions, group_id: str, cluster_cidrs: list[ipaddress.IPv4Network]
) -> list[int]:
    """The FSx for Lustre ports one direction's rules leave closed within the cluster (from/to
    the group itself, or a block holding every cluster subnet)."""
    return [
        port
        for port in FSX_LUSTRE_PORTS
        if not allows_tcp_port(permissions, port, (group_id,), cluster_cidrs)
    ]


def fsx_lustre_rule_command(direction: str, group_id: str) -> str:
    """The command opening the FSx for Lustre ports of ``direction`` within the group."""
    return command(
        "aws",
        "ec2",
        f"authorize-security-group-{direction}",
        "--group-id",
        group_id,
        "--ip-permissions",
        f"IpProtocol=tcp,FromPort=988,ToPort=988,UserIdGroupPairs=[{{GroupId={group_id}}}]",
        f"IpProtocol=tcp,FromPort=1018,ToPort=1023,UserIdGroupPairs=[{{GroupId={group_id}}}]",
    )
