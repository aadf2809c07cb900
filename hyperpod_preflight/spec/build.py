"""From a validated CreateCluster config (a dict) to the typed :class:`ClusterSpec`: which
fields of each instance group, the VPC settings and the orchestrator the rest of the tool reads.
Validation is :mod:`.schema`'s job; this module trusts it.
"""

from __future__ import annotations

from typing import Any

from .model import CapacityType, ClusterSpec, InstanceGroup, VpcSettings
from .problems import Problem


def _vpc(value: Any) -> VpcSettings | None:
    if not isinstance(value, dict):
        return None
    return VpcSettings(
        security_group_ids=tuple(value.get("SecurityGroupIds") or ()),
        subnets=tuple(value.get("Subnets") or ()),
    )


def _capacity_type(requirements: Any) -> CapacityType:
    """``ClusterCapacityRequirements`` holds ``Spot`` or ``OnDemand`` options; with ``Spot``
    the group runs on Spot capacity (and counts against the Spot quotas)."""
    return "spot" if isinstance(requirements, dict) and "Spot" in requirements else "on-demand"


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
        capacity_type=_capacity_type(raw.get("CapacityRequirements")),
        restricted=restricted,
        json_path=json_path,
    )


def build_spec(
    config: dict[str, Any],
    source_field: str,
    notices: tuple[str, ...],
    problems: tuple[Problem, ...] = (),
) -> ClusterSpec:
    """The spec of a config that is valid, or was made usable (:mod:`.usable`): entries of
    a group list that are not objects (dropped for a problem) are skipped, keeping the paths
    of the others."""
    orchestrator = config.get("Orchestrator") or {}
    eks = orchestrator.get("Eks")
    slurm = orchestrator.get("Slurm")
    groups = [
        _group(raw, f"InstanceGroups[{i}]", restricted=False)
        for i, raw in enumerate(config.get("InstanceGroups") or ())
        if isinstance(raw, dict)
    ]
    groups += [
        _group(raw, f"RestrictedInstanceGroups[{i}]", restricted=True)
        for i, raw in enumerate(config.get("RestrictedInstanceGroups") or ())
        if isinstance(raw, dict)
    ]
    return ClusterSpec(
        name=config.get("ClusterName") or "unnamed",
        # an Eks orchestrator whose ClusterArn is known only at deploy time is still EKS
        orchestrator="eks" if isinstance(eks, dict) else "slurm",
        eks_cluster_arn=eks.get("ClusterArn") if isinstance(eks, dict) else None,
        slurm_config_strategy=slurm.get("SlurmConfigStrategy") if slurm else None,
        instance_groups=tuple(groups),
        vpc_config=_vpc(config.get("VpcConfig")),
        node_recovery=config.get("NodeRecovery"),
        source=source_field,
        raw=config,
        notices=notices,
        problems=problems,
    )
