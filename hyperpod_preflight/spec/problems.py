"""What is wrong with a config, and how it is told: :class:`Problem` (a message at a JSON
path), the one-line summary an :class:`~hyperpod_preflight.errors.InputError` carries, and the
small text helpers the other spec modules share to describe a user's values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_PROBLEMS_SHOWN = 6
MAX_PROBLEM_CHARS = 240


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config, at a JSON path (``InstanceGroups[2].InstanceType``)."""

    path: str | None
    message: str

    def __str__(self) -> str:
        if self.path is None:  # not tied to one place (e.g. a duplicate JSON key)
            return self.message
        return f"{self.path or '(top level)'}: {self.message}"


def format_problems(source_name: str, problems: Sequence[Problem | str]) -> str:
    """One line: ``source: p1; p2; ... (+N more)``."""
    shown = []
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        text = str(problem)
        if len(text) > MAX_PROBLEM_CHARS:
            text = text[: MAX_PROBLEM_CHARS - 3] + "..."
        shown.append(text)
    more = len(problems) - len(shown)
    tail = f" (+{more} more)" if more > 0 else ""
    return one_line(f"{source_name}: {'; '.join(shown)}{tail}")


def one_line(text: str) -> str:
    """``text`` with its line breaks escaped, so an error stays on one line."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def path_key(path: str | None) -> tuple[tuple[int, str | int], ...]:
    """Sort key keeping ``[10]`` after ``[2]``."""
    parts: list[tuple[int, str | int]] = []
    for token in re.findall(r"\[(\d+)\]|([^.\[\]]+)", path or ""):
        index, key = token
        parts.append((0, int(index)) if index else (1, key))
    return tuple(parts)


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    list: "a list",
    tuple: "a list",
    dict: "an object",
    type(None): "null",
}


def kind_of(value: Any) -> str:
    """What a JSON value is, in words (``a string``, ``a list`` ...)."""
    for cls, name in _TYPE_NAMES.items():
        if type(value) is cls:
            return name
    return type(value).__name__


def describe_value(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return f"{kind_of(value)} {short(value, 40)}"


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
