"""Recognise answers that are not the AWS protocol: a proxy's login page, a captive portal,
an empty body where the operation always returns one.

botocore parses such bodies leniently: an HTML page from an EC2 or Service Quotas endpoint
becomes ``{}`` (read as "no subnets", "no quotas"), and on STS it raises ``KeyError``.
:func:`guard` runs on botocore's ``before-parse`` event of every client the facts make and
raises :class:`NotAwsProtocol` instead, before any parser sees the body; the call is not
retried (a portal answers the same way again).

What counts as AWS, per protocol of a successful (2xx) answer that is not a stream:

- never ``Content-Type: text/html``;
- ``ec2`` and ``query``: well-formed XML whose root element is ``<Operation>Response``;
- ``json``: a JSON object (an empty body only for an operation without output members);
- ``rest-json`` / ``rest-xml``: an empty body, or JSON / XML respectively.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import botocore.exceptions

from ..errors import one_line


class NotAwsProtocol(botocore.exceptions.BotoCoreError):  # type: ignore[misc]
    """A successful HTTP status whose body is not the AWS protocol."""

    fmt = "the {service} endpoint did not answer in the AWS protocol: {what}"


def problem(operation_model: Any, response_dict: dict[str, Any]) -> str | None:
    """Why this 2xx answer is not the AWS protocol, or None when it is (or is not 2xx)."""
    status = int(response_dict.get("status_code") or 0)
    if not 200 <= status < 300 or operation_model.has_streaming_output:
        return None
    headers = {str(k).lower(): str(v) for k, v in (response_dict.get("headers") or {}).items()}
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    body = response_dict.get("body") or b""
    if not isinstance(body, bytes | bytearray):
        return None
    text = bytes(body).strip()
    seen = f"HTTP {status}, {ctype or 'no content type'}, " + (
        f"body {one_line(text.decode('utf-8', 'replace'), 80)!r}" if text else "empty body"
    )
    if ctype == "text/html":
        return seen
    protocol = operation_model.metadata.get("protocol", "")
    if protocol.startswith("rest-") and _raw_payload(operation_model):
        return None  # the body is the value itself (S3 GetBucketPolicy: the policy's JSON)
    if protocol in ("ec2", "query"):
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            return seen
        if root.tag.rsplit("}", 1)[-1] != f"{operation_model.name}Response":
            return seen
        return None
    if protocol == "json":
        if not text:
            shape = operation_model.output_shape
            return seen if shape is not None and shape.members else None
        return None if _json_object(text) else seen
    if protocol == "rest-json" and text and not _json_object(text):
        return seen
    if protocol == "rest-xml" and text:
        try:
            ET.fromstring(text)
        except ET.ParseError:
            return seen
    return None


def _raw_payload(operation_model: Any) -> bool:
    """The output's ``payload`` member is a string or blob: the body carries it as is."""
    shape = operation_model.output_shape
    name = shape.serialization.get("payload") if shape is not None else None
    member = shape.members.get(name) if name else None
    return member is not None and member.type_name in ("string", "blob")


def _json_object(text: bytes) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def guard(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
    """botocore ``before-parse`` handler: raise :class:`NotAwsProtocol` on a non-AWS answer."""
    what = problem(operation_model, response_dict)
    if what is not None:
        raise NotAwsProtocol(service=operation_model.service_model.service_id, what=what)


def install(client: Any) -> Any:
    """Register :func:`guard` on ``client`` (idempotent) and return it."""
    client.meta.events.register("before-parse", guard, unique_id="hp-preflight-protocol-guard")
    return client
