"""Reading a CreateCluster config: :func:`load_spec` takes a path (``file://`` accepted), ``-``
for stdin or a dict; reads at most :data:`MAX_CONFIG_BYTES`, refuses binary, non-UTF-8 and
non-JSON input, reports duplicate keys, validates (:mod:`.schema`) and builds the spec
(:mod:`.build`). Every problem of the user's input is an :class:`InputError` on one line that
starts with the source name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from .build import build_spec
from .model import ClusterSpec
from .problems import Problem, format_problems, kind_of, one_line, short
from .schema import config_problems

MAX_CONFIG_BYTES = 10 * 1024 * 1024


def load_spec(source: str | Path | dict[str, Any]) -> ClusterSpec:
    """Read and validate a CreateCluster config and return its :class:`ClusterSpec`.

    ``source`` is a path (``file://`` accepted, as the AWS CLI takes it), ``-`` for stdin, or
    the config as a dict. Any problem raises :class:`InputError` with a one-line message that
    starts with the source name and names the JSON path of each problem.
    """
    if isinstance(source, dict):
        return _spec_from_config(source, source_name="<dict>", source_field="<dict>", extra=[])
    if not isinstance(source, str | Path):
        raise InputError(f"config source must be a path, '-' or a dict, not {kind_of(source)}")
    if str(source) == "-":
        name, field = "<stdin>", "-"
        data = _read_stdin()
    else:
        text = str(source)
        path = Path(text[len("file://") :]) if text.startswith("file://") else Path(text)
        name = field = one_line(str(path))
        data = _read_file(path, name)
    config, duplicates = _parse_json(data, name)
    return _spec_from_config(config, source_name=name, source_field=field, extra=duplicates)


def _read_stdin() -> bytes:
    if sys.stdin is None:  # started with standard input closed (``<&-``)
        raise InputError(
            "<stdin>: standard input is closed: pipe the config in "
            "(cat cluster.json | hp-preflight check --config -) or give its path"
        )
    stream = getattr(sys.stdin, "buffer", None)
    try:
        if stream is not None:
            data: bytes = stream.read(MAX_CONFIG_BYTES + 1)
        else:
            data = sys.stdin.read(MAX_CONFIG_BYTES + 1).encode("utf-8", "surrogateescape")
    except (OSError, ValueError) as exc:
        raise InputError(f"<stdin>: cannot read: {exc}") from exc
    _check_size(data, "<stdin>")
    return data


def _read_file(path: Path, name: str) -> bytes:
    try:
        if path.is_dir():
            raise InputError(f"{name}: is a directory, not a cluster config file")
        # Read at most one byte past the limit: a path may be a pipe (<(...)) or a device.
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError as exc:
        raise InputError(f"{name}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{name}: is a directory, not a cluster config file") from exc
    except PermissionError as exc:
        raise InputError(f"{name}: permission denied") from exc
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(one_line(f"{name}: cannot read: {reason}")) from exc
    _check_size(data, name)
    return data


def _check_size(data: bytes, name: str) -> None:
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(
            f"{name}: larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB; not a cluster config"
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(data: bytes, name: str) -> tuple[Any, list[Problem]]:
    if b"\x00" in data:
        raise InputError(f"{name}: binary data, not a JSON cluster config")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "expected a JSON cluster config"
        ) from exc
    if not text.strip():
        raise InputError(f"{name}: is empty; expected the JSON that create-cluster takes")
    duplicates: list[Problem] = []

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                duplicates.append(
                    Problem(None, f"key {short(key)} appears twice in one object; keep one")
                )
            obj[key] = value
        return obj

    try:
        config = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            one_line(f"{name}: invalid JSON at line {exc.lineno}:{exc.colno}: {exc.msg}")
        ) from exc
    except ValueError as exc:
        raise InputError(one_line(f"{name}: invalid JSON: {exc}")) from exc
    except RecursionError as exc:
        raise InputError(f"{name}: JSON nested too deeply to be a cluster config") from exc
    return config, duplicates


def _spec_from_config(
    config: Any, *, source_name: str, source_field: str, extra: list[Problem]
) -> ClusterSpec:
    if not isinstance(config, dict):
        raise InputError(
            f"{source_name}: the top level must be a JSON object (the create-cluster input), "
            f"not {kind_of(config)}"
        )
    if not config:
        raise InputError(
            f"{source_name}: the config is empty ({{}}): give the create-cluster input "
            "(ClusterName, InstanceGroups, ...)"
        )
    problems, notices = config_problems(config)
    problems = extra + problems
    if problems:
        raise InputError(format_problems(source_name, problems))
    return build_spec(config, source_field, tuple(notices))
