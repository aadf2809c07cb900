"""The check reference (`docs/checks.md`), generated from the registry so that ids, titles
and severities in the docs can never drift from the code.

Regenerate with: python -m hyperpod_preflight.docs > docs/checks.md
"""

from __future__ import annotations

import inspect
from pathlib import Path

from .registry import all_checks

ROOT = Path(__file__).resolve().parent.parent

EXIT_CODES = """| code | meaning |
|---|---|
| 0 | nothing at or above the `--fail-on` level |
| 1 | findings at or above the `--fail-on` level |
| 2 | bad usage or input: a malformed config, a wrong id, a mistyped region (one line) |
| 3 | could not run: no credentials, endpoint unreachable, no region configured |
"""


def checks_reference() -> str:
    """Markdown reference of every check: one heading per id (the `docs_url` anchors)."""
    out = [
        "# Check reference",
        "",
        "Generated from the registry by `python -m hyperpod_preflight.docs`; do not edit by",
        "hand. Check ids are a public interface: they never change once released, so they",
        "are safe in `--skip`, `--ignore` and CI configuration.",
        "",
        "Statuses: `PASS`, `FAIL`, `WARN`, `SKIP` (not applicable, with the reason) and",
        "`UNKNOWN` (could not tell, with the reason: a missing IAM action, throttling that",
        "outlasted the retries, an absent API). A check never reports `FAIL` because it could",
        "not read something.",
        "",
        "Exit codes:",
        "",
        EXIT_CODES,
    ]
    titles = {
        "cluster": "Account pre-flight checks",
        "live": "Live-cluster checks (`hp-preflight diagnose`, with every account check)",
        "host": "Host checks",
    }
    for kind in ("cluster", "live", "host"):
        if kind == "live":
            checks = [c for c in all_checks("diagnose") if c.info.area == "cluster"]
        else:
            checks = all_checks(kind)
        areas: dict[str, list[str]] = {}
        for check in checks:
            info = check.info
            source = Path(inspect.getsourcefile(check.fn) or "").resolve()
            where = source.relative_to(ROOT).as_posix() if source.is_relative_to(ROOT) else ""
            lines = [
                f"#### `{info.check_id}`",
                "",
                f"{check.summary or info.title}",
                "",
                f"{info.title}. Severity: **{info.severity.value}**. "
                f"Needs AWS access: {'yes' if info.needs_aws else 'no'}. Source: `{where}`.",
            ]
            areas.setdefault(info.area, []).append("\n".join(lines))
        out.append(f"## {titles[kind]}")
        out.append("")
        for area, sections in areas.items():
            out.append(f"### Area `{area}`")
            out.append("")
            out.extend(section + "\n" for section in sections)
    out.extend(fields_section())
    return "\n".join(line for line in out).rstrip() + "\n"


def fields_section() -> list[str]:
    """The "Fields of CreateCluster" section: every member, its checks, and the fields not
    checked with why (from :mod:`hyperpod_preflight.fields`)."""
    from .fields import all_fields

    fields = all_fields()
    out = [
        "## Fields of CreateCluster",
        "",
        "Every member of botocore's `CreateClusterRequest` is checked where it can make",
        "creation fail, or listed here with why not (a test keeps this list complete against",
        "the installed botocore). An entry covers the members under it unless a deeper one is",
        "listed.",
        "",
        "### Fields checked",
        "",
        "| field | checks |",
        "|---|---|",
    ]
    for path, coverage in fields.items():
        if coverage.checks:
            checks = ", ".join(f"[`{c}`](#{c.replace('.', '')})" for c in coverage.checks)
            note = f" ({coverage.reason})" if coverage.reason else ""
            out.append(f"| `{path}` | {checks}{note} |")
    out += ["", "### Fields not checked", "", "| field | why |", "|---|---|"]
    for path, coverage in fields.items():
        if not coverage.checks:
            out.append(f"| `{path}` | {coverage.reason} |")
    out.append("")
    return out


if __name__ == "__main__":
    print(checks_reference(), end="")
