"""Absurdly large input is refused quickly (a guard, not a benchmark: the bounds are generous),
and the duplicate-id check stays linear."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hp_configs import SG, SUBNET_A, SUBNET_B, cluster, group

from hyperpod_preflight.errors import InputError
from hyperpod_preflight.spec import config_problems, load_spec, semantic_problems

GENEROUS_SECONDS = 5.0


def _refused_within(source: object, seconds: float = GENEROUS_SECONDS) -> str:
    started = time.perf_counter()
    with pytest.raises(InputError) as info:
        load_spec(source)  # type: ignore[arg-type]
    assert time.perf_counter() - started < seconds
    return str(info.value)


def test_100000_repeated_subnet_ids_in_a_file_are_refused_quickly(tmp_path: Path) -> None:
    config = cluster(group("w"))
    config["VpcConfig"]["Subnets"] = [SUBNET_A] * 100_000
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(config))
    message = _refused_within(path)
    assert message == f"{path}: VpcConfig.Subnets: has 100000 items; at most 16 allowed"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("InstanceGroups", "InstanceGroups: has 100000 items; at most 100 allowed"),
        ("Tags", "Tags: has 100000 items; at most 50 allowed"),
        ("keys", "(top level): has 100003 keys; CreateClusterRequest knows only"),
        ("Labels", "InstanceGroups[0].KubernetesConfig.Labels: has 100000 entries; at most 50"),
    ],
)
def test_far_oversized_parts_are_refused_on_their_size(where: str, expected: str) -> None:
    config = cluster(group("w"))
    n = 100_000
    if where == "InstanceGroups":
        config["InstanceGroups"] = [group(f"g{i}") for i in range(n)]
    elif where == "Tags":
        config["Tags"] = [{"Key": f"k{i}", "Value": "v"} for i in range(n)]
    elif where == "keys":
        config.update({f"Unknown{i}": 1 for i in range(n)})
    else:
        config["InstanceGroups"][0]["KubernetesConfig"] = {
            "Labels": {f"k{i}": "v" for i in range(n)}
        }
    assert _refused_within(config).startswith(f"<dict>: {expected}")


def test_a_list_a_little_over_its_maximum_still_gets_every_problem_reported() -> None:
    config = cluster(group("w"))
    config["VpcConfig"]["Subnets"] = [SUBNET_A, SUBNET_A, "subnet-bad", *[SUBNET_B] * 15]
    problems, _ = config_problems(config)
    assert [str(p) for p in problems] == [
        "VpcConfig.Subnets: has 18 items; at most 16 allowed",
        f"VpcConfig.Subnets: lists {SUBNET_A}, {SUBNET_B} more than once",
        "VpcConfig.Subnets[2]: 'subnet-bad' is not of the form subnet-0123456789abcdef0",
    ]


def test_duplicate_ids_are_found_in_linear_time() -> None:
    # Distinct string objects, as a JSON parser makes them: no identity shortcut.
    subnets = json.loads(json.dumps([SUBNET_A] * 100_000 + [SUBNET_B]))
    groups = json.loads(json.dumps([SG] * 100_000))
    started = time.perf_counter()
    problems = semantic_problems({"VpcConfig": {"Subnets": subnets, "SecurityGroupIds": groups}})
    assert time.perf_counter() - started < GENEROUS_SECONDS
    assert [str(p) for p in problems] == [
        f"VpcConfig.Subnets: lists {SUBNET_A} more than once",
        f"VpcConfig.SecurityGroupIds: lists {SG} more than once",
    ]
