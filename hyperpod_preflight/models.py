"""Public data models: statuses, severities, findings and the report.

These models are the public interface of the JSON report (``schema_version`` below);
fields are only ever added, never renamed or removed, within one major schema version.

:class:`Report` is the pydantic model the library returns and the JSON report is written
through. Its parts (:class:`Finding`, :class:`Location`, :class:`Summary`), the statuses and
the check outcomes are plain dataclasses of :mod:`.results`, re-exported here; a run builds a
:class:`~hyperpod_preflight.results.RunReport` and :meth:`Report.of` makes it public.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from .audit_models import CapacityScan, VpcAudit
from .results import (
    SCHEMA_VERSION,
    CheckInfo,
    Finding,
    Location,
    Outcome,
    ReportMethods,
    RunReport,
    Severity,
    Status,
    Summary,
    failed,
    passed,
    skipped,
    unknown,
    utc_now,
    warned,
)

__all__ = [
    "SCHEMA_VERSION",
    "CheckInfo",
    "Finding",
    "Location",
    "Outcome",
    "Report",
    "RunReport",
    "Severity",
    "Status",
    "Summary",
    "failed",
    "passed",
    "skipped",
    "unknown",
    "warned",
]


class Report(ReportMethods, BaseModel):
    """The whole result of one run."""

    schema_version: str = SCHEMA_VERSION
    tool: str = "hyperpod-preflight"
    tool_version: str = ""
    kind: str = Field(
        default="cluster",
        description="`cluster` (account pre-flight), `host`, `vpc` (whole-VPC audit) or "
        "`capacity` (placement across regions).",
    )
    target: str = Field(default="", description="Cluster name or host name judged.")
    region: str | None = None
    account: str | None = None
    generated_at: datetime = Field(default_factory=utc_now)
    duration_s: float = 0.0
    api_calls: int | None = None
    results: list[Finding] = Field(default_factory=list)
    summary: Summary = Field(default_factory=Summary)
    facts: dict[str, Any] = Field(
        default_factory=dict, description="Context figures, e.g. the plan or host facts."
    )
    vpc_audit: VpcAudit | None = Field(
        default=None, description="Kind `vpc`: subnets, groups, placements, fixes."
    )
    capacity: CapacityScan | None = Field(
        default=None, description="Kind `capacity`: each region's answer, ranked."
    )

    @classmethod
    def of(cls, run: RunReport | Report) -> Report:
        """The public report of a run's :class:`~hyperpod_preflight.results.RunReport` (a
        ``Report`` as it is)."""
        if isinstance(run, Report):
            return run
        return cls(**{f.name: getattr(run, f.name) for f in fields(run)})

    def to_run(self) -> RunReport:
        """The run's record of this report (what the renderers take)."""
        return RunReport(**{name: getattr(self, name) for name in type(self).model_fields})
