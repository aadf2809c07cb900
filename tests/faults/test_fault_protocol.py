"""Answers that are not the AWS protocol (a proxy's login page, an empty body) and service
errors carrying HTML or several lines: UNKNOWN with one clear line, never an empty result,
never a FAIL, never an internal error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_world import Injector, ec2_error, run
from fault_kit import empty_body, faulty_facts, html_page, json_error, no_backoff

from hyperpod_preflight.errors import FactUnavailable
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, VpcSettings

SUBNET = "subnet-0123456789abcdef0"
NOT_AWS = "did not answer in the AWS protocol"


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    no_backoff(monkeypatch)


def _spec() -> ClusterSpec:
    return ClusterSpec(
        name="c",
        orchestrator="slurm",
        instance_groups=(InstanceGroup(name="w", instance_type="ml.p5.48xlarge", count=2),),
        vpc_config=VpcSettings(subnets=(SUBNET,), security_group_ids=("sg-0123456789abcdef0",)),
    )


def _answering(operation: str, answer: Callable[[], Any]) -> Any:
    return faulty_facts(Injector().always(operation, lambda _r: answer()), max_attempts=2)


@pytest.mark.parametrize("answer", [html_page, empty_body], ids=["html", "empty"])
def test_ec2_login_page_is_unknown_not_a_missing_subnet(answer: Callable[[], Any]) -> None:
    facts = _answering("DescribeSubnets", answer)
    with pytest.raises(FactUnavailable) as err:
        facts.subnets([SUBNET])
    assert err.value.reason == "protocol"
    assert f"the EC2 endpoint {NOT_AWS}: HTTP 200" in err.value.describe()
    [finding] = run("network.subnet-exists", _spec(), facts)
    assert finding.status.value == "UNKNOWN"
    assert NOT_AWS in finding.message and not finding.internal_error
    assert "\n" not in finding.message and "<" not in finding.message


@pytest.mark.parametrize("answer", [html_page, empty_body], ids=["html", "empty"])
def test_service_quotas_login_page_is_not_an_empty_listing(answer: Callable[[], Any]) -> None:
    facts = _answering("ListServiceQuotas", answer)
    with pytest.raises(FactUnavailable, match=f"the Service Quotas endpoint {NOT_AWS}"):
        facts.applied_quotas("sagemaker")


def test_sagemaker_login_page_is_not_zero_in_use() -> None:
    facts = _answering("ListClusters", html_page)
    with pytest.raises(FactUnavailable, match=f"the SageMaker endpoint {NOT_AWS}"):
        facts.hyperpod_usage()


def test_a_proxy_error_page_becomes_one_line() -> None:
    facts = _answering("DescribeSubnets", lambda: html_page(502))
    with pytest.raises(FactUnavailable) as err:
        facts.subnets([SUBNET])
    text = err.value.describe()
    assert "\n" not in text and "<" not in text and "{font" not in text
    assert len(text) <= 300


def test_a_multi_line_service_message_becomes_one_line() -> None:
    message = "first line\\nsecond line\\n\\tthird"
    facts = _answering("ListServiceQuotas", lambda: json_error("ServiceException", 400, message))
    with pytest.raises(FactUnavailable) as err:
        facts.applied_quotas("sagemaker")
    assert err.value.describe().endswith("ServiceException: first line second line third")


def test_an_ec2_error_with_markup_in_its_message_keeps_one_line() -> None:
    facts = _answering(
        "DescribeSubnets",
        lambda: ec2_error("InternalError", 500, "&lt;html&gt;&lt;body&gt;\nbad\ngateway"),
    )
    with pytest.raises(FactUnavailable) as err:
        facts.subnets([SUBNET])
    assert "\n" not in err.value.describe() and "<" not in err.value.describe()
