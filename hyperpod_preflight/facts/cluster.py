"""Readers of a live HyperPod cluster, for ``hp-preflight diagnose``: its description, its
nodes, its recent events and its lifecycle logs. Every listing is paginated and bounded, so
a cluster of thousands of nodes and events costs a known number of calls (the bounds below),
and each reader fails on its own: a denied ``ListClusterEvents`` makes only the event
findings UNKNOWN.

Where the lifecycle logs are (names in :mod:`..records`): log group
``/aws/sagemaker/Clusters/<cluster-name>/<cluster-id>`` (the id is the last part of the cluster
ARN), one stream per instance named
``LifecycleConfig/<instance-group-name>/<instance-id>``. Source: the AWS-maintained HyperPod
troubleshooting guide, "Cluster Creation Failed with Lifecycle Script Execution Error"
(https://awslabs.github.io/ai-on-sagemaker-hyperpod/docs/troubleshooting), which gives the
example group ``/aws/sagemaker/Clusters/k8-3/gyazigf6kqq9`` and stream
``LifecycleConfig/group-g5-8x/i-0df4aefe56f4ef3bc``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import FactUnavailable
from .core import FactsCore, classify, memoized

# Bounds: pages of 100 (the APIs' maximum page size, botocore's model).
NODE_PAGES = 50  # at most 5,000 nodes listed
EVENT_PAGES = 5  # the 500 most recent events
LOG_PAGES = 3  # FilterLogEvents pages read per run (10,000 events each at most)
LOG_EVENTS_PER_PAGE = 2000


@dataclass(frozen=True)
class Listing:
    """Items of a bounded listing, and whether more were left unread."""

    items: tuple[dict[str, Any], ...] = ()
    truncated: bool = False
    pages: int = 0


@dataclass(frozen=True)
class LogTail:
    """The lifecycle log lines read per stream (oldest first), and whether the group exists."""

    log_group: str
    lines: dict[str, tuple[str, ...]] = field(default_factory=dict)
    group_missing: bool = False
    truncated: bool = False


class LiveClusterFacts(FactsCore):
    """Readers of one live cluster (memoized per run)."""

    def _bounded(
        self, paginator: Any, operation: str, key: str, max_pages: int, **params: Any
    ) -> Listing:
        action = f"sagemaker:{operation}"
        items: list[dict[str, Any]] = []
        pages = 0
        truncated = False
        try:
            for page in paginator.paginate(**params, PaginationConfig={"PageSize": 100}):
                pages += 1
                if key not in page:
                    raise FactUnavailable(
                        action, "protocol", f"the answer has no {key} (not the AWS protocol)"
                    )
                items.extend(page[key])
                if pages >= max_pages:
                    truncated = bool(page.get("NextToken"))
                    break
        except Exception as exc:
            raise classify(exc, action) from exc
        return Listing(items=tuple(items), truncated=truncated, pages=pages)

    @memoized
    def live_cluster_nodes(self, name: str) -> Listing:
        """``ListClusterNodes``: at most ``NODE_PAGES`` pages of 100."""
        client = self.client("sagemaker")
        paginator = client.get_paginator("list_cluster_nodes")
        return self._bounded(
            paginator, "ListClusterNodes", "ClusterNodeSummaries", NODE_PAGES, ClusterName=name
        )

    @memoized
    def live_cluster_events(self, name: str) -> Listing:
        """``ListClusterEvents``, most recent first: at most ``EVENT_PAGES`` pages of 100."""
        client = self.client("sagemaker")
        paginator = client.get_paginator("list_cluster_events")
        return self._bounded(
            paginator,
            "ListClusterEvents",
            "Events",
            EVENT_PAGES,
            ClusterName=name,
            SortOrder="Descending",
        )

    @memoized
    def live_cluster_event(self, name: str, event_id: str) -> dict[str, Any]:
        """``DescribeClusterEvent``'s ``EventDetails``."""
        answer = self.call("sagemaker", "DescribeClusterEvent", ClusterName=name, EventId=event_id)
        details = answer.get("EventDetails") if isinstance(answer, dict) else None
        if not isinstance(details, dict):
            raise FactUnavailable(
                "sagemaker:DescribeClusterEvent", "protocol", "the answer has no EventDetails"
            )
        return details

    @memoized
    def lifecycle_log_lines(self, log_group: str, streams: tuple[str, ...]) -> LogTail:
        """``FilterLogEvents`` on ``streams`` of ``log_group``: at most ``LOG_PAGES`` pages;
        a group that does not exist is ``group_missing`` (the scripts never logged)."""
        if not streams:
            return LogTail(log_group=log_group)
        lines: dict[str, list[str]] = {s: [] for s in streams}
        params: dict[str, Any] = {
            "logGroupName": log_group,
            "logStreamNames": list(streams),
            "limit": LOG_EVENTS_PER_PAGE,
        }
        truncated = False
        for page_number in range(LOG_PAGES):
            page = self.call(
                "logs", "FilterLogEvents", none_on=("ResourceNotFoundException",), **params
            )
            if page is None:  # the group does not exist: nothing ever logged
                return LogTail(log_group=log_group, group_missing=True)
            if "events" not in page:
                raise FactUnavailable(
                    "logs:FilterLogEvents", "protocol", "the answer has no events"
                )
            for event in page["events"]:
                stream = str(event.get("logStreamName", ""))
                if stream in lines:
                    lines[stream].append(str(event.get("message", "")))
            token = page.get("nextToken")
            if not token:
                break
            params["nextToken"] = token
            truncated = page_number == LOG_PAGES - 1
        return LogTail(
            log_group=log_group,
            lines={s: tuple(v) for s, v in lines.items()},
            truncated=truncated,
        )
