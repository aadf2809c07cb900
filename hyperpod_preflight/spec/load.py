"""Reading a CreateCluster config: :func:`load_spec` takes a path (``file://`` accepted), ``-``
for stdin or a dict; reads at most :data:`MAX_CONFIG_BYTES`, refuses binary, non-UTF-8 and
non-JSON input, reports duplicate keys, validates (:mod:`.schema`) and builds the spec
(:mod:`.build`). Every problem of the user's input is an :class:`InputError` on one line that
starts with the source name.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from .build import build_spec
from .documents import iac_clusters, json_locations, looks_like_json
from .model import ClusterSpec
from .problems import Problem, format_problems, kind_of, one_line, short
from .schema import judge_config
from .sourced import SourcedConfig
from .usable import usable_config

MAX_CONFIG_BYTES = 10 * 1024 * 1024


def load_spec(
    source: str | Path | dict[str, Any],
    *,
    strict: bool = False,
    parameters: Mapping[str, str] | None = None,
    resource: str | None = None,
) -> ClusterSpec:
    """Read and validate a cluster config and return its :class:`ClusterSpec`.

    ``source`` is a path (``file://`` accepted, as the AWS CLI takes it), ``-`` for stdin, or
    the config as a dict. A file may be a CreateCluster JSON, a CloudFormation template or a
    Terraform plan (see :func:`load_specs`); it must define one cluster (``resource`` picks
    one). What cannot be read as a config at all (no such file, not JSON, not an object)
    raises :class:`InputError` with a one-line message that starts with the source name.
    Where the config breaks the model, the spec holds the rest (:mod:`.usable`) and the
    problems, each at its JSON path, in ``spec.problems`` (``config.schema`` reports them);
    with ``strict`` they raise :class:`InputError` instead.
    """
    specs = load_specs(source, strict=strict, parameters=parameters, resource=resource)
    if len(specs) > 1:
        names = ", ".join(s.resource for s in specs)
        raise InputError(
            f"{specs[0].source}: defines {len(specs)} clusters ({names}); pick one with --resource"
        )
    return specs[0]


def load_specs(
    source: str | Path | dict[str, Any],
    *,
    strict: bool = False,
    parameters: Mapping[str, str] | None = None,
    resource: str | None = None,
) -> list[ClusterSpec]:
    """Every cluster ``source`` defines, told by its content: a CreateCluster JSON (one), a
    CloudFormation template (each ``AWS::SageMaker::Cluster``, with ``parameters``; conditions
    evaluated) or a Terraform plan JSON (each planned ``awscc_sagemaker_cluster``);
    ``resource`` (a logical id or a plan address) keeps one. Values known only at deploy time
    are in ``spec.unknowns``, never guessed; where each value is written, in
    ``spec.locations``."""
    if isinstance(source, dict):  # (a library caller's dict: its judgement is not kept)
        return [
            _spec_from_config(
                source,
                source_name="<dict>",
                source_field="<dict>",
                extra=[],
                strict=strict,
                store=False,
            )
        ]
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
    text = _decode(data, name)
    config: Any = None
    duplicates: list[Problem] = []
    plain_yaml = False
    if looks_like_json(text):
        config, duplicates = _parse_json(text, name)
    else:
        with suppress(ValueError, RecursionError):  # a bare JSON scalar: refused below
            config = json.loads(text)
        if config is None:
            # A CreateCluster config in YAML (the shape --cli-input-yaml takes); a template's
            # short-form tags fail plain YAML and go on to the template reader.
            with suppress(InputError):
                parsed = _parse_yaml(text, name)
                if isinstance(parsed, dict) and _names_create_cluster_members(parsed):
                    config, plain_yaml = parsed, True
    clusters = (
        None
        if plain_yaml
        else iac_clusters(text, config, field, parameters=dict(parameters or {}), resource=resource)
    )
    if clusters is None:  # a CreateCluster JSON
        if resource is not None:
            raise InputError(f"--resource {resource}: {name} is a CreateCluster JSON (one cluster)")
        spec = _spec_from_config(
            config, source_name=name, source_field=field, extra=duplicates, strict=strict
        )
        if plain_yaml:
            return [spec]
        return [replace(spec, locations=json_locations(text, field))]
    return [_spec_from_sourced(c, name, field, strict) for c in clusters]


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


def _decode(data: bytes, name: str) -> str:
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
    return text


def _parse_json(text: str, name: str) -> tuple[Any, list[Problem]]:
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

    if name.lower().endswith((".yaml", ".yml")) or not text.lstrip().startswith(("{", "[")):
        try:
            return _parse_yaml(text, name), duplicates
        except InputError:
            if name.lower().endswith((".yaml", ".yml")):
                raise  # else: neither YAML nor JSON; say what JSON makes of it
    try:
        config = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(one_line(f"{name}: {_json_error(exc)}")) from exc
    except ValueError as exc:
        raise InputError(one_line(f"{name}: invalid JSON: {exc}")) from exc
    except RecursionError as exc:
        raise InputError(f"{name}: JSON nested too deeply to be a cluster config") from exc
    return config, duplicates


def _json_error(exc: json.JSONDecodeError) -> str:
    """The JSON error at the line that has it: a trailing comma is reported where the comma
    is, not at the closing bracket after it."""
    before = exc.doc[: exc.pos].rstrip()
    if before.endswith(",") and exc.doc[exc.pos : exc.pos + 1] in ("}", "]"):
        at = len(before) - 1
        line = exc.doc.count("\n", 0, at) + 1
        column = at - (exc.doc.rfind("\n", 0, at) + 1) + 1
        return f"invalid JSON at line {line}:{column}: trailing comma (remove it)"
    return f"invalid JSON at line {exc.lineno}:{exc.colno}: {exc.msg}"


def _names_create_cluster_members(config: dict[Any, Any]) -> bool:
    """Whether a YAML document reads as a CreateCluster request (a template has Resources)."""
    from ..sagemaker_model import input_member_names

    if {"Resources", "AWSTemplateFormatVersion"} & set(config):
        return False
    return bool(input_member_names("CreateCluster") & set(config))


def _parse_yaml(text: str, name: str) -> Any:
    """A config in YAML, as ``aws sagemaker create-cluster --cli-input-yaml`` takes it."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise InputError(one_line(f"{name}: invalid YAML{where}: {exc.problem}")) from exc
    except (yaml.YAMLError, RecursionError) as exc:
        raise InputError(one_line(f"{name}: invalid YAML: {exc}")) from exc


def _about_unknown(problem: Problem, unknowns: Mapping[str, str]) -> bool:
    """A problem that only says a value known at deploy time is missing (or one inside it)."""
    path = problem.path
    if path is None or not unknowns:
        return False
    for where in unknowns:
        if path == where or path.startswith((f"{where}.", f"{where}[")):
            return True
        inside = where.startswith((f"{path}.", f"{path}[")) or path == ""
        if inside and any(
            w in problem.message for w in ("missing", "neither", "set one of", "below the minimum")
        ):
            return True
    return False


def _spec_from_sourced(
    sourced: SourcedConfig, source_name: str, source_field: str, strict: bool
) -> ClusterSpec:
    """The spec of one cluster of a template or plan."""
    config = sourced.config
    label = f"{source_name} ({sourced.label})" if sourced.label else source_name
    oversized, problems, _ = judge_config(config, f"{source_field}#{sourced.label}")
    if oversized:
        raise InputError(format_problems(label, oversized))
    # (the notices are dropped: CloudFormation and awscc name a cluster themselves)
    problems = [p for p in problems if not _about_unknown(p, sourced.unknowns)]
    if problems and strict:
        raise InputError(format_problems(label, problems))
    usable = usable_config(config, problems, sourced.unknowns) if problems else config
    spec = build_spec(usable, source_field, tuple(sourced.notices), tuple(problems))
    named = config.get("ClusterName")
    good_name = isinstance(named, str) and not any(p.path == "ClusterName" for p in problems)
    return replace(
        spec,
        unknowns=dict(sourced.unknowns),
        locations=dict(sourced.locations),
        source_kind=sourced.kind,
        resource=sourced.label,
        name=named if good_name and isinstance(named, str) else sourced.label or spec.name,
    )


def _spec_from_config(
    config: Any,
    *,
    source_name: str,
    source_field: str,
    extra: list[Problem],
    strict: bool,
    store: bool = True,
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
    oversized, problems, notices = judge_config(config, source_field, store=store)
    if oversized:  # far beyond any real config: not worth judging item by item
        raise InputError(format_problems(source_name, oversized))
    problems = extra + problems
    if not problems:
        return build_spec(config, source_field, tuple(notices))
    if strict:
        raise InputError(format_problems(source_name, problems))
    usable = usable_config(config, problems)
    return build_spec(usable, source_field, tuple(notices), tuple(problems))
