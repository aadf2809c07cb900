"""`hp-preflight tools` and `check --kube-context` as a user meets them: exit codes and the
tools judged, with fake tools (real executables) on PATH."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES
from tool_fakes import healthy_tools, kubectl_json, write_tool

from hyperpod_preflight.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_tools_on_a_healthy_machine_exit_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(healthy_tools(tmp_path)))
    code, out, _ = run_cli(["tools", "--kubernetes-version", "1.31", "-o", "json"], capsys)
    report = json.loads(out)
    assert code == 0
    assert {r["check_id"] for r in report["results"]} == {
        "tools.aws-cli",
        "tools.session-manager-plugin",
        "tools.kubectl",
        "tools.helm",
        "tools.eksctl",
        "tools.hyp",
    }
    assert {r["area"] for r in report["results"]} == {"tools"}


def test_tools_missing_a_required_one_exits_1_and_slurm_needs_no_kubectl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = healthy_tools(tmp_path)
    (folder / "session-manager-plugin").unlink()
    (folder / "kubectl").unlink()
    monkeypatch.setenv("PATH", str(folder))
    code, out, _ = run_cli(["tools", "--orchestrator", "slurm", "-o", "json"], capsys)
    by_id = {r["check_id"]: r["status"] for r in json.loads(out)["results"]}
    assert code == 1
    assert by_id["tools.session-manager-plugin"] == "FAIL" and by_id["tools.kubectl"] == "SKIP"


def test_tools_reads_the_orchestrator_from_a_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = healthy_tools(tmp_path)
    write_tool(folder, "kubectl", kubectl_json("v1.27.0"))
    monkeypatch.setenv("PATH", str(folder))
    config = str(EXAMPLES / "eks-p5-g5-cluster.json")
    code, out, _ = run_cli(
        ["tools", "-c", config, "--kubernetes-version", "1.31", "-o", "json"], capsys
    )
    by_id = {r["check_id"]: r["status"] for r in json.loads(out)["results"]}
    assert by_id["tools.kubectl"] == "WARN" and code == 0
    code, _, err = run_cli(["tools", "-c", config, "--orchestrator", "eks"], capsys)
    assert code == 2 and "--orchestrator" in err


def test_check_takes_kube_context_and_skips_tools_on_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(EXAMPLES / "eks-p5-g5-cluster.json")
    _, out, _ = run_cli(
        ["check", "--offline", "--config", config, "--kube-context", "ml", "-o", "json"], capsys
    )
    results = json.loads(out)["results"]
    deps = [r for r in results if r["check_id"] == "eks.hyperpod-dependencies"]
    assert deps and "not read without --kube-context" not in deps[0]["message"]  # given
    # the workstation is not the account: tools only with --with-tools
    assert not any(r["area"] == "tools" for r in results)
    _, out, _ = run_cli(
        ["check", "--offline", "--config", config, "--with-tools", "-o", "json"], capsys
    )
    assert [r for r in json.loads(out)["results"] if r["area"] == "tools"]


@pytest.mark.parametrize("version", ["latest", "131", "1.x"])
def test_a_kubernetes_version_that_is_no_version_is_bad_input(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    version: str,
) -> None:
    monkeypatch.setenv("PATH", str(healthy_tools(tmp_path)))
    code, out, err = run_cli(["tools", "--kubernetes-version", version], capsys)
    assert code == 2 and out == "" and "--kubernetes-version" in err and version in err
