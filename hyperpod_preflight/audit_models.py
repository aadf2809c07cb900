"""The typed parts of the ``vpc`` and ``capacity`` reports (plain dataclasses, no I/O): what a
whole-VPC audit and a cross-region capacity scan found. :class:`~hyperpod_preflight.models.Report`
carries them in ``vpc_audit`` and ``capacity`` (fields added within schema 1.x), so
``hp-preflight schema`` describes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .results import SCHEMA_CONFIG


@dataclass(kw_only=True)
class SubnetAudit:
    """One subnet of the VPC, as a home for HyperPod nodes."""

    __pydantic_config__ = SCHEMA_CONFIG

    subnet_id: str
    name: str = ""
    zone: str = ""
    zone_id: str = ""
    cidr: str = ""
    free_addresses: int | None = None
    private: bool | None = None
    """None: could not tell."""
    public_reasons: list[str] = field(default_factory=list)
    route_table_id: str | None = None
    main_route_table: bool = False
    egress: str = "unknown"
    """nat, other (transit gateway, appliance …), endpoints (interface endpoints only),
    pending (NAT gateway being created), igw, none or unknown."""
    egress_target: str = ""
    egress_notes: list[str] = field(default_factory=list)
    s3_gateway_endpoint: bool | None = None
    candidate: bool | None = None
    """Private with a way out (NAT, other route or interface endpoints); None: could not
    tell."""
    problems: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    nodes: dict[str, dict[str, int]] = field(default_factory=dict)
    """instance type → orchestrator → nodes its free addresses hold."""
    offered: dict[str, bool | None] = field(default_factory=dict)
    """instance type → offered in the subnet's zone id."""


@dataclass(kw_only=True)
class GroupAudit:
    """One security group of the VPC, as the cluster's group."""

    __pydantic_config__ = SCHEMA_CONFIG

    group_id: str
    name: str = ""
    self_ingress: bool = False
    self_egress: bool = False
    egress_open_only: bool = False
    fsx_lustre: bool = False
    inbound_rules: int = 0
    outbound_rules: int = 0
    rule_limit: int = 60
    rule_limit_source: str = "fallback"
    problems: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)

    @property
    def efa_ready(self) -> bool:
        return self.self_ingress and self.self_egress


@dataclass(kw_only=True)
class Placement:
    """Where ``nodes`` × ``instance_type`` fit best in the VPC, or why nowhere."""

    __pydantic_config__ = SCHEMA_CONFIG

    instance_type: str
    nodes: int
    orchestrator: str
    ips_per_node: int | None = None
    addresses_needed: int | None = None
    subnet_id: str | None = None
    zone_id: str | None = None
    holds: int | None = None
    security_group_id: str | None = None
    ready: bool | None = None
    """None: could not tell."""
    alternatives: list[str] = field(default_factory=list)
    """Other subnets that hold the nodes, best first."""
    reasons: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class FixItem:
    """One thing to fix, with its command; the audit lists them most important first."""

    __pydantic_config__ = SCHEMA_CONFIG

    rank: int
    """0 blocks every cluster; higher matters less."""
    resource: str
    problem: str
    command: str


@dataclass(kw_only=True)
class VpcAudit:
    """The whole-VPC readiness audit of ``hp-preflight --vpc vpc-…``."""

    __pydantic_config__ = SCHEMA_CONFIG

    vpc_id: str
    exists: bool | None = None
    cidr: str = ""
    dns_support: bool | None = None
    dns_hostnames: bool | None = None
    internet_gateways: list[str] = field(default_factory=list)
    nat_gateways: dict[str, str] = field(default_factory=dict)
    """NAT gateway id → state."""
    s3_gateway_endpoints: list[str] = field(default_factory=list)
    interface_endpoints: list[str] = field(default_factory=list)
    """Service suffixes with a usable interface endpoint."""
    subnets: list[SubnetAudit] = field(default_factory=list)
    security_groups: list[GroupAudit] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    fix_first: list[FixItem] = field(default_factory=list)
    suggested_config: dict[str, Any] | None = None
    """A VpcConfig (and OverrideVpcConfig per group) to paste."""
    unknown: dict[str, str] = field(default_factory=dict)
    """fact → why it could not be read."""


@dataclass(kw_only=True)
class RegionCapacity:
    """One region's answer for ``count`` × ``instance_type``."""

    __pydantic_config__ = SCHEMA_CONFIG

    region: str
    status: str
    """ready (quota headroom and offered), quota (needs a quota increase), reservation (not
    offered / needs a training plan), unknown."""
    quota: int | None = None
    quota_source: str = ""
    in_use: int | None = None
    headroom: int | None = None
    zones_offered: list[str] = field(default_factory=list)
    """Zone ids."""
    offerings: list[dict[str, Any]] = field(default_factory=list)
    """Training-plan offerings that cover the count: id, start, duration hours, zones,
    upfront fee."""
    vpc_room: dict[str, int] | None = None
    """With --vpc: zone id → nodes the best subnet holds."""
    reasons: list[str] = field(default_factory=list)
    command: str = ""


@dataclass(kw_only=True)
class CapacityScan:
    """``hp-preflight capacity``: where ``count`` × ``instance_type`` can run, by region."""

    __pydantic_config__ = SCHEMA_CONFIG

    instance_type: str
    count: int
    orchestrator: str = "slurm"
    regions: list[RegionCapacity] = field(default_factory=list)
