"""The check registry: a decorator registers check functions under stable ids.

A check is a function of a :class:`~hyperpod_preflight.runner.CheckContext` that returns
(or yields) :class:`~hyperpod_preflight.models.Outcome` objects, one per resource judged.
It does no I/O of its own: AWS reads go through ``ctx.facts``, host reads through
``ctx.host``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .models import CheckInfo, Outcome, Severity

if TYPE_CHECKING:
    from .runner import CheckContext

CheckFn = Callable[["CheckContext"], Iterable[Outcome]]

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
_ID_RE = re.compile(r"^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Check:
    info: CheckInfo
    fn: CheckFn

    @property
    def check_id(self) -> str:
        return self.info.check_id


_REGISTRY: dict[str, Check] = {}


def check(
    check_id: str,
    title: str,
    severity: Severity,
    *,
    needs_aws: bool = True,
    docs_url: str = "",
) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as check ``check_id`` (``area.kebab-name``)."""

    if not _ID_RE.match(check_id):
        raise ValueError(f"check id {check_id!r} is not of the form area.kebab-name")
    area = check_id.split(".", 1)[0]
    if area not in AREAS:
        raise ValueError(f"check id {check_id!r} has unknown area {area!r}")

    def register(fn: CheckFn) -> CheckFn:
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
        _REGISTRY[check_id] = Check(info=info, fn=fn)
        return fn

    return register


# Modules holding cluster (account) checks; importing them registers their checks.
CLUSTER_CHECK_MODULES = (
    "hyperpod_preflight.checks.config",
    "hyperpod_preflight.checks.network",
    "hyperpod_preflight.checks.capacity",
    "hyperpod_preflight.checks.quotas",
)
HOST_CHECK_MODULES = ("hyperpod_preflight.host.checks",)


def _load(modules: Iterable[str]) -> None:
    import importlib

    for name in modules:
        importlib.import_module(name)


def all_checks(kind: str = "cluster") -> list[Check]:
    """Every registered check of ``kind`` (``cluster`` or ``host``), ordered by id."""

    _load(CLUSTER_CHECK_MODULES if kind == "cluster" else HOST_CHECK_MODULES)
    host = kind == "host"
    chosen = (c for c in _REGISTRY.values() if (c.info.area == "host") == host)
    return sorted(chosen, key=lambda c: c.check_id)


def get(check_id: str) -> Check:
    return _REGISTRY[check_id]


def describe(kind: str = "cluster") -> list[CheckInfo]:
    return [c.info for c in all_checks(kind)]
