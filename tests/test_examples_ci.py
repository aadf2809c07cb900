"""The CI recipe in examples/ci works as written: the workflow is valid against the GitHub
workflow schema (as vendored by check-jsonschema from SchemaStore), its offline step runs on a
template and writes valid SARIF, and the pre-commit hook for templates runs as declared."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from conftest import REPO
from hp_configs import SG
from jsonschema import Draft7Validator
from test_render_sarif import validate

WORKFLOW = REPO / "examples" / "ci" / "hyperpod-preflight.yml"
STACK = REPO / "tests" / "spec" / "iac" / "eks-cluster-stack.yaml"


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from hyperpod_preflight.cli import main; main()", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_the_workflow_is_a_valid_github_workflow() -> None:
    schema_file = (
        resources.files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json"
    )
    schema = json.loads(schema_file.read_text())
    workflow = yaml.safe_load(WORKFLOW.read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true; GitHub does not
    errors = [e.message for e in Draft7Validator(schema).iter_errors(workflow)]
    assert errors == []
    jobs = workflow["jobs"]
    assert jobs["full"]["permissions"]["id-token"] == "write"  # OIDC, no stored keys
    assert "--offline" in _step(jobs["offline"], "hp-preflight check --offline")["run"]


def _step(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if s.get("name") == name)


def test_the_offline_step_runs_on_a_template_and_writes_sarif(tmp_path: Path) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    params = tmp_path / "parameters.json"
    params.write_text(json.dumps([f"SecurityGroupId={SG}", "ClusterNameParam=bad_name!"]))
    env = {"TEMPLATE": str(STACK), "PARAMETERS": str(params)}
    command = _step(workflow["jobs"]["offline"], "hp-preflight check --offline")["run"]
    argv = [re.sub(r"\$(\w+)", lambda m: env[m.group(1)], a) for a in shlex.split(command)]
    assert argv[0] == "hp-preflight"
    proc = _run(argv[1:], tmp_path)
    assert proc.returncode == 1, proc.stderr  # the bad name is a finding, not bad input
    log = json.loads((tmp_path / "hp-preflight.sarif").read_text())
    validate(log)
    assert any(r["ruleId"] == "config.schema" for r in log["runs"][0]["results"])


def test_the_template_hook_runs_as_declared(tmp_path: Path) -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert "hp-preflight-lifecycle-lint" in hooks
    hook = hooks["hp-preflight-template"]
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "infra/hyperpod/cluster-stack.yaml")
    example = yaml.safe_load((REPO / "examples" / "ci" / "pre-commit-config.yaml").read_text())
    used = {h["id"] for repo in example["repos"] for h in repo["hooks"]}
    assert used == set(hooks)
    argv = shlex.split(hook["entry"])
    args = ["--config", str(STACK), "--parameter", f"SecurityGroupId={SG}"]
    proc = _run([*argv[1:], *args], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _run([*argv[1:], *args, "--parameter", "ThreadsPerCore=3"], tmp_path)
    assert proc.returncode == 1 and "InstanceGroups[0].ThreadsPerCore" in proc.stdout
