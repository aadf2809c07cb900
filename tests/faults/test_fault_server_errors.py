"""5xx answers, and STS answers without their result: one clear line naming the HTTP status
and the endpoint that answered; never "failed ()", never an internal error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_world import Injector, run
from fault_kit import faulty_facts, html_page, no_backoff, query_error, response, small_spec

import hyperpod_preflight.checks.network  # noqa: F401  (registers the checks)
from hyperpod_preflight.errors import CannotRunError, FactUnavailable
from hyperpod_preflight.models import Status

# Every client of the test session points at the closed loopback port (conftest).
HOST = "127.0.0.1:9"


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    no_backoff(monkeypatch)


SERVER_ERRORS: dict[str, Callable[[], Any]] = {
    "empty-500": lambda: response(500, b"", "text/plain"),
    "html-502": lambda: html_page(502),
    "empty-503": lambda: response(503, b""),
    "query-500": lambda: query_error("InternalFailure", 500, "We encountered an internal error"),
    "no-code-500": lambda: response(
        500, b"<ErrorResponse><Error><Type>Receiver</Type></Error></ErrorResponse>"
    ),
}


@pytest.mark.parametrize("answer", SERVER_ERRORS.values(), ids=SERVER_ERRORS.keys())
def test_iam_5xx_names_the_status_and_the_endpoint(answer: Callable[[], Any]) -> None:
    inj = Injector().always("GetRole", lambda _r: answer())
    facts = faulty_facts(inj, max_attempts=2)
    with pytest.raises(FactUnavailable) as err:
        facts.role("hyperpod-exec")
    text = err.value.describe()
    status = answer().status_code
    assert text.startswith(f"iam:GetRole failed: HTTP {status} from {HOST}"), text
    assert "\n" not in text and "<" not in text
    assert inj.seen["GetRole"] == 2  # a server error is retried like every call


def test_a_5xx_keeps_the_services_own_code_and_message() -> None:
    inj = Injector().always("GetRole", lambda _r: SERVER_ERRORS["query-500"]())
    with pytest.raises(FactUnavailable) as err:
        faulty_facts(inj, max_attempts=1).role("hyperpod-exec")
    assert err.value.describe() == (
        f"iam:GetRole failed: HTTP 500 from {HOST}: InternalFailure: "
        "We encountered an internal error"
    )


def test_ec2_5xx_makes_the_check_unknown_naming_status_and_endpoint() -> None:
    inj = Injector().always("DescribeSubnets", lambda _r: response(500, b""))
    [finding] = run("network.subnet-exists", small_spec(), faulty_facts(inj, max_attempts=1))
    assert finding.status is Status.UNKNOWN
    assert f"HTTP 500 from {HOST}" in finding.message


@pytest.mark.parametrize("answer", SERVER_ERRORS.values(), ids=SERVER_ERRORS.keys())
def test_sts_5xx_is_one_line_with_status_and_endpoint(answer: Callable[[], Any]) -> None:
    inj = Injector().always("GetCallerIdentity", lambda _r: answer())
    with pytest.raises(CannotRunError) as err:
        faulty_facts(inj, max_attempts=2).verify_identity()
    message = str(err.value)
    status = answer().status_code
    assert message.startswith(f"sts:GetCallerIdentity failed: HTTP {status} from {HOST}"), message
    assert "()" not in message and not message.endswith(": ")
    assert "\n" not in message and "<" not in message
    assert err.value.exit_code == 3
