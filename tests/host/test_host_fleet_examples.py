"""The fleet launchers in examples/fleet: valid shell and YAML, one task or pod per node,
and hp-preflight options that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hyperpod_preflight.cli.host import host

FLEET = Path(__file__).resolve().parents[2] / "examples" / "fleet"


@pytest.mark.parametrize("name", ["slurm-host-preflight.sbatch", "ssm-host-preflight.sh"])
def test_scripts_are_valid_bash(name: str) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    result = subprocess.run([bash, "-n", str(FLEET / name)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_slurm_runs_one_task_per_node_and_aggregates() -> None:
    text = (FLEET / "slurm-host-preflight.sbatch").read_text()
    assert re.search(r"^srun --ntasks-per-node=1 ", text, re.MULTILINE)
    assert '--output-file "$REPORTS/$(hostname).json"' in text
    assert '"$HP" host aggregate "$REPORTS"' in text


def test_ssm_uses_the_hyperpod_target_format_and_start_session() -> None:
    text = (FLEET / "ssm-host-preflight.sh").read_text()
    assert 'target="sagemaker-cluster:${CLUSTER_ID}_${group}-${instance}"' in text
    assert "CLUSTER_ID=${CLUSTER_ARN##*/}" in text
    assert "aws ssm start-session" in text and "AWS-StartNonInteractiveCommand" in text


def test_kubernetes_job_is_indexed_one_pod_per_node() -> None:
    import yaml

    job = yaml.safe_load((FLEET / "k8s-host-preflight-job.yaml").read_text())
    spec = job["spec"]
    assert job["kind"] == "Job" and spec["completionMode"] == "Indexed"
    pod = spec["template"]["spec"]
    anti = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["topologyKey"] == "kubernetes.io/hostname"
    container = pod["containers"][0]
    assert "nvidia.com/gpu" in container["resources"]["limits"]
    assert "hp-preflight host" in container["args"][0]


def test_options_used_by_the_launchers_exist() -> None:
    names = {opt for param in host.params for opt in param.opts}
    invocation = re.compile(r'(?:hp-preflight|"?\$HP"?|args=\()\s*host\b([^;|&\n]*)')
    used: set[str] = set()
    for path in FLEET.iterdir():
        text = path.read_text().replace("\\\n", " ")  # join continued lines
        for match in invocation.finditer(text):
            used.update(re.findall(r"(--[a-z][a-z-]+)", match.group(1)))
    assert {"--profile", "--output", "--output-file", "--instance-type"} <= used
    assert used <= names, used - names
