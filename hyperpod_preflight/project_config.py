"""The project config file: ``.hp-preflight.toml``, or ``[tool.hp-preflight]`` in
``pyproject.toml``, found upwards from the working directory (the first folder holding
either wins, as ruff finds its configuration), or named with ``--config-file``.

```toml
region = "us-west-2"
profile = "ml-admin"
fail-on = "fail"          # fail | warn | unknown
severity = "high"         # findings below it never make the exit code 1
skip = ["network.sg-egress-open-only"]

[[ignore]]
id = "network.egress"               # a check id or an area
resource = "subnet-0abc*"           # optional glob on the finding's resource
reason = "egress through the inspection VPC (ticket NET-123)"   # required
expires = 2026-12-31                # optional; after it the FAIL counts again, with a WARN
```

Command-line flags override the file. Read with the standard library's ``tomllib``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, get_args

from .errors import InputError
from .options import FailOn, SeverityName, Suppression

FILE_NAME = ".hp-preflight.toml"
KEYS = {"region", "profile", "fail-on", "severity", "skip", "ignore"}
IGNORE_KEYS = {"id", "resource", "reason", "expires"}


@dataclass(frozen=True)
class ProjectConfig:
    """What the project config file sets (None / empty: not set)."""

    path: Path | None = None
    region: str | None = None
    profile: str | None = None
    fail_on: FailOn | None = None
    severity: SeverityName | None = None
    skip: tuple[str, ...] = ()
    suppressions: tuple[Suppression, ...] = ()


def find_project_config(start: Path) -> Path | None:
    """The nearest ``.hp-preflight.toml``, or ``pyproject.toml`` with ``[tool.hp-preflight]``,
    in ``start`` or a folder above it."""
    for folder in (start, *start.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "hp-preflight" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def _read(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def load_project_config(path: Path | None = None, *, start: Path | None = None) -> ProjectConfig:
    """The project config at ``path`` (``--config-file``), else the one found upwards from
    ``start`` (default: the working directory); an empty one when there is none."""
    if path is None:
        path = find_project_config(start or Path.cwd())
        if path is None:
            return ProjectConfig()
    elif not path.is_file():
        raise InputError(f"--config-file {path}: no such file")
    data = _read(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("hp-preflight", {})
    return parse_project_config(data, path)


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> Any:
    if value is None or value in allowed:
        return value
    raise InputError(f"{where}: {value!r} is not one of {', '.join(allowed)}")


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError(f"{where}: expected a list of check ids")


def parse_project_config(data: dict[str, Any], path: Path) -> ProjectConfig:
    """Validate the table ``data`` read from ``path``; InputError (exit 2) names the key."""
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r}; known: {', '.join(sorted(KEYS))}")
    for key in ("region", "profile"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InputError(f"{path}: {key} must be a string")
    entries = data.get("ignore", [])
    if not isinstance(entries, list):
        raise InputError(f"{path}: ignore must be [[ignore]] tables")
    return ProjectConfig(
        path=path,
        region=data.get("region"),
        profile=data.get("profile"),
        fail_on=_choice(data.get("fail-on"), get_args(FailOn), f"{path}: fail-on"),
        severity=_choice(data.get("severity"), get_args(SeverityName), f"{path}: severity"),
        skip=_strings(data.get("skip", []), f"{path}: skip"),
        suppressions=tuple(_suppression(e, path, i) for i, e in enumerate(entries, 1)),
    )


def _suppression(entry: Any, path: Path, number: int) -> Suppression:
    where = f"{path}: [[ignore]] #{number}"
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected a table")
    unknown = sorted(set(entry) - IGNORE_KEYS)
    if unknown:
        raise InputError(
            f"{where}: unknown key {unknown[0]!r}; known: id, resource, reason, expires"
        )
    check_id, reason = entry.get("id"), entry.get("reason")
    if not isinstance(check_id, str) or not check_id.strip():
        raise InputError(f"{where}: id (a check id or area) is required")
    where = f"{path}: [[ignore]] {check_id}"
    if not isinstance(reason, str) or not reason.strip():
        raise InputError(f"{where}: reason is required (say why this FAIL is accepted)")
    resource = entry.get("resource")
    if resource is not None and not isinstance(resource, str):
        raise InputError(f"{where}: resource must be a string (a glob)")
    return Suppression(
        check_id=check_id.strip(),
        reason=" ".join(reason.split()),
        resource=resource,
        expires=_date(entry.get("expires"), where),
        source=str(path),
    )


def _date(value: Any, where: str) -> date | None:
    if value is None or (isinstance(value, date) and not hasattr(value, "hour")):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"{where}: expires must be a date (2026-12-31), not {value!r}")
