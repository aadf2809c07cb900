"""A :class:`ClusterSpec` from CLI flags (``--vpc``, ``--subnet``, ``--instance-group`` ...),
for a quick check without a config file. Each flag is checked on its own and an error names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

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
    return compiled_pattern(pattern) if pattern else None


def _parse_group_flag(text: str, max_count: int) -> tuple[str, str, int]:
    flag = f"--instance-group {text!r}"
    match = _GROUP_FLAG_RE.fullmatch(text.strip())
    if not match:
        raise InputError(
            one_line(f"{flag}: expected NAME=ml.TYPE:COUNT, e.g. workers=ml.p5.48xlarge:4")
        )
    name, itype, count_text = match["name"].strip(), match["type"].strip(), match["count"].strip()
    name_re = _model_pattern("ClusterInstanceGroupName")
    if not 1 <= len(name) <= 63 or (name_re is not None and not name_re.fullmatch(name)):
        raise InputError(
            one_line(f"{flag}: group name {name!r} must be 1-63 letters, digits and hyphens")
        )
    if not is_hyperpod_instance_type(itype):
        raise InputError(one_line(f"{flag}: {describe_invalid_type(itype)}"))
    if not count_text.isdigit() or not 0 <= int(count_text) <= max_count:
        raise InputError(
            one_line(f"{flag}: count {count_text!r} must be a whole number from 0 to {max_count}")
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
        raise InputError(one_line(f"--vpc {vpc!r}: not a VPC id (vpc-0123456789abcdef0)"))
    subnet_ids = _split_ids(subnets)
    for subnet in subnet_ids:
        if not SUBNET_ID_RE.fullmatch(subnet):
            raise InputError(
                one_line(f"--subnet {subnet!r}: not a subnet id (subnet-0123456789abcdef0)")
            )
    sg_ids = _split_ids(security_groups)
    for sg in sg_ids:
        if not SECURITY_GROUP_ID_RE.fullmatch(sg):
            raise InputError(
                one_line(f"--security-group {sg!r}: not a security group id (sg-0123456789abcdef0)")
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
        raise InputError(one_line(f"--orchestrator {orchestrator!r}: must be slurm or eks"))
    if eks_cluster_arn is not None:
        if orch != "eks":
            raise InputError("--eks-cluster-arn: given with --orchestrator slurm")
        if not EKS_CLUSTER_ARN_RE.fullmatch(eks_cluster_arn):
            raise InputError(
                one_line(
                    f"--eks-cluster-arn {eks_cluster_arn!r}: not an EKS cluster ARN "
                    "(arn:aws:eks:REGION:123456789012:cluster/NAME)"
                )
            )
    if execution_role is not None and not ROLE_ARN_RE.fullmatch(execution_role):
        raise InputError(
            one_line(
                f"--execution-role {execution_role!r}: not an IAM role ARN "
                "(arn:aws:iam::123456789012:role/NAME)"
            )
        )
    if lifecycle_uri is not None and not S3_URI_RE.fullmatch(lifecycle_uri):
        raise InputError(
            one_line(f"--lifecycle-uri {lifecycle_uri!r}: not an S3 URI (s3://bucket/prefix/)")
        )
    if name is not None:
        name_re = _model_pattern("ClusterName")
        if not 1 <= len(name) <= 63 or (name_re is not None and not name_re.fullmatch(name)):
            raise InputError(one_line(f"--name {name!r}: must be 1-63 letters, digits and hyphens"))

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
