"""Validation against botocore's own ``CreateCluster`` model, with the JSON path of each problem.

botocore's ``ParamValidator`` first (types, required keys, unknown keys, minimums), then the
constraints it leaves out — maximum lengths and values, ``enum`` and ``pattern`` — read from the
same shapes, so the installed botocore model stays the single authority. :func:`config_problems`
adds the HyperPod forms of :mod:`.forms` and is what a config is judged by.

botocore is imported lazily (inside functions): ``hp-preflight --help`` must not pay for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from ..catalog import closest_instance_types
from ..sagemaker_model import sagemaker_service_model
from .forms import semantic_problems
from .problems import Problem, describe_value, join_path, path_key, short

_MAX_PATTERN_INPUT = 4096
# A list or map with more than max(10 x its maximum, 100) items, or an object with that many
# more keys than its shape has members, is refused on its size alone (see oversize_problems).
_FAR_BEYOND_FACTOR = 10
_FAR_BEYOND_FLOOR = 100


def create_cluster_shape() -> Any:
    """The ``CreateCluster`` input shape of the installed botocore."""
    return sagemaker_service_model().operation_model("CreateCluster").input_shape


def schema_problems(params: Any) -> list[Problem]:
    """Everything botocore's ``CreateCluster`` model says is wrong with ``params``.

    ``ParamValidator`` first (types, required and unknown keys, minimums), then the maximums,
    enums and patterns of the same shapes, which ParamValidator does not check.
    """
    from botocore.validate import ParamValidator

    shape = create_cluster_shape()
    walk = _ConstraintWalk()
    walk.visit(params, shape, "", ())
    # The dates botocore's own parser cannot read (out of its range) were reported by the walk;
    # ParamValidator would raise on them, so it is given a copy with a readable date there.
    # Anything else it raises is a fault of botocore or of this code, not of the config.
    for where in walk.unreadable_dates:
        params = _replaced(params, where, _READABLE_DATE)
    report = ParamValidator().validate(params, shape)
    problems: list[Problem] = []
    errors = getattr(report, "_errors", None)
    if isinstance(errors, list):
        problems += [_from_botocore(*e) for e in errors]
    elif report.has_errors():  # a botocore that stores its errors differently
        problems += [Problem("", line) for line in report.generate_report().splitlines()]
    problems += walk.problems
    return sorted(problems, key=lambda p: path_key(p.path))


def _valid_types_text(valid_types: Sequence[Any]) -> str:
    names = []
    for t in valid_types:
        # botocore reports the types as str(cls), e.g. "<class 'int'>"
        name = getattr(t, "__name__", None) or re.sub(r"<class '(?:.*\.)?(\w+)'>", r"\1", str(t))
        names.append({"str": "a string", "int": "an integer", "bool": "true/false",
                      "list": "a list", "tuple": "a list", "dict": "an object",
                      "float": "a number", "Decimal": "a number",
                      "datetime": "a timestamp", "bytes": "bytes",
                      "bytearray": "bytes"}.get(name, name))  # fmt: skip
    return " or ".join(dict.fromkeys(names))


def _from_botocore(reason: str, name: str, additional: dict[str, Any]) -> Problem:
    path = name[1:] if name.startswith(".") else name
    if reason == "missing required field":
        return Problem(
            join_path(path, str(additional.get("required_name"))), "required but missing"
        )
    if reason == "unknown field":
        unknown = str(additional.get("unknown_param"))
        valid = [str(v) for v in additional.get("valid_names", [])]
        from difflib import get_close_matches

        close = get_close_matches(unknown, valid, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return Problem(path, f"unknown key {short(unknown)}{hint}")
    if reason == "invalid type":
        param = additional.get("param")
        expected = _valid_types_text(additional.get("valid_types", ()))
        return Problem(path, f"must be {expected}, not {describe_value(param)}")
    if reason == "invalid range":
        return Problem(
            path, f"{additional.get('param')} is below the minimum {additional.get('min_allowed')}"
        )
    if reason == "invalid length":
        return Problem(
            path,
            f"length {additional.get('param')} is below the minimum "
            f"{additional.get('min_allowed')}",
        )
    if reason == "more than one input":
        return Problem(path, f"set only one of {', '.join(additional.get('members', []))}")
    if reason == "empty input":
        return Problem(path, f"set one of {', '.join(additional.get('members', []))}")
    return Problem(path, reason)


@lru_cache(maxsize=64)
def compiled_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java-flavoured) pattern as a Python regex; None when it cannot be
    expressed. ``\\p{L}``/``\\p{N}`` become ``\\w`` and ``\\p{Z}`` ``\\s``: slightly looser,
    so a valid value is never refused."""
    translated = pattern.replace(r"\p{L}", r"\w").replace(r"\p{N}", r"\w").replace(r"\p{Z}", r"\s")
    try:
        return re.compile(translated)
    except re.error:
        return None


JsonPath = tuple[str | int, ...]
_READABLE_DATE = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class _ConstraintWalk:
    """Maximums, enums, patterns and dates, recursively; types are botocore's to report."""

    problems: list[Problem] = field(default_factory=list)
    unreadable_dates: list[JsonPath] = field(default_factory=list)

    def visit(self, value: Any, shape: Any, path: str, where: JsonPath) -> None:
        meta = shape.metadata
        kind = shape.type_name
        problems = self.problems
        if kind == "structure":
            if isinstance(value, dict):
                for key, item in value.items():
                    if key in shape.members:
                        self.visit(item, shape.members[key], join_path(path, key), (*where, key))
        elif kind == "list":
            if isinstance(value, list | tuple):
                if "max" in meta and len(value) > meta["max"]:
                    problems.append(
                        Problem(path, f"has {len(value)} items; at most {meta['max']} allowed")
                    )
                for i, item in enumerate(value):
                    self.visit(item, shape.member, f"{path}[{i}]", (*where, i))
        elif kind == "map":
            if isinstance(value, dict):
                if "max" in meta and len(value) > meta["max"]:
                    problems.append(
                        Problem(path, f"has {len(value)} entries; at most {meta['max']} allowed")
                    )
                for key, item in value.items():
                    self.visit(key, shape.key, f"{path}[{short(key, 40)}]", ())
                    self.visit(item, shape.value, join_path(path, str(key)), (*where, key))
        elif kind == "string":
            if isinstance(value, str):
                _check_string(value, shape, path, problems)
        elif kind in ("integer", "long", "float", "double"):
            if isinstance(value, bool):
                expected = "an integer" if kind in ("integer", "long") else "a number"
                problems.append(Problem(path, f"must be {expected}, not {json.dumps(value)}"))
            elif isinstance(value, int | float) and "max" in meta and value > meta["max"]:
                problems.append(Problem(path, f"{value} is above the maximum {meta['max']}"))
        elif kind == "timestamp" and _date_out_of_range(value):
            problems.append(
                Problem(
                    path,
                    f"{short(value)} is not a date in range "
                    "(an ISO 8601 date-time or seconds since 1970)",
                )
            )
            self.unreadable_dates.append(where)


def _date_out_of_range(value: Any) -> bool:
    """True when botocore's own date parser fails on ``value`` for its range, not its form.

    botocore raises OverflowError, OSError or RuntimeError for numbers (and digit strings) too
    large for a date, where ParamValidator would pass the error on instead of reporting it.
    Values of the wrong type or form are ParamValidator's to report ("invalid type").
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    from botocore.utils import parse_to_aware_datetime

    try:
        parse_to_aware_datetime(value)
    except (TypeError, ValueError, AttributeError):
        return False
    except (OverflowError, OSError, RuntimeError):
        return True
    return False


def _replaced(value: Any, where: JsonPath, new: Any) -> Any:
    """A copy of ``value`` with the item at ``where`` replaced (only the path is copied)."""
    if not where:
        return new
    head, rest = where[0], where[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    items = list(value)
    items[head] = _replaced(items[head], rest, new)  # type: ignore[index]
    return items


def _check_string(value: str, shape: Any, path: str, problems: list[Problem]) -> None:
    meta = shape.metadata
    if "max" in meta and len(value) > meta["max"]:
        problems.append(
            Problem(path, f"is {len(value)} characters long; at most {meta['max']} allowed")
        )
        return
    if len(value) < meta.get("min", 0):
        return  # ParamValidator reported it
    enum = getattr(shape, "enum", None) or []
    if enum and value not in enum:
        problems.append(Problem(path, _enum_message(value, shape.name, enum)))
        return
    pattern = meta.get("pattern")
    if pattern and len(value) <= _MAX_PATTERN_INPUT:
        regex = compiled_pattern(pattern)
        if regex is not None and not regex.fullmatch(value):
            problems.append(
                Problem(path, f"{short(value)} does not match the {shape.name} pattern {pattern}")
            )


def _enum_message(value: str, shape_name: str, enum: Sequence[str]) -> str:
    if shape_name == "ClusterInstanceType":
        close = closest_instance_types(value)
        if f"ml.{value}" in enum:
            return (
                f"{short(value)} is not a valid ClusterInstanceType; closest: ml.{value} "
                "(HyperPod types take the ml. prefix)"
            )
    else:
        from difflib import get_close_matches

        close = get_close_matches(value, list(enum), n=3, cutoff=0.6)
    if close:
        return f"{short(value)} is not a valid {shape_name}; closest: {', '.join(close)}"
    if len(enum) <= 8:
        return f"{short(value)} is not a valid {shape_name}; one of: {', '.join(enum)}"
    return f"{short(value)} is not a valid {shape_name}"


def _far_beyond(count: int, allowed: int) -> bool:
    return count > max(_FAR_BEYOND_FACTOR * allowed, _FAR_BEYOND_FLOOR)


def oversize_problems(params: Any) -> list[Problem]:
    """The lists and maps with far more items than the model allows (more than ten times its
    maximum, and more than 100), and objects with far more keys than their shape has members,
    found without looking inside them: a guard that keeps absurd input cheap to refuse."""
    problems: list[Problem] = []
    pending: list[tuple[Any, Any, str]] = [(params, create_cluster_shape(), "")]
    while pending:
        value, shape, path = pending.pop()
        kind = shape.type_name
        if kind == "structure" and isinstance(value, dict):
            if _far_beyond(len(value), len(shape.members)):
                problems.append(
                    Problem(
                        path, f"has {len(value)} keys; {shape.name} knows only {len(shape.members)}"
                    )
                )
                continue
            pending += [
                (item, shape.members[key], join_path(path, key))
                for key, item in value.items()
                if key in shape.members
            ]
        elif kind == "list" and isinstance(value, list | tuple):
            allowed = shape.metadata.get("max")
            if allowed is not None and _far_beyond(len(value), allowed):
                problems.append(Problem(path, f"has {len(value)} items; at most {allowed} allowed"))
                continue
            pending += [(item, shape.member, f"{path}[{i}]") for i, item in enumerate(value)]
        elif kind == "map" and isinstance(value, dict):
            allowed = shape.metadata.get("max")
            if allowed is not None and _far_beyond(len(value), allowed):
                problems.append(
                    Problem(path, f"has {len(value)} entries; at most {allowed} allowed")
                )
                continue
            pending += [(item, shape.value, join_path(path, str(k))) for k, item in value.items()]
    return sorted(problems, key=lambda p: path_key(p.path))


def config_problems(config: Any) -> tuple[list[Problem], list[str]]:
    """Every problem of a CreateCluster config (schema, then HyperPod forms), in path order,
    and the notices of what was tolerated (a config without ClusterName).

    A config with a list, map or object far beyond the model's size (:func:`oversize_problems`)
    is judged on that alone: its items are not worth walking one by one.
    """
    oversized = oversize_problems(config)
    if oversized:
        return oversized, []
    return _problems_and_notices(config)


def judge_config(
    config: Any, slot: str, *, store: bool = True
) -> tuple[list[Problem], list[Problem], list[str]]:
    """``config``'s oversized parts (:func:`oversize_problems`; when there are any, nothing
    else is judged), its problems and its notices (:func:`config_problems`), kept in the
    user cache (``slot`` names the source) for the next run given the same config (with
    ``store`` False, only read from it): see :mod:`.validation_cache`."""
    from .validation_cache import cached_judgement

    return cached_judgement(config, slot, _judged, store=store)


def _judged(config: Any) -> tuple[list[Problem], list[Problem], list[str]]:
    oversized = oversize_problems(config)
    if oversized:
        return oversized, [], []
    return [], *_problems_and_notices(config)


def _problems_and_notices(config: Any) -> tuple[list[Problem], list[str]]:
    notices: list[str] = []
    problems: list[Problem] = []
    for problem in schema_problems(config):
        # `aws sagemaker create-cluster --cluster-name X --cli-input-json file://c.json` is a
        # common way to call it, so a file without ClusterName is tolerated, and said so.
        if problem.path == "ClusterName" and problem.message == "required but missing":
            notices.append(
                "ClusterName is not in the config: pass --cluster-name to create-cluster"
            )
            continue
        problems.append(problem)
    problems += semantic_problems(config)
    problems.sort(key=lambda p: path_key(p.path))
    return problems, notices
