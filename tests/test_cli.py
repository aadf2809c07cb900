"""The command line as a user meets it: exit codes, one-line errors, outputs, start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpod_preflight.cli import main
from hyperpod_preflight.registry import all_checks

SLURM = EXAMPLES / "slurm-p5-cluster.json"
EKS = EXAMPLES / "eks-p5-g5-cluster.json"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def assert_one_line_error(err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("hp-preflight: error:"), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ('{"ClusterName": "x", ', "line 1"),
        ("", "empty"),
        ("[1, 2]", "object"),
    ],
)
def test_bad_config_files_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expect: str
) -> None:
    path = tmp_path / "c.json"
    path.write_text(content)
    code, _, err = run_cli(["check", "--offline", "--config", str(path)], capsys)
    assert code == 2
    assert_one_line_error(err)
    assert expect.lower() in err.lower()


def test_binary_and_missing_files_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\x00\xff\xfe\x89PNG\r\n")
    for path in (binary, tmp_path / "missing.json", tmp_path):
        code, _, err = run_cli(["check", "--offline", "--config", str(path)], capsys)
        assert code == 2, err
        assert_one_line_error(err)


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--vpc", "vpc-0abc1234", "--instance-group", "w=ml.p5.48xlargee:4"], "ml.p5.48xlarge"),
        (["--vpc", "vpc-0abc1234", "--subnet", "subnet_123"], "--subnet"),
        (["--vpc", "not-a-vpc"], "--vpc"),
        (["--vpc", "vpc-0abc1234", "--skip", "network.nope"], "network.nope"),
        (["--vpc", "vpc-0abc1234", "--no-such-flag"], "no-such-flag"),
        (["--config", str(SLURM), "--subnet", "subnet-0123456789abcdef0"], "--config"),
        ([], "--vpc"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], expect: str
) -> None:
    code, _, err = run_cli(["check", "--offline", *args], capsys)
    assert code == 2, err
    assert_one_line_error(err)
    assert expect in err


def test_no_credentials_exits_3_and_suggests_offline(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    code, _, err = run_cli(["check", "--config", str(SLURM)], capsys)
    assert code == 3
    assert_one_line_error(err)
    assert "credentials" in err and "--offline" in err


def test_unreachable_endpoint_exits_3_quickly(capsys: pytest.CaptureFixture[str]) -> None:
    # conftest points AWS_ENDPOINT_URL at a closed loopback port
    code, _, err = run_cli(["--region", "us-west-2", "--vpc", "vpc-0abc1234"], capsys)
    assert code == 3
    assert_one_line_error(err)
    assert "reach" in err


def test_no_region_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    code, _, err = run_cli(["--vpc", "vpc-0abc1234"], capsys)
    assert code == 3
    assert_one_line_error(err)
    assert "--region" in err


def test_malformed_region_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["--region", "us_west_2", "--vpc", "vpc-0abc1234"], capsys)
    assert code == 2
    assert_one_line_error(err)


def test_offline_check_of_the_example_runs_config_checks_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["check", "--offline", "--config", str(SLURM), "-o", "json"], capsys)
    report = json.loads(out)
    assert code == report["summary"]["exit_code"]
    offline_capable = {c.check_id for c in all_checks() if not c.info.needs_aws}
    ran = {r["check_id"] for r in report["results"] if r["status"] != "SKIP"}
    assert "config.schema" in ran and ran <= offline_capable
    needs_aws = [r for r in report["results"] if r["check_id"] not in offline_capable]
    assert needs_aws and all(r["status"] == "SKIP" and "offline" in r["message"] for r in needs_aws)


def test_output_file_and_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "report.xml"
    _, out, err = run_cli(
        ["check", "--offline", "--config", str(SLURM), "-o", "junit", "--output-file", str(target)],
        capsys,
    )
    assert target.read_text().startswith("<?xml")
    assert str(target) in err and out == ""


def test_plan_prints_ips_per_node_and_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["plan", str(SLURM), "-o", "json"], capsys)
    assert code == 0
    plan = json.loads(out)
    p5 = [g for g in plan["groups"] if g["instance_type"] == "ml.p5.48xlarge"]
    assert p5 and all(g["ips_per_node"] == 32 for g in p5)
    code, out, _ = run_cli(["plan", str(EKS), "-o", "json"], capsys)
    eks = json.loads(out)
    p5_eks = next(g for g in eks["groups"] if g["instance_type"] == "ml.p5.48xlarge")
    assert p5_eks["ips_per_node"] == 81
    code, out, _ = run_cli(["plan", str(SLURM)], capsys)
    assert "IPS/NODE" in out and "/2" in out  # a prefix such as /26


def test_list_checks_and_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["list-checks", "-o", "json"], capsys)
    ids = [c["check_id"] for c in json.loads(out)]
    assert code == 0 and "config.unique-group-names" in ids and len(ids) == len(set(ids))
    code, out, _ = run_cli(["schema"], capsys)
    assert code == 0 and "results" in json.loads(out)["properties"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--version"], capsys)
    assert code == 0 and "hp-preflight" in out


def test_help_does_not_import_boto3_or_pydantic() -> None:
    probe = (
        "import sys, hyperpod_preflight.cli as c\n"
        "try:\n    c.main(['--help'])\nexcept SystemExit as e:\n    code = e.code\n"
        "print('|'.join(m for m in ('boto3', 'botocore', 'pydantic', 'tabulate')"
        " if m in sys.modules), code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    last = result.stdout.strip().splitlines()[-1]
    assert last == " 0", last
    assert "check" in result.stdout and "quotas" in result.stdout and "host" in result.stdout


def _imported_by(args: list[str]) -> set[str]:
    """Which of pydantic, boto3 and botocore a fresh ``hp-preflight ARGS`` process imports."""
    probe = (
        "import sys, hyperpod_preflight.cli as c\n"
        "try:\n    c.main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('IMPORTED ' + ' '.join(m for m in ('boto3', 'botocore', 'pydantic')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("IMPORTED"), result.stderr
    return set(line.split()[1:])


def test_the_lint_the_offline_check_and_the_table_need_no_pydantic() -> None:
    # The pre-commit paths (issue 18): pydantic (~0.1 s of start-up) only for the JSON report.
    assert _imported_by(["lifecycle", "lint", "lifecycle/slurm"]) == set()
    assert "pydantic" in _imported_by(["lifecycle", "lint", "lifecycle/slurm", "-o", "json"])
    offline = ["check", "--config", "examples/slurm-p5-cluster.json", "--offline"]
    assert "pydantic" not in _imported_by(offline)
    assert "pydantic" not in _imported_by(["plan", "examples/eks-p5-g5-cluster.json"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "ClusterName",
                    "InstanceGroups",
                    "VpcConfig",
                    "Orchestrator",
                    "InstanceType",
                    "InstanceCount",
                    "Subnets",
                    "x",
                ]
            )
            | st.text(max_size=6),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=json_values)
def test_arbitrary_json_never_crashes_the_cli(
    doc: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(doc))
    code, _, err = run_cli(["check", "--offline", "--config", str(path), "-o", "json"], capsys)
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err


def test_a_region_botocore_does_not_know_is_bad_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # no custom endpoint: regions are botocore's
    code, _, err = run_cli(["--region", "us-wset-2", "--vpc", "vpc-0abc1234"], capsys)
    assert code == 2
    assert_one_line_error(err)
    assert "us-west-2" in err  # the closest known region


# -- options given before the command name: applied to `check`, refused elsewhere ---------
def test_check_options_before_check_are_refused_not_merged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `check` is one command with its own options; before a command, options are the
    # VPC audit's (the documented `hp-preflight --vpc vpc-...` shortcut)
    code, out, err = run_cli(["--offline", "check", "--config", str(SLURM)], capsys)
    assert code == 2 and out == "" and "--offline" in err
    code, out, err = run_cli(["--region", "us-west-2", "check", "--config", str(SLURM)], capsys)
    assert code == 2 and "--region" in err and "`check`" in err


@pytest.mark.parametrize(
    ("before", "command"),
    [
        (["--fsx"], ["plan", str(SLURM)]),
        (["-o", "json"], ["list-checks"]),
        (["--region", "us-west-2"], ["quotas", "--config", str(SLURM)]),
        (["--only", "host.driver"], ["host"]),
        (["--profile", "p"], ["host", "list-profiles"]),
        (["--vpc", "vpc-0abc1234"], ["schema"]),
    ],
)
def test_options_before_another_command_are_refused(
    capsys: pytest.CaptureFixture[str], before: list[str], command: list[str]
) -> None:
    code, out, err = run_cli([*before, *command], capsys)
    assert code == 2
    assert_one_line_error(err)
    if before == ["-o", "json"]:  # JSON was asked for: the error comes as a JSON document too
        assert_error_document(out, 2, "input")
    else:
        assert out == ""
    option = "--output" if before[0] == "-o" else before[0]
    assert option in err and f"`{command[0]}`" in err


# -- --output json: one JSON document on stdout for every run, errors included -------------
def assert_error_document(text: str, exit_code: int, kind: str) -> dict[str, object]:
    document = json.loads(text)
    assert document["schema_version"] and document["results"] == []
    error = document["error"]
    assert (error["exit_code"], error["kind"]) == (exit_code, kind), error
    assert error["message"] and "\n" not in error["message"]
    return dict(error)


@pytest.mark.parametrize("json_flag", [["-o", "json"], ["--output=json"], ["-ojson"]])
def test_json_output_on_bad_input_is_an_error_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], json_flag: list[str]
) -> None:
    missing = tmp_path / "missing.json"
    code, out, err = run_cli(["check", "--offline", "--config", str(missing), *json_flag], capsys)
    assert code == 2
    assert_one_line_error(err)
    error = assert_error_document(out, 2, "input")
    assert "missing.json" in str(error["message"])


def test_json_output_on_a_usage_error_is_an_error_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(["check", "-o", "json", "--no-such-flag"], capsys)
    assert code == 2 and "no-such-flag" in err
    assert "no-such-flag" in str(assert_error_document(out, 2, "input")["message"])


def test_json_output_when_it_cannot_run_is_an_error_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        ["--region", "us-west-2", "--vpc", "vpc-0abc1234", "--output", "json"], capsys
    )
    assert code == 3
    assert_one_line_error(err)
    assert "reach" in str(assert_error_document(out, 3, "cannot-run")["message"])


def test_json_error_document_goes_where_the_report_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "report.json"
    args = ["plan", str(tmp_path / "missing.json"), "-o", "json", "--output-file", str(target)]
    code, out, err = run_cli(args, capsys)
    assert code == 2 and out == ""
    assert_one_line_error(err)
    assert_error_document(target.read_text(), 2, "input")


@pytest.mark.parametrize(
    "args",
    [
        ["quotas", "-o", "json", "--config", "/nonexistent/c.json"],
        ["host", "-o", "json", "--root", "/nonexistent/root"],
        ["host", "aggregate", "/nonexistent/reports", "-o", "json"],
        ["list-checks", "-o", "json", "--kind", "nope"],
    ],
)
def test_every_command_writes_the_json_error_document(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert_one_line_error(err)
    assert_error_document(out, 2, "input")


def test_table_output_errors_stay_off_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["check", "--offline", "--config", "/nonexistent/c.json"], capsys)
    assert code == 2 and out == ""
    assert_one_line_error(err)


# -- a reader that goes away (hp-preflight ... | head) -------------------------------------
@pytest.mark.parametrize(
    ("args", "expected_code"),
    [
        (["list-checks"], 0),
        (["check", "--offline", "--config", str(SLURM), "-o", "json"], 0),
        (["check", "--config", "/nonexistent/c.json", "-o", "json"], 2),
        (["host", "list-profiles"], 0),
        (["plan", str(SLURM)], 0),
    ],
)
def test_a_closed_stdout_is_no_error(args: list[str], expected_code: int) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to stdout fails with EPIPE, as after `| head` has quit
    try:
        result = subprocess.run(
            [sys.executable, "-m", "hyperpod_preflight.cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert "BrokenPipe" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr
    assert result.returncode == expected_code, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["tools", "--tool-timeout", "nan"],
        ["check", "--offline", "--config", str(SLURM), "--timeout", "nan"],
        ["host", "--deep", "--deep-seconds", "NaN"],
        ["quotas", "request", "--poll", "nan"],
    ],
)
def test_nan_seconds_are_bad_input(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    # every comparison with NaN is False, so a plain FloatRange lets it through
    code, _, err = run_cli(args, capsys)
    assert code == 2, err
    assert_one_line_error(err)
    assert "nan" in err.lower()
