"""Quota requests that cannot duplicate: the submission is sent once, an ambiguous failure
is settled from the history, concurrent runs on one machine are serialized, a failed --wait
poll is a failure, and unreadable histories never read as "nothing to submit"."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import moto_env
from fault_kit import no_backoff
from quota_stubs import (
    P5,
    ServiceQuotasFake,
    create_existing_clusters,
    default_account,
    error,
    fresh_facts,
    sagemaker_quotas,
    slurm_config,
)

from hyperpod_preflight.cli.quotas import request_quotas
from hyperpod_preflight.planner import build_plan
from hyperpod_preflight.quota_requests import plan_quota_requests, submit_quota_requests
from hyperpod_preflight.spec import load_spec

P5_QUOTA = f"{P5} for cluster usage"
SPEC = load_spec(slurm_config(["subnet-0123456789abcdef0"], ["sg-0123456789abcdef0"]))
PLAN = build_plan(SPEC)


@pytest.fixture(scope="module")
def world() -> Iterator[None]:
    import boto3

    with moto_env():
        create_existing_clusters(boto3.client("sagemaker", region_name="us-west-2"))
        yield


@pytest.fixture(autouse=True)
def _lifted(_fail_closed_env: None, monkeypatch: pytest.MonkeyPatch, world: None) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    no_backoff(monkeypatch)


class LostAnswers(ServiceQuotasFake):
    """Service Quotas whose answer to a submission is lost after the request was recorded
    (``record=True``), or which fails before recording it (``record=False``)."""

    def __init__(self, *args: Any, record: bool, status: int = 503, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.record = record
        self.status = status

    def _op_RequestServiceQuotaIncrease(self, params: dict[str, Any]) -> Any:
        if self.record:
            super()._op_RequestServiceQuotaIncrease(params)
        code = "ServiceException" if self.status >= 500 else "TooManyRequestsException"
        return error(code, "injected", self.status)


def setup(fake_cls: type[ServiceQuotasFake] = ServiceQuotasFake, **kwargs: Any) -> tuple[Any, Any]:
    applied, defaults = sagemaker_quotas(applied=default_account({P5_QUOTA: 6}))
    fake = fake_cls(applied, defaults, **kwargs)
    facts = fresh_facts()
    fake.attach(facts)
    return fake, facts


def p5(results: list[Any]) -> Any:
    return next(r for r in results if r.quota_name == P5_QUOTA)


def test_a_lost_answer_is_settled_from_the_history_not_resent() -> None:
    fake, facts = setup(LostAnswers, record=True)
    result = p5(submit_quota_requests(plan_quota_requests(SPEC, PLAN, facts), facts))
    assert fake.calls("RequestServiceQuotaIncrease") == 1
    assert len(fake.submitted) == 1
    assert result.action == "submitted" and result.request_id == fake.submitted[0]["Id"]
    assert "although the call failed" in result.message


@pytest.mark.parametrize("status", [503, 400], ids=["5xx", "throttled"])
def test_a_failure_that_left_no_request_says_so(status: int) -> None:
    fake, facts = setup(LostAnswers, record=False, status=status)
    result = p5(submit_quota_requests(plan_quota_requests(SPEC, PLAN, facts), facts))
    assert fake.calls("RequestServiceQuotaIncrease") == 1
    assert result.action == "failed" and "holds no request" in result.message


def test_a_throttled_submission_says_it_was_sent_once_not_retried() -> None:
    """The submission is sent once by design: "still throttled after retries" was untrue."""
    fake, facts = setup(LostAnswers, record=False, status=400)
    result = p5(submit_quota_requests(plan_quota_requests(SPEC, PLAN, facts), facts))
    assert fake.calls("RequestServiceQuotaIncrease") == 1
    assert "after retries" not in result.message
    assert (
        "servicequotas:RequestServiceQuotaIncrease was throttled on its only attempt "
        "(sent once, not retried): TooManyRequestsException" in result.message
    )


def test_an_ambiguous_failure_with_an_unreadable_history_is_unconfirmed() -> None:
    fake, facts = setup(LostAnswers, record=True)
    plans = plan_quota_requests(SPEC, PLAN, facts)
    reads = fake.calls("ListRequestedServiceQuotaChangeHistoryByQuota")
    original = fake._op_RequestServiceQuotaIncrease

    def then_deny(params: dict[str, Any]) -> Any:
        fake.deny("ListRequestedServiceQuotaChangeHistoryByQuota")
        return original(params)

    fake._op_RequestServiceQuotaIncrease = then_deny  # type: ignore[method-assign]
    result = p5(submit_quota_requests(plans, facts))
    assert fake.calls("ListRequestedServiceQuotaChangeHistoryByQuota") > reads
    assert result.action == "unconfirmed"
    assert "list-requested-service-quota-change-history-by-quota" in result.message
    assert fake.calls("RequestServiceQuotaIncrease") == 1


def test_two_runs_at_once_submit_one_request() -> None:
    # The service's own duplicate check is off: only the tool may prevent the duplicate.
    fake, facts_a = setup(reject_duplicates=False)
    facts_b = fresh_facts()
    fake.attach(facts_b)
    fake.hooks["RequestServiceQuotaIncrease"] = lambda: time.sleep(0.3)
    plans = [plan_quota_requests(SPEC, PLAN, f) for f in (facts_a, facts_b)]
    assert all(p5(list(p)).action == "submit" for p in plans)
    results: list[Any] = [None, None]

    def submit(i: int, facts: Any) -> None:
        results[i] = p5(submit_quota_requests(plans[i], facts))

    threads = [
        threading.Thread(target=submit, args=(i, f)) for i, f in enumerate((facts_a, facts_b))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    p5_requests = [s for s in fake.submitted if s["QuotaName"] == P5_QUOTA]
    assert len(p5_requests) == 1
    assert sorted(r.action for r in results) == ["already-pending", "submitted"]


def test_wait_with_a_failed_poll_says_so_and_exits_non_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, facts = setup()
    fake.deny("GetRequestedServiceQuotaChange")
    code = request_quotas(SPEC, PLAN, facts, yes=True, wait=True, timeout_s=5, poll_s=0.01)
    out = capsys.readouterr().out
    assert code == 1
    assert "poll failed" in out and "servicequotas:GetRequestedServiceQuotaChange" in out


def test_every_history_unreadable_never_says_nothing_to_submit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, facts = setup()
    fake.deny("ListRequestedServiceQuotaChangeHistoryByQuota")
    code = request_quotas(SPEC, PLAN, facts, yes=True)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert code == 1
    assert "nothing to submit" not in last and "could not be judged" in last
    assert fake.calls("RequestServiceQuotaIncrease") == 0
