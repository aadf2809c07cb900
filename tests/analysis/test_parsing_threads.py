"""The lint reads scripts on several threads (the run gathers every check's reads at once):
parsing must be safe there. A shared tree-sitter parser crashed the process (SIGSEGV) and
CPython 3.11's ``ast`` conversion raised "AST constructor recursion depth mismatch" when two
threads parsed at once (both seen in CI). The work runs in a child process, so that a crash
is this test's failure, not the end of the whole run."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

WORK = r"""
from concurrent.futures import ThreadPoolExecutor

from hyperpod_preflight.analysis.lifecycle_checks import compile_python
from hyperpod_preflight.analysis.secret_scan import parse_python
from hyperpod_preflight.analysis.shell_parse import parse_shell

PYTHON = b"\n".join(
    b"def f%d(x):\n    return [[(y, {z: (x, [y, (z, x)])}) for y in x] for z in x]" % i
    for i in range(60)
)
SHELL = b"\n".join(
    b'if [ -f "/tmp/a%d" ]; then for i in $(seq 1 3); do echo "$(wc -l < /tmp/a%d)"; done; fi'
    % (i, i)
    for i in range(60)
)


def both(_n):
    tree = parse_python(PYTHON)
    _module, problems = compile_python("f.py", PYTHON, None, tree)
    return type(tree).__name__, problems, parse_shell(SHELL).root_node.child_count


from pathlib import Path

from hyperpod_preflight.analysis.lifecycle import lint

FOLDER = Path("lifecycle/slurm")
FILES = {p.name: p.read_bytes() for p in FOLDER.iterdir() if p.is_file()}


def whole_lint(_n):
    report = lint(["on_create.sh"], {k: len(v) for k, v in FILES.items()}, FILES.get)
    return len(report.findings) > 0, both(_n)


with ThreadPoolExecutor(8) as pool:
    results = list(pool.map(whole_lint, range(200)))
print(sorted({repr(r) for r in results}))
"""


def test_python_and_shell_parse_on_many_threads_at_once() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", WORK],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[\"(True, ('Module', [], 60))\"]", proc.stdout
