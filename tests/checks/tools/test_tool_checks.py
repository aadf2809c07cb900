"""tools.* checks with fake tools (real executables) on a temporary PATH: found, missing
(required FAIL, optional WARN), old, unreadable, hung; kubectl skew against the cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_world import run
from tool_fakes import (
    AWS_V1,
    AWS_V2,
    AWS_V2_OLD,
    HELM_2,
    healthy_tools,
    kubectl_json,
    write_tool,
)

import hyperpod_preflight.checks.tools  # noqa: F401  (registers the checks)
from hyperpod_preflight.facts.local import ToolProbe
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup

GROUPS = (InstanceGroup(name="g", instance_type="ml.g5.8xlarge", count=1),)
EKS = ClusterSpec(
    name="hp",
    orchestrator="eks",
    eks_cluster_arn="arn:aws:eks:us-west-2:123456789012:cluster/ml",
    instance_groups=GROUPS,
)
SLURM = ClusterSpec(name="hp", orchestrator="slurm", instance_groups=GROUPS)


def check(
    check_id: str, folder: Path, spec: ClusterSpec = EKS, **options: object
) -> tuple[str, str, str]:
    (finding,) = run(check_id, spec, None, tool_probe=ToolProbe(path=str(folder)), **options)
    return finding.status.value, finding.message, finding.remediation


def test_a_healthy_machine_passes_every_tool(tmp_path: Path) -> None:
    folder = healthy_tools(tmp_path)
    for check_id in (
        "tools.aws-cli",
        "tools.session-manager-plugin",
        "tools.kubectl",
        "tools.helm",
        "tools.eksctl",
        "tools.hyp",
    ):
        status, message, _ = check(check_id, folder)
        assert status == "PASS", (check_id, message)
    assert "2.22.35" in check("tools.aws-cli", folder)[1]


def test_missing_required_tools_fail_and_optional_ones_warn_with_the_install_hint(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for check_id, status in (
        ("tools.aws-cli", "FAIL"),
        ("tools.session-manager-plugin", "FAIL"),
        ("tools.kubectl", "FAIL"),
        ("tools.helm", "FAIL"),
        ("tools.eksctl", "WARN"),
        ("tools.hyp", "WARN"),
    ):
        got, message, remediation = check(check_id, empty)
        assert got == status and "not installed" in message, check_id
        assert remediation.startswith("Install it: ")
    assert "pip install sagemaker-hyperpod" in check("tools.hyp", empty)[2]


def test_eks_tools_are_skipped_for_slurm(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for check_id in ("tools.kubectl", "tools.helm", "tools.eksctl", "tools.hyp"):
        assert check(check_id, empty, SLURM)[0] == "SKIP"
    assert check("tools.aws-cli", empty, SLURM)[0] == "FAIL"


@pytest.mark.parametrize(
    ("output", "stderr", "status", "text"),
    [
        (AWS_V2, False, "PASS", "2.22.35"),
        (AWS_V2_OLD, False, "WARN", "older than 2.17.1"),
        (AWS_V1, True, "WARN", "v1"),  # v1 of old printed its version on stderr
        ("Traceback (most recent call last):", True, "UNKNOWN", "could not tell"),
    ],
)
def test_aws_cli_versions(
    tmp_path: Path, output: str, stderr: bool, status: str, text: str
) -> None:
    write_tool(tmp_path, "aws", output, stderr=stderr)
    got, message, _ = check("tools.aws-cli", tmp_path)
    assert got == status and text in message


@pytest.mark.parametrize(
    ("client", "cluster", "status"),
    [
        ("v1.31.2", "1.31", "PASS"),
        ("v1.32.0", "1.31", "PASS"),
        ("v1.30.9", "1.31", "PASS"),
        ("v1.33.1", "1.31", "WARN"),
        ("v1.28.4", "1.31", "WARN"),
    ],
)
def test_kubectl_skew_against_the_given_cluster_version(
    tmp_path: Path, client: str, cluster: str, status: str
) -> None:
    write_tool(tmp_path, "kubectl", kubectl_json(client))
    got, message, remediation = check("tools.kubectl", tmp_path, kubernetes_version=cluster)
    assert got == status, message
    if status == "WARN":
        assert "Install kubectl 1.31" in remediation


def test_kubectl_without_a_cluster_version_passes_saying_skew_was_not_checked(
    tmp_path: Path,
) -> None:
    write_tool(tmp_path, "kubectl", kubectl_json("v1.29.0"))
    status, message, _ = check("tools.kubectl", tmp_path)
    assert status == "PASS" and "not checked" in message and "offline" in message


def test_helm_2_fails(tmp_path: Path) -> None:
    write_tool(tmp_path, "helm", HELM_2)
    status, message, _ = check("tools.helm", tmp_path)
    assert status == "FAIL" and "Helm 2" in message


def test_a_tool_that_hangs_is_unknown_after_the_timeout(tmp_path: Path) -> None:
    write_tool(tmp_path, "session-manager-plugin", "1.2.650.0", sleep=5)
    (finding,) = run(
        "tools.session-manager-plugin",
        EKS,
        None,
        tool_probe=ToolProbe(timeout_s=0.3, path=str(tmp_path)),
    )
    assert finding.status.value == "UNKNOWN" and "did not answer within 0.3 s" in finding.message


def test_the_default_probe_reads_path_and_runs_each_tool_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "calls.log"
    folder = tmp_path / "bin"
    write_tool(folder, "aws", AWS_V2)
    script = folder / "aws"
    script.write_text(script.read_text().replace("#!/bin/sh\n", f"#!/bin/sh\necho x >> {log}\n"))
    monkeypatch.setenv("PATH", str(folder))
    options: dict[str, object] = {}
    from hyperpod_preflight.planner import build_plan
    from hyperpod_preflight.registry import get
    from hyperpod_preflight.runner import CheckContext, gather_and_judge, gatherer_for

    ctx = CheckContext(spec=EKS, plan=build_plan(EKS), facts=None, options=options)
    gatherer = gatherer_for(ctx)  # one run: its tool reads made once
    for _ in range(3):
        (finding,) = gather_and_judge(get("tools.aws-cli"), ctx, gatherer)
        assert finding.status.value == "PASS"
    assert log.read_text().count("x") == 1
