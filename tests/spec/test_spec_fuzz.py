"""Never a traceback: any JSON document or byte string given to load_spec yields a ClusterSpec
or an InputError with one line that names the source; a spec that loads can be planned."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hp_configs import example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpod_preflight.errors import InputError
from hyperpod_preflight.planner import build_plan
from hyperpod_preflight.spec import ClusterSpec, create_cluster_shape, load_spec

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _shape_keys() -> list[str]:
    keys: set[str] = set()
    seen: set[str] = set()

    def walk(shape: Any) -> None:
        if shape.name in seen:
            return
        seen.add(shape.name)
        if shape.type_name == "structure":
            for name, member in shape.members.items():
                keys.add(name)
                walk(member)
        elif shape.type_name == "list":
            walk(shape.member)
        elif shape.type_name == "map":
            walk(shape.value)

    walk(create_cluster_shape())
    return sorted(keys)


KEYS = st.sampled_from(_shape_keys()) | st.text(max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["ml.p5.48xlarge", "subnet-0a1b2c3d", "sg-0a1b2c3d", "s3://b/x", "Eks"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp) / "cluster.json"


def _judge(source: Any, name: str) -> None:
    try:
        spec = load_spec(source)
    except InputError as exc:
        message = str(exc)
        assert message.startswith(f"{name}: "), message
        assert "\n" not in message and "\r" not in message
        assert len(message) < 2500
        return
    assert isinstance(spec, ClusterSpec)
    build_plan(spec)


@FUZZ
@given(document=JSON)
def test_arbitrary_json_documents(document: Any, scratch: Path) -> None:
    if isinstance(document, dict):
        _judge(document, "<dict>")
    scratch.write_text(json.dumps(document))
    _judge(scratch, str(scratch))


@FUZZ
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes, scratch: Path) -> None:
    scratch.write_bytes(data)
    _judge(scratch, str(scratch))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


EXAMPLE_NAMES = ["slurm-p5-cluster.json", "eks-p5-g5-cluster.json"]
EXAMPLE_PATHS = {name: _paths(example(name)) for name in EXAMPLE_NAMES}


@FUZZ
@given(data=st.data())
def test_near_valid_configs(data: st.DataObject) -> None:
    """A shipped example with up to three values replaced by arbitrary JSON, or deleted."""
    name = data.draw(st.sampled_from(EXAMPLE_NAMES))
    config = example(name)
    edits = data.draw(st.lists(st.sampled_from(EXAMPLE_PATHS[name]), min_size=1, max_size=3))
    for path in edits:
        value = data.draw(JSON | st.just("<delete>"))
        parent: Any = config
        try:
            for step in path[:-1]:
                parent = parent[step]
            if value == "<delete>":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this path
    _judge(config, "<dict>")
