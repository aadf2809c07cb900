"""The whole-VPC audit's reads, as data: which reader answers each part of a
:class:`~hyperpod_preflight.analysis.vpc_audit.VpcInventory`, and the inventory built from
what those readers answered (a read that failed is named in ``unknown``). Pure: ``aws`` is
anything answering the readers (the run's read-only view of what was gathered)."""

from __future__ import annotations

from typing import Any

from ..catalog import InstanceTypeInfo, from_ec2_description, lookup
from ..errors import FactUnavailable
from .vpc_audit import AuditRequest, VpcInventory

RULES_PER_SG_QUOTA = ("vpc", "L-0EA8095F")
DEFAULT_RULES_PER_DIRECTION = 60


def inventory_reads(vpc_id: str, request: AuditRequest) -> dict[str, tuple[str, tuple[Any, ...]]]:
    """Every read of the audit: name in the inventory → (reader, arguments)."""
    names = type_names(request)
    return {
        "vpc": ("vpc", (vpc_id,)),
        "dns_support": ("vpc_attribute", (vpc_id, "enableDnsSupport")),
        "dns_hostnames": ("vpc_attribute", (vpc_id, "enableDnsHostnames")),
        "subnets": ("vpc_subnets", (vpc_id,)),
        "security_groups": ("vpc_security_groups", (vpc_id,)),
        "route_tables": ("route_tables", ((vpc_id,),)),
        "nat_gateways": ("vpc_nat_gateways", (vpc_id,)),
        "internet_gateways": ("vpc_internet_gateways", (vpc_id,)),
        "endpoints": ("vpc_endpoints", (vpc_id,)),
        "types": ("instance_types", (names,)),
        "offerings": ("instance_type_offerings", (names,)),
        "rule_quota": ("quota_by_code", RULES_PER_SG_QUOTA),
    }


def type_names(request: AuditRequest) -> tuple[str, ...]:
    return tuple(t.removeprefix("ml.") for t in request.instance_types)


def inventory_from(aws: Any, vpc_id: str, request: AuditRequest) -> VpcInventory:
    """The inventory of what ``aws`` answers for the audit's reads."""
    got: dict[str, Any] = {}
    unknown: dict[str, str] = {}
    for name, (reader, args) in inventory_reads(vpc_id, request).items():
        try:
            got[name] = getattr(aws, reader)(*args)
        except FactUnavailable as exc:
            unknown[name] = exc.describe()
    types: dict[str, InstanceTypeInfo] = {}
    for name in type_names(request):
        described = (got.get("types") or {}).get(name)
        info = None
        if described is not None:
            try:
                info = from_ec2_description(described)
            except ValueError:
                info = None
        info = info or lookup(name)
        if info is not None:
            types[name] = info
    limit, source = DEFAULT_RULES_PER_DIRECTION, "fallback"
    quota = got.get("rule_quota")
    if quota is not None and quota.value is not None:
        limit, source = int(quota.value), str(quota.source)
    unknown.pop("rule_quota", None)  # advisory: the default stands in
    unknown.pop("types", None)  # the catalog stands in
    return VpcInventory(
        vpc_id=vpc_id,
        region=str(aws.region),
        vpc=got.get("vpc"),
        dns_support=got.get("dns_support"),
        dns_hostnames=got.get("dns_hostnames"),
        subnets=got.get("subnets"),
        security_groups=got.get("security_groups"),
        route_tables=got.get("route_tables"),
        nat_gateways=got.get("nat_gateways"),
        internet_gateways=got.get("internet_gateways"),
        endpoints=got.get("endpoints"),
        types=types,
        offerings=got.get("offerings"),
        rule_limit=limit,
        rule_limit_source=source,
        unknown=unknown,
    )
