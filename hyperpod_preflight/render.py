"""Rendering of reports and plans: table (terminal), JSON, Markdown (pull-request comments)
and JUnit XML (CI). Pure functions returning strings; the CLI decides where they go.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from tabulate import tabulate

from .models import Finding, Report, Status
from .render_location import at_location

FORMATS = ("table", "json", "markdown", "junit", "sarif")

_COLORS = {
    Status.PASS: "\033[32m",
    Status.FAIL: "\033[1;31m",
    Status.WARN: "\033[33m",
    Status.UNKNOWN: "\033[35m",
    Status.SKIP: "\033[2m",
}
_RESET = "\033[0m"
_STATUS_ORDER = {Status.FAIL: 0, Status.WARN: 1, Status.UNKNOWN: 2, Status.PASS: 3, Status.SKIP: 4}


def render_report(report: Report, fmt: str, *, color: bool = False) -> str:
    """``report`` as ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(report)
    if fmt == "junit":
        return _junit(report)
    if fmt == "table":
        return _table(report, color=color)
    if fmt == "sarif":
        from .render_sarif import render_sarif

        return render_sarif(report)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _status_label(status: Status, color: bool) -> str:
    return f"{_COLORS[status]}{status.value}{_RESET}" if color else status.value


def _by_area(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    areas: dict[str, list[Finding]] = {}
    for f in findings:
        areas.setdefault(f.area, []).append(f)
    return areas


def summary_line(report: Report) -> str:
    counts = report.summary.by_status
    parts = [f"{counts.get(s.value, 0)} {s.value}" for s in Status if counts.get(s.value)]
    extra = f" in {report.duration_s:.2f}s" if report.duration_s else ""
    calls = f", {report.api_calls} API calls" if report.api_calls is not None else ""
    counted = f"{', '.join(parts) or 'no findings'} (fail-on {report.summary.fail_on})"
    unknown = report.summary.unknown_checks
    incomplete = (
        f"INCOMPLETE: {unknown} check{'s' if unknown != 1 else ''} could not tell"
        if not report.summary.complete
        else ""
    )
    if report.summary.exit_code == 1:
        return f"FAILED: {counted}{extra}{calls}" + (f"; {incomplete}" if incomplete else "")
    if incomplete:  # not a clean bill of health, whatever the exit code
        return f"{incomplete}: {counted}{extra}{calls}"
    return f"OK: {counted}{extra}{calls}"


def _table(report: Report, *, color: bool) -> str:
    out: list[str] = []
    head = f"hp-preflight {report.kind}"
    if report.target:
        head += f" · {report.target}"
    if report.region:
        head += f" · {report.region}"
    if report.account:
        head += f" · account {report.account}"
    out.append(head)
    shown, whole_skips = _split_whole_skips(report.results)
    for area, findings in _by_area(shown).items():
        rows = [
            [_status_label(f.status, color), f.check_id, f.resource, f.message + at_location(f)]
            for f in findings
        ]
        if not rows:
            continue
        out.append("")
        out.append(f"[{area}]")
        out.append(
            tabulate(
                rows,
                headers=["STATUS", "CHECK", "RESOURCE", "MESSAGE"],
                tablefmt="simple",
                maxcolwidths=[None, 34, 30, 70],
            )
        )
    for reason, ids in whole_skips.items():
        out.append("")
        out.append(f"Skipped ({reason}): {', '.join(ids)}")
    out += _audit_section(report, "simple")
    fixes = _fixes(report.results)
    if fixes:
        out.append("")
        out.append("How to fix:")
        for f in fixes:
            out.append(f"- {f.check_id} [{f.resource}]{at_location(f)}: {f.remediation}")
    failing = [f.check_id for f in report.results if f.status is Status.FAIL]
    if failing:
        ignore_ids = ",".join(dict.fromkeys(failing))
        out.append("")
        out.append(f"To accept these failures and go on (not recommended): --ignore {ignore_ids}")
    out.append("")
    out.append(summary_line(report))
    return "\n".join(out) + "\n"


def _audit_section(report: Report, fmt: str) -> list[str]:
    """The tables of a ``vpc`` or ``capacity`` report (none for other kinds)."""
    if report.vpc_audit is None and report.capacity is None:
        return []
    from .render_audit import audit_section

    return ["", audit_section(report, fmt).rstrip("\n")]


def _split_whole_skips(findings: Iterable[Finding]) -> tuple[list[Finding], dict[str, list[str]]]:
    """Findings to show row by row, and the checks skipped as a whole (resource "-"), which
    are listed once by reason instead of one row each."""
    shown: list[Finding] = []
    whole_skips: dict[str, list[str]] = {}
    for f in findings:
        if f.status is Status.SKIP and f.resource == "-":
            whole_skips.setdefault(f.message, []).append(f.check_id)
        else:
            shown.append(f)
    return shown, whole_skips


def _fixes(findings: Iterable[Finding]) -> list[Finding]:
    wanted = (Status.FAIL, Status.WARN, Status.UNKNOWN)
    chosen = [f for f in findings if f.status in wanted and f.remediation]
    return sorted(chosen, key=lambda f: _STATUS_ORDER[f.status])


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _markdown(report: Report) -> str:
    icons = {
        Status.PASS: "✅",
        Status.FAIL: "❌",
        Status.WARN: "⚠️",
        Status.UNKNOWN: "❔",
        Status.SKIP: "⏭️",
    }
    out = [f"### hp-preflight {report.kind}: {report.target or ''}".rstrip(": ")]
    out.append("")
    out.append(f"**{summary_line(report)}**")
    shown, whole_skips = _split_whole_skips(report.results)
    ordered = sorted(shown, key=lambda f: (_STATUS_ORDER[f.status], f.check_id))
    rows = [
        [
            f"{icons[f.status]} {f.status.value}",
            f"`{f.check_id}`",
            _md_cell(f.resource),
            _md_cell(f.message),
        ]
        for f in ordered
    ]
    out.append("")
    out.append(
        tabulate(rows, headers=["Status", "Check", "Resource", "Message"], tablefmt="github")
    )
    for reason, ids in whole_skips.items():
        out.append("")
        out.append(f"Skipped ({_md_cell(reason)}): {', '.join(f'`{i}`' for i in ids)}")
    out += _audit_section(report, "github")
    fixes = _fixes(report.results)
    if fixes:
        out.append("")
        out.append("<details><summary>How to fix</summary>")
        out.append("")
        for f in fixes:
            out.append(f"- `{f.check_id}` on `{f.resource}`:")
            out.append("  ```")
            out.append("  " + f.remediation.replace("\n", "\n  "))
            out.append("  ```")
        out.append("")
        out.append("</details>")
    return "\n".join(out) + "\n"


def _junit(report: Report) -> str:
    suites = ET.Element("testsuites", name=f"hp-preflight {report.kind}")
    for area, findings in _by_area(report.results).items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"hp-preflight.{area}",
            tests=str(len(findings)),
            failures=str(sum(f.status is Status.FAIL for f in findings)),
            skipped=str(sum(f.status in (Status.SKIP, Status.UNKNOWN) for f in findings)),
            errors="0",
        )
        for f in findings:
            case = ET.SubElement(
                suite, "testcase", classname=f.check_id, name=f"{f.check_id} [{f.resource}]"
            )
            if f.status is Status.FAIL:
                node = ET.SubElement(case, "failure", message=f.message, type=f.severity.value)
                node.text = f.remediation
            elif f.status in (Status.SKIP, Status.UNKNOWN):
                ET.SubElement(case, "skipped", message=f"{f.status.value}: {f.message}")
            elif f.status is Status.WARN:
                out = ET.SubElement(case, "system-out")
                out.text = f"WARN: {f.message}\n{f.remediation}".strip()
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def render_plan(plan: Any, fmt: str) -> str:
    """A :class:`~hyperpod_preflight.planner.ClusterPlan` as tables or JSON."""
    if fmt == "json":
        return str(plan.model_dump_json(indent=2)) + "\n"
    if fmt not in ("table", "markdown"):
        raise ValueError(f"plan supports --output table, markdown or json, not {fmt!r}")
    markdown = fmt == "markdown"
    tablefmt = "github" if markdown else "simple"
    title = f"Cluster plan ({plan.orchestrator})"
    out = [f"## {title}" if markdown else title, ""]
    out.append(
        tabulate(
            [
                [
                    g.name,
                    g.instance_type or "-",
                    g.count,
                    "?" if g.ips_per_node is None else g.ips_per_node,
                    "?" if g.efa_interfaces is None else g.efa_interfaces,
                    ", ".join(g.subnets) or "-",
                ]
                for g in plan.groups
            ],
            headers=["GROUP", "TYPE", "COUNT", "IPS/NODE", "EFA", "SUBNETS"],
            tablefmt=tablefmt,
        )
    )
    out.append("")
    out.append(
        tabulate(
            [[t, n] for t, n in plan.instances_by_type.items()]
            # a markdown table holds instance types only; the total is a sentence under it
            + ([] if markdown else [["total", plan.total_instances]]),
            headers=["INSTANCE TYPE", "INSTANCES"],
            tablefmt=tablefmt,
        )
    )
    if markdown:
        out += ["", f"Total: {plan.total_instances} instances."]
    if plan.subnets:
        out.append("")
        out.append(
            tabulate(
                [
                    [
                        s.subnet_id,
                        ", ".join(s.groups),
                        s.nodes,
                        s.addresses_needed,
                        s.headroom_addresses,
                        s.total_needed,
                        f"/{s.min_prefix}",
                    ]
                    for s in plan.subnets
                ],
                headers=["SUBNET", "GROUPS", "NODES", "ADDRESSES", "HEADROOM", "TOTAL", "FITS IN"],
                tablefmt=tablefmt,
            )
        )
    other = [
        ["ENIs created", "?" if plan.enis_needed is None else plan.enis_needed],
        ["largest EBS volume (GB)", plan.max_ebs_gb or "-"],
    ]
    other += [
        [f"EC2 vCPUs: {v.quota_name} ({v.quota_code}, advisory)", v.vcpus] for v in plan.vcpus
    ]
    out.append("")
    out.append(tabulate(other, headers=["ALSO NEEDED", "VALUE"], tablefmt=tablefmt))
    if markdown and plan.notes:
        out.append("")
    for note in plan.notes:
        out.append(f"{'- ' if markdown else ''}note: {note}")
    return "\n".join(out) + "\n"


def report_schema() -> str:
    """JSON Schema of the JSON report (``hp-preflight schema``)."""
    return json.dumps(Report.model_json_schema(), indent=2) + "\n"
