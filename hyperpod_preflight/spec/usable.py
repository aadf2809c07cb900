"""The part of a config that the checks may still judge when the config breaks the model.

A schema violation is a finding (``config.schema``), not the end of the run: every check whose
inputs are valid still runs. :func:`usable_config` returns a copy of the config without the
values a problem names, and without any object that then lacks a member the model requires
(an instance group without its ``InstanceCount`` is dropped whole, never guessed). An object
in a list is replaced by ``None`` so that the paths of the others (``InstanceGroups[2]``) stay
those of the file; readers skip entries that are not objects. A list of plain values (subnet
ids) simply loses the bad item.

Pure and small: the model (botocore's ``CreateCluster`` shape) decides what is required.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from .problems import Problem
from .schema import create_cluster_shape

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")
_GONE = object()


def path_parts(path: str) -> list[str | int]:
    """``InstanceGroups[0].InstanceType`` → ``["InstanceGroups", 0, "InstanceType"]``."""
    return [int(index) if index else key for index, key in _TOKEN.findall(path)]


def usable_config(
    config: dict[str, Any], problems: Iterable[Problem], unknown: Iterable[str] = ()
) -> dict[str, Any]:
    """``config`` without what ``problems`` name, and without the objects left incomplete.
    ``unknown``: paths of values known only at deploy time, which complete their object
    although absent."""
    pruned: dict[str, Any] = copy.deepcopy(config)
    for problem in problems:
        if problem.path:
            _mark(pruned, path_parts(problem.path))
    walk = _Complete(frozenset(unknown))
    result = walk.complete(pruned, create_cluster_shape(), "", top=True)
    return result if isinstance(result, dict) else {}


def _mark(value: Any, parts: list[str | int]) -> None:
    """Replace the item at ``parts`` by the removal marker (nothing when it is not there)."""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        found = (isinstance(value, dict) and isinstance(part, str) and part in value) or (
            isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        )
        if not found:
            return
        if last:
            value[part] = _GONE
            return
        value = value[part]


# The lists whose entries are named by index elsewhere (``InstanceGroups[2]`` in findings):
# a dropped entry leaves None there. Any other list just loses it.
_INDEXED_LISTS = ("InstanceGroups", "RestrictedInstanceGroups")


class _Complete:
    def __init__(self, unknown: frozenset[str]) -> None:
        self.unknown = unknown

    def complete(
        self, value: Any, shape: Any, path: str, *, top: bool = False, keep_places: bool = False
    ) -> Any:
        """``value`` without marked items; ``_GONE`` when a structure lost a required member.
        ``keep_places``: a list leaves None where it lost an entry."""
        if value is _GONE:
            return _GONE
        kind = shape.type_name
        if kind == "structure" and isinstance(value, dict):
            kept: dict[str, Any] = {}
            for key, item in value.items():
                member = shape.members.get(key)
                if member is None:
                    kept[key] = item
                    continue
                inner = self.complete(
                    item, member, _join(path, key), keep_places=top and key in _INDEXED_LISTS
                )
                if inner is not _GONE:
                    kept[key] = inner
            required = getattr(shape, "required_members", None) or []
            missing = [
                name
                for name in required
                if name not in kept and _join(path, name) not in self.unknown
            ]
            if not top and missing:
                return _GONE
            return kept
        if kind == "list" and isinstance(value, list):
            items = [
                self.complete(item, shape.member, f"{path}[{i}]") for i, item in enumerate(value)
            ]
            if keep_places:
                return [None if item is _GONE else item for item in items]
            return [item for item in items if item is not _GONE]
        if kind == "map" and isinstance(value, dict):
            return {
                k: inner
                for k, item in value.items()
                if (inner := self.complete(item, shape.value, _join(path, str(k)))) is not _GONE
            }
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
