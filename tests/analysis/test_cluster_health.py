"""Pure summaries of a live cluster and the symptom table."""

from __future__ import annotations

import re

from hyperpod_preflight.analysis.cluster_health import (
    events_by_level,
    match_symptoms,
    nodes_by_group,
    symptoms,
    telling_line,
)
from hyperpod_preflight.registry import all_checks


def test_nodes_grouped_with_counts_messages_and_failed_ids() -> None:
    nodes = [
        {
            "InstanceGroupName": "w",
            "InstanceId": "i-1",
            "InstanceStatus": {"Status": "Failure", "Message": "boom"},
        },
        {"InstanceGroupName": "w", "InstanceId": "i-2", "InstanceStatus": {"Status": "Running"}},
        {"InstanceGroupName": "c", "InstanceId": "i-3", "InstanceStatus": {"Status": "Pending"}},
        {"InstanceGroupName": "w", "InstanceId": "i-4"},  # no status: counted as Unknown
    ]
    groups = {g.group: g for g in nodes_by_group(nodes)}
    assert groups["w"].statuses == {"Failure": 1, "Running": 1, "Unknown": 1}
    assert groups["w"].failed == ["i-1"] and groups["w"].messages == {"boom": 1}
    assert groups["c"].counts_text() == "1 Pending"


def test_events_errors_first_distinct_descriptions() -> None:
    events = [{"EventLevel": "Info", "Description": "ok"}] + [
        {"EventLevel": "Error", "InstanceGroupName": "w", "Description": "bad"}
    ] * 3
    first = events_by_level(events)[0]
    assert (first.level, first.group, first.count, first.descriptions) == (
        "Error",
        "w",
        3,
        ("bad",),
    )


def test_telling_line_prefers_a_known_symptom_and_masks_secrets() -> None:
    lines = ["start", "x.sh: line 2: $'\\r': command not found", "exit code 2"]
    assert telling_line(lines) == lines[1]
    assert telling_line(["all good"]) is None
    masked = telling_line(["failed with key AKIAIOSFODNN7EXAMPLE"])
    assert masked is not None and "AKIAIOSFODNN7EXAMPLE" not in masked


def test_symptom_table_names_registered_checks_and_sources() -> None:
    known = {c.check_id for c in all_checks("diagnose")}
    for symptom in symptoms():
        assert set(symptom.checks) <= known, symptom.symptom_id
        assert re.search(r"https://\S+", symptom.source), symptom.symptom_id
        assert symptom.fix and symptom.cause


def test_unknown_messages_match_nothing() -> None:
    assert match_symptoms(["something nobody has seen"]) == []
    assert [
        s.symptom_id for s in match_symptoms(["EFA health checks did not run successfully. x"])
    ] == ["efa-health-checks"]
