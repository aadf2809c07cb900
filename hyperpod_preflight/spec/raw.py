"""The config as given, for fields the typed spec does not carry (``ImageId``,
``InstanceStorageConfigs`` with FSx, ``ScheduledUpdateConfig``, ``AutoScaling`` …): the raw
entry of an instance group and plain accessors over it. Pure; the config was validated."""

from __future__ import annotations

import re
from typing import Any

from .model import ClusterSpec, InstanceGroup

_PATH = re.compile(r"^(InstanceGroups|RestrictedInstanceGroups)\[(\d+)\]$")


def raw_group(spec: ClusterSpec, group: InstanceGroup) -> dict[str, Any]:
    """The group's entry in ``spec.raw`` (empty for a spec built from flags)."""
    m = _PATH.match(group.json_path)
    if not m:
        return {}
    entries = spec.raw.get(m.group(1)) or []
    index = int(m.group(2))
    entry = entries[index] if index < len(entries) else None
    return entry if isinstance(entry, dict) else {}


def raw_groups(spec: ClusterSpec) -> list[tuple[InstanceGroup, dict[str, Any]]]:
    """Every group with its raw entry, in config order."""
    return [(g, raw_group(spec, g)) for g in spec.instance_groups]
