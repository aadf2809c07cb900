"""hyperpod-preflight: find what would make a SageMaker HyperPod cluster fail, before
`aws sagemaker create-cluster`.

The public API returns pydantic models, never prints and never exits::

    import hyperpod_preflight as hp
    spec = hp.load_spec("cluster-config.json")
    print(hp.plan(spec).subnets)
    report = hp.run_preflight(spec)          # needs AWS credentials
    report = hp.run_preflight(spec, offline=True)

Errors are raised as :class:`InputError` (bad input) and :class:`CannotRunError` (no
credentials, endpoint unreachable). boto3 is imported only when AWS is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from .errors import CannotRunError, InputError, PreflightError

if TYPE_CHECKING:
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


def load_spec(source: str | Path | dict[str, Any], *, strict: bool = False) -> ClusterSpec:
    """Read and validate a CreateCluster config (a path, ``-`` for stdin, or a dict).

    Where it breaks the model the spec holds the rest and ``spec.problems`` each violation
    (``config.schema`` reports them); ``strict`` raises InputError instead."""
    from .spec import load_spec as _load

    spec: ClusterSpec = _load(source, strict=strict)
    return spec


def plan(spec: ClusterSpec, *, ip_headroom: int = 1, instance_types: Any = None) -> ClusterPlan:
    """What ``spec`` needs: instances, IPs per node and per subnet, subnet prefixes, ENIs."""
    from .planner import build_plan

    result: ClusterPlan = build_plan(spec, ip_headroom=ip_headroom, instance_types=instance_types)
    return result


def run_preflight(
    spec: ClusterSpec,
    session: Any = None,
    *,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    ignore: list[str] | None = None,
    fail_on: str = "fail",
    offline: bool = False,
    ip_headroom: int = 1,
    concurrency: int = 16,
) -> Report:
    """Run the account pre-flight of ``spec`` and return the :class:`Report`.

    ``session`` is a ``boto3.Session``; without one the usual AWS resolution applies.
    """
    from .preflight import run_cluster_preflight

    return run_cluster_preflight(
        spec,
        session=session,
        only=only or [],
        skip=skip or [],
        ignore=ignore or [],
        fail_on=fail_on,
        offline=offline,
        ip_headroom=ip_headroom,
        concurrency=concurrency,
    )


def plan_quota_requests(
    spec: ClusterSpec,
    *,
    session: Any = None,
    facts: Any = None,
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
    session: Any = None,
    facts: Any = None,
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
    "CannotRunError",
    "ClusterPlan",
    "ClusterSpec",
    "Finding",
    "InputError",
    "Outcome",
    "PreflightError",
    "QuotaRequestPlan",
    "QuotaRequestResult",
    "Report",
    "Severity",
    "Status",
    "Summary",
    "__version__",
    "load_spec",
    "plan",
    "plan_quota_requests",
    "run_preflight",
    "submit_quota_requests",
]


def __dir__() -> list[str]:
    # The public API only: not the typing helpers this module imports for its signatures.
    return sorted(__all__)
