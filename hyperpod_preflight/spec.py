"""The cluster spec: what `aws sagemaker create-cluster --cli-input-json` would be given.

``ClusterSpec`` is the one typed view of a config that every other module reads. It is built
either from the CreateCluster JSON (validated against botocore's own model first) or from
CLI flags for quick use.

Validation has two layers, both reported with the JSON path of each problem:

- the schema: botocore's ``ParamValidator`` on the ``CreateCluster`` input shape (types,
  required keys, unknown keys, minimums), plus the constraints it leaves out — maximum
  lengths and values, ``enum`` and ``pattern`` — read from the same shapes, so the installed
  botocore model stays the single authority;
- forms the model is loose about and HyperPod is not: subnet, security group and IAM role
  ids, exactly one orchestrator, and an instance type or requirements in every group.

botocore is imported lazily (inside functions): ``hp-preflight --help`` must not pay for it.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import InputError


class VpcSettings(BaseModel):
    """`VpcConfig` / `OverrideVpcConfig`: security groups and subnets."""

    model_config = ConfigDict(frozen=True)

    security_group_ids: tuple[str, ...] = ()
    subnets: tuple[str, ...] = ()


class InstanceGroup(BaseModel):
    """One entry of `InstanceGroups` (or `RestrictedInstanceGroups`)."""

    model_config = ConfigDict(frozen=True)

    name: str
    instance_type: str | None = Field(
        default=None, description="`ml.` prefixed type; None when InstanceRequirements is used."
    )
    instance_types: tuple[str, ...] = Field(
        default=(), description="Types from InstanceRequirements.InstanceTypes, when given."
    )
    count: int = 0
    execution_role: str | None = None
    lifecycle_source_s3_uri: str | None = None
    lifecycle_on_create: str | None = None
    lifecycle_on_init_complete: str | None = Field(
        default=None, description="`LifeCycleConfig.OnInitComplete`: runs after AMI setup."
    )
    threads_per_core: int | None = None
    ebs_volume_sizes_gb: tuple[int, ...] = ()
    override_vpc: VpcSettings | None = None
    training_plan_arn: str | None = None
    slurm_node_type: str | None = None
    partition_names: tuple[str, ...] = ()
    deep_health_checks: tuple[str, ...] = ()
    restricted: bool = False
    json_path: str = Field(default="", description="Where the group sits in the config.")

    @property
    def types(self) -> tuple[str, ...]:
        """Every instance type this group may use."""
        if self.instance_type:
            return (self.instance_type,)
        return self.instance_types

    @property
    def ec2_types(self) -> tuple[str, ...]:
        """The types without the `ml.` prefix, as EC2 APIs name them."""
        return tuple(strip_ml(t) for t in self.types)


class ClusterSpec(BaseModel):
    """A HyperPod cluster as it would be created."""

    model_config = ConfigDict(frozen=True)

    name: str = "unnamed"
    orchestrator: Literal["slurm", "eks"] = "slurm"
    eks_cluster_arn: str | None = None
    slurm_config_strategy: str | None = Field(
        default=None, description="`Orchestrator.Slurm.SlurmConfigStrategy`, when given."
    )
    instance_groups: tuple[InstanceGroup, ...] = ()
    vpc_config: VpcSettings | None = None
    vpc_id: str | None = Field(
        default=None, description="From --vpc; else found from the subnets at run time."
    )
    node_recovery: str | None = None
    source: str = Field(default="flags", description="Config path, '-' or 'flags'.")
    raw: dict[str, Any] = Field(default_factory=dict, description="The config as given.")
    notices: tuple[str, ...] = Field(
        default=(),
        description="What the config leaves out but was tolerated (e.g. no ClusterName); "
        "config.schema reports each.",
    )

    def vpc_for(self, group: InstanceGroup) -> VpcSettings | None:
        """The VPC settings a group really uses (its override, else the cluster's)."""
        return group.override_vpc or self.vpc_config

    @property
    def all_subnets(self) -> tuple[str, ...]:
        """Every subnet named anywhere, in first-seen order."""
        seen: dict[str, None] = {}
        for vpc in self._all_vpc_settings():
            seen.update(dict.fromkeys(vpc.subnets))
        return tuple(seen)

    @property
    def all_security_groups(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for vpc in self._all_vpc_settings():
            seen.update(dict.fromkeys(vpc.security_group_ids))
        return tuple(seen)

    @property
    def all_instance_types(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for group in self.instance_groups:
            seen.update(dict.fromkeys(group.types))
        return tuple(seen)

    def _all_vpc_settings(self) -> list[VpcSettings]:
        found = [self.vpc_config] if self.vpc_config else []
        found += [g.override_vpc for g in self.instance_groups if g.override_vpc]
        return found


def strip_ml(instance_type: str) -> str:
    """`ml.p5.48xlarge` → `p5.48xlarge` (EC2's name for the same hardware)."""
    return instance_type[3:] if instance_type.startswith("ml.") else instance_type


# -- id forms HyperPod needs (stricter than the botocore patterns) ------------------------------
SUBNET_ID_RE = re.compile(r"subnet-[0-9a-f]{8,17}")
SECURITY_GROUP_ID_RE = re.compile(r"sg-[0-9a-f]{8,17}")
VPC_ID_RE = re.compile(r"vpc-[0-9a-f]{8,17}")
# arn:<partition>:iam::<account>:role/<optional path/><name>; IAM allows printable ASCII in
# the path and [\w+=,.@-] in the name (at most 64 characters).
ROLE_ARN_RE = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>\d{12}):role/"
    r"(?P<path>(?:[\x21-\x7e]*/)?)(?P<name>[\w+=,.@-]{1,64})",
    re.ASCII,
)
EKS_CLUSTER_ARN_RE = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):eks:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"cluster/(?P<name>[0-9A-Za-z][A-Za-z0-9_-]{0,99})",
    re.ASCII,
)
# Bucket names: today's rules are [a-z0-9.-]{3,63}; legacy us-east-1 buckets may also hold
# capitals and underscores, so those are accepted too.
S3_URI_RE = re.compile(r"s3://(?P<bucket>[A-Za-z0-9][A-Za-z0-9._-]{1,254})(?P<key>/.*)?", re.ASCII)
ARN_PARTITION_RE = re.compile(r"arn:(aws(?:-[a-z]+)*):", re.ASCII)

MAX_CONFIG_BYTES = 10 * 1024 * 1024
_MAX_PROBLEMS_SHOWN = 6
_MAX_PROBLEM_CHARS = 240
_MAX_PATTERN_INPUT = 4096


# -- the botocore model -------------------------------------------------------------------------
@lru_cache(maxsize=1)
def sagemaker_service_model() -> Any:
    """botocore's SageMaker service model (loaded once; imports botocore on first use)."""
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


def create_cluster_shape() -> Any:
    """The ``CreateCluster`` input shape of the installed botocore."""
    return sagemaker_service_model().operation_model("CreateCluster").input_shape


def botocore_version() -> str:
    import botocore

    return str(botocore.__version__)


# -- problems -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config, at a JSON path (``InstanceGroups[2].InstanceType``)."""

    path: str | None
    message: str

    def __str__(self) -> str:
        if self.path is None:  # not tied to one place (e.g. a duplicate JSON key)
            return self.message
        return f"{self.path or '(top level)'}: {self.message}"


def schema_problems(params: Any) -> list[Problem]:
    """Everything botocore's ``CreateCluster`` model says is wrong with ``params``.

    ``ParamValidator`` first (types, required and unknown keys, minimums), then the maximums,
    enums and patterns of the same shapes, which ParamValidator does not check.
    """
    from botocore.validate import ParamValidator

    shape = create_cluster_shape()
    problems: list[Problem] = []
    try:
        report = ParamValidator().validate(params, shape)
        errors = getattr(report, "_errors", None)
        if isinstance(errors, list):
            problems += [_from_botocore(*e) for e in errors]
        elif report.has_errors():  # a botocore that stores its errors differently
            problems += [Problem("", line) for line in report.generate_report().splitlines()]
    except Exception as exc:  # never a traceback for any input
        problems.append(Problem("", f"could not be validated ({type(exc).__name__}: {exc})"))
    _walk_constraints(params, shape, "", problems)
    return sorted(problems, key=lambda p: _path_key(p.path))


def semantic_problems(params: Any) -> list[Problem]:
    """What HyperPod needs beyond the model's own constraints (id forms, one orchestrator,
    a type in every group). Parts of the wrong type are left to :func:`schema_problems`."""
    problems: list[Problem] = []
    if not isinstance(params, dict):
        return problems
    _check_vpc(params.get("VpcConfig"), "VpcConfig", problems)
    _check_role(params.get("ClusterRole"), "ClusterRole", problems)
    orchestrator = params.get("Orchestrator")
    if isinstance(orchestrator, dict):
        chosen = [k for k in ("Eks", "Slurm") if k in orchestrator]
        if len(chosen) != 1:
            what = "both" if chosen else "neither"
            problems.append(
                Problem("Orchestrator", f"set exactly one of Eks or Slurm ({what} given)")
            )
    for key in ("InstanceGroups", "RestrictedInstanceGroups"):
        groups = params.get(key)
        if not isinstance(groups, list):
            continue
        for i, group in enumerate(groups):
            if not isinstance(group, dict):
                continue
            path = f"{key}[{i}]"
            _check_role(group.get("ExecutionRole"), f"{path}.ExecutionRole", problems)
            _check_vpc(group.get("OverrideVpcConfig"), f"{path}.OverrideVpcConfig", problems)
            if key == "InstanceGroups":
                has_type = "InstanceType" in group
                has_requirements = "InstanceRequirements" in group
                if has_type == has_requirements:
                    what = "both" if has_type else "neither"
                    problems.append(
                        Problem(
                            path,
                            f"set exactly one of InstanceType or InstanceRequirements "
                            f"({what} given)",
                        )
                    )
    return problems


def _check_vpc(vpc: Any, path: str, problems: list[Problem]) -> None:
    if not isinstance(vpc, dict):
        return
    for key, pattern, example in (
        ("Subnets", SUBNET_ID_RE, "subnet-0123456789abcdef0"),
        ("SecurityGroupIds", SECURITY_GROUP_ID_RE, "sg-0123456789abcdef0"),
    ):
        values = vpc.get(key)
        if not isinstance(values, list):
            continue
        for i, value in enumerate(values):
            if isinstance(value, str) and not pattern.fullmatch(value):
                problems.append(
                    Problem(f"{path}.{key}[{i}]", f"{_short(value)} is not of the form {example}")
                )
        duplicates = sorted({v for v in values if isinstance(v, str) and values.count(v) > 1})
        if duplicates:
            problems.append(
                Problem(f"{path}.{key}", f"lists {', '.join(duplicates)} more than once")
            )


def _check_role(role: Any, path: str, problems: list[Problem]) -> None:
    if isinstance(role, str) and not ROLE_ARN_RE.fullmatch(role):
        problems.append(
            Problem(
                path,
                f"{_short(role)} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)",
            )
        )


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    list: "a list",
    tuple: "a list",
    dict: "an object",
    type(None): "null",
}


def _kind(value: Any) -> str:
    for cls, name in _TYPE_NAMES.items():
        if type(value) is cls:
            return name
    return type(value).__name__


def _describe_value(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return f"{_kind(value)} {_short(value, 40)}"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _from_botocore(reason: str, name: str, additional: dict[str, Any]) -> Problem:
    path = name[1:] if name.startswith(".") else name
    if reason == "missing required field":
        return Problem(_join(path, str(additional.get("required_name"))), "required but missing")
    if reason == "unknown field":
        unknown = str(additional.get("unknown_param"))
        valid = [str(v) for v in additional.get("valid_names", [])]
        close = difflib.get_close_matches(unknown, valid, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return Problem(path, f"unknown key {_short(unknown)}{hint}")
    if reason == "invalid type":
        param = additional.get("param")
        expected = _valid_types_text(additional.get("valid_types", ()))
        return Problem(path, f"must be {expected}, not {_describe_value(param)}")
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


def _path_key(path: str | None) -> tuple[tuple[int, str | int], ...]:
    """Sort key keeping ``[10]`` after ``[2]``."""
    parts: list[tuple[int, str | int]] = []
    for token in re.findall(r"\[(\d+)\]|([^.\[\]]+)", path or ""):
        index, key = token
        parts.append((0, int(index)) if index else (1, key))
    return tuple(parts)


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java-flavoured) pattern as a Python regex; None when it cannot be
    expressed. ``\\p{L}``/``\\p{N}`` become ``\\w`` and ``\\p{Z}`` ``\\s``: slightly looser,
    so a valid value is never refused."""
    translated = pattern.replace(r"\p{L}", r"\w").replace(r"\p{N}", r"\w").replace(r"\p{Z}", r"\s")
    try:
        return re.compile(translated)
    except re.error:
        return None


def _walk_constraints(value: Any, shape: Any, path: str, problems: list[Problem]) -> None:
    """Maximums, enums and patterns, recursively; types are botocore's to report."""
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        if isinstance(value, dict):
            for key, item in value.items():
                if key in shape.members:
                    _walk_constraints(item, shape.members[key], _join(path, key), problems)
    elif kind == "list":
        if isinstance(value, list | tuple):
            if "max" in meta and len(value) > meta["max"]:
                problems.append(
                    Problem(path, f"has {len(value)} items; at most {meta['max']} allowed")
                )
            for i, item in enumerate(value):
                _walk_constraints(item, shape.member, f"{path}[{i}]", problems)
    elif kind == "map":
        if isinstance(value, dict):
            if "max" in meta and len(value) > meta["max"]:
                problems.append(
                    Problem(path, f"has {len(value)} entries; at most {meta['max']} allowed")
                )
            for key, item in value.items():
                _walk_constraints(key, shape.key, f"{path}[{_short(key, 40)}]", problems)
                _walk_constraints(item, shape.value, _join(path, str(key)), problems)
    elif kind == "string":
        if isinstance(value, str):
            _check_string(value, shape, path, problems)
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool):
            expected = "an integer" if kind in ("integer", "long") else "a number"
            problems.append(Problem(path, f"must be {expected}, not {json.dumps(value)}"))
        elif isinstance(value, int | float) and "max" in meta and value > meta["max"]:
            problems.append(Problem(path, f"{value} is above the maximum {meta['max']}"))


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
        regex = _compiled(pattern)
        if regex is not None and not regex.fullmatch(value):
            problems.append(
                Problem(path, f"{_short(value)} does not match the {shape.name} pattern {pattern}")
            )


def _enum_message(value: str, shape_name: str, enum: Sequence[str]) -> str:
    if shape_name == "ClusterInstanceType":
        from .catalog import closest_instance_types

        close = closest_instance_types(value)
        if f"ml.{value}" in enum:
            return (
                f"{_short(value)} is not a valid ClusterInstanceType; closest: ml.{value} "
                "(HyperPod types take the ml. prefix)"
            )
    else:
        close = difflib.get_close_matches(value, list(enum), n=3, cutoff=0.6)
    if close:
        return f"{_short(value)} is not a valid {shape_name}; closest: {', '.join(close)}"
    if len(enum) <= 8:
        return f"{_short(value)} is not a valid {shape_name}; one of: {', '.join(enum)}"
    return f"{_short(value)} is not a valid {shape_name}"


def config_problems(config: Any) -> tuple[list[Problem], list[str]]:
    """Every problem of a CreateCluster config (schema, then HyperPod forms), in path order,
    and the notices of what was tolerated (a config without ClusterName)."""
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
    problems.sort(key=lambda p: _path_key(p.path))
    return problems, notices


def format_problems(source_name: str, problems: Sequence[Problem | str]) -> str:
    """One line: ``source: p1; p2; ... (+N more)``."""
    shown = []
    for problem in problems[:_MAX_PROBLEMS_SHOWN]:
        text = str(problem)
        if len(text) > _MAX_PROBLEM_CHARS:
            text = text[: _MAX_PROBLEM_CHARS - 3] + "..."
        shown.append(text)
    more = len(problems) - len(shown)
    tail = f" (+{more} more)" if more > 0 else ""
    return _one_line(f"{source_name}: {'; '.join(shown)}{tail}")


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


# -- reading a config ---------------------------------------------------------------------------
def load_spec(source: str | Path | dict[str, Any]) -> ClusterSpec:
    """Read and validate a CreateCluster config and return its :class:`ClusterSpec`.

    ``source`` is a path (``file://`` accepted, as the AWS CLI takes it), ``-`` for stdin, or
    the config as a dict. Any problem raises :class:`InputError` with a one-line message that
    starts with the source name and names the JSON path of each problem.
    """
    if isinstance(source, dict):
        return _spec_from_config(source, source_name="<dict>", source_field="<dict>", extra=[])
    if not isinstance(source, str | Path):
        raise InputError(f"config source must be a path, '-' or a dict, not {_kind(source)}")
    if str(source) == "-":
        name, field = "<stdin>", "-"
        data = _read_stdin()
    else:
        text = str(source)
        path = Path(text[len("file://") :]) if text.startswith("file://") else Path(text)
        name = field = _one_line(str(path))
        data = _read_file(path, name)
    config, duplicates = _parse_json(data, name)
    return _spec_from_config(config, source_name=name, source_field=field, extra=duplicates)


def _read_stdin() -> bytes:
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
        raise InputError(_one_line(f"{name}: cannot read: {reason}")) from exc
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
                    Problem(None, f"key {_short(key)} appears twice in one object; keep one")
                )
            obj[key] = value
        return obj

    try:
        config = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            _one_line(f"{name}: invalid JSON at line {exc.lineno}:{exc.colno}: {exc.msg}")
        ) from exc
    except ValueError as exc:
        raise InputError(_one_line(f"{name}: invalid JSON: {exc}")) from exc
    except RecursionError as exc:
        raise InputError(f"{name}: JSON nested too deeply to be a cluster config") from exc
    return config, duplicates


def _spec_from_config(
    config: Any, *, source_name: str, source_field: str, extra: list[Problem]
) -> ClusterSpec:
    if not isinstance(config, dict):
        raise InputError(
            f"{source_name}: the top level must be a JSON object (the create-cluster input), "
            f"not {_kind(config)}"
        )
    problems, notices = config_problems(config)
    problems = extra + problems
    if problems:
        raise InputError(format_problems(source_name, problems))
    try:
        return _build_spec(config, source_field, tuple(notices))
    except Exception as exc:  # the validation above should make this unreachable
        raise InputError(
            _one_line(f"{source_name}: cannot read the config: {type(exc).__name__}: {exc}")
        ) from exc


def _vpc(value: Any) -> VpcSettings | None:
    if not isinstance(value, dict):
        return None
    return VpcSettings(
        security_group_ids=tuple(value.get("SecurityGroupIds") or ()),
        subnets=tuple(value.get("Subnets") or ()),
    )


def _group(raw: dict[str, Any], json_path: str, restricted: bool) -> InstanceGroup:
    lifecycle = raw.get("LifeCycleConfig") or {}
    requirements = raw.get("InstanceRequirements") or {}
    slurm = raw.get("SlurmConfig") or {}
    sizes = tuple(
        int(ebs["VolumeSizeInGB"])
        for storage in raw.get("InstanceStorageConfigs") or ()
        if isinstance(ebs := storage.get("EbsVolumeConfig"), dict) and "VolumeSizeInGB" in ebs
    )
    return InstanceGroup(
        name=raw["InstanceGroupName"],
        instance_type=raw.get("InstanceType"),
        instance_types=tuple(requirements.get("InstanceTypes") or ()),
        count=raw["InstanceCount"],
        execution_role=raw.get("ExecutionRole"),
        lifecycle_source_s3_uri=lifecycle.get("SourceS3Uri"),
        lifecycle_on_create=lifecycle.get("OnCreate"),
        lifecycle_on_init_complete=lifecycle.get("OnInitComplete"),
        threads_per_core=raw.get("ThreadsPerCore"),
        ebs_volume_sizes_gb=sizes,
        override_vpc=_vpc(raw.get("OverrideVpcConfig")),
        training_plan_arn=raw.get("TrainingPlanArn"),
        slurm_node_type=slurm.get("NodeType"),
        partition_names=tuple(slurm.get("PartitionNames") or ()),
        deep_health_checks=tuple(raw.get("OnStartDeepHealthChecks") or ()),
        restricted=restricted,
        json_path=json_path,
    )


def _build_spec(config: dict[str, Any], source_field: str, notices: tuple[str, ...]) -> ClusterSpec:
    orchestrator = config.get("Orchestrator") or {}
    eks = orchestrator.get("Eks")
    slurm = orchestrator.get("Slurm")
    groups = [
        _group(raw, f"InstanceGroups[{i}]", restricted=False)
        for i, raw in enumerate(config.get("InstanceGroups") or ())
    ]
    groups += [
        _group(raw, f"RestrictedInstanceGroups[{i}]", restricted=True)
        for i, raw in enumerate(config.get("RestrictedInstanceGroups") or ())
    ]
    return ClusterSpec(
        name=config.get("ClusterName") or "unnamed",
        orchestrator="eks" if eks else "slurm",
        eks_cluster_arn=eks.get("ClusterArn") if eks else None,
        slurm_config_strategy=slurm.get("SlurmConfigStrategy") if slurm else None,
        instance_groups=tuple(groups),
        vpc_config=_vpc(config.get("VpcConfig")),
        node_recovery=config.get("NodeRecovery"),
        source=source_field,
        raw=config,
        notices=notices,
    )


# -- flags --------------------------------------------------------------------------------------
_GROUP_FLAG_RE = re.compile(r"(?P<name>[^=]+)=(?P<type>[^:]+):(?P<count>.+)")


def _split_ids(values: str | Iterable[str] | None) -> list[str]:
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    out: list[str] = []
    for item in items:
        out += [part.strip() for part in str(item).split(",") if part.strip()]
    return out


def _model_pattern(shape_name: str) -> re.Pattern[str] | None:
    pattern = sagemaker_service_model().shape_for(shape_name).metadata.get("pattern")
    return _compiled(pattern) if pattern else None


def _parse_group_flag(text: str, max_count: int) -> tuple[str, str, int]:
    flag = f"--instance-group {text!r}"
    match = _GROUP_FLAG_RE.fullmatch(text.strip())
    if not match:
        raise InputError(
            _one_line(f"{flag}: expected NAME=ml.TYPE:COUNT, e.g. workers=ml.p5.48xlarge:4")
        )
    name, itype, count_text = match["name"].strip(), match["type"].strip(), match["count"].strip()
    name_re = _model_pattern("ClusterInstanceGroupName")
    if not 1 <= len(name) <= 63 or (name_re is not None and not name_re.fullmatch(name)):
        raise InputError(
            _one_line(f"{flag}: group name {name!r} must be 1-63 letters, digits and hyphens")
        )
    from .catalog import describe_invalid_type, is_hyperpod_instance_type

    if not is_hyperpod_instance_type(itype):
        raise InputError(_one_line(f"{flag}: {describe_invalid_type(itype)}"))
    if not count_text.isdigit() or not 0 <= int(count_text) <= max_count:
        raise InputError(
            _one_line(f"{flag}: count {count_text!r} must be a whole number from 0 to {max_count}")
        )
    return name, f"ml.{strip_ml(itype)}", int(count_text)


def spec_from_flags(
    *,
    vpc: str | None = None,
    subnets: str | Iterable[str] | None = None,
    security_groups: str | Iterable[str] | None = None,
    instance_groups: Iterable[str] | None = None,
    orchestrator: str | None = None,
    eks_cluster_arn: str | None = None,
    execution_role: str | None = None,
    lifecycle_uri: str | None = None,
    name: str | None = None,
) -> ClusterSpec:
    """A :class:`ClusterSpec` from CLI flags; each flag is validated and an error names it.

    Everything is optional: ``--vpc`` alone is a valid spec (no groups), and the checks that
    need more report SKIP. ``subnets`` and ``security_groups`` take ids or comma-separated
    lists. Each instance group is ``NAME=ml.TYPE:COUNT``.
    """
    if vpc is not None and not VPC_ID_RE.fullmatch(vpc):
        raise InputError(_one_line(f"--vpc {vpc!r}: not a VPC id (vpc-0123456789abcdef0)"))
    subnet_ids = _split_ids(subnets)
    for subnet in subnet_ids:
        if not SUBNET_ID_RE.fullmatch(subnet):
            raise InputError(
                _one_line(f"--subnet {subnet!r}: not a subnet id (subnet-0123456789abcdef0)")
            )
    sg_ids = _split_ids(security_groups)
    for sg in sg_ids:
        if not SECURITY_GROUP_ID_RE.fullmatch(sg):
            raise InputError(
                _one_line(
                    f"--security-group {sg!r}: not a security group id (sg-0123456789abcdef0)"
                )
            )
    model = sagemaker_service_model()
    max_subnets = model.shape_for("Subnets").metadata.get("max", 16)
    max_sgs = model.shape_for("VpcSecurityGroupIds").metadata.get("max", 5)
    if len(dict.fromkeys(subnet_ids)) > max_subnets:
        raise InputError(f"--subnet: at most {max_subnets} subnets, {len(subnet_ids)} given")
    if len(dict.fromkeys(sg_ids)) > max_sgs:
        raise InputError(
            f"--security-group: at most {max_sgs} security groups, {len(sg_ids)} given"
        )

    orch = (orchestrator or "").strip().lower() or ("eks" if eks_cluster_arn else "slurm")
    if orch not in ("slurm", "eks"):
        raise InputError(_one_line(f"--orchestrator {orchestrator!r}: must be slurm or eks"))
    if eks_cluster_arn is not None:
        if orch != "eks":
            raise InputError("--eks-cluster-arn: given with --orchestrator slurm")
        if not EKS_CLUSTER_ARN_RE.fullmatch(eks_cluster_arn):
            raise InputError(
                _one_line(
                    f"--eks-cluster-arn {eks_cluster_arn!r}: not an EKS cluster ARN "
                    "(arn:aws:eks:REGION:123456789012:cluster/NAME)"
                )
            )
    if execution_role is not None and not ROLE_ARN_RE.fullmatch(execution_role):
        raise InputError(
            _one_line(
                f"--execution-role {execution_role!r}: not an IAM role ARN "
                "(arn:aws:iam::123456789012:role/NAME)"
            )
        )
    if lifecycle_uri is not None and not S3_URI_RE.fullmatch(lifecycle_uri):
        raise InputError(
            _one_line(f"--lifecycle-uri {lifecycle_uri!r}: not an S3 URI (s3://bucket/prefix/)")
        )
    if name is not None:
        name_re = _model_pattern("ClusterName")
        if not 1 <= len(name) <= 63 or (name_re is not None and not name_re.fullmatch(name)):
            raise InputError(
                _one_line(f"--name {name!r}: must be 1-63 letters, digits and hyphens")
            )

    max_count = model.shape_for("ClusterInstanceCount").metadata.get("max", 6758)
    vpc_settings = VpcSettings(
        security_group_ids=tuple(dict.fromkeys(sg_ids)), subnets=tuple(dict.fromkeys(subnet_ids))
    )
    groups: list[InstanceGroup] = []
    raw_groups: list[dict[str, Any]] = []
    for i, text in enumerate(instance_groups or ()):
        group_name, itype, count = _parse_group_flag(str(text), max_count)
        if any(g.name == group_name for g in groups):
            raise InputError(f"--instance-group: group name {group_name!r} given twice")
        groups.append(
            InstanceGroup(
                name=group_name,
                instance_type=itype,
                count=count,
                execution_role=execution_role,
                lifecycle_source_s3_uri=lifecycle_uri,
                json_path=f"InstanceGroups[{i}]",
            )
        )
        raw_group: dict[str, Any] = {
            "InstanceGroupName": group_name,
            "InstanceType": itype,
            "InstanceCount": count,
        }
        if execution_role:
            raw_group["ExecutionRole"] = execution_role
        if lifecycle_uri:
            raw_group["LifeCycleConfig"] = {"SourceS3Uri": lifecycle_uri}
        raw_groups.append(raw_group)

    raw: dict[str, Any] = {}
    if name:
        raw["ClusterName"] = name
    if raw_groups:
        raw["InstanceGroups"] = raw_groups
    if subnet_ids or sg_ids:
        raw["VpcConfig"] = {
            "SecurityGroupIds": list(vpc_settings.security_group_ids),
            "Subnets": list(vpc_settings.subnets),
        }
    if orch == "eks":
        raw["Orchestrator"] = {"Eks": {"ClusterArn": eks_cluster_arn}} if eks_cluster_arn else {}
    return ClusterSpec(
        name=name or "unnamed",
        orchestrator="eks" if orch == "eks" else "slurm",
        eks_cluster_arn=eks_cluster_arn,
        instance_groups=tuple(groups),
        vpc_config=vpc_settings if (subnet_ids or sg_ids) else None,
        vpc_id=vpc,
        source="flags",
        raw=raw,
    )
