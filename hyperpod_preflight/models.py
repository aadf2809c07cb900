"""Public data models: statuses, severities, findings and the report.

These models are the public interface of the JSON report (``schema_version`` below);
fields are only ever added, never renamed or removed, within one major schema version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .audit_models import CapacityScan, VpcAudit

SCHEMA_VERSION = "1.0"


class Status(StrEnum):
    """Outcome of one check on one resource."""

    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    SKIP = "SKIP"  # not applicable to this config or host
    UNKNOWN = "UNKNOWN"  # could not tell; the message names the reason

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]


_STATUS_RANK = {
    Status.PASS: 0,
    Status.SKIP: 0,
    Status.UNKNOWN: 1,
    Status.WARN: 2,
    Status.FAIL: 3,
}


class Severity(StrEnum):
    """How much a failure of the check matters."""

    CRITICAL = "critical"  # cluster creation will fail
    HIGH = "high"  # cluster creates but will not work (EFA, lifecycle, jobs)
    MEDIUM = "medium"  # degraded, or fails later (scaling, node replacement)
    LOW = "low"  # best practice
    INFO = "info"  # advisory figures

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


class Outcome(BaseModel):
    """What a check function returns for one resource; the runner turns it into a Finding."""

    model_config = ConfigDict(frozen=True)

    status: Status
    resource: str
    message: str
    remediation: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    severity: Severity | None = None  # overrides the check's default severity


def passed(resource: str, message: str, **details: Any) -> Outcome:
    return Outcome(status=Status.PASS, resource=resource, message=message, details=details)


def failed(
    resource: str,
    message: str,
    remediation: str,
    severity: Severity | None = None,
    **details: Any,
) -> Outcome:
    return Outcome(
        status=Status.FAIL,
        resource=resource,
        message=message,
        remediation=remediation,
        severity=severity,
        details=details,
    )


def warned(
    resource: str,
    message: str,
    remediation: str = "",
    severity: Severity | None = None,
    **details: Any,
) -> Outcome:
    return Outcome(
        status=Status.WARN,
        resource=resource,
        message=message,
        remediation=remediation,
        severity=severity,
        details=details,
    )


def skipped(resource: str, reason: str) -> Outcome:
    return Outcome(status=Status.SKIP, resource=resource, message=reason)


def unknown(resource: str, reason: str, remediation: str = "", **details: Any) -> Outcome:
    return Outcome(
        status=Status.UNKNOWN,
        resource=resource,
        message=reason,
        remediation=remediation,
        details=details,
    )


class Location(BaseModel):
    """Where a value of the config sits in the file the user wrote (a CreateCluster JSON, a
    CloudFormation template or a Terraform plan)."""

    model_config = ConfigDict(frozen=True)

    file: str = Field(description="The config file as given (`-` for stdin).")
    line: int | None = Field(default=None, description="1-based line; None when not known.")
    column: int | None = Field(default=None, description="1-based column; None when not known.")
    path: str = Field(
        default="",
        description="JSON path in that file: through the resource "
        "(`Resources.Cluster.Properties.InstanceGroups[0].InstanceType`) or the plan "
        "(`resource_changes[0].change.after.instance_groups[0].instance_type`).",
    )
    config_path: str = Field(
        default="", description="The same field as a CreateCluster JSON path (`ClusterName`)."
    )


class Finding(BaseModel):
    """One result row of the report: one check on one resource."""

    check_id: str = Field(description="Stable id `area.name`; never changes once released.")
    area: str
    status: Status
    severity: Severity
    resource: str = Field(description="The exact resource judged (subnet id, group name, GPU …).")
    message: str
    remediation: str = Field(default="", description="The command or config change that fixes it.")
    details: dict[str, Any] = Field(default_factory=dict)
    ignored: bool = Field(default=False, description="A FAIL downgraded to WARN by --ignore.")
    internal_error: bool = Field(
        default=False,
        description="UNKNOWN because the check itself failed (a defect to report), not AWS.",
    )
    title: str = ""
    docs_url: str = ""
    location: Location | None = Field(
        default=None,
        description="Where in the config file the judged value is written (findings about "
        "the config only).",
    )


class CheckInfo(BaseModel):
    """Registry metadata of one check (what `hp-preflight list-checks` prints)."""

    check_id: str
    area: str
    title: str
    severity: Severity
    needs_aws: bool
    docs_url: str = ""


class Summary(BaseModel):
    total: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)
    exit_code: int = 0
    fail_on: str = "fail"
    internal_errors: int = Field(
        default=0, description="Findings UNKNOWN because a check failed internally."
    )
    complete: bool = Field(
        default=True,
        description="False when a check could not tell (UNKNOWN): the run did not judge "
        "everything, whatever the exit code says.",
    )
    unknown_checks: int = Field(default=0, description="Checks with at least one UNKNOWN.")


class Report(BaseModel):
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
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
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

    def by_status(self, status: Status) -> list[Finding]:
        return [f for f in self.results if f.status is status]

    @property
    def failed(self) -> bool:
        return self.summary.exit_code == 1
