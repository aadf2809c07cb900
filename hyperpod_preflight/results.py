"""The records every run produces: statuses, severities, outcomes, findings and the run's
report, as plain dataclasses (no pydantic: the lint, the offline check and the host run build
and render them without importing it).

The public :class:`~hyperpod_preflight.models.Report` is the pydantic model of
:class:`RunReport` (the same fields, in the same order; a test holds them equal): the library's
functions return it and the JSON report is written through it, so pydantic validates the
public report once, at the edge. :class:`Finding`, :class:`Location` and :class:`Summary` are
the report's own parts in both; their attribute docstrings are the JSON schema's descriptions
(``__pydantic_config__`` below).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .audit_models import CapacityScan, VpcAudit

SCHEMA_VERSION = "1.0"

# pydantic reads this from a plain dataclass: each attribute's docstring is its description in
# the JSON schema (`hp-preflight schema`), as Field(description=...) was.
SCHEMA_CONFIG = {"use_attribute_docstrings": True}


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


@dataclass(frozen=True)
class Outcome:
    """What a check function returns for one resource; the runner turns it into a Finding."""

    status: Status
    resource: str
    message: str
    remediation: str = ""
    details: dict[str, Any] = field(default_factory=dict)
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


@dataclass(frozen=True)
class Location:
    """Where a value of the config sits in the file the user wrote (a CreateCluster JSON, a
    CloudFormation template or a Terraform plan)."""

    __pydantic_config__ = SCHEMA_CONFIG

    file: str
    """The config file as given (`-` for stdin)."""
    line: int | None = None
    """1-based line; None when not known."""
    column: int | None = None
    """1-based column; None when not known."""
    path: str = ""
    """JSON path in that file: through the resource
    (`Resources.Cluster.Properties.InstanceGroups[0].InstanceType`) or the plan
    (`resource_changes[0].change.after.instance_groups[0].instance_type`)."""
    config_path: str = ""
    """The same field as a CreateCluster JSON path (`ClusterName`)."""


@dataclass
class Finding:
    """One result row of the report: one check on one resource."""

    __pydantic_config__ = SCHEMA_CONFIG

    check_id: str
    """Stable id `area.name`; never changes once released."""
    area: str
    status: Status
    severity: Severity
    resource: str
    """The exact resource judged (subnet id, group name, GPU …)."""
    message: str
    remediation: str = ""
    """The command or config change that fixes it."""
    details: dict[str, Any] = field(default_factory=dict)
    ignored: bool = False
    """A FAIL downgraded to WARN by --ignore."""
    internal_error: bool = False
    """UNKNOWN because the check itself failed (a defect to report), not AWS."""
    title: str = ""
    docs_url: str = ""
    location: Location | None = None
    """Where in the config file the judged value is written (findings about the config
    only)."""


@dataclass
class CheckInfo:
    """Registry metadata of one check (what `hp-preflight list-checks` prints)."""

    check_id: str
    area: str
    title: str
    severity: Severity
    needs_aws: bool
    docs_url: str = ""


@dataclass
class Summary:
    __pydantic_config__ = SCHEMA_CONFIG

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    exit_code: int = 0
    fail_on: str = "fail"
    internal_errors: int = 0
    """Findings UNKNOWN because a check failed internally."""
    complete: bool = True
    """False when a check could not tell (UNKNOWN): the run did not judge everything, whatever
    the exit code says."""
    unknown_checks: int = 0
    """Checks with at least one UNKNOWN."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class ReportMethods:
    """What both report classes answer (the run's :class:`RunReport` and the public
    pydantic ``Report``)."""

    if TYPE_CHECKING:
        results: list[Finding]
        summary: Summary

    def by_status(self, status: Status) -> list[Finding]:
        return [f for f in self.results if f.status is status]

    @property
    def failed(self) -> bool:
        return self.summary.exit_code == 1


@dataclass
class RunReport(ReportMethods):
    """The whole result of one run, as the run builds and the command line renders it; the
    fields of the public :class:`~hyperpod_preflight.models.Report` (see its descriptions)."""

    schema_version: str = SCHEMA_VERSION
    tool: str = "hyperpod-preflight"
    tool_version: str = ""
    kind: str = "cluster"
    target: str = ""
    region: str | None = None
    account: str | None = None
    generated_at: datetime = field(default_factory=utc_now)
    duration_s: float = 0.0
    api_calls: int | None = None
    results: list[Finding] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    facts: dict[str, Any] = field(default_factory=dict)
    vpc_audit: VpcAudit | None = None
    capacity: CapacityScan | None = None


def jsonable(value: Any) -> Any:
    """``value`` as JSON data, as pydantic's ``model_dump(mode="json")`` writes these records
    (dataclasses as objects in field order, enums as their values, tuples and sets as lists,
    dates in ISO 8601, paths as text)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return str(value)
