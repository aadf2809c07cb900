"""The whole-VPC readiness audit (``hp-preflight --vpc vpc-…`` without a config) as
registered checks of kind ``vpc``: one finding per subnet, security group and asked instance
type, so ``--only``/``--skip``/``--ignore`` select them like any other check.

Stable ids: ``vpc.exists``, ``vpc.dns``, ``vpc.read`` (a fact that could not be read),
``vpc.subnet``, ``vpc.security-group``, ``vpc.placement``. Only ``vpc.exists``,
``vpc.dns`` and ``vpc.placement`` FAIL: a VPC normally holds public subnets and groups of
other uses, so a subnet or group that is no home for nodes is a WARN.

Every check declares the same reads (one VPC's resources, each filtered by ``vpc-id``, so
the call count grows with the VPC, never with the account; gathered once for all of them)
and judges the pure :func:`~hyperpod_preflight.analysis.vpc_audit.audit_vpc` verdicts of its
own kind. The audit request (types, nodes, orchestrator) is the run's option ``audit``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..analysis.vpc_audit import DEFAULT_AUDIT_TYPES, AuditRequest, audit_vpc
from ..analysis.vpc_inventory import inventory_from, inventory_reads
from ..audit_models import VpcAudit
from ..planner import ClusterPlan
from ..registry import CheckContext, Request, Then, check, need
from ..results import Outcome, Severity, Status
from ..shell import command
from ..spec import ClusterSpec


def audit_request(ctx: CheckContext) -> AuditRequest:
    """The run's audit request (``options['audit']``), else the default one."""
    given = ctx.options.get("audit")
    return given if isinstance(given, AuditRequest) else AuditRequest(DEFAULT_AUDIT_TYPES)


def vpc_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """The VPC's resources (``--vpc``) and the asked instance types, all at once."""
    if not spec.vpc_id:
        return []
    vpc_id = spec.vpc_id

    def reads(ctx: CheckContext) -> list[Request]:
        found = inventory_reads(vpc_id, audit_request(ctx))
        return [need(reader, *args) for reader, args in found.values()]

    return [Then(reads)]


def audit_of(ctx: CheckContext) -> VpcAudit | None:
    """The audit of the run's VPC from what was gathered (None without --vpc)."""
    if not ctx.spec.vpc_id:
        return None
    request = audit_request(ctx)
    return audit_vpc(inventory_from(ctx.aws, ctx.spec.vpc_id, request), request)


def _judge(check_id: str) -> Callable[[CheckContext], Iterator[Outcome]]:
    def judge(ctx: CheckContext) -> Iterator[Outcome]:
        audit = audit_of(ctx)
        if audit is None:
            return
        for found_id, outcome in audit_findings(audit, audit_request(ctx)):
            if found_id == check_id:
                yield outcome

    return judge


_DEFAULT_SEVERITY = {
    "vpc.exists": Severity.CRITICAL,
    "vpc.dns": Severity.HIGH,
    "vpc.read": Severity.HIGH,
    "vpc.subnet": Severity.MEDIUM,
    "vpc.security-group": Severity.MEDIUM,
    "vpc.placement": Severity.CRITICAL,
}
_TITLES = {
    "vpc.exists": "The VPC exists",
    "vpc.dns": "The VPC has DNS support and DNS hostnames on",
    "vpc.read": "The audit could read the VPC's resources",
    "vpc.subnet": "The subnet can hold HyperPod nodes (private, egress, S3 endpoint)",
    "vpc.security-group": "The security group is EFA-ready (all traffic to and from itself)",
    "vpc.placement": "The asked nodes fit a subnet and security group of the VPC",
}


Finding = tuple[str, Outcome]  # (check id, its outcome)


def _finding(
    check_id: str,
    status: Status,
    severity: Severity,
    resource: str,
    message: str,
    remediation: str = "",
    **details: Any,
) -> Finding:
    outcome = Outcome(
        status=status,
        severity=severity,
        resource=resource,
        message=message,
        remediation=remediation,
        details=details,
    )
    return check_id, outcome


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


for _id, _doc in (
    ("vpc.exists", "The --vpc VPC exists."),
    ("vpc.dns", "The VPC has enableDnsSupport and enableDnsHostnames on."),
    ("vpc.read", "Each of the VPC's resources could be read (UNKNOWN names what could not)."),
    ("vpc.subnet", "Each subnet is private, has egress and an S3 gateway endpoint (else WARN)."),
    ("vpc.security-group", "Each security group allows all traffic to and from itself."),
    ("vpc.placement", "The asked nodes fit one subnet and security group of the VPC."),
):
    _fn = _judge(_id)
    _fn.__doc__ = _doc
    check(_id, _TITLES[_id], _DEFAULT_SEVERITY[_id], needs=vpc_needs)(_fn)
