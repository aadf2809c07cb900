"""Issues 16.2 and 20: the workstation is not the account; several outputs in one run, opened
before it; the project config file with reasoned suppressions; one rule for options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

from hyperpod_preflight.cli import main

SLURM = EXAMPLES / "slurm-p5-cluster.json"
EKS = EXAMPLES / "eks-p5-g5-cluster.json"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


@pytest.fixture
def no_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH with no session-manager-plugin, helm, kubectl or aws (a bare CI runner)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


# -- 16.2: the workstation is not the account ---------------------------------------------------
@pytest.mark.usefixtures("no_tools")
@pytest.mark.parametrize("config", [SLURM, EKS])
def test_check_judges_no_local_tool_unless_asked(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, out, _ = run_cli(["check", "--offline", "--config", str(config), "-o", "json"], capsys)
    report = json.loads(out)
    assert not [r for r in report["results"] if r["area"] == "tools"]
    assert code == report["summary"]["exit_code"] == 0
    code, out, _ = run_cli(
        ["check", "--offline", "--config", str(config), "--with-tools", "-o", "json"], capsys
    )
    failing = {r["check_id"] for r in json.loads(out)["results"] if r["status"] == "FAIL"}
    assert "tools.session-manager-plugin" in failing and code == 1


@pytest.mark.usefixtures("no_tools")
def test_the_library_check_leaves_tools_out_too() -> None:
    from hyperpod_preflight import CheckOptions, ClusterInput, run_check

    report = run_check(CheckOptions(cluster=ClusterInput(config=str(EKS)), offline=True))
    assert not [f for f in report.results if f.area == "tools"] and report.summary.exit_code == 0


# -- 20.2: several outputs, opened before the run -----------------------------------------------
def test_one_run_writes_the_table_and_json_junit_markdown_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", "--offline", "--config", str(SLURM)]
    files = {
        "json": tmp_path / "out" / "r.json",
        "junit": tmp_path / "r.xml",
        "markdown": tmp_path / "r.md",
    }
    code, out, _ = run_cli(
        [
            *args,
            "--json",
            str(files["json"]),
            "--junit",
            str(files["junit"]),
            "--output-file",
            f"markdown={files['markdown']}",
        ],
        capsys,
    )
    assert out.startswith("hp-preflight cluster") and "passed" in out  # the table on stdout
    report = json.loads(files["json"].read_text())
    assert report["summary"]["exit_code"] == code
    assert ET.fromstring(files["junit"].read_text().split("\n", 1)[1]).tag == "testsuites"
    assert files["markdown"].read_text().startswith("### hp-preflight cluster")


def test_sarif_is_one_more_file_of_the_same_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("hyperpod_preflight.render_sarif")
    sarif = tmp_path / "r.sarif"
    run_cli(["check", "--offline", "--config", str(SLURM), "--sarif", str(sarif)], capsys)
    assert json.loads(sarif.read_text())["version"] == "2.1.0"


@pytest.mark.parametrize(
    "flag", [["--output-file", "/proc/x/y.json"], ["--json", "/proc/x/y.json"]]
)
def test_a_bad_output_path_is_exit_2_before_any_aws_call(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, flag: list[str]
) -> None:
    # no credentials: had the run reached AWS it would be exit 3, not 2
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run_cli(["check", "--config", str(SLURM), *flag], capsys)
    assert code == 2 and "/proc/x/y.json" in err
    assert not out or json.loads(out)["results"] == []  # --json: the error document


# -- 20.3: the project config file --------------------------------------------------------------
def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    (tmp_path / ".hp-preflight.toml").write_text(text)
    deeper = tmp_path / "a" / "b"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)  # found upwards, as ruff finds its configuration
    return tmp_path / ".hp-preflight.toml"


def _failing_config(tmp_path: Path) -> tuple[str, str]:
    """The Slurm example with two controllers: one offline FAIL; its check id."""
    config = json.loads(SLURM.read_text())
    config["InstanceGroups"][0]["InstanceCount"] = 2
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    return str(path), "config.controller-group"


def _offline(capsys: pytest.CaptureFixture[str], config: str) -> tuple[int, dict[str, object]]:
    code, out, err = run_cli(["check", "--offline", "--config", config, "-o", "json"], capsys)
    assert out, err
    return code, json.loads(out)


def test_a_reasoned_suppression_turns_the_fail_into_an_ignored_warn_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = _failing_config(tmp_path)
    code, report = _offline(capsys, config)
    failing = [r for r in report["results"] if r["status"] == "FAIL"]  # type: ignore[union-attr]
    assert code == 1 and failing
    check_id = failing[0]["check_id"]
    _project(
        tmp_path,
        monkeypatch,
        f'[[ignore]]\nid = "{check_id}"\nreason = "groups come from the platform team (T-1)"\n'
        "expires = 2999-01-01\n",
    )
    code, report = _offline(capsys, config)
    mine = [r for r in report["results"] if r["check_id"] == check_id]  # type: ignore[union-attr]
    assert all(r["status"] != "FAIL" for r in mine)
    ignored = [r for r in mine if r["ignored"]]
    assert ignored and "groups come from the platform team (T-1)" in ignored[0]["message"]
    assert code == (1 if any(r["status"] == "FAIL" for r in report["results"]) else 0)  # type: ignore[union-attr]


def test_an_expired_suppression_is_a_warn_naming_it_and_the_fail_counts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = _failing_config(tmp_path)
    _, report = _offline(capsys, config)
    check_id = next(r for r in report["results"] if r["status"] == "FAIL")["check_id"]  # type: ignore[union-attr]
    _project(
        tmp_path,
        monkeypatch,
        f'[[ignore]]\nid = "{check_id}"\nreason = "accepted in 2020"\nexpires = 2020-01-31\n',
    )
    code, report = _offline(capsys, config)
    results = report["results"]
    expired = [r for r in results if r["check_id"] == "config.suppression-expired"]  # type: ignore[union-attr]
    assert expired and expired[0]["status"] == "WARN"
    assert check_id in expired[0]["message"] and "2020-01-31" in expired[0]["message"]
    assert any(r["check_id"] == check_id and r["status"] == "FAIL" for r in results)  # type: ignore[union-attr]
    assert code == 1


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ('[[ignore]]\nid = "network.egress"\n', "reason is required"),
        ('[[ignore]]\nid = "network.egress"\nreason = "  "\n', "reason is required"),
        ('[[ignore]]\nreason = "r"\n', "id"),
        ('[[ignore]]\nid = "x"\nreason = "r"\nexpires = "soon"\n', "expires"),
        ('fail-on = "sometimes"\n', "fail-on"),
        ('colour = "red"\n', "colour"),
        ("region = [\n", "invalid TOML"),
    ],
)
def test_a_bad_project_config_is_exit_2_naming_what(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    expect: str,
) -> None:
    _project(tmp_path, monkeypatch, text)
    code, out, err = run_cli(["check", "--offline", "--config", str(SLURM)], capsys)
    assert code == 2 and out == "" and expect in err


def test_pyproject_table_and_flags_override_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.hp-preflight]\nfail-on = "warn"\nskip = ["network"]\n'
    )
    monkeypatch.chdir(tmp_path)
    _, out, _ = run_cli(["check", "--offline", "--config", str(SLURM), "-o", "json"], capsys)
    report = json.loads(out)
    assert report["summary"]["fail_on"] == "warn"
    assert not [r for r in report["results"] if r["area"] == "network"]
    _, out, _ = run_cli(
        ["check", "--offline", "--config", str(SLURM), "--fail-on", "unknown", "-o", "json"],
        capsys,
    )
    assert json.loads(out)["summary"]["fail_on"] == "unknown"


# -- 20.4: one rule for options -----------------------------------------------------------------
REFUSED = [
    # (argv, what the error must name): each was ignored or accepted before
    (["check", "--sandbox", "--config", str(SLURM), "--vpc", "vpc-0abc1234"], "--vpc"),
    (["check", "--sandbox", "--config", str(SLURM), "--kube-context", "k"], "--kube-context"),
    (["check", "--sandbox", "--config", str(SLURM), "--region", "us-east-1"], "--region"),
    (["check", "--sandbox", "--offline", "--config", str(SLURM)], "--offline"),
    (["--vpc", "vpc-0abc1234", "--sandbox"], "--sandbox"),
    (["check", "--offline", "--config", str(SLURM), "--profile", "p"], "--profile"),
    (["check", "--offline", "--config", str(SLURM), "--no-cache"], "--no-cache"),
    (["check", "--offline", "--vpc", "banana"], "--vpc"),
    (["check", "--offline", "--config", str(SLURM), "--region", "us_west_2"], "--region"),
    (
        ["capacity", "--instance-type", "ml.p5.48xlarge", "--count", "2", "--vpc", "vpc-zzz"],
        "--vpc",
    ),
    (["capacity", "--instance-type", "ml.p5.48xl", "--count", "2"], "ml.p5.48xlarge"),
    (
        ["capacity", "--instance-type", "ml.p5.48xlarge", "--count", "2", "--regions", "mars"],
        "mars",
    ),
    (
        [
            "capacity",
            "--instance-type",
            "ml.p5.48xlarge",
            "--count",
            "2",
            "--skip",
            "capacity.regio",
        ],
        "capacity.region",  # the pipeline's selection: a bad id is exit 2 before any AWS call
    ),
    (
        ["capacity", "--instance-type", "ml.p5.48xlarge", "--count", "2", "--timeout", "0"],
        "--timeout",
    ),
    (["audit", "--vpc", "vpc-0abc1234", "--instance-type", "ml.p5.48xl"], "ml.p5.48xlarge"),
    (["tools", "--kubernetes-version", "131"], "--kubernetes-version"),
    (["tools", "--timeout", "5"], "--timeout"),
    (["check", "--config", str(SLURM), "--verbose", "--quiet"], "--quiet"),
    (["host", "--shared-mount", "/fsx"], "--shared-mount"),
    (["demo", "--config", str(EKS), "--example", "eks"], "--example"),
    (["host", "--instance-type", "ml.p5.48xl"], "ml.p5.48xlarge"),
    (["quotas", "request", "--config", str(SLURM), "--poll", "3"], "--poll"),
    (
        ["check", "--offline", "--config", str(SLURM), "--output-file", "a", "--output-file", "b"],
        "b",
    ),
    (["check", "--offline", "--config", str(SLURM), "--json", "x", "--output-file", "json=x"], "x"),
]


@pytest.mark.parametrize(("argv", "named"), REFUSED)
def test_an_option_the_mode_would_ignore_is_exit_2_naming_it(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
    named: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # an error document may be written to a relative path
    code, out, err = run_cli(argv, capsys)
    assert code == 2, err
    assert named in err and out == ""


def test_aws_region_is_honoured(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperpod_preflight.cli.build import aws_from
    from hyperpod_preflight.project_config import ProjectConfig

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert aws_from({}, ProjectConfig()).region == "eu-west-1"
    assert aws_from({"region": "us-east-2"}, ProjectConfig()).region == "us-east-2"


# -- 20.1: the demo in a 100-column terminal ----------------------------------------------------
def test_the_demo_shows_both_fails_and_fixes_in_15_lines_of_100_columns(tmp_path: Path) -> None:
    import re

    pytest.importorskip("moto")
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": str(REPO)}
    report = tmp_path / "demo.json"
    argv = ["demo", "--defects", "sg-no-self-ingress,crlf-script", "--json", str(report)]
    proc = subprocess.run(
        [sys.executable, "-m", "hyperpod_preflight.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    # what a terminal shows: the stderr preface, then the report
    preface = proc.stderr.split("next:")[0]
    lines = (preface + proc.stdout).splitlines()
    head = "\n".join(lines[:15])
    for check_id in ("network.sg-efa-self-ingress", "lifecycle.scripts"):
        assert f"FAIL  {check_id}" in head, head
    assert head.count("fix: ") == 2, head
    assert all(len(line) <= 100 for line in lines + proc.stderr.splitlines())
    ids = re.compile(r"(?:subnet|rtb|vpc|sg)-[0-9a-f]+|s3://[^\s`'\"]+|arn:aws:[^\s`'\"]+")
    for finding in json.loads(report.read_text())["results"]:
        if finding["status"] == "FAIL":
            text = " ".join((finding["resource"], finding["message"], finding["remediation"]))
            for found in ids.findall(text):
                assert found in proc.stdout, found  # whole, on one line
    assert "next:" in proc.stderr


def test_a_yaml_config_is_read_as_the_cli_input_yaml_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(json.loads(SLURM.read_text())))
    code, out, err = run_cli(["check", "--offline", "--config", str(path), "-o", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["target"] == json.loads(SLURM.read_text())["ClusterName"]
    path.write_text("ClusterName: [\n")
    code, _, err = run_cli(["check", "--offline", "--config", str(path)], capsys)
    assert code == 2 and "YAML" in err and "at line 2" in err


def test_a_trailing_comma_is_reported_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.json"
    path.write_text('{\n  "ClusterName": "c",\n  "InstanceGroups": [],\n}\n')
    code, _, err = run_cli(["check", "--offline", "--config", str(path)], capsys)
    assert code == 2 and "line 3:" in err and "trailing comma" in err


def test_list_defects_as_json_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("moto")
    code, out, _ = run_cli(["demo", "--list-defects", "-o", "json"], capsys)
    rows = json.loads(out)
    assert code == 0 and {"name", "check_id", "status", "summary"} <= set(rows[0])


def test_the_severity_threshold_keeps_lower_findings_from_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = json.loads(SLURM.read_text())
    for group in config["InstanceGroups"]:
        group["LifeCycleConfig"]["SourceS3Uri"] = "s3://my-bucket/lifecycle"
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    args = ["check", "--offline", "--config", str(path), "--fail-on", "warn", "-o", "json"]
    code, out, _ = run_cli(args, capsys)
    warned = [r for r in json.loads(out)["results"] if r["status"] == "WARN"]
    assert code == 1 and warned and all(r["severity"] == "medium" for r in warned)
    code, out, _ = run_cli([*args, "--severity", "high"], capsys)
    assert code == 0 and json.loads(out)["summary"]["exit_code"] == 0  # still shown:
    assert [r for r in json.loads(out)["results"] if r["status"] == "WARN"] == warned
