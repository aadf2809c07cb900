"""The `quotas` table as a :class:`~hyperpod_preflight.models.Report` of kind ``quotas``, so
that Markdown, JUnit and SARIF render it like any other report: one ``quotas.headroom``
finding per SageMaker quota (FAIL short, UNKNOWN unreadable, PASS covered) and the advisory
findings as they are."""

from __future__ import annotations

from collections.abc import Sequence

from . import __version__
from .quota_requests import QuotaRequestPlan
from .results import Finding, RunReport, Severity, Status, Summary


def _finding(row: QuotaRequestPlan, command: str) -> Finding:
    deficit = row.deficit
    if deficit is None:
        status, message = Status.UNKNOWN, f"could not tell: {row.reason or 'not read'}"
    elif deficit > 0:
        status = Status.FAIL
        message = (
            f"applied {row.current_value:g}, in use {row.in_use}, this config needs "
            f"{row.needed}: {deficit} short"
        )
    else:
        status = Status.PASS
        message = f"applied {row.current_value:g}, in use {row.in_use}, needs {row.needed}"
    return Finding(
        check_id="quotas.headroom",
        area="quotas",
        status=status,
        severity=Severity.CRITICAL,
        resource=row.quota_name,
        message=message,
        remediation=command if status is Status.FAIL else "",
        details={"quota_code": row.quota_code, "deficit": deficit},
    )


def quota_report(
    rows: Sequence[QuotaRequestPlan],
    advisory: Sequence[Finding],
    *,
    target: str,
    region: str | None,
    command: str,
    summary: Summary,
) -> RunReport:
    """The report of one `quotas` run; ``command`` is how to request what is short."""
    results = [*(_finding(r, command) for r in rows), *advisory]
    return RunReport(
        tool_version=__version__,
        kind="quotas",
        target=target,
        region=region,
        results=results,
        summary=summary,
    )
