"""A :class:`ClusterSpec` from CLI flags (``--vpc``, ``--subnet``, ``--instance-group`` ...),
for a quick check without a config file.

Each flag has one validator in :data:`_FLAGS` that checks it and returns its normalized value;
an error names the flag. The few rules between flags (``--eks-cluster-arn`` implies EKS) come
after, in :meth:`_ValidFlags.of`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ..catalog import describe_invalid_type, is_hyperpod_instance_type
from ..errors import InputError
from ..sagemaker_model import sagemaker_service_model
from .forms import (
    EKS_CLUSTER_ARN_RE,
    ROLE_ARN_RE,
    S3_URI_RE,
    SECURITY_GROUP_ID_RE,
    SUBNET_ID_RE,
    VPC_ID_RE,
)
from .model import ClusterSpec, InstanceGroup, VpcSettings, strip_ml
from .problems import one_line
from .schema import compiled_pattern

_GROUP_FLAG_RE = re.compile(r"(?P<name>[^=]+)=(?P<type>[^:]+):(?P<count>.+)")


def _model_max(shape_name: str, default: int) -> int:
    return int(sagemaker_service_model().shape_for(shape_name).metadata.get("max", default))


def _fits_model_name(name: str, shape_name: str) -> bool:
    """1-63 characters matching the model's pattern of ``shape_name`` (when it has one)."""
    pattern = sagemaker_service_model().shape_for(shape_name).metadata.get("pattern")
    regex = compiled_pattern(pattern) if pattern else None
    return 1 <= len(name) <= 63 and (regex is None or regex.fullmatch(name) is not None)


# -- the validators -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _OneId:
    """A flag taking one id or ARN of a fixed form; None when not given."""

    flag: str
    form: re.Pattern[str]
    what: str

    def __call__(self, value: str | None) -> str | None:
        if value is not None and not self.form.fullmatch(value):
            raise InputError(one_line(f"{self.flag} {value!r}: not {self.what}"))
        return value


@dataclass(frozen=True)
class _IdList:
    """A repeatable flag of ids (each may be a comma-separated list), at most the model's
    maximum distinct ones; returns them de-duplicated in the order given."""

    flag: str
    form: re.Pattern[str]
    what: str
    max_shape: str
    default_max: int
    noun: str

    def __call__(self, values: str | Iterable[str] | None) -> tuple[str, ...]:
        items = [] if values is None else [values] if isinstance(values, str) else list(values)
        ids = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
        one = _OneId(self.flag, self.form, self.what)
        for value in ids:
            one(value)
        unique = tuple(dict.fromkeys(ids))
        allowed = _model_max(self.max_shape, self.default_max)
        if len(unique) > allowed:
            raise InputError(f"{self.flag}: at most {allowed} {self.noun}, {len(ids)} given")
        return unique


def _orchestrator(value: str | None) -> str | None:
    """``slurm`` or ``eks``; None when not given (then it follows ``--eks-cluster-arn``)."""
    chosen = (value or "").strip().lower()
    if chosen and chosen not in ("slurm", "eks"):
        raise InputError(one_line(f"--orchestrator {value!r}: must be slurm or eks"))
    return chosen or None


def _cluster_name(value: str | None) -> str | None:
    if value is not None and not _fits_model_name(value, "ClusterName"):
        raise InputError(one_line(f"--name {value!r}: must be 1-63 letters, digits and hyphens"))
    return value


@dataclass(frozen=True)
class _GroupFlag:
    """One ``--instance-group NAME=ml.TYPE:COUNT``."""

    name: str
    instance_type: str
    count: int


def _instance_groups(values: Iterable[str] | None) -> tuple[_GroupFlag, ...]:
    """Each ``--instance-group NAME=ml.TYPE:COUNT``; names unique."""
    max_count = _model_max("ClusterInstanceCount", 6758)
    groups: list[_GroupFlag] = []
    names: set[str] = set()
    for text in values or ():
        group = _parse_group_flag(str(text), max_count)
        if group.name in names:
            raise InputError(f"--instance-group: group name {group.name!r} given twice")
        names.add(group.name)
        groups.append(group)
    return tuple(groups)


def _parse_group_flag(text: str, max_count: int) -> _GroupFlag:
    flag = f"--instance-group {text!r}"
    match = _GROUP_FLAG_RE.fullmatch(text.strip())
    if not match:
        raise InputError(
            one_line(f"{flag}: expected NAME=ml.TYPE:COUNT, e.g. workers=ml.p5.48xlarge:4")
        )
    name, itype, count_text = match["name"].strip(), match["type"].strip(), match["count"].strip()
    if not _fits_model_name(name, "ClusterInstanceGroupName"):
        raise InputError(
            one_line(f"{flag}: group name {name!r} must be 1-63 letters, digits and hyphens")
        )
    if not is_hyperpod_instance_type(itype):
        raise InputError(one_line(f"{flag}: {describe_invalid_type(itype)}"))
    if not count_text.isdigit() or not 0 <= int(count_text) <= max_count:
        raise InputError(
            one_line(f"{flag}: count {count_text!r} must be a whole number from 0 to {max_count}")
        )
    return _GroupFlag(name, f"ml.{strip_ml(itype)}", int(count_text))


# Keyword of spec_from_flags → its validator, in the order flags are checked.
_FLAGS: dict[str, Callable[[Any], Any]] = {
    "vpc": _OneId("--vpc", VPC_ID_RE, "a VPC id (vpc-0123456789abcdef0)"),
    "subnets": _IdList(
        "--subnet", SUBNET_ID_RE, "a subnet id (subnet-0123456789abcdef0)", "Subnets", 16, "subnets"
    ),
    "security_groups": _IdList(
        "--security-group",
        SECURITY_GROUP_ID_RE,
        "a security group id (sg-0123456789abcdef0)",
        "VpcSecurityGroupIds",
        5,
        "security groups",
    ),
    "orchestrator": _orchestrator,
    "eks_cluster_arn": _OneId(
        "--eks-cluster-arn",
        EKS_CLUSTER_ARN_RE,
        "an EKS cluster ARN (arn:aws:eks:REGION:123456789012:cluster/NAME)",
    ),
    "execution_role": _OneId(
        "--execution-role", ROLE_ARN_RE, "an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
    ),
    "lifecycle_uri": _OneId("--lifecycle-uri", S3_URI_RE, "an S3 URI (s3://bucket/prefix/)"),
    "name": _cluster_name,
    "instance_groups": _instance_groups,
}


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
    given = {
        "vpc": vpc,
        "subnets": subnets,
        "security_groups": security_groups,
        "orchestrator": orchestrator,
        "eks_cluster_arn": eks_cluster_arn,
        "execution_role": execution_role,
        "lifecycle_uri": lifecycle_uri,
        "name": name,
        "instance_groups": instance_groups,
    }
    flags = _ValidFlags.of({key: validate(given[key]) for key, validate in _FLAGS.items()})
    vpc_settings = VpcSettings(security_group_ids=flags.sg_ids, subnets=flags.subnet_ids)
    return ClusterSpec(
        name=flags.cluster_name or "unnamed",
        orchestrator=flags.orchestrator,
        eks_cluster_arn=flags.arn,
        instance_groups=tuple(
            InstanceGroup(
                name=group.name,
                instance_type=group.instance_type,
                count=group.count,
                execution_role=flags.role,
                lifecycle_source_s3_uri=flags.lifecycle,
                json_path=f"InstanceGroups[{i}]",
            )
            for i, group in enumerate(flags.groups)
        ),
        vpc_config=vpc_settings if (flags.subnet_ids or flags.sg_ids) else None,
        vpc_id=flags.vpc,
        source="flags",
        raw=_create_cluster_request(flags),
    )


@dataclass(frozen=True)
class _ValidFlags:
    """The flags' validated values, and the rules between them applied."""

    vpc: str | None
    subnet_ids: tuple[str, ...]
    sg_ids: tuple[str, ...]
    groups: tuple[_GroupFlag, ...]
    orchestrator: Literal["slurm", "eks"]
    arn: str | None
    role: str | None
    lifecycle: str | None
    cluster_name: str | None

    @classmethod
    def of(cls, flags: dict[str, Any]) -> _ValidFlags:
        arn: str | None = flags["eks_cluster_arn"]
        orch = flags["orchestrator"] or ("eks" if arn else "slurm")
        if arn is not None and orch != "eks":
            raise InputError("--eks-cluster-arn: given with --orchestrator slurm")
        return cls(
            vpc=flags["vpc"],
            subnet_ids=flags["subnets"],
            sg_ids=flags["security_groups"],
            groups=flags["instance_groups"],
            orchestrator="eks" if orch == "eks" else "slurm",
            arn=arn,
            role=flags["execution_role"],
            lifecycle=flags["lifecycle_uri"],
            cluster_name=flags["name"],
        )


def _create_cluster_request(flags: _ValidFlags) -> dict[str, Any]:
    """The CreateCluster request the flags stand for (the spec's ``raw``)."""
    raw_groups: list[dict[str, Any]] = []
    for group in flags.groups:
        raw_group: dict[str, Any] = {
            "InstanceGroupName": group.name,
            "InstanceType": group.instance_type,
            "InstanceCount": group.count,
        }
        if flags.role:
            raw_group["ExecutionRole"] = flags.role
        if flags.lifecycle:
            raw_group["LifeCycleConfig"] = {"SourceS3Uri": flags.lifecycle}
        raw_groups.append(raw_group)
    raw: dict[str, Any] = {}
    if flags.cluster_name:
        raw["ClusterName"] = flags.cluster_name
    if raw_groups:
        raw["InstanceGroups"] = raw_groups
    if flags.subnet_ids or flags.sg_ids:
        raw["VpcConfig"] = {
            "SecurityGroupIds": list(flags.sg_ids),
            "Subnets": list(flags.subnet_ids),
        }
    if flags.orchestrator == "eks":
        raw["Orchestrator"] = {"Eks": {"ClusterArn": flags.arn}} if flags.arn else {}
    return raw
