"""The lifecycle lint reads each language as itself: own fixtures for the constructs of the
public aws-samples base-config scripts (never copies of them), hostile names through every fix,
masking at read, linear time, and the public folders themselves when a mirror is present."""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from hyperpod_preflight.analysis.lifecycle import LintLevel, LintReport, lint
from hyperpod_preflight.lifecycle_local import local_source
from hyperpod_preflight.results import jsonable


def run_lint(files: Mapping[str, str | bytes], *entries: str) -> LintReport:
    data = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
    return lint(entries or ("on_create.sh",), {k: len(v) for k, v in data.items()}, data.get)


def refs(report: LintReport) -> list[tuple[str, int | None, LintLevel]]:
    return [(f.file, f.line, f.level) for f in report.findings if f.rule == "missing-reference"]


SH = "#!/bin/bash\nset -e\n"


# -- Python is read as Python ---------------------------------------------------------------------
def test_print_text_is_not_a_command() -> None:
    py = 'x = 1\nprint(f"Mount fsx: {x}. Mount point: {x}")\nprint("no names (a/b) given")\n'
    report = run_lint({"on_create.sh": SH + "python3 s.py\n", "s.py": py})
    assert refs(report) == []


def test_subprocess_cwd_resolves_in_that_folder() -> None:
    py = (
        "import subprocess\n"
        'cmd = ["python3", "-u", "install.py", "--flag"]\n'
        "if True:\n"
        '    cmd += ["--more"]\n'
        'subprocess.run(cmd, cwd="./sub", check=True)\n'
    )
    files = {"on_create.sh": SH + "python3 s.py\n", "s.py": py, "sub/install.py": "print(1)\n"}
    report = run_lint(files)
    assert refs(report) == []
    assert "sub/install.py" in report.reached


def test_python_unconditional_missing_fails_and_conditional_warns() -> None:
    py = (
        "import subprocess, os\n"
        'subprocess.run(["bash", "always.sh"])\n'
        "if os.environ.get('X'):\n"
        '    subprocess.check_call(["bash", "sometimes.sh"])\n'
        "try:\n"
        '    os.system("bash tried.sh")\n'
        "except Exception:\n"
        "    pass\n"
        'open("gone.json").read()\n'
        'open("out.json", "w").write("{}")\n'
    )
    report = run_lint({"on_create.sh": SH + "python3 s.py\n", "s.py": py})
    assert refs(report) == [
        ("s.py", 2, LintLevel.FAIL),
        ("s.py", 4, LintLevel.WARN),
        ("s.py", 6, LintLevel.WARN),
        ("s.py", 9, LintLevel.FAIL),
    ]


def test_a_wrapper_argument_is_followed_and_only_warned() -> None:
    py = (
        'class Run:\n    def __init__(self, n):\n        self.n = n\nRun("./a.sh")\nRun("./b.sh")\n'
    )
    files = {"on_create.sh": SH + "python3 s.py\n", "s.py": py, "a.sh": "echo a\n"}
    report = run_lint(files)
    assert "a.sh" in report.reached
    assert refs(report) == [("s.py", 5, LintLevel.WARN)]


# -- shell is read with a parser ------------------------------------------------------------------
def test_variable_assigned_a_literal_is_resolved() -> None:
    sh = SH + "PP=params.json\npython3 -u s.py -pp $PP\n"
    report = run_lint({"on_create.sh": sh, "s.py": "print(1)\n"})
    [(file, line, level)] = refs(report)
    assert (file, line, level) == ("on_create.sh", 4, LintLevel.FAIL)
    assert "$PP" in report.findings[-1].message or any("$PP" in f.message for f in report.findings)


def test_conditional_exit_zero_makes_the_rest_conditional() -> None:
    sh = SH + 'PP="params.json"\nif [[ ! -f /opt/x ]]; then\n  exit 0\nfi\npython3 s.py -pp $PP\n'
    report = run_lint({"on_create.sh": sh, "s.py": "print(1)\n"})
    assert refs(report) == [("on_create.sh", 7, LintLevel.WARN)]


def test_cd_tmp_then_unzip_is_not_asked_of_the_prefix() -> None:
    sh = SH + (
        "cd /tmp && curl -o a.zip https://example.com/a.zip && unzip a.zip\n./pkg/setup.sh\n"
    )
    assert refs(run_lint({"on_create.sh": sh})) == []


def test_git_clone_then_cd_then_configure_is_made_by_the_script() -> None:
    sh = SH + "git clone https://github.com/o/tool.git\ncd tool\n./configure\nbash ./x.sh\n"
    assert refs(run_lint({"on_create.sh": sh})) == []


def test_grep_pattern_is_not_a_password() -> None:
    sh = SH + 'v=$(aws x | grep -o \'"password":"[^"]*"\' | sed \'s/"password":"//\')\n'
    report = run_lint({"on_create.sh": sh})
    assert [f for f in report.findings if f.rule == "secret"] == []


def test_function_not_called_is_conditional() -> None:
    sh = SH + "f() {\n  bash gone.sh\n}\ng() {\n  bash gone2.sh\n}\ng\n"
    assert refs(run_lint({"on_create.sh": sh})) == [
        ("on_create.sh", 7, LintLevel.FAIL),
        ("on_create.sh", 4, LintLevel.WARN),
    ]


# -- secrets masked where read --------------------------------------------------------------------
KEY_ID = "AKIA" + "Q3EXAMPLZ7TESTK2"


def test_a_key_is_masked_in_every_other_finding() -> None:
    sh = SH + f"bash ./{KEY_ID}.sh\nsetup() {KEY_ID}\n"
    report = run_lint({"on_create.sh": sh})
    assert KEY_ID not in json.dumps(jsonable(report))
    assert any(f.rule == "missing-reference" for f in report.findings)


# -- fix commands are safe to paste ---------------------------------------------------------------
HOSTILE = ["x;id>PWN.sh", "$(id).sh", "`id`.sh", "a'b\".sh", "new\nline.sh", "sp ace.sh"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_quoted_in_every_fix(name: str, tmp_path: Path) -> None:
    script = SH + f"bash {shlex.quote('./' + name)}\n"
    files: dict[str, bytes] = {
        "on_create.sh": script.encode(),
        name: b"\xef\xbb\xbfecho x\r\n",  # BOM + CRLF: the sed and iconv fixes name it too
        name + "2": b"",
    }
    report = lint(
        ["on_create.sh", name, name + "2"], {k: len(v) for k, v in files.items()}, files.get
    )
    missing = run_lint({"on_create.sh": script})
    fixes = [f.remediation for f in (*report.findings, *missing.findings) if f.remediation]
    assert fixes
    for fix in fixes:
        for words in _commands(fix):
            out = subprocess.run(
                ["bash", "-c", "printf '%s\\0' " + words], capture_output=True, cwd=tmp_path
            )
            assert b"uid=" not in out.stdout and not list(tmp_path.iterdir()), fix


def _commands(fix: str) -> list[str]:
    """The argument part of each command in a fix (after its program name)."""
    out = []
    for piece in fix.replace("&&", "\x00").split("\x00"):
        for start in ("aws s3 cp ", "sed -i ", "iconv ", "mv ", "bash -n ", "dos2unix "):
            if start in piece:
                out.append(piece.split(start, 1)[1].split("  (", 1)[0].split(")", 1)[0])
    return out


# -- linear time ----------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", ["-", "password='", "aB3/"])
def test_pathological_files_lint_in_linear_time(unit: str) -> None:
    content = (SH + "# " + unit * (200_000 // len(unit))).encode()
    start = time.perf_counter()
    run_lint({"on_create.sh": content})
    assert time.perf_counter() - start < 5.0  # was 0.8/2.2/7.8 s at 10k/20k/40k dashes


# -- the public scripts, when a mirror of them is on this machine ---------------------------------
MIRROR = Path("/work/.mirror/aws-samples+awsome-distributed-training/repo")
PUBLIC = {
    "slurm": "1.architectures/5.sagemaker-hyperpod/LifecycleScripts/base-config",
    "eks": "1.architectures/7.sagemaker-hyperpod-eks/LifecycleScripts/base-config",
}


@pytest.mark.skipif(not MIRROR.is_dir(), reason="no mirror of aws-samples scripts here")
@pytest.mark.parametrize("which", sorted(PUBLIC))
def test_public_base_config(which: str, tmp_path: Path) -> None:
    archive = subprocess.run(
        ["git", f"--git-dir={MIRROR}", "archive", "HEAD", PUBLIC[which]],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive, check=True)
    listing, fetch = local_source(tmp_path / PUBLIC[which])
    report = lint(["on_create.sh"], listing, fetch)
    loud = [(f.file, f.rule, f.level) for f in report.at_least(LintLevel.WARN)]
    expected = [("on_create.sh", "missing-reference", LintLevel.WARN)] if which == "slurm" else []
    assert loud == expected
