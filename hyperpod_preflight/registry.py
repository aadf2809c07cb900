"""The check contract: the registry of checks under stable ids, and the context a check
reads.

A check is a function of a context that returns (or yields)
:class:`~hyperpod_preflight.models.Outcome` objects, one per resource judged. It does no I/O
of its own: account checks read through ``ctx.aws`` (the facts layer), host checks through
``ctx.host``. A check declares the reads it needs (``reads=``, names from
``hyperpod_preflight.facts.prefetch``); the run starts every declared read of the selected
checks at once, before the checks run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .models import CheckInfo, Outcome, Severity

if TYPE_CHECKING:
    from .facts import AwsFacts
    from .host.models import HostFacts
    from .planner import ClusterPlan
    from .spec import ClusterSpec


class NeedsAwsError(RuntimeError):
    """A check that needs AWS was called without facts (the runner prevents this)."""


@dataclass(kw_only=True)
class RunContext:
    """What every check may read: the run's options. ``facts`` is None offline and on a
    host."""

    options: dict[str, Any] = field(default_factory=dict)
    facts: AwsFacts | None = None

    @property
    def offline(self) -> bool:
        return self.facts is None


@dataclass(kw_only=True)
class CheckContext(RunContext):
    """An account check's inputs: the validated config, its plan and the AWS facts."""

    spec: ClusterSpec
    plan: ClusterPlan

    @property
    def aws(self) -> AwsFacts:
        """The facts layer; only for checks registered with ``needs_aws`` (the default)."""
        if self.facts is None:
            raise NeedsAwsError("this check needs AWS facts (run without --offline)")
        return self.facts


@dataclass(kw_only=True)
class HostContext(RunContext):
    """A host check's inputs: the node's facts and the requirement profile (in options)."""

    host: HostFacts


CheckFn = Callable[[Any], Iterable[Outcome]]
F = TypeVar("F", bound=CheckFn)

AREAS = (
    "config",
    "quotas",
    "capacity",
    "network",
    "iam",
    "s3",
    "lifecycle",
    "eks",
    "slurm",
    "tools",
    "host",
)
DOCS_BASE = "docs/checks.md"
_ID_RE = re.compile(r"^[a-z][a-z0-9]*\.[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Check:
    info: CheckInfo
    fn: CheckFn
    reads: tuple[str, ...] = ()

    @property
    def check_id(self) -> str:
        return self.info.check_id

    @property
    def summary(self) -> str:
        """The first line of the check function's docstring."""
        doc = (self.fn.__doc__ or "").strip()
        return doc.splitlines()[0].strip() if doc else ""


_REGISTRY: dict[str, Check] = {}


def check(
    check_id: str,
    title: str,
    severity: Severity,
    *,
    needs_aws: bool = True,
    reads: Iterable[str] = (),
    docs_url: str = "",
) -> Callable[[F], F]:
    """Register ``fn`` as check ``check_id`` (``area.kebab-name``); ``reads`` names the
    facts it needs (started before any check runs)."""

    if not _ID_RE.match(check_id):
        raise ValueError(f"check id {check_id!r} is not of the form area.kebab-name")
    area = check_id.split(".", 1)[0]
    if area not in AREAS:
        raise ValueError(f"check id {check_id!r} has unknown area {area!r}")
    declared = tuple(reads)

    def register(fn: F) -> F:
        if check_id in _REGISTRY and _REGISTRY[check_id].fn is not fn:
            raise ValueError(f"check id {check_id!r} registered twice")
        anchor = check_id.replace(".", "")  # GitHub heading anchor of `area.name`
        info = CheckInfo(
            check_id=check_id,
            area=area,
            title=title,
            severity=severity,
            needs_aws=needs_aws,
            docs_url=docs_url or f"{DOCS_BASE}#{anchor}",
        )
        _REGISTRY[check_id] = Check(info=info, fn=fn, reads=declared)
        return fn

    return register


# Packages holding cluster (account) checks; importing them registers their checks.
CLUSTER_CHECK_MODULES = (
    "hyperpod_preflight.checks.config",
    "hyperpod_preflight.checks.network",
    "hyperpod_preflight.checks.capacity",
    "hyperpod_preflight.checks.quotas",
    "hyperpod_preflight.checks.s3",
    "hyperpod_preflight.checks.lifecycle",
    "hyperpod_preflight.checks.iam",
    "hyperpod_preflight.checks.slurm",
    "hyperpod_preflight.checks.features",
    "hyperpod_preflight.checks.eks",
    "hyperpod_preflight.checks.tools",
)
HOST_CHECK_MODULES = ("hyperpod_preflight.host.checks",)


def _load(modules: Iterable[str]) -> None:
    from .dynamic import import_module

    for name in modules:
        import_module(name)


def all_checks(kind: str = "cluster") -> list[Check]:
    """Every registered check of ``kind`` (``cluster`` or ``host``), ordered by id."""

    _load(CLUSTER_CHECK_MODULES if kind == "cluster" else HOST_CHECK_MODULES)
    host = kind == "host"
    chosen = (c for c in _REGISTRY.values() if (c.info.area == "host") == host)
    return sorted(chosen, key=lambda c: c.check_id)


def get(check_id: str) -> Check:
    """The check ``check_id``; its kind's modules are imported first if nothing has yet."""
    if check_id not in _REGISTRY:
        _load(HOST_CHECK_MODULES if check_id.startswith("host.") else CLUSTER_CHECK_MODULES)
    return _REGISTRY[check_id]


def describe(kind: str = "cluster") -> list[CheckInfo]:
    return [c.info for c in all_checks(kind)]


def declared_reads(checks: Iterable[Check]) -> list[str]:
    """The reads the given checks declare, each once, in first-declared order."""
    return list(dict.fromkeys(r for c in checks for r in c.reads))
