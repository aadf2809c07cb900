"""Pure summaries of a live cluster for ``hp-preflight diagnose``: nodes per instance group
(counts by status, the distinct messages), recent events by level and group, the last error
lines of lifecycle logs (secrets masked), and the symptom table that maps a known failure
message to the pre-flight checks that catch its cause (``symptoms.json``, data with sources).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .secret_scan import redact

# ClusterInstanceStatus values (botocore's model) a node should not stay in.
FAILED_STATUSES = frozenset({"Failure"})
WAITING_STATUSES = frozenset({"Pending", "DeepHealthCheckInProgress"})
MESSAGE_LIMIT = 300  # characters of one message shown
DISTINCT_MESSAGES = 5  # distinct messages shown per group


@dataclass
class GroupNodes:
    """One instance group's nodes: count per status, distinct messages, failed instances."""

    group: str
    statuses: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def counts_text(self) -> str:
        return ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))


def short(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """One line, secrets masked, at most ``limit`` characters."""
    line = " ".join(redact(str(text)).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def nodes_by_group(nodes: Iterable[dict[str, Any]]) -> list[GroupNodes]:
    """Nodes of ``ListClusterNodes`` grouped by instance group, in name order."""
    groups: dict[str, GroupNodes] = {}
    for node in nodes:
        name = str(node.get("InstanceGroupName") or "?")
        entry = groups.setdefault(name, GroupNodes(name))
        status_detail = node.get("InstanceStatus") or {}
        status = str(status_detail.get("Status") or "Unknown")
        entry.statuses[status] += 1
        message = str(status_detail.get("Message") or "").strip()
        if message and status != "Running":
            entry.messages[short(message)] += 1
        if status in FAILED_STATUSES and node.get("InstanceId"):
            entry.failed.append(str(node["InstanceId"]))
    return [groups[k] for k in sorted(groups)]


@dataclass(frozen=True)
class EventGroup:
    level: str
    group: str
    count: int
    descriptions: tuple[str, ...]  # distinct, most recent first


def events_by_level(events: Iterable[dict[str, Any]]) -> list[EventGroup]:
    """Events (most recent first) grouped by level (Error, Warn, Info) and instance group."""
    buckets: dict[tuple[str, str], list[str]] = {}
    order = {"Error": 0, "Warn": 1, "Info": 2}
    for event in events:
        level = str(event.get("EventLevel") or "Info")
        group = str(event.get("InstanceGroupName") or "(cluster)")
        buckets.setdefault((level, group), []).append(short(event.get("Description") or ""))
    out = []
    for (level, group), descriptions in buckets.items():
        distinct = tuple(dict.fromkeys(d for d in descriptions if d))[:DISTINCT_MESSAGES]
        out.append(EventGroup(level, group, len(descriptions), distinct))
    return sorted(out, key=lambda e: (order.get(e.level, 3), e.group))


_ERROR_WORDS = (
    "error",
    "failed",
    "failure",
    "fatal",
    "denied",
    "not found",
    "exit code",
    "command not found",
    "traceback",
    "no such file",
    "timed out",
)


def last_error_line(lines: Sequence[str]) -> str | None:
    """The last line of a lifecycle log that reads as an error, masked and cut; None when
    none does."""
    for line in reversed(lines):
        lowered = line.lower()
        if any(word in lowered for word in _ERROR_WORDS):
            return short(line)
    return None


def telling_line(lines: Sequence[str]) -> str | None:
    """The line of a lifecycle log that best names the failure: the last one showing a known
    symptom, else the last one that reads as an error (masked and cut); None when none does."""
    for line in reversed(lines):
        if match_symptoms([line]):
            return short(line)
    return last_error_line(lines)


@dataclass(frozen=True)
class Symptom:
    symptom_id: str
    match: tuple[str, ...]
    cause: str
    checks: tuple[str, ...]
    fix: str
    source: str

    def matches(self, text: str) -> bool:
        lowered = text.lower()
        return all(m.lower() in lowered for m in self.match)


@cache
def symptoms() -> tuple[Symptom, ...]:
    """The symptom table (``symptoms.json`` beside this module)."""
    raw = json.loads(resources.files(__package__).joinpath("symptoms.json").read_text("utf-8"))
    return tuple(
        Symptom(
            symptom_id=s["id"],
            match=tuple(s["match"]),
            cause=s["cause"],
            checks=tuple(s["checks"]),
            fix=s["fix"],
            source=s["source"],
        )
        for s in raw["symptoms"]
    )


def match_symptoms(texts: Iterable[str]) -> list[Symptom]:
    """Every known symptom any of ``texts`` shows, each once, in table order."""
    texts = [t for t in texts if t]
    return [s for s in symptoms() if any(s.matches(t) for t in texts)]
