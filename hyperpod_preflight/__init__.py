"""hyperpod-preflight: find what would make a SageMaker HyperPod cluster fail, before
`aws sagemaker create-cluster`.

The public API returns pydantic models, never prints and never exits. One function per kind
of run, each taking one typed, frozen options object (the same the command line builds)::

    import hyperpod_preflight as hp
    opts = hp.CheckOptions(cluster=hp.ClusterInput(config="cluster-config.json"))
    report = hp.run_check(opts)              # needs AWS credentials (or offline=True)
    print(hp.plan(hp.load_spec("cluster-config.json")).subnets)

``run_check``, ``run_audit``, ``run_capacity``, ``run_quotas_plan``, ``run_quotas_request``,
``run_host``, ``run_lifecycle_lint``, ``run_tools``, ``run_sandbox`` and ``run_diagnose``: see
:mod:`.api`.

Errors are raised as :class:`InputError` (bad input) and :class:`CannotRunError` (no
credentials, endpoint unreachable). boto3 is imported only when AWS is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from .api import (
    run_audit,
    run_capacity,
    run_check,
    run_diagnose,
    run_host,
    run_lifecycle_lint,
    run_quotas_plan,
    run_quotas_request,
    run_sandbox,
    run_tools,
)
from .errors import CannotRunError, InputError, PreflightError
from .options import (
    AuditOptions,
    AwsOptions,
    CapacityOptions,
    CheckOptions,
    ClusterInput,
    DiagnoseOptions,
    FailOn,
    HostOptions,
    LintOptions,
    QuotasOptions,
    SandboxOptions,
    Selection,
    Suppression,
    ToolsOptions,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from boto3 import Session

    from .catalog import InstanceTypeInfo
    from .facts import AwsFacts
    from .models import Finding, Outcome, Report, Severity, Status, Summary
    from .planner import ClusterPlan
    from .quota_requests import QuotaRequestPlan, QuotaRequestResult
    from .spec import ClusterSpec

_LAZY_MODELS = ("Finding", "Outcome", "Report", "Severity", "Status", "Summary")


def __getattr__(name: str) -> Any:
    # The models import pydantic; load them on first use so `hp-preflight --help` stays fast.
    if name in _LAZY_MODELS:
        from . import models

        return getattr(models, name)
    if name in ("QuotaRequestPlan", "QuotaRequestResult"):
        from . import quota_requests

        return getattr(quota_requests, name)
    if name in ("ClusterSpec", "ClusterPlan"):
        from . import planner as _plan
        from . import spec as _spec

        return getattr(_spec if name == "ClusterSpec" else _plan, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_spec(source: str | Path | dict[str, object], *, strict: bool = False) -> ClusterSpec:
    """Read and validate a CreateCluster config (a path, ``-`` for stdin, or a dict).

    Where it breaks the model the spec holds the rest and ``spec.problems`` each violation
    (``config.schema`` reports them); ``strict`` raises InputError instead."""
    from .spec import load_spec as _load

    spec: ClusterSpec = _load(source, strict=strict)
    return spec


def plan(
    spec: ClusterSpec,
    *,
    ip_headroom: int = 1,
    instance_types: Mapping[str, InstanceTypeInfo] | None = None,
) -> ClusterPlan:
    """What ``spec`` needs: instances, IPs per node and per subnet, subnet prefixes, ENIs."""
    from .planner import build_plan

    result: ClusterPlan = build_plan(spec, ip_headroom=ip_headroom, instance_types=instance_types)
    return result


def run_preflight(
    spec: ClusterSpec,
    session: Session | None = None,
    *,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    ignore: list[str] | None = None,
    fail_on: FailOn = "fail",
    offline: bool = False,
    ip_headroom: int = 1,
    concurrency: int = 16,
) -> Report:
    """Run the account pre-flight of ``spec`` and return the :class:`Report` (the local
    tools are not judged: :func:`run_tools` does that). :func:`run_check` takes every option.

    ``session`` is a ``boto3.Session``; without one the usual AWS resolution applies.
    """
    from .api import run_check_spec

    opts = CheckOptions(
        cluster=ClusterInput(ip_headroom=ip_headroom),
        selection=Selection(
            only=tuple(only or ()),
            skip=tuple(skip or ()),
            ignore=tuple(ignore or ()),
            fail_on=fail_on,
        ),
        offline=offline,
        concurrency=concurrency,
    )
    return run_check_spec(spec, opts, session=session)


def plan_quota_requests(
    spec: ClusterSpec,
    *,
    session: Session | None = None,
    facts: AwsFacts | None = None,
    headroom: int = 0,
    ip_headroom: int = 1,
) -> list[QuotaRequestPlan]:
    """The quota increases ``spec`` needs (read-only): per quota the current value, what
    existing HyperPod clusters use, the desired value and whether a request is already open.
    """
    from .preflight import connect, plan_with_live_types
    from .quota_requests import plan_quota_requests as _plan_requests

    facts = facts if facts is not None else connect(session)
    cluster_plan, _ = plan_with_live_types(spec, facts, ip_headroom)
    return _plan_requests(spec, cluster_plan, facts, headroom=headroom)


def submit_quota_requests(
    plans: list[QuotaRequestPlan],
    *,
    session: Session | None = None,
    facts: AwsFacts | None = None,
    wait: bool = False,
    timeout_s: float = 900,
    poll_s: float = 15,
) -> list[QuotaRequestResult]:
    """Submit the planned increases (the only call that changes the account). Never submits
    while a request for the same quota is open; with ``wait``, polls until each is resolved
    or ``timeout_s`` passes."""
    from .preflight import connect
    from .quota_requests import submit_quota_requests as _submit

    facts = facts if facts is not None else connect(session)
    return _submit(plans, facts, wait=wait, timeout_s=timeout_s, poll_s=poll_s)


__all__ = [
    "AuditOptions",
    "AwsOptions",
    "CannotRunError",
    "CapacityOptions",
    "CheckOptions",
    "ClusterInput",
    "ClusterPlan",
    "ClusterSpec",
    "DiagnoseOptions",
    "Finding",
    "HostOptions",
    "InputError",
    "LintOptions",
    "Outcome",
    "PreflightError",
    "QuotaRequestPlan",
    "QuotaRequestResult",
    "QuotasOptions",
    "Report",
    "SandboxOptions",
    "Selection",
    "Severity",
    "Status",
    "Summary",
    "Suppression",
    "ToolsOptions",
    "__version__",
    "load_spec",
    "plan",
    "plan_quota_requests",
    "run_audit",
    "run_capacity",
    "run_check",
    "run_diagnose",
    "run_host",
    "run_lifecycle_lint",
    "run_preflight",
    "run_quotas_plan",
    "run_quotas_request",
    "run_sandbox",
    "run_tools",
    "submit_quota_requests",
]


def __dir__() -> list[str]:
    # The public API only: not the typing helpers this module imports for its signatures.
    return sorted(__all__)
