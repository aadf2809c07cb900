"""The whole-VPC readiness audit, pure: given what was read about one VPC (its subnets,
security groups, route tables, NAT and internet gateways, endpoints, DNS attributes) and the
instance types asked, judge each subnet and security group as a home for HyperPod nodes,
place ``nodes`` of each type in the best subnet, list what to fix first (each with its
command) and suggest a ``VpcConfig`` to paste.

Rules (the same facts the ``network.*`` checks judge):

- A subnet is a *candidate* when it is private (no public IP mapping, no default route to an
  internet gateway) and has a way out: an available NAT gateway, another default-route
  target (transit gateway, appliance), or usable interface endpoints for every service nodes
  call (``ssm``, ``ssmmessages``, ``ec2messages``, ``logs``, ``sts``; EKS adds ``ecr.api``
  and ``ecr.dkr``). Its table should also hold the S3 gateway endpoint (else WARN).
- A node takes the planner's IP count (:func:`hyperpod_preflight.planner.ips_per_node`); a
  subnet holds ``free // ips`` nodes; a placement needs ``(nodes + headroom) × ips`` free.
- A security group is EFA-ready when one all-traffic (protocol -1) rule in each direction
  names the group itself among its pairs (every rule and every pair is looked at); its rules
  are judged by :mod:`hyperpod_preflight.analysis.security_groups`, as the checks judge them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..audit_models import FixItem, GroupAudit, Placement, SubnetAudit, VpcAudit
from ..catalog import InstanceTypeInfo
from ..planner import ips_per_node, min_subnet_prefix, usable_addresses
from ..records import SubnetRouteTable
from ..shell import command as shell_command
from .network import (
    default_route,
    egress_path,
    interface_endpoints,
    is_available,
    is_pending,
    no_public_ip_command,
    public_reasons,
    service_suffix,
)
from .security_groups import (
    DEFAULT_RULES_PER_DIRECTION,
    PERMISSIONS_KEY,
    closed_fsx_lustre_ports,
    egress_open_only,
    fsx_lustre_rule_command,
    near_rule_limit,
    rule_count,
    self_all_traffic,
    self_rule_command,
)

DEFAULT_AUDIT_TYPES = (
    "ml.p5.48xlarge",
    "ml.p5en.48xlarge",
    "ml.p4d.24xlarge",
    "ml.g5.48xlarge",
    "ml.trn1.32xlarge",
)
BASE_INTERFACE_SERVICES = ("ssm", "ssmmessages", "ec2messages", "logs", "sts")
EKS_INTERFACE_SERVICES = ("ecr.api", "ecr.dkr")
ORCHESTRATORS = ("slurm", "eks")


@dataclass(frozen=True)
class VpcInventory:
    """What was read about one VPC (plain ``Describe*`` entries). A fact that could not be
    read is None here and named in ``unknown`` with the reason."""

    vpc_id: str
    region: str
    vpc: dict[str, Any] | None = None
    dns_support: bool | None = None
    dns_hostnames: bool | None = None
    subnets: list[dict[str, Any]] | None = None
    security_groups: list[dict[str, Any]] | None = None
    route_tables: list[dict[str, Any]] | None = None
    nat_gateways: dict[str, dict[str, Any]] | None = None
    internet_gateways: list[dict[str, Any]] | None = None
    endpoints: list[dict[str, Any]] | None = None
    types: dict[str, InstanceTypeInfo] = field(default_factory=dict)
    offerings: dict[str, frozenset[str]] | None = None
    rule_limit: int = DEFAULT_RULES_PER_DIRECTION
    rule_limit_source: str = "fallback"
    unknown: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRequest:
    """What the user asked: types (``ml.`` names), nodes per type, orchestrator."""

    instance_types: tuple[str, ...] = DEFAULT_AUDIT_TYPES
    nodes: int = 4
    orchestrator: str = "slurm"
    ip_headroom: int = 1
    fsx: bool = False


# -- route tables and endpoints ---------------------------------------------------------------
def resolve_route_tables(
    subnets: Iterable[dict[str, Any]], tables: Iterable[dict[str, Any]]
) -> dict[str, SubnetRouteTable]:
    """Each subnet's route table: its explicit association, else the VPC's main table."""
    explicit: dict[str, dict[str, Any]] = {}
    main: dict[str, dict[str, Any]] = {}
    for table in tables:
        for assoc in table.get("Associations", []):
            state = assoc.get("AssociationState", {}).get("State", "associated")
            if state not in ("associated", "associating"):
                continue
            if assoc.get("Main"):
                main[str(table.get("VpcId", ""))] = table
            elif assoc.get("SubnetId"):
                explicit[str(assoc["SubnetId"])] = table
    out: dict[str, SubnetRouteTable] = {}
    for subnet in subnets:
        sid = str(subnet.get("SubnetId", ""))
        if sid in explicit:
            out[sid] = SubnetRouteTable(sid, explicit[sid], implicit=False)
        elif str(subnet.get("VpcId", "")) in main:
            out[sid] = SubnetRouteTable(sid, main[str(subnet["VpcId"])], implicit=True)
    return out


def s3_gateway_endpoints(endpoints: Iterable[dict[str, Any]], region: str) -> list[dict[str, Any]]:
    """The VPC's S3 gateway endpoints that are available or on their way."""
    return [
        ep
        for ep in endpoints
        if ep.get("VpcEndpointType") == "Gateway"
        and service_suffix(str(ep.get("ServiceName", "")), region) == "s3"
        and (is_available(ep) or is_pending(ep))
    ]


# -- security groups ---------------------------------------------------------------------------
def audit_group(
    group: dict[str, Any],
    *,
    vpc_cidrs: list[ipaddress.IPv4Network],
    rule_limit: int,
    rule_limit_source: str,
    fsx: bool,
) -> GroupAudit:
    """Judge one security group as the cluster's group."""
    gid = str(group.get("GroupId", ""))
    inbound = group.get(PERMISSIONS_KEY["ingress"], [])
    outbound = group.get(PERMISSIONS_KEY["egress"], [])
    audit = GroupAudit(
        group_id=gid,
        name=str(group.get("GroupName", "")),
        self_ingress=self_all_traffic(inbound, gid),
        self_egress=self_all_traffic(outbound, gid),
        egress_open_only=egress_open_only(outbound),
        fsx_lustre=not any(
            closed_fsx_lustre_ports(perms, gid, vpc_cidrs) for perms in (inbound, outbound)
        ),
        inbound_rules=rule_count(inbound),
        outbound_rules=rule_count(outbound),
        rule_limit=rule_limit,
        rule_limit_source=rule_limit_source,
    )
    if not audit.self_ingress:
        audit.problems.append("no all-traffic inbound rule from itself (EFA)")
        audit.fixes.append(self_rule_command("ingress", gid))
    if not audit.self_egress:
        audit.problems.append("no all-traffic outbound rule to itself (EFA)")
        audit.fixes.append(self_rule_command("egress", gid))
    elif audit.egress_open_only:
        audit.problems.append("the only outbound rule is 0.0.0.0/0")
    if fsx and not audit.fsx_lustre:
        audit.problems.append("FSx for Lustre ports (TCP 988, 1018-1023) not open within it")
        for direction in PERMISSIONS_KEY:
            audit.fixes.append(fsx_lustre_rule_command(direction, gid))
    worst = max(audit.inbound_rules, audit.outbound_rules)
    if near_rule_limit(worst, rule_limit):
        audit.problems.append(f"{worst} rules in one direction, near the limit of {rule_limit}")
    return audit


# -- subnets -----------------------------------------------------------------------------------
def _name_tag(resource: dict[str, Any]) -> str:
    for tag in resource.get("Tags") or []:
        if tag.get("Key") == "Name":
            return str(tag.get("Value", ""))
    return ""


def audit_subnet(
    subnet: dict[str, Any],
    table: SubnetRouteTable | None,
    inventory: VpcInventory,
    request: AuditRequest,
    s3_tables: frozenset[str],
    endpoint_services: frozenset[str],
) -> SubnetAudit:
    """Judge one subnet as a home for nodes, and count the nodes it holds per type."""
    sid = str(subnet.get("SubnetId", ""))
    free = subnet.get("AvailableIpAddressCount")
    audit = SubnetAudit(
        subnet_id=sid,
        name=_name_tag(subnet),
        zone=str(subnet.get("AvailabilityZone", "")),
        zone_id=str(subnet.get("AvailabilityZoneId", "")),
        cidr=str(subnet.get("CidrBlock", "")),
        free_addresses=int(free) if free is not None else None,
    )
    if table is None and inventory.route_tables is None:
        audit.problems.append("route tables could not be read")
    elif table is None:
        audit.problems.append("no route table governs it (no explicit association, no main)")
    reasons = public_reasons(subnet, table)
    audit.public_reasons = reasons
    audit.private = not reasons if (table is not None or reasons) else None
    if table is not None:
        audit.route_table_id = table.route_table_id
        audit.main_route_table = table.implicit
        audit.s3_gateway_endpoint = (
            table.route_table_id in s3_tables if inventory.endpoints is not None else None
        )
        if inventory.nat_gateways is not None:
            path = egress_path(table, inventory.nat_gateways)
            audit.egress, audit.egress_target = path.kind, path.target
            audit.egress_notes = list(path.notes)
    wanted = set(BASE_INTERFACE_SERVICES)
    if request.orchestrator == "eks":
        wanted |= set(EKS_INTERFACE_SERVICES)
    endpoints_unread = audit.egress == "none" and inventory.endpoints is None
    if endpoints_unread:  # interface endpoints alone may give it a way out
        audit.egress = "unknown"
    elif audit.egress in ("none", "igw") and wanted <= endpoint_services:
        audit.egress = "endpoints"
    audit.candidate = _candidate(audit)
    _subnet_problems(audit, subnet, table, inventory, request)
    if endpoints_unread:
        audit.problems.append(
            "no 0.0.0.0/0 route, and the interface endpoints could not be read "
            "(ec2:DescribeVpcEndpoints)"
        )
    for itype in request.instance_types:
        info = inventory.types.get(itype.removeprefix("ml."))
        if info is not None and audit.free_addresses is not None:
            audit.nodes[itype] = {
                orch: audit.free_addresses // max(1, ips_per_node(info, orch))
                for orch in ORCHESTRATORS
            }
        if inventory.offerings is not None:
            zones = inventory.offerings.get(itype.removeprefix("ml."), frozenset())
            audit.offered[itype] = audit.zone_id in zones
        else:
            audit.offered[itype] = None
    return audit


def _candidate(audit: SubnetAudit) -> bool | None:
    if audit.private is False:
        return False
    if audit.egress in ("none", "igw", "pending"):
        return False
    if audit.private is None or audit.egress == "unknown":
        return None
    return True


def _subnet_problems(
    audit: SubnetAudit,
    subnet: dict[str, Any],
    table: SubnetRouteTable | None,
    inventory: VpcInventory,
    request: AuditRequest,
) -> None:
    sid = audit.subnet_id
    if audit.public_reasons:
        audit.problems.append("public: " + "; ".join(audit.public_reasons))
        if subnet.get("MapPublicIpOnLaunch"):
            audit.fixes.append(no_public_ip_command(sid))
    if audit.egress in ("none", "igw"):
        audit.problems.append("no egress: " + "; ".join(audit.egress_notes or ["no way out"]))
        nat = next(
            (n for n, v in (inventory.nat_gateways or {}).items() if v.get("State") == "available"),
            None,
        )
        if table is not None and nat and audit.private:
            # a default route already there (blackhole, deleted or private NAT) is replaced
            verb = "replace-route" if default_route(table) is not None else "create-route"
            audit.fixes.append(
                shell_command(
                    "aws",
                    "ec2",
                    verb,
                    "--route-table-id",
                    table.route_table_id,
                    "--destination-cidr-block",
                    "0.0.0.0/0",
                    "--nat-gateway-id",
                    nat,
                )
                if audit.egress == "none" and not table.implicit
                else shell_command("aws", "ec2", "associate-route-table", "--subnet-id", sid)
                + " --route-table-id <route table with 0.0.0.0/0 → a NAT gateway>"
            )
    elif audit.egress == "pending":
        audit.problems.append(f"NAT gateway {audit.egress_target} is still pending")
    if audit.candidate and audit.s3_gateway_endpoint is False:
        audit.problems.append("no S3 gateway endpoint on its route table")
        gateways = s3_gateway_endpoints(inventory.endpoints or [], inventory.region)
        if gateways and table is not None:
            audit.fixes.append(
                shell_command(
                    "aws",
                    "ec2",
                    "modify-vpc-endpoint",
                    "--vpc-endpoint-id",
                    gateways[0]["VpcEndpointId"],
                    "--add-route-table-ids",
                    table.route_table_id,
                )
            )
        elif table is not None:
            audit.fixes.append(
                shell_command(
                    "aws",
                    "ec2",
                    "create-vpc-endpoint",
                    "--vpc-id",
                    inventory.vpc_id,
                    "--vpc-endpoint-type",
                    "Gateway",
                    "--service-name",
                    f"com.amazonaws.{inventory.region}.s3",
                    "--route-table-ids",
                    table.route_table_id,
                )
            )


# -- placement ---------------------------------------------------------------------------------
def _subnet_rank(s: SubnetAudit) -> tuple[int, int]:
    return (0 if s.s3_gateway_endpoint else 1, -(s.free_addresses or 0))


@dataclass
class _SubnetFit:
    """The candidate subnets sorted by whether ``needed`` addresses fit, best first."""

    fits: list[SubnetAudit] = field(default_factory=list)
    elsewhere: list[SubnetAudit] = field(default_factory=list)  # room, but type not offered there
    unsure: list[SubnetAudit] = field(default_factory=list)  # free addresses or egress not told


def _fit_subnets(itype: str, subnets: list[SubnetAudit], needed: int) -> _SubnetFit:
    fit = _SubnetFit()
    for s in sorted(subnets, key=_subnet_rank):
        if s.candidate is False:
            continue
        if s.offered.get(itype) is False:
            if s.candidate and (s.free_addresses or 0) >= needed:
                fit.elsewhere.append(s)
            continue
        if s.free_addresses is not None and s.free_addresses < needed:
            continue
        if s.free_addresses is None or s.candidate is None:
            fit.unsure.append(s)
            continue
        fit.fits.append(s)
    return fit


def _efa_groups(groups: list[GroupAudit]) -> list[GroupAudit]:
    """The groups EFA traffic can use, those with the fewest problems first."""
    return sorted(
        (g for g in groups if g.efa_ready), key=lambda g: (g.egress_open_only, len(g.problems))
    )


def _take_best(placement: Placement, fits: list[SubnetAudit], ips: int) -> None:
    best = fits[0]
    placement.subnet_id, placement.zone_id = best.subnet_id, best.zone_id
    placement.holds = (best.free_addresses or 0) // ips
    placement.alternatives = [s.subnet_id for s in fits[1:4]]


def _no_room_reason(
    itype: str,
    elsewhere: list[SubnetAudit],
    inventory: VpcInventory,
    request: AuditRequest,
    ips: int,
    needed: int,
) -> str:
    """Why no subnet holds the nodes: the type is not offered where there is room, or no room."""
    if elsewhere:
        zones = sorted((inventory.offerings or {}).get(itype.removeprefix("ml."), frozenset()))
        roomy = ", ".join(sorted({s.zone_id for s in elsewhere}))
        return (
            f"{itype} is not offered in zone {roomy}"
            f" of the subnets with room (offered in: {', '.join(zones) or 'no zone'})"
        )
    return (
        f"no private subnet with egress has {needed} free addresses ({request.nodes} + "
        f"{request.ip_headroom} nodes × {ips} IPs, {request.orchestrator})"
    )


def _explain_groups(
    placement: Placement, efa_groups: list[GroupAudit], inventory: VpcInventory
) -> None:
    if inventory.security_groups is None:
        placement.reasons.append(
            "the VPC's security groups could not be read (ec2:DescribeSecurityGroups)"
        )
    elif not efa_groups:
        placement.reasons.append("no security group allows all traffic to and from itself (EFA)")
        placement.fixes.append(_new_group_commands(inventory.vpc_id))


def _explain_unknowns(
    placement: Placement, fit: _SubnetFit, inventory: VpcInventory, needed: int
) -> None:
    """Reasons without a fix: they come last, as fix_first pairs reasons[i] with fixes[i]."""
    if inventory.subnets is None:
        placement.reasons.append("the VPC's subnets could not be read (ec2:DescribeSubnets)")
    elif fit.unsure and not fit.fits:
        placement.reasons.append(
            "could not tell whether "
            + ", ".join(s.subnet_id for s in fit.unsure)
            + f" can hold them: its way out or free addresses could not be told ({needed} needed)"
        )
    if inventory.dns_support is False or inventory.dns_hostnames is False:
        placement.reasons.append("the VPC's DNS support or DNS hostnames are off")


def _readiness(
    placement: Placement, fit: _SubnetFit, has_efa_group: bool, inventory: VpcInventory
) -> bool | None:
    """True: a subnet and a group with nothing against them; None: could not tell."""
    if fit.fits and has_efa_group and not placement.reasons:
        return True
    if ((fit.unsure or inventory.subnets is None) and not fit.fits) or (
        inventory.security_groups is None
    ):
        return None
    return False


def place(
    itype: str,
    subnets: list[SubnetAudit],
    groups: list[GroupAudit],
    inventory: VpcInventory,
    request: AuditRequest,
) -> Placement:
    """The best subnet and security group for ``request.nodes`` of ``itype``."""
    placement = Placement(
        instance_type=itype, nodes=request.nodes, orchestrator=request.orchestrator
    )
    info = inventory.types.get(itype.removeprefix("ml."))
    if info is None:
        placement.reasons.append(f"{itype} could not be sized (DescribeInstanceTypes)")
        return placement
    ips = ips_per_node(info, request.orchestrator)
    needed = (request.nodes + request.ip_headroom) * ips
    placement.ips_per_node, placement.addresses_needed = ips, needed
    fit = _fit_subnets(itype, subnets, needed)
    efa_groups = _efa_groups(groups)
    if efa_groups:
        placement.security_group_id = efa_groups[0].group_id
    if fit.fits:
        _take_best(placement, fit.fits, ips)
    elif inventory.subnets is not None and not fit.unsure:
        placement.reasons.append(
            _no_room_reason(itype, fit.elsewhere, inventory, request, ips, needed)
        )
        placement.fixes.append(_new_subnet_command(itype, needed, subnets, inventory))
    _explain_groups(placement, efa_groups, inventory)
    _explain_unknowns(placement, fit, inventory, needed)
    placement.ready = _readiness(placement, fit, bool(efa_groups), inventory)
    return placement


def _new_subnet_command(
    itype: str, needed: int, subnets: list[SubnetAudit], inventory: VpcInventory
) -> str:
    prefix = min_subnet_prefix(needed)
    zones = sorted((inventory.offerings or {}).get(itype.removeprefix("ml."), frozenset()))
    zone = zones[0] if zones else (subnets[0].zone_id if subnets else "<zone-id>")
    return (
        shell_command(
            "aws",
            "ec2",
            "create-subnet",
            "--vpc-id",
            inventory.vpc_id,
            "--availability-zone-id",
            zone,
        )
        + f" --cidr-block <free /{prefix} of the VPC ({usable_addresses(prefix)} usable)>, then "
        "associate it with a route table whose 0.0.0.0/0 goes to a NAT gateway"
    )


def _new_group_commands(vpc_id: str) -> str:
    create = shell_command(
        "aws",
        "ec2",
        "create-security-group",
        "--vpc-id",
        vpc_id,
        "--group-name",
        "hyperpod-efa",
        "--description",
        "HyperPod EFA",
        "--query",
        "GroupId",
        "--output",
        "text",
    )
    # "$SG" is the new group's id, as EC2 printed it: expanded by the shell, in double quotes.
    rules = (
        f'aws ec2 authorize-security-group-{direction} --group-id "$SG" '
        '--ip-permissions "IpProtocol=-1,UserIdGroupPairs=[{GroupId=$SG}]"'
        for direction in ("ingress", "egress")
    )
    return f"SG=$({create}); " + "; ".join(rules)


# -- the whole audit ---------------------------------------------------------------------------
def audit_vpc(inventory: VpcInventory, request: AuditRequest) -> VpcAudit:
    """Judge every subnet and group of the VPC, place each type, rank the fixes."""
    vpc = inventory.vpc or {}
    audit = VpcAudit(
        vpc_id=inventory.vpc_id,
        exists=None if "vpc" in inventory.unknown else inventory.vpc is not None,
        cidr=str(vpc.get("CidrBlock", "")),
        dns_support=inventory.dns_support,
        dns_hostnames=inventory.dns_hostnames,
        internet_gateways=[
            str(g.get("InternetGatewayId")) for g in inventory.internet_gateways or []
        ],
        nat_gateways={
            n: str(v.get("State", "?")) for n, v in (inventory.nat_gateways or {}).items()
        },
        unknown=dict(inventory.unknown),
    )
    endpoints = inventory.endpoints or []
    gateways = s3_gateway_endpoints(endpoints, inventory.region)
    audit.s3_gateway_endpoints = [str(ep.get("VpcEndpointId")) for ep in gateways]
    s3_tables = frozenset(str(t) for ep in gateways for t in ep.get("RouteTableIds", []))
    usable = interface_endpoints(endpoints, inventory.region).usable
    audit.interface_endpoints = sorted(usable)
    tables = resolve_route_tables(inventory.subnets or [], inventory.route_tables or [])
    audit.subnets = [
        audit_subnet(
            s, tables.get(str(s.get("SubnetId"))), inventory, request, s3_tables, frozenset(usable)
        )
        for s in sorted(
            inventory.subnets or [],
            key=lambda s: (str(s.get("AvailabilityZoneId", "")), str(s.get("SubnetId"))),
        )
    ]
    cidrs = _vpc_cidrs(vpc)
    audit.security_groups = [
        audit_group(
            g,
            vpc_cidrs=cidrs,
            rule_limit=inventory.rule_limit,
            rule_limit_source=inventory.rule_limit_source,
            fsx=request.fsx,
        )
        for g in sorted(inventory.security_groups or [], key=lambda g: str(g.get("GroupId")))
    ]
    if audit.exists is not False:
        audit.placements = [
            place(t, audit.subnets, audit.security_groups, inventory, request)
            for t in request.instance_types
        ]
    audit.fix_first = fix_first(audit, inventory)
    audit.suggested_config = suggest_config(audit)
    return audit


def _vpc_cidrs(vpc: Mapping[str, Any]) -> list[ipaddress.IPv4Network]:
    blocks = [str(a.get("CidrBlock", "")) for a in vpc.get("CidrBlockAssociationSet") or []]
    blocks = blocks or [str(vpc.get("CidrBlock", ""))]
    out = []
    for block in blocks:
        try:
            out.append(ipaddress.IPv4Network(block, strict=False))
        except ValueError:
            continue
    return out


def fix_first(audit: VpcAudit, inventory: VpcInventory) -> list[FixItem]:
    """What to fix, most important first: what blocks every cluster (DNS, no EFA group),
    then what blocks a type's placement, then what degrades a chosen subnet."""
    items: list[FixItem] = []
    for attribute, value in (
        ("enable-dns-support", audit.dns_support),
        ("enable-dns-hostnames", audit.dns_hostnames),
    ):
        if value is False:
            items.append(
                FixItem(
                    rank=0,
                    resource=audit.vpc_id,
                    problem=f"{attribute} is off",
                    command=shell_command(
                        "aws",
                        "ec2",
                        "modify-vpc-attribute",
                        "--vpc-id",
                        audit.vpc_id,
                        f"--{attribute}",
                    ),
                )
            )
    seen: set[str] = set()
    for p in audit.placements:
        for reason, command in zip(p.reasons, p.fixes, strict=False):
            if command in seen:
                continue
            seen.add(command)
            rank = 1 if "security group" in reason else 2
            items.append(
                FixItem(rank=rank, resource=p.instance_type, problem=reason, command=command)
            )
    chosen = {p.subnet_id for p in audit.placements if p.subnet_id}
    for s in audit.subnets:
        if s.subnet_id in chosen:
            for problem, command in zip(s.problems, s.fixes, strict=False):
                items.append(
                    FixItem(rank=3, resource=s.subnet_id, problem=problem, command=command)
                )
    return sorted(items, key=lambda i: i.rank)


def suggest_config(audit: VpcAudit) -> dict[str, Any] | None:
    """A ``VpcConfig`` for the first placed type, and an ``OverrideVpcConfig`` per group whose
    type is best placed in another zone; None when nothing can be placed."""
    placed = [p for p in audit.placements if p.subnet_id and p.security_group_id]
    if not placed:
        return None
    first = placed[0]
    sgs = [first.security_group_id or ""]
    config: dict[str, Any] = {
        "VpcConfig": {"SecurityGroupIds": sgs, "Subnets": [first.subnet_id]},
        "InstanceGroups": [],
    }
    for p in placed:
        group: dict[str, Any] = {
            "InstanceGroupName": p.instance_type.removeprefix("ml.").replace(".", "-"),
            "InstanceType": p.instance_type,
            "InstanceCount": p.nodes,
        }
        if p.zone_id != first.zone_id:
            group["OverrideVpcConfig"] = {"SecurityGroupIds": sgs, "Subnets": [p.subnet_id]}
        config["InstanceGroups"].append(group)
    return config
