"""The suite itself must fail closed: no real AWS, no metadata address."""

from __future__ import annotations

import socket

import boto3
import botocore.config
import botocore.exceptions
import pytest


def test_default_endpoint_is_loopback_and_refused() -> None:
    sts = boto3.client(
        "sts",
        region_name="us-west-2",
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )
    assert sts.meta.endpoint_url.startswith("http://127.0.0.1")
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        sts.get_caller_identity()


@pytest.mark.filterwarnings("ignore:A test tried to use socket:UserWarning")
def test_connections_off_loopback_are_refused() -> None:
    with pytest.raises(Exception) as info:
        socket.create_connection(("169.254.169.254", 80), timeout=1)
    assert (
        "169.254.169.254" in str(info.value) or "SocketConnectBlocked" in type(info.value).__name__
    )
