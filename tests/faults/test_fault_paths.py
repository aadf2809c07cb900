"""Paths that leave the lifecycle prefix, and long values echoed back.

``..`` in OnCreate, OnInitComplete or the key of SourceS3Uri is a FAIL naming the field
(OnCreate is "The file name of the entrypoint script of lifecycle scripts under
`SourceS3Uri`": https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ClusterLifeCycleConfig.html);
a config built as that page shows passes; a user's long value is cut in messages and errors.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_world import run

import hyperpod_preflight.checks.config  # noqa: F401  (registers the checks)
from hyperpod_preflight.models import Status
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, load_spec

SCRIPT = Path(sys.executable).with_name("hp-preflight")
GOOD_URI = "s3://sagemaker-bucket/lifecycle/"


def _config(**lifecycle: str) -> dict[str, Any]:
    """A Slurm CreateCluster config with one group; ``lifecycle`` replaces LifeCycleConfig
    fields (the page's shape: SourceS3Uri and OnCreate)."""
    return {
        "ClusterName": "c",
        "InstanceGroups": [
            {
                "InstanceGroupName": "workers",
                "InstanceType": "ml.p5.48xlarge",
                "InstanceCount": 1,
                "ExecutionRole": "arn:aws:iam::123456789012:role/exec",
                "LifeCycleConfig": {
                    "SourceS3Uri": GOOD_URI,
                    "OnCreate": "on_create.sh",
                    **lifecycle,
                },
            }
        ],
    }


def _finding(**lifecycle: str) -> Any:
    [finding] = run("config.lifecycle-config", load_spec(_config(**lifecycle)), None)
    return finding


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("OnCreate", "../../../etc/passwd"),
        ("OnCreate", "scripts/../../on_create.sh"),
        ("OnCreate", "..\\on_create.sh"),
        ("OnInitComplete", "../init.sh"),
        ("SourceS3Uri", "s3://sagemaker-bucket/src/../../etc"),
        ("SourceS3Uri", "s3://sagemaker-bucket/../lifecycle/"),
    ],
)
def test_dot_dot_segments_warn_naming_the_field(field: str, value: str) -> None:
    # A WARN, not a FAIL: S3 keys are literal, so an object uploaded under ".." is found; no
    # AWS page forbids the segment. s3.lifecycle-objects judges whether the object is there.
    finding = _finding(**{field: value})
    assert finding.status is Status.WARN, finding.message
    assert f"InstanceGroups[0].LifeCycleConfig.{field} " in finding.message
    assert "'..'" in finding.message and "leaves the lifecycle prefix" in finding.message
    assert "API_ClusterLifeCycleConfig" in finding.message
    assert finding.details["field"] == field
    assert f"Set InstanceGroups[0].LifeCycleConfig.{field} without '..'" in finding.remediation


@pytest.mark.parametrize(
    "lifecycle",
    [
        {},  # exactly as the API reference shows it
        {"OnCreate": "on..create.sh"},
        {"OnCreate": "..hidden.sh"},
        {"OnCreate": "scripts/on_create.sh", "OnInitComplete": "scripts/init.sh"},
        {"SourceS3Uri": "s3://sagemaker-bucket/a..b/"},
    ],
    ids=["documented", "dots-in-name", "dot-dot-prefixed-name", "subfolder", "dots-in-key"],
)
def test_names_with_dots_that_stay_in_the_prefix_pass(lifecycle: dict[str, str]) -> None:
    finding = _finding(**lifecycle)
    assert finding.status is Status.PASS, finding.message


def test_a_long_script_name_is_cut_in_the_message() -> None:
    spec = ClusterSpec(
        name="c",
        orchestrator="slurm",
        instance_groups=(
            InstanceGroup(
                name="workers",
                instance_type="ml.p5.48xlarge",
                count=1,
                lifecycle_source_s3_uri=GOOD_URI,
                lifecycle_on_create="../" + "a" * 100_000,
                json_path="InstanceGroups[0]",
            ),
        ),
    )
    [finding] = run("config.lifecycle-config", spec, None)
    assert finding.status is Status.WARN
    assert len(finding.message) < 500 and "(100003 characters)" in finding.message


@pytest.mark.skipif(not SCRIPT.exists(), reason="hp-preflight is not installed")
def test_a_100_kb_subnet_flag_is_not_echoed_in_full() -> None:
    value = "subnet-" + "a" * 100_000
    done = subprocess.run(
        [
            str(SCRIPT),
            "check",
            "--instance-group",
            "w=ml.p5.48xlarge:1",
            "--subnet",
            value,
            "--offline",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    line = done.stderr.strip()
    assert "\n" not in line and len(line) < 700
    assert "--subnet" in line and "'subnet-aaa" in line
    assert "is not a subnet id (subnet-0123456789abcdef0)" in line
