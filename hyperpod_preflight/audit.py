"""`hp-preflight --vpc vpc-…` without a config: the whole-VPC readiness audit.

Reads one VPC's resources at once (every read filtered by ``vpc-id``, so the call count
grows with the VPC, never with the account), hands them to the pure
:mod:`hyperpod_preflight.analysis.vpc_audit`, and turns its verdicts into a report of kind
``vpc``: one finding per subnet, security group and asked instance type, plus the typed
audit (tables, ranked fixes, a suggested ``VpcConfig``) in ``Report.vpc_audit``.

Finding ids of this report (stable): ``vpc.exists``, ``vpc.dns``, ``vpc.read`` (a fact that
could not be read), ``vpc.subnet``, ``vpc.security-group``, ``vpc.placement``. Only
``vpc.exists``, ``vpc.dns`` and ``vpc.placement`` FAIL: a VPC normally holds public
subnets and groups of other uses, so a subnet or group that is no home for nodes is a WARN.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import __version__
from .analysis.vpc_audit import DEFAULT_AUDIT_TYPES, AuditRequest, VpcInventory, audit_vpc
from .audit_models import VpcAudit
from .catalog import InstanceTypeInfo, from_ec2_description, lookup
from .errors import FactUnavailable, InputError
from .models import Finding, Report, Severity, Status
from .runner import FailOn, Selection, apply_ignores, summarize
from .shell import command

AUDIT_IDS = (
    "vpc.exists",
    "vpc.dns",
    "vpc.read",
    "vpc.subnet",
    "vpc.security-group",
    "vpc.placement",
)
RULES_PER_SG_QUOTA = ("vpc", "L-0EA8095F")
DEFAULT_RULES_PER_DIRECTION = 60


def read_inventory(facts: Any, vpc_id: str, instance_types: Sequence[str]) -> VpcInventory:
    """Every read of the audit, all at once; a read that fails is named in ``unknown``."""
    names = tuple(t.removeprefix("ml.") for t in instance_types)
    reads: dict[str, Callable[[], Any]] = {
        "vpc": lambda: facts.vpc(vpc_id),
        "dns_support": lambda: facts.vpc_attribute(vpc_id, "enableDnsSupport"),
        "dns_hostnames": lambda: facts.vpc_attribute(vpc_id, "enableDnsHostnames"),
        "subnets": lambda: facts.vpc_subnets(vpc_id),
        "security_groups": lambda: facts.vpc_security_groups(vpc_id),
        "route_tables": lambda: facts.route_tables([vpc_id]),
        "nat_gateways": lambda: facts.vpc_nat_gateways(vpc_id),
        "internet_gateways": lambda: facts.vpc_internet_gateways(vpc_id),
        "endpoints": lambda: facts.vpc_endpoints(vpc_id),
        "types": lambda: facts.instance_types(names),
        "offerings": lambda: facts.instance_type_offerings(names),
        "rule_quota": lambda: facts.quota_by_code(*RULES_PER_SG_QUOTA),
    }
    got: dict[str, Any] = {}
    unknown: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=len(reads), thread_name_prefix="vpc-audit") as pool:
        futures = {name: pool.submit(read) for name, read in reads.items()}
        for name, future in futures.items():
            try:
                got[name] = future.result()
            except FactUnavailable as exc:
                unknown[name] = exc.describe()
    types: dict[str, InstanceTypeInfo] = {}
    for name in names:
        described = (got.get("types") or {}).get(name)
        info = None
        if described is not None:
            try:
                info = from_ec2_description(described)
            except ValueError:
                info = None
        types[name] = info or lookup(name)  # type: ignore[assignment]
    types = {k: v for k, v in types.items() if v is not None}
    limit, source = DEFAULT_RULES_PER_DIRECTION, "fallback"
    quota = got.get("rule_quota")
    if quota is not None and quota.value is not None:
        limit, source = int(quota.value), str(quota.source)
    unknown.pop("rule_quota", None)  # advisory: the default stands in
    unknown.pop("types", None)  # the catalog stands in
    return VpcInventory(
        vpc_id=vpc_id,
        region=str(facts.region),
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


def run_vpc_audit(
    vpc_id: str,
    *,
    session: Any = None,
    facts: Any = None,
    profile: str | None = None,
    region: str | None = None,
    instance_types: Sequence[str] = (),
    nodes: int = 4,
    orchestrator: str | None = None,
    ip_headroom: int = 1,
    fsx: bool = False,
    ignore: Sequence[str] = (),
    fail_on: str = "fail",
    retry_mode: str = "standard",
    max_attempts: int = 10,
) -> Report:
    """Audit ``vpc_id`` as a home for ``nodes`` × each of ``instance_types``."""
    if fail_on not in ("fail", "warn", "unknown"):
        raise InputError(f"--fail-on {fail_on!r}: choose fail, warn or unknown")
    areas = {i.split(".", 1)[0] for i in AUDIT_IDS}
    for given in ignore:
        if given != "all" and given not in AUDIT_IDS and given not in areas:
            raise InputError(
                f"--ignore: {given!r} is not a finding id of the VPC audit ({', '.join(AUDIT_IDS)})"
            )
    types = tuple(dict.fromkeys(f"ml.{t.removeprefix('ml.')}" for t in instance_types))
    request = AuditRequest(
        instance_types=types or DEFAULT_AUDIT_TYPES,
        nodes=nodes,
        orchestrator=orchestrator or "slurm",
        ip_headroom=ip_headroom,
        fsx=fsx,
    )
    started = time.perf_counter()
    if facts is None:
        from .preflight import connect

        facts = connect(
            session,
            profile=profile,
            region=region,
            retry_mode=retry_mode,
            max_attempts=max_attempts,
        )
    inventory = read_inventory(facts, vpc_id, request.instance_types)
    audit = audit_vpc(inventory, request)
    level: FailOn = fail_on  # type: ignore[assignment]
    selection = Selection(ignore=list(ignore), fail_on=level)
    findings = apply_ignores(audit_findings(audit, request), selection)
    return Report(
        tool_version=__version__,
        kind="vpc",
        target=f"{vpc_id} (from --vpc)",
        region=getattr(facts, "region", None),
        account=getattr(facts, "account", None),
        duration_s=round(time.perf_counter() - started, 3),
        api_calls=getattr(facts, "call_count", None),
        results=findings,
        summary=summarize(findings, level),
        vpc_audit=audit,
    )


_TITLES = {
    "vpc.exists": "The VPC exists",
    "vpc.dns": "The VPC has DNS support and DNS hostnames on",
    "vpc.read": "The audit could read the VPC's resources",
    "vpc.subnet": "The subnet can hold HyperPod nodes (private, egress, S3 endpoint)",
    "vpc.security-group": "The security group is EFA-ready (all traffic to and from itself)",
    "vpc.placement": "The asked nodes fit a subnet and security group of the VPC",
}


def _finding(
    check_id: str,
    status: Status,
    severity: Severity,
    resource: str,
    message: str,
    remediation: str = "",
    **details: Any,
) -> Finding:
    return Finding(
        check_id=check_id,
        area="vpc",
        status=status,
        severity=severity,
        resource=resource,
        message=message,
        remediation=remediation,
        details=details,
        title=_TITLES[check_id],
    )


def audit_findings(audit: VpcAudit, request: AuditRequest) -> list[Finding]:
    """One finding per VPC fact, subnet, security group and asked instance type."""
    vpc = f"VPC {audit.vpc_id} (from --vpc)"
    out: list[Finding] = []
    for fact, reason in audit.unknown.items():
        out.append(
            _finding(
                "vpc.read",
                Status.UNKNOWN,
                Severity.HIGH,
                fact,
                f"could not tell: {reason}",
                "Grant the action named (see policies/hp-preflight-readonly.json), then run again.",
            )
        )
    if audit.exists is False:
        out.append(
            _finding(
                "vpc.exists",
                Status.FAIL,
                Severity.CRITICAL,
                audit.vpc_id,
                f"The VPC '{audit.vpc_id}' (from --vpc) does not exist in this region.",
                "Check the id and --region; list VPCs with `aws ec2 describe-vpcs`.",
            )
        )
        return out
    if audit.exists:
        out.append(
            _finding(
                "vpc.exists",
                Status.PASS,
                Severity.CRITICAL,
                audit.vpc_id,
                f"{vpc} exists ({audit.cidr}): {len(audit.subnets)} subnets, "
                f"{len(audit.security_groups)} security groups",
            )
        )
    out.append(_dns_finding(audit, vpc))
    out += [_subnet_finding(s, request) for s in audit.subnets]
    out += [_group_finding(g, request) for g in audit.security_groups]
    out += [_placement_finding(p, vpc) for p in audit.placements]
    return out


def _dns_finding(audit: VpcAudit, vpc: str) -> Finding:
    values = {"enableDnsSupport": audit.dns_support, "enableDnsHostnames": audit.dns_hostnames}
    off = [name for name, v in values.items() if v is False]
    if off:
        fixes = "; ".join(
            command(
                "aws",
                "ec2",
                "modify-vpc-attribute",
                "--vpc-id",
                audit.vpc_id,
                "--" + "".join(f"-{c.lower()}" if c.isupper() else c for c in name),
            )
            for name in off
        )
        return _finding(
            "vpc.dns",
            Status.FAIL,
            Severity.HIGH,
            audit.vpc_id,
            f"{' and '.join(off)} off in {vpc}: nodes cannot resolve each other, endpoints' "
            "private DNS or FSx names",
            fixes,
        )
    if any(v is None for v in values.values()):
        return _finding(
            "vpc.dns",
            Status.UNKNOWN,
            Severity.HIGH,
            audit.vpc_id,
            f"could not tell the DNS attributes of {vpc} (ec2:DescribeVpcAttribute)",
        )
    return _finding(
        "vpc.dns",
        Status.PASS,
        Severity.HIGH,
        audit.vpc_id,
        f"enableDnsSupport and enableDnsHostnames are on in {vpc}",
    )


def _subnet_finding(s: Any, request: AuditRequest) -> Finding:
    where = f"{s.zone_id} ({s.zone}), {s.cidr}, {s.free_addresses} free"
    fix = "; ".join(s.fixes)
    details = {"zone_id": s.zone_id, "free": s.free_addresses, "nodes": s.nodes}
    if s.candidate is None:
        return _finding(
            "vpc.subnet",
            Status.UNKNOWN,
            Severity.MEDIUM,
            s.subnet_id,
            f"could not tell whether {s.subnet_id} can hold nodes ({where}): "
            + "; ".join(s.problems or ["its route table or NAT gateways were not read"]),
            fix,
            **details,
        )
    if not s.candidate:
        return _finding(
            "vpc.subnet",
            Status.WARN,
            Severity.INFO,
            s.subnet_id,
            f"{s.subnet_id} ({where}) is no home for HyperPod nodes: " + "; ".join(s.problems),
            fix,
            **details,
        )
    holds = ", ".join(
        f"{t.removeprefix('ml.')} {n[request.orchestrator]}" for t, n in s.nodes.items()
    )
    if s.problems:
        return _finding(
            "vpc.subnet",
            Status.WARN,
            Severity.MEDIUM,
            s.subnet_id,
            f"{s.subnet_id} ({where}) can hold nodes ({holds}) but: " + "; ".join(s.problems),
            fix,
            **details,
        )
    return _finding(
        "vpc.subnet",
        Status.PASS,
        Severity.MEDIUM,
        s.subnet_id,
        f"{s.subnet_id} ({where}) is private, egress {s.egress} {s.egress_target}".rstrip()
        + f", S3 gateway endpoint on its table; holds {holds} ({request.orchestrator})",
        **details,
    )


def _group_finding(g: Any, request: AuditRequest) -> Finding:
    rules = f"{g.inbound_rules} in / {g.outbound_rules} out of {g.rule_limit}"
    details = {"inbound_rules": g.inbound_rules, "outbound_rules": g.outbound_rules}
    if g.problems:
        return _finding(
            "vpc.security-group",
            Status.WARN,
            Severity.INFO if not g.efa_ready else Severity.MEDIUM,
            g.group_id,
            f"{g.group_id} ({g.name}, {rules} rules): " + "; ".join(g.problems),
            "; ".join(g.fixes),
            **details,
        )
    fsx = ", FSx for Lustre ports open" if request.fsx else ""
    return _finding(
        "vpc.security-group",
        Status.PASS,
        Severity.MEDIUM,
        g.group_id,
        f"{g.group_id} ({g.name}) is EFA-ready{fsx} ({rules} rules)",
        **details,
    )


def _placement_finding(p: Any, vpc: str) -> Finding:
    what = f"{p.nodes} × {p.instance_type} ({p.orchestrator})"
    details = {"subnet": p.subnet_id, "security_group": p.security_group_id, "holds": p.holds}
    if p.ready:
        return _finding(
            "vpc.placement",
            Status.PASS,
            Severity.CRITICAL,
            p.instance_type,
            f"{what} fit {p.subnet_id} ({p.zone_id}, holds {p.holds}) with {p.security_group_id}"
            f" in {vpc}",
            **details,
        )
    status = Status.UNKNOWN if p.ready is None else Status.FAIL
    prefix = "could not tell whether " if p.ready is None else ""
    return _finding(
        "vpc.placement",
        status,
        Severity.CRITICAL,
        p.instance_type,
        f"{prefix}{what} fit {vpc}: " + "; ".join(p.reasons or ["nothing could be read"]),
        "; ".join(p.fixes),
        **details,
    )
