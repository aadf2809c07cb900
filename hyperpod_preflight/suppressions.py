"""What a finished report becomes under the project's policy: ``[[ignore]]`` suppressions
with a reason (and an expiry) and the severity threshold. Pure functions over findings.

- A FAIL matched by a live suppression becomes a WARN marked ignored, its message ending
  with the reason; it is never hidden.
- An expired suppression applies to nothing; one WARN ``config.suppression-expired`` names
  it (so that the FAIL it used to cover is seen again, and why).
- ``severity``: findings below the threshold never make the exit code 1.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from .options import Selection, Suppression
from .results import Finding, Severity, Status, Summary

EXPIRED_ID = "config.suppression-expired"
FAILING: dict[str, frozenset[Status]] = {
    "fail": frozenset({Status.FAIL}),
    "warn": frozenset({Status.FAIL, Status.WARN}),
    "unknown": frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN}),
}


def _matches(s: Suppression, f: Finding) -> bool:
    ids = (f.check_id, f.area)
    if s.check_id not in ids and s.check_id != "all":
        return False
    return s.resource is None or fnmatch.fnmatchcase(f.resource, s.resource)


def apply_suppressions(
    findings: Sequence[Finding], suppressions: Sequence[Suppression], today: date
) -> list[Finding]:
    """``findings`` with each FAIL a live suppression covers turned into an ignored WARN
    carrying the reason, and one WARN per expired suppression."""
    live = [s for s in suppressions if s.expires is None or s.expires >= today]
    out: list[Finding] = []
    for f in findings:
        match = next((s for s in live if _matches(s, f)), None) if f.status is Status.FAIL else None
        if match is not None:
            until = f", until {match.expires.isoformat()}" if match.expires else ""
            f = replace(
                f,
                status=Status.WARN,
                ignored=True,
                message=f"{f.message} [ignored: {match.reason}{until}]",
                details={**f.details, "suppression_reason": match.reason},
            )
        out.append(f)
    for s in suppressions:
        if s.expires is not None and s.expires < today:
            out.append(_expired(s))
    return out


def _expired(s: Suppression) -> Finding:
    where = f" in {s.source}" if s.source else ""
    target = s.check_id + (f" on {s.resource}" if s.resource else "")
    return Finding(
        check_id=EXPIRED_ID,
        area="config",
        status=Status.WARN,
        severity=Severity.LOW,
        resource=s.source or "[[ignore]]",
        message=(
            f"the suppression of {target}{where} expired on {s.expires}: it no longer applies "
            f"(reason was: {s.reason})"
        ),
        remediation=(
            f"Fix what {s.check_id} reports, or renew the [[ignore]] entry's expires{where}."
        ),
    )


def exit_code(findings: Sequence[Finding], selection: Selection) -> int:
    """1 when a finding at the fail-on level (and at or above the severity threshold) is
    there, else 0."""
    failing = FAILING[selection.fail_on]
    floor = Severity(selection.severity).rank if selection.severity else 0
    return int(any(f.status in failing and f.severity.rank >= floor for f in findings))


def restate(summary: Summary, findings: Sequence[Finding], selection: Selection) -> Summary:
    """``summary`` recounted for ``findings`` under ``selection``'s policy."""
    counts = {s.value: sum(f.status is s for f in findings) for s in Status}
    unknown = {f.check_id for f in findings if f.status is Status.UNKNOWN}
    return replace(
        summary,
        total=len(findings),
        by_status=counts,
        exit_code=exit_code(findings, selection),
        complete=not unknown,
        unknown_checks=len(unknown),
    )
