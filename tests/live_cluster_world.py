"""A live HyperPod cluster answered in botocore's shapes, for the ``diagnose`` tests.

moto has no ``ListClusterEvents``/``DescribeClusterEvent`` and reports every cluster
InService, so SageMaker's cluster operations are answered here by a ``before-send`` handler
(validated against botocore's output shapes); everything else (CloudWatch Logs, IAM, EC2,
S3) is moto's. ``denied`` names operations answered AccessDenied.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
import botocore.validate
from botocore.awsrequest import AWSResponse

REGION = "us-west-2"
ACCOUNT = "123456789012"
JSON = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "test"}
LIFECYCLE_FAILURE = (
    "Lifecycle scripts did not run successfully. Ensure the scripts exist in provided S3 "
    "path, are accessible, and run without errors."
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(type(value).__name__)


def ok(operation: str, body: dict[str, Any]) -> AWSResponse:
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model(operation).output_shape
    report = botocore.validate.ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()
    data = json.dumps(body, default=_default).encode()
    return AWSResponse("https://sagemaker.invalid/", 200, dict(JSON), _Raw(data))


def error(code: str, status: int = 400, message: str = "injected") -> AWSResponse:
    data = json.dumps({"__type": code, "Message": message}).encode()
    return AWSResponse("https://sagemaker.invalid/", status, dict(JSON), _Raw(data))


def node(group: str, index: int, status: str = "Running", message: str = "") -> dict[str, Any]:
    detail: dict[str, Any] = {"Status": status}
    if message:
        detail["Message"] = message
    return {
        "InstanceGroupName": group,
        "InstanceId": f"i-{abs(hash(group)) % 10**6:06d}{index:011d}",
        "InstanceType": "ml.p5.48xlarge",
        "LaunchTime": datetime(2026, 12, 1, tzinfo=UTC),
        "InstanceStatus": detail,
    }


def event(group: str, index: int, level: str, description: str) -> dict[str, Any]:
    return {
        "EventId": f"00000000-0000-4000-8000-{index:012d}",
        "ClusterArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:cluster/abcdef123456",
        "ClusterName": "c1",
        "InstanceGroupName": group,
        "ResourceType": "Instance",
        "EventTime": datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=index),
        "Description": description,
        "EventLevel": level,
    }


class LiveCluster:
    """One cluster's SageMaker answers; ``calls`` counts requests per operation."""

    def __init__(
        self,
        config: dict[str, Any],
        *,
        status: str = "InService",
        failure: str = "",
        nodes: list[dict[str, Any]] | None = None,
        events: list[dict[str, Any]] | None = None,
        denied: tuple[str, ...] = (),
        answers: dict[str, Callable[[dict[str, Any]], AWSResponse]] | None = None,
    ) -> None:
        self.config = config
        self.name = str(config["ClusterName"])
        self.arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:cluster/abcdef123456"
        self.status = status
        self.failure = failure
        self.nodes = nodes or []
        self.events = events or []
        self.denied = denied
        self.answers = answers or {}
        self.calls: dict[str, int] = {}

    def described(self) -> dict[str, Any]:
        groups = []
        for g in self.config["InstanceGroups"]:
            detail = {k: v for k, v in g.items() if k != "InstanceCount"}
            detail |= {"CurrentCount": 0, "TargetCount": g["InstanceCount"], "Status": "Failed"}
            groups.append(detail)
        body = {k: v for k, v in self.config.items() if k not in ("InstanceGroups", "Tags")}
        body |= {
            "ClusterArn": self.arn,
            "ClusterName": self.name,
            "ClusterStatus": self.status,
            "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
            "InstanceGroups": groups,
        }
        if self.failure:
            body["FailureMessage"] = self.failure
        return body

    def _page(self, key: str, items: list[dict[str, Any]], params: dict[str, Any], op: str) -> Any:
        size = int(params.get("MaxResults") or 100)
        start = int(params.get("NextToken") or 0)
        body: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            body["NextToken"] = str(start + size)
        return ok(op, body)

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse | None:
        parts = str(kwargs.get("event_name", "")).split(".")
        if len(parts) < 3 or parts[1] != "sagemaker":
            return None
        op = parts[2]
        self.calls[op] = self.calls.get(op, 0) + 1
        params = json.loads(request.body or b"{}")
        if op in self.denied:
            return error("AccessDeniedException", 400, f"not authorized to perform {op}")
        if op in self.answers:
            return self.answers[op](params)
        if op == "ListClusters":
            summary = {
                "ClusterArn": self.arn,
                "ClusterName": self.name,
                "ClusterStatus": self.status,
                "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
            }
            return ok(op, {"ClusterSummaries": [summary]})
        if params.get("ClusterName") not in (self.name, self.arn):
            return error("ResourceNotFound", 400, "Cluster not found")
        if op == "DescribeCluster":
            return ok(op, self.described())
        if op == "ListClusterNodes":
            return self._page("ClusterNodeSummaries", self.nodes, params, op)
        if op == "ListClusterEvents":
            return self._page("Events", self.events, params, op)
        if op == "DescribeClusterEvent":
            found = [e for e in self.events if e["EventId"] == params.get("EventId")]
            return ok(op, {"EventDetails": found[0]}) if found else error("ResourceNotFound")
        return None

    def attach(self, session: Any) -> LiveCluster:
        """Answer on ``session`` (a boto3 Session) before moto; moto answers the rest."""
        from moto.core.models import botocore_stubber

        def dispatch(request: Any, **kwargs: Any) -> Any:
            answer = self(request, **kwargs)
            return answer if answer is not None else botocore_stubber(request=request, **kwargs)

        session.events.unregister("before-send", botocore_stubber)
        session.events.register("before-send", dispatch)
        return self


def write_logs(logs: Any, group: str, streams: dict[str, list[str]]) -> None:
    """Lines in streams of ``group`` (now: CloudWatch Logs rejects events older than 14
    days)."""
    import time

    now = int(time.time() * 1000)
    logs.create_log_group(logGroupName=group)
    for stream, lines in streams.items():
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)],
        )
