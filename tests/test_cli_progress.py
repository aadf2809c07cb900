"""`hp-preflight check` on a slow endpoint: a progress line on a terminal's stderr, rewritten
in place and erased at the end; nothing when stderr is not a terminal or with --quiet/-q;
stdout is the report either way."""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import pytest
from aws_world import Network, healthy_network
from conftest import EXAMPLES, moto_env

from hyperpod_preflight.cli import main

pytestmark = pytest.mark.usefixtures("lifted_endpoint")
SLOW_S = 2.4


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def world() -> Iterator[Network]:
    with moto_env():
        yield healthy_network(boto3.client("ec2", region_name="us-west-2"))


@pytest.fixture
def slow_ec2(monkeypatch: pytest.MonkeyPatch) -> None:
    """EC2's DescribeSubnets answers after SLOW_S seconds (a slow endpoint), in every
    botocore session made from now on."""

    def slow(**_: Any) -> None:
        time.sleep(SLOW_S)

    handlers = [*botocore.handlers.BUILTIN_HANDLERS, ("before-send.ec2.DescribeSubnets", slow)]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)


def config_for(tmp_path: Path, net: Network) -> str:
    cfg = json.loads((EXAMPLES / "slurm-p5-cluster.json").read_text())
    cfg["VpcConfig"] = {"Subnets": [net.subnets["a"]], "SecurityGroupIds": [net.sgs["efa"]]}
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), json.loads(out), err


def check_args(tmp_path: Path, net: Network, *extra: str) -> list[str]:
    config = config_for(tmp_path, net)
    return [
        "check",
        "--region",
        "us-west-2",
        "--config",
        config,
        "--only",
        "network",
        "-o",
        "json",
        *extra,
    ]


@pytest.mark.usefixtures("slow_ec2")
def test_a_terminal_sees_the_wait_then_a_clean_line(
    world: Network,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, report, _ = run(check_args(tmp_path, world), capsys)
    assert report["kind"] == "cluster" and report["results"]  # stdout is the report alone
    assert code == report["summary"]["exit_code"]
    shown = terminal.getvalue()
    frames = [f for f in shown.split("\r") if f.strip()]
    assert frames, "no progress line on a terminal"
    first = frames[0].rstrip()
    assert first.startswith("waiting for ") and " check" in first
    assert "(longest: network." in first and first.endswith(" s)")
    assert "\n" not in shown  # rewritten in place, never a new line per refresh
    assert len(frames) <= SLOW_S + 2  # at most once a second
    assert shown.endswith("\r") and not shown.rsplit("\r", 2)[-2].strip()  # erased at the end


@pytest.mark.usefixtures("slow_ec2")
@pytest.mark.parametrize("quiet", ["--quiet", "-q"])
def test_quiet_draws_nothing_on_a_terminal(
    world: Network,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    quiet: str,
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, report, _ = run(check_args(tmp_path, world, quiet), capsys)
    assert report["results"] and code == report["summary"]["exit_code"]
    assert "waiting for" not in terminal.getvalue()


@pytest.mark.usefixtures("slow_ec2")
def test_not_a_terminal_gets_no_progress(
    world: Network, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, err = run(check_args(tmp_path, world), capsys)
    assert report["results"] and code == report["summary"]["exit_code"]
    assert "waiting for" not in err
