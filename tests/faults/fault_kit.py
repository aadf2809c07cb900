"""What the fault-injection suite shares: botocore ``before-send`` answers that a real network
gives (throttling, a proxy's HTML page, an empty body, a hang), an :class:`AwsFacts` whose
every client sees them, and a switch that takes botocore's retry back-off sleep out of the
test's time (the attempts still happen and are counted).

Handlers go on the botocore session's emitter with ``register_first``: every client the code
under test makes copies it, the STS client of the identity check included, and they answer
before moto would.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.awsrequest
import botocore.session
from aws_world import ACCOUNT, REGION, Injector

HTML_LOGIN = (
    b"<!DOCTYPE html>\n<html>\n<head><title>Sign in to the proxy</title>"
    b"<style>body{font:12px}</style></head>\n<body>\n<h1>Corporate proxy</h1>\n"
    b"<form action='/login'>Password: <input type='password'></form>\n</body>\n</html>\n"
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = io.BytesIO(body)

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body.read()


def response(status: int, body: bytes, content_type: str = "text/xml") -> Any:
    return botocore.awsrequest.AWSResponse(
        "https://example.invalid/", status, {"Content-Type": content_type}, _Raw(body)
    )


def html_page(status: int = 200) -> Any:
    """A captive portal's or proxy's login page."""
    return response(status, HTML_LOGIN, "text/html; charset=utf-8")


def empty_body(content_type: str = "text/plain") -> Any:
    return response(200, b"", content_type)


def query_error(code: str, status: int = 400, message: str = "Rate exceeded") -> Any:
    """An error of the ``query`` protocol (STS, IAM)."""
    body = (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    ).encode()
    return response(status, body)


def json_error(code: str, status: int = 400, message: str = "Rate exceeded") -> Any:
    body = f'{{"__type": "{code}", "message": "{message}"}}'.encode()
    return response(status, body, "application/x-amz-json-1.1")


def caller_identity() -> Any:
    """A successful ``sts:GetCallerIdentity`` answer."""
    body = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<GetCallerIdentityResult><Arn>arn:aws:iam::{ACCOUNT}:user/tester</Arn>"
        f"<UserId>AIDAEXAMPLE</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult>"
        "<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000001</RequestId>"
        "</ResponseMetadata></GetCallerIdentityResponse>"
    ).encode()
    return response(200, body)


def faulty_facts(injector: Injector, **options: Any) -> Any:
    """An :class:`AwsFacts` on a fresh session whose every client meets ``injector`` first
    (operations it does not answer go on to moto, or to the closed loopback port)."""
    from hyperpod_preflight.facts import AwsFacts

    core = botocore.session.Session()
    core.get_component("event_emitter").register_first("before-send", injector)
    return AwsFacts(boto3.Session(botocore_session=core, region_name=REGION), **options)


def no_backoff(monkeypatch: Any) -> None:
    """botocore's retries without their sleeps: the back-off of ``standard`` and the
    client-side rate limiter of ``adaptive``."""
    import botocore.retries.bucket as bucket
    import botocore.retries.standard as standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.0)
    monkeypatch.setattr(bucket.TokenBucket, "acquire", lambda self, amount=1, block=True: True)


SUBNET = "subnet-0123456789abcdef0"
SG = "sg-0123456789abcdef0"


def small_spec() -> Any:
    """One Slurm group of two p5 nodes in one subnet and one security group."""
    from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, VpcSettings

    return ClusterSpec(
        name="c",
        orchestrator="slurm",
        instance_groups=(InstanceGroup(name="w", instance_type="ml.p5.48xlarge", count=2),),
        vpc_config=VpcSettings(subnets=(SUBNET,), security_group_ids=(SG,)),
    )
