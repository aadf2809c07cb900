"""The settings of a run, as frozen objects: what the CLI's options object maps onto and what
the library entry points take (``run_cluster_preflight(spec, ClusterRun(...))``).

Each entry point also accepts the fields as keywords (``only=[...]``, ``facts=...``), which
override the settings object's: the old call style keeps working.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import InputError
from ..runner import FailOn, Selection

if TYPE_CHECKING:
    from boto3 import Session

    from ..facts.aws import AwsFacts

DEFAULT_TIMEOUT_S = 120.0
FAIL_LEVELS = ("fail", "warn", "unknown")


@dataclass(frozen=True)
class AwsAccess:
    """How a run reaches AWS: facts or a session handed in, else one made from these."""

    session: Session | None = None
    facts: AwsFacts | None = None  # its own session
    profile: str | None = None
    region: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = 10
    quota_code_cache: bool = True


@dataclass(frozen=True)
class Choice:
    """Which checks run and how their results count (--only/--skip/--ignore/--fail-on/
    --timeout)."""

    only: Sequence[str] = ()
    skip: Sequence[str] = ()
    ignore: Sequence[str] = ()
    fail_on: str = "fail"
    concurrency: int = 16
    timeout_s: float | None = DEFAULT_TIMEOUT_S

    def selection(self) -> Selection:
        """The runner's selection; ``--fail-on`` validated here, once."""
        if self.fail_on not in FAIL_LEVELS:
            raise InputError(f"--fail-on {self.fail_on!r}: choose fail, warn or unknown")
        level: FailOn = self.fail_on  # type: ignore[assignment]
        return Selection(
            only=list(self.only),
            skip=list(self.skip),
            ignore=list(self.ignore),
            fail_on=level,
            concurrency=self.concurrency,
            timeout_s=self.timeout_s,
        )


@dataclass(frozen=True)
class ClusterRun:
    """A cluster pre-flight (``check``)."""

    aws: AwsAccess = AwsAccess()
    choice: Choice = Choice()
    offline: bool = False
    ip_headroom: int = 1
    options: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "cluster"  # or "diagnose": a live cluster, with the cluster.* checks


@dataclass(frozen=True)
class VpcAuditRun:
    """The whole-VPC audit (``--vpc`` without a config)."""

    aws: AwsAccess = AwsAccess(quota_code_cache=False)
    choice: Choice = Choice()
    instance_types: Sequence[str] = ()
    nodes: int = 4
    orchestrator: str | None = None
    ip_headroom: int = 1
    fsx: bool = False
    offline: bool = False  # refused (after the selection is checked): the audit reads AWS


@dataclass(frozen=True)
class CapacityRun:
    """The region scan (``hp-preflight capacity``): ``regions`` are names, ``"all"``
    (botocore's partition data) or empty (the session's region); ``workers``: regions read
    at once."""

    aws: AwsAccess = AwsAccess(quota_code_cache=False)
    choice: Choice = Choice()
    regions: Sequence[str] | str | None = None
    orchestrator: str = "slurm"
    vpc: str | None = None
    workers: int = 8


S = TypeVar("S", ClusterRun, VpcAuditRun, CapacityRun)


def with_fields(settings: S, fields: Mapping[str, Any]) -> S:
    """``settings`` with keyword fields applied, wherever they live (``only`` goes to
    ``choice``, ``facts`` to ``aws``); an unknown keyword is a TypeError, as for a call."""
    top: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {"aws": {}, "choice": {}}
    names = {f.name for f in dataclasses.fields(settings)}
    for key, value in fields.items():
        if key in names:
            top[key] = value
        elif key in {f.name for f in dataclasses.fields(AwsAccess)}:
            parts["aws"][key] = value
        elif key in {f.name for f in dataclasses.fields(Choice)}:
            parts["choice"][key] = value
        else:
            raise TypeError(f"unexpected keyword argument {key!r}")
    for part, values in parts.items():
        if values:
            top[part] = dataclasses.replace(top.get(part, getattr(settings, part)), **values)
    return dataclasses.replace(settings, **top)
