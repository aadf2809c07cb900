"""The model of the Slurm ``provisioning_parameters.json``, validated strictly (a wrong type is
a finding, never coerced) without pydantic, so that the lint of a folder holding such a file
stays fast enough for a pre-commit hook.

:func:`validate` reports each problem as pydantic's strict model of the same fields would:
the same ``type``, ``loc`` and ``msg``, in field order (``tests/analysis/test_provisioning.py``
compares the two on every shape of input it has).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# (field, required, non-empty), in the order they are judged and reported
_TOP = (
    ("version", True, True),
    ("workload_manager", True, True),
    ("controller_group", True, True),
    ("login_group", False, True),
    ("worker_groups", True, True),
    ("fsx_dns_name", False, False),
    ("fsx_mountname", False, False),
)
_KNOWN = {name for name, _, _ in _TOP}
_WORKER = (("instance_group_name", True, True), ("partition_name", True, True))
_MESSAGES = {
    "missing": "Field required",
    "string_type": "Input should be a valid string",
    "string_too_short": "String should have at least 1 character",
    "list_type": "Input should be a valid list",
    "too_short": "List should have at least 1 item after validation, not 0",
    "model_type": "Input should be a valid dictionary or instance of WorkerGroup",
}


@dataclass(frozen=True)
class Problem:
    """One field the file gets wrong: pydantic's error ``type``, ``loc`` and ``msg``."""

    type: str
    loc: tuple[int | str, ...]
    input: Any = None

    @property
    def msg(self) -> str:
        return _MESSAGES[self.type]


@dataclass(frozen=True)
class WorkerGroup:
    """One entry of ``worker_groups``: an instance group and the Slurm partition it joins."""

    instance_group_name: str
    partition_name: str


@dataclass(frozen=True)
class ProvisioningParameters:
    """The Slurm ``provisioning_parameters.json`` (keys it does not know are allowed)."""

    version: str
    workload_manager: str
    controller_group: str
    worker_groups: tuple[WorkerGroup, ...]
    login_group: str | None = None
    fsx_dns_name: str | None = None
    fsx_mountname: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """The keys the model does not name, kept as the file gives them."""

    def roles(self) -> list[tuple[str, str]]:
        """(role, instance group name) for every group the file names, in file order."""
        out = [("controller", self.controller_group)]
        if self.login_group is not None:
            out.append(("login", self.login_group))
        out.extend(("worker", w.instance_group_name) for w in self.worker_groups)
        return out


def _string(
    raw: Mapping[str, Any], name: str, required: bool, non_empty: bool, at: tuple[int | str, ...]
) -> list[Problem]:
    if name not in raw:
        return [Problem("missing", (*at, name), raw)] if required else []
    value = raw[name]
    if value is None and not required:
        return []
    if not isinstance(value, str):
        return [Problem("string_type", (*at, name), value)]
    if non_empty and not value:
        return [Problem("string_too_short", (*at, name), value)]
    return []


def _workers(raw: Mapping[str, Any]) -> list[Problem]:
    if "worker_groups" not in raw:
        return [Problem("missing", ("worker_groups",), raw)]
    groups = raw["worker_groups"]
    if not isinstance(groups, list):
        return [Problem("list_type", ("worker_groups",), groups)]
    if not groups:
        return [Problem("too_short", ("worker_groups",), groups)]
    out: list[Problem] = []
    for i, group in enumerate(groups):
        if not isinstance(group, dict):
            out.append(Problem("model_type", ("worker_groups", i), group))
            continue
        for name, required, non_empty in _WORKER:
            out += _string(group, name, required, non_empty, ("worker_groups", i))
    return out


def validate(raw: Mapping[str, Any]) -> tuple[ProvisioningParameters | None, list[Problem]]:
    """The parameters of the file's object ``raw``, or None and every problem found."""
    problems: list[Problem] = []
    for name, required, non_empty in _TOP:
        if name == "worker_groups":
            problems += _workers(raw)
        else:
            problems += _string(raw, name, required, non_empty, ())
    if problems:
        return None, problems
    return (
        ProvisioningParameters(
            version=raw["version"],
            workload_manager=raw["workload_manager"],
            controller_group=raw["controller_group"],
            worker_groups=tuple(
                WorkerGroup(g["instance_group_name"], g["partition_name"])
                for g in raw["worker_groups"]
            ),
            login_group=raw.get("login_group"),
            fsx_dns_name=raw.get("fsx_dns_name"),
            fsx_mountname=raw.get("fsx_mountname"),
            extra={k: v for k, v in raw.items() if k not in _KNOWN},
        ),
        [],
    )
