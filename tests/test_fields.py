"""hyperpod_preflight.fields lists every CreateClusterRequest member of the installed
botocore model: each is covered by checks that exist, or by a reason. A field botocore adds
fails here until it is checked or listed with why."""

from __future__ import annotations

from typing import Any

import botocore.session

from hyperpod_preflight import registry
from hyperpod_preflight.fields import Coverage, all_fields, coverage_of


def member_paths() -> list[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    paths: list[str] = []

    def walk(shape: Any, path: str, seen: tuple[str, ...]) -> None:
        if shape.type_name == "structure" and shape.name not in seen:
            for name, member in shape.members.items():
                child = f"{path}.{name}" if path else name
                paths.append(child)
                walk(member, child, (*seen, shape.name))
        elif shape.type_name == "list":
            walk(shape.member, f"{path}[]", seen)

    walk(model.operation_model("CreateCluster").input_shape, "", ())
    return paths


def test_every_member_is_checked_or_listed_with_why() -> None:
    fields = all_fields()
    uncovered = [p for p in member_paths() if coverage_of(p, fields) is None]
    assert not uncovered, f"add these to hyperpod_preflight/fields.py: {uncovered}"


def test_no_entry_names_a_field_botocore_lacks() -> None:
    known = set(member_paths())
    assert not [p for p in all_fields() if p not in known]


def test_every_entry_names_real_checks_or_a_reason() -> None:
    ids = {c.check_id for c in registry.all_checks("cluster")}
    for path, coverage in all_fields().items():
        assert coverage.checks or coverage.reason, path
        assert set(coverage.checks) <= ids, (path, set(coverage.checks) - ids)


def test_a_new_member_would_be_reported() -> None:
    fields = {"ClusterName": Coverage(checks=("config.schema",))}
    assert coverage_of("InstanceGroups[].Brand.New", fields) is None
    assert coverage_of("ClusterName", fields) is not None
    nested = {"InstanceGroups[].X": Coverage(reason="r")}
    assert coverage_of("InstanceGroups[].X[].Y.Z", nested) == Coverage(reason="r")
