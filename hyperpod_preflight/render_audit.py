"""Tables of the ``vpc`` and ``capacity`` reports (terminal and Markdown): the subnets and
security groups of an audited VPC, the placements and fixes ranked, and the regions of a
capacity scan ranked. Pure functions returning strings."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .audit_models import CapacityScan, VpcAudit
from .render_table import wrap_fix, wrap_prose
from .results import RunReport

Row = Sequence[object]


def fit_table(rows: Sequence[Row], headers: list[str], fmt: str, width: int | None) -> str:
    """``rows`` as a table when it fits ``width`` (or no width is set); else one block per
    row (the first column, then ``HEADER: value`` lines), which a narrow terminal can show
    without breaking an id."""
    from tabulate import tabulate  # ~20 ms to import: only for these tables

    table = tabulate(rows, headers=headers, tablefmt=fmt)
    if width is None or max((len(line) for line in table.splitlines()), default=0) <= width:
        return table
    out: list[str] = []
    for row in rows:
        out.append(str(row[0]))
        for head, value in zip(headers[1:], row[1:], strict=True):
            out += wrap_prose(f"{head}: {value}", width, "  ")
    return "\n".join(out)


def _yes(value: bool | None) -> str:
    return "?" if value is None else "yes" if value else "no"


def vpc_tables(audit: VpcAudit, fmt: str = "simple", width: int | None = None) -> str:
    """Subnets, security groups, placements and fixes of one VPC audit."""
    out: list[str] = []
    dns = f"DNS support {_yes(audit.dns_support)}, hostnames {_yes(audit.dns_hostnames)}"
    nats = ", ".join(f"{n} ({s})" for n, s in audit.nat_gateways.items()) or "none"
    head = (
        f"VPC {audit.vpc_id} (from --vpc) {audit.cidr} · {dns} · NAT gateways: {nats} · "
        f"internet gateways: {', '.join(audit.internet_gateways) or 'none'} · S3 gateway "
        f"endpoints: {', '.join(audit.s3_gateway_endpoints) or 'none'} · interface endpoints: "
        f"{', '.join(audit.interface_endpoints) or 'none'}"
    )
    out += [head] if width is None else wrap_prose(head, width, "")
    types = list(dict.fromkeys(t for s in audit.subnets for t in s.nodes))
    orch = audit.placements[0].orchestrator if audit.placements else "slurm"
    rows = []
    for s in audit.subnets:
        rows.append(
            [
                s.subnet_id,
                f"{s.zone_id} {s.zone}",
                s.cidr,
                s.free_addresses if s.free_addresses is not None else "?",
                "private" if s.private else "public" if s.private is False else "?",
                f"{s.egress} {s.egress_target}".strip(),
                _yes(s.s3_gateway_endpoint),
                *[
                    "/".join(str(s.nodes[t][o]) for o in ("slurm", "eks"))
                    + ("" if s.offered.get(t) is not False else " (not offered)")
                    if t in s.nodes
                    else "?"
                    for t in types
                ],
            ]
        )
    heads = ["SUBNET", "ZONE", "CIDR", "FREE", "KIND", "EGRESS", "S3 GW"]
    heads += [f"{t.removeprefix('ml.')} slurm/eks" for t in types]
    out += ["", "Subnets", fit_table(rows, heads, fmt, width)]
    rows = [
        [
            g.group_id,
            g.name,
            "yes" if g.efa_ready else "no",
            _yes(g.fsx_lustre),
            f"{g.inbound_rules}/{g.outbound_rules} of {g.rule_limit}",
            "; ".join(g.problems) or "-",
        ]
        for g in audit.security_groups
    ]
    heads = ["GROUP", "NAME", "EFA-READY", "FSX PORTS", "RULES IN/OUT", "PROBLEMS"]
    out += ["", "Security groups", fit_table(rows, heads, fmt, width)]
    rows = [
        [
            f"{p.nodes} × {p.instance_type}",
            p.ips_per_node if p.ips_per_node is not None else "?",
            p.subnet_id or "-",
            p.zone_id or "-",
            p.holds if p.holds is not None else "-",
            p.security_group_id or "-",
            "ready" if p.ready else "?" if p.ready is None else "no: " + "; ".join(p.reasons),
        ]
        for p in audit.placements
    ]
    heads = [f"NODES ({orch})", "IPS/NODE", "BEST SUBNET", "ZONE", "HOLDS", "GROUP", "READY"]
    out += ["", "Placement", fit_table(rows, heads, fmt, width)]
    if audit.fix_first:
        out += ["", "Fix first"]
        for i, f in enumerate(audit.fix_first, 1):
            line = f"{i}. {f.resource}: {f.problem}: {f.command}"
            out += [line] if width is None else wrap_fix(line, width, "")
    if audit.suggested_config:
        out += ["", "Suggested config (--suggest-config prints it alone):"]
        out.append(json.dumps(audit.suggested_config, indent=2))
    return "\n".join(out) + "\n"


def capacity_table(scan: CapacityScan, fmt: str = "simple", width: int | None = None) -> str:
    """The regions of a capacity scan, ranked."""
    from tabulate import tabulate  # ~20 ms to import: only for these tables

    rows = []
    for r in scan.regions:
        offers = "; ".join(
            f"{o['id']} {o['start'][:10]} {o['duration_hours']}h {','.join(o['zones'])} "
            f"{o['upfront_fee']}"
            for o in r.offerings[:2]
        )
        rows.append(
            [
                r.region,
                r.status,
                "?" if r.quota is None else r.quota,
                "?" if r.in_use is None else r.in_use,
                "?" if r.headroom is None else r.headroom,
                ",".join(r.zones_offered) or "-",
                offers or "-",
                r.command or "; ".join(r.reasons),
            ]
        )
    heads = ["REGION", "STATUS", "QUOTA", "IN USE", "HEADROOM", "ZONES", "TRAINING PLANS", "NEXT"]
    title = f"{scan.count} × {scan.instance_type} ({scan.orchestrator})"
    if width is not None:
        return title + "\n" + fit_table(rows, heads, fmt, width) + "\n"
    return (
        title
        + "\n"
        + tabulate(rows, headers=heads, tablefmt=fmt, maxcolwidths=[None] * 7 + [70])
        + "\n"
    )


def audit_section(report: RunReport, fmt: str = "simple", width: int | None = None) -> str:
    """The kind-specific tables of ``report`` ('' for kinds without any); with ``width``
    (the terminal's), every line fits it."""
    if report.vpc_audit is not None:
        return vpc_tables(report.vpc_audit, fmt, width)
    if report.capacity is not None:
        return capacity_table(report.capacity, fmt, width)
    return ""
