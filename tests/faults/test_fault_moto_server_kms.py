"""Judge the body, not the header: moto_server (on loopback, in a thread) answers KMS's JSON
protocol with ``Content-Type: text/html``. A body that parses into the operation's output
shape is KMS's answer whatever its header says; an HTML page, an empty body or a JSON object
of the wrong shape from the same endpoint stays UNKNOWN."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from aws_world import REGION, Injector
from fault_kit import empty_body, faulty_facts, html_page, no_backoff, response

from hyperpod_preflight.errors import FactUnavailable
from hyperpod_preflight.facts import AwsFacts

NOT_AWS = "the KMS endpoint did not answer in the AWS protocol"


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    no_backoff(monkeypatch)
    return moto_server


@pytest.fixture
def key_id(endpoint: str) -> str:
    kms = boto3.client("kms", region_name=REGION, endpoint_url=endpoint)
    seen: list[str] = []
    kms.meta.events.register(
        "before-parse",
        lambda response_dict, **_: seen.append(response_dict["headers"].get("Content-Type", "")),
    )
    key = str(kms.create_key(Description="lifecycle")["KeyMetadata"]["KeyId"])
    assert seen and seen[0].startswith("text/html"), "moto_server no longer answers text/html"
    return key


def test_kms_json_answered_as_text_html_is_read(key_id: str) -> None:
    facts = AwsFacts(boto3.Session(region_name=REGION))
    key = facts.key(key_id)
    assert key is not None and key.state == "Enabled" and key.key_id == key_id
    assert '"Statement"' in facts.key_policy(key.arn)
    assert facts.key_grants(key.arn, "arn:aws:iam::123456789012:role/r") == ()


def _junk_json(_r: Any) -> Any:
    return response(200, b'{"unexpected": true}', "text/html; charset=utf-8")


@pytest.mark.parametrize(
    "answer",
    [lambda _r: html_page(), lambda _r: empty_body("text/html"), _junk_json],
    ids=["html-page", "empty", "wrong-shape-json"],
)
def test_kms_html_empty_or_wrong_shape_stays_unknown(
    key_id: str, answer: Callable[[Any], Any]
) -> None:
    facts = faulty_facts(Injector().always("DescribeKey", answer), max_attempts=1)
    with pytest.raises(FactUnavailable) as err:
        facts.key(key_id)
    assert err.value.reason == "protocol" and NOT_AWS in err.value.describe()
