"""Recognise answers that are not the AWS protocol: a proxy's login page, a captive portal,
an empty body where the operation always returns one, XML or JSON that is not the
operation's output shape.

botocore parses such bodies leniently: an HTML page from an EC2 or Service Quotas endpoint
becomes ``{}`` (read as "no subnets", "no quotas"), ``<DescribeSubnetsResponse><foo/>``
becomes "no subnets", ``{"unexpected": true}`` from SageMaker becomes "no clusters", any XML
from S3's GetBucketLocation becomes "us-east-1", and on STS a missing result raises
``KeyError``. The guard that :func:`install` puts on every client the facts make raises
:class:`NotAwsProtocol` instead, before any reader sees the answer: on botocore's
``before-parse`` event for the raw body, on ``after-call`` for the parsed answer (botocore's
own parse, not a second one); the call is not retried (a portal answers the same way
again). A server error (5xx) whose body is some other page is left to botocore as a bare
status, which it retries.

The body is judged, not the ``Content-Type`` header (moto_server answers KMS's JSON as
``text/html``). What counts as AWS, for a successful (2xx) answer, per protocol:

- S3 and S3 Control (every answer, HEAD and streams included): one of S3's request id
  headers (``x-amz-request-id``, ``x-amz-id-2``; moto and LocalStack send
  ``x-amzn-requestid``). A 200 to HEAD with ``Content-Length: 0`` and nothing else is a
  proxy's, not an empty object's.
- ``ec2`` and ``query``: well-formed XML whose root element is ``<Operation>Response``;
  ``query`` answers also hold the ``<Operation>Result`` element the model names.
- ``json`` / ``rest-json``: a JSON object (an empty body only where the output has no body
  members).
- ``rest-xml``: XML whose root is the payload member's element, or whose root or children
  include one of the output's body members; GetBucketLocation's root is
  ``<LocationConstraint>``.
- then, parsed as botocore parses it: every member the model marks required is there, a
  list operation's list (its paginator's result key, one of them where it has several; not
  for ``rest-xml``, where S3 leaves an empty flattened list out) is there, and an output
  with body members carries at least one of them.

Stubbed answers (botocore's ``Stubber``, the sandbox's ``before-call`` answers) never pass
through the parser and are not judged here.
"""

from __future__ import annotations

import functools
import json
import threading
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

import botocore.exceptions
import botocore.parsers
import botocore.session

from ..errors import one_line

# Headers S3 sends with every answer
# (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonResponseHeaders.html);
# ``x-amzn-requestid`` is what moto_server and LocalStack send.
S3_REQUEST_ID_HEADERS = ("x-amz-request-id", "x-amz-id-2", "x-amzn-requestid")
_S3_SERVICES = frozenset({"s3", "s3control"})
_NOT_BODY = frozenset({"header", "headers", "statusCode"})
_PAGINATORS_LOCK = threading.Lock()
_RESULT_KEYS: dict[tuple[str, str, str], tuple[str, ...]] = {}
# Put by a client's guard into what botocore's parser returns for an answer it must still
# judge on the parsed result (botocore merges ``customized_response_dict`` into it); taken
# out again before anyone else sees the answer.
_PARSED_MARK = "__hp_preflight_judge_parsed__"


class NotAwsProtocol(botocore.exceptions.BotoCoreError):  # type: ignore[misc]
    """A successful HTTP status whose answer is not the AWS protocol."""

    fmt = "the {service} endpoint did not answer in the AWS protocol: {what}"


def problem(
    operation_model: Any, response_dict: dict[str, Any], endpoint: str | None = None
) -> str | None:
    """Why this 2xx answer is not the AWS protocol, or None when it is (or is not 2xx).

    The whole judgement (raw body, then the answer parsed as botocore parses it); a client's
    guard makes the second half on botocore's own parse instead (see :func:`install`)."""
    why = _raw_problem(operation_model, response_dict)
    if why is None and _needs_shape_check(operation_model, response_dict):
        try:
            protocol = _protocol(operation_model)
            parsed = botocore.parsers.create_parser(protocol).parse(
                dict(response_dict), operation_model.output_shape
            )
        except Exception as exc:  # botocore's parser raised: not its protocol
            why = f": {type(exc).__name__} while parsing"
        else:
            why = _parsed_problem(operation_model, parsed, _result_keys(operation_model))
    return None if why is None else _described(response_dict, endpoint, why)


def _raw_problem(operation_model: Any, response_dict: dict[str, Any]) -> str | None:
    """What is wrong with a 2xx answer before it is parsed (its S3 headers, its body for the
    protocol), or None."""
    status = int(response_dict.get("status_code") or 0)
    if not 200 <= status < 300:
        return None
    body = response_dict.get("body")
    service = operation_model.service_model.service_name
    if service in _S3_SERVICES:
        headers = {str(k).lower() for k in (response_dict.get("headers") or {})}
        if not any(h in headers for h in S3_REQUEST_ID_HEADERS):
            return f", no S3 request id header ({' / '.join(S3_REQUEST_ID_HEADERS[:2])})"
    if operation_model.has_streaming_output or not isinstance(body, bytes | bytearray):
        return None
    return _body_problem(operation_model, bytes(body).strip())


def _needs_shape_check(operation_model: Any, response_dict: dict[str, Any]) -> bool:
    """A 2xx answer with a body that botocore parses, of an operation whose output shape
    has body members to look for."""
    status = int(response_dict.get("status_code") or 0)
    if not 200 <= status < 300 or operation_model.has_streaming_output:
        return False
    if not isinstance(response_dict.get("body"), bytes | bytearray):
        return False
    shape = operation_model.output_shape
    if not _body_members(shape) or operation_model.name == "GetBucketLocation":
        return False
    return not shape.serialization.get("payload")  # judged by its root element


def _described(response_dict: dict[str, Any], endpoint: str | None, why: str) -> str:
    """One line naming what was seen (only for an answer that is refused: a page can be
    large)."""
    status = int(response_dict.get("status_code") or 0)
    headers = {str(k).lower(): str(v) for k, v in (response_dict.get("headers") or {}).items()}
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    body = response_dict.get("body")
    raw = bytes(body).strip() if isinstance(body, bytes | bytearray) else b""
    where = f" from {_host(endpoint)}" if endpoint else ""
    text = one_line(raw[:4096].decode("utf-8", "replace"), 80)
    seen = (
        f"body {text!r}"
        if text
        else f"a body of {len(raw)} bytes of markup"
        if raw
        else "empty body"
    )
    return f"HTTP {status}{where}, {ctype or 'no content type'}, {seen}{why}"


def _body_problem(operation_model: Any, text: bytes) -> str | None:
    """What is wrong with the raw body for its protocol ("" when it is not the protocol at
    all), or None when it passes."""
    protocol = _protocol(operation_model)
    shape = operation_model.output_shape
    if protocol in ("ec2", "query"):
        root = _xml(text)
        if root is None or _local(root.tag) != f"{operation_model.name}Response":
            return ""
        wrapper = shape.serialization.get("resultWrapper") if shape is not None else None
        if protocol == "query" and wrapper and not any(_local(c.tag) == wrapper for c in root):
            return f": no <{wrapper}> element"
        return None
    if protocol in ("json", "rest-json"):
        if not text:
            return "" if _body_members(shape) else None
        return None if _json_object(text) else ""
    if protocol == "rest-xml":
        return _rest_xml_problem(operation_model, text)
    return None


def _rest_xml_problem(operation_model: Any, text: bytes) -> str | None:
    shape = operation_model.output_shape
    members = _body_members(shape)
    if not members:
        return None
    if not text:
        return ""
    payload = shape.serialization.get("payload")
    if payload and shape.members[payload].type_name in ("string", "blob"):
        return None  # the body is the value itself (GetBucketPolicy: the policy's JSON)
    root = _xml(text)
    if root is None:
        return ""
    if operation_model.name == "GetBucketLocation":
        # Not modelled: the root element is the value (botocore reads any root's text).
        return None if _local(root.tag) == "LocationConstraint" else ": not a LocationConstraint"
    if payload:
        member = shape.members[payload]
        names = {payload, member.name, member.serialization.get("name", payload)}
        return None if _local(root.tag) in names else f": not a {payload}"
    names = {m.serialization.get("name", n) for n, m in members.items()}
    if _local(root.tag) in names or any(_local(c.tag) in names for c in root):
        return None
    return ": none of the operation's elements"


def _parsed_problem(
    operation_model: Any, parsed: dict[str, Any], result_keys: tuple[str, ...]
) -> str | None:
    """The answer as botocore parsed it, held against the operation's output shape."""
    shape = operation_model.output_shape
    members = _body_members(shape)
    protocol = _protocol(operation_model)
    present = {k for k in parsed if k in members}
    missing = [m for m in shape.required_members if m in members and m not in present]
    lists = [k for k in result_keys if k in members]
    # A list operation carries its list (S3 leaves an empty flattened list out; an operation
    # listing several kinds, like CloudWatch's alarms, carries those asked for).
    if (
        protocol != "rest-xml"
        and lists
        and not present.intersection(lists)
        and not set(lists).intersection(missing)
    ):
        missing.append(" / ".join(lists))
    if missing:
        return f": no {', '.join(missing)}"
    if not present:
        return f": none of {', '.join(list(members)[:4])}"
    return None


def _protocol(operation_model: Any) -> str:
    """The wire protocol botocore speaks to this service (CloudWatch's model lists several)."""
    service = operation_model.service_model
    return str(getattr(service, "resolved_protocol", None) or service.metadata.get("protocol", ""))


def _body_members(shape: Any) -> dict[str, Any]:
    if shape is None:
        return {}
    return {
        n: m for n, m in shape.members.items() if m.serialization.get("location") not in _NOT_BODY
    }


def _result_keys(operation_model: Any, loader: Any = None) -> tuple[str, ...]:
    """Top-level result keys of the operation's paginator (none when it has none), from
    ``loader`` (the client's own: its paginator model is then loaded once per run)."""
    service = operation_model.service_model
    key = (service.service_name, service.api_version, operation_model.name)
    found = _RESULT_KEYS.get(key)
    if found is None:
        found = _paginator_result_keys(loader or _loader_session(), *key)
        with _PAGINATORS_LOCK:
            _RESULT_KEYS[key] = found
    return found


def _paginator_result_keys(
    loader: Any, service: str, api_version: str, operation: str
) -> tuple[str, ...]:
    try:
        if hasattr(loader, "get_paginator_model"):  # a botocore session
            config = loader.get_paginator_model(service, api_version).get_paginator(operation)
        else:
            model = loader.load_service_model(service, "paginators-1", api_version)
            config = model["pagination"][operation]
    except Exception:  # no paginators for this service or operation
        return ()
    keys = config.get("result_key", ())
    keys = [keys] if isinstance(keys, str) else list(keys)
    return tuple(k for k in keys if k.isidentifier())


@functools.cache
def _loader_session() -> Any:
    return botocore.session.get_session()


def _xml(text: bytes) -> ET.Element | None:
    try:
        return ET.fromstring(text)
    except ET.ParseError:
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _host(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return parts.netloc or endpoint


def _json_object(text: bytes) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _foreign_server_error(operation_model: Any, response_dict: dict[str, Any]) -> bool:
    """A 5xx whose body is not in the operation's protocol (a proxy's or balancer's page)."""
    if int(response_dict.get("status_code") or 0) < 500:
        return False
    body = response_dict.get("body")
    if not isinstance(body, bytes | bytearray) or not bytes(body).strip():
        return False
    text = bytes(body).strip()
    if _protocol(operation_model) in ("json", "rest-json"):
        return not _json_object(text)
    root = _xml(text)
    return root is None or _local(root.tag).lower() == "html"


class _Guard:
    """botocore ``before-parse`` handler of one client: raise :class:`NotAwsProtocol` on a
    non-AWS body, naming the client's endpoint; an answer whose parsed form must still be
    judged is marked for :class:`_ParsedGuard` (botocore parses each answer once)."""

    def __init__(self, endpoint: str | None) -> None:
        self.endpoint = endpoint

    def __call__(
        self,
        operation_model: Any,
        response_dict: dict[str, Any],
        customized_response_dict: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        if _foreign_server_error(operation_model, response_dict):
            # botocore reads only ``<html>…`` or an empty body as a bare server error; any
            # other page (``<!DOCTYPE html>``, plain text) would end in a ResponseParserError
            # quoting the page. Without it the error is the status itself, and is retried.
            response_dict["body"] = b""
            return
        why = _raw_problem(operation_model, response_dict)
        if why is not None:
            raise NotAwsProtocol(
                service=operation_model.service_model.service_id,
                what=_described(response_dict, self.endpoint, why),
            )
        if _needs_shape_check(operation_model, response_dict):
            if customized_response_dict is None:  # an older botocore: parse it here
                what = problem(operation_model, response_dict, self.endpoint)
                if what is not None:
                    raise NotAwsProtocol(
                        service=operation_model.service_model.service_id, what=what
                    )
                return
            customized_response_dict[_PARSED_MARK] = response_dict


class _ParsedGuard:
    """botocore ``after-call`` handler of one client: the answers :class:`_Guard` marked,
    judged on botocore's own parse (the mark is removed first)."""

    def __init__(self, endpoint: str | None, loader: Any) -> None:
        self.endpoint = endpoint
        self.loader = loader

    def __call__(self, model: Any, parsed: Any, **_: Any) -> None:
        if not isinstance(parsed, dict):
            return
        response_dict = parsed.pop(_PARSED_MARK, None)
        if response_dict is None:
            return
        why = _parsed_problem(model, parsed, _result_keys(model, self.loader))
        if why is not None:
            raise NotAwsProtocol(
                service=model.service_model.service_id,
                what=_described(response_dict, self.endpoint, why),
            )


def install(client: Any) -> Any:
    """Register the guards on ``client`` (idempotent) and return it."""
    endpoint = getattr(client.meta, "endpoint_url", None)
    events = client.meta.events
    events.register("before-parse", _Guard(endpoint), unique_id="hp-preflight-protocol-guard")
    events.register(
        "after-call",
        _ParsedGuard(endpoint, getattr(client, "_loader", None)),
        unique_id="hp-preflight-protocol-guard-parsed",
    )
    return client
