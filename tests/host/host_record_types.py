"""What pydantic checked when the host records were models: every field of a record (and of
the records inside it) holds a value of its declared type, exactly (no int where a float is
declared, no tuple for a list), so the report's ``facts`` serialise as they did."""

from __future__ import annotations

import types
import typing
from dataclasses import fields, is_dataclass
from typing import Any, Literal, get_args, get_origin


def type_errors(value: Any, hint: Any = None, where: str = "") -> list[str]:
    """Where ``value`` (a record, or a value declared ``hint``) differs from its type."""
    if hint is None:
        hint = type(value)
    if hint is Any:
        return []
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        tried = [type_errors(value, arg, where) for arg in args]
        return [] if any(not t for t in tried) else [f"{where}: {value!r} is not {hint}"]
    if origin is Literal:
        return [] if value in args else [f"{where}: {value!r} not in {args}"]
    if hint is type(None):
        return [] if value is None else [f"{where}: {value!r} is not None"]
    if origin is list:
        if type(value) is not list:
            return [f"{where}: {type(value).__name__} is not a list"]
        return [e for i, v in enumerate(value) for e in type_errors(v, args[0], f"{where}[{i}]")]
    if origin is dict:
        if type(value) is not dict:
            return [f"{where}: {type(value).__name__} is not a dict"]
        return [
            e
            for k, v in value.items()
            for e in type_errors(k, args[0], f"{where}.key")
            + type_errors(v, args[1], f"{where}.{k}")
        ]
    if is_dataclass(hint):
        if type(value) is not hint:
            return [f"{where}: {type(value).__name__} is not {hint.__name__}"]
        hints = typing.get_type_hints(hint)
        return [
            e
            for f in fields(hint)
            for e in type_errors(getattr(value, f.name), hints[f.name], f"{where}.{f.name}")
        ]
    # int, float, str, bool: the exact type (bool is an int, and pydantic made 3 a 3.0)
    return [] if type(value) is hint else [f"{where}: {value!r} is not {hint.__name__}"]
