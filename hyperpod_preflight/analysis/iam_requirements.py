"""What SageMaker HyperPod needs from IAM, as data with sources.

Three principals are involved in creating a cluster:

- each instance group's **execution role** (trusted by ``sagemaker.amazonaws.com``): what the
  AWS managed policy ``AmazonSageMakerClusterInstanceRolePolicy`` grants (logs, metrics, SSM
  messages, S3 read of the lifecycle scripts), and either the EC2 network-interface actions of
  a Slurm cluster with a ``VpcConfig`` or the permission policy of an EKS-orchestrated one;
- the optional **cluster role** (``ClusterRole``, trusted by
  ``hyperpod.sagemaker.amazonaws.com``) used by managed Karpenter autoscaling;
- the **caller** of ``CreateCluster``: ``sagemaker:CreateCluster``, ``iam:PassRole`` on every role
  in the config and, while it does not exist yet, ``iam:CreateServiceLinkedRole`` for
  ``AWSServiceRoleForSageMakerHyperPod``.

Each need is an ``ActionRequirement``: the action, a resource-ARN template, the request context
it carries (so conditions such as the managed policy's ``cloudwatch:namespace`` can be decided),
why it is needed, the AWS page that says so and that page's own words (``quote``). What a page
makes optional, or ties to one feature, has ``required=False``: lacking it is a WARN, never a
FAIL. Tables are checked against the pages by tests that build each documented role.
``RequirementTarget`` fills the templates in; the result is a list of ``Requirement`` ready
for ``iam_policy.evaluate_requests``.

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
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hyperpod_preflight.analysis.iam_policy import Request

__all__ = [
    "CALLER",
    "CLUSTER_ROLE",
    "CLUSTER_ROLE_TRUST",
    "EKS_EXTRAS",
    "EKS_POLICY",
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
_S3_KMS_DOC = "https://repost.aws/knowledge-center/decrypt-kms-encrypted-objects-s3"
_PASSROLE_QUOTE = (
    '"To pass a role (and its permissions) to an AWS service, a user must have permissions to '
    'pass the role to the service."'
)


class Principal(StrEnum):
    EXECUTION_ROLE = "execution role"
    CLUSTER_ROLE = "cluster role"
    CALLER = "caller"


class Orchestrator(StrEnum):
    SLURM = "slurm"
    EKS = "eks"


@dataclass(frozen=True, kw_only=True)
class ActionRequirement:
    """One action a principal needs, with a resource template such as
    ``arn:{partition}:s3:::{bucket}/{key}``. Fields: ``partition region account cluster bucket
    key kms_key_arn volume_kms_key_arn role_arn eks_cluster_arn``; ``{key}`` and ``{role_arn}``
    expand to one request per object key / role. A template naming a value the target lacks is
    skipped (no bucket: no S3 requests).

    ``source`` is the AWS page the need comes from and ``quote`` that page's own words (or its
    policy's data) saying so. ``required`` False: the page makes it optional or ties it to one
    feature, so lacking it is a WARN, never a FAIL."""

    group: str
    action: str
    resource: str
    why: str
    source: str
    quote: str
    required: bool = True
    context: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class TrustRequirement:
    """A role's trust policy must let ``service_principal`` call ``action`` on it."""

    principal: Principal
    service_principal: str
    action: str
    why: str
    source: str
    quote: str


@dataclass(frozen=True, kw_only=True)
class RequirementTarget:
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
    role_arns: tuple[str, ...] = ()  # every execution role the config names
    cluster_role_arn: str | None = None  # the config's ClusterRole, if any
    service_linked_role_exists: bool = False


@dataclass(frozen=True, kw_only=True)
class Requirement:
    """A concrete need: who must be allowed which action on which resource, and why (with
    the page and its words); ``required`` False: a WARN when lacking, not a FAIL."""

    principal: Principal
    group: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    why: str
    source: str
    quote: str = ""
    required: bool = True

    @property
    def request(self) -> Request:
        return Request(action=self.action, resource=self.resource, context=self.context)


@dataclass(frozen=True)
class _Page:
    """Where a group of needs comes from: the page, its words, required or not."""

    source: str
    quote: str
    required: bool = True


def _need(
    group: str,
    actions: Iterable[str],
    resource: str,
    why: str,
    page: _Page,
    context: Mapping[str, str] | None = None,
) -> tuple[ActionRequirement, ...]:
    return tuple(
        ActionRequirement(
            group=group,
            action=action,
            resource=resource,
            why=why,
            source=page.source,
            quote=page.quote,
            required=page.required,
            context=tuple((context or {}).items()),
        )
        for action in actions
    )


# -- AmazonSageMakerClusterInstanceRolePolicy (every execution role) ----------------------------
_MANAGED_PAGE = _Page(
    _MANAGED_DOC,
    "For HyperPod orchestrated with Slurm [or Amazon EKS], you must attach the following "
    f"managed policy to the SageMaker HyperPod IAM role: {MANAGED_POLICY_NAME} "
    f"({_PREREQ_DOC}); the policy's statements are the data of this requirement",
)
_CLUSTER_LOG_GROUP = (
    "arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/Clusters/{cluster}/*"
)

MANAGED_POLICY: tuple[ActionRequirement, ...] = (
    *_need(
        "managed-policy",
        ["logs:CreateLogGroup"],
        _CLUSTER_LOG_GROUP,
        "nodes create the cluster's log group under /aws/sagemaker/Clusters "
        "(Sid CloudwatchLogGroupCreationPermissions)",
        _MANAGED_PAGE,
    ),
    *_need(
        "managed-policy",
        ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        _CLUSTER_LOG_GROUP + ":log-stream:*",
        "nodes publish their logs (lifecycle scripts included) to CloudWatch Logs "
        "(Sid CloudwatchLogStreamPublishPermissions)",
        _MANAGED_PAGE,
    ),
    *_need(
        "managed-policy",
        ["cloudwatch:PutMetricData"],
        "*",
        "nodes publish metrics in the /aws/sagemaker/Clusters namespace "
        "(Sid CloudwatchPutMetricDataAccess)",
        _MANAGED_PAGE,
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
        "SSM sessions to the nodes (Sid SSMConnectivityPermissions)",
        _MANAGED_PAGE,
    ),
)
"""The actions of ``AmazonSageMakerClusterInstanceRolePolicy`` other than its S3 read (which is
``LIFECYCLE_S3``, since it depends on the bucket): a role without the managed policy needs them
from its own policies."""

_S3_PAGE = _Page(
    _MANAGED_DOC,
    '"s3 – Allows principals to list and retrieve lifecycle script files from an Amazon S3 '
    "bucket in your account. These buckets are limited to those whose name starts with "
    '"sagemaker-"." (Sid DataRetrievalFromS3BucketPermissions: s3:ListBucket, s3:GetObject)',
)
LIFECYCLE_S3: tuple[ActionRequirement, ...] = (
    *_need(
        "lifecycle-s3",
        ["s3:ListBucket"],
        "arn:{partition}:s3:::{bucket}",
        "nodes list the lifecycle scripts' prefix before downloading it",
        _S3_PAGE,
    ),
    *_need(
        "lifecycle-s3",
        ["s3:GetObject"],
        "arn:{partition}:s3:::{bucket}/{key}",
        "nodes download each lifecycle script; the managed policy covers only buckets named "
        "sagemaker-* in the role's own account",
        _S3_PAGE,
    ),
)

LIFECYCLE_KMS: tuple[ActionRequirement, ...] = _need(
    "lifecycle-kms",
    ["kms:Decrypt"],
    "{kms_key_arn}",
    "the lifecycle bucket encrypts objects with this KMS key: reading them needs kms:Decrypt",
    _Page(
        _S3_KMS_DOC,
        "\"You don't need to specify the AWS KMS key ID when you download an SSE-KMS-encrypted "
        'object from an S3 bucket. Instead, you need the permission to decrypt the AWS KMS key."',
    ),
    {"kms:ViaService": "s3.{region}.amazonaws.com"},
)

# -- a Slurm cluster with a VpcConfig -----------------------------------------------------------
_ENI = "arn:{partition}:ec2:{region}:{account}:network-interface/*"
VPC_ACCESS: tuple[ActionRequirement, ...] = (
    *_need(
        "vpc",
        [
            "ec2:CreateNetworkInterface",
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission",
        ],
        _ENI,
        "HyperPod attaches the cluster's network interfaces in your subnets (VpcConfig)",
        _Page(
            _PREREQ_DOC,
            '"The following ec2 permissions are required to enable configuring a SageMaker '
            'HyperPod cluster with your VPC." (section Slurm)',
        ),
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
        _Page(
            _PREREQ_DOC,
            '"The following ec2 permissions are required to enable configuring a SageMaker '
            'HyperPod cluster with your VPC." (section Slurm)',
        ),
    ),
    *_need(
        "vpc",
        ["ec2:DetachNetworkInterface"],
        _ENI,
        "auto-resume of jobs after a node is replaced detaches its network interface",
        _Page(
            _PREREQ_DOC,
            '"The following ec2 permission is required to enable the SageMaker HyperPod '
            'auto-resume functionality." (section Slurm)',
            required=False,
        ),
    ),
    *_need(
        "vpc",
        ["ec2:CreateTags"],
        _ENI,
        "HyperPod tags the network interfaces it creates",
        _Page(
            _PREREQ_DOC,
            '"The following ec2 permission allows SageMaker HyperPod to create tags on the '
            'network interfaces within your account." (section Slurm; the page does not call '
            "it required)",
            required=False,
        ),
    ),
)
"""The execution role's EC2 needs with a ``VpcConfig`` on a Slurm cluster;
``AmazonSageMakerClusterInstanceRolePolicy`` has no EC2 actions (the project's
``policies/execution-role-vpc.json`` is the page's policy)."""

# -- an EKS cluster ------------------------------------------------------------------------------
_EKS_PAGE = _Page(
    _PREREQ_DOC,
    '"In addition to the managed policies, attach the following permission policy to the '
    'role." (section Amazon EKS; every action on "*", ec2:CreateTags on '
    "arn:aws:ec2:*:*:network-interface/*)",
)
EKS_POLICY: tuple[ActionRequirement, ...] = (
    *_need(
        "eks",
        [
            "ec2:AssignPrivateIpAddresses",
            "ec2:AttachNetworkInterface",
            "ec2:CreateNetworkInterface",
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission",
            "ec2:DetachNetworkInterface",
            "ec2:ModifyNetworkInterfaceAttribute",
            "ec2:UnassignPrivateIpAddresses",
            "ec2:CreateTags",
        ],
        _ENI,
        "HyperPod and the Amazon VPC CNI on each node manage the nodes' network interfaces "
        "and pod addresses",
        _EKS_PAGE,
    ),
    *_need(
        "eks",
        [
            "ec2:DescribeInstances",
            "ec2:DescribeInstanceTypes",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeTags",
            "ec2:DescribeVpcs",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
        ],
        "*",
        "HyperPod and the Amazon VPC CNI read the instances, VPC, subnets and security groups",
        _EKS_PAGE,
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
        _EKS_PAGE,
    ),
    *_need(
        "eks",
        ["eks-auth:AssumeRoleForPodIdentity"],
        "{eks_cluster_arn}",
        "EKS Pod Identity hands pods their roles through the node's role",
        _Page(
            _PREREQ_DOC,
            'The page: "The "eks-auth:AssumeRoleForPodIdentity" permission is optional. '
            "It's required if you plan to use EKS Pod identity.\"",
            required=False,
        ),
    ),
)
"""The execution role of an EKS cluster: the page's permission policy, besides the managed
policy (``policies/execution-role-eks.json`` is that policy). It asks for neither
``cloudwatch:DescribeAlarms`` nor ``AmazonEKS_CNI_Policy``."""
EKS_EXTRAS = EKS_POLICY  # the name earlier versions exported

# -- the ClusterRole (managed Karpenter autoscaling) ---------------------------------------------
_KARPENTER_POLICY = (
    '"Replace the default policy with the following: ... sagemaker:BatchAddClusterNodes, '
    'sagemaker:BatchDeleteClusterNodes ... "Resource": "arn:aws:sagemaker:*:*:cluster/*"'
)
CLUSTER_ROLE: tuple[ActionRequirement, ...] = (
    *_need(
        "autoscaling",
        ["sagemaker:BatchAddClusterNodes", "sagemaker:BatchDeleteClusterNodes"],
        "arn:{partition}:sagemaker:{region}:{account}:cluster/*",
        "managed Karpenter autoscaling adds and removes the cluster's nodes",
        _Page(_AUTOSCALING_DOC, _KARPENTER_POLICY),
    ),
    *_need(
        "autoscaling-kms",
        ["kms:CreateGrant"],
        "{volume_kms_key_arn}",
        "nodes added by autoscaling get EBS volumes encrypted with this key",
        _Page(
            _AUTOSCALING_DOC,
            'The page\'s policy: kms:CreateGrant on "arn:aws:kms:*:*:key/*" when kms:ViaService '
            "is sagemaker.*.amazonaws.com, kms:GrantIsForAWSResource is true and "
            "kms:GrantOperations are among CreateGrant, Decrypt, DescribeKey, "
            "GenerateDataKeyWithoutPlaintext, ReEncryptTo, ReEncryptFrom, RetireGrant (only "
            "for a customer managed volume key)",
            required=False,
        ),
        {
            "kms:ViaService": "sagemaker.{region}.amazonaws.com",
            "kms:GrantIsForAWSResource": "true",
        },
    ),
)
"""The ``ClusterRole`` (``AutoScaling`` with Karpenter, EKS clusters only)."""

# -- the caller of CreateCluster -----------------------------------------------------------------
CALLER: tuple[ActionRequirement, ...] = (
    *_need(
        "create-cluster",
        ["sagemaker:CreateCluster"],
        "arn:{partition}:sagemaker:{region}:{account}:cluster/*",
        "the call itself",
        _Page(
            _PREREQ_DOC,
            '"Creating HyperPod clusters requires the IAM permissions outlined in the following '
            'policy example." (sagemaker:CreateCluster on arn:aws:sagemaker:*:*:cluster/*)',
        ),
    ),
    *_need(
        "pass-role",
        ["iam:PassRole"],
        "{role_arn}",
        "CreateCluster hands each execution role in the config to SageMaker",
        _Page(_PASSROLE_DOC, _PASSROLE_QUOTE),
        {"iam:PassedToService": SAGEMAKER_PRINCIPAL},
    ),
    # Which service the ClusterRole is passed to is not documented (it is trusted by
    # hyperpod.sagemaker.amazonaws.com): no iam:PassedToService is assumed, so a grant
    # conditioned on it is a "depends on", never a FAIL.
    *_need(
        "pass-role",
        ["iam:PassRole"],
        "{cluster_role_arn}",
        "CreateCluster hands the ClusterRole to SageMaker HyperPod",
        _Page(_PASSROLE_DOC, _PASSROLE_QUOTE),
    ),
)

SERVICE_LINKED_ROLE_CREATION: tuple[ActionRequirement, ...] = _need(
    "service-linked-role",
    ["iam:CreateServiceLinkedRole"],
    "arn:{partition}:iam::{account}:role/aws-service-role/"
    f"{HYPERPOD_PRINCIPAL}/{SERVICE_LINKED_ROLE}",
    f"the first cluster in an account creates {SERVICE_LINKED_ROLE}; without this permission "
    f'creation fails with "Service role {SERVICE_LINKED_ROLE} could not be created"',
    _Page(
        _SLR_DOC,
        '"When you create a SageMaker HyperPod cluster using the SageMaker AI console, the AWS '
        'CLI, or the AWS SDKs, SageMaker HyperPod creates the service-linked role for you." and '
        '"You must configure permissions to allow your users, groups, or roles to create, '
        'edit, or delete a service-linked role."',
    ),
    {"iam:AWSServiceName": HYPERPOD_PRINCIPAL},
)

EXECUTION_ROLE_TRUST = TrustRequirement(
    principal=Principal.EXECUTION_ROLE,
    service_principal=SAGEMAKER_PRINCIPAL,
    action="sts:AssumeRole",
    why="HyperPod's nodes run as the instance group's execution role",
    source=_PREREQ_DOC,
    quote='"you need create an IAM role for HyperPod cluster to assume"; "SageMaker HyperPod '
    'cluster instance groups assume the role" (HyperPod assumes it as sagemaker.amazonaws.com)',
)
CLUSTER_ROLE_TRUST = TrustRequirement(
    principal=Principal.CLUSTER_ROLE,
    service_principal=HYPERPOD_PRINCIPAL,
    action="sts:AssumeRole",
    why="managed autoscaling assumes the ClusterRole",
    source=_AUTOSCALING_DOC,
    quote='The page\'s trust policy: "Principal": {"Service": '
    '["hyperpod.sagemaker.amazonaws.com"]}, "Action": "sts:AssumeRole"',
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
        "cluster_role_arn": target.cluster_role_arn,
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
                    quote=need.quote,
                    required=need.required,
                )
            )
    return out


def execution_role_requirements(target: RequirementTarget) -> list[Requirement]:
    """What every execution role needs: the managed policy's actions, S3 (and KMS) read of the
    lifecycle objects, and either the EKS page's permission policy (EKS) or, with a
    ``VpcConfig``, the Slurm section's EC2 network-interface actions."""
    needs: list[ActionRequirement] = [*MANAGED_POLICY, *LIFECYCLE_S3, *LIFECYCLE_KMS]
    if target.orchestrator is Orchestrator.EKS:
        needs += EKS_POLICY
    elif target.has_vpc:
        needs += VPC_ACCESS
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
