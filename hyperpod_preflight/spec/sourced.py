"""A CreateCluster config read out of the file the user wrote (a CreateCluster JSON, a
CloudFormation template, a Terraform plan), with where each value came from.

:class:`SourcedConfig` carries the CreateCluster-shaped dict, the values known only at deploy
time (never guessed: ``unknowns``, JSON path → why) and the location of every value written
in the file (``locations``, JSON path → :class:`~hyperpod_preflight.models.Location`).
:func:`node_location` turns a PyYAML node mark into a location (PyYAML's ``compose()`` keeps
the line and column of every node, in YAML and in JSON alike).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..results import Location


@dataclass
class SourcedConfig:
    """One cluster as read from a file."""

    config: dict[str, Any]
    file: str
    kind: str  # "create-cluster", "cloudformation" or "terraform-plan"
    label: str = ""  # the resource: a logical id or a plan address
    unknowns: dict[str, str] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def node_location(node: Any, file: str, path: str, config_path: str) -> Location:
    """The location of a PyYAML node (1-based line and column)."""
    mark = getattr(node, "start_mark", None)
    line = getattr(mark, "line", None)
    column = getattr(mark, "column", None)
    return Location(
        file=file,
        line=line + 1 if isinstance(line, int) and line >= 0 else None,
        column=column + 1 if isinstance(column, int) and column >= 0 else None,
        path=path,
        config_path=config_path,
    )


def join(path: str, key: str | int) -> str:
    """``a.b`` + ``c`` → ``a.b.c``; ``a`` + ``0`` → ``a[0]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key
