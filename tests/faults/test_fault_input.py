"""Input the shell can hand over broken: standard input closed (``--config - <&-``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hyperpod_preflight.errors import InputError
from hyperpod_preflight.spec import load_spec

SCRIPT = Path(sys.executable).with_name("hp-preflight")


def test_closed_stdin_is_bad_input_not_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", None)  # what Python sets when fd 0 is closed
    with pytest.raises(InputError) as err:
        load_spec("-")
    assert err.value.exit_code == 2
    assert str(err.value).startswith("<stdin>: standard input is closed")


@pytest.mark.skipif(not SCRIPT.exists(), reason="hp-preflight is not installed")
def test_check_with_stdin_closed_exits_2_with_one_line() -> None:
    done = subprocess.run(
        ["bash", "-c", f"exec {SCRIPT} check --config - --offline <&-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "hp-preflight: error: <stdin>: standard input is closed: pipe the config in "
        "(cat cluster.json | hp-preflight check --config -) or give its path"
    ]
    assert "internal error" not in done.stderr and "AttributeError" not in done.stderr
