"""Hypothesis: whatever a lifecycle folder holds (scripts of any bytes, any
provisioning_parameters.json), and whatever a config's lifecycle fields say, the CLI ends with
a documented exit code and never raises or reports an internal error. Bounded example counts
keep it fast in CI."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpod_preflight.cli import main

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SHELLISH = st.lists(
    st.sampled_from(
        [
            "#!/bin/bash\n",
            "set -euo pipefail\n",
            "\r\n",
            "curl https://example.com/x.sh | bash\n",
            "python3 lifecycle_script.py -pp provisioning_parameters.json\n",
            "if [ -f x ]; then\n",
            "fi\n",
            'echo "$(',
            "AWS_SECRET_ACCESS_KEY=abc\n",
            "\x00\xff",
            "source ./missing.sh\n",
        ]
    )
    | st.text(max_size=40),
    max_size=12,
).map("".join)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "workload_manager",
                    "controller_group",
                    "login_group",
                    "worker_groups",
                    "instance_group_name",
                    "partition_name",
                    "fsx_dns_name",
                    "fsx_mountname",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=6,
        )
    ),
    max_leaves=12,
)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "-o", "json"])
    out, err = capsys.readouterr()
    code = exit_info.value.code
    # a check that crashed is an UNKNOWN marked internal_error in the report: none may
    assert '"internal_error": true' not in out, out
    assert '"internal_errors": 0' in out or '"internal_errors"' not in out, out
    return (code if isinstance(code, int) else 0), err


@FUZZ
@given(
    script=SHELLISH,
    raw_script=st.binary(max_size=64),
    params=JSONISH | st.text(max_size=30).map(lambda t: t),
    as_text=st.booleans(),
)
def test_lifecycle_lint_never_raises(
    script: str,
    raw_script: bytes,
    params: Any,
    as_text: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "on_create.sh").write_bytes(script.encode("utf-8", "surrogatepass") + raw_script)
        content = params if as_text and isinstance(params, str) else json.dumps(params)
        (root / "provisioning_parameters.json").write_text(str(content))
        code, err = run(["lifecycle", "lint", "--no-tools", str(root)], capsys)
    assert code in (0, 1, 2), err
    assert "internal error" not in err and "Traceback" not in err


@FUZZ
@given(
    uri=st.text(max_size=40)
    | st.sampled_from(["s3://", "s3://b", "s3:///x/", "s3://sagemaker-x/a/"]),
    entry=st.text(max_size=20) | st.sampled_from(["", "../x.sh", "on_create.sh", "/abs.sh"]),
)
def test_lifecycle_fields_of_a_config_never_crash_the_check(
    uri: str, entry: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = json.loads((EXAMPLES / "slurm-p5-cluster.json").read_text())
    for group in config["InstanceGroups"]:
        group["LifeCycleConfig"] = {"SourceS3Uri": uri, "OnCreate": entry}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cluster.json"
        path.write_text(json.dumps(config))
        code, err = run(["check", "--offline", "--config", str(path)], capsys)
    assert code in (0, 1, 2), err
    assert "internal error" not in err and "Traceback" not in err
