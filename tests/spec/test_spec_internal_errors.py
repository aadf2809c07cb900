"""Only the user's input becomes an InputError (exit 2): a fault of botocore or of this code
propagates as itself, so it is reported as a bug instead of blaming the config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.validate
import pytest
from hp_configs import EXAMPLES, cluster, group

from hyperpod_preflight.errors import InputError
from hyperpod_preflight.sagemaker_model import sagemaker_service_model
from hyperpod_preflight.spec import load_spec

SLURM_EXAMPLE = EXAMPLES / "slurm-p5-cluster.json"


def test_a_crash_inside_botocores_validator_is_not_an_input_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: Any, params: Any, shape: Any) -> Any:
        raise RuntimeError("validator bug")

    monkeypatch.setattr(botocore.validate.ParamValidator, "validate", broken)
    with pytest.raises(RuntimeError, match="validator bug"):
        load_spec(SLURM_EXAMPLE)


@pytest.fixture
def model_with_text_instance_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The installed SageMaker model with ``ClusterInstanceCount`` turned into a string, read
    through ``AWS_DATA_PATH`` as botocore allows: a model that accepts what ClusterSpec
    cannot hold (as a future botocore might)."""
    description = botocore.loaders.create_loader().load_service_model("sagemaker", "service-2")
    description["shapes"]["ClusterInstanceCount"] = {"type": "string"}
    version = description["metadata"]["apiVersion"]
    target = tmp_path / "sagemaker" / version / "service-2.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(description))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    sagemaker_service_model.cache_clear()
    yield
    sagemaker_service_model.cache_clear()


@pytest.mark.usefixtures("model_with_text_instance_count")
def test_a_config_the_model_accepts_but_the_spec_cannot_hold_is_a_bug_not_bad_input() -> None:
    with pytest.raises(TypeError, match=r"InstanceGroup\.count is str 'four', not int"):
        load_spec(cluster(group("workers", count="four")))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "date", [1e30, 10**400, "9" * 40, -1.7e308], ids=["1e30", "10**400", "40 nines", "-1.7e308"]
)
def test_a_date_out_of_range_is_bad_input_with_its_path(date: Any) -> None:
    patch = {"PatchingStrategy": "WhenIdle", "PatchSchedule": {"NextPatchDate": date}}
    config = cluster(group("w", AutoPatchConfig=patch), ClusterName="bad_name!")
    with pytest.raises(InputError) as info:
        load_spec(config, strict=True)
    message = str(info.value)
    assert "InstanceGroups[0].AutoPatchConfig.PatchSchedule.NextPatchDate: " in message
    assert "is not a date in range" in message
    assert "ClusterName: 'bad_name!' does not match" in message  # the rest is still judged
    assert config["InstanceGroups"][0]["AutoPatchConfig"]["PatchSchedule"]["NextPatchDate"] == date


def test_a_readable_date_passes() -> None:
    patch = {"PatchingStrategy": "WhenIdle", "PatchSchedule": {"NextPatchDate": 1.9e9}}
    assert load_spec(cluster(group("w", AutoPatchConfig=patch))).instance_groups[0].name == "w"
