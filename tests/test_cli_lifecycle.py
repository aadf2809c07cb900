"""`hp-preflight lifecycle lint` and the pre-commit hook that runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from hyperpod_preflight.cli import main

CLEAN = b"#!/bin/bash\nset -euo pipefail\nbash ./setup.sh\n"


def _folder(tmp_path: Path, on_create: bytes) -> Path:
    (tmp_path / "on_create.sh").write_bytes(on_create)
    (tmp_path / "setup.sh").write_bytes(b"#!/bin/bash\nset -e\necho ready\n")
    return tmp_path


def _lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ended:
        main(["lifecycle", "lint", "--no-tools", *args])
    return int(ended.value.code or 0), capsys.readouterr().out


def test_a_clean_folder_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _lint(capsys, str(_folder(tmp_path, CLEAN)))
    assert code == 0, out
    assert "FAIL" not in out and "WARN" not in out


def test_crlf_and_a_missing_script_fail_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, b"#!/bin/bash\r\nbash ./absent.sh\r\n")
    code, out = _lint(capsys, str(folder), "-o", "json")
    assert code == 1
    found = json.loads(out)["results"]
    rules = {(f["details"]["rule"], f["details"]["line"]) for f in found}
    assert ("crlf", 1) in rules and ("missing-reference", 2) in rules


def test_the_project_reference_scripts_lint_clean(capsys: pytest.CaptureFixture[str]) -> None:
    for variant in ("slurm", "eks"):
        code, out = _lint(capsys, str(REPO / "lifecycle" / variant), "--fail-on", "warn")
        assert code == 0, out


def test_a_path_that_does_not_exist_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _lint(capsys, str(tmp_path / "nope"))
    assert code == 2


@pytest.mark.parametrize(("content", "expected"), [(CLEAN, 0), (b"#!/bin/bash\r\n", 1)])
def test_the_pre_commit_hook_entry_lints_the_files_it_is_given(
    tmp_path: Path, content: bytes, expected: int
) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "hp-preflight-lifecycle-lint"]
    folder = _folder(tmp_path, content)
    import re

    assert re.search(hook["files"], "scripts/on_create.sh")
    assert not re.search(hook["files"], "scripts/setup.sh")
    argv = hook["entry"].split()  # hp-preflight lifecycle lint
    assert argv[:3] == ["hp-preflight", "lifecycle", "lint"]
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from hyperpod_preflight.cli import main; main()",
            *argv[1:],
            "--no-tools",
            str(folder / "on_create.sh"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == expected, proc.stdout + proc.stderr
