"""What a new user meets in the first minute (issue 10): broken AWS profiles and config files,
region hints and typos, empty selections and configs, the run's wall time, the markdown plan,
the package's public names."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import EXAMPLES, moto_env

import hyperpod_preflight
from hyperpod_preflight.cli import main
from hyperpod_preflight.preflight import run_cluster_preflight
from hyperpod_preflight.spec import load_spec

SLURM = str(EXAMPLES / "slurm-p5-cluster.json")


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "internal error" not in lines[0] and "Traceback" not in err
    return lines[0]


@pytest.fixture
def broken_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config"
    path.write_text("[default\nregion = us-west-2\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    return path


@pytest.mark.parametrize("command", [["check", "--config", SLURM], ["quotas", "--config", SLURM]])
def test_a_malformed_aws_config_file_is_bad_input(
    command: list[str], broken_config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(command, capsys)
    line = one_line(err)
    assert code == 2 and out == ""
    assert str(broken_config_file) in line and "AWS_CONFIG_FILE" in line


@pytest.mark.parametrize(
    "command",
    [["plan", SLURM], ["check", "--offline", "--config", SLURM], ["list-checks"]],
    ids=["plan", "offline", "list-checks"],
)
def test_commands_without_aws_ignore_a_broken_aws_setup(
    command: list[str],
    broken_config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    code, _, err = run_cli(command, capsys)
    assert code == 0 and err == ""


def test_a_missing_aws_profile_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    code, _, err = run_cli(["check", "--config", SLURM], capsys)
    assert code == 2 and one_line(err).startswith("hp-preflight: error: AWS_PROFILE:")


def test_the_region_hint_names_aws_default_region(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    code, _, err = run_cli(["check", "--config", SLURM], capsys)
    assert code == 3 and "AWS_DEFAULT_REGION" in one_line(err)


def test_a_region_typo_is_exit_2_even_with_a_custom_endpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # conftest sets AWS_ENDPOINT_URL (a closed loopback port): the typo is found before it
    code, _, err = run_cli(["check", "--config", SLURM, "--region", "us-west-9"], capsys)
    assert code == 2 and "did you mean us-west-2" in one_line(err)


@pytest.mark.parametrize(
    "args", [["--only", "config", "--skip", "config"], ["--only", "quotas", "--skip", "quotas"]]
)
def test_an_empty_selection_is_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["check", "--offline", "--config", SLURM, *args], capsys)
    assert code == 2 and out == "" and "selection is empty" in one_line(err)


def test_an_empty_config_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    code, out, err = run_cli(["check", "--offline", "--config", str(empty)], capsys)
    assert code == 2 and out == "" and "the config is empty" in one_line(err)


def test_duration_is_the_wall_time_of_the_whole_run() -> None:
    """A slow identity check (the first call of a run) counts in ``duration_s``."""
    spec = load_spec(SLURM)
    with moto_env():
        session = boto3.Session(region_name="us-west-2")

        def slow(**_: Any) -> None:
            time.sleep(1.0)

        session.events.register("before-call.sts.GetCallerIdentity", slow)
        started = time.perf_counter()
        report = run_cluster_preflight(spec, session=session, only=["config"])
        wall = time.perf_counter() - started
    assert report.duration_s >= 1.0
    assert report.duration_s <= wall + 0.01


def test_plan_markdown_has_a_heading_and_only_type_rows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["plan", SLURM, "-o", "markdown"], capsys)
    assert code == 0
    assert out.startswith("## Cluster plan (slurm)\n")
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert not any(row.split("|")[1].strip() == "total" for row in rows)
    assert "Total: 6 instances." in out
    assert "|     |" not in out  # every column has a header


def test_dir_shows_the_public_api_only() -> None:
    names = dir(hyperpod_preflight)
    for public in ("Status", "Report", "load_spec", "run_preflight", "InputError", "plan"):
        assert public in names
    for private in ("Any", "Path", "TYPE_CHECKING", "annotations"):
        assert private not in names
    assert hyperpod_preflight.Status.FAIL.value == "FAIL"


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--version"], 0), (["check", "--bogus"], 2), (["check", "--offline", "--config", SLURM], 0)],
)
def test_the_command_leaves_without_tearing_the_interpreter_down(
    args: list[str], code: int
) -> None:
    """As the process's entry, ``main`` ends it once its output is flushed and its exit
    handlers have run (~0.1 s of CPU less than freeing every module): the exit code and
    the output are those of a normal exit; objects are not finalized one by one."""
    import json
    import subprocess
    import sys

    script = (
        "import atexit, sys\n"
        "class Probe:\n"
        "    def __del__(self):\n"
        "        sys.stderr.write('TORN DOWN\\n')\n"
        "probe = Probe()\n"
        "atexit.register(lambda: sys.stderr.write('EXIT HANDLER RAN\\n'))\n"
        "from hyperpod_preflight.cli import main\n"
        "main()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, *args, *(["-o", "json"] if "check" in args else [])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == code, out.stderr
    assert "EXIT HANDLER RAN" in out.stderr and "TORN DOWN" not in out.stderr
    if "--offline" in args:
        assert json.loads(out.stdout)["summary"]
    elif code == 0:
        assert "version" in out.stdout
