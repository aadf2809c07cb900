"""Worst-shape inputs for the lifecycle lint: each 1 MiB file is linted alone and timed.

Every regular expression of the lint has bounded repetition or a literal prefix, shell is read
by tree-sitter and Python by ``ast``, so the time grows linearly with the size; each case must
lint in under a second (``tests/analysis/test_lifecycle_lint_perf.py`` holds a looser bound).

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


def time_case(name: str, content: bytes, entry: str) -> float:
    listing = {entry: len(content)}
    start = time.perf_counter()
    lint([entry], listing, {entry: content}.get, run_tool=None, max_bytes=max(MIB, len(content)))
    return time.perf_counter() - start


def run(size: int, report: Callable[[str], None] = print) -> dict[str, float]:
    times = {}
    for name, (entry, content) in cases(size).items():
        times[name] = time_case(name, content, entry)
        report(f"{name:34} {len(content):>9,} bytes  {times[name]:6.3f} s")
    return times


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else MIB
    results = run(size)
    worst = max(results.values())
    print(f"worst {worst:.3f} s for {size:,} bytes ({'OK' if worst < 1 else 'over 1 s'})")
