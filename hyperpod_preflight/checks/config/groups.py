"""The instance groups as a whole: unique names, the Slurm controller group, and the
instance counts against the per-group maximum and the per-cluster quota."""

from __future__ import annotations

from collections import defaultdict

from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, skipped, warned
from ...sagemaker_model import shape_constraint
from ...spec import ClusterSpec
from ._common import no_groups

# "Maximum number instances allowed per SageMaker HyperPod cluster" (Service Quotas, sagemaker,
# code L-2CE978FC as reported). 20 is the value reported by third-party quota inventories; the
# AWS docs we could read do not state the default, so exceeding it is a WARN (the quotas checks
# read the applied value with AWS access), never a FAIL.
REPORTED_DEFAULT_MAX_INSTANCES_PER_CLUSTER = 20
PER_CLUSTER_QUOTA_NAME = "Maximum number instances allowed per SageMaker HyperPod cluster"
PER_CLUSTER_QUOTA_CODE = "L-2CE978FC"


# -- config.unique-group-names ------------------------------------------------------------------
@check(
    "config.unique-group-names",
    "Instance group names are unique",
    Severity.CRITICAL,
    needs_aws=False,
)
def check_unique_group_names(ctx: CheckContext) -> list[Outcome]:
    """Instance group names are unique across all groups of the config."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return no_groups()
    paths: dict[str, list[str]] = defaultdict(list)
    for group in spec.instance_groups:
        paths[group.name].append(group.json_path or group.name)
    outcomes = []
    for name, where in paths.items():
        if len(where) == 1:
            outcomes.append(passed(name, f"group name {name!r} is used once ({where[0]})"))
            continue
        outcomes.append(
            failed(
                name,
                f"group name {name!r} is used by {len(where)} groups: {', '.join(where)}",
                f"Rename {where[1]}.InstanceGroupName (and any later duplicate) to a name no "
                "other group uses; names are unique across InstanceGroups and "
                "RestrictedInstanceGroups.",
                paths=where,
            )
        )
    return outcomes


# -- config.controller-group --------------------------------------------------------------------
@check(
    "config.controller-group",
    "Slurm node types: exactly one Controller group, with one instance",
    Severity.CRITICAL,
    needs_aws=False,
)
def check_controller_group(ctx: CheckContext) -> list[Outcome]:
    """A Slurm config has exactly one Controller group, of one instance."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return no_groups()
    if spec.orchestrator != "slurm":
        return [skipped("cluster", "EKS-orchestrated cluster: no Slurm controller")]
    groups = [g for g in spec.instance_groups if not g.restricted]
    if not any(g.slurm_node_type for g in groups):
        return [
            skipped(
                "cluster",
                "no group uses SlurmConfig: the controller is named in "
                "provisioning_parameters.json (the lifecycle checks read it)",
            )
        ]
    outcomes: list[Outcome] = []
    controllers = [g for g in groups if g.slurm_node_type == "Controller"]
    if not controllers:
        outcomes.append(
            failed(
                "cluster",
                "groups use SlurmConfig but none has NodeType Controller",
                'Set InstanceGroups[i].SlurmConfig.NodeType to "Controller" on one group '
                "with InstanceCount 1 (e.g. an ml.m5.12xlarge group).",
            )
        )
    elif len(controllers) > 1:
        names = ", ".join(g.name for g in controllers)
        for extra in controllers[1:]:
            outcomes.append(
                failed(
                    extra.name,
                    f"{len(controllers)} groups have NodeType Controller ({names}); Slurm has one",
                    f'Set {extra.json_path}.SlurmConfig.NodeType to "Compute" or "Login", '
                    f"keeping {controllers[0].name} as the controller.",
                )
            )
    controller = controllers[0] if controllers else None
    if controller is not None:
        if controller.count != 1:
            outcomes.append(
                failed(
                    controller.name,
                    f"the Controller group has InstanceCount {controller.count}; it must be 1",
                    f"Set {controller.json_path}.InstanceCount to 1.",
                )
            )
        elif len(controllers) == 1:
            outcomes.append(passed(controller.name, "the one Controller group, with 1 instance"))
    for group in groups:
        if not group.slurm_node_type:
            outcomes.append(
                warned(
                    group.name,
                    "no SlurmConfig while other groups have one: its Slurm role is undefined",
                    f'Add {group.json_path}.SlurmConfig = {{"NodeType": "Compute"}} (or "Login").',
                )
            )
    return outcomes


# -- config.instance-count-limit ----------------------------------------------------------------
@check(
    "config.instance-count-limit",
    "Instance counts are within the per-cluster limits",
    Severity.HIGH,
    needs_aws=False,
)
def check_instance_count_limit(ctx: CheckContext) -> list[Outcome]:
    """Instance counts stay within the per-cluster limit (WARN; quotas confirm it)."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return no_groups()
    model_max = shape_constraint("ClusterInstanceCount", "max")
    outcomes: list[Outcome] = []
    for group in spec.instance_groups:
        if model_max is not None and group.count > model_max:
            outcomes.append(
                failed(
                    group.name,
                    f"InstanceCount {group.count} is above the maximum {model_max} per group",
                    f"Set {group.json_path}.InstanceCount to at most {model_max}, or split the "
                    "group.",
                )
            )
    total = sum(g.count for g in spec.instance_groups)
    default = REPORTED_DEFAULT_MAX_INSTANCES_PER_CLUSTER
    if total > default:
        outcomes.append(
            warned(
                "cluster",
                f"{total} instances in one cluster: above {default}, the reported default of "
                f"the quota '{PER_CLUSTER_QUOTA_NAME}' (unconfirmed; the quotas checks read the "
                "applied value with AWS access)",
                "Check the applied value and ask for at least "
                f"{total}: aws service-quotas request-service-quota-increase --service-code "
                f"sagemaker --quota-code {PER_CLUSTER_QUOTA_CODE} --desired-value {total}",
                total=total,
                reported_default=default,
            )
        )
    else:
        outcomes.append(
            passed(
                "cluster",
                f"{total} instances in one cluster: not above the reported default of the "
                f"quota '{PER_CLUSTER_QUOTA_NAME}' ({default}); its applied value is judged by "
                "quotas.instances-per-cluster",
                total=total,
            )
        )
    return outcomes
