"""Worst-shape inputs for the lifecycle lint: each 1 MiB file is linted alone and timed.

Every regular expression of the lint has bounded repetition or a literal prefix, shell is read
by tree-sitter and Python by ``ast``, so the time grows linearly with the size; each case must
lint in under a second of CPU time (``tests/analysis/test_lifecycle_lint_perf.py`` holds a
looser bound). The table gives CPU and wall seconds; the exit status is 1 when a case is over.

    python bench/lifecycle_lint_bench.py          # 1 MiB cases
    python bench/lifecycle_lint_bench.py 262144   # another size
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from hyperpod_preflight.analysis.lifecycle import lint

MIB = 1 << 20
KEY_ID = "AKIA" + "Q3EXAMPLZ7TESTK2"


def _fill(unit: str, size: int, head: str = "", tail: str = "") -> bytes:
    body = unit * ((size - len(head) - len(tail)) // max(1, len(unit)))
    return (head + body + tail).encode()[:size]


def cases(size: int) -> dict[str, tuple[str, bytes]]:
    """name -> (file name, content): the shapes that made the old line regexes quadratic."""
    sh, py = "#!/bin/bash\nset -e\n", "#!/usr/bin/env python3\n"
    return {
        "dashes (shell)": ("on_create.sh", _fill("-", size, sh + "# ")),
        "dashes (python)": ("on_create.py", _fill("-", size, py + "# ")),
        "one long word": ("on_create.sh", _fill("a", size, sh + "echo ")),
        "base64 run": ("on_create.sh", _fill("aB3/", size, sh + "X=")),
        "password= repeated": ("on_create.sh", _fill("password='", size, sh + "echo ")),
        "password: quoted, open": ("on_create.py", _fill('"password": "', size, py + "x = '")),
        "key ids": ("on_create.sh", _fill(KEY_ID + " ", size, sh + "echo ")),
        "aws_secret_access_key + blanks": (
            "on_create.sh",
            _fill(" ", size, sh + "aws_secret_access_key", "x"),
        ),
        "many commands": ("on_create.sh", _fill("bash ./a.sh && cd x || true\n", size, sh)),
        "deep $( )": ("on_create.sh", _fill("$(", size // 2, sh + "echo ")),
        "python strings": ("on_create.py", _fill("run('bash ./x.sh -pp p.json')\n", size, py)),
        "python . Mount": ("on_create.py", _fill('print(f"{x}. Mount point")\n', size, py)),
        "json braces": ("on_create.sh", _fill("[", size)),
        "private key header": (
            "on_create.sh",
            _fill("-----BEGIN RSA PRIVATE KEY-----\n", size, sh),
        ),
    }


LIMIT_S = 1.0


def time_case(name: str, content: bytes, entry: str) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) to lint ``content`` as ``entry``. CPU time
    is the figure to judge on a shared machine: wall time grows with other processes' load."""
    listing = {entry: len(content)}
    cpu, wall = time.process_time(), time.perf_counter()
    lint([entry], listing, {entry: content}.get, run_tool=None, max_bytes=max(MIB, len(content)))
    return time.process_time() - cpu, time.perf_counter() - wall


def run(size: int, report: Callable[[str], None] = print) -> dict[str, tuple[float, float]]:
    """Each case's (CPU, wall) seconds, reported as a table row with PASS / over 1 s (CPU)."""
    report(f"{'case':34} {'bytes':>9}  {'cpu s':>6}  {'wall s':>6}  vs {LIMIT_S:g} s (cpu)")
    times = {}
    for name, (entry, content) in cases(size).items():
        cpu, wall = times[name] = time_case(name, content, entry)
        flag = "PASS" if cpu < LIMIT_S else "over"
        report(f"{name:34} {len(content):>9,}  {cpu:6.3f}  {wall:6.3f}  {flag}")
    return times


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else MIB
    results = run(size)
    worst = max(cpu for cpu, _ in results.values())
    worst_wall = max(wall for _, wall in results.values())
    print(
        f"worst {worst:.3f} s CPU ({worst_wall:.3f} s wall) for {size:,} bytes: "
        + ("PASS" if worst < LIMIT_S else f"over {LIMIT_S:g} s")
    )
    sys.exit(0 if worst < LIMIT_S else 1)
