"""Every `hp-preflight` command the README shows is run, so that the README cannot drift from
the tool: the commands of its code blocks (and the complete commands quoted inline), in a
folder holding the files they name, against moto (AWS) or this machine (host, tools), with
the exit code the README documents (else: 0 or 1, the tool ran and judged; never 2, bad
usage, or 3, could not run)."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, moto_env

from hyperpod_preflight.cli import main

README = REPO / "README.md"
# placeholders the README uses, and what stands for them here
PLACEHOLDERS = {"vpc-…": "vpc-0abc1234", "$(hostname)": "node-1", "/fsx/": "fsx/"}
# the exit codes the README documents for a command (prefix match); else RAN
DOCUMENTED = {
    "hp-preflight demo --defects": {1},
    "hp-preflight demo --failed-cluster": {1},
    "hp-preflight demo": {0},
    # the test account holds no cluster of that name: one line naming it, exit 2
    "hp-preflight diagnose --cluster my-cluster": {2},
    "hp-preflight --help": {0},
    "hp-preflight list-checks": {0},
    "hp-preflight schema": {0},
    "hp-preflight plan": {0},
    "hp-preflight check --sandbox": {0},
    "hp-preflight lifecycle lint": {0},
}
RAN = {0, 1}
# bounded so that the test never waits on a poll (the flags stay as documented otherwise)
APPENDED = {"--wait": ["--wait-timeout", "0.5", "--poll", "0.1"]}


def _blocks(text: str) -> Iterator[str]:
    """Commands of the fenced code blocks: lines that run hp-preflight (`$ ` prompts and
    `\\` continuations handled; `a && b` keeps the hp-preflight part)."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip().removeprefix("$ ")
            line = line.split("&&")[-1].strip()
            if line.startswith("hp-preflight"):
                yield line.split("  #")[0].split(" # ")[0].strip()


def _inline(text: str) -> Iterator[str]:
    """Complete commands quoted inline: not syntax summaries (with [ | ] or …), not a
    command's bare name in a sentence (`hp-preflight host aggregate`)."""
    for span in re.findall(r"`(hp-preflight [^`]+)`", text.replace("\n", " ")):
        words = span.split()[1:]
        named_only = all(re.fullmatch(r"[a-z-]+", w) and not w.startswith("-") for w in words)
        if not named_only and not re.search(r"[\[\]|…<>]", span.replace("vpc-…", "")):
            yield span


def readme_commands() -> list[str]:
    text = README.read_text()
    found = [*_blocks(text), *_inline(text)]
    return list(dict.fromkeys(found))


def _argv(command: str) -> list[str]:
    for placeholder, value in PLACEHOLDERS.items():
        command = command.replace(placeholder, value)
    argv = shlex.split(command)[1:]
    for flag, extra in APPENDED.items():
        if flag in argv:
            argv += extra
    return argv


def expected(command: str) -> set[int]:
    for prefix, codes in DOCUMENTED.items():
        if command.startswith(prefix):
            return codes
    return RAN


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with every file the README's commands name."""
    import yaml

    root = tmp_path_factory.mktemp("readme")
    slurm, eks = EXAMPLES / "slurm-p5-cluster.json", EXAMPLES / "eks-p5-g5-cluster.json"
    for name in ("cluster-config.json", "slurm.json", "your-config.json", "cluster.json"):
        shutil.copy(slurm, root / name)
    shutil.copy(eks, root / "eks.json")
    (root / "cluster-config.yaml").write_text(yaml.safe_dump(yaml.safe_load(slurm.read_text())))
    shutil.copytree(REPO / "lifecycle", root / "lifecycle")
    iac = REPO / "tests" / "spec" / "iac"
    shutil.copy(iac / "eks-cluster-stack.yaml", root / "stack.yaml")
    shutil.copy(iac / "plan-known.json", root / "plan.json")
    (root / "examples").symlink_to(EXAMPLES)
    return root


def test_the_readme_shows_the_commands_a_user_needs() -> None:
    commands = readme_commands()
    assert len(commands) >= 30
    for needed in ("hp-preflight demo", "hp-preflight check --config", "hp-preflight audit"):
        assert any(c.startswith(needed) for c in commands), needed


@pytest.mark.parametrize("command", readme_commands())
def test_every_readme_command_runs_with_its_documented_exit_code(
    command: str,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if "--deep" in command or "--measure-bandwidth" in command:
        pytest.importorskip("torch")
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    with moto_env(), pytest.raises(SystemExit) as ended:
        main(_argv(command))
    code = ended.value.code if isinstance(ended.value.code, int) else 0
    err = capsys.readouterr().err
    assert code in expected(command), f"{command}: exit {code}: {err[-500:]}"
