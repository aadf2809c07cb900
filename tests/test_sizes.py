"""No module of the package over 800 lines, no function over 80 (issue 17).

A room that outgrows these is a sign that a subject wants its own; split it by subject, not
by line count. A function's size is from its ``def`` line to its last line (decorators not
counted); nested functions count on their own and inside their parent.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hyperpod_preflight

MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80
PACKAGE = Path(hyperpod_preflight.__file__).parent


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def test_the_package_is_found() -> None:
    assert len(_modules()) > 50  # the walk sees the package, not an empty folder


def test_no_module_over_800_lines() -> None:
    too_long = {
        _name(p): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


def test_no_function_over_80_lines() -> None:
    too_long: dict[str, int] = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    too_long[f"{_name(path)}:{node.lineno} {node.name}"] = size
    assert too_long == {}, f"functions over {MAX_FUNCTION_LINES} lines: {too_long}"
