"""Roles built exactly as AWS documents them pass (issue 16): the Slurm execution role with a
VpcConfig and the EKS execution role of "AWS Identity and Access Management for SageMaker
HyperPod" (with and without the optional Pod Identity action), and the ClusterRole of "Create
an IAM role for HyperPod autoscaling with Karpenter". The policies below are the pages' own
(read 2026-12-07); ``policies/`` must ship the same documents."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import ACCOUNT, REGION, by_resource, new_facts, run
from conftest import REPO
from iam_stubs import MANAGED, make_role, moto_with_managed_policies

import hyperpod_preflight.checks.iam  # noqa: F401  (registers the checks)
from hyperpod_preflight.spec import ClusterSpec, load_spec

PREREQ = "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-prerequisites-iam.html"
BUCKET = "sagemaker-lcs"
EKS_CLUSTER = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/ml"

# sagemaker-hyperpod-prerequisites-iam, "IAM role for SageMaker HyperPod", Slurm: "(Optional)
# Additional permissions for using SageMaker HyperPod with Amazon Virtual Private Cloud".
SLURM_VPC_PAGE: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterface",
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DetachNetworkInterface",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": ["arn:aws:ec2:*:*:network-interface/*"],
        },
    ],
}

# Same page, Amazon EKS: "In addition to the managed policies, attach the following
# permission policy to the role."
EKS_PAGE: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ec2:AssignPrivateIpAddresses",
                "ec2:AttachNetworkInterface",
                "ec2:CreateNetworkInterface",
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeTags",
                "ec2:DescribeVpcs",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DetachNetworkInterface",
                "ec2:ModifyNetworkInterfaceAttribute",
                "ec2:UnassignPrivateIpAddresses",
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetAuthorizationToken",
                "ecr:GetDownloadUrlForLayer",
                "eks-auth:AssumeRoleForPodIdentity",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": ["arn:aws:ec2:*:*:network-interface/*"],
        },
    ],
}

# sagemaker-hyperpod-eks-autoscaling-iam: the trust and the permissions policy.
KARPENTER_TRUST: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["hyperpod.sagemaker.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}
KARPENTER_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sagemaker:BatchAddClusterNodes", "sagemaker:BatchDeleteClusterNodes"],
            "Resource": "arn:aws:sagemaker:*:*:cluster/*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
        },
        {
            "Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:DescribeKey"],
            "Resource": "arn:aws:kms:*:*:key/*",
            "Condition": {
                "StringLike": {"kms:ViaService": "sagemaker.*.amazonaws.com"},
                "Bool": {"kms:GrantIsForAWSResource": "true"},
                "ForAllValues:StringEquals": {
                    "kms:GrantOperations": [
                        "CreateGrant",
                        "Decrypt",
                        "DescribeKey",
                        "GenerateDataKeyWithoutPlaintext",
                        "ReEncryptTo",
                        "ReEncryptFrom",
                        "RetireGrant",
                    ]
                },
            },
        },
    ],
}


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    """The page's document less one action."""
    out = copy.deepcopy(document)
    for statement in out["Statement"]:
        listed = statement["Action"]
        statement["Action"] = [
            a for a in ([listed] if isinstance(listed, str) else listed) if a != action
        ]
    out["Statement"] = [s for s in out["Statement"] if s["Action"]]
    return out


def scoped_eks_policy() -> dict[str, dict[str, Any]]:
    """The EKS actions split in two policies, the network-interface ones scoped to this
    region and account's instance/ and network-interface/ ARNs (the shape of the public
    aws-samples Terraform module, written here from scratch): as good as the page's."""
    prefix = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    scoped = [f"{prefix}:instance/*", f"{prefix}:network-interface/*"]
    (everything, tags) = EKS_PAGE["Statement"]
    on_enis = [a for a in everything["Action"] if a.startswith("ec2:") and "Describe" not in a]
    rest = [a for a in everything["Action"] if a not in on_enis]
    return {
        "enis": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": on_enis, "Resource": scoped}, tags],
        },
        "reads": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": rest, "Resource": "*"}],
        },
    }


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_with_managed_policies():
        iam = boto3.client("iam", region_name=REGION)
        ns = SimpleNamespace(iam=iam)
        ns.slurm = make_role(iam, "doc-slurm", managed=(MANAGED,), inline={"vpc": SLURM_VPC_PAGE})
        ns.eks = make_role(iam, "doc-eks", managed=(MANAGED,), inline={"eks": EKS_PAGE})
        no_pod_identity = without(EKS_PAGE, "eks-auth:AssumeRoleForPodIdentity")
        ns.eks_no_pod_identity = make_role(
            iam, "doc-eks-no-pod-identity", managed=(MANAGED,), inline={"eks": no_pod_identity}
        )
        no_ecr = without(EKS_PAGE, "ecr:BatchGetImage")
        ns.eks_no_ecr = make_role(iam, "doc-eks-no-ecr", managed=(MANAGED,), inline={"eks": no_ecr})
        slurm_core = without(
            without(SLURM_VPC_PAGE, "ec2:DetachNetworkInterface"), "ec2:CreateTags"
        )
        ns.slurm_core = make_role(
            iam, "doc-slurm-core", managed=(MANAGED,), inline={"vpc": slurm_core}
        )
        ns.scoped = make_role(iam, "scoped-eks", managed=(MANAGED,), inline=scoped_eks_policy())
        ns.karpenter = make_role(
            iam,
            "SageMakerHyperPodKarpenterRole",
            trust=KARPENTER_TRUST,
            inline={"SageMakerHyperPodKarpenterPolicy": KARPENTER_POLICY},
        )
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, lifted_endpoint: None) -> Any:
    return new_facts()


def group(role: str) -> dict[str, Any]:
    return {
        "InstanceGroupName": "workers",
        "InstanceType": "ml.m5.2xlarge",
        "InstanceCount": 1,
        "LifeCycleConfig": {"SourceS3Uri": f"s3://{BUCKET}/lifecycle/", "OnCreate": "on_create.sh"},
        "ExecutionRole": role,
    }


VPC = {"Subnets": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}


def slurm(role: str) -> ClusterSpec:
    return load_spec(
        {"ClusterName": "ml-cluster", "VpcConfig": VPC, "InstanceGroups": [group(role)]}
    )


def eks(role: str, cluster_role: str | None = None) -> ClusterSpec:
    config: dict[str, Any] = {
        "ClusterName": "ml-cluster",
        "Orchestrator": {"Eks": {"ClusterArn": EKS_CLUSTER}},
        "VpcConfig": VPC,
        "InstanceGroups": [group(role)],
    }
    if cluster_role:
        config["ClusterRole"] = cluster_role
        config["AutoScaling"] = {"Mode": "Enable", "AutoScalerType": "Karpenter"}
    return load_spec(config)


ROLE_CHECKS = (
    "iam.execution-role-exists",
    "iam.execution-role-trust",
    "iam.execution-role-permissions",
)


@pytest.mark.parametrize("kind", ["slurm", "eks"])
def test_the_documented_execution_role_passes_every_role_check(
    w: SimpleNamespace, facts: Any, kind: str
) -> None:
    role = w.slurm if kind == "slurm" else w.eks
    config = slurm(role) if kind == "slurm" else eks(role)
    for check_id in ROLE_CHECKS:
        found = by_resource(run(check_id, config, facts))[role]
        assert found.status.value == "PASS", (check_id, found.message)


def test_an_eks_role_scoped_to_this_accounts_interfaces_passes(
    w: SimpleNamespace, facts: Any
) -> None:
    found = by_resource(run("iam.execution-role-permissions", eks(w.scoped), facts))[w.scoped]
    assert found.status.value == "PASS", found.message


def test_the_documented_eks_role_is_not_asked_for_describe_alarms(
    w: SimpleNamespace, facts: Any
) -> None:
    """The page asks no cloudwatch:DescribeAlarms (an earlier FACTS.md line did)."""
    found = by_resource(run("iam.execution-role-permissions", eks(w.eks), facts))[w.eks]
    assert "DescribeAlarms" not in found.message
    assert found.status.value == "PASS", found.message


def test_the_eks_role_without_pod_identity_is_a_warning_quoting_the_page(
    w: SimpleNamespace, facts: Any
) -> None:
    role = w.eks_no_pod_identity
    found = by_resource(run("iam.execution-role-permissions", eks(role), facts))[role]
    assert found.status.value == "WARN", found.message
    assert "eks-auth:AssumeRoleForPodIdentity" in found.message
    assert "It's required if you plan to use EKS Pod identity" in found.message
    assert PREREQ in found.message
    assert "aws iam put-role-policy --role-name doc-eks-no-pod-identity" in found.remediation


def test_an_eks_role_lacking_a_required_action_fails_citing_the_page(
    w: SimpleNamespace, facts: Any
) -> None:
    role = w.eks_no_ecr
    found = by_resource(run("iam.execution-role-permissions", eks(role), facts))[role]
    assert found.status.value == "FAIL"
    assert "ecr:BatchGetImage" in found.message
    assert "AssumeRoleForPodIdentity" not in found.message
    (source,) = found.details["sources"]
    assert source["url"] == PREREQ
    assert "attach the following permission policy to the role" in source["quote"]


def test_a_slurm_role_without_detach_and_tags_warns_with_the_pages_words(
    w: SimpleNamespace, facts: Any
) -> None:
    """The page ties ec2:DetachNetworkInterface to auto-resume and says ec2:CreateTags
    "allows" tagging: neither is a requirement of creating the cluster."""
    role = w.slurm_core
    found = by_resource(run("iam.execution-role-permissions", slurm(role), facts))[role]
    assert found.status.value == "WARN", found.message
    assert "ec2:DetachNetworkInterface" in found.message and "ec2:CreateTags" in found.message
    assert "auto-resume" in found.message


def test_the_documented_karpenter_cluster_role_passes(w: SimpleNamespace, facts: Any) -> None:
    config = eks(w.eks, cluster_role=w.karpenter)
    resource = f"{w.karpenter} (ClusterRole)"
    for check_id in ROLE_CHECKS:
        found = by_resource(run(check_id, config, facts))[resource]
        assert found.status.value == "PASS", (check_id, found.message)


def test_policies_ship_the_pages_documents() -> None:
    """The execution-role and ClusterRole templates of ``policies/`` are the pages' own."""
    policies = REPO / "policies"

    def read(name: str) -> Any:
        return json.loads((policies / name).read_text())

    assert read("execution-role-vpc.json") == SLURM_VPC_PAGE
    assert read("execution-role-eks.json") == EKS_PAGE
    assert read("cluster-role-trust.json") == KARPENTER_TRUST
    assert read("cluster-role-karpenter.json") == KARPENTER_POLICY
