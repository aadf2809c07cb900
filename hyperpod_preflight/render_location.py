"""How a finding's location in the config file is written in text output: ``file:line:col``
(the form editors and terminals turn into a link), one small function for every renderer."""

from __future__ import annotations

from .results import Finding, Location, Status


def location_text(location: Location | None) -> str:
    """``cluster.yaml:23:20`` (``cluster.yaml`` when the line is not known; "" without)."""
    if location is None:
        return ""
    text = location.file
    if location.line is not None:
        text += f":{location.line}"
        if location.column is not None:
            text += f":{location.column}"
    return text


def at_location(finding: Finding) -> str:
    """`` (at cluster.yaml:23:20)`` for a FAIL, WARN or UNKNOWN with a location; else ""."""
    if finding.status in (Status.PASS, Status.SKIP):
        return ""
    text = location_text(finding.location)
    return f" (at {text})" if text else ""
