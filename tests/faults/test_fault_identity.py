"""sts:GetCallerIdentity on a bad network: throttled, answered by a proxy, denied."""

from __future__ import annotations

import pytest
from aws_world import ACCOUNT, Injector
from fault_kit import caller_identity, empty_body, faulty_facts, html_page, no_backoff, query_error

from hyperpod_preflight.errors import CannotRunError


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    no_backoff(monkeypatch)


def test_throttled_identity_is_retried_like_every_call() -> None:
    inj = Injector().queue(
        "GetCallerIdentity",
        *[query_error("Throttling") for _ in range(4)],
        caller_identity(),
    )
    facts = faulty_facts(inj, max_attempts=5)
    assert facts.verify_identity()["Account"] == ACCOUNT
    assert facts.account == ACCOUNT
    assert inj.seen["GetCallerIdentity"] == 5


def test_identity_still_throttled_says_throttling_not_credentials() -> None:
    inj = Injector().always("GetCallerIdentity", lambda _r: query_error("Throttling"))
    facts = faulty_facts(inj, max_attempts=3)
    with pytest.raises(CannotRunError) as err:
        facts.verify_identity()
    message = str(err.value)
    assert "throttled" in message and "Throttling" in message
    assert "credentials" not in message
    assert "\n" not in message
    assert inj.seen["GetCallerIdentity"] == 3


def test_rejected_credentials_still_say_so_without_retrying() -> None:
    inj = Injector().always(
        "GetCallerIdentity", lambda _r: query_error("InvalidClientTokenId", 403, "bad token")
    )
    with pytest.raises(CannotRunError, match="rejected the credentials"):
        faulty_facts(inj, max_attempts=5).verify_identity()
    assert inj.seen["GetCallerIdentity"] == 1


@pytest.mark.parametrize("answer", [html_page, empty_body], ids=["html", "empty"])
def test_identity_answered_by_a_proxy_is_a_clear_cannot_run(answer: object) -> None:
    inj = Injector().always("GetCallerIdentity", lambda _r: answer())  # type: ignore[operator]
    with pytest.raises(CannotRunError) as err:
        faulty_facts(inj).verify_identity()
    message = str(err.value)
    assert message.startswith("the STS endpoint did not answer in the AWS protocol: HTTP 200")
    assert "KeyError" not in message and "\n" not in message and "<html" not in message.lower()
    assert inj.seen["GetCallerIdentity"] == 1  # a portal answers the same way again
