"""The SageMaker model is read with botocore's loader, not a session: commands that need no
AWS work whatever the user's AWS config files hold, and catalog and spec do not import each
other to reach the model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hp_configs import EXAMPLES

REPO = Path(__file__).resolve().parents[2]

LOAD_EXAMPLE = f"""
from hyperpod_preflight.spec import load_spec, spec_from_flags
spec = load_spec({str(EXAMPLES / "slurm-p5-cluster.json")!r})
print([(g.name, g.instance_type, g.count) for g in spec.instance_groups])
flags = spec_from_flags(instance_groups=["w=p5.48xlarge:2"])
print(flags.instance_groups[0].instance_type)
"""


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "env",
    [
        {"AWS_PROFILE": "nonexistent"},
        {"AWS_CONFIG_FILE": "<malformed>", "AWS_PROFILE": "nonexistent"},
    ],
    ids=["unknown-profile", "malformed-config-and-unknown-profile"],
)
def test_broken_aws_config_does_not_stop_loading_a_spec(
    tmp_path: Path, env: dict[str, str]
) -> None:
    malformed = tmp_path / "config"
    malformed.write_text("[profile\nregion = = us-west-2\n[[[\n")
    env = {k: str(malformed) if v == "<malformed>" else v for k, v in env.items()}
    result = _run(LOAD_EXAMPLE, **env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "('workers', 'ml.p5.48xlarge', 4)" in lines[0]
    assert lines[1] == "ml.p5.48xlarge"


def test_catalog_reaches_the_model_without_importing_spec() -> None:
    result = _run(
        "import sys\n"
        "from hyperpod_preflight.catalog import is_hyperpod_instance_type\n"
        "assert is_hyperpod_instance_type('ml.p5.48xlarge')\n"
        "print(sorted(m for m in sys.modules if m.startswith('hyperpod_preflight.spec')))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
