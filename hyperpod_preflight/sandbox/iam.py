"""The roles a config names, built as AWS documents them: each ``ExecutionRole`` and the
``ClusterRole``, with the trust and permission documents of the project's ``policies/``
folder (shipped with the package as ``bundled/policies``, a link to that folder).

What the documents in ``policies/`` leave to the user is added here the way AWS's own
templates add it: a lifecycle bucket not named ``sagemaker-*`` (which the managed
``AmazonSageMakerClusterInstanceRolePolicy`` does not cover) gets an inline policy on each
execution role that reads it, allowing ``s3:ListBucket`` on the bucket and ``s3:GetObject`` on
its objects (IAM for SageMaker HyperPod:
https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-prerequisites-iam.html).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import Build

MANAGED_INSTANCE_POLICY = "arn:aws:iam::aws:policy/AmazonSageMakerClusterInstanceRolePolicy"
# The managed policy reads only arn:aws:s3:::sagemaker-* (AWS managed policy reference).
MANAGED_BUCKET_PREFIX = "sagemaker-"
GRANT_NAME = "hyperpod-lifecycle-bucket"
CLUSTER_ROLE_TRUST = "cluster-role-trust.json"
CLUSTER_ROLE_PERMISSIONS = "cluster-role-karpenter.json"


def role_name_and_path(arn: str) -> tuple[str, str]:
    """``arn:aws:iam::<account>:role/<path>/<name>`` → (name, ``/<path>/``)."""
    resource = arn.split(":", 5)[-1]  # role/path/name
    parts = resource.split("/")
    return parts[-1], "/" + "".join(f"{p}/" for p in parts[1:-1])


def _policy(build: Build, name: str) -> dict[str, Any]:
    from .build import bundled_json

    return bundled_json("policies", name)


def _trust(build: Build, name: str, principal: str | None = None) -> str:
    """A trust document of ``policies/``; ``principal`` replaces its service (a defect)."""
    trust = _policy(build, name)
    if principal is not None:
        for statement in trust["Statement"]:
            statement["Principal"] = {"Service": principal}
    return json.dumps(trust)


def lifecycle_grant(buckets: list[str]) -> dict[str, Any] | None:
    """The inline grant an execution role needs on lifecycle buckets the managed policy
    does not cover (None when every bucket is ``sagemaker-*``)."""
    others = sorted({b for b in buckets if not b.startswith(MANAGED_BUCKET_PREFIX)})
    if not others:
        return None
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{b}" for b in others],
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{b}/*" for b in others],
            },
        ],
    }


def _buckets_by_role(build: Build) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for group in build.spec.instance_groups:
        uri = group.lifecycle_source_s3_uri or ""
        if group.execution_role and uri.startswith("s3://"):
            bucket = uri[len("s3://") :].split("/", 1)[0]
            found.setdefault(group.execution_role, []).append(bucket)
    return found


def build_execution_roles(build: Build) -> None:
    """Each execution role: the trust of ``policies/``, the AWS managed instance policy, the
    VPC (Slurm) or EKS permissions inline, and the lifecycle bucket grant."""
    bp, iam = build.blueprint, build.client("iam")
    roles = dict.fromkeys(g.execution_role for g in build.spec.instance_groups if g.execution_role)
    principal = None if bp.role_trusts == "sagemaker.amazonaws.com" else bp.role_trusts
    trust = _trust(build, "execution-role-trust.json", principal)
    buckets = _buckets_by_role(build)
    for arn in roles:
        if not arn or not bp.role_exists:
            continue
        name, path = role_name_and_path(arn)
        role = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust)
        build.renamed[arn] = role["Role"]["Arn"]
        iam.attach_role_policy(RoleName=name, PolicyArn=MANAGED_INSTANCE_POLICY)
        # Exactly the IAM page's roles: Slurm with a VpcConfig adds its VPC policy; EKS its
        # EKS policy (which holds the network-interface actions), nothing more. The defect
        # role-missing-vpc-policy leaves out the policy that grants those actions.
        if build.spec.orchestrator == "eks":
            if bp.role_vpc_policy:
                eks_policy = json.dumps(_policy(build, "execution-role-eks.json"))
                iam.put_role_policy(
                    RoleName=name, PolicyName="hyperpod-eks", PolicyDocument=eks_policy
                )
        elif build.spec.all_subnets and bp.role_vpc_policy:
            vpc_policy = json.dumps(_policy(build, "execution-role-vpc.json"))
            iam.put_role_policy(RoleName=name, PolicyName="hyperpod-vpc", PolicyDocument=vpc_policy)
        grant = lifecycle_grant(buckets.get(arn, []))
        if grant is not None:
            iam.put_role_policy(
                RoleName=name, PolicyName=GRANT_NAME, PolicyDocument=json.dumps(grant)
            )
        build.note(f"execution role {role['Role']['Arn']} trusting {bp.role_trusts}")
        if grant is not None:
            read = ", ".join(grant["Statement"][0]["Resource"])
            build.note(f"  inline {GRANT_NAME}: s3:ListBucket, s3:GetObject on {read}")


def build_cluster_role(build: Build) -> None:
    """The ``ClusterRole`` (Karpenter autoscaling): the trust and permissions of
    ``policies/cluster-role-*.json``, as the HyperPod autoscaling IAM page gives them
    (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-eks-autoscaling-iam.html)."""
    arn = build.spec.raw.get("ClusterRole")
    if not isinstance(arn, str) or not arn or arn in build.renamed:
        return  # none named, or the same ARN as an execution role (built above)
    iam = build.client("iam")
    name, path = role_name_and_path(arn)
    trust = _trust(build, CLUSTER_ROLE_TRUST)
    role = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust)
    permissions = json.dumps(_policy(build, CLUSTER_ROLE_PERMISSIONS))
    iam.put_role_policy(
        RoleName=name, PolicyName="hyperpod-autoscaling", PolicyDocument=permissions
    )
    build.renamed[arn] = role["Role"]["Arn"]
    build.note(f"cluster role {role['Role']['Arn']} trusting hyperpod.sagemaker.amazonaws.com")
