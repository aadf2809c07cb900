"""A report as SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format,
https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html), so that code scanning
(``github/codeql-action/upload-sarif``) shows each finding on the line of the template or
config it comes from.

- one ``run`` whose ``tool.driver.rules`` are the registry's checks that gave a result: id,
  title (``shortDescription``), the check's one-line docstring (``fullDescription``), help
  text with its remedy and the docs link (``helpUri`` when it is an absolute URI);
- one ``result`` per FAIL, WARN or UNKNOWN finding (a PASS or SKIP is no alert): ``level``
  ``error`` for FAIL, ``warning`` for WARN, ``note`` for UNKNOWN (could not tell); a FAIL
  turned into WARN by ``--ignore`` carries an external, accepted ``suppression``;
- ``locations`` from the finding's location (file, line, column; the JSON path as a logical
  location); a finding with none points at the config file the run read, when there is one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote, urlparse

from .results import Finding, Location, RunReport, Status, jsonable

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVELS = {Status.FAIL: "error", Status.WARN: "warning", Status.UNKNOWN: "note"}


def render_sarif(report: RunReport) -> str:
    """``report`` as one SARIF 2.1.0 log (JSON text)."""
    alerts = [f for f in report.results if f.status in _LEVELS]
    rule_ids = list(dict.fromkeys(f.check_id for f in alerts))
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    fallback = next((f.location.file for f in report.results if f.location), None)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": report.tool,
                "version": report.tool_version or "0",
                "rules": [_rule(rule_id, report) for rule_id in rule_ids],
            }
        },
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The working directory"}}},
        "invocations": [
            {
                "executionSuccessful": report.summary.internal_errors == 0,
                "exitCode": report.summary.exit_code,
            }
        ],
        "results": [_result(f, index[f.check_id], fallback) for f in alerts],
        "properties": {
            "kind": report.kind,
            "target": report.target,
            "summary": jsonable(report.summary),
        },
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2) + "\n"


def _rule(check_id: str, report: RunReport) -> dict[str, Any]:
    from .registry import get

    try:
        check = get(check_id)
    except KeyError:  # a finding of a check this build does not register
        return {"id": check_id, "shortDescription": {"text": check_id}}
    info = check.info
    summary = check.summary or info.title
    docs = info.docs_url
    rule: dict[str, Any] = {
        "id": check_id,
        "name": "".join(part.capitalize() for part in check_id.replace(".", "-").split("-")),
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": summary},
        "help": {
            "text": f"{summary} Documentation: {docs}",
            "markdown": f"{summary}\n\n[{check_id} in the check reference]({docs})",
        },
        "defaultConfiguration": {
            "level": "error" if info.severity.rank >= 3 else "warning"  # critical, high
        },
        "properties": {"area": info.area, "severity": info.severity.value, "docs": docs},
    }
    if _absolute_uri(docs):
        rule["helpUri"] = docs
    return rule


def _result(finding: Finding, rule_index: int, fallback_file: str | None) -> dict[str, Any]:
    text = finding.message
    if finding.remediation:
        text += f"\nFix: {finding.remediation}"
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.status],
        "message": {"text": text},
        "partialFingerprints": {
            "hpPreflightFinding/v1": hashlib.sha256(
                f"{finding.check_id}\x00{finding.resource}".encode()
            ).hexdigest()
        },
        "properties": {
            "status": finding.status.value,
            "severity": finding.severity.value,
            "resource": finding.resource,
        },
    }
    location = _location(finding.location, fallback_file)
    if location is not None:
        result["locations"] = [location]
    if finding.ignored:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": "ignored with --ignore or .hp-preflight.toml",
            }
        ]
    return result


def _location(location: Location | None, fallback_file: str | None) -> dict[str, Any] | None:
    file = location.file if location is not None else fallback_file
    if not file or file in ("-", "<dict>", "flags"):
        return None
    physical: dict[str, Any] = {"artifactLocation": _artifact(file)}
    if location is not None and location.line is not None:
        region: dict[str, Any] = {"startLine": location.line}
        if location.column is not None:
            region["startColumn"] = location.column
        physical["region"] = region
    out: dict[str, Any] = {"physicalLocation": physical}
    if location is not None and location.path:
        out["logicalLocations"] = [{"fullyQualifiedName": location.path, "kind": "member"}]
    return out


def _artifact(file: str) -> dict[str, Any]:
    """A relative path against %SRCROOT% (what code scanning matches to the repository), an
    absolute one as a file: URI."""
    if PureWindowsPath(file).is_absolute() and not file.startswith("/"):
        return {"uri": PureWindowsPath(file).as_uri()}
    path = PurePosixPath(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(path.as_posix()), "uriBaseId": "%SRCROOT%"}


def _absolute_uri(text: str) -> bool:
    parsed = urlparse(text)
    return bool(parsed.scheme and parsed.netloc)
