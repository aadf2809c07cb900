"""Config checks: what can be judged from the cluster config alone, without AWS access.

Each check returns one outcome per resource it judges (an instance group, an ARN, a bucket);
every FAIL and WARN names the JSON path to change. A spec built from flags may leave things
out on purpose (``--vpc`` alone has no groups): what is not given is SKIPped, not failed.
"""

from __future__ import annotations

from collections import defaultdict

from ..analysis.iam_roles import caller_principal, config_roles, evaluate_role, role_needs
from ..catalog import InstanceTypeInfo, lookup
from ..errors import FactUnavailable
from ..models import Outcome, Severity, failed, passed, skipped, unknown, warned
from ..planner import ClusterPlan
from ..registry import CheckContext, check
from ..spec import (
    EKS_CLUSTER_ARN_RE,
    ROLE_ARN_RE,
    S3_URI_RE,
    ClusterSpec,
    InstanceGroup,
    botocore_version,
    config_problems,
    format_problems,
    sagemaker_service_model,
)
from . import _needs

# "Maximum number instances allowed per SageMaker HyperPod cluster" (Service Quotas, sagemaker,
# code L-2CE978FC as reported). 20 is the value reported by third-party quota inventories; the
# AWS docs we could read do not state the default, so exceeding it is a WARN (the quotas checks
# read the applied value with AWS access), never a FAIL.
REPORTED_DEFAULT_MAX_INSTANCES_PER_CLUSTER = 20
PER_CLUSTER_QUOTA_NAME = "Maximum number instances allowed per SageMaker HyperPod cluster"
PER_CLUSTER_QUOTA_CODE = "L-2CE978FC"
MANAGED_POLICY = "AmazonSageMakerClusterInstanceRolePolicy"
EXAMPLE_LIFECYCLE = (
    '{"SourceS3Uri": "s3://sagemaker-<bucket>/lifecycle/", "OnCreate": "on_create.sh"}'
)


def _no_groups() -> list[Outcome]:
    return [
        skipped(
            "InstanceGroups",
            "no instance groups given (only --vpc or network flags): nothing to check here; "
            "add --instance-group NAME=ml.TYPE:COUNT or use --config",
        )
    ]


def _from_flags(spec: ClusterSpec) -> bool:
    return spec.source == "flags"


def _info(plan: ClusterPlan, ec2_type: str) -> InstanceTypeInfo | None:
    return plan.type_info.get(ec2_type) or lookup(ec2_type)


def _partition(arn: str | None) -> str | None:
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 2)
    return parts[1] if len(parts) > 2 else None


# -- config.schema ------------------------------------------------------------------------------
@check(
    "config.schema",
    "Config is valid against botocore's CreateCluster model",
    Severity.CRITICAL,
    needs_aws=False,
)
def check_schema(ctx: CheckContext) -> list[Outcome]:
    """The config passes botocore's CreateCluster model, patterns, enums and maximums included."""
    spec: ClusterSpec = ctx.spec
    version = botocore_version()
    if _from_flags(spec):
        return [skipped("config", "built from command-line flags: no config file to validate")]
    resource = spec.source or "config"
    problems, notices = config_problems(spec.raw)
    outcomes: list[Outcome] = []
    if problems:
        outcomes.append(
            failed(
                resource,
                format_problems(f"invalid against botocore {version}'s CreateCluster", problems),
                "Correct the config at each JSON path named; `aws sagemaker create-cluster "
                "--generate-cli-skeleton input` shows the expected shape.",
                problems=[str(p) for p in problems],
                botocore_version=version,
            )
        )
    else:
        outcomes.append(
            passed(
                resource,
                f"valid against the CreateCluster input model of botocore {version} "
                "(types, required and unknown keys, lengths, ranges, enums, patterns)",
                botocore_version=version,
            )
        )
    for notice in notices:
        outcomes.append(
            warned(
                "ClusterName",
                notice,
                'Add "ClusterName": "<name>" to the config, or pass --cluster-name to '
                "aws sagemaker create-cluster.",
                severity=Severity.LOW,
            )
        )
    return outcomes


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
        return _no_groups()
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


# -- config.lifecycle-config --------------------------------------------------------------------
@check(
    "config.lifecycle-config",
    "Every instance group has a lifecycle config (s3:// SourceS3Uri and OnCreate)",
    Severity.CRITICAL,
    needs_aws=False,
)
def check_lifecycle_config(ctx: CheckContext) -> list[Outcome]:
    """Every group names an s3:// SourceS3Uri and an entry script (WARN without)."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return _no_groups()
    return [_lifecycle_outcome(spec, group) for group in spec.instance_groups]


def _lifecycle_outcome(spec: ClusterSpec, group: InstanceGroup) -> Outcome:
    # The API reference (API_ClusterLifeCycleConfig) asks for an S3 path starting with
    # s3://sagemaker-; the bucket name itself is judged by config.lifecycle-bucket-name.
    path = f"{group.json_path}.LifeCycleConfig"
    uri = group.lifecycle_source_s3_uri
    scripts = [s for s in (group.lifecycle_on_create, group.lifecycle_on_init_complete) if s]
    if group.restricted:
        return skipped(group.name, "restricted instance groups take no LifeCycleConfig")
    if uri is None and not scripts:
        if _from_flags(spec):
            return skipped(group.name, "no --lifecycle-uri given")
        return warned(
            group.name,
            "no LifeCycleConfig: no lifecycle script runs on these nodes"
            + (" (nothing sets up Slurm on them)" if spec.orchestrator == "slurm" else ""),
            f"Add {path} = {EXAMPLE_LIFECYCLE}.",
            severity=Severity.HIGH,
        )
    if uri is None:
        return failed(
            group.name,
            f"LifeCycleConfig names {scripts[0]!r} but no SourceS3Uri to fetch it from",
            f'Add {path}.SourceS3Uri, e.g. "s3://sagemaker-<bucket>/lifecycle/".',
        )
    if not S3_URI_RE.fullmatch(uri):
        return failed(
            group.name,
            f"SourceS3Uri {uri!r} is not an s3://bucket/prefix URI",
            f"Set {path}.SourceS3Uri to the S3 prefix holding the scripts, e.g. "
            '"s3://sagemaker-<bucket>/lifecycle/".',
        )
    if not scripts:
        if _from_flags(spec):
            return passed(group.name, f"SourceS3Uri {uri} is well-formed (no OnCreate with flags)")
        return failed(
            group.name,
            f"LifeCycleConfig has SourceS3Uri {uri} but names no script (OnCreate)",
            f'Add {path}.OnCreate naming the script under that prefix, e.g. "on_create.sh".',
        )
    for script in scripts:
        if "://" in script:
            return failed(
                group.name,
                f"script {script!r} is a URI; it must be a file name under SourceS3Uri",
                f"Set {path}.OnCreate to the script's name relative to {uri}, "
                'e.g. "on_create.sh".',
            )
        if script.startswith("/") or script != script.strip():
            return warned(
                group.name,
                f"script {script!r} is not a plain relative file name",
                f"Set {path}.OnCreate to the script's name relative to {uri}, "
                'e.g. "on_create.sh".',
            )
    return passed(
        group.name,
        f"LifeCycleConfig is well-formed: {', '.join(scripts)} under {uri} (the config only: "
        "whether the objects exist is read by the S3 and lifecycle checks, not here)",
    )


# -- config.execution-role-arn ------------------------------------------------------------------
@check(
    "config.execution-role-arn",
    "Execution roles are IAM role ARNs of the cluster's partition",
    Severity.CRITICAL,
    needs_aws=False,
)
def check_execution_role_arn(ctx: CheckContext) -> list[Outcome]:
    """Every ExecutionRole is an IAM role ARN in the cluster's partition."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return _no_groups()
    well_formed = [
        g.execution_role
        for g in spec.instance_groups
        if g.execution_role and ROLE_ARN_RE.fullmatch(g.execution_role)
    ]
    reference = _partition(spec.eks_cluster_arn) or (
        _partition(well_formed[0]) if well_formed else None
    )
    reference_of = "the EKS cluster ARN" if _partition(spec.eks_cluster_arn) else "the first role"
    outcomes: list[Outcome] = []
    by_role: dict[str, list[InstanceGroup]] = defaultdict(list)
    for group in spec.instance_groups:
        if group.execution_role is None:
            if _from_flags(spec):
                outcomes.append(skipped(group.name, "no --execution-role given"))
            else:
                outcomes.append(
                    failed(
                        group.name,
                        "no ExecutionRole",
                        f"Set {group.json_path}.ExecutionRole to the role ARN the nodes assume, "
                        'e.g. "arn:aws:iam::123456789012:role/sagemaker-hyperpod-exec".',
                    )
                )
            continue
        by_role[group.execution_role].append(group)
    for role, groups in by_role.items():
        paths = ", ".join(f"{g.json_path}.ExecutionRole" for g in groups)
        match = ROLE_ARN_RE.fullmatch(role)
        if not match:
            outcomes.append(
                failed(
                    role,
                    f"{role!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                    f"Set {paths} to the role's ARN as `aws iam get-role --role-name NAME "
                    "--query Role.Arn` prints it.",
                )
            )
        elif reference and match["partition"] != reference:
            outcomes.append(
                failed(
                    role,
                    f"role is in partition {match['partition']} but {reference_of} is in "
                    f"{reference}",
                    f"Use a role of partition {reference} in {paths}.",
                )
            )
        else:
            outcomes.append(
                passed(
                    role,
                    f"a well-formed role ARN: role {match['name']} in account "
                    f"{match['account']} (used by {', '.join(g.name for g in groups)}; whether it "
                    "exists and what it may do is read by the iam checks, not here)",
                )
            )
    return outcomes


# -- config.eks-vpc-config ----------------------------------------------------------------------
@check(
    "config.eks-vpc-config",
    "EKS-orchestrated clusters have a VpcConfig and a well-formed EKS cluster ARN",
    Severity.CRITICAL,
    needs_aws=False,
)
def check_eks_vpc_config(ctx: CheckContext) -> list[Outcome]:
    """An EKS config has a VpcConfig and a well-formed EKS cluster ARN."""
    spec: ClusterSpec = ctx.spec
    if spec.orchestrator != "eks":
        return [skipped("Orchestrator", "Slurm-orchestrated cluster: VpcConfig is optional")]
    outcomes: list[Outcome] = []
    arn = spec.eks_cluster_arn
    if arn is None:
        if _from_flags(spec):
            outcomes.append(skipped("Orchestrator.Eks.ClusterArn", "no --eks-cluster-arn given"))
        else:
            outcomes.append(
                failed(
                    "Orchestrator.Eks.ClusterArn",
                    "EKS orchestrator without a cluster ARN",
                    'Set Orchestrator.Eks.ClusterArn to "arn:aws:eks:REGION:ACCOUNT:cluster/NAME" '
                    "(aws eks describe-cluster --name NAME --query cluster.arn).",
                )
            )
    else:
        match = EKS_CLUSTER_ARN_RE.fullmatch(arn)
        if match:
            outcomes.append(
                passed(
                    arn,
                    f"EKS cluster {match['name']} in {match['region']}, account {match['account']}",
                    region=match["region"],
                )
            )
        else:
            outcomes.append(
                failed(
                    arn,
                    f"{arn!r} is not an EKS cluster ARN",
                    'Set Orchestrator.Eks.ClusterArn to "arn:aws:eks:REGION:ACCOUNT:cluster/NAME" '
                    "(aws eks describe-cluster --name NAME --query cluster.arn).",
                )
            )
    vpc = spec.vpc_config
    if vpc is None or not vpc.subnets:
        if _from_flags(spec) and vpc is None:
            outcomes.append(skipped("VpcConfig", "no --subnet / --security-group given"))
        else:
            outcomes.append(
                failed(
                    "VpcConfig",
                    "an EKS-orchestrated cluster needs VpcConfig (it cannot be added later)",
                    'Add "VpcConfig": {"SecurityGroupIds": ["sg-..."], "Subnets": '
                    '["subnet-..."]} with private subnets of the EKS cluster\'s VPC.',
                )
            )
    elif not vpc.security_group_ids:
        outcomes.append(
            failed(
                "VpcConfig",
                "VpcConfig has subnets but no security group",
                'Add VpcConfig.SecurityGroupIds, e.g. ["sg-..."] (a group allowing all traffic '
                "to and from itself).",
            )
        )
    else:
        outcomes.append(
            passed(
                "VpcConfig",
                f"{len(vpc.subnets)} subnet(s) and {len(vpc.security_group_ids)} security group(s)",
            )
        )
    return outcomes


# -- config.threads-per-core --------------------------------------------------------------------
@check(
    "config.threads-per-core",
    "ThreadsPerCore is valid for the instance type",
    Severity.HIGH,
    needs_aws=False,
)
def check_threads_per_core(ctx: CheckContext) -> list[Outcome]:
    """ThreadsPerCore is valid for the group's instance type."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return _no_groups()
    plan = ctx.plan
    outcomes = []
    for group in spec.instance_groups:
        threads = group.threads_per_core
        if threads is None:
            outcomes.append(passed(group.name, "ThreadsPerCore not set: the type's default"))
            continue
        path = f"{group.json_path}.ThreadsPerCore"
        verdict: Outcome = passed(group.name, f"ThreadsPerCore {threads} is valid")
        for ec2_type in group.ec2_types:
            info = _info(plan, ec2_type)
            if info is None:
                verdict = unknown(
                    group.name,
                    f"ml.{ec2_type} is not sized offline: cannot tell which ThreadsPerCore it "
                    "supports",
                    "Run with AWS credentials so ec2:DescribeInstanceTypes tells.",
                )
                break
            valid = info.valid_threads_per_core
            if valid and threads not in valid:
                verdict = failed(
                    group.name,
                    f"ml.{ec2_type} supports ThreadsPerCore {', '.join(map(str, valid))}, "
                    f"not {threads}",
                    f"Set {path} to {valid[0]}, or remove it.",
                    valid=list(valid),
                )
                break
            if not valid and threads != info.default_threads_per_core:
                verdict = warned(
                    group.name,
                    f"ml.{ec2_type} does not let its CPU options change (EC2 lists no valid "
                    f"threads per core); ThreadsPerCore {threads} may be refused",
                    f"Remove {path}: the type runs {info.default_threads_per_core} thread(s) "
                    "per core.",
                )
        outcomes.append(verdict)
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
        return _no_groups()
    model_max = sagemaker_service_model().shape_for("ClusterInstanceCount").metadata.get("max")
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
                f"{total} instances: within the reported default per-cluster maximum ({default})",
                total=total,
            )
        )
    return outcomes


# -- config.lifecycle-bucket-name ---------------------------------------------------------------
@check(
    "config.lifecycle-bucket-name",
    "Lifecycle bucket is named sagemaker-* (readable under the managed policy)",
    Severity.MEDIUM,
    needs_aws=False,
    needs=_needs.execution_role_policies,
)
def check_lifecycle_bucket_name(ctx: CheckContext) -> list[Outcome]:
    """The lifecycle bucket is named sagemaker-*, or IAM shows the roles' own read grant."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return _no_groups()
    buckets: dict[str, list[InstanceGroup]] = defaultdict(list)
    for group in spec.instance_groups:
        match = S3_URI_RE.fullmatch(group.lifecycle_source_s3_uri or "")
        if match:
            buckets[match["bucket"]].append(group)
    if not buckets:
        return [skipped("LifeCycleConfig", "no s3:// lifecycle URI given")]
    outcomes = []
    for bucket, groups in buckets.items():
        if bucket.startswith("sagemaker-"):
            outcomes.append(
                passed(
                    bucket,
                    f"bucket name matches arn:aws:s3:::sagemaker-*, the S3 read grant of "
                    f"{MANAGED_POLICY} (the name only: the bucket is not read here)",
                )
            )
            continue
        readers = _roles_proven_to_read(ctx, bucket, groups)
        if readers:
            outcomes.append(
                passed(
                    bucket,
                    f"bucket {bucket!r} is not named sagemaker-*, so {MANAGED_POLICY} does not "
                    f"cover it, but the policies IAM returned for {', '.join(readers)} allow "
                    "s3:ListBucket on it and s3:GetObject on every lifecycle object (judged as "
                    "a bucket of the role's own account; the bucket policy is not read here)",
                    roles=readers,
                )
            )
            continue
        paths = ", ".join(f"{g.json_path}.LifeCycleConfig.SourceS3Uri" for g in groups)
        how = (
            "run with AWS access so iam.execution-role-permissions reads the role's policies"
            if ctx.offline
            else "the roles' own policies did not prove it here: see iam.execution-role-permissions"
        )
        outcomes.append(
            warned(
                bucket,
                f"bucket {bucket!r} is not named sagemaker-*: {MANAGED_POLICY} grants S3 read "
                "only on arn:aws:s3:::sagemaker-*, so each execution role needs a grant of its "
                f"own ({how})",
                f"Copy the scripts to a bucket named sagemaker-<name> and point {paths} at it, "
                f"or allow s3:ListBucket on arn:aws:s3:::{bucket} and s3:GetObject on "
                f"arn:aws:s3:::{bucket}/* in the execution role's policy.",
                groups=[g.name for g in groups],
            )
        )
    return outcomes


def _roles_proven_to_read(
    ctx: CheckContext, bucket: str, groups: list[InstanceGroup]
) -> list[str] | None:
    """With AWS access: the execution roles of ``groups``, when the policies IAM returns
    for each allow ``s3:ListBucket`` on ``bucket`` and ``s3:GetObject`` on every lifecycle
    object the config names in it; None offline or when any of that is not proven."""
    if ctx.offline:
        return None
    used = {g.execution_role for g in groups}
    roles = [r for r in config_roles(ctx.spec) if r.kind == "ExecutionRole" and r.arn in used]
    if not roles or len(roles) != len(used):  # a group without a (well-formed) role
        return None
    try:
        account = ctx.aws.account or caller_principal(ctx.aws.identity_arn()).account
        for role in roles:
            policies = ctx.aws.role_policies(role.name) if role.account == account else None
            if policies is None:
                return None
            arn = f"arn:{role.partition}:s3:::{bucket}"
            needs = [
                r
                for r in role_needs(ctx.spec, role, ctx.aws.region)
                if r.group == "lifecycle-s3"
                and (r.resource == arn or r.resource.startswith(f"{arn}/"))
            ]
            if not needs or not all(d.allowed for d in evaluate_role(role, policies, needs)):
                return None
    except FactUnavailable:
        return None
    return [r.name for r in roles]


# -- config.efa-single-subnet-az ----------------------------------------------------------------
@check(
    "config.efa-single-subnet-az",
    "EFA instance groups are not spread over several subnets",
    Severity.HIGH,
    needs_aws=False,
)
def check_efa_single_subnet_az(ctx: CheckContext) -> list[Outcome]:
    """A group of an EFA type lists one subnet, so its nodes stay in one AZ."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return _no_groups()
    plan = ctx.plan
    outcomes: list[Outcome] = []
    for group in spec.instance_groups:
        vpc = spec.vpc_for(group)
        subnets = vpc.subnets if vpc else ()
        if not subnets:
            outcomes.append(skipped(group.name, "no subnets configured for this group"))
            continue
        if len(subnets) == 1:
            outcomes.append(passed(group.name, f"one subnet ({subnets[0]})"))
            continue
        infos = [_info(plan, t) for t in group.ec2_types]
        if not infos or any(i is None for i in infos):
            outcomes.append(
                unknown(
                    group.name,
                    f"{len(subnets)} subnets, and the type is not sized offline: cannot tell "
                    "whether it uses EFA",
                    "Run with AWS credentials so ec2:DescribeInstanceTypes tells.",
                )
            )
            continue
        if not any(i.efa_supported for i in infos if i is not None):
            outcomes.append(skipped(group.name, "the instance type has no EFA"))
            continue
        if group.count <= 1:
            outcomes.append(passed(group.name, "at most one node: EFA spans no zones"))
            continue
        where = (
            f"{group.json_path}.OverrideVpcConfig.Subnets" if group.override_vpc else
            "VpcConfig.Subnets"
        )  # fmt: skip
        outcomes.append(
            warned(
                group.name,
                f"EFA group of {group.count} nodes over {len(subnets)} subnets: all its nodes "
                "must be in one Availability Zone (EFA traffic does not cross zones); the "
                "network checks verify the subnets' zones",
                f"List subnets of one Availability Zone only in {where} (e.g. only "
                f"{subnets[0]}), or give the group an OverrideVpcConfig with one subnet.",
                subnets=list(subnets),
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
        return _no_groups()
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


# -- config.instance-types-sized ----------------------------------------------------------------
@check(
    "config.instance-types-sized",
    "Instance types can be sized (IPs, ENIs, EFA)",
    Severity.LOW,
    needs_aws=False,
)
def check_instance_types_sized(ctx: CheckContext) -> list[Outcome]:
    """Every instance type can be sized from EC2 or the catalog (IPs, ENIs, EFA)."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return _no_groups()
    plan = ctx.plan
    users: dict[str, list[str]] = defaultdict(list)
    for group in spec.instance_groups:
        for ec2_type in group.ec2_types:
            users[ec2_type].append(group.name)
    outcomes = []
    for ec2_type, groups in users.items():
        info = plan.type_info.get(ec2_type)
        if info is not None:
            outcomes.append(passed(f"ml.{ec2_type}", f"sized from {info.source}"))
            continue
        outcomes.append(
            warned(
                f"ml.{ec2_type}",
                f"ml.{ec2_type} cannot be sized offline (not in the built-in catalog): IPs per "
                f"node, ENIs and EFA of {', '.join(dict.fromkeys(groups))} are unknown",
                "Run without --offline, with AWS credentials allowing "
                "ec2:DescribeInstanceTypes, so its figures come from EC2.",
            )
        )
    return outcomes
