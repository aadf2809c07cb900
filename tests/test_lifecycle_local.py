"""The local-directory source and the tool runner of the lifecycle lint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyperpod_preflight import lifecycle_local
from hyperpod_preflight.lifecycle_local import default_run_tool, local_source

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def test_local_source_lists_what_s3_sync_would_upload(tmp_path: Path) -> None:
    (tmp_path / "utils").mkdir()
    (tmp_path / "on_create.sh").write_text("#!/bin/bash\n")
    (tmp_path / "utils" / "a.sh").write_bytes(b"x" * 10)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (tmp_path / "link.sh").symlink_to(tmp_path / "utils" / "a.sh")
    listing, _ = local_source(tmp_path)
    assert listing == {"on_create.sh": 12, "link.sh": 10, "utils/a.sh": 10}


def test_fetch_is_bounded_and_only_reads_listed_paths(tmp_path: Path) -> None:
    (tmp_path / "prefix").mkdir()
    (tmp_path / "prefix" / "big.sh").write_bytes(b"y" * 5000)
    (tmp_path / "secret.txt").write_text("outside the prefix")
    listing, fetch = local_source(tmp_path / "prefix", max_bytes=100)
    assert listing == {"big.sh": 5000}
    assert fetch("big.sh") == b"y" * 101
    assert fetch("../secret.txt") is None
    assert fetch("missing.sh") is None


def test_absent_tool_is_none() -> None:
    assert default_run_tool(["hp-preflight-no-such-tool-xyz", "-n"], b"") is None


@needs_bash
def test_bash_n_reports_the_error_with_its_line() -> None:
    result = default_run_tool(["bash", "-n"], b"if true; then\n  echo\nfi\nfi\n")
    assert result is not None
    assert result.returncode == 2
    assert "line 4" in result.stderr
    assert result.stderr.startswith("bash: ")  # argv[0] as given, not the resolved path
    ok = default_run_tool(["bash", "-n"], b"echo fine\n")
    assert ok is not None and (ok.returncode, ok.stderr) == (0, "")


@needs_bash
def test_a_tool_that_hangs_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle_local, "TOOL_TIMEOUT_S", 0.2)
    result = default_run_tool(["bash", "-c", "sleep 5"], b"")
    assert result is not None and result.timed_out
