"""Route and endpoint analysis shared by the network and quota checks: egress paths, route-table
resolution, endpoint states and whether an endpoint's security groups admit the cluster.
Pure functions over the facts layer's plain data."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..records import SubnetRouteTable
from ..shell import command

ANYWHERE_V4 = "0.0.0.0/0"
ANYWHERE_V6 = "::/0"


# -- route analysis -----------------------------------------------------------------------
@dataclass(frozen=True)
class EgressPath:
    """How a subnet's default route leaves the VPC."""

    # "nat" (available NAT gateway), "pending" (NAT gateway still being created), "other"
    # (transit gateway, appliance interface or instance …: where traffic goes beyond it is
    # not read), "igw", "none"
    kind: str
    target: str = ""
    notes: tuple[str, ...] = ()
    via: str = ""  # what the target is, e.g. "transit gateway" (kind "other")

    @property
    def described_target(self) -> str:
        """``transit gateway tgw-…`` (the id alone when what it is is not known)."""
        return f"{self.via} {self.target}" if self.via else self.target

    @property
    def reaches_internet(self) -> bool:
        """May reach the internet: through a NAT gateway, or through a target ("other")
        that nothing read proves is a dead end (never proof that it does: see
        :attr:`unverified`)."""
        return self.kind in ("nat", "other")

    @property
    def unverified(self) -> bool:
        """The default route goes to a target whose onward path is not read (a transit
        gateway, an appliance): egress is possible, not proven."""
        return self.kind == "other"

    @property
    def needs_nat_gateway(self) -> bool:
        """No way out yet: a NAT gateway (and its Elastic IP) would have to be added. A
        pending NAT gateway already holds its address."""
        return not self.reaches_internet and self.kind != "pending"


# Default-route targets whose onward path the route table does not show, with what they are.
_OTHER_TARGETS = {
    "TransitGatewayId": "transit gateway",
    "NetworkInterfaceId": "network interface",
    "InstanceId": "instance",
    "CoreNetworkArn": "Cloud WAN core network",
    "LocalGatewayId": "local gateway",
    "CarrierGatewayId": "carrier gateway",
}


def default_route(table: SubnetRouteTable, cidr: str = ANYWHERE_V4) -> dict[str, Any] | None:
    for route in table.routes:
        if (
            route.get("DestinationCidrBlock") == cidr
            or route.get("DestinationIpv6CidrBlock") == cidr
        ):
            return route
    return None


def nat_ids(tables: Iterable[SubnetRouteTable]) -> list[str]:
    ids = []
    for table in tables:
        route = default_route(table)
        if route and route.get("NatGatewayId"):
            ids.append(str(route["NatGatewayId"]))
    return ids


def egress_paths(
    tables: Mapping[str, SubnetRouteTable], nats: Mapping[str, dict[str, Any]]
) -> dict[str, EgressPath]:
    """The egress path of every subnet that has a route table, given the NAT gateways its
    default routes name (``nat_ids``): the one analysis ``network.egress``,
    ``network.s3-gateway-endpoint`` and ``quotas.elastic-ips`` share."""
    return {sid: egress_path(table, nats) for sid, table in tables.items()}


def egress_path(table: SubnetRouteTable, nats: Mapping[str, dict[str, Any]]) -> EgressPath:
    route = default_route(table)
    if route is None:
        return EgressPath(
            "none", notes=(f"route table {table.route_table_id} has no 0.0.0.0/0 route",)
        )
    if route.get("State") == "blackhole":
        target = route_target(route)
        return EgressPath("none", target, (f"the 0.0.0.0/0 route to {target} is a blackhole",))
    nat_id = route.get("NatGatewayId")
    if nat_id:
        nat = nats.get(nat_id)
        if nat is None:
            return EgressPath("none", nat_id, (f"NAT gateway {nat_id} does not exist",))
        state = nat.get("State")
        if state == "pending":
            return EgressPath("pending", nat_id, (f"NAT gateway {nat_id} is pending",))
        if state != "available":
            failure = f" ({nat['FailureMessage']})" if nat.get("FailureMessage") else ""
            return EgressPath("none", nat_id, (f"NAT gateway {nat_id} is {state}{failure}",))
        if nat.get("ConnectivityType", "public") == "private":
            return EgressPath(
                "none", nat_id, (f"NAT gateway {nat_id} is a private NAT: no internet access",)
            )
        return EgressPath("nat", nat_id)
    peering = route.get("VpcPeeringConnectionId")
    if peering:
        return EgressPath(
            "none",
            str(peering),
            (
                f"0.0.0.0/0 goes to VPC peering connection {peering}; peering does not carry "
                "traffic on to the peer VPC's NAT or internet gateway",
            ),
        )
    gateway = str(route.get("GatewayId", ""))
    if gateway.startswith("igw-"):
        return EgressPath(
            "igw",
            gateway,
            (
                f"0.0.0.0/0 goes to internet gateway {gateway}; HyperPod's network interfaces "
                "get no public IP, so this gives nodes no internet access",
            ),
        )
    for key, label in _OTHER_TARGETS.items():
        if route.get(key):
            target = str(route[key])
            return EgressPath(
                "other",
                target,
                (
                    f"0.0.0.0/0 goes to {label} {target}; where traffic goes beyond it is not "
                    "read, so egress to the internet was not verified",
                ),
                via=label,
            )
    target = route_target(route)
    if target:  # a gateway of another kind (vgw- …): unverified too
        return EgressPath(
            "other", target, (f"0.0.0.0/0 goes to {target}; egress beyond it was not verified",)
        )
    return EgressPath("none", notes=("the 0.0.0.0/0 route has no usable target",))


def route_target(route: dict[str, Any]) -> str:
    for key in ("NatGatewayId", "GatewayId", "VpcPeeringConnectionId", *_OTHER_TARGETS):
        if route.get(key):
            return str(route[key])
    return ""


def no_public_ip_command(subnet_id: str) -> str:
    """The command that stops ``subnet_id`` mapping public IPs on launch."""
    return command(
        "aws",
        "ec2",
        "modify-subnet-attribute",
        "--subnet-id",
        subnet_id,
        "--no-map-public-ip-on-launch",
    )


def public_reasons(subnet: dict[str, Any], table: SubnetRouteTable | None) -> list[str]:
    reasons = []
    if subnet.get("MapPublicIpOnLaunch"):
        reasons.append("MapPublicIpOnLaunch is true")
    if table is not None:
        for cidr in (ANYWHERE_V4, ANYWHERE_V6):
            route = default_route(table, cidr)
            if (
                route
                and str(route.get("GatewayId", "")).startswith("igw-")
                and route.get("State", "active") != "blackhole"
            ):
                how = "its main route table" if table.implicit else "its route table"
                reasons.append(
                    f"{how} {table.route_table_id} sends {cidr} to internet gateway "
                    f"{route['GatewayId']}"
                )
    return reasons


# Endpoint states (DescribeVpcEndpoints writes them camelCase) that become ``available``
# without anyone fixing anything.
PENDING_ENDPOINT_STATES = frozenset({"pending", "pendingacceptance"})


def endpoint_state(ep: dict[str, Any]) -> str:
    return str(ep.get("State", "?"))


def is_available(ep: dict[str, Any]) -> bool:
    return endpoint_state(ep).lower() == "available"


def is_pending(ep: dict[str, Any]) -> bool:
    return endpoint_state(ep).lower() in PENDING_ENDPOINT_STATES


@dataclass(frozen=True)
class InterfaceEndpoints:
    """The VPC's interface endpoints by service suffix (``ssm``, ``ecr.api`` …):
    ``usable`` (available, private DNS on) and, for services with none usable, the best
    endpoint there is (pending before any other state)."""

    usable: dict[str, dict[str, Any]]
    unusable: dict[str, dict[str, Any]]


def interface_endpoints(endpoints: Iterable[dict[str, Any]], region: str) -> InterfaceEndpoints:
    """Sort a VPC's endpoints (``DescribeVpcEndpoints``) into usable and unusable
    interface endpoints by service suffix."""
    usable: dict[str, dict[str, Any]] = {}
    others: dict[str, list[dict[str, Any]]] = {}
    for ep in endpoints:
        if ep.get("VpcEndpointType") != "Interface":
            continue
        service = service_suffix(str(ep.get("ServiceName", "")), region)
        if not service:
            continue
        if is_available(ep) and ep.get("PrivateDnsEnabled", False):
            usable[service] = ep
        else:
            others.setdefault(service, []).append(ep)
    unusable = {
        service: sorted(eps, key=lambda e: (not is_available(e), not is_pending(e)))[0]
        for service, eps in others.items()
        if service not in usable
    }
    return InterfaceEndpoints(usable, unusable)


def why_unusable(service: str, ep: dict[str, Any]) -> str:
    ep_id = ep.get("VpcEndpointId", "?")
    if is_available(ep):
        return f"{ep_id} ({service}) is available but private DNS is off"
    return f"{ep_id} ({service}) is {endpoint_state(ep)}"


def service_suffix(name: str, region: str) -> str:
    marker = f".{region}."
    return name.split(marker, 1)[1] if marker in name else ""


HTTPS = 443


@dataclass(frozen=True)
class EndpointAccess:
    """Whether an interface endpoint's security groups let the cluster in on TCP 443."""

    service: str
    endpoint_id: str
    group_ids: tuple[str, ...]
    verdict: str  # "open", "closed" or "unknown"
    reason: str = ""


def admits_https(
    permissions: Iterable[dict[str, Any]],
    cluster_sgs: frozenset[str],
    subnet_cidr: ipaddress.IPv4Network | None,
) -> tuple[bool, list[str]]:
    """(allowed, prefix lists that might allow it): an inbound rule for TCP 443 (or all
    traffic) from one of the cluster's groups, or an IPv4 block holding the subnet."""
    prefix_lists: list[str] = []
    for p in permissions:
        protocol = str(p.get("IpProtocol"))
        if protocol in ("tcp", "6"):
            low, high = p.get("FromPort"), p.get("ToPort")
            if low is None or high is None or not (int(low) <= HTTPS <= int(high)):
                continue
        elif protocol != "-1":
            continue
        if any(pair.get("GroupId") in cluster_sgs for pair in p.get("UserIdGroupPairs", [])):
            return True, []
        for r in p.get("IpRanges", []):
            cidr = str(r.get("CidrIp", ""))
            if cidr == ANYWHERE_V4 or (subnet_cidr is not None and covers(cidr, [subnet_cidr])):
                return True, []
        prefix_lists += [str(r.get("PrefixListId")) for r in p.get("PrefixListIds", [])]
    return False, prefix_lists


def endpoint_access(
    service: str,
    ep: dict[str, Any],
    groups: dict[str, dict[str, Any]],
    cluster_sgs: frozenset[str],
    subnet_cidr: ipaddress.IPv4Network | None,
) -> EndpointAccess:
    ep_id = str(ep.get("VpcEndpointId", "?"))
    group_ids = tuple(str(g["GroupId"]) for g in ep.get("Groups", []) if g.get("GroupId"))
    if not group_ids:
        return EndpointAccess(
            service, ep_id, (), "unknown", "DescribeVpcEndpoints gave no security group for it"
        )
    prefix_lists: list[str] = []
    missing = []
    for sg_id in group_ids:
        group = groups.get(sg_id)
        if group is None:
            missing.append(sg_id)
            continue
        allowed, lists = admits_https(group.get("IpPermissions", []), cluster_sgs, subnet_cidr)
        if allowed:
            return EndpointAccess(service, ep_id, group_ids, "open")
        prefix_lists += lists
    if missing:
        reason = f"its security group {', '.join(missing)} could not be read (not returned)"
        return EndpointAccess(service, ep_id, group_ids, "unknown", reason)
    if prefix_lists:
        reason = (
            f"TCP 443 is allowed only from prefix list {', '.join(dict.fromkeys(prefix_lists))}, "
            "whose entries are not read"
        )
        return EndpointAccess(service, ep_id, group_ids, "unknown", reason)
    return EndpointAccess(service, ep_id, group_ids, "closed")


def subnet_network(subnet: dict[str, Any]) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(str(subnet.get("CidrBlock", "")), strict=False)
    except ValueError:
        return None


def covers(cidr: str, subnet_cidrs: list[ipaddress.IPv4Network]) -> bool:
    """An IPv4 block that holds every one of ``subnet_cidrs``."""
    try:
        block = ipaddress.IPv4Network(cidr, strict=False)
    except ValueError:
        return False
    if block.prefixlen == 0:
        return True
    return bool(subnet_cidrs) and all(s.subnet_of(block) for s in subnet_cidrs)
