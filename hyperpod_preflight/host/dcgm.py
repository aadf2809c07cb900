"""DCGM's quick diagnostic (``--dcgm``: ``dcgmi diag -r 1 -j``), parsed.

Both JSON layouts are read: DCGM 3 (``"DCGM GPU Diagnostic"``, results with ``gpu_id``) and
DCGM 4 (``"DCGM Diagnostic"``, results with ``entity_id``). Statuses are normalised to
``pass | fail | warn | skip``; anything else is kept lower-cased.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from .commands import CommandResult, run_command
from .models import DcgmFacts, DcgmTest

DIAG_ARGS = ("diag", "-r", "1", "-j")
DIAG_TIMEOUT_S = 300.0
# ``dcgmi diag -r N``: 1 quick (seconds), 2 medium (about 2 minutes), 3 long (15+ minutes).
LEVEL_TIMEOUT_S = {1: DIAG_TIMEOUT_S, 2: 900.0, 3: 3600.0}
_STATUS = {
    "pass": "pass",
    "passed": "pass",
    "fail": "fail",
    "failed": "fail",
    "warn": "warn",
    "warning": "warn",
    "skip": "skip",
    "skipped": "skip",
    "not run": "skip",
}
_RANK = {"fail": 3, "warn": 2, "pass": 1, "skip": 0}


def _messages(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key in ("warnings", "warning", "errors", "error", "info"):
            value = node.get(key)
            if isinstance(value, str) and value.strip():
                found.append(value.strip())
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, str):
                        found.append(item)
                    elif isinstance(item, dict):
                        text = item.get("warning") or item.get("message") or item.get("error")
                        if text:
                            found.append(str(text))
    return found


def parse_diag_json(text: str) -> list[DcgmTest]:
    """Tests of a ``dcgmi diag -j`` report, one per test name (worst status over GPUs)."""
    start = text.find("{")
    data = json.loads(text[start:] if start >= 0 else text)
    body = next(
        (v for k, v in data.items() if "diagnostic" in k.lower() and isinstance(v, dict)),
        data,
    )
    tests: list[DcgmTest] = []
    for category in body.get("test_categories") or []:
        cat_name = str(category.get("category", ""))
        for test in category.get("tests") or []:
            results = test.get("results") or []
            statuses = []
            gpus: list[int] = []
            messages = _messages(test)
            for result in results:
                raw = str(result.get("status", "")).strip().lower()
                status = _STATUS.get(raw, raw or "skip")
                statuses.append(status)
                gpu = result.get("gpu_id", result.get("entity_id"))
                if status in ("fail", "warn") and gpu is not None:
                    with contextlib.suppress(TypeError, ValueError):
                        gpus.append(int(gpu))
                messages.extend(_messages(result))
            if not statuses and "status" in test:
                raw = str(test["status"]).strip().lower()
                statuses.append(_STATUS.get(raw, raw))
            worst = max(statuses, key=lambda s: _RANK.get(s, 2)) if statuses else "skip"
            tests.append(
                DcgmTest(
                    name=str(test.get("name", "?")),
                    category=cat_name,
                    status=worst,
                    messages=list(dict.fromkeys(messages))[:5],
                    gpus=sorted(set(gpus)),
                )
            )
    return tests


def run_diag(binary: str, run: Any = run_command, *, level: int = 1) -> DcgmFacts:
    """``dcgmi diag -r LEVEL -j``, parsed."""
    argv = [binary, "diag", "-r", str(level), "-j"]
    result: CommandResult = run(argv, LEVEL_TIMEOUT_S.get(level, DIAG_TIMEOUT_S))
    facts = DcgmFacts(ran=True, exit_code=result.exit_code, level=level)
    if result.error:
        facts.error = result.error
        return facts
    try:
        facts.tests = parse_diag_json(result.stdout)
    except (ValueError, AttributeError, TypeError) as exc:
        lines = (result.stdout + result.stderr).strip().splitlines()
        facts.error = lines[0][:200] if lines else f"unreadable output ({exc})"
    if not facts.tests and facts.error is None:
        facts.error = "dcgmi printed no test results"
    return facts
