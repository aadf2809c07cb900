"""``hp-preflight demo --failed-cluster``: a sandbox account holding a cluster whose creation
failed, so a newcomer sees ``diagnose`` without an account.

The account is the sandbox's (:mod:`.build`) with defects planted (by default a CRLF script
and no NAT gateway); the cluster itself is answered here, since moto has no cluster events
and always reports clusters InService: ``DescribeCluster`` says ``Failed`` with the lifecycle
failure message HyperPod gives, every node is in ``Failure``, ``ListClusterEvents`` holds an
Error event per node, and the lifecycle log of each node (moto's CloudWatch Logs) ends with
the error bash prints for a CRLF script. Nothing leaves the process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..records import lifecycle_log_group, lifecycle_log_stream
from .answers import Answer, SandboxAnswers, json_error, json_ok

if TYPE_CHECKING:
    from boto3 import Session

# The FailureMessage HyperPod gives when lifecycle scripts fail (the AWS-maintained
# troubleshooting guide, https://awslabs.github.io/ai-on-sagemaker-hyperpod/docs/troubleshooting).
LIFECYCLE_FAILURE = (
    "Lifecycle scripts did not run successfully. Ensure the scripts exist in provided S3 "
    "path, are accessible, and run without errors."
)
CLUSTER_ID = "demofailed01"
DEFAULT_DEFECTS = ("crlf-script", "no-nat")


@dataclass
class LiveCluster:
    """One failed cluster: its DescribeCluster body, nodes and events."""

    described: dict[str, Any]
    nodes: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return str(self.described["ClusterName"])


def failed_cluster(config: dict[str, Any], region: str, account: str) -> LiveCluster:
    """The failed cluster ``config`` would have become: every node in Failure."""
    name = str(config.get("ClusterName") or "demo-cluster")
    arn = f"arn:aws:sagemaker:{region}:{account}:cluster/{CLUSTER_ID}"
    created = datetime.now(UTC) - timedelta(minutes=40)
    groups = []
    nodes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for index, group in enumerate(config.get("InstanceGroups") or []):
        count = int(group.get("InstanceCount") or 0)
        detail = {k: v for k, v in group.items() if k != "InstanceCount"}
        detail.update({"CurrentCount": 0, "TargetCount": count, "Status": "Failed"})
        groups.append(detail)
        for n in range(count):
            instance = f"i-0{index:03d}{n:012d}"
            nodes.append(
                {
                    "InstanceGroupName": group["InstanceGroupName"],
                    "InstanceId": instance,
                    "InstanceType": group.get("InstanceType", "ml.p5.48xlarge"),
                    "LaunchTime": created,
                    "InstanceStatus": {"Status": "Failure", "Message": LIFECYCLE_FAILURE},
                }
            )
            events.append(
                {
                    "EventId": f"00000000-0000-4000-8000-{index:04d}{n:08d}",
                    "ClusterArn": arn,
                    "ClusterName": name,
                    "InstanceGroupName": group["InstanceGroupName"],
                    "InstanceId": instance,
                    "ResourceType": "Instance",
                    "EventTime": created + timedelta(minutes=20),
                    "Description": LIFECYCLE_FAILURE,
                    "EventLevel": "Error",
                }
            )
    described = {k: v for k, v in config.items() if k not in ("InstanceGroups", "Tags")} | {
        "ClusterArn": arn,
        "ClusterName": name,
        "ClusterStatus": "Failed",
        "FailureMessage": LIFECYCLE_FAILURE,
        "CreationTime": created,
        "InstanceGroups": groups,
    }
    return LiveCluster(described=described, nodes=nodes, events=events)


def _paged(items: list[dict[str, Any]], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    size = max(1, min(int(params.get("MaxResults") or 100), 100))
    start = int(params.get("NextToken") or 0)
    more = start + size < len(items)
    return items[start : start + size], str(start + size) if more else None


class LiveClusterAnswers(SandboxAnswers):
    """The sandbox's answers, plus a live cluster's SageMaker APIs (moto lacks the events
    and reports every cluster InService)."""

    CLUSTER_OPERATIONS = (
        "DescribeCluster",
        "ListClusters",
        "ListClusterNodes",
        "ListClusterEvents",
        "DescribeClusterEvent",
    )

    def __init__(self, live: LiveCluster, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.live = live

    def answer(self, service: str, operation: str, body: bytes) -> Answer | None:
        if service != "sagemaker" or operation not in self.CLUSTER_OPERATIONS:
            return super().answer(service, operation, body)
        with self._lock:
            self.seen[operation] = self.seen.get(operation, 0) + 1
        params = json.loads(body or b"{}")
        if operation == "ListClusters":
            summary = {
                k: self.live.described[k]
                for k in ("ClusterArn", "ClusterName", "ClusterStatus", "CreationTime")
            }
            return json_ok("sagemaker", operation, {"ClusterSummaries": [summary]})
        if params.get("ClusterName") not in (self.live.name, self.live.described["ClusterArn"]):
            return json_error("ResourceNotFound", f"Cluster {params.get('ClusterName')} not found")
        if operation == "DescribeCluster":
            return json_ok("sagemaker", operation, self.live.described)
        if operation == "DescribeClusterEvent":
            found = [e for e in self.live.events if e["EventId"] == params.get("EventId")]
            if not found:
                return json_error("ResourceNotFound", "event not found")
            return json_ok("sagemaker", operation, {"EventDetails": found[0]})
        key, items = (
            ("ClusterNodeSummaries", self.live.nodes)
            if operation == "ListClusterNodes"
            else ("Events", self.live.events)
        )
        page, token = _paged(items, params)
        answer: dict[str, Any] = {key: page}
        if token:
            answer["NextToken"] = token
        return json_ok("sagemaker", operation, answer)


def crlf_log_lines(on_create: str) -> list[str]:
    """What a node's lifecycle log holds when ``on_create`` has CRLF line endings: bash's own
    error for the carriage return, then the exit."""
    script = f"/tmp/sagemaker-lifecycle/{on_create}"
    return [
        f"[lifecycle] downloading the lifecycle scripts and running {on_create}",
        f"{script}: line 2: $'\\r': command not found",
        f"{script}: line 3: set: -\r: invalid option",
        f"[lifecycle] {on_create} exited with exit code 2",
    ]


def write_lifecycle_logs(session: Session, live: LiveCluster, lines: Sequence[str]) -> str:
    """Put ``lines`` in each node's lifecycle log stream (moto's CloudWatch Logs)."""
    logs = session.client("logs")
    group = lifecycle_log_group(live.name, str(live.described["ClusterArn"]))
    logs.create_log_group(logGroupName=group)
    now = int(time.time() * 1000)
    for node in live.nodes:
        stream = lifecycle_log_stream(node["InstanceGroupName"], node["InstanceId"])
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)],
        )
    return group


@dataclass
class FailedClusterRun:
    """What ``demo --failed-cluster`` built and what ``diagnose`` said of it."""

    report: Any
    cluster: str
    log_group: str
    defects: tuple[str, ...]


def run_failed_cluster_diagnosis(
    config: dict[str, Any] | None = None,
    *,
    defects: Sequence[str] = DEFAULT_DEFECTS,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str = "fail",
) -> FailedClusterRun:
    """Build the sandbox account with ``defects``, a failed cluster in it, and run
    ``diagnose`` on that cluster through the normal code path."""
    import copy

    import boto3
    from moto import mock_aws
    from moto.core.models import botocore_stubber

    from ..diagnose import run_diagnosis
    from ..options import DiagnoseOptions, Selection
    from ..preflight import connect
    from .blueprint import blueprint_with, parse_defects
    from .build import build_account
    from .run import (
        ACCOUNT,
        LOCAL_AREA,
        administrator_session,
        example_config,
        require_moto,
        sandbox_environment,
        sandbox_quotas,
    )

    require_moto()
    config = copy.deepcopy(config if config is not None else example_config())
    planted = parse_defects(defects)
    blueprint = blueprint_with(planted)
    with sandbox_environment(), mock_aws():
        session = administrator_session(boto3.Session(region_name=blueprint.region))
        build = build_account(session, config, blueprint)
        live = failed_cluster(build.config, blueprint.region, ACCOUNT)
        LiveClusterAnswers(
            live,
            region=blueprint.region,
            account=ACCOUNT,
            quotas=sandbox_quotas(build.spec, build.plan, blueprint),
            eks_clusters=build.eks_clusters,
        ).attach(session, replacing=botocore_stubber)
        on_create = str(
            (build.config["InstanceGroups"][0].get("LifeCycleConfig") or {}).get("OnCreate")
            or "on_create.sh"
        )
        group = write_lifecycle_logs(session, live, crlf_log_lines(on_create))
        facts = connect(session, quota_code_cache=False)
        report = run_diagnosis(
            DiagnoseOptions(
                cluster=live.name,
                selection=Selection(
                    only=tuple(only),
                    skip=(*skip, LOCAL_AREA),
                    ignore=tuple(ignore),
                    fail_on=fail_on,  # type: ignore[arg-type]
                ),
            ),
            facts=facts,
        )
    return FailedClusterRun(
        report=report, cluster=live.name, log_group=group, defects=tuple(defects)
    )
