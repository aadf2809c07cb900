"""Rendering of reports and plans: table (terminal, :mod:`.render_table`), JSON, Markdown
(pull-request comments), JUnit XML (CI) and SARIF (code scanning, :mod:`.render_sarif`).
Pure functions returning strings; the CLI decides where they go. :data:`RENDERERS` is the one
registry of formats: a format is one line there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from .render_table import ORDER, Style, table
from .results import Finding, RunReport, Status, jsonable

FORMATS = ("table", "json", "markdown", "junit", "sarif")
_STATUS_ORDER = ORDER


def _json(report: RunReport, style: Style) -> str:
    from .models import Report

    return Report.of(report).model_dump_json(indent=2) + "\n"


def _sarif_renderer() -> Callable[[RunReport], str]:
    try:
        from .render_sarif import render_sarif
    except ImportError as exc:  # the module ships with the SARIF work; say so, never crash
        from .errors import InputError

        raise InputError("SARIF output is not available in this build (no render_sarif)") from exc
    renderer: Callable[[RunReport], str] = render_sarif
    return renderer


def _sarif(report: RunReport, style: Style) -> str:
    """SARIF 2.1.0 (code scanning), from :mod:`hyperpod_preflight.render_sarif`."""
    text = _sarif_renderer()(report)
    return text if text.endswith("\n") else text + "\n"


def check_format(fmt: str) -> None:
    """Raise InputError now, before a run, when ``fmt`` cannot be rendered in this build."""
    if fmt not in RENDERERS:
        from .errors import InputError

        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "sarif":
        _sarif_renderer()


# One line per format: name → renderer (report, style) → text.
RENDERERS: dict[str, Callable[[RunReport, Style], str]] = {
    "table": lambda report, style: _table(report, style),
    "json": _json,
    "markdown": lambda report, style: _markdown(report),
    "junit": lambda report, style: _junit(report),
    "sarif": _sarif,
}


def render_report(
    report: RunReport, fmt: str, *, color: bool = False, width: int = 100, verbosity: int = 0
) -> str:
    """``report`` as ``fmt`` (one of :data:`FORMATS`); ``width`` and ``verbosity`` (-1 the
    summary only, 0 problems first and a count of the rest, 1 everything) shape the table."""
    renderer = RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return renderer(report, Style(color=color, width=width, verbosity=verbosity))


def _by_area(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    areas: dict[str, list[Finding]] = {}
    for f in findings:
        areas.setdefault(f.area, []).append(f)
    return areas


def summary_line(report: RunReport) -> str:
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


def _table(report: RunReport, style: Style) -> str:
    extra = _audit_section(report, "simple", max(40, style.width))
    return table(report, style, summary_line(report), extra)


def _audit_section(report: RunReport, fmt: str, width: int | None = None) -> list[str]:
    """The tables of a ``vpc`` or ``capacity`` report (none for other kinds)."""
    if report.vpc_audit is None and report.capacity is None:
        return []
    from .render_audit import audit_section

    return ["", audit_section(report, fmt, width).rstrip("\n")]


def _fixes(findings: Iterable[Finding]) -> list[Finding]:
    wanted = (Status.FAIL, Status.WARN, Status.UNKNOWN)
    chosen = [f for f in findings if f.status in wanted and f.remediation]
    return sorted(chosen, key=lambda f: _STATUS_ORDER[f.status])


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


_ICONS = {
    Status.PASS: "✅",
    Status.FAIL: "❌",
    Status.WARN: "⚠️",
    Status.UNKNOWN: "❔",
    Status.SKIP: "⏭️",
}


def _md_rows(findings: Iterable[Finding]) -> str:
    from tabulate import tabulate  # ~20 ms to import: only for these tables

    ordered = sorted(findings, key=lambda f: (_STATUS_ORDER[f.status], f.check_id))
    rows = [
        [
            f"{_ICONS[f.status]} {f.status.value}",
            f"`{f.check_id}`",
            _md_cell(f.resource),
            _md_cell(f.message),
        ]
        for f in ordered
    ]
    return tabulate(rows, headers=["Status", "Check", "Resource", "Message"], tablefmt="github")


def _markdown(report: RunReport) -> str:
    """For a pull-request comment: the problems with their fixes; the rest collapsed."""
    out = [f"### hp-preflight {report.kind}: {report.target or ''}".rstrip(": ")]
    out += ["", f"**{summary_line(report)}**"]
    problems = [f for f in report.results if f.status in (Status.FAIL, Status.WARN, Status.UNKNOWN)]
    rest = [f for f in report.results if f not in problems]
    if problems:
        out += ["", _md_rows(problems)]
    fixes = _fixes(report.results)
    if fixes:
        out += ["", "**How to fix**", ""]
        for f in fixes:
            out.append(f"- `{f.check_id}` on `{f.resource}`:")
            out.append("  ```")
            out.append("  " + f.remediation.replace("\n", "\n  "))
            out.append("  ```")
    out += _audit_section(report, "github")
    if rest:
        passed = sum(f.status is Status.PASS for f in rest)
        out += ["", f"<details><summary>{passed} passed, {len(rest) - passed} not applicable"]
        out[-1] += "</summary>"
        out += ["", _md_rows(rest), "", "</details>"]
    return "\n".join(out) + "\n"


def _junit(report: RunReport) -> str:
    import xml.etree.ElementTree as ET  # only for JUnit output

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
        return json.dumps(jsonable(plan), indent=2, ensure_ascii=False) + "\n"
    if fmt not in ("table", "markdown"):
        raise ValueError(f"plan supports --output table, markdown or json, not {fmt!r}")
    from tabulate import tabulate  # ~20 ms to import: only for these tables

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
    from .models import Report

    schema = Report.model_json_schema()
    for model in schema.get("$defs", {}).values():
        for prop in model.get("properties", {}).values():
            # a field's description is its attribute docstring (results.py), wrapped there at
            # the line length: one line here, as the schema has always written it
            if isinstance(prop.get("description"), str):
                prop["description"] = " ".join(prop["description"].split())
    return json.dumps(schema, indent=2) + "\n"
