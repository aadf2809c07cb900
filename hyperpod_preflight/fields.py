"""Where each ``CreateClusterRequest`` member is checked, or why it is not: data that
``docs/checks.md`` renders ("Fields of CreateCluster") and a test holds complete against the
installed botocore model, so a new botocore field fails the test until it is listed here.

A path names a member the way the config nests it (``InstanceGroups[].ImageId``); an entry
covers the member and everything under it unless a deeper entry says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Coverage:
    """The checks that judge a field, or why none does (``reason``; a note when both)."""

    checks: tuple[str, ...] = ()
    reason: str = ""


def _c(*checks: str, reason: str = "") -> Coverage:
    return Coverage(checks=checks, reason=reason)


_SCHEMA_ONLY = "its form is checked by config.schema; it names nothing in the account to read"
_NETWORK = (
    "network.subnet-exists",
    "network.sg-exists",
    "network.subnet-capacity",
    "network.egress",
    "network.sg-efa-self-ingress",
    "network.sg-efa-self-egress",
)

# Members of an instance group entry, relative to ``InstanceGroups[]``.
GROUP_FIELDS: dict[str, Coverage] = {
    "InstanceCount": _c(
        "config.instance-count-limit",
        "quotas.instance-type",
        "quotas.instances-per-cluster",
        "quotas.instances-total",
        "network.subnet-capacity",
    ),
    "MinInstanceCount": _c(
        reason="the floor kept while scaling; quotas and subnets are sized for InstanceCount, "
        "which is at least as large"
    ),
    "InstanceGroupName": _c("config.unique-group-names"),
    "InstanceType": _c(
        "config.instance-types-sized", "capacity.instance-type-offered", "quotas.instance-type"
    ),
    "InstanceRequirements": _c("config.instance-types-sized", "capacity.instance-type-offered"),
    "LifeCycleConfig": _c("config.lifecycle-config", "config.lifecycle-bucket-name"),
    "ExecutionRole": _c("config.execution-role-arn"),
    "ThreadsPerCore": _c("config.threads-per-core"),
    "InstanceStorageConfigs": _c("quotas.ebs-volume-size"),
    "InstanceStorageConfigs[].EbsVolumeConfig.VolumeKmsKeyId": _c(
        reason="not checked yet: whether the execution role may use the key is an IAM question "
        "(key policy and grants) for the iam checks"
    ),
    "InstanceStorageConfigs[].EbsVolumeConfig.RootVolume": _c(reason=_SCHEMA_ONLY),
    "InstanceStorageConfigs[].FsxLustreConfig": _c(
        "slurm.fsx-exists",
        "slurm.fsx-vpc",
        "slurm.fsx-zone",
        "slurm.fsx-mount-name",
        "slurm.fsx-security-groups",
    ),
    "InstanceStorageConfigs[].FsxLustreConfig.MountPath": _c(
        reason="a directory on the node, created at mount time; nothing to read beforehand"
    ),
    "InstanceStorageConfigs[].FsxOpenZfsConfig": _c(
        "slurm.fsx-exists", "slurm.fsx-vpc", "slurm.fsx-zone", "slurm.fsx-security-groups"
    ),
    "InstanceStorageConfigs[].FsxOpenZfsConfig.MountPath": _c(
        reason="a directory on the node, created at mount time; nothing to read beforehand"
    ),
    "OnStartDeepHealthChecks": _c(
        reason="values are the model's enum (config.schema); which instance types run them is "
        "HyperPod's decision, not published as data"
    ),
    "TrainingPlanArn": _c("capacity.training-plan", "capacity.training-plan-window"),
    "OverrideVpcConfig": _c(*_NETWORK, "network.efa-single-az"),
    "ScheduledUpdateConfig.ScheduleExpression": _c("config.scheduled-update"),
    "ScheduledUpdateConfig.DeploymentConfig": _c(
        reason="batch sizes and the wait interval act at update time; their ranges are "
        "checked by config.schema"
    ),
    "ScheduledUpdateConfig.DeploymentConfig.AutoRollbackConfiguration": _c(
        "capacity.rollback-alarms"
    ),
    "ImageId": _c("capacity.custom-ami"),
    "AutoPatchConfig": _c(
        reason="the patch strategy, schedule and drain policy act after creation; their values "
        "are checked by config.schema"
    ),
    "AutoPatchConfig.DeploymentConfig.AutoRollbackConfiguration": _c("capacity.rollback-alarms"),
    "ImageReleaseVersion": _c(
        reason="not checked yet: the tool does not read which HyperPod image releases are "
        "offered; config.schema checks its form"
    ),
    "KubernetesConfig": _c(
        reason="labels and taints are checked by config.schema (at most 50 each); what they "
        "mean is the EKS cluster's business"
    ),
    "SlurmConfig": _c("config.controller-group", "slurm.provisioning-parameters"),
    "CapacityRequirements": _c("quotas.instance-type"),
    "NetworkInterface": _c(
        reason="not checked yet: whether the instance type supports an EFA-only interface"
    ),
    "EnvironmentConfig": _c(
        reason="restricted groups: HyperPod creates this FSx for Lustre itself; nothing exists "
        "to read before creation"
    ),
}

# The members of ``RestrictedInstanceGroups[]`` (a subset of the above, plus EnvironmentConfig).
RESTRICTED_GROUP_MEMBERS = (
    "InstanceCount",
    "InstanceGroupName",
    "InstanceType",
    "ExecutionRole",
    "ThreadsPerCore",
    "InstanceStorageConfigs",
    "OnStartDeepHealthChecks",
    "TrainingPlanArn",
    "OverrideVpcConfig",
    "ScheduledUpdateConfig",
    "EnvironmentConfig",
)
RESTRICTED_ONLY = ("EnvironmentConfig",)

CLUSTER_FIELDS: dict[str, Coverage] = {
    "ClusterName": _c("config.schema"),
    "InstanceGroups": _c("config.unique-group-names"),
    "RestrictedInstanceGroups": _c("config.unique-group-names"),
    "RestrictedInstanceGroupsConfig": _c(
        reason="restricted groups' shared FSx for Lustre is created by HyperPod; its settings "
        "are checked by config.schema"
    ),
    "VpcConfig": _c(*_NETWORK, "network.vpc-exists", "network.vpc-dns", "network.sg-count"),
    "Tags": _c(
        reason="checked by config.schema (at most 50); tag policies of an AWS Organization are "
        "not read"
    ),
    "Orchestrator": _c(
        "config.schema",
        reason="exactly one of Eks or Slurm (config.schema); without it the cluster is Slurm",
    ),
    "Orchestrator.Eks": _c("config.eks-vpc-config"),
    "Orchestrator.Slurm.SlurmConfigStrategy": _c(
        reason="a value of the model's enum (config.schema); it decides how HyperPod rewrites "
        "slurm.conf after creation"
    ),
    "Orchestrator.Slurm.AccountingDatabase": _c(
        reason="not checked yet: reaching the database and its secret needs network paths to "
        "it and secretsmanager reads"
    ),
    "NodeRecovery": _c("config.autoscaling"),
    "TieredStorageConfig": _c(
        reason="checked by config.schema (mode, percentage range); it uses instance memory, "
        "nothing in the account"
    ),
    "NodeProvisioningMode": _c("config.autoscaling"),
    "ClusterRole": _c(
        "config.autoscaling",
        reason="its trust and permissions are not read yet (left to the iam checks)",
    ),
    "AutoScaling": _c("config.autoscaling"),
}


def all_fields() -> dict[str, Coverage]:
    """Every entry, with full paths (groups' members under both group lists)."""
    out = dict(CLUSTER_FIELDS)
    for path, coverage in GROUP_FIELDS.items():
        member = path.split(".", 1)[0].split("[", 1)[0]
        if member not in RESTRICTED_ONLY:
            out[f"InstanceGroups[].{path}"] = coverage
        if member in RESTRICTED_GROUP_MEMBERS:
            out[f"RestrictedInstanceGroups[].{path}"] = coverage
    return out


def coverage_of(path: str, fields: dict[str, Coverage] | None = None) -> Coverage | None:
    """The entry that covers ``path``: its own, else its nearest listed ancestor's."""
    table = fields if fields is not None else all_fields()
    probe = path
    while True:
        if probe in table:
            return table[probe]
        cut = max(probe.rfind("."), probe.rfind("[]"))
        if cut <= 0:
            return None
        probe = probe[:cut]
