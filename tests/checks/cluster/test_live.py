"""The ``cluster.*`` checks of ``hp-preflight diagnose``: moto for CloudWatch Logs, SageMaker's
cluster operations answered in botocore's shapes (tests/live_cluster_world.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import EXAMPLES, moto_env
from live_cluster_world import (
    LIFECYCLE_FAILURE,
    LiveCluster,
    error,
    event,
    node,
    write_logs,
)

from hyperpod_preflight.diagnose import run_diagnosis
from hyperpod_preflight.errors import InputError
from hyperpod_preflight.models import Report, Status
from hyperpod_preflight.options import DiagnoseOptions, Selection
from hyperpod_preflight.records import lifecycle_log_group, lifecycle_log_stream
from hyperpod_preflight.results import jsonable

CONFIG: dict[str, Any] = json.loads((EXAMPLES / "slurm-p5-cluster.json").read_text())
CRLF_LINE = "/tmp/lifecycle/on_create.sh: line 2: $'\\r': command not found"


@pytest.fixture
def aws() -> Iterator[None]:
    with moto_env():
        yield


def diagnose(live: LiveCluster, only: tuple[str, ...] = ("cluster",)) -> Report:
    from aws_world import new_facts

    facts = new_facts()
    live.attach(facts.session)
    return run_diagnosis(
        DiagnoseOptions(cluster=live.name, selection=Selection(only=only)), facts=facts
    )


def by_check(report: Report, check_id: str) -> list[Any]:
    return [f for f in report.results if f.check_id == check_id]


def healthy() -> LiveCluster:
    nodes = [node(g["InstanceGroupName"], i) for g in CONFIG["InstanceGroups"] for i in range(2)]
    return LiveCluster(CONFIG, nodes=nodes, events=[event("workers", 1, "Info", "Scaled up")])


def failed_cluster() -> LiveCluster:
    nodes = [node("controller", 0, "Failure", LIFECYCLE_FAILURE)]
    nodes += [node("workers", i, "Failure", LIFECYCLE_FAILURE) for i in range(3)]
    nodes += [node("login", 0, "Pending")]
    events = [event("workers", i, "Error", LIFECYCLE_FAILURE) for i in range(3)]
    return LiveCluster(
        CONFIG, status="Failed", failure=LIFECYCLE_FAILURE, nodes=nodes, events=events
    )


def with_logs(live: LiveCluster, lines: list[str]) -> str:
    import boto3

    group = lifecycle_log_group(live.name, live.arn)
    streams = {
        lifecycle_log_stream(n["InstanceGroupName"], n["InstanceId"]): lines
        for n in live.nodes
        if n["InstanceStatus"]["Status"] == "Failure"
    }
    write_logs(boto3.client("logs", region_name="us-west-2"), group, streams)
    return group


def test_healthy_cluster_passes(aws: None) -> None:
    report = diagnose(healthy())
    assert [f.status for f in by_check(report, "cluster.status")] == [Status.PASS]
    assert {f.status for f in by_check(report, "cluster.nodes")} == {Status.PASS}
    assert [f.status for f in by_check(report, "cluster.events")] == [Status.PASS]
    assert [f.status for f in by_check(report, "cluster.lifecycle-logs")] == [Status.SKIP]


def test_failed_cluster_names_message_nodes_and_log_line(aws: None) -> None:
    live = failed_cluster()
    with_logs(live, ["starting", CRLF_LINE, "exit code 2"])
    report = diagnose(live)
    (status,) = by_check(report, "cluster.status")
    assert status.status is Status.FAIL
    assert LIFECYCLE_FAILURE in status.message
    assert "lifecycle-scripts" in status.details["symptoms"]
    nodes = {f.resource: f for f in by_check(report, "cluster.nodes")}
    assert nodes["controller"].status is Status.FAIL
    assert "1 Failure" in nodes["controller"].message
    assert nodes["workers"].status is Status.FAIL and "3 Failure" in nodes["workers"].message
    assert nodes["login"].status is Status.WARN and "1 Pending" in nodes["login"].message
    (logs,) = by_check(report, "cluster.lifecycle-logs")  # one finding per distinct error
    assert logs.status is Status.FAIL
    assert "$'\\r': command not found" in logs.message
    assert "crlf" in logs.details["symptoms"]
    assert len(logs.details["streams"]) == 4
    events = by_check(report, "cluster.events")
    assert [e.status for e in events] == [Status.WARN]
    assert "3 Error event(s) for workers" in events[0].message


def test_secret_in_log_line_is_masked(aws: None) -> None:
    live = failed_cluster()
    key = "AKIAIOSFODNN7EXAMPLE"
    with_logs(live, [f"aws configure set aws_access_key_id {key} failed"])
    report = diagnose(live)
    text = json.dumps(jsonable(report.results))
    assert key not in text


def test_denied_events_make_only_events_unknown(aws: None) -> None:
    live = failed_cluster()
    live.denied = ("ListClusterEvents",)
    with_logs(live, [CRLF_LINE])
    report = diagnose(live)
    assert [f.status for f in by_check(report, "cluster.events")] == [Status.UNKNOWN]
    assert "ListClusterEvents" in by_check(report, "cluster.events")[0].message
    assert by_check(report, "cluster.status")[0].status is Status.FAIL
    assert by_check(report, "cluster.lifecycle-logs")[0].status is Status.FAIL


def test_denied_filter_log_events_makes_only_logs_unknown(aws: None) -> None:
    from aws_world import new_facts

    live = failed_cluster()
    with_logs(live, [CRLF_LINE])
    facts = new_facts()
    live.attach(facts.session)

    def deny_logs(request: Any, **kwargs: Any) -> Any:
        if "FilterLogEvents" in str(request.headers.get("X-Amz-Target", b"")):
            return error("AccessDeniedException", 400, "not authorized: logs:FilterLogEvents")
        return None

    facts.session.events.register_first("before-send.cloudwatch-logs", deny_logs)
    report = run_diagnosis(
        DiagnoseOptions(cluster=live.name, selection=Selection(only=("cluster",))), facts=facts
    )
    (logs,) = by_check(report, "cluster.lifecycle-logs")
    assert logs.status is Status.UNKNOWN and "logs:FilterLogEvents" in logs.message
    assert {f.status for f in by_check(report, "cluster.nodes")} >= {Status.FAIL}
    assert by_check(report, "cluster.events")[0].status is Status.WARN


def test_missing_log_group_is_a_warn_not_a_fail(aws: None) -> None:
    report = diagnose(failed_cluster())  # no logs written: the scripts never logged
    (logs,) = by_check(report, "cluster.lifecycle-logs")
    assert logs.status is Status.WARN and "does not exist" in logs.message


def test_events_of_a_cluster_without_continuous_provisioning_skip(aws: None) -> None:
    live = healthy()
    live.answers["ListClusterEvents"] = lambda _p: error(
        "ValidationException", 400, "events need NodeProvisioningMode Continuous"
    )
    report = diagnose(live)
    assert [f.status for f in by_check(report, "cluster.events")] == [Status.SKIP]


def test_unknown_status_is_unknown_not_pass(aws: None) -> None:
    live = healthy()
    live.status = "Creating"
    report = diagnose(live)
    assert by_check(report, "cluster.status")[0].status is Status.WARN


def test_large_cluster_is_bounded_and_summarised(aws: None) -> None:
    nodes = [
        node(
            "workers",
            i,
            "Failure" if i % 10 == 0 else "Running",
            LIFECYCLE_FAILURE if i % 10 == 0 else "",
        )
        for i in range(2000)
    ]
    events = [
        event("workers", i, "Error" if i % 2 else "Info", f"event {i % 7}") for i in range(5000)
    ]
    live = LiveCluster(
        CONFIG, status="Failed", failure=LIFECYCLE_FAILURE, nodes=nodes, events=events
    )
    report = diagnose(live)
    assert live.calls["ListClusterNodes"] == 20  # 2,000 nodes, pages of 100
    assert live.calls["ListClusterEvents"] == 5  # the 500 most recent events only
    assert live.calls.get("DescribeClusterEvent", 0) <= 5
    assert report.api_calls is not None and report.api_calls < 45
    (workers,) = by_check(report, "cluster.nodes")
    assert "200 Failure" in workers.message and "1800 Running" in workers.message
    from hyperpod_preflight.render import render_report

    table = render_report(report, "table")
    print(table)
    assert len(table.splitlines()) <= 40  # one screen for 2,000 nodes and 5,000 events


def test_malformed_cluster_name_is_input_error() -> None:
    with pytest.raises(InputError, match="not a HyperPod cluster name"):
        run_diagnosis(DiagnoseOptions(cluster="bad name!"))


def test_absent_cluster_is_input_error(aws: None) -> None:
    from aws_world import new_facts

    facts = new_facts()
    LiveCluster(CONFIG).attach(facts.session)
    with pytest.raises(InputError, match="no such cluster"):
        run_diagnosis(DiagnoseOptions(cluster="other-cluster"), facts=facts)
