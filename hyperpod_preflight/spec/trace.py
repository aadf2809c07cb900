"""Findings traced back to the config the user wrote: each finding's location in the file, and
a SKIP "known only after deploy" in place of the findings of every check that needs a value the
template or plan leaves to deploy time.

Which checks need which config fields is the table :data:`FIELD_CHECKS`: a check that reads a
field the table does not give it would judge a config without that value, and the tests that
compare a template with its CreateCluster twin catch it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from ..results import Finding, Location, Status
from .model import ClusterSpec
from .usable import path_parts

_S = "config.efa-single-subnet-az"
_SUBNET_CHECKS = (
    "network.subnet-",
    "network.vpc-",
    "network.egress",
    "network.s3-gateway-endpoint",
    "network.efa-single-az",
    "network.sg-exists",
    "capacity.instance-type-offered",
    _S,
    "config.eks-vpc-config",
    "eks.api-endpoint-access",
    "eks.vpc",
    "eks.cluster-sg-admits-nodes",
    "quotas.network-interfaces",
    "quotas.elastic-ips",
    "slurm.fsx-",
)
_TYPE_CHECKS = (
    "quotas.",
    "capacity.",
    "network.subnet-capacity",
    "network.efa-single-az",
    "config.threads-per-core",
    "config.instance-types-sized",
    _S,
    "iam.execution-role-permissions",
)
_ROLE_CHECKS = (
    "iam.",
    "config.execution-role-arn",
    "config.lifecycle-bucket-name",
    "config.autoscaling",
    "s3.lifecycle-bucket-access",
)
_LIFECYCLE_CHECKS = (
    "config.lifecycle-config",
    "config.lifecycle-bucket-name",
    "s3.",
    "lifecycle.",
    "slurm.",
    "iam.execution-role-permissions",
    "iam.lifecycle-kms",
)
# A config field (JSON path without list indices) → the checks (ids or id prefixes) that read
# it. First match wins; a field not listed here is read by config.schema only. (Patterns as
# text: compiled on first use, by ``re``'s own cache, only for a config with deploy-time values.)
FIELD_CHECKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"^ClusterName$", ("iam.caller-permissions", "iam.execution-role-permissions")),
    (r"(^|\.)(VpcConfig|OverrideVpcConfig)\.Subnets$", _SUBNET_CHECKS),
    (
        r"(^|\.)(VpcConfig|OverrideVpcConfig)\.SecurityGroupIds$",
        (
            "network.sg-",
            "eks.cluster-sg-admits-nodes",
            "slurm.fsx-security-groups",
            "config.eks-vpc-config",
        ),
    ),
    (r"(^|\.)(VpcConfig|OverrideVpcConfig)$", (*_SUBNET_CHECKS, "network.")),
    (r"(^|\.)ExecutionRole$|^ClusterRole$", _ROLE_CHECKS),
    (r"(^|\.)LifeCycleConfig(\.|$)", _LIFECYCLE_CHECKS),
    (r"(^|\.)(InstanceType|InstanceRequirements)(\.|$)", _TYPE_CHECKS),
    (
        r"(^|\.)InstanceCount$",
        (
            "quotas.",
            "network.subnet-capacity",
            "config.instance-count-limit",
            "config.controller-group",
            "capacity.training-plan",
            _S,
        ),
    ),
    (
        r"(^|\.)InstanceGroupName$",
        (
            "config.unique-group-names",
            "lifecycle.provisioning-parameters",
            "slurm.provisioning-parameters",
            "capacity.training-plan",
        ),
    ),
    (r"^Orchestrator(\.|$)", ("eks.", "config.eks-vpc-config", "config.autoscaling")),
    (r"(^|\.)TrainingPlanArn$", ("capacity.training-plan",)),
    (r"(^|\.)ImageId$", ("capacity.custom-ami",)),
    (r"(^|\.)ThreadsPerCore$", ("config.threads-per-core",)),
    (r"(^|\.)InstanceStorageConfigs(\.|$)", ("quotas.ebs-volume-size",)),
    (r"(^|\.)ScheduledUpdateConfig(\.|$)", ("config.scheduled-update", "capacity.rollback-")),
    (r"(^|\.)SlurmConfig(\.|$)", ("config.controller-group", "slurm.provisioning-parameters")),
    (r"^(AutoScaling|NodeProvisioningMode|NodeRecovery)(\.|$)", ("config.autoscaling",)),
)


def field_of(path: str) -> str:
    """``InstanceGroups[1].ExecutionRole`` → ``InstanceGroups.ExecutionRole``."""
    return ".".join(str(p) for p in path_parts(path) if isinstance(p, str))


def checks_needing(path: str) -> tuple[str, ...]:
    """The check ids (or id prefixes) that read the config field at ``path``."""
    field = field_of(path)
    for pattern, checks in FIELD_CHECKS:
        if re.search(pattern, field):
            return checks
    return ()


def _needs(check_id: str, prefixes: Iterable[str]) -> bool:
    return any(
        check_id == p or (p.endswith((".", "-")) and check_id.startswith(p)) for p in prefixes
    )


_NOT_RUN_OFFLINE = "needs AWS access; skipped with --offline"  # the runner's SKIP


def _other_orchestrator(check_id: str, spec: ClusterSpec) -> bool:
    if spec.orchestrator == "slurm":
        return check_id.startswith("eks.") or check_id == "config.eks-vpc-config"
    return check_id.startswith("slurm.") or check_id == "config.controller-group"


def deferred_findings(findings: list[Finding], spec: ClusterSpec) -> list[Finding]:
    """``findings`` with those of each check that needs a value known only at deploy time
    replaced by one SKIP per such value (in the check's first finding's place). A check that
    did not run (offline) or is for the other orchestrator keeps its findings."""
    if not spec.unknowns:
        return findings
    judged = {f.check_id for f in findings if f.message != _NOT_RUN_OFFLINE}
    judged -= {f.check_id for f in findings if _other_orchestrator(f.check_id, spec)}
    out: list[Finding] = []
    done: set[str] = set()
    for finding in findings:
        check_id = finding.check_id
        needed = [p for p in spec.unknowns if _needs(check_id, checks_needing(p))]
        if check_id not in judged:
            needed = []
        if not needed:
            out.append(finding)
            continue
        if check_id in done:
            continue
        done.add(check_id)
        for path in needed:
            out.append(
                replace(
                    finding,
                    status=Status.SKIP,
                    resource=path,
                    message=f"known only after deploy: {path} ({spec.unknowns[path]})",
                    remediation="",
                    details={"path": path, "reason": spec.unknowns[path]},
                    ignored=False,
                    internal_error=False,
                    location=spec.locations.get(path),
                )
            )
    return out


# -- locations -------------------------------------------------------------------------------
def _value_paths(spec: ClusterSpec) -> dict[str, str]:
    """Each string value of the config (and each lifecycle bucket) → its first JSON path."""
    found: dict[str, str] = {}
    pending: list[tuple[object, str]] = [(spec.raw, "")]
    while pending:
        value, path = pending.pop(0)
        if isinstance(value, dict):
            pending += [(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()]
        elif isinstance(value, list):
            pending += [(v, f"{path}[{i}]") for i, v in enumerate(value)]
        elif isinstance(value, str):
            found.setdefault(value, path)
            if value.startswith("s3://"):
                found.setdefault(value[5:].split("/", 1)[0], path)
    for group in spec.instance_groups:
        found.setdefault(group.name, group.json_path)
        for itype in group.types:
            found.setdefault(itype, f"{group.json_path}.InstanceType")
            found.setdefault(itype.removeprefix("ml."), f"{group.json_path}.InstanceType")
    return found


def _at(spec: ClusterSpec, path: str) -> Location | None:
    """The location of ``path``, else of its nearest ancestor written in the file."""
    parts = path_parts(path)
    while True:
        text = ""
        for part in parts:
            text = (
                f"{text}[{part}]" if isinstance(part, int) else (f"{text}.{part}" if text else part)
            )
        if text in spec.locations:
            return spec.locations[text]
        if not parts:
            return None
        parts = parts[:-1]


def locate(finding: Finding, spec: ClusterSpec, values: dict[str, str]) -> Location | None:
    """Where the value a finding judges is written: its JSON path (a ``path`` detail or the
    resource itself), else the first place the config names the resource, else the
    cluster's definition."""
    if not spec.locations:
        return None
    path = finding.details.get("path")
    if isinstance(path, str) and path:
        return _at(spec, path)
    if finding.resource in spec.locations:
        return spec.locations[finding.resource]
    if finding.resource in values:
        return _at(spec, values[finding.resource])
    return spec.locations.get("")


def trace_findings(findings: list[Finding], spec: ClusterSpec) -> list[Finding]:
    """``findings`` with the SKIPs of deploy-time values and every finding's location (the
    caller summarizes again: statuses may have changed)."""
    if not spec.unknowns and not spec.locations:
        return findings
    values = _value_paths(spec)
    return [
        f if f.location is not None else replace(f, location=locate(f, spec, values))
        for f in deferred_findings(findings, spec)
    ]
