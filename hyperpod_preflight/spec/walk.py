"""From a resource's properties in another tool's spelling to the CreateCluster input, guided by
botocore's own ``CreateCluster`` shape (the one authority on names and types).

A key is matched to the shape's member of the same name, else of the same name once case and
underscores are ignored (``VolumeSizeInGB``, ``volume_size_in_gb``): the model itself is the
mapping table, for CloudFormation's PascalCase as for Terraform's snake_case. Values are
converted as the deploying tool does: a numeric string into an integer member, ``"true"``
into a boolean one, a number into a string one.

The walker reads PyYAML nodes (so that every value keeps its line and column) through a
:class:`Resolver` that knows the source's own forms: CloudFormation's intrinsic functions, a
Terraform plan's unknown values. What the resolver says is known only at deploy time is left
out of the config and recorded, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from .sourced import SourcedConfig, join, node_location


class NoValue:
    """``AWS::NoValue`` or a null: the property is absent."""


NO_VALUE = NoValue()


@dataclass(frozen=True)
class Unknown:
    """A value known only at deploy or apply time, and why (``!GetAtt Subnet.SubnetId``)."""

    reason: str


@dataclass(frozen=True)
class Lit:
    """A value the resolver computed (a parameter, a ``!Sub``), at the node that asked for it."""

    value: Any
    node: Any


Resolved = yaml.Node | Lit | NoValue | Unknown


class Resolver(Protocol):
    def resolve(self, node: yaml.Node, src_path: str) -> Resolved: ...


_SCALARS = yaml.constructor.SafeConstructor()


def scalar_value(node: yaml.ScalarNode) -> Any:
    """The Python value of a plain YAML/JSON scalar (its standard tag decides the type)."""
    if not node.tag.startswith("tag:yaml.org,2002:"):
        return node.value
    try:
        return _SCALARS.construct_object(node, deep=True)
    except yaml.YAMLError:
        return node.value


def normalized(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def member_for(shape: Any, key: str) -> tuple[str, Any] | None:
    """The shape's member that ``key`` names: same name, else same name ignoring case and
    underscores."""
    members = shape.members
    if key in members:
        return key, members[key]
    wanted = normalized(key)
    for name, member in members.items():
        if normalized(name) == wanted:
            return name, member
    return None


def coerce(value: Any, shape: Any) -> Any:
    """A computed value converted as the deploying tool converts it for ``shape``."""
    if shape is None:
        return value
    kind = shape.type_name
    if kind in ("integer", "long") and isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return value
    if kind in ("float", "double") and isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return value
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if kind == "string" and isinstance(value, int | float):
        return str(value)
    if kind == "list" and isinstance(value, list):
        return [coerce(item, shape.member) for item in value]
    if kind == "structure" and isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            found = member_for(shape, str(key))
            name, member = found if found else (str(key), None)
            out[name] = coerce(item, member)
        return out
    if kind == "map" and isinstance(value, dict):
        return {k: coerce(v, shape.value) for k, v in value.items()}
    return value


class _Skip:
    pass


_SKIP = _Skip()


class ShapeWalk:
    """Walks a node tree along a shape, filling ``target``'s unknowns and locations."""

    def __init__(
        self,
        resolver: Resolver,
        target: SourcedConfig,
        *,
        drop_key: Callable[[str], bool],
        plain: Callable[[yaml.Node, str], Any],
    ) -> None:
        self.resolver = resolver
        self.target = target
        self.drop_key = drop_key  # keys the model lacks that the source may hold (read-only)
        self.plain = plain  # a node's full value where no shape guides (keys the model lacks)

    def walk(self, node: yaml.Node, shape: Any, out: str, src: str) -> Any:
        resolved = self.resolver.resolve(node, src)
        if isinstance(resolved, NoValue):
            return _SKIP
        if isinstance(resolved, Unknown):
            self.target.unknowns[out] = resolved.reason
            self.target.locations[out] = node_location(node, self.target.file, src, out)
            return _SKIP
        if isinstance(resolved, Lit):
            self.target.locations[out] = node_location(resolved.node, self.target.file, src, out)
            return coerce(resolved.value, shape)
        self.target.locations[out] = node_location(resolved, self.target.file, src, out)
        if shape is None:
            return self.plain(resolved, src)
        kind = shape.type_name
        if isinstance(resolved, yaml.MappingNode) and kind == "structure":
            return self._structure(resolved, shape, out, src)
        if isinstance(resolved, yaml.MappingNode) and kind == "map":
            result: dict[str, Any] = {}
            for key_node, value_node in resolved.value:
                key = str(scalar_value(key_node)) if isinstance(key_node, yaml.ScalarNode) else ""
                value = self.walk(value_node, shape.value, join(out, key), join(src, key))
                if value is not _SKIP:
                    result[key] = value
            return result
        if isinstance(resolved, yaml.SequenceNode) and kind == "list":
            items: list[Any] = []
            for i, item_node in enumerate(resolved.value):
                value = self.walk(item_node, shape.member, join(out, len(items)), join(src, i))
                if value is not _SKIP:
                    items.append(value)
            return items
        if isinstance(resolved, yaml.ScalarNode):
            return coerce(scalar_value(resolved), shape)
        return self.plain(resolved, src)  # the wrong kind: validation reports it

    def _structure(self, node: yaml.MappingNode, shape: Any, out: str, src: str) -> Any:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(scalar_value(key_node)) if isinstance(key_node, yaml.ScalarNode) else "?"
            found = member_for(shape, key)
            if found is None:
                if self.drop_key(key):
                    continue
                name, member = key, None
            else:
                name, member = found
            value = self.walk(value_node, member, join(out, name), join(src, key))
            if value is not _SKIP:
                result[name] = value
        return result

    def top(self, node: yaml.Node, shape: Any, out: str, src: str) -> dict[str, Any]:
        value = self.walk(node, shape, out, src)
        return value if isinstance(value, dict) else {}
