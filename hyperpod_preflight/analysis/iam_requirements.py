"""What SageMaker HyperPod needs from IAM, as data with sources.

Three principals are involved in creating a cluster:

- each instance group's **execution role** (trusted by ``sagemaker.amazonaws.com``): what the
  AWS managed policy ``AmazonSageMakerClusterInstanceRolePolicy`` grants (logs, metrics, SSM
  messages, S3 read of the lifecycle scripts), the EC2 network-interface actions when the cluster
  has a ``VpcConfig``, and the EKS extras for an EKS-orchestrated cluster;
- the optional **cluster role** (``ClusterRole``, trusted by
  ``hyperpod.sagemaker.amazonaws.com``) used by managed Karpenter autoscaling;
- the **caller** of ``CreateCluster``: ``sagemaker:CreateCluster``, ``iam:PassRole`` on every role
  in the config and, while it does not exist yet, ``iam:CreateServiceLinkedRole`` for
  ``AWSServiceRoleForSageMakerHyperPod``.

Each need is an ``ActionRequirement``: the action, a resource-ARN template, the request context
it carries (so conditions such as the managed policy's ``cloudwatch:namespace`` can be decided),
why it is needed and the AWS page that says so. ``RequirementTarget`` fills the templates in;
the result is a list of ``Requirement`` ready for ``iam_policy.evaluate_requests``.

Resources a request names before the cluster exists (the cluster id, a new network interface)
are written with a literal ``*``: only a grant covering every such id matches it, which is what
the real request will need. Where an action's resource is uncertain the more specific ARN is
used, so a grant of ``"*"`` or of the resource type both count (a FAIL must be provable).

Sources (all AWS documentation):
- managed policy: https://docs.aws.amazon.com/sagemaker/latest/dg/security-iam-awsmanpol-AmazonSageMakerClusterInstanceRolePolicy.html
- execution role, VPC and EKS needs: https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-prerequisites-iam.html
- cluster role for autoscaling: https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-eks-autoscaling-iam.html
- service-linked role: https://docs.aws.amazon.com/sagemaker/latest/dg/security-iam-awsmanpol-AmazonSageMakerHyperPodServiceRolePolicy.html
- passing a role: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from hyperpod_preflight.analysis.iam_policy import Request

__all__ = [
    "CALLER",
    "CLUSTER_ROLE",
    "CLUSTER_ROLE_TRUST",
    "EKS_EXTRAS",
    "EXECUTION_ROLE_TRUST",
    "LIFECYCLE_KMS",
    "LIFECYCLE_S3",
    "MANAGED_POLICY",
    "MANAGED_POLICY_NAME",
    "SERVICE_LINKED_ROLE",
    "SERVICE_LINKED_ROLE_CREATION",
    "VPC_ACCESS",
    "ActionRequirement",
    "Orchestrator",
    "Principal",
    "Requirement",
    "RequirementTarget",
    "TrustRequirement",
    "caller_requirements",
    "cluster_role_requirements",
    "execution_role_requirements",
    "managed_policy_arn",
    "managed_policy_document",
    "pairs",
    "requests",
    "service_linked_role_arn",
]

MANAGED_POLICY_NAME = "AmazonSageMakerClusterInstanceRolePolicy"
SERVICE_LINKED_ROLE = "AWSServiceRoleForSageMakerHyperPod"
SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
HYPERPOD_PRINCIPAL = "hyperpod.sagemaker.amazonaws.com"

_MANAGED_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/"
    "security-iam-awsmanpol-AmazonSageMakerClusterInstanceRolePolicy.html"
)
_PREREQ_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-prerequisites-iam.html"
)
_AUTOSCALING_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-eks-autoscaling-iam.html"
)
_SLR_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/"
    "security-iam-awsmanpol-AmazonSageMakerHyperPodServiceRolePolicy.html"
)
_PASSROLE_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"
_S3_KMS_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Principal(StrEnum):
    EXECUTION_ROLE = "execution role"
    CLUSTER_ROLE = "cluster role"
    CALLER = "caller"


class Orchestrator(StrEnum):
    SLURM = "slurm"
    EKS = "eks"


class ActionRequirement(_Frozen):
    """One action a principal needs, with a resource template such as
    ``arn:{partition}:s3:::{bucket}/{key}``. Fields: ``partition region account cluster bucket
    key kms_key_arn volume_kms_key_arn role_arn eks_cluster_arn``; ``{key}`` and ``{role_arn}``
    expand to one request per object key / role. A template naming a value the target lacks is
    skipped (no bucket: no S3 requests)."""

    group: str
    action: str
    resource: str
    why: str
    source: str
    context: tuple[tuple[str, str], ...] = ()


class TrustRequirement(_Frozen):
    """A role's trust policy must let ``service_principal`` call ``action`` on it."""

    principal: Principal
    service_principal: str
    action: str
    why: str
    source: str


class RequirementTarget(_Frozen):
    """The facts of one cluster config that the requirements depend on."""

    region: str
    account: str
    orchestrator: Orchestrator = Orchestrator.SLURM
    has_vpc: bool = False  # a VpcConfig (always true for EKS)
    partition: str = "aws"
    cluster_name: str | None = None  # None: any cluster (``*``)
    bucket: str | None = None  # the lifecycle scripts' bucket
    object_keys: tuple[str, ...] = ()  # every lifecycle object the nodes will read
    kms_key_arn: str | None = None  # the lifecycle bucket's SSE-KMS key, if any
    volume_kms_key_arn: str | None = None  # EBS volume key the cluster role must grant on
    eks_cluster_arn: str | None = None  # None: any EKS cluster of the account (``cluster/*``)
    role_arns: tuple[str, ...] = ()  # every role the config names (execution roles, ClusterRole)
    service_linked_role_exists: bool = False


class Requirement(_Frozen):
    """A concrete need: who must be allowed which action on which resource, and why."""

    principal: Principal
    group: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    why: str
    source: str

    @property
    def request(self) -> Request:
        return Request(action=self.action, resource=self.resource, context=self.context)


def _need(
    group: str,
    actions: Iterable[str],
    resource: str,
    why: str,
    source: str,
    context: Mapping[str, str] | None = None,
) -> tuple[ActionRequirement, ...]:
    return tuple(
        ActionRequirement(
            group=group,
            action=action,
            resource=resource,
            why=why,
            source=source,
            context=tuple((context or {}).items()),
        )
        for action in actions
    )


_CLUSTER_LOG_GROUP = (
    "arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/Clusters/{cluster}/*"
)

MANAGED_POLICY: tuple[ActionRequirement, ...] = (
    *_need(
        "managed-policy",
        ["logs:CreateLogGroup"],
        _CLUSTER_LOG_GROUP,
        "nodes create the cluster's log group under /aws/sagemaker/Clusters",
        _MANAGED_DOC,
    ),
    *_need(
        "managed-policy",
        ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        _CLUSTER_LOG_GROUP + ":log-stream:*",
        "nodes publish their logs (lifecycle scripts included) to CloudWatch Logs",
        _MANAGED_DOC,
    ),
    *_need(
        "managed-policy",
        ["cloudwatch:PutMetricData"],
        "*",
        "nodes publish metrics in the /aws/sagemaker/Clusters namespace",
        _MANAGED_DOC,
        {"cloudwatch:namespace": "/aws/sagemaker/Clusters"},
    ),
    *_need(
        "managed-policy",
        [
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ],
        "*",
        "SSM sessions to the nodes (aws ssm start-session, the HyperPod CLI)",
        _MANAGED_DOC,
    ),
)
"""The actions of ``AmazonSageMakerClusterInstanceRolePolicy`` other than its S3 read (which is
``LIFECYCLE_S3``, since it depends on the bucket): a role without the managed policy needs them
from its own policies."""

LIFECYCLE_S3: tuple[ActionRequirement, ...] = (
    *_need(
        "lifecycle-s3",
        ["s3:ListBucket"],
        "arn:{partition}:s3:::{bucket}",
        "nodes list the lifecycle scripts' prefix before downloading it",
        _PREREQ_DOC,
    ),
    *_need(
        "lifecycle-s3",
        ["s3:GetObject"],
        "arn:{partition}:s3:::{bucket}/{key}",
        "nodes download each lifecycle script; the managed policy covers only buckets named "
        "sagemaker-* in the role's own account",
        _PREREQ_DOC,
    ),
)

LIFECYCLE_KMS: tuple[ActionRequirement, ...] = _need(
    "lifecycle-kms",
    ["kms:Decrypt"],
    "{kms_key_arn}",
    "the lifecycle bucket encrypts objects with this KMS key: reading them needs kms:Decrypt",
    _S3_KMS_DOC,
    {"kms:ViaService": "s3.{region}.amazonaws.com"},
)

_ENI = "arn:{partition}:ec2:{region}:{account}:network-interface/*"
VPC_ACCESS: tuple[ActionRequirement, ...] = (
    *_need(
        "vpc",
        [
            "ec2:CreateNetworkInterface",
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission",
            "ec2:DetachNetworkInterface",
        ],
        _ENI,
        "HyperPod attaches the cluster's network interfaces in your subnets (VpcConfig)",
        _PREREQ_DOC,
    ),
    *_need(
        "vpc",
        [
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeVpcs",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
        ],
        "*",
        "HyperPod reads the VPC, subnets and security groups it places nodes in",
        _PREREQ_DOC,
    ),
    *_need(
        "vpc",
        ["ec2:CreateTags"],
        _ENI,
        "HyperPod tags the network interfaces it creates",
        _PREREQ_DOC,
    ),
)
"""The execution role's EC2 needs with a ``VpcConfig``; ``AmazonSageMakerClusterInstanceRolePolicy``
has no EC2 actions (the project's ``policies/execution-role-vpc.json`` grants these)."""

EKS_EXTRAS: tuple[ActionRequirement, ...] = (
    *_need(
        "eks",
        [
            "ec2:AssignPrivateIpAddresses",
            "ec2:ModifyNetworkInterfaceAttribute",
            "ec2:UnassignPrivateIpAddresses",
        ],
        _ENI,
        "the Amazon VPC CNI on each node manages pod IP addresses (AWS also asks for the "
        "managed policy AmazonEKS_CNI_Policy)",
        _PREREQ_DOC,
    ),
    *_need(
        "eks",
        [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetAuthorizationToken",
            "ecr:GetDownloadUrlForLayer",
        ],
        "*",
        "nodes pull container images (add-ons included) from Amazon ECR",
        _PREREQ_DOC,
    ),
    *_need(
        "eks",
        ["eks-auth:AssumeRoleForPodIdentity"],
        "{eks_cluster_arn}",
        "EKS Pod Identity hands pods their roles through the node's role",
        _PREREQ_DOC,
    ),
    *_need(
        "eks",
        ["cloudwatch:DescribeAlarms"],
        "arn:{partition}:cloudwatch:{region}:{account}:alarm:*",
        "HyperPod's health agents read CloudWatch alarms",
        _PREREQ_DOC,
    ),
)

CLUSTER_ROLE: tuple[ActionRequirement, ...] = (
    *_need(
        "autoscaling",
        ["sagemaker:BatchAddClusterNodes", "sagemaker:BatchDeleteClusterNodes"],
        "arn:{partition}:sagemaker:{region}:{account}:cluster/*",
        "managed Karpenter autoscaling adds and removes the cluster's nodes",
        _AUTOSCALING_DOC,
    ),
    *_need(
        "autoscaling-kms",
        ["kms:CreateGrant", "kms:DescribeKey"],
        "{volume_kms_key_arn}",
        "nodes added by autoscaling get EBS volumes encrypted with this key",
        _AUTOSCALING_DOC,
        {"kms:ViaService": "sagemaker.{region}.amazonaws.com"},
    ),
)
"""The ``ClusterRole`` (``AutoScaling`` with Karpenter, EKS clusters only)."""

CALLER: tuple[ActionRequirement, ...] = (
    *_need(
        "create-cluster",
        ["sagemaker:CreateCluster"],
        "arn:{partition}:sagemaker:{region}:{account}:cluster/*",
        "the call itself",
        _PREREQ_DOC,
    ),
    *_need(
        "pass-role",
        ["iam:PassRole"],
        "{role_arn}",
        "CreateCluster hands each role in the config to SageMaker",
        _PASSROLE_DOC,
        {"iam:PassedToService": SAGEMAKER_PRINCIPAL},
    ),
)

SERVICE_LINKED_ROLE_CREATION: tuple[ActionRequirement, ...] = _need(
    "service-linked-role",
    ["iam:CreateServiceLinkedRole"],
    "arn:{partition}:iam::{account}:role/aws-service-role/"
    f"{HYPERPOD_PRINCIPAL}/{SERVICE_LINKED_ROLE}",
    f"the first cluster in an account creates {SERVICE_LINKED_ROLE}; without this permission "
    f'creation fails with "Service role {SERVICE_LINKED_ROLE} could not be created"',
    _SLR_DOC,
    {"iam:AWSServiceName": HYPERPOD_PRINCIPAL},
)

EXECUTION_ROLE_TRUST = TrustRequirement(
    principal=Principal.EXECUTION_ROLE,
    service_principal=SAGEMAKER_PRINCIPAL,
    action="sts:AssumeRole",
    why="HyperPod's nodes run as the instance group's execution role",
    source=_PREREQ_DOC,
)
CLUSTER_ROLE_TRUST = TrustRequirement(
    principal=Principal.CLUSTER_ROLE,
    service_principal=HYPERPOD_PRINCIPAL,
    action="sts:AssumeRole",
    why="managed autoscaling assumes the ClusterRole",
    source=_AUTOSCALING_DOC,
)


# ---------------------------------------------------------------------------------------------


def managed_policy_arn(partition: str = "aws") -> str:
    return f"arn:{partition}:iam::aws:policy/{MANAGED_POLICY_NAME}"


def managed_policy_document(partition: str = "aws") -> dict[str, Any]:
    """``AmazonSageMakerClusterInstanceRolePolicy`` as AWS documents it (``_MANAGED_DOC``).

    A fallback for when the attached managed policy's current version cannot be read: prefer
    the document IAM returns (AWS may change the policy), and say when this copy was used.
    """

    def statement(sid: str, actions: list[str], resource: str, **extra: Any) -> dict[str, Any]:
        return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": [resource], **extra}

    logs = f"arn:{partition}:logs:*:*:log-group:/aws/sagemaker/Clusters/*"
    same_account = {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            statement(
                "CloudwatchLogStreamPublishPermissions",
                ["logs:PutLogEvents", "logs:CreateLogStream", "logs:DescribeLogStreams"],
                logs + ":log-stream:*",
            ),
            statement("CloudwatchLogGroupCreationPermissions", ["logs:CreateLogGroup"], logs),
            statement(
                "CloudwatchPutMetricDataAccess",
                ["cloudwatch:PutMetricData"],
                "*",
                Condition={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Clusters"}},
            ),
            statement(
                "DataRetrievalFromS3BucketPermissions",
                ["s3:ListBucket", "s3:GetObject"],
                f"arn:{partition}:s3:::sagemaker-*",
                Condition=same_account,
            ),
            statement(
                "SSMConnectivityPermissions",
                [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                "*",
            ),
        ],
    }


def service_linked_role_arn(account: str, partition: str = "aws") -> str:
    return (
        f"arn:{partition}:iam::{account}:role/aws-service-role/"
        f"{HYPERPOD_PRINCIPAL}/{SERVICE_LINKED_ROLE}"
    )


_FORMATTER = string.Formatter()


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in _FORMATTER.parse(template) if name}


def _build(
    principal: Principal, needs: Iterable[ActionRequirement], target: RequirementTarget
) -> list[Requirement]:
    values: dict[str, str | None] = {
        "partition": target.partition,
        "region": target.region,
        "account": target.account,
        "cluster": target.cluster_name or "*",
        "bucket": target.bucket,
        "kms_key_arn": target.kms_key_arn,
        "volume_kms_key_arn": target.volume_kms_key_arn,
        "eks_cluster_arn": target.eks_cluster_arn
        or f"arn:{target.partition}:eks:{target.region}:{target.account}:cluster/*",
    }
    out: list[Requirement] = []
    for need in needs:
        fields = _fields(need.resource)
        expansions: list[dict[str, str]] = [{}]
        if "key" in fields:
            expansions = [{"key": key.lstrip("/")} for key in target.object_keys]
        elif "role_arn" in fields:
            expansions = [{"role_arn": arn} for arn in dict.fromkeys(target.role_arns)]
        fixed = {k: v for k, v in values.items() if v is not None}
        if any(f not in fixed and f not in ("key", "role_arn") for f in fields):
            continue
        for extra in expansions:
            filled = {**fixed, **extra}
            out.append(
                Requirement(
                    principal=principal,
                    group=need.group,
                    action=need.action,
                    resource=need.resource.format(**filled),
                    context=tuple((k, v.format(**filled)) for k, v in need.context),
                    why=need.why,
                    source=need.source,
                )
            )
    return out


def execution_role_requirements(target: RequirementTarget) -> list[Requirement]:
    """What every execution role needs: the managed policy's actions, S3 (and KMS) read of the
    lifecycle objects, EC2 network interfaces with a VPC (EKS always has one), EKS extras."""
    needs: list[ActionRequirement] = [*MANAGED_POLICY, *LIFECYCLE_S3, *LIFECYCLE_KMS]
    eks = target.orchestrator is Orchestrator.EKS
    if target.has_vpc or eks:
        needs += VPC_ACCESS
    if eks:
        needs += EKS_EXTRAS
    return _build(Principal.EXECUTION_ROLE, needs, target)


def cluster_role_requirements(target: RequirementTarget) -> list[Requirement]:
    """What the ``ClusterRole`` needs when ``AutoScaling`` is configured."""
    return _build(Principal.CLUSTER_ROLE, CLUSTER_ROLE, target)


def caller_requirements(target: RequirementTarget) -> list[Requirement]:
    """What the identity calling ``CreateCluster`` needs."""
    needs = list(CALLER)
    if not target.service_linked_role_exists:
        needs += SERVICE_LINKED_ROLE_CREATION
    return _build(Principal.CALLER, needs, target)


def requests(requirements: Iterable[Requirement]) -> list[Request]:
    """The requests to hand to ``iam_policy.evaluate_requests`` (context included)."""
    return [r.request for r in requirements]


def pairs(requirements: Iterable[Requirement]) -> list[tuple[str, str]]:
    """(action, resource) pairs, without duplicates, in order."""
    return list(dict.fromkeys((r.action, r.resource) for r in requirements))
