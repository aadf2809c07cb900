"""What only a live cluster has: status, nodes, events and lifecycle logs."""

from __future__ import annotations

import shlex
from typing import Any

from ...analysis.cluster_health import (
    GroupNodes,
    Symptom,
    events_by_level,
    match_symptoms,
    nodes_by_group,
    short,
    telling_line,
)
from ...errors import FactUnavailable
from ...planner import ClusterPlan
from ...records import lifecycle_log_group, lifecycle_log_stream
from ...registry import CheckContext, Request, Then, check, need
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...spec import ClusterSpec

# ClusterStatus values (botocore's model): the cluster is on its way, not broken.
IN_PROGRESS = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})
STREAMS_PER_RUN = 5  # lifecycle logs of at most this many failed instances
EVENT_DETAILS = 5  # DescribeClusterEvent for at most this many error events


def _described_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    return [need("describe_cluster", spec.name)]


def _nodes_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    return [need("live_cluster_nodes", spec.name)]


def _events_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    def details(ctx: CheckContext) -> list[Request]:
        events = ctx.aws.live_cluster_events(spec.name).items
        return [need("live_cluster_event", spec.name, e) for e in _error_event_ids(events)]

    return [need("live_cluster_events", spec.name), Then(details)]


def _logs_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    def logs(ctx: CheckContext) -> list[Request]:
        group, streams = _log_streams(ctx)
        return [need("lifecycle_log_lines", group, streams)] if streams else []

    return [*_described_needs(spec, plan), *_nodes_needs(spec, plan), Then(logs)]


def _cause_text(found: list[Symptom], *, full: bool = False) -> str:
    """What the known symptoms mean: in full once (cluster.status), else their ids."""
    if not found:
        return ""
    if full:
        parts = [f"{s.cause} (checked by {', '.join(s.checks)})" for s in found]
        return " Known cause: " + "; ".join(parts) + "."
    return " Known symptom: " + ", ".join(s.symptom_id for s in found) + " (see cluster.status)."


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _fix_text(found: list[Symptom], default: str) -> str:
    return " ".join(s.fix for s in found) or default


def _described(ctx: CheckContext) -> dict[str, Any]:
    described = ctx.aws.describe_cluster(ctx.spec.name)
    if described is None:
        raise FactUnavailable("sagemaker:DescribeCluster", "absent", "the cluster no longer exists")
    return described


@check("cluster.status", "The cluster is InService", Severity.CRITICAL, needs=_described_needs)
def cluster_status(ctx: CheckContext) -> list[Outcome]:
    """The cluster's ClusterStatus: Failed is a FAIL with its FailureMessage and known cause."""
    described = _described(ctx)
    name = str(described.get("ClusterName") or ctx.spec.name)
    status = str(described.get("ClusterStatus") or "")
    message = short(str(described.get("FailureMessage") or ""))
    if status == "InService":
        return [passed(name, f"cluster {name} is InService")]
    if status in IN_PROGRESS:
        return [
            warned(name, f"cluster {name} is {status}: look again when it settles", status=status)
        ]
    if status != "Failed":
        return [unknown(name, f"cluster status {status or '(none)'!r} is not one this tool knows")]
    found = match_symptoms([message])
    return [
        failed(
            name,
            f"cluster {name} is Failed: {_sentence(message or '(no FailureMessage)')}"
            f"{_cause_text(found, full=True)}",
            _fix_text(
                found,
                "Read the cluster's events and lifecycle logs below, fix the cause "
                "the pre-flight FAILs name, then delete and re-create the cluster.",
            ),
            status=status,
            failure_message=message,
            symptoms=[s.symptom_id for s in found],
        )
    ]


def _group_outcome(group: GroupNodes) -> Outcome:
    counts = group.counts_text()
    messages = "; ".join(f"{m} (×{n})" for m, n in group.messages.most_common(5))
    found = match_symptoms(group.messages)
    details: dict[str, Any] = {
        "statuses": dict(group.statuses),
        "failed": group.failed[:20],
        "symptoms": [s.symptom_id for s in found],
    }
    if group.statuses.get("Failure"):
        return failed(
            group.group,
            f"instance group {group.group}: {counts}"
            + (f"; messages: {messages}" if messages else "")
            + f".{_cause_text(found)}",
            _fix_text(
                found,
                "Read the failed instances' lifecycle logs (cluster.lifecycle-logs) "
                "and the pre-flight FAILs of this report.",
            ),
            **details,
        )
    waiting = sum(group.statuses.get(s, 0) for s in ("Pending", "DeepHealthCheckInProgress"))
    if waiting or set(group.statuses) - {"Running"}:
        return warned(
            group.group,
            f"instance group {group.group}: {counts}"
            + (f"; messages: {messages}" if messages else ""),
            "Nodes still Pending or in deep health checks: look again in a few minutes; a "
            "node that stays there is named by its message.",
            **details,
        )
    return passed(group.group, f"instance group {group.group}: all {group.total} nodes Running")


@check("cluster.nodes", "Every node of the cluster is Running", Severity.HIGH, needs=_nodes_needs)
def cluster_nodes(ctx: CheckContext) -> list[Outcome]:
    """Each instance group's nodes (ListClusterNodes): Failure is a FAIL, Pending a WARN."""
    listing = ctx.aws.live_cluster_nodes(ctx.spec.name)
    groups = nodes_by_group(listing.items)
    if not groups:
        return [skipped(ctx.spec.name, "the cluster has no nodes")]
    outcomes = [_group_outcome(g) for g in groups]
    if listing.truncated:
        outcomes.append(
            warned(
                ctx.spec.name,
                f"only the first {len(listing.items)} nodes were read "
                f"({listing.pages} pages); counts above cover those",
            )
        )
    return outcomes


@check(
    "cluster.events",
    "The cluster's recent events hold no errors",
    Severity.MEDIUM,
    needs=_events_needs,
)
def cluster_events(ctx: CheckContext) -> list[Outcome]:
    """Recent events (ListClusterEvents) by level and group; Error and Warn events are WARNs
    naming the known cause."""
    try:
        listing = ctx.aws.live_cluster_events(ctx.spec.name)
    except FactUnavailable as exc:
        if exc.reason == "error" and "ValidationException" in exc.detail:
            # "Cluster events are available for HyperPod clusters with NodeProvisioningMode
            # set to Continuous" (sagemaker-hyperpod-cluster-events-reference)
            return [
                skipped(
                    ctx.spec.name,
                    "events are recorded only for clusters with NodeProvisioningMode Continuous",
                )
            ]
        raise
    groups = events_by_level(listing.items)
    bad = [g for g in groups if g.level in ("Error", "Warn")]
    scope = f"{len(listing.items)} most recent events" + (
        " (more not read)" if listing.truncated else ""
    )
    if not bad:
        return [passed(ctx.spec.name, f"no Error or Warn events among the {scope}")]
    details_of = _error_event_details(ctx, listing.items)
    outcomes = []
    for g in bad:
        found = match_symptoms(g.descriptions)
        outcomes.append(
            warned(
                f"{g.group} ({g.level})",
                f"{g.count} {g.level} event(s) for {g.group}: "
                + _sentence("; ".join(g.descriptions))
                + _cause_text(found),
                _fix_text(found, "See the pre-flight FAILs of this report for the cause."),
                level=g.level,
                count=g.count,
                event_details=details_of.get(g.group, {}),
                symptoms=[s.symptom_id for s in found],
            )
        )
    return outcomes


def _latest_errors(events: Any) -> dict[str, str]:
    """The id of the most recent Error event of each group (at most ``EVENT_DETAILS``)."""
    latest: dict[str, str] = {}
    for event in events:
        group = str(event.get("InstanceGroupName") or "(cluster)")
        if event.get("EventLevel") == "Error" and group not in latest and event.get("EventId"):
            latest[group] = str(event["EventId"])
    return dict(list(latest.items())[:EVENT_DETAILS])


def _error_event_ids(events: Any) -> list[str]:
    return list(_latest_errors(events).values())


def _error_event_details(ctx: CheckContext, events: Any) -> dict[str, Any]:
    """``DescribeClusterEvent`` of the most recent Error event of each group (at most
    ``EVENT_DETAILS``), by group; a detail that cannot be read says why instead."""
    out: dict[str, Any] = {}
    for group, event_id in _latest_errors(events).items():
        try:
            detail = ctx.aws.live_cluster_event(ctx.spec.name, event_id)
        except FactUnavailable as exc:
            out[group] = {"unavailable": exc.describe()}
            continue
        metadata = (detail.get("EventDetails") or {}).get("EventMetadata")
        out[group] = {"event_id": event_id, "metadata": short(str(metadata or {}), 500)}
    return out


def _log_streams(ctx: CheckContext) -> tuple[str, tuple[str, ...]]:
    """The lifecycle log group and the streams of the failed instances (at most
    ``STREAMS_PER_RUN``)."""
    described = _described(ctx)
    group_name = lifecycle_log_group(ctx.spec.name, str(described.get("ClusterArn") or ""))
    return group_name, tuple(lifecycle_log_stream(g, i) for g, i in _failed_streams(ctx))


def _failed_streams(ctx: CheckContext) -> list[tuple[str, str]]:
    """(group, instance id) of failed nodes, at most STREAMS_PER_RUN."""
    groups = nodes_by_group(ctx.aws.live_cluster_nodes(ctx.spec.name).items)
    pairs = [(g.group, i) for g in groups for i in g.failed]
    return pairs[:STREAMS_PER_RUN]


@check(
    "cluster.lifecycle-logs",
    "Failed instances' lifecycle logs name the error",
    Severity.HIGH,
    needs=_logs_needs,
)
def lifecycle_logs(ctx: CheckContext) -> list[Outcome]:
    """The last error line of each failed instance's lifecycle log (CloudWatch Logs), masked."""
    group_name, streams = _log_streams(ctx)
    if not streams:
        return [skipped(ctx.spec.name, "no instance is in Failure")]
    tail = ctx.aws.lifecycle_log_lines(group_name, streams)
    if tail.group_missing:
        return [
            warned(
                group_name,
                f"log group {group_name} does not exist: the lifecycle scripts never logged "
                "(the EFA health check runs before them, or the role cannot write logs)",
                "See cluster.status and the network.sg-efa-* checks.",
            )
        ]
    by_line: dict[str, list[str]] = {}
    outcomes = []
    for stream in streams:
        lines = tail.lines.get(stream, ())
        line = telling_line(lines)
        if not lines:
            outcomes.append(warned(stream, f"{group_name} {stream}: no log lines"))
        elif line is None:
            outcomes.append(
                warned(
                    stream,
                    f"{stream}: {len(lines)} lines, none reads as an error; "
                    f"last: {short(lines[-1])}",
                )
            )
        else:
            by_line.setdefault(line, []).append(stream)
    for line, named in by_line.items():
        found = match_symptoms([line])
        more = f" (and {len(named) - 1} more)" if len(named) > 1 else ""
        read = f"aws logs tail {shlex.quote(group_name)} --log-stream-names {shlex.quote(named[0])}"
        outcomes.append(
            failed(
                named[0] + more,
                f"lifecycle log of {len(named)} failed instance(s): {_sentence(line)}"
                + _cause_text(found),
                _fix_text(found, "Read the whole log and fix what it names") + f" Log: {read}",
                log_group=group_name,
                streams=named,
                symptoms=[s.symptom_id for s in found],
            )
        )
    return outcomes
