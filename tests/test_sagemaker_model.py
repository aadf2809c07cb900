"""The cached part of botocore's SageMaker model: same answers as the whole model, keyed so a
changed botocore never uses a stale copy, and harmless when the cache cannot be written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperpod_preflight import sagemaker_model as sm


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    sm.sagemaker_service_model.cache_clear()
    yield
    sm.sagemaker_service_model.cache_clear()


def _walk(shape: Any, seen: set[str]) -> Any:
    """A shape as plain data (name, type, metadata, enum, members), recursively."""
    if shape.name in seen:
        return shape.name
    seen = seen | {shape.name}
    out: dict[str, Any] = {"name": shape.name, "type": shape.type_name, "meta": shape.metadata}
    out["enum"] = list(getattr(shape, "enum", []) or [])
    if shape.type_name == "structure":
        out["members"] = {k: _walk(v, seen) for k, v in shape.members.items()}
        out["required"] = list(shape.required_members)
    elif shape.type_name == "list":
        out["member"] = _walk(shape.member, seen)
    elif shape.type_name == "map":
        out["key"], out["value"] = _walk(shape.key, seen), _walk(shape.value, seen)
    return out


def test_the_cached_part_answers_as_the_whole_model() -> None:
    first = sm.sagemaker_service_model()
    assert type(first).__name__ == "PartialServiceModel"
    assert sm.cached_model_path().is_file()
    sm.sagemaker_service_model.cache_clear()
    second = sm.sagemaker_service_model()  # read back from the file
    full = sm.full_sagemaker_service_model()
    for model in (first, second):
        got = model.operation_model("CreateCluster").input_shape
        want = full.operation_model("CreateCluster").input_shape
        assert _walk(got, set()) == _walk(want, set())
        for name in ("ClusterInstanceType", "ClusterInstanceCount"):
            assert _walk(model.shape_for(name), set()) == _walk(full.shape_for(name), set())
    # Outside the kept part: read from the whole model, not an error.
    assert second.operation_model("DescribeCluster").name == "DescribeCluster"
    assert second.shape_for("TrainingJobName").type_name == "string"


def test_a_copy_for_another_botocore_or_file_is_not_used() -> None:
    sm.sagemaker_service_model()
    path = sm.cached_model_path()
    stored = json.loads(path.read_text())
    # A copy whose key differs (another botocore's file) with a poisoned shape: never used.
    stored["key"]["mtime_ns"] -= 1
    stored["description"]["shapes"]["ClusterInstanceCount"]["max"] = 1
    path.write_text(json.dumps(stored))
    sm.sagemaker_service_model.cache_clear()
    model = sm.sagemaker_service_model()
    assert model.shape_for("ClusterInstanceCount").metadata["max"] > 1
    rewritten = json.loads(path.read_text())
    assert rewritten["key"] == sm._cache_key()


def test_an_unwritable_cache_falls_back_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    model = sm.sagemaker_service_model()
    assert "ClusterName" in model.operation_model("CreateCluster").input_shape.members


def test_extra_model_folders_use_the_whole_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / "models"))
    model = sm.sagemaker_service_model()
    assert type(model).__name__ == "ServiceModel"
    assert not sm.cached_model_path().exists()


def test_the_fallback_never_uses_a_model_read_through_aws_data_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model from AWS_DATA_PATH read earlier in the process (a test, a plug-in) is not what
    the cached part falls back to once the variable is gone."""
    real = sm.full_sagemaker_service_model()
    folder = tmp_path / "models" / "sagemaker" / real.api_version
    folder.mkdir(parents=True)
    fake = {
        "version": "2.0",
        "metadata": real.metadata,
        "operations": {},
        "shapes": {"TrainingJobName": {"type": "integer"}},
    }
    (folder / "service-2.json").write_text(json.dumps(fake))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / "models"))
    assert sm.full_sagemaker_service_model().shape_for("TrainingJobName").type_name == "integer"
    monkeypatch.delenv("AWS_DATA_PATH")
    sm.sagemaker_service_model.cache_clear()
    assert sm.sagemaker_service_model().shape_for("TrainingJobName").type_name == "string"


def test_shape_constraints_read_from_the_kept_part_are_the_models() -> None:
    full = sm.full_sagemaker_service_model()
    asked = [
        ("ClusterInstanceCount", "max"),
        ("ClusterInstanceCount", "min"),
        ("ClusterName", "pattern"),
        ("ClusterName", "max"),
        ("TrainingJobName", "max"),  # outside the kept part: read from the whole model
    ]
    for shape, name in asked:
        assert sm.shape_constraint(shape, name) == full.shape_for(shape).metadata.get(name)
    assert sm.shape_constraint("ClusterInstanceCount", "max") is not None


def test_the_botocore_version_is_read_without_importing_it() -> None:
    import botocore

    assert sm.botocore_version() == botocore.__version__


def test_input_members_read_from_the_kept_part_are_the_models() -> None:
    full = sm.full_sagemaker_service_model()
    for operation in ("CreateCluster", "DescribeCluster"):  # kept, and read from the whole
        want = set(full.operation_model(operation).input_shape.members)
        assert sm.input_member_names(operation) == want
