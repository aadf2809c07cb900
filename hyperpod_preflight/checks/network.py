"""Network checks (area ``network``): the VPC, its subnets, route tables, egress, the S3
gateway endpoint and the security groups a cluster config names, judged against what
HyperPod needs to create nodes and pass its EFA and lifecycle health checks.

Every check reads through ``ctx.facts`` (batched, memoized readers) and returns one outcome
per resource. A read that fails propagates and the runner reports the whole check as
UNKNOWN naming the IAM action; a check never FAILs because it could not read something.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..models import Outcome, Severity, failed, passed, skipped, unknown, warned
from ..registry import check

if TYPE_CHECKING:
    from ..records import SubnetRouteTable
    from ..registry import CheckContext
    from ..spec import InstanceGroup, VpcSettings

# What HyperPod says when the checks below were needed (users search for these strings).
EFA_FAILURE = (
    "EFA health checks did not run successfully. Ensure that your VPC and security groups "
    "are properly configured before attempting to create a new cluster."
)
LIFECYCLE_FAILURE = (
    "Lifecycle scripts did not run successfully. Ensure the scripts exist in provided S3 "
    "path, are accessible, and run without errors."
)

ANYWHERE_V4 = "0.0.0.0/0"
ANYWHERE_V6 = "::/0"
MAX_SGS_PER_VPC_CONFIG = 5
# Service Quotas "Inbound or outbound rules per security group" (applies to IPv4 and IPv6
# rules separately); its AWS default is the fallback when the account's value is unreadable.
RULES_PER_SG_QUOTA = ("vpc", "L-0EA8095F")
DEFAULT_RULES_PER_DIRECTION = 60
RULE_COUNT_MARGIN = 5  # WARN this close to the limit: the EFA self rules may not fit
FSX_LUSTRE_PORTS = (988, 1018, 1019, 1020, 1021, 1022, 1023)

# Interface endpoints nodes use when the subnet has no route to a NAT gateway.
BASE_INTERFACE_SERVICES = ("ssm", "ssmmessages", "ec2messages", "logs", "sts")
EKS_INTERFACE_SERVICES = ("ecr.api", "ecr.dkr")


# -- shared helpers -----------------------------------------------------------------------
def cluster_vpc_id(ctx: CheckContext) -> str | None:
    """The VPC the cluster uses: ``--vpc`` when given, else the VPC of its first subnet
    that exists (None when neither tells)."""
    return ctx.aws.cluster_vpc_id(ctx.spec.all_subnets, ctx.spec.vpc_id)


def _no_vpc(ctx: CheckContext) -> Outcome:
    if ctx.spec.all_subnets:
        return skipped(
            "-",
            "the VPC is unknown: none of the config's subnets exist (see network.subnet-exists)",
        )
    return skipped(
        "-",
        "no VpcConfig and no --vpc: nothing to check (a Slurm cluster without VpcConfig "
        "uses the HyperPod service VPC)",
    )


def _no_subnets() -> Outcome:
    return skipped("-", "the config names no subnets (VpcConfig.Subnets)")


def _no_sgs() -> Outcome:
    return skipped("-", "the config names no security groups (VpcConfig.SecurityGroupIds)")


def _missing_subnet(subnet_id: str) -> Outcome:
    return skipped(subnet_id, "the subnet does not exist (see network.subnet-exists)")


def _no_vpc_id(subnet_id: str) -> Outcome:
    return unknown(
        subnet_id,
        f"could not tell: DescribeSubnets gave no VpcId for subnet {subnet_id}",
        f"Check it with `aws ec2 describe-subnets --subnet-ids {subnet_id}`, then run again.",
    )


def _missing_sg(sg_id: str) -> Outcome:
    return skipped(sg_id, "the security group does not exist (see network.sg-exists)")


def _vpc_settings(ctx: CheckContext) -> list[tuple[str, VpcSettings]]:
    """Every VpcConfig of the config, labelled by where it sits."""
    found: list[tuple[str, VpcSettings]] = []
    if ctx.spec.vpc_config is not None:
        found.append(("VpcConfig", ctx.spec.vpc_config))
    for group in ctx.spec.instance_groups:
        if group.override_vpc is not None:
            found.append((f"InstanceGroups[{group.name}].OverrideVpcConfig", group.override_vpc))
    return found


def _groups_using(
    ctx: CheckContext, *, subnet: str | None = None, sg: str | None = None
) -> list[str]:
    names = []
    for group in ctx.spec.instance_groups:
        vpc = ctx.spec.vpc_for(group)
        if vpc is None:
            continue
        if (subnet and subnet in vpc.subnets) or (sg and sg in vpc.security_group_ids):
            names.append(group.name)
    return names


def _zone_label(subnet: dict[str, Any]) -> str:
    return f"{subnet.get('AvailabilityZoneId', '?')} ({subnet.get('AvailabilityZone', '?')})"


# -- route analysis -----------------------------------------------------------------------
@dataclass(frozen=True)
class EgressPath:
    """How a subnet's default route leaves the VPC."""

    # "nat" (available NAT gateway), "pending" (NAT gateway still being created), "other"
    # (TGW, appliance …), "igw", "none"
    kind: str
    target: str = ""
    notes: tuple[str, ...] = ()

    @property
    def reaches_internet(self) -> bool:
        return self.kind in ("nat", "other")

    @property
    def needs_nat_gateway(self) -> bool:
        """No way out yet: a NAT gateway (and its Elastic IP) would have to be added. A
        pending NAT gateway already holds its address."""
        return not self.reaches_internet and self.kind != "pending"


_OTHER_TARGETS = (
    "TransitGatewayId",
    "NetworkInterfaceId",
    "InstanceId",
    "CoreNetworkArn",
    "LocalGatewayId",
    "CarrierGatewayId",
)


def _default_route(table: SubnetRouteTable, cidr: str = ANYWHERE_V4) -> dict[str, Any] | None:
    for route in table.routes:
        if (
            route.get("DestinationCidrBlock") == cidr
            or route.get("DestinationIpv6CidrBlock") == cidr
        ):
            return route
    return None


def _nat_ids(tables: Iterable[SubnetRouteTable]) -> list[str]:
    ids = []
    for table in tables:
        route = _default_route(table)
        if route and route.get("NatGatewayId"):
            ids.append(str(route["NatGatewayId"]))
    return ids


def egress_paths(ctx: CheckContext, subnet_ids: tuple[str, ...]) -> dict[str, EgressPath]:
    """The egress path of every existing subnet that has a route table (one NAT gateway
    read for all): the one analysis ``network.egress``, ``network.s3-gateway-endpoint``
    and ``quotas.elastic-ips`` share."""
    tables = ctx.aws.subnet_route_tables(subnet_ids)
    nat_ids = _nat_ids(tables.values())
    nats = ctx.aws.nat_gateways(nat_ids) if nat_ids else {}
    return {sid: _egress_of(table, nats) for sid, table in tables.items()}


def _egress_of(table: SubnetRouteTable, nats: dict[str, dict[str, Any]]) -> EgressPath:
    route = _default_route(table)
    if route is None:
        return EgressPath(
            "none", notes=(f"route table {table.route_table_id} has no 0.0.0.0/0 route",)
        )
    if route.get("State") == "blackhole":
        target = _route_target(route)
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
    target = _route_target(route)
    if target:
        return EgressPath("other", target)
    return EgressPath("none", notes=("the 0.0.0.0/0 route has no usable target",))


def _route_target(route: dict[str, Any]) -> str:
    for key in ("NatGatewayId", "GatewayId", "VpcPeeringConnectionId", *_OTHER_TARGETS):
        if route.get(key):
            return str(route[key])
    return ""


def _public_reasons(subnet: dict[str, Any], table: SubnetRouteTable | None) -> list[str]:
    reasons = []
    if subnet.get("MapPublicIpOnLaunch"):
        reasons.append("MapPublicIpOnLaunch is true")
    if table is not None:
        for cidr in (ANYWHERE_V4, ANYWHERE_V6):
            route = _default_route(table, cidr)
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


# -- warm-up ------------------------------------------------------------------------------
SG_CHECKS = frozenset(
    {
        "network.sg-exists",
        "network.sg-efa-self-ingress",
        "network.sg-efa-self-egress",
        "network.sg-egress-open-only",
        "network.sg-rule-count",
    }
)
ROUTE_CHECKS = frozenset({"network.egress", "network.s3-gateway-endpoint"})


def warm_up(facts: Any, spec: Any, selected: Iterable[str]) -> list[Any]:
    """Reads that need only the config, to start while the run is still planning (the plan
    waits for ``DescribeInstanceTypes``): each is a callable that fills the readers' memo,
    where the checks find it. Only what the selected checks read anyway is warmed: the
    security groups (and the rules-per-group quota), and for the egress and S3 checks the
    chain subnets → route tables →
    NAT gateways (→ VPC endpoints for the S3 check). Failures stay in the memo, where the
    checks meet them again and report UNKNOWN."""
    chosen = set(selected)
    jobs: list[Any] = []
    if chosen & SG_CHECKS and spec.all_security_groups:
        jobs.append(lambda: facts.security_groups(spec.all_security_groups))
        if "network.sg-rule-count" in chosen:
            jobs.append(lambda: facts.quota_by_code(*RULES_PER_SG_QUOTA))
    subnet_ids = tuple(spec.all_subnets)
    if chosen & ROUTE_CHECKS and subnet_ids:

        def routes() -> None:
            subnets = facts.subnets(subnet_ids)
            tables = facts.subnet_route_tables(subnet_ids)
            nat_ids = _nat_ids(tables.values())
            if nat_ids:
                facts.nat_gateways(nat_ids)
            if "network.s3-gateway-endpoint" in chosen:
                for vpc_id in dict.fromkeys(str(s.get("VpcId", "")) for s in subnets.values()):
                    if vpc_id:
                        facts.vpc_endpoints(vpc_id)

        jobs.append(routes)
    return jobs


# -- VPC ----------------------------------------------------------------------------------
@check("network.vpc-exists", "The cluster's VPC exists", Severity.CRITICAL)
def vpc_exists(ctx: CheckContext) -> list[Outcome]:
    vpc_id = cluster_vpc_id(ctx)
    if vpc_id is None:
        return [_no_vpc(ctx)]
    vpc = ctx.aws.vpc(vpc_id)
    if vpc is None:
        return [
            failed(
                vpc_id,
                f"The VPC '{vpc_id}' does not exist in {ctx.aws.region}.",
                f"Check the id and the region (--region); list VPCs with "
                f"`aws ec2 describe-vpcs --region {ctx.aws.region}`.",
            )
        ]
    return [
        passed(
            vpc_id,
            f"VPC {vpc_id} exists ({vpc.get('CidrBlock', '?')}, {vpc.get('State', '?')})",
            cidr=vpc.get("CidrBlock"),
        )
    ]


@check("network.vpc-dns", "The VPC has DNS support and DNS hostnames on", Severity.HIGH)
def vpc_dns(ctx: CheckContext) -> list[Outcome]:
    vpc_id = cluster_vpc_id(ctx)
    if vpc_id is None:
        return [_no_vpc(ctx)]
    values: dict[str, Any] = {
        a: ctx.aws.vpc_attribute(vpc_id, a) for a in ("enableDnsSupport", "enableDnsHostnames")
    }
    if any(v is None for v in values.values()):
        return [skipped(vpc_id, "the VPC does not exist (see network.vpc-exists)")]
    off = [a for a, v in values.items() if not v]
    if not off:
        return [passed(vpc_id, "enableDnsSupport and enableDnsHostnames are on")]
    fixes = "; ".join(f"aws ec2 modify-vpc-attribute --vpc-id {vpc_id} --{_kebab(a)}" for a in off)
    return [
        failed(
            vpc_id,
            f"{' and '.join(off)} {'is' if len(off) == 1 else 'are'} off in {vpc_id}: nodes "
            "cannot resolve each other, VPC endpoints' private DNS and FSx names",
            f"Turn them on (one attribute per call): {fixes}",
            **values,
        )
    ]


def _kebab(attribute: str) -> str:
    # enableDnsHostnames → enable-dns-hostnames
    out = "".join(f"-{c.lower()}" if c.isupper() else c for c in attribute)
    return out


# -- subnets ------------------------------------------------------------------------------
@check("network.subnet-exists", "Each subnet exists and is in the cluster's VPC", Severity.CRITICAL)
def subnet_exists(ctx: CheckContext) -> list[Outcome]:
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [_no_subnets()]
    subnets = ctx.aws.subnets(subnet_ids)
    vpc_id = cluster_vpc_id(ctx)
    out = []
    for sid in subnet_ids:
        subnet = subnets.get(sid)
        if subnet is None:
            out.append(
                failed(
                    sid,
                    f"The subnet '{sid}' does not exist in {ctx.aws.region}.",
                    f"Fix the id in the config, or check the region; list the VPC's subnets "
                    "with `aws ec2 describe-subnets --filters "
                    f"Name=vpc-id,Values={vpc_id or '<vpc-id>'}`.",
                )
            )
        elif not subnet.get("VpcId"):
            out.append(_no_vpc_id(sid))
        elif vpc_id and subnet["VpcId"] != vpc_id:
            out.append(
                failed(
                    sid,
                    f"subnet {sid} is in {subnet['VpcId']}, not in the cluster's VPC {vpc_id}: "
                    "all subnets and security groups of a cluster must be in one VPC",
                    f"Use subnets of {vpc_id} only (`aws ec2 describe-subnets --filters "
                    f"Name=vpc-id,Values={vpc_id}`), or fix --vpc.",
                    vpc_id=subnet["VpcId"],
                )
            )
        elif subnet.get("State", "available") != "available":
            out.append(
                warned(
                    sid,
                    f"subnet {sid} is {subnet.get('State')}",
                    "Wait until it is available, then run again.",
                )
            )
        else:
            out.append(
                passed(
                    sid,
                    f"subnet {sid} exists in {subnet['VpcId']}, zone {_zone_label(subnet)}, "
                    f"{subnet.get('CidrBlock', '?')}",
                    availability_zone=subnet.get("AvailabilityZone"),
                    availability_zone_id=subnet.get("AvailabilityZoneId"),
                    cidr=subnet.get("CidrBlock"),
                )
            )
    return out


def _usable(prefix: int) -> int:
    return max(0, (1 << (32 - prefix)) - 5)


@check(
    "network.subnet-capacity",
    "Each subnet has enough free IP addresses for the nodes placed in it",
    Severity.CRITICAL,
)
def subnet_capacity(ctx: CheckContext) -> list[Outcome]:
    needs = list(getattr(ctx.plan, "subnets", None) or [])
    if not needs:
        return [skipped("-", "no subnet needs in the plan (no VpcConfig subnets)")]
    subnets = ctx.aws.subnets(ctx.spec.all_subnets or [n.subnet_id for n in needs])
    out: list[Outcome] = []
    for need in needs:
        subnet = subnets.get(need.subnet_id)
        if subnet is None:
            out.append(_missing_subnet(need.subnet_id))
            continue
        if subnet.get("AvailableIpAddressCount") is None:
            out.append(
                unknown(
                    need.subnet_id,
                    f"could not tell: DescribeSubnets gave no AvailableIpAddressCount for "
                    f"subnet {need.subnet_id}; it needs {need.total_needed} addresses",
                    f"Check it with `aws ec2 describe-subnets --subnet-ids {need.subnet_id} "
                    "--query 'Subnets[].AvailableIpAddressCount'`, then run again.",
                    needed=need.total_needed,
                )
            )
            continue
        free = int(subnet["AvailableIpAddressCount"])
        cidr = str(subnet.get("CidrBlock", ""))
        size = ipaddress.ip_network(cidr).prefixlen if cidr else None
        figures = {
            "needed": need.total_needed,
            "free": free,
            "nodes": need.nodes,
            "headroom": need.headroom_addresses,
            "min_prefix": need.min_prefix,
            "cidr": cidr,
            "groups": list(need.groups),
        }
        counted = (
            f"{need.total_needed} addresses ({need.addresses_needed} for {need.nodes} nodes of "
            f"{', '.join(need.groups)} + {need.headroom_addresses} headroom)"
        )
        if free < need.total_needed:
            too_small = size is not None and _usable(size) < need.total_needed
            why = (
                f"even empty, a /{size} holds only {_usable(size)} usable addresses"
                if too_small and size is not None
                else "the rest is in use"
            )
            out.append(
                failed(
                    need.subnet_id,
                    f"subnet {need.subnet_id} ({cidr}) needs {counted} but has {free} free "
                    f"({why}); a /{need.min_prefix} or larger fits "
                    f"({_usable(need.min_prefix)} usable)",
                    f"A subnet's size cannot change. Create a /{need.min_prefix} (or larger) in "
                    f"zone {subnet.get('AvailabilityZoneId')}: `aws ec2 create-subnet --vpc-id "
                    f"{subnet.get('VpcId', '<vpc-id>')} --availability-zone-id "
                    f"{subnet.get('AvailabilityZoneId')} "
                    f"--cidr-block <free /{need.min_prefix} block of the VPC>` and use it in "
                    "VpcConfig.Subnets (or the group's OverrideVpcConfig); or lower InstanceCount.",
                    **figures,
                )
            )
        elif need.unsized_groups:
            out.append(
                warned(
                    need.subnet_id,
                    f"subnet {need.subnet_id} has {free} free for {counted}, but groups "
                    f"{', '.join(need.unsized_groups)} could not be sized (instance type unknown) "
                    "and are not counted",
                    "Run with AWS access to ec2:DescribeInstanceTypes so every type is sized.",
                    severity=Severity.MEDIUM,
                    **figures,
                )
            )
        else:
            out.append(
                passed(
                    need.subnet_id,
                    f"{free} free addresses cover the {counted}",
                    **figures,
                )
            )
    return out


@check(
    "network.subnet-private",
    "Subnets are private (no public IPs, no route to an internet gateway)",
    Severity.HIGH,
)
def subnet_private(ctx: CheckContext) -> list[Outcome]:
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [_no_subnets()]
    subnets = ctx.aws.subnets(subnet_ids)
    tables = ctx.aws.subnet_route_tables(subnet_ids)
    eks = ctx.spec.orchestrator == "eks"
    out: list[Outcome] = []
    for sid in subnet_ids:
        subnet = subnets.get(sid)
        if subnet is None:
            out.append(_missing_subnet(sid))
            continue
        if not subnet.get("VpcId"):
            out.append(_no_vpc_id(sid))
            continue
        table = tables.get(sid)
        reasons = _public_reasons(subnet, table)
        if not reasons:
            where = (
                f"main route table {table.route_table_id}"
                if table and table.implicit
                else f"route table {table.route_table_id}"
                if table
                else "no route table"
            )
            out.append(passed(sid, f"subnet {sid} is private ({where}: no internet gateway route)"))
            continue
        fixes = []
        if subnet.get("MapPublicIpOnLaunch"):
            fixes.append(
                f"aws ec2 modify-subnet-attribute --subnet-id {sid} --no-map-public-ip-on-launch"
            )
        if table is not None and any("internet gateway" in r for r in reasons):
            if table.implicit:
                fixes.append(
                    f"aws ec2 associate-route-table --subnet-id {sid} --route-table-id "
                    "<private route table with a NAT gateway route>"
                )
            else:
                fixes.append(
                    f"aws ec2 replace-route-table-association --association-id "
                    f"{table.association_id} --route-table-id <private route table with a NAT "
                    "gateway route>"
                )
        message = f"subnet {sid} is public: {'; '.join(reasons)}"
        remediation = "Use a private subnet, or make this one private: " + "; ".join(fixes)
        if eks:
            out.append(
                failed(
                    sid,
                    message + " (EKS-orchestrated HyperPod requires private subnets)",
                    remediation,
                )
            )
        else:
            out.append(
                warned(
                    sid,
                    message + " (HyperPod nodes get no public IP here, so they have no internet "
                    "access through it)",
                    remediation,
                    severity=Severity.MEDIUM,
                )
            )
    return out


def _needed_services(ctx: CheckContext) -> tuple[str, ...]:
    extra = EKS_INTERFACE_SERVICES if ctx.spec.orchestrator == "eks" else ()
    return BASE_INTERFACE_SERVICES + extra


# Endpoint states (DescribeVpcEndpoints writes them camelCase) that become ``available``
# without anyone fixing anything.
PENDING_ENDPOINT_STATES = frozenset({"pending", "pendingacceptance"})


def _endpoint_state(ep: dict[str, Any]) -> str:
    return str(ep.get("State", "?"))


def _is_available(ep: dict[str, Any]) -> bool:
    return _endpoint_state(ep).lower() == "available"


def _is_pending(ep: dict[str, Any]) -> bool:
    return _endpoint_state(ep).lower() in PENDING_ENDPOINT_STATES


@dataclass(frozen=True)
class InterfaceEndpoints:
    """The VPC's interface endpoints by service suffix (``ssm``, ``ecr.api`` …):
    ``usable`` (available, private DNS on) and, for services with none usable, the best
    endpoint there is (pending before any other state)."""

    usable: dict[str, dict[str, Any]]
    unusable: dict[str, dict[str, Any]]


def _interface_endpoints(ctx: CheckContext, vpc_id: str) -> InterfaceEndpoints:
    usable: dict[str, dict[str, Any]] = {}
    others: dict[str, list[dict[str, Any]]] = {}
    for ep in ctx.aws.vpc_endpoints(vpc_id):
        if ep.get("VpcEndpointType") != "Interface":
            continue
        service = _service_suffix(str(ep.get("ServiceName", "")), ctx.aws.region)
        if not service:
            continue
        if _is_available(ep) and ep.get("PrivateDnsEnabled", False):
            usable[service] = ep
        else:
            others.setdefault(service, []).append(ep)
    unusable = {
        service: sorted(eps, key=lambda e: (not _is_available(e), not _is_pending(e)))[0]
        for service, eps in others.items()
        if service not in usable
    }
    return InterfaceEndpoints(usable, unusable)


def _why_unusable(service: str, ep: dict[str, Any]) -> str:
    ep_id = ep.get("VpcEndpointId", "?")
    if _is_available(ep):
        return f"{ep_id} ({service}) is available but private DNS is off"
    return f"{ep_id} ({service}) is {_endpoint_state(ep)}"


def _wait_for_endpoints(ep_ids: Iterable[str]) -> str:
    ids = " ".join(ep_ids)
    return (
        f"Wait until they are available (`aws ec2 describe-vpc-endpoints --vpc-endpoint-ids "
        f"{ids} --query 'VpcEndpoints[].[VpcEndpointId,State]'`); an endpoint in "
        "pendingAcceptance waits for the endpoint service's owner to accept it (`aws ec2 "
        f"accept-vpc-endpoint-connections --service-id <vpce-svc-id> --vpc-endpoint-ids {ids}`, "
        "run by the owner). Then run again."
    )


def _service_suffix(name: str, region: str) -> str:
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


def _admits_https(
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
            if cidr == ANYWHERE_V4 or (subnet_cidr is not None and _covers(cidr, [subnet_cidr])):
                return True, []
        prefix_lists += [str(r.get("PrefixListId")) for r in p.get("PrefixListIds", [])]
    return False, prefix_lists


def _endpoint_access(
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
        allowed, lists = _admits_https(group.get("IpPermissions", []), cluster_sgs, subnet_cidr)
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


def _describe_access(a: EndpointAccess) -> str:
    groups = ", ".join(a.group_ids) or "none"
    if a.verdict == "closed":
        return (
            f"endpoint {a.endpoint_id} ({a.service}) security group {groups} allows no inbound "
            "TCP 443 from the cluster"
        )
    return f"endpoint {a.endpoint_id} ({a.service}, security group {groups}): {a.reason}"


def _authorize_https(a: EndpointAccess, cluster_sg: str | None, subnet_cidr: str) -> str:
    source = (
        f"UserIdGroupPairs=[{{GroupId={cluster_sg}}}]"
        if cluster_sg
        else f"IpRanges=[{{CidrIp={subnet_cidr or '<subnet-cidr>'}}}]"
    )
    return (
        f"aws ec2 authorize-security-group-ingress --group-id {a.group_ids[0]} "
        f"--ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,{source}'"
    )


def _subnet_network(subnet: dict[str, Any]) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(str(subnet.get("CidrBlock", "")), strict=False)
    except ValueError:
        return None


@check(
    "network.egress",
    "Subnets reach AWS services through a NAT gateway or interface endpoints",
    Severity.HIGH,
)
def egress(ctx: CheckContext) -> list[Outcome]:
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [_no_subnets()]
    subnets = ctx.aws.subnets(subnet_ids)
    paths = egress_paths(ctx, subnet_ids)
    needed = _needed_services(ctx)
    sg = next(iter(ctx.spec.all_security_groups), "<sg-id>")
    cluster_sgs = frozenset(ctx.spec.all_security_groups)
    endpoint_groups, groups_error = _endpoint_security_groups(ctx, subnets, paths, needed)
    out: list[Outcome] = []
    for sid in subnet_ids:
        subnet = subnets.get(sid)
        if subnet is None:
            out.append(_missing_subnet(sid))
            continue
        if not subnet.get("VpcId"):
            out.append(_no_vpc_id(sid))
            continue
        path = paths.get(sid, _NO_ROUTE_TABLE)
        if path.kind == "nat":
            out.append(
                passed(sid, f"subnet {sid} reaches the internet through NAT gateway {path.target}")
            )
            continue
        if path.kind == "other":
            out.append(
                passed(
                    sid,
                    f"subnet {sid} sends 0.0.0.0/0 to {path.target}; egress beyond it is "
                    "assumed, not verified",
                )
            )
            continue
        if path.kind == "pending":
            out.append(
                warned(
                    sid,
                    f"subnet {sid} routes 0.0.0.0/0 to a NAT gateway still being created: NAT "
                    f"gateway {path.target} is pending; egress works once it is available "
                    "(usually within minutes)",
                    f"Wait until it is available (`aws ec2 wait nat-gateway-available "
                    f"--nat-gateway-ids {path.target}`), then run again.",
                    nat_gateway=path.target,
                    nat_state="pending",
                )
            )
            continue
        endpoints = _interface_endpoints(ctx, subnet["VpcId"])
        missing = [s for s in needed if s not in endpoints.usable and s not in endpoints.unusable]
        unusable = {s: endpoints.unusable[s] for s in needed if s in endpoints.unusable}
        pending = {s: ep for s, ep in unusable.items() if _is_pending(ep)}
        unusable_details = [
            {"service": s, "id": ep.get("VpcEndpointId"), "state": _endpoint_state(ep)}
            for s, ep in unusable.items()
        ]
        # The usable endpoints' security groups must let the nodes in on TCP 443.
        cidr = _subnet_network(subnet)
        access = [
            _endpoint_access(s, endpoints.usable[s], endpoint_groups, cluster_sgs, cidr)
            for s in needed
            if s in endpoints.usable and groups_error is None
        ]
        blocked = [a for a in access if a.verdict == "closed"]
        undecided = [a for a in access if a.verdict == "unknown"]
        blocked_details = [
            {"service": a.service, "id": a.endpoint_id, "security_groups": list(a.group_ids)}
            for a in blocked
        ]
        extra: dict[str, Any] = {"blocked_endpoints": blocked_details} if blocked else {}
        if (
            groups_error is not None
            and any(s in endpoints.usable for s in needed)
            and not missing
            and not unusable
        ):
            out.append(
                unknown(
                    sid,
                    f"subnet {sid} has no internet route and relies on interface endpoints, "
                    "but whether their security groups allow inbound TCP 443 could not be "
                    f"told: {groups_error.describe()}",
                    groups_error.remediation,
                    action=groups_error.action,
                    notes=list(path.notes),
                )
            )
            continue
        if not missing and not unusable and not blocked and undecided:
            out.append(
                unknown(
                    sid,
                    f"subnet {sid} has no internet route and relies on interface endpoints; "
                    "could not tell whether they admit TCP 443 from the cluster: "
                    + "; ".join(_describe_access(a) for a in undecided),
                    "Check that each endpoint's security group allows inbound TCP 443 from "
                    "the cluster's security groups or subnets (`aws ec2 "
                    "describe-security-groups --group-ids "
                    + " ".join(dict.fromkeys(g for a in undecided for g in a.group_ids))
                    + "`), then run again.",
                    notes=list(path.notes),
                )
            )
            continue
        if not missing and not unusable and not blocked:
            out.append(
                passed(
                    sid,
                    f"subnet {sid} has no internet route, but the VPC has interface endpoints "
                    f"(private DNS on) for {', '.join(needed)}; lifecycle scripts cannot "
                    "download anything from the internet",
                    notes=list(path.notes),
                )
            )
            continue
        if not missing and not blocked and len(pending) == len(unusable):
            out.append(
                warned(
                    sid,
                    f"subnet {sid} has no internet route ({'; '.join(path.notes)}) and the "
                    "VPC's interface endpoints are not usable yet: "
                    + "; ".join(_why_unusable(s, ep) for s, ep in pending.items())
                    + "; nodes reach AWS services once they are available",
                    _wait_for_endpoints(str(ep.get("VpcEndpointId")) for ep in pending.values()),
                    missing_endpoints=missing,
                    unusable_endpoints=unusable_details,
                    notes=list(path.notes),
                )
            )
            continue
        table = ctx.aws.subnet_route_tables(subnet_ids).get(sid)
        rtb = table.route_table_id if table else "<route table>"

        def create(service: str, vpc_id: str = subnet["VpcId"], sid: str = sid) -> str:
            return (
                f"aws ec2 create-vpc-endpoint --vpc-id {vpc_id} --vpc-endpoint-type "
                f"Interface --service-name {ctx.aws.endpoint_service_name(service)} "
                f"--subnet-ids {sid} --security-group-ids {sg} --private-dns-enabled"
            )

        fixes = [create(s) for s in missing]
        fixes += [
            _authorize_https(a, sg if cluster_sgs else None, str(subnet.get("CidrBlock", "")))
            for a in blocked
        ]
        for service, ep in unusable.items():
            ep_id = ep.get("VpcEndpointId")
            state = _endpoint_state(ep).lower()
            if _is_available(ep):
                fixes.append(
                    f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {ep_id} --private-dns-enabled"
                )
            elif state in ("deleted", "deleting"):
                fixes.append(create(service))
            elif not _is_pending(ep):
                fixes.append(
                    f"aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {ep_id} (it is {state}), "
                    f"then {create(service)}"
                )
        problems = []
        if missing:
            problems.append(
                f"the VPC lacks interface endpoints (private DNS on) for {', '.join(missing)}"
            )
        if unusable:
            problems.append(
                "interface endpoints present but not usable: "
                + "; ".join(_why_unusable(s, ep) for s, ep in unusable.items())
            )
        if blocked:
            problems.append(
                "nodes cannot reach interface endpoints: "
                + "; ".join(_describe_access(a) for a in blocked)
            )
        wait = (
            " " + _wait_for_endpoints(str(ep.get("VpcEndpointId")) for ep in pending.values())
            if pending
            else ""
        )
        out.append(
            failed(
                sid,
                f"subnet {sid} has no egress: {'; '.join(path.notes)}; and "
                f"{'; and '.join(problems)}. Expect: "
                f'"{LIFECYCLE_FAILURE}"',
                "Route 0.0.0.0/0 to a NAT gateway in a public subnet: `aws ec2 create-route "
                f"--route-table-id {rtb} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id "
                f"<nat-id>` (create one with `aws ec2 create-nat-gateway --subnet-id "
                "<public-subnet> --allocation-id <eipalloc-id>`); or fix the endpoints: "
                + "; ".join(fixes)
                + wait,
                missing_endpoints=missing,
                unusable_endpoints=unusable_details,
                notes=list(path.notes),
                **extra,
            )
        )
    return out


_NO_ROUTE_TABLE = EgressPath("none", notes=("no route table found",))


def _endpoint_security_groups(
    ctx: CheckContext,
    subnets: dict[str, dict[str, Any]],
    paths: dict[str, EgressPath],
    needed: tuple[str, ...],
) -> tuple[dict[str, dict[str, Any]], Any]:
    """The security groups of the usable interface endpoints that subnets without internet
    egress rely on, in one batched (memoized) read; (groups, None), or ({}, the
    FactUnavailable) when they cannot be read."""
    from ..errors import FactUnavailable

    ids: list[str] = []
    for sid, subnet in subnets.items():
        path = paths.get(sid, _NO_ROUTE_TABLE)
        if not subnet.get("VpcId") or path.kind in ("nat", "other", "pending"):
            continue
        usable = _interface_endpoints(ctx, str(subnet["VpcId"])).usable
        for service in needed:
            if service in usable:
                ids += [str(g["GroupId"]) for g in usable[service].get("Groups", [])]
    if not ids:
        return {}, None
    try:
        return ctx.aws.security_groups(ids), None
    except FactUnavailable as exc:
        return {}, exc


@check(
    "network.s3-gateway-endpoint",
    "An S3 gateway endpoint is attached to every cluster subnet's route table",
    Severity.HIGH,
)
def s3_gateway_endpoint(ctx: CheckContext) -> list[Outcome]:
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [_no_subnets()]
    subnets = ctx.aws.subnets(subnet_ids)
    tables = ctx.aws.subnet_route_tables(subnet_ids)
    paths = egress_paths(ctx, subnet_ids)
    s3_name = ctx.aws.endpoint_service_name("s3")
    out: list[Outcome] = []
    for sid in subnet_ids:
        subnet = subnets.get(sid)
        if subnet is None:
            out.append(_missing_subnet(sid))
            continue
        if not subnet.get("VpcId"):
            out.append(_no_vpc_id(sid))
            continue
        vpc_id = subnet["VpcId"]
        gateways = [
            ep
            for ep in ctx.aws.vpc_endpoints(vpc_id)
            if ep.get("VpcEndpointType") == "Gateway"
            and _service_suffix(str(ep.get("ServiceName", "")), ctx.aws.region) == "s3"
        ]
        table = tables.get(sid)
        rtb = table.route_table_id if table else "<route table>"
        attached = [ep for ep in gateways if table and rtb in ep.get("RouteTableIds", [])]
        usable = [ep for ep in attached if _is_available(ep)]
        if usable:
            out.append(
                passed(
                    sid,
                    f"route table {rtb} of {sid} uses S3 gateway endpoint "
                    f"{usable[0]['VpcEndpointId']}",
                )
            )
            continue
        pending = [ep for ep in attached if _is_pending(ep)]
        if pending:
            ep_id = pending[0]["VpcEndpointId"]
            out.append(
                warned(
                    sid,
                    f"S3 gateway endpoint {ep_id} on route table {rtb} of {sid} is "
                    f"{_endpoint_state(pending[0])}: S3 is reachable through it once it is "
                    "available",
                    _wait_for_endpoints([ep_id]),
                    endpoint=ep_id,
                    state=_endpoint_state(pending[0]),
                )
            )
            continue
        create = (
            f"aws ec2 create-vpc-endpoint --vpc-id {vpc_id} --vpc-endpoint-type Gateway "
            f"--service-name {s3_name} --route-table-ids {rtb}"
        )
        live = sorted(
            (ep for ep in gateways if _is_available(ep) or _is_pending(ep)),
            key=lambda e: not _is_available(e),
        )
        if attached:
            # Attached, but rejected, failed, deleting, deleted …: present, not usable.
            ep_id, state = attached[0]["VpcEndpointId"], _endpoint_state(attached[0])
            what = (
                f"S3 gateway endpoint {ep_id} on route table {rtb} of {sid} is {state}, not usable"
            )
            fix = (
                create
                if state.lower() in ("deleted", "deleting")
                else f"Replace it: aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {ep_id}; "
                + create
            )
        elif live:
            ep_id = live[0]["VpcEndpointId"]
            state = "" if _is_available(live[0]) else f" ({_endpoint_state(live[0])})"
            what = (
                f"S3 gateway endpoint {ep_id}{state} is not attached to route table {rtb} of {sid}"
            )
            fix = (
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {ep_id} --add-route-table-ids {rtb}"
            )
        else:
            what = f"VPC {vpc_id} has no gateway endpoint for {s3_name} (needed by {sid})"
            fix = create
        path = paths.get(sid)
        if path is not None and (path.reaches_internet or path.kind == "pending"):
            once = " once it is available (it is pending)" if path.kind == "pending" else ""
            out.append(
                warned(
                    sid,
                    f"{what}; S3 traffic (lifecycle scripts, checkpoints) goes through "
                    f"{path.target}{once} instead, slower and billed per GB",
                    fix,
                    severity=Severity.MEDIUM,
                )
            )
        else:
            out.append(
                failed(
                    sid,
                    f"{what}, and the subnet has no internet egress: nodes cannot fetch the "
                    f'lifecycle scripts. Expect: "{LIFECYCLE_FAILURE}"',
                    fix,
                )
            )
    return out


# -- security groups ----------------------------------------------------------------------
@check(
    "network.sg-exists", "Each security group exists and is in the cluster's VPC", Severity.CRITICAL
)
def sg_exists(ctx: CheckContext) -> list[Outcome]:
    sg_ids = ctx.spec.all_security_groups
    if not sg_ids:
        return [_no_sgs()]
    groups = ctx.aws.security_groups(sg_ids)
    vpc_id = cluster_vpc_id(ctx)
    out: list[Outcome] = []
    for sg_id in sg_ids:
        group = groups.get(sg_id)
        if group is None:
            out.append(
                failed(
                    sg_id,
                    f"The security group '{sg_id}' does not exist in {ctx.aws.region}.",
                    "Fix the id in the config, or create the group: `aws ec2 "
                    f"create-security-group --vpc-id {vpc_id or '<vpc-id>'} --group-name "
                    "<name> --description <text>`.",
                )
            )
        elif vpc_id and group.get("VpcId") != vpc_id:
            out.append(
                failed(
                    sg_id,
                    f"The security group does not belong to the VPC: {sg_id} is in "
                    f"{group.get('VpcId')}, the cluster's subnets are in {vpc_id}.",
                    f"Use security groups of {vpc_id}: `aws ec2 describe-security-groups "
                    f"--filters Name=vpc-id,Values={vpc_id}`.",
                    vpc_id=group.get("VpcId"),
                )
            )
        else:
            out.append(
                passed(
                    sg_id,
                    f"security group {sg_id} ({group.get('GroupName', '')}) exists in "
                    f"{group.get('VpcId')}",
                )
            )
    return out


def _is_self_pair(pair: dict[str, Any], sg_id: str) -> bool:
    return pair.get("GroupId") == sg_id


def _self_all_traffic(permissions: Iterable[dict[str, Any]], sg_id: str) -> bool:
    """A rule of protocol -1 (all traffic) with the group itself among its pairs: every
    permission and every pair is looked at, not only the first."""
    return any(
        str(p.get("IpProtocol")) == "-1"
        and any(_is_self_pair(pair, sg_id) for pair in p.get("UserIdGroupPairs", []))
        for p in permissions
    )


def _near_misses(permissions: Iterable[dict[str, Any]], sg_id: str) -> list[str]:
    """Self rules that do not count: a protocol or port range instead of all traffic."""
    found = []
    for p in permissions:
        if str(p.get("IpProtocol")) == "-1":
            continue
        if any(_is_self_pair(pair, sg_id) for pair in p.get("UserIdGroupPairs", [])):
            ports = (
                f"{p.get('FromPort')}-{p.get('ToPort')}" if p.get("FromPort") is not None else "all"
            )
            found.append(f"{p.get('IpProtocol')} {ports}")
    return found


def _self_rule_check(ctx: CheckContext, direction: str) -> list[Outcome]:
    sg_ids = ctx.spec.all_security_groups
    if not sg_ids:
        return [_no_sgs()]
    groups = ctx.aws.security_groups(sg_ids)
    key = "IpPermissions" if direction == "ingress" else "IpPermissionsEgress"
    word = "inbound traffic from" if direction == "ingress" else "outbound traffic to"
    out: list[Outcome] = []
    for sg_id in sg_ids:
        group = groups.get(sg_id)
        if group is None:
            out.append(_missing_sg(sg_id))
            continue
        permissions = group.get(key, [])
        if _self_all_traffic(permissions, sg_id):
            out.append(passed(sg_id, f"{sg_id} allows all {word} itself"))
            continue
        near = _near_misses(permissions, sg_id)
        hint = (
            f" (its self rules cover only {', '.join(near)}: EFA needs protocol -1, all "
            "traffic; port ranges do not count)"
            if near
            else ""
        )
        out.append(
            failed(
                sg_id,
                f'{sg_id} does not allow all {word} itself{hint}. Expect: "{EFA_FAILURE}"',
                f"aws ec2 authorize-security-group-{direction} --group-id {sg_id} "
                f"--ip-permissions 'IpProtocol=-1,UserIdGroupPairs=[{{GroupId={sg_id}}}]'",
                groups=_groups_using(ctx, sg=sg_id),
            )
        )
    return out


@check(
    "network.sg-efa-self-ingress",
    "Each security group allows all inbound traffic from itself (EFA)",
    Severity.CRITICAL,
)
def sg_efa_self_ingress(ctx: CheckContext) -> list[Outcome]:
    return _self_rule_check(ctx, "ingress")


@check(
    "network.sg-efa-self-egress",
    "Each security group allows all outbound traffic to itself (EFA)",
    Severity.CRITICAL,
)
def sg_efa_self_egress(ctx: CheckContext) -> list[Outcome]:
    return _self_rule_check(ctx, "egress")


def _rule_entries(permissions: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every (kind, value) entry of a direction: each CIDR, prefix list and group pair is
    one rule as AWS counts them."""
    entries = []
    for p in permissions:
        entries += [("v4", r.get("CidrIp", "")) for r in p.get("IpRanges", [])]
        entries += [("v6", r.get("CidrIpv6", "")) for r in p.get("Ipv6Ranges", [])]
        entries += [("pl", r.get("PrefixListId", "")) for r in p.get("PrefixListIds", [])]
        entries += [("sg", r.get("GroupId", "")) for r in p.get("UserIdGroupPairs", [])]
    return entries


@check(
    "network.sg-egress-open-only",
    "Outbound rules are not only 0.0.0.0/0",
    Severity.MEDIUM,
)
def sg_egress_open_only(ctx: CheckContext) -> list[Outcome]:
    sg_ids = ctx.spec.all_security_groups
    if not sg_ids:
        return [_no_sgs()]
    groups = ctx.aws.security_groups(sg_ids)
    out: list[Outcome] = []
    for sg_id in sg_ids:
        group = groups.get(sg_id)
        if group is None:
            out.append(_missing_sg(sg_id))
            continue
        entries = _rule_entries(group.get("IpPermissionsEgress", []))
        if entries and all(value in (ANYWHERE_V4, ANYWHERE_V6) for _, value in entries):
            out.append(
                warned(
                    sg_id,
                    f"the only outbound rule of {sg_id} is to 0.0.0.0/0; HyperPod's docs warn "
                    f'this can make the EFA health checks fail ("{EFA_FAILURE}")',
                    f"Add an all-traffic rule to the group itself: aws ec2 "
                    f"authorize-security-group-egress --group-id {sg_id} --ip-permissions "
                    f"'IpProtocol=-1,UserIdGroupPairs=[{{GroupId={sg_id}}}]'",
                )
            )
        else:
            out.append(
                passed(
                    sg_id, f"{sg_id} has outbound rules other than 0.0.0.0/0 ({len(entries)} rules)"
                )
            )
    return out


@check(
    "network.sg-count",
    "At most 5 security groups per VpcConfig",
    Severity.CRITICAL,
    needs_aws=False,
)
def sg_count(ctx: CheckContext) -> list[Outcome]:
    settings = _vpc_settings(ctx)
    if not settings:
        return [skipped("-", "the config has no VpcConfig")]
    out: list[Outcome] = []
    for where, vpc in settings:
        count = len(vpc.security_group_ids)
        if count > MAX_SGS_PER_VPC_CONFIG:
            out.append(
                failed(
                    where,
                    f"{where} lists {count} security groups; HyperPod accepts at most "
                    f"{MAX_SGS_PER_VPC_CONFIG} (a network interface holds at most 5 by default)",
                    f"Merge rules into fewer groups and list at most {MAX_SGS_PER_VPC_CONFIG} in "
                    f"{where}.SecurityGroupIds.",
                    count=count,
                )
            )
        elif count == 0 and vpc.subnets:
            out.append(
                failed(
                    where,
                    f"{where} lists subnets but no security group (1 to 5 are required)",
                    f"Add the cluster's security group to {where}.SecurityGroupIds.",
                    count=count,
                )
            )
        else:
            out.append(passed(where, f"{where} lists {count} security group(s)", count=count))
    return out


@dataclass(frozen=True)
class RuleLimit:
    """The rules-per-direction limit a group is judged against, and where it came from."""

    value: int
    source: str  # "applied", "default" (Service Quotas) or "fallback" (could not be read)
    note: str = ""

    @property
    def described(self) -> str:
        if self.source == "applied":
            return f"the account's quota of {self.value}"
        if self.source == "default":
            return f"the AWS default quota of {self.value} (no applied value)"
        return f"the default limit of {self.value} (the account's quota could not be read)"


def rules_per_group_limit(ctx: CheckContext) -> RuleLimit:
    """The account's "Inbound or outbound rules per security group" (applied, else AWS
    default), or the documented default of 60 with the reason when it cannot be read: an
    advisory check never fails for want of the quota."""
    from ..errors import FactUnavailable

    service, code = RULES_PER_SG_QUOTA
    try:
        quota = ctx.aws.quota_by_code(service, code)
    except FactUnavailable as exc:
        return RuleLimit(DEFAULT_RULES_PER_DIRECTION, "fallback", exc.describe())
    if quota is None:
        return RuleLimit(
            DEFAULT_RULES_PER_DIRECTION, "fallback", f"Service Quotas has no {service} quota {code}"
        )
    if quota.value is None:
        return RuleLimit(
            DEFAULT_RULES_PER_DIRECTION,
            "fallback",
            f"Service Quotas gave no value for {service} quota {code} ({quota.error or '?'})",
        )
    return RuleLimit(int(quota.value), quota.source)


@check(
    "network.sg-rule-count",
    "Security groups are not near the rules-per-direction quota (IPv4 and IPv6 each)",
    Severity.INFO,
)
def sg_rule_count(ctx: CheckContext) -> list[Outcome]:
    sg_ids = ctx.spec.all_security_groups
    if not sg_ids:
        return [_no_sgs()]
    groups = ctx.aws.security_groups(sg_ids)
    limit = rules_per_group_limit(ctx)
    fallback = f" ({limit.note}: judged against the default)" if limit.note else ""
    figures: dict[str, Any] = {"limit": limit.value, "limit_source": limit.source}
    out: list[Outcome] = []
    for sg_id in sg_ids:
        group = groups.get(sg_id)
        if group is None:
            out.append(_missing_sg(sg_id))
            continue
        counts = {}
        for direction, key in (("inbound", "IpPermissions"), ("outbound", "IpPermissionsEgress")):
            entries = _rule_entries(group.get(key, []))
            # The quota applies to IPv4 and IPv6 rules separately; group and prefix-list
            # references count toward both.
            v4 = sum(1 for kind, _ in entries if kind != "v6")
            v6 = sum(1 for kind, _ in entries if kind != "v4")
            counts[direction] = max(v4, v6)
        worst = max(counts, key=lambda d: counts[d])
        if counts[worst] >= limit.value - RULE_COUNT_MARGIN:
            raise_it = (
                "raise the quota 'Inbound or outbound rules per security group' (service code "
                f"vpc, {RULES_PER_SG_QUOTA[1]}) in Service Quotas: aws service-quotas "
                "request-service-quota-increase --service-code vpc --quota-code "
                f"{RULES_PER_SG_QUOTA[1]} --desired-value <value> --region {ctx.aws.region}"
            )
            already = "; ignore this if it is already raised" if limit.source == "fallback" else ""
            out.append(
                warned(
                    sg_id,
                    f"{sg_id} has {counts[worst]} {worst} rules, near {limit.described} per "
                    f"direction (IPv4 and IPv6 rules count separately){fallback}: adding rules "
                    "(such as the EFA self rules) may fail",
                    f"Consolidate rules (prefix lists, group references), or {raise_it}{already}.",
                    severity=Severity.INFO,
                    **counts,
                    **figures,
                )
            )
        else:
            out.append(
                passed(
                    sg_id,
                    f"{sg_id}: {counts['inbound']} inbound, {counts['outbound']} outbound rules, "
                    f"within {limit.described} per direction{fallback}",
                    **counts,
                    **figures,
                )
            )
    return out


def _allows_port(
    permissions: Iterable[dict[str, Any]],
    sg_id: str,
    port: int,
    subnet_cidrs: list[ipaddress.IPv4Network],
) -> bool:
    """TCP ``port`` allowed within the cluster: from/to the group itself, or from/to an IPv4
    block holding every cluster subnet (a rule for some other network does not count)."""
    for p in permissions:
        protocol = str(p.get("IpProtocol"))
        if protocol == "-1":
            pass
        elif protocol in ("tcp", "6"):
            low, high = p.get("FromPort"), p.get("ToPort")
            if low is None or high is None or not (int(low) <= port <= int(high)):
                continue
        else:
            continue
        if any(_is_self_pair(pair, sg_id) for pair in p.get("UserIdGroupPairs", [])):
            return True
        if any(_covers(r.get("CidrIp", ""), subnet_cidrs) for r in p.get("IpRanges", [])):
            return True
    return False


def _covers(cidr: str, subnet_cidrs: list[ipaddress.IPv4Network]) -> bool:
    try:
        block = ipaddress.IPv4Network(cidr, strict=False)
    except ValueError:
        return False
    if block.prefixlen == 0:
        return True
    return bool(subnet_cidrs) and all(s.subnet_of(block) for s in subnet_cidrs)


@check(
    "network.sg-fsx-lustre",
    "Security groups allow FSx for Lustre traffic (TCP 988, 1018-1023) within the group",
    Severity.HIGH,
)
def sg_fsx_lustre(ctx: CheckContext) -> list[Outcome]:
    if not ctx.options.get("fsx"):
        return [skipped("-", "the config does not say it uses FSx for Lustre (pass --fsx)")]
    sg_ids = ctx.spec.all_security_groups
    if not sg_ids:
        return [_no_sgs()]
    groups = ctx.aws.security_groups(sg_ids)
    subnet_cidrs = [
        ipaddress.IPv4Network(str(subnet["CidrBlock"]), strict=False)
        for subnet in (ctx.aws.subnets(ctx.spec.all_subnets).values())
        if subnet.get("CidrBlock")
    ]
    out: list[Outcome] = []
    for sg_id in sg_ids:
        group = groups.get(sg_id)
        if group is None:
            out.append(_missing_sg(sg_id))
            continue
        gaps = []
        for direction, key in (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress")):
            closed = [
                p
                for p in FSX_LUSTRE_PORTS
                if not _allows_port(group.get(key, []), sg_id, p, subnet_cidrs)
            ]
            if closed:
                gaps.append((direction, closed))
        if not gaps:
            out.append(passed(sg_id, f"{sg_id} allows TCP 988 and 1018-1023 within the group"))
            continue
        fixes = "; ".join(
            f"aws ec2 authorize-security-group-{d} --group-id {sg_id} --ip-permissions "
            f"'IpProtocol=tcp,FromPort=988,ToPort=988,UserIdGroupPairs=[{{GroupId={sg_id}}}]' "
            f"'IpProtocol=tcp,FromPort=1018,ToPort=1023,UserIdGroupPairs=[{{GroupId={sg_id}}}]'"
            for d, _ in gaps
        )
        out.append(
            failed(
                sg_id,
                f"{sg_id} blocks FSx for Lustre ports within the group: "
                + "; ".join(f"{d} {', '.join(map(str, ports))}" for d, ports in gaps)
                + "; the Lustre mount in the lifecycle scripts will hang. "
                + f'Expect: "{LIFECYCLE_FAILURE}"',
                fixes,
            )
        )
    return out


# -- placement ----------------------------------------------------------------------------
def efa_support(ctx: CheckContext, groups: Iterable[InstanceGroup]) -> dict[str, bool | None]:
    """EC2 type → supports EFA (None when it cannot be told): from
    ``DescribeInstanceTypes``, else from the plan's figures."""
    from ..errors import FactUnavailable

    names = tuple(dict.fromkeys(t for g in groups for t in g.ec2_types))
    result: dict[str, bool | None] = dict.fromkeys(names)
    try:
        described = ctx.aws.instance_types(names)
        for name in names:
            if name in described:
                result[name] = bool(described[name].get("NetworkInfo", {}).get("EfaSupported"))
    except FactUnavailable:
        pass
    for plan_group in getattr(ctx.plan, "groups", None) or []:
        ec2_name = (plan_group.instance_type or "").removeprefix("ml.")
        if result.get(ec2_name) is None and plan_group.efa_interfaces is not None:
            result[ec2_name] = plan_group.efa_interfaces > 0
    return result


@check(
    "network.efa-single-az",
    "Each group of an EFA instance type stays in one availability zone",
    Severity.CRITICAL,
)
def efa_single_az(ctx: CheckContext) -> list[Outcome]:
    groups = list(ctx.spec.instance_groups)
    if not groups or not ctx.spec.all_subnets:
        return [skipped("-", "no instance groups with subnets")]
    subnets = ctx.aws.subnets(ctx.spec.all_subnets)
    efa = efa_support(ctx, groups)
    out: list[Outcome] = []
    for group in groups:
        vpc = ctx.spec.vpc_for(group)
        if vpc is None or not vpc.subnets:
            out.append(skipped(group.name, "the group has no subnets"))
            continue
        flags = [efa.get(t) for t in group.ec2_types]
        if flags and all(f is False for f in flags):
            out.append(skipped(group.name, f"{', '.join(group.types)} has no EFA"))
            continue
        zones: dict[str, list[str]] = {}
        for sid in vpc.subnets:
            if sid in subnets:
                zones.setdefault(str(subnets[sid].get("AvailabilityZoneId")), []).append(sid)
        if len(zones) <= 1:
            zone = next(iter(zones), "?")
            if any(f is None for f in flags):
                out.append(
                    passed(
                        group.name,
                        f"group {group.name} is in one zone ({zone}) (EFA support unknown)",
                    )
                )
            else:
                out.append(passed(group.name, f"EFA group {group.name} is in one zone ({zone})"))
            continue
        spread = "; ".join(f"{z}: {', '.join(s)}" for z, s in sorted(zones.items()))
        if any(f is None for f in flags):
            out.append(
                unknown(
                    group.name,
                    f"group {group.name} spans zones ({spread}) and whether "
                    f"{', '.join(group.types)} uses EFA could not be read",
                    "Allow ec2:DescribeInstanceTypes, then run again.",
                )
            )
            continue
        out.append(
            failed(
                group.name,
                f"EFA group {group.name} ({', '.join(group.types)}) spans zones {spread}: EFA "
                f'traffic cannot cross zones. Expect: "{EFA_FAILURE}"',
                f"Give {group.name} subnets of one zone only, through its OverrideVpcConfig "
                "(InstanceGroups[].OverrideVpcConfig.Subnets), or trim VpcConfig.Subnets to "
                "one zone.",
                zones={z: s for z, s in zones.items()},
            )
        )
    return out


__all__ = [
    "EFA_FAILURE",
    "LIFECYCLE_FAILURE",
    "EgressPath",
    "cluster_vpc_id",
    "efa_support",
    "egress_paths",
]
