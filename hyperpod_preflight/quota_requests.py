"""Quota request automation: plan the SageMaker quota increases a config needs, and submit
them safely.

Safety rules:

- The desired value is ``in use + needed + headroom`` for quotas shared by every HyperPod
  cluster of the region (per instance type, total), ``needed + headroom`` for the
  per-cluster quota, and the largest volume for the EBS size quota.
- Nothing is submitted while a request for that quota is open (PENDING, CASE_OPENED, or a
  status newer than this code): the history is read right before each submission, and
  ``ResourceAlreadyExistsException`` is reported as already requested.
- Only :func:`submit_quota_requests` changes anything, through the two mutating calls of
  :mod:`hyperpod_preflight.facts.quotas`. Neither function prints or exits.

    from hyperpod_preflight.quota_requests import plan_quota_requests, submit_quota_requests
    plans = plan_quota_requests(spec, plan, facts, headroom=2)
    results = submit_quota_requests(plans, facts, wait=True, timeout_s=600)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from .cache import exclusive_lock
from .errors import FactUnavailable
from .facts.quotas import RESOLVED_STATUSES, QuotaChangeRequest, SubmissionUncertain
from .planner import ClusterPlan, QuotaNeed, increase_command, sagemaker_quota_needs
from .registry import Check, CheckContext, Request, Then
from .registry import need as ask
from .results import CheckInfo, Outcome, Severity
from .runner import gatherer_for
from .shell import command
from .spec import ClusterSpec

if TYPE_CHECKING:
    from .facts.aws import AwsFacts
    from .facts.quotas import QuotaValue
    from .facts.sagemaker import HyperPodUsage


class QuotaReads(Protocol):
    """What working out a plan reads: the facts layer, or a view of what was gathered."""

    def sagemaker_quota(self, name: str, *aliases: str) -> QuotaValue | None: ...

    def hyperpod_usage(self) -> HyperPodUsage: ...

    def open_quota_requests(
        self, service_code: str, quota_code: str
    ) -> list[QuotaChangeRequest]: ...


PlanAction = Literal["submit", "already-pending", "sufficient", "unknown"]
ResultAction = Literal[
    "submitted", "already-pending", "already-requested", "skipped", "failed", "unconfirmed"
]


class QuotaRequestPlan(BaseModel):
    """What one quota needs and what :func:`submit_quota_requests` would do about it."""

    model_config = ConfigDict(frozen=True)

    quota_name: str
    quota_code: str | None = None
    service_code: str = "sagemaker"
    kind: str = ""
    current_value: float | None = Field(default=None, description="Applied, else AWS default.")
    value_source: Literal["applied", "default"] | None = None
    adjustable: bool | None = None
    in_use: int | None = Field(default=None, description="Held by existing HyperPod clusters.")
    needed: int
    headroom: int = 0
    desired_value: int
    pending_request_id: str | None = None
    pending_case_id: str | None = None
    pending_status: str | None = None
    pending_desired_value: float | None = None
    action: PlanAction
    reason: str = ""
    unit: str = "instances"

    @property
    def deficit(self) -> int | None:
        """How far the current value is below ``in use + needed`` (headroom excluded)."""
        if self.current_value is None or self.in_use is None:
            return None
        return max(0, self.in_use + self.needed - int(self.current_value))

    def command(self, region: str) -> str | None:
        """The AWS CLI command that submits this request (None without a quota code)."""
        if not self.quota_code:
            return None
        return increase_command(self.service_code, self.quota_code, self.desired_value, region)


class QuotaRequestResult(BaseModel):
    """What happened to one plan entry."""

    model_config = ConfigDict(frozen=True)

    quota_name: str
    quota_code: str | None = None
    service_code: str = "sagemaker"
    desired_value: int
    action: ResultAction
    request_id: str | None = None
    case_id: str | None = None
    status: str | None = None
    resolved: bool = False
    timed_out: bool = False
    poll_failed: bool = Field(default=False, description="--wait could not read its status.")
    message: str = ""


def plan_quota_requests(
    spec: ClusterSpec,
    plan: ClusterPlan,
    facts: AwsFacts,
    *,
    headroom: int = 0,
    include_history: bool = True,
) -> list[QuotaRequestPlan]:
    """One :class:`QuotaRequestPlan` per SageMaker quota ``spec`` needs.

    The reads (quotas, HyperPod usage and, with ``include_history``, the request history of
    each quota that would be submitted) are declared like a check's needs and gathered by
    the run pipeline's gatherer, all at once; the plan is worked out from a read-only view of
    what was gathered. What cannot be read becomes ``action="unknown"`` with the reason,
    never a guess.
    """
    if headroom < 0:
        raise ValueError("headroom must be >= 0")
    needs = sagemaker_quota_needs(spec, plan)
    view = _gathered(spec, plan, facts, PlanReads(needs, headroom, include_history))
    usage, usage_error = _usage(view, needs)
    return [_plan_one(need, view, usage, usage_error, headroom, include_history) for need in needs]


@dataclass(frozen=True)
class PlanReads:
    """The reads a quota request plan declares: every quota and the usage at once, then the
    history of each quota the plan would submit."""

    needs: Sequence[QuotaNeed]
    headroom: int
    include_history: bool

    def __call__(self, spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
        reads: list[Request] = [
            ask("sagemaker_quota", n.quota_name, *n.aliases) for n in self.needs
        ]
        if any(n.shared for n in self.needs):
            reads.append(ask("hyperpod_usage"))
        if self.include_history:
            reads.append(Then(self.histories))
        return reads

    def histories(self, ctx: CheckContext) -> list[Request]:
        """The history of each quota whose plan, without it, is to submit."""
        usage, usage_error = _usage(ctx.aws, self.needs)
        out: list[Request] = []
        for need in self.needs:
            first = _plan_one(need, ctx.aws, usage, usage_error, self.headroom, False)
            if first.action == "submit" and first.quota_code:
                out.append(ask("open_quota_requests", first.service_code, first.quota_code))
        return out


PLAN_READS_INFO = CheckInfo(
    check_id="quotas.request-plan",
    area="quotas",
    title="The reads of a quota request plan",
    severity=Severity.INFO,
    needs_aws=True,
)


def _gathered(
    spec: ClusterSpec, plan: ClusterPlan, facts: AwsFacts, reads: PlanReads
) -> QuotaReads:
    """A read-only view of what ``reads`` declared, gathered on ``facts``."""
    ctx = CheckContext(spec=spec, plan=plan, facts=facts)
    declared = Check(info=PLAN_READS_INFO, fn=_no_judge, needs=reads, declares_needs=True)
    gatherer = gatherer_for(ctx)
    try:
        allowed = gatherer.gather_for(declared, ctx)
    finally:
        gatherer.close()
    return gatherer.view(PLAN_READS_INFO.check_id, allowed)


def _no_judge(ctx: CheckContext) -> list[Outcome]:
    return []


def _usage(
    reads: QuotaReads, needs: Sequence[QuotaNeed]
) -> tuple[HyperPodUsage | None, FactUnavailable | None]:
    """The HyperPod usage (when a shared quota needs it), or why it could not be read."""
    if not any(n.shared for n in needs):
        return None, None
    try:
        return reads.hyperpod_usage(), None
    except FactUnavailable as exc:
        return None, exc


def _plan_one(
    need: QuotaNeed,
    facts: QuotaReads,
    usage: HyperPodUsage | None,
    usage_error: FactUnavailable | None,
    headroom: int,
    include_history: bool,
) -> QuotaRequestPlan:
    extra = 0 if need.kind == "ebs-volume-size" else headroom
    base: dict[str, Any] = {
        "quota_name": need.quota_name,
        "kind": need.kind,
        "needed": need.needed,
        "headroom": extra,
        "unit": need.unit,
    }
    try:
        quota = facts.sagemaker_quota(need.quota_name, *need.aliases)
    except FactUnavailable as exc:
        return QuotaRequestPlan(
            **base, desired_value=need.needed + extra, action="unknown", reason=exc.describe()
        )
    if quota is None:
        return QuotaRequestPlan(
            **base,
            desired_value=need.needed + extra,
            action="unknown",
            reason="no quota of this name in Service Quotas (applied or default)",
        )
    base.update(
        quota_code=quota.quota_code,
        service_code=quota.service_code,
        current_value=quota.value,
        value_source=quota.source,
        adjustable=quota.adjustable,
    )
    if need.shared and usage is None:
        reason = usage_error.describe() if usage_error else "usage unavailable"
        return QuotaRequestPlan(
            **base,
            desired_value=need.needed + extra,
            action="unknown",
            reason=f"instances held by existing clusters could not be read: {reason}",
        )
    in_use = need.in_use(usage) if need.shared else 0
    desired = in_use + need.needed + extra
    base.update(in_use=in_use, desired_value=desired)
    if quota.value is None:
        return QuotaRequestPlan(
            **base, action="unknown", reason=f"Service Quotas has no value ({quota.error})"
        )
    if quota.value >= desired:
        return QuotaRequestPlan(**base, action="sufficient", reason="the quota already covers it")
    if not quota.adjustable:
        return QuotaRequestPlan(
            **base,
            action="unknown",
            reason="not adjustable through Service Quotas: ask AWS Support or reduce the config",
        )
    if not include_history:
        return QuotaRequestPlan(**base, action="submit", reason="request history not read")
    try:
        open_requests = facts.open_quota_requests(quota.service_code, quota.quota_code)
    except FactUnavailable as exc:
        return QuotaRequestPlan(
            **base,
            action="unknown",
            reason=f"request history could not be read, so a duplicate cannot be ruled out: "
            f"{exc.describe()}",
        )
    if open_requests:
        return QuotaRequestPlan(**base, action="already-pending", **_pending(open_requests[0]))
    return QuotaRequestPlan(**base, action="submit", reason=f"short by {desired - quota.value:g}")


def _pending(req: QuotaChangeRequest) -> dict[str, Any]:
    desired = f"{req.desired_value:g}" if req.desired_value is not None else "?"
    return {
        "pending_request_id": req.request_id,
        "pending_case_id": req.case_id,
        "pending_status": req.status,
        "pending_desired_value": req.desired_value,
        "reason": f"request {req.request_id} for {desired} is {req.status}",
    }


def submit_quota_requests(
    plans: Sequence[QuotaRequestPlan],
    facts: AwsFacts,
    *,
    wait: bool = False,
    timeout_s: float = 900,
    poll_s: float = 15,
    sleep: Callable[[float], None] = time.sleep,
) -> list[QuotaRequestResult]:
    """Submit every ``action="submit"`` plan; report every plan.

    Before each submission the quota's request history is read again: an open request
    means no submission (``already-pending``); ``ResourceAlreadyExistsException`` means
    ``already-requested``. With ``wait``, polls ``GetRequestedServiceQuotaChange`` every
    ``poll_s`` seconds until each submitted or pending request is resolved (APPROVED,
    DENIED, CASE_CLOSED, NOT_APPROVED, INVALID_REQUEST) or ``timeout_s`` has passed.
    """
    if any(p.action == "submit" for p in plans):
        # One submitter per account and region on this machine: a second run waits here,
        # then reads the history that the first one's requests are already in.
        account = getattr(facts, "account", None) or "unknown-account"
        with exclusive_lock(f"quota-requests-{account}-{facts.region}"):
            results = [_submit_one(p, facts) for p in plans]
    else:
        results = [_submit_one(p, facts) for p in plans]
    if wait:
        results = _wait(results, facts, timeout_s=timeout_s, poll_s=poll_s, sleep=sleep)
    return results


def _result(p: QuotaRequestPlan, action: ResultAction, **fields: Any) -> QuotaRequestResult:
    return QuotaRequestResult(
        quota_name=p.quota_name,
        quota_code=p.quota_code,
        service_code=p.service_code,
        desired_value=p.desired_value,
        action=action,
        **fields,
    )


def _submit_one(p: QuotaRequestPlan, facts: AwsFacts) -> QuotaRequestResult:
    if p.action == "already-pending":
        return _result(
            p,
            "already-pending",
            request_id=p.pending_request_id,
            case_id=p.pending_case_id,
            status=p.pending_status,
            message=p.reason,
        )
    if p.action != "submit" or not p.quota_code:
        return _result(p, "skipped", message=f"{p.action}: {p.reason}".rstrip(": "))
    try:
        history = facts.read_quota_change_history(p.service_code, p.quota_code)
    except FactUnavailable as exc:
        return _result(
            p, "failed", message=f"not submitted: request history unreadable: {exc.describe()}"
        )
    open_requests = [r for r in history if r.is_open]
    if open_requests:
        pending = _pending(open_requests[0])
        return _result(
            p,
            "already-pending",
            request_id=pending["pending_request_id"],
            case_id=pending["pending_case_id"],
            status=pending["pending_status"],
            message=pending["reason"],
        )
    before = {r.request_id for r in history}
    try:
        submitted = facts.request_quota_increase(p.service_code, p.quota_code, p.desired_value)
    except SubmissionUncertain as exc:
        return _after_uncertain(p, facts, exc, before)
    except FactUnavailable as exc:
        return _result(p, "failed", message=f"not submitted: {exc.describe()}")
    if submitted is None:
        return _result(
            p,
            "already-requested",
            message="AWS answered ResourceAlreadyExistsException: a request for this quota "
            "is already open",
        )
    return _result(
        p,
        "submitted",
        request_id=submitted.request_id,
        case_id=submitted.case_id,
        status=submitted.status,
        resolved=submitted.status in RESOLVED_STATUSES,
        message=f"request {submitted.request_id} submitted for {p.desired_value}",
    )


def _after_uncertain(
    p: QuotaRequestPlan, facts: AwsFacts, exc: FactUnavailable, before: set[str]
) -> QuotaRequestResult:
    """The submission failed in a way that does not prove it was not received: read the
    history again and report what is really there; never submit again on a guess."""
    assert p.quota_code is not None
    check = command(
        "aws",
        "service-quotas",
        "list-requested-service-quota-change-history-by-quota",
        "--service-code",
        p.service_code,
        "--quota-code",
        p.quota_code,
        "--region",
        facts.region,
    )
    try:
        history = facts.read_quota_change_history(p.service_code, p.quota_code)
    except FactUnavailable as again:
        return _result(
            p,
            "unconfirmed",
            message=f"the request may or may not have been received ({exc.describe()}) and "
            f"the history could not be read ({again.describe()}): run `{check}` before any "
            "new attempt",
        )
    new_open = [r for r in history if r.request_id not in before and r.is_open]
    if new_open:
        req = new_open[0]
        return _result(
            p,
            "submitted",
            request_id=req.request_id,
            case_id=req.case_id,
            status=req.status,
            message=f"request {req.request_id} is in the history although the call failed "
            f"({exc.describe()})",
        )
    open_requests = [r for r in history if r.is_open]
    if open_requests:
        pending = _pending(open_requests[0])
        return _result(
            p,
            "already-pending",
            request_id=pending["pending_request_id"],
            case_id=pending["pending_case_id"],
            status=pending["pending_status"],
            message=pending["reason"],
        )
    return _result(
        p,
        "failed",
        message=f"not submitted: {exc.describe()}; the history read afterwards holds no "
        "request for this quota, so running again is safe",
    )


def _wait(
    results: list[QuotaRequestResult],
    facts: AwsFacts,
    *,
    timeout_s: float,
    poll_s: float,
    sleep: Callable[[float], None],
) -> list[QuotaRequestResult]:
    deadline = time.monotonic() + max(0.0, timeout_s)
    watching = {
        i
        for i, r in enumerate(results)
        if r.request_id and not r.resolved and r.action in ("submitted", "already-pending")
    }
    while watching:
        for i in sorted(watching):
            r = results[i]
            assert r.request_id is not None
            try:
                change = facts.requested_quota_change(r.request_id)
            except FactUnavailable as exc:
                results[i] = r.model_copy(
                    update={"poll_failed": True, "message": f"poll failed: {exc.describe()}"}
                )
                watching.discard(i)
                continue
            done = change.status in RESOLVED_STATUSES
            results[i] = r.model_copy(
                update={
                    "status": change.status,
                    "case_id": change.case_id or r.case_id,
                    "resolved": done,
                }
            )
            if done:
                watching.discard(i)
        if not watching:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            for i in watching:
                results[i] = results[i].model_copy(update={"timed_out": True})
            break
        sleep(min(poll_s, remaining))
    return results
