"""Quota request automation: the plan (desired = in use + needed + headroom), no duplicate
while one is pending, ResourceAlreadyExistsException, --wait polling, what cannot be read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import moto_env
from quota_stubs import (
    P5,
    ServiceQuotasFake,
    change,
    create_existing_clusters,
    default_account,
    fresh_facts,
    quota,
    sagemaker_quotas,
    slurm_config,
)

from hyperpod_preflight.planner import build_plan
from hyperpod_preflight.quota_requests import plan_quota_requests, submit_quota_requests
from hyperpod_preflight.spec import load_spec

P5_QUOTA = f"{P5} for cluster usage"
P5_CODE = "L-8762A75F"


@pytest.fixture(scope="module")
def world() -> Iterator[None]:
    import boto3

    with moto_env():
        create_existing_clusters(boto3.client("sagemaker", region_name="us-west-2"))
        yield


@pytest.fixture(autouse=True)
def _lifted(_fail_closed_env: None, monkeypatch: pytest.MonkeyPatch, world: None) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


SPEC = load_spec(slurm_config(["subnet-0123456789abcdef0"], ["sg-0123456789abcdef0"]))
PLAN = build_plan(SPEC)


def setup(changes: dict[str, float | None] | None = None, **kwargs: Any) -> tuple[Any, Any]:
    applied, defaults = sagemaker_quotas(applied=default_account(changes))
    fake = ServiceQuotasFake(applied, defaults, **kwargs)
    facts = fresh_facts()
    fake.attach(facts)
    return fake, facts


def by_name(items: list[Any]) -> dict[str, Any]:
    return {i.quota_name: i for i in items}


def test_plan_desired_is_in_use_plus_needed_plus_headroom() -> None:
    _fake, facts = setup({P5_QUOTA: 6})
    plans = by_name(plan_quota_requests(SPEC, PLAN, facts, headroom=2))
    p5 = plans[P5_QUOTA]
    assert (p5.current_value, p5.in_use, p5.needed, p5.headroom) == (6, 3, 4, 2)
    assert p5.desired_value == 3 + 4 + 2 and p5.action == "submit" and p5.deficit == 1
    assert p5.quota_code == P5_CODE and p5.service_code == "sagemaker"
    assert p5.command("us-west-2") == (
        "aws service-quotas request-service-quota-increase --service-code sagemaker "
        f"--quota-code {P5_CODE} --desired-value 9 --region us-west-2"
    )
    # per-cluster: no usage; EBS: the largest volume, no headroom
    per_cluster = plans["Maximum number instances allowed per SageMaker HyperPod cluster"]
    assert per_cluster.in_use == 0 and per_cluster.desired_value == 6 + 2
    ebs = plans["Maximum size of EBS volume in GB for a SageMaker HyperPod cluster instance"]
    assert ebs.desired_value == 500 and ebs.action == "sufficient"
    total = plans["Total number of instances allowed across SageMaker HyperPod clusters"]
    assert total.in_use == 4 and total.desired_value == 4 + 6 + 2


def test_submit_sends_only_what_is_short_and_returns_ids() -> None:
    fake, facts = setup({P5_QUOTA: 6})
    plans = plan_quota_requests(SPEC, PLAN, facts)
    results = by_name(submit_quota_requests(plans, facts))
    assert [s["QuotaCode"] for s in fake.submitted] == [P5_CODE]
    assert fake.submitted[0]["DesiredValue"] == 7
    p5 = results[P5_QUOTA]
    assert p5.action == "submitted" and p5.request_id == "req-0001" and p5.case_id == "case-0001"
    assert p5.status == "PENDING" and not p5.resolved
    assert {r.action for n, r in results.items() if n != P5_QUOTA} == {"skipped"}


def test_duplicate_pending_request_is_not_resubmitted() -> None:
    pending = change("r-42", "sagemaker", P5_CODE, P5_QUOTA, 10, "CASE_OPENED", case_id="c-42")
    fake, facts = setup({P5_QUOTA: 6}, history=[pending])
    plans = by_name(plan_quota_requests(SPEC, PLAN, facts))
    p5 = plans[P5_QUOTA]
    assert p5.action == "already-pending" and p5.pending_request_id == "r-42"
    assert p5.pending_case_id == "c-42" and p5.pending_desired_value == 10
    results = by_name(submit_quota_requests(list(plans.values()), facts))
    assert results[P5_QUOTA].action == "already-pending" and results[P5_QUOTA].case_id == "c-42"
    assert fake.calls("RequestServiceQuotaIncrease") == 0


def test_history_is_read_again_right_before_submitting() -> None:
    fake, facts = setup({P5_QUOTA: 6})
    plans = plan_quota_requests(SPEC, PLAN, facts)
    assert by_name(plans)[P5_QUOTA].action == "submit"
    # someone else asks for it between the plan and the submission
    fake.history.append(change("r-7", "sagemaker", P5_CODE, P5_QUOTA, 8, "PENDING"))
    results = by_name(submit_quota_requests(plans, facts))
    assert results[P5_QUOTA].action == "already-pending" and results[P5_QUOTA].request_id == "r-7"
    assert fake.calls("RequestServiceQuotaIncrease") == 0


def test_resource_already_exists_is_treated_as_already_requested() -> None:
    fake, facts = setup({P5_QUOTA: 6})
    fake.exists_on_request = True
    results = by_name(submit_quota_requests(plan_quota_requests(SPEC, PLAN, facts), facts))
    assert results[P5_QUOTA].action == "already-requested"
    assert "ResourceAlreadyExistsException" in results[P5_QUOTA].message
    assert fake.calls("RequestServiceQuotaIncrease") == 1


def test_wait_polls_until_approved() -> None:
    fake, facts = setup({P5_QUOTA: 6})
    plans = plan_quota_requests(SPEC, PLAN, facts)
    results = by_name(submit_quota_requests(plans, facts, wait=True, timeout_s=5, poll_s=0.01))
    p5 = results[P5_QUOTA]
    assert p5.status == "APPROVED" and p5.resolved and not p5.timed_out
    assert fake.calls("GetRequestedServiceQuotaChange") == 2  # CASE_OPENED, then APPROVED


def test_wait_gives_up_at_the_timeout() -> None:
    fake, facts = setup({P5_QUOTA: 6}, progression=("PENDING",))
    plans = plan_quota_requests(SPEC, PLAN, facts)
    results = by_name(submit_quota_requests(plans, facts, wait=True, timeout_s=0.05, poll_s=0.01))
    p5 = results[P5_QUOTA]
    assert p5.timed_out and not p5.resolved and p5.status == "PENDING"
    assert fake.calls("GetRequestedServiceQuotaChange") >= 2


def test_unreadable_quotas_are_unknown_and_never_submitted() -> None:
    fake, facts = setup({P5_QUOTA: 6})
    fake.deny("ListServiceQuotas")
    plans = plan_quota_requests(SPEC, PLAN, facts)
    assert {p.action for p in plans} == {"unknown"}
    assert all("servicequotas:ListServiceQuotas" in p.reason for p in plans)
    results = submit_quota_requests(plans, facts)
    assert {r.action for r in results} == {"skipped"}
    assert fake.calls("RequestServiceQuotaIncrease") == 0


def test_unreadable_history_blocks_the_submission() -> None:
    fake, facts = setup({P5_QUOTA: 6})
    fake.deny("ListRequestedServiceQuotaChangeHistoryByQuota")
    p5 = by_name(plan_quota_requests(SPEC, PLAN, facts))[P5_QUOTA]
    assert p5.action == "unknown" and "duplicate cannot be ruled out" in p5.reason


def test_denied_submission_is_reported_failed() -> None:
    fake, facts = setup({P5_QUOTA: 6})
    fake.deny("RequestServiceQuotaIncrease")
    results = by_name(submit_quota_requests(plan_quota_requests(SPEC, PLAN, facts), facts))
    assert results[P5_QUOTA].action == "failed"
    assert "servicequotas:RequestServiceQuotaIncrease" in results[P5_QUOTA].message


def test_not_adjustable_quota_is_not_requested() -> None:
    applied, defaults = sagemaker_quotas(applied=default_account({P5_QUOTA: None}))
    applied.append(quota(P5_QUOTA, P5_CODE, 2, adjustable=False))
    fake = ServiceQuotasFake(applied, defaults)
    facts = fresh_facts()
    fake.attach(facts)
    p5 = by_name(plan_quota_requests(SPEC, PLAN, facts))[P5_QUOTA]
    assert p5.action == "unknown" and "not adjustable" in p5.reason


def test_negative_headroom_is_rejected() -> None:
    _fake, facts = setup()
    with pytest.raises(ValueError):
        plan_quota_requests(SPEC, PLAN, facts, headroom=-1)


def test_the_plan_reads_only_what_it_declares_gathered_at_once() -> None:
    """The plan's reads go through the run pipeline's gatherer: every quota and the usage
    are declared up front, and the request history only of the quota it would submit (the
    short P5 quota), never of one that is sufficient; nothing is submitted."""
    from hyperpod_preflight.planner import sagemaker_quota_needs
    from hyperpod_preflight.quota_requests import PlanReads
    from hyperpod_preflight.registry import Need, Then

    fake, facts = setup({P5_QUOTA: 6})
    needs = sagemaker_quota_needs(SPEC, PLAN)
    declared = PlanReads(needs, 0, True)(SPEC, PLAN)
    readers = [r.reader for r in declared if isinstance(r, Need)]
    assert readers.count("sagemaker_quota") == len(needs) and "hyperpod_usage" in readers
    assert [r for r in declared if isinstance(r, Then)]  # the histories, once quotas are in
    plans = by_name(plan_quota_requests(SPEC, PLAN, facts))
    assert [p.quota_name for p in plans.values() if p.action == "submit"] == [P5_QUOTA]
    assert fake.calls("ListRequestedServiceQuotaChangeHistoryByQuota") == 1
    assert fake.calls("RequestServiceQuotaIncrease") == 0
    quiet, facts = setup({P5_QUOTA: 6})
    plan_quota_requests(SPEC, PLAN, facts, include_history=False)
    assert quiet.calls("ListRequestedServiceQuotaChangeHistoryByQuota") == 0
