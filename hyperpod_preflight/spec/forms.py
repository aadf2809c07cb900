"""The forms HyperPod needs beyond botocore's model: subnet, security group, VPC and IAM
role ids (stricter than the model's patterns), exactly one orchestrator, and an instance type
or requirements in every group. The id regexes are shared with :mod:`.flags` and the checks.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from .problems import Problem, short

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


def semantic_problems(params: Any) -> list[Problem]:
    """What HyperPod needs beyond the model's own constraints (id forms, one orchestrator,
    a type in every group). Parts of the wrong type are left to :func:`.schema.schema_problems`."""
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
                    Problem(f"{path}.{key}[{i}]", f"{short(value)} is not of the form {example}")
                )
        seen = Counter(v for v in values if isinstance(v, str))
        duplicates = sorted(v for v, times in seen.items() if times > 1)
        if duplicates:
            problems.append(
                Problem(f"{path}.{key}", f"lists {', '.join(duplicates)} more than once")
            )


def _check_role(role: Any, path: str, problems: list[Problem]) -> None:
    if isinstance(role, str) and not ROLE_ARN_RE.fullmatch(role):
        problems.append(
            Problem(
                path,
                f"{short(role)} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)",
            )
        )
