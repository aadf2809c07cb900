"""What HyperPod needs from IAM: the requirement data and the requests built from a config."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from conftest import REPO

from hyperpod_preflight.analysis.iam_policy import (
    DecisionStatus,
    evaluate_requests,
    missing_actions,
    parse_policy,
    summarize,
    trust_allows,
)
from hyperpod_preflight.analysis.iam_requirements import (
    CALLER,
    CLUSTER_ROLE,
    CLUSTER_ROLE_TRUST,
    EKS_EXTRAS,
    EXECUTION_ROLE_TRUST,
    LIFECYCLE_KMS,
    LIFECYCLE_S3,
    MANAGED_POLICY,
    SERVICE_LINKED_ROLE_CREATION,
    VPC_ACCESS,
    Orchestrator,
    Principal,
    Requirement,
    RequirementTarget,
    caller_requirements,
    cluster_role_requirements,
    execution_role_requirements,
    managed_policy_arn,
    managed_policy_document,
    pairs,
    requests,
    service_linked_role_arn,
)

ACCOUNT = "111122223333"
REGION = "us-west-2"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/HyperPodExec"
KEYS = ("lifecycle/on_create.sh", "lifecycle/provisioning_parameters.json")


def target(**overrides: Any) -> RequirementTarget:
    fields: dict[str, Any] = {"region": REGION, "account": ACCOUNT}
    fields.update(overrides)
    return RequirementTarget(**fields)


def actions(requirements: list[Requirement]) -> set[str]:
    return {r.action for r in requirements}


def service(requirements: list[Requirement], prefix: str) -> set[str]:
    return {a for a in actions(requirements) if a.startswith(prefix + ":")}


# --- builder -----------------------------------------------------------------------------------


def test_slurm_without_vpc_needs_no_ec2_and_no_eks_extras() -> None:
    built = execution_role_requirements(target(orchestrator=Orchestrator.SLURM, has_vpc=False))
    assert service(built, "ec2") == set()
    assert service(built, "ecr") == set() and "eks-auth:AssumeRoleForPodIdentity" not in actions(
        built
    )
    assert {"logs:PutLogEvents", "cloudwatch:PutMetricData"} <= actions(built)
    assert {r.principal for r in built} == {Principal.EXECUTION_ROLE}


def test_slurm_with_vpc_adds_network_interface_actions() -> None:
    built = execution_role_requirements(target(has_vpc=True))
    assert service(built, "ec2") == {
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
        "ec2:CreateTags",
    }
    (tags,) = [r for r in built if r.action == "ec2:CreateTags"]
    assert tags.resource == f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*"
    assert service(built, "ecr") == set()


def test_eks_adds_ecr_pod_identity_and_vpc_even_without_the_flag() -> None:
    eks_arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/ml"
    built = execution_role_requirements(
        target(orchestrator=Orchestrator.EKS, has_vpc=False, eks_cluster_arn=eks_arn)
    )
    assert service(built, "ecr") == {
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetAuthorizationToken",
        "ecr:GetDownloadUrlForLayer",
    }
    assert {
        "ec2:CreateNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:AttachNetworkInterface",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeTags",
        "ec2:UnassignPrivateIpAddresses",
        "ec2:ModifyNetworkInterfaceAttribute",
        "ec2:DetachNetworkInterface",
        "ec2:CreateTags",
    } <= actions(built)
    # The page asks no cloudwatch:DescribeAlarms (FACTS.md once said it did).
    assert service(built, "cloudwatch") == {"cloudwatch:PutMetricData"}
    (pod_identity,) = [r for r in built if r.action == "eks-auth:AssumeRoleForPodIdentity"]
    assert pod_identity.resource == eks_arn
    # "The "eks-auth:AssumeRoleForPodIdentity" permission is optional."
    assert not pod_identity.required and "optional" in pod_identity.quote
    assert all(r.required for r in built if r.action != pod_identity.action)


def test_slurm_vpc_detach_and_tags_are_not_required_by_the_page() -> None:
    built = execution_role_requirements(target(has_vpc=True))
    optional = {r.action: r.quote for r in built if not r.required}
    assert set(optional) == {"ec2:DetachNetworkInterface", "ec2:CreateTags"}
    assert "auto-resume" in optional["ec2:DetachNetworkInterface"]


def test_eks_pod_identity_without_cluster_arn_covers_any_cluster() -> None:
    built = execution_role_requirements(target(orchestrator=Orchestrator.EKS))
    (pod_identity,) = [r for r in built if r.action == "eks-auth:AssumeRoleForPodIdentity"]
    assert pod_identity.resource == f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/*"


def test_keys_produce_object_arns_and_the_bucket_is_listed() -> None:
    built = execution_role_requirements(
        target(bucket="sagemaker-lc", object_keys=(*KEYS, "/leading/slash.sh"))
    )
    s3 = [(r.action, r.resource) for r in built if r.action.startswith("s3:")]
    assert s3 == [
        ("s3:ListBucket", "arn:aws:s3:::sagemaker-lc"),
        ("s3:GetObject", "arn:aws:s3:::sagemaker-lc/lifecycle/on_create.sh"),
        ("s3:GetObject", "arn:aws:s3:::sagemaker-lc/lifecycle/provisioning_parameters.json"),
        ("s3:GetObject", "arn:aws:s3:::sagemaker-lc/leading/slash.sh"),
    ]


def test_no_bucket_no_s3_and_no_keys_no_getobject() -> None:
    assert service(execution_role_requirements(target()), "s3") == set()
    listed_only = execution_role_requirements(target(bucket="sagemaker-lc"))
    assert service(listed_only, "s3") == {"s3:ListBucket"}


def test_kms_key_adds_decrypt_via_s3() -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abcd"
    assert service(execution_role_requirements(target(bucket="b")), "kms") == set()
    built = execution_role_requirements(target(bucket="b", kms_key_arn=key))
    (decrypt,) = [r for r in built if r.action.startswith("kms:")]
    assert (decrypt.action, decrypt.resource) == ("kms:Decrypt", key)
    assert dict(decrypt.context) == {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}


def test_log_group_uses_the_cluster_name_and_partition() -> None:
    built = execution_role_requirements(
        target(
            region="cn-north-1",
            partition="aws-cn",
            cluster_name="demo",
            bucket="sagemaker-x",
            object_keys=("a",),
        )
    )
    by_action = {r.action: r.resource for r in built}
    assert by_action["logs:CreateLogGroup"] == (
        f"arn:aws-cn:logs:cn-north-1:{ACCOUNT}:log-group:/aws/sagemaker/Clusters/demo/*"
    )
    assert by_action["logs:PutLogEvents"].endswith("/Clusters/demo/*:log-stream:*")
    assert by_action["s3:GetObject"] == "arn:aws-cn:s3:::sagemaker-x/a"
    anonymous = execution_role_requirements(target())
    assert {r.action: r.resource for r in anonymous}["logs:CreateLogGroup"].endswith(
        "/Clusters/*/*"
    )


def test_metric_requirement_carries_the_namespace() -> None:
    (metrics,) = [
        r for r in execution_role_requirements(target()) if r.action == "cloudwatch:PutMetricData"
    ]
    assert dict(metrics.context) == {"cloudwatch:namespace": "/aws/sagemaker/Clusters"}
    assert metrics.request.context == metrics.context


def test_caller_needs_create_passrole_per_role_and_the_service_linked_role() -> None:
    other = f"arn:aws:iam::{ACCOUNT}:role/ClusterRole"
    built = caller_requirements(target(role_arns=(ROLE, other, ROLE)))
    assert [(r.action, r.resource) for r in built] == [
        ("sagemaker:CreateCluster", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:cluster/*"),
        ("iam:PassRole", ROLE),
        ("iam:PassRole", other),
        ("iam:CreateServiceLinkedRole", service_linked_role_arn(ACCOUNT)),
    ]
    assert dict(built[1].context) == {"iam:PassedToService": "sagemaker.amazonaws.com"}
    assert dict(built[3].context) == {"iam:AWSServiceName": "hyperpod.sagemaker.amazonaws.com"}
    assert service_linked_role_arn(ACCOUNT).endswith(
        "role/aws-service-role/hyperpod.sagemaker.amazonaws.com/AWSServiceRoleForSageMakerHyperPod"
    )
    existing = caller_requirements(target(role_arns=(ROLE,), service_linked_role_exists=True))
    assert "iam:CreateServiceLinkedRole" not in actions(existing)
    assert {r.principal for r in built} == {Principal.CALLER}


def test_cluster_role_batch_node_actions_and_kms_grant_with_a_volume_key() -> None:
    plain = cluster_role_requirements(target())
    assert [(r.action, r.resource) for r in plain] == [
        ("sagemaker:BatchAddClusterNodes", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:cluster/*"),
        ("sagemaker:BatchDeleteClusterNodes", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:cluster/*"),
    ]
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/vol"
    with_key = cluster_role_requirements(target(volume_kms_key_arn=key))
    kms = [r for r in with_key if r.action.startswith("kms:")]
    assert [(r.action, r.resource) for r in kms] == [("kms:CreateGrant", key)]
    assert dict(kms[0].context) == {
        "kms:ViaService": f"sagemaker.{REGION}.amazonaws.com",
        "kms:GrantIsForAWSResource": "true",
    }


def test_pairs_deduplicate_and_requests_keep_context() -> None:
    built = caller_requirements(target(role_arns=(ROLE,))) * 2
    assert len(pairs(built)) == 3
    assert [r.context for r in requests(built)][1] == (
        ("iam:PassedToService", "sagemaker.amazonaws.com"),
    )


# --- the data itself -----------------------------------------------------------------------------

ALL_NEEDS = [
    *MANAGED_POLICY,
    *LIFECYCLE_S3,
    *LIFECYCLE_KMS,
    *VPC_ACCESS,
    *EKS_EXTRAS,
    *CLUSTER_ROLE,
    *CALLER,
    *SERVICE_LINKED_ROLE_CREATION,
]
# IAM actions that are permissions only, or whose service has no botocore model.
PERMISSION_ONLY = {"iam:PassRole", "s3:ListBucket"}
NO_BOTOCORE_MODEL = {"ssmmessages"}


AWS_PAGES = ("https://docs.aws.amazon.com/", "https://repost.aws/knowledge-center/")


def test_every_requirement_says_why_and_quotes_its_aws_page() -> None:
    for need in ALL_NEEDS:
        assert need.why, need
        assert need.source.startswith(AWS_PAGES), need
        assert len(need.quote) > 20, need
    for trust in (EXECUTION_ROLE_TRUST, CLUSTER_ROLE_TRUST):
        assert trust.source.startswith("https://docs.aws.amazon.com/")
        assert trust.quote


@pytest.mark.parametrize("action", sorted({n.action for n in ALL_NEEDS}))
def test_requirement_actions_are_real_operations(action: str) -> None:
    prefix, operation = action.split(":")
    if action in PERMISSION_ONLY or prefix in NO_BOTOCORE_MODEL:
        return
    model = botocore.session.get_session().get_service_model(prefix)
    assert operation in model.operation_names


def test_managed_policy_document_matches_the_requirement_data() -> None:
    document = managed_policy_document()
    policy = parse_policy(document, name="managed")
    assert policy.ok
    granted = {a for s in document["Statement"] for a in s["Action"]}
    assert granted == {n.action for n in (*MANAGED_POLICY, *LIFECYCLE_S3)}
    assert (
        managed_policy_arn() == "arn:aws:iam::aws:policy/AmazonSageMakerClusterInstanceRolePolicy"
    )
    assert "arn:aws-cn:s3:::sagemaker-*" in json.dumps(managed_policy_document("aws-cn"))


# --- requirements meet the evaluator ------------------------------------------------------------


def _project_policy(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPO / "policies" / name).read_text())
    return loaded


EXEC_POLICIES = {
    "AmazonSageMakerClusterInstanceRolePolicy": managed_policy_document(),
    "execution-role-vpc": _project_policy("execution-role-vpc.json"),
    "execution-role-eks": _project_policy("execution-role-eks.json"),
}


def _eks_target(bucket: str) -> RequirementTarget:
    return target(orchestrator=Orchestrator.EKS, has_vpc=True, bucket=bucket, object_keys=KEYS)


def test_the_projects_policies_satisfy_an_eks_execution_role() -> None:
    decisions = evaluate_requests(
        requests(execution_role_requirements(_eks_target("sagemaker-lifecycle"))),
        EXEC_POLICIES,
        principal_arn=ROLE,
        resource_account=ACCOUNT,
    )
    summary = summarize(decisions)
    assert summary.ok, [d.explanation for d in (*summary.denied, *summary.uncertain)]
    assert len(summary.allowed) == len(decisions) > 30


def test_a_bucket_not_named_sagemaker_is_not_covered_by_the_managed_policy() -> None:
    decisions = evaluate_requests(
        requests(execution_role_requirements(_eks_target("my-scripts"))),
        EXEC_POLICIES,
        principal_arn=ROLE,
        resource_account=ACCOUNT,
    )
    assert missing_actions(decisions) == {
        "s3:ListBucket": ("arn:aws:s3:::my-scripts",),
        "s3:GetObject": tuple(f"arn:aws:s3:::my-scripts/{k}" for k in KEYS),
    }


def test_a_sagemaker_bucket_in_another_account_is_not_covered() -> None:
    decisions = evaluate_requests(
        requests(execution_role_requirements(_eks_target("sagemaker-lifecycle"))),
        EXEC_POLICIES,
        principal_arn=ROLE,
        resource_account="999988887777",
    )
    assert set(missing_actions(decisions)) == {"s3:ListBucket", "s3:GetObject"}


def test_unknown_accounts_leave_the_managed_s3_grant_conditional() -> None:
    decisions = evaluate_requests(
        requests(execution_role_requirements(_eks_target("sagemaker-lifecycle"))), EXEC_POLICIES
    )
    uncertain = summarize(decisions).uncertain
    assert {d.action for d in uncertain} == {"s3:ListBucket", "s3:GetObject"}
    assert all(d.status is DecisionStatus.CONDITIONAL for d in uncertain)
    assert {c.key for d in uncertain for c in d.conditions} == {"aws:ResourceAccount"}


def test_slurm_without_vpc_needs_none_of_the_ec2_policy() -> None:
    decisions = evaluate_requests(
        requests(execution_role_requirements(target(bucket="sagemaker-x", object_keys=KEYS))),
        {"managed": managed_policy_document()},
        principal_arn=ROLE,
        resource_account=ACCOUNT,
    )
    assert summarize(decisions).ok


def test_managed_policy_alone_misses_the_vpc_actions() -> None:
    decisions = evaluate_requests(
        requests(execution_role_requirements(target(has_vpc=True))),
        {"managed": managed_policy_document()},
    )
    assert set(missing_actions(decisions)) == {n.action for n in VPC_ACCESS}


def test_trust_requirements_against_the_projects_trust_policy() -> None:
    trust = _project_policy("execution-role-trust.json")
    assert trust_allows(
        trust, EXECUTION_ROLE_TRUST.service_principal, EXECUTION_ROLE_TRUST.action
    ).allowed
    wrong = trust_allows(trust, CLUSTER_ROLE_TRUST.service_principal, CLUSTER_ROLE_TRUST.action)
    assert wrong.status is DecisionStatus.IMPLICIT_DENY
    assert CLUSTER_ROLE_TRUST.service_principal == "hyperpod.sagemaker.amazonaws.com"


# --- the pages' own policies meet the requirements (nothing stricter than the page) ---------

# "IAM permissions for cluster creation" (sagemaker-hyperpod-prerequisites-iam): the
# statements of the page's policy that concern CreateCluster, PassRole and IAM.
CREATION_PAGE_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "sagemaker:CreateCluster",
                "sagemaker:DeleteCluster",
                "sagemaker:UpdateCluster",
            ],
            "Resource": "arn:aws:sagemaker:*:*:cluster/*",
        },
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "arn:aws:iam::*:role/sagemaker-*",
            "Condition": {
                "StringEquals": {
                    "iam:PassedToService": [
                        "sagemaker.amazonaws.com",
                        "eks.amazonaws.com",
                        "lambda.amazonaws.com",
                    ]
                }
            },
        },
        {
            "Effect": "Allow",
            "Action": ["iam:PassRole", "iam:GetRole"],
            "Resource": "arn:aws:iam::*:role/*",
        },
        {
            "Effect": "Allow",
            "Action": [
                "iam:CreateRole",
                "iam:TagRole",
                "iam:PutRolePolicy",
                "iam:Get*",
                "iam:List*",
            ],
            "Resource": ["arn:aws:iam::*:role/*", "arn:aws:iam::*:policy/*"],
        },
    ],
}
# Same page, "IAM users for cluster admin", Amazon EKS (abridged to the actions asked here).
EKS_ADMIN_PAGE_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE},
        {
            "Effect": "Allow",
            "Action": ["sagemaker:CreateCluster", "iam:CreateServiceLinkedRole"],
            "Resource": "*",
        },
    ],
}


def test_the_pages_cluster_creation_policy_allows_what_the_caller_needs() -> None:
    """The creation policy grants iam:PassRole on role/* and CreateCluster on cluster/*: the
    caller's needs (both roles, the ClusterRole without a guessed service) are all allowed,
    except iam:CreateServiceLinkedRole, which that policy lacks (the EKS admin one has it)."""
    cluster_role = f"arn:aws:iam::{ACCOUNT}:role/SageMakerHyperPodKarpenterRole"
    needs = caller_requirements(target(role_arns=(ROLE,), cluster_role_arn=cluster_role))
    caller = f"arn:aws:iam::{ACCOUNT}:role/Admin"
    decisions = evaluate_requests(
        requests(needs), {"creation": CREATION_PAGE_POLICY}, principal_arn=caller
    )
    assert set(missing_actions(decisions)) == {"iam:CreateServiceLinkedRole"}
    assert not summarize(decisions).uncertain
    decisions = evaluate_requests(
        requests(caller_requirements(target(role_arns=(ROLE,)))),
        {"eks-admin": EKS_ADMIN_PAGE_POLICY},
        principal_arn=caller,
    )
    assert summarize(decisions).ok


def test_the_karpenter_pages_policy_allows_the_cluster_roles_needs() -> None:
    page = json.loads((REPO / "policies" / "cluster-role-karpenter.json").read_text())
    role = f"arn:aws:iam::{ACCOUNT}:role/SageMakerHyperPodKarpenterRole"
    decisions = evaluate_requests(
        requests(cluster_role_requirements(target())), {"karpenter": page}, principal_arn=role
    )
    assert summarize(decisions).ok, [d.explanation for d in decisions]
