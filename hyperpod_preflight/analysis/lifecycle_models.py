"""The plain data of the lifecycle lint: levels, findings, tool results and egress facts.

Kept apart from the lint itself so that ``provisioning`` (which the lint uses) and the lint
share one finding type without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ..records import LIFECYCLE_MAX_BYTES
from ..records import ToolResult as ToolResult  # re-exported: the lint's tool results
from ..results import Status


class LintLevel(StrEnum):
    """How much one lint finding matters.

    ``INFO`` is advice that never fails anything; the project's :class:`Status` has no such
    value, so :attr:`status` maps it to ``PASS`` for the checks that report findings.
    """

    FAIL = "FAIL"  # the lifecycle run will fail (or has shipped a secret)
    WARN = "WARN"  # likely to fail, or fails under conditions the lint cannot see
    UNKNOWN = "UNKNOWN"  # could not tell: a file too large, unreadable, or a tool absent
    INFO = "INFO"  # advice

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]

    @property
    def status(self) -> Status:
        return _LEVEL_STATUS[self]


# The most bytes of one lifecycle file read (a ranged GET; a local file likewise).
DEFAULT_MAX_BYTES = LIFECYCLE_MAX_BYTES

_LEVEL_RANK = {LintLevel.INFO: 0, LintLevel.UNKNOWN: 1, LintLevel.WARN: 2, LintLevel.FAIL: 3}
_LEVEL_STATUS = {
    LintLevel.FAIL: Status.FAIL,
    LintLevel.WARN: Status.WARN,
    LintLevel.UNKNOWN: Status.UNKNOWN,
    LintLevel.INFO: Status.PASS,
}


@dataclass(frozen=True, kw_only=True)
class LintFinding:
    """One problem in one file of a lifecycle prefix.

    ``rule`` is a stable kebab-case id (users may filter on it); ``file`` is the path relative
    to the prefix; ``line`` is 1-based, or None when the finding is about the whole file.
    ``message`` and ``remediation`` never contain a secret the lint found.
    """

    rule: str
    level: LintLevel
    file: str
    line: int | None = None
    message: str
    remediation: str = ""

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    @property
    def status(self) -> Status:
        return self.level.status


RunTool = Callable[[list[str], bytes], ToolResult | None]
"""Runs ``argv`` with ``stdin`` as its standard input; None when the tool is not installed."""


@dataclass(frozen=True, kw_only=True)
class EgressInfo:
    """Whether the cluster's subnets reach the internet (a NAT gateway or equivalent).

    ``subnets_without_internet`` lists the subnets that do not; empty means all of them do.
    Pass ``None`` instead of an ``EgressInfo`` when egress is not known.
    """

    subnets_without_internet: tuple[str, ...] = ()

    @property
    def has_internet(self) -> bool:
        return not self.subnets_without_internet
