"""`check --sandbox --config TEMPLATE`: the sandbox builds the account for the cluster a
CloudFormation template defines, with its parameters (issue 19, item 5). Its own module: the
sandbox starts its own moto, which must not run inside another test's."""

from __future__ import annotations

import json

import pytest
from hp_configs import SG
from test_iac import PSEUDO, STACK, run_cli


def test_the_sandbox_takes_a_template_with_its_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["check", "--sandbox", "-q", "--config", str(STACK), "-o", "json"]
    args += ["--parameter", f"SecurityGroupId={SG}", "--parameter", "GpuCount=3"]
    args += [f"--parameter={k}={v}" for k, v in PSEUDO.items()]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err + out
    report = json.loads(out)
    assert report["target"] == "ml-eks-cluster"
    counts = [f for f in report["results"] if f["check_id"] == "config.instance-count-limit"]
    assert "4 instances" in counts[-1]["message"]  # the parameter reached the sandbox
    assert not [f for f in report["results"] if f["status"] in ("FAIL", "UNKNOWN")]
