"""iam.execution-role-exists, iam.execution-role-trust, iam.managed-policy-count and
iam.execution-role-permissions against a moto account (AWS managed policies loaded) holding
healthy and broken roles side by side."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import ACCOUNT, REGION, by_resource, new_facts, run, statuses
from conftest import REPO
from iam_stubs import (
    MANAGED,
    IamStub,
    document,
    make_policy,
    make_role,
    moto_with_managed_policies,
    statement,
)

import hyperpod_preflight.checks.config
import hyperpod_preflight.checks.iam  # noqa: F401  (registers the checks)
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, load_spec

VPC_POLICY = json.loads((REPO / "policies" / "execution-role-vpc.json").read_text())
BUCKET = "sagemaker-lcs"
OTHER_BUCKET = "team-scripts"


def arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_with_managed_policies():
        iam = boto3.client("iam", region_name=REGION)
        ns = SimpleNamespace(iam=iam)
        ns.good = make_role(
            iam, "good", path="/hyperpod/", managed=(MANAGED,), inline={"vpc": VPC_POLICY}
        )
        ns.no_trust = make_role(
            iam,
            "no-trust",
            trust=document(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ),
            managed=(MANAGED,),
        )
        ns.cond_trust = make_role(
            iam,
            "cond-trust",
            trust=document(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sagemaker.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                }
            ),
        )
        ns.bare = make_role(iam, "bare")
        only_logs = make_policy(iam, "only-logs", document(statement("logs:*", "*")))
        ns.bounded = make_role(
            iam, "bounded", managed=(MANAGED,), inline={"vpc": VPC_POLICY}, boundary=only_logs
        )
        ns.denier = make_role(
            iam,
            "denier",
            managed=(MANAGED,),
            inline={"no-s3": document(statement("s3:GetObject", "*", effect="Deny"))},
        )
        # A bucket not named sagemaker-*: its own grant, the managed policy for the rest.
        ns.other_bucket = make_role(
            iam,
            "other-bucket",
            managed=(MANAGED,),
            inline={
                "scripts": document(
                    statement("s3:ListBucket", f"arn:aws:s3:::{OTHER_BUCKET}"),
                    statement("s3:GetObject", f"arn:aws:s3:::{OTHER_BUCKET}/*"),
                ),
            },
        )
        # The classic trap: s3:GetObject granted on the bucket ARN instead of bucket/*.
        ns.bucket_arn_trap = make_role(
            iam,
            "bucket-arn-trap",
            managed=(MANAGED,),
            inline={
                "scripts": document(
                    statement(["s3:ListBucket", "s3:GetObject"], f"arn:aws:s3:::{OTHER_BUCKET}")
                ),
            },
        )
        fillers = tuple(
            make_policy(iam, f"filler-{i}", document(statement("sqs:GetQueueUrl", "*")))
            for i in range(10)
        )
        ns.crowded = make_role(iam, "crowded", managed=fillers)
        ns.nearly = make_role(iam, "nearly", managed=fillers[:8])
        ns.cluster_role = make_role(
            iam,
            "autoscaler",
            trust=document(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "hyperpod.sagemaker.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ),
            inline={
                "nodes": document(
                    statement(
                        ["sagemaker:BatchAddClusterNodes", "sagemaker:BatchDeleteClusterNodes"],
                        "arn:aws:sagemaker:*:*:cluster/*",
                    )
                )
            },
        )
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, lifted_endpoint: None) -> Any:
    return new_facts()


def spec(
    *roles: str,
    bucket: str = BUCKET,
    vpc: bool = True,
    cluster_role: str | None = None,
) -> ClusterSpec:
    """A Slurm config with one group per role (two groups share the first role)."""
    groups = []
    for i, role in enumerate([roles[0], *roles]):
        groups.append(
            {
                "InstanceGroupName": f"g{i}",
                "InstanceType": "ml.m5.2xlarge",
                "InstanceCount": 1,
                "LifeCycleConfig": {
                    "SourceS3Uri": f"s3://{bucket}/lifecycle/",
                    "OnCreate": "on_create.sh",
                },
                "ExecutionRole": role,
            }
        )
    config: dict[str, Any] = {"ClusterName": "ml-cluster", "InstanceGroups": groups}
    if vpc:
        config["VpcConfig"] = {
            "Subnets": ["subnet-0123456789abcdef0"],
            "SecurityGroupIds": ["sg-0123456789abcdef0"],
        }
    if cluster_role:
        config["ClusterRole"] = cluster_role
    return load_spec(config)


# -- iam.execution-role-exists --------------------------------------------------------------
def test_existing_roles_pass_and_a_missing_one_fails_with_create_role(
    w: SimpleNamespace, facts: Any
) -> None:
    missing = arn("nope", "/team/")
    found = by_resource(run("iam.execution-role-exists", spec(w.good, missing), facts))
    assert found[w.good].status.value == "PASS"
    assert found[missing].status.value == "FAIL"
    fix = found[missing].remediation
    assert "aws iam create-role --role-name nope --path /team/" in fix
    assert '"Service":"sagemaker.amazonaws.com"' in fix
    assert f"--policy-arn {MANAGED}" in fix
    assert "g0" in found[missing].message or "InstanceGroups[" in found[missing].message


def test_one_get_role_per_role_not_per_group(w: SimpleNamespace, facts: Any) -> None:
    run("iam.execution-role-exists", spec(w.good, w.good, w.bare), facts)
    assert facts.calls["iam:GetRole"] == 2


def test_a_role_arn_with_the_wrong_path_fails_naming_the_real_arn(
    w: SimpleNamespace, facts: Any
) -> None:
    wrong = arn("good")  # the role lives under /hyperpod/
    found = by_resource(run("iam.execution-role-exists", spec(wrong), facts))
    assert found[wrong].status.value == "FAIL"
    assert w.good in found[wrong].remediation


def test_cluster_role_is_checked_with_its_own_principal(w: SimpleNamespace, facts: Any) -> None:
    config = spec(w.good, cluster_role=w.cluster_role)
    as_cluster_role = f"{w.cluster_role} (ClusterRole)"
    assert statuses(run("iam.execution-role-exists", config, facts))[as_cluster_role] == "PASS"
    trust = by_resource(run("iam.execution-role-trust", config, facts))
    assert trust[as_cluster_role].status.value == "PASS"
    assert "hyperpod.sagemaker.amazonaws.com" in trust[as_cluster_role].message
    # One role as both: trusted by SageMaker only, it fails as the ClusterRole.
    found = by_resource(run("iam.execution-role-trust", spec(w.good, cluster_role=w.good), facts))
    assert found[w.good].status.value == "PASS"
    assert found[f"{w.good} (ClusterRole)"].status.value == "FAIL"
    assert "hyperpod.sagemaker.amazonaws.com" in found[f"{w.good} (ClusterRole)"].remediation
    missing_arn = arn("nope")
    config = spec(w.good, cluster_role=missing_arn)
    found = by_resource(run("iam.execution-role-exists", config, facts))
    assert found[f"{missing_arn} (ClusterRole)"].status.value == "FAIL"
    fix = found[f"{missing_arn} (ClusterRole)"].remediation
    assert '"Service":"hyperpod.sagemaker.amazonaws.com"' in fix
    assert "sagemaker-hyperpod-eks-autoscaling-iam" in fix


def test_get_role_denied_is_unknown_naming_the_action(w: SimpleNamespace, facts: Any) -> None:
    IamStub(errors={"GetRole": "AccessDenied"}).attach(facts)
    for check_id in ("iam.execution-role-exists", "iam.execution-role-trust"):
        found = by_resource(run(check_id, spec(w.good), facts))
        assert found[w.good].status.value == "UNKNOWN"
        assert "iam:GetRole" in found[w.good].message


def test_a_role_of_another_account_is_unknown_and_not_read(w: SimpleNamespace, facts: Any) -> None:
    foreign = "arn:aws:iam::210987654321:role/good"
    found = by_resource(run("iam.execution-role-exists", spec(foreign), facts))
    assert found[foreign].status.value == "UNKNOWN"
    assert "210987654321" in found[foreign].message
    assert facts.calls["iam:GetRole"] == 0


def test_no_roles_is_skipped(w: SimpleNamespace, facts: Any) -> None:
    config = ClusterSpec(instance_groups=(InstanceGroup(name="g", count=1),))
    for check_id in ("iam.execution-role-exists", "iam.execution-role-permissions"):
        assert [f.status.value for f in run(check_id, config, facts)] == ["SKIP"]
    assert facts.call_count == 0


# -- iam.execution-role-trust ----------------------------------------------------------------
def test_trust_pass_fail_and_conditional(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(
        run("iam.execution-role-trust", spec(w.good, w.no_trust, w.cond_trust, arn("nope")), facts)
    )
    assert found[w.good].status.value == "PASS"
    assert found[w.no_trust].status.value == "FAIL"
    assert "aws iam update-assume-role-policy --role-name no-trust" in found[w.no_trust].remediation
    assert "sagemaker-hyperpod-prerequisites-iam" in found[w.no_trust].remediation
    assert found[w.cond_trust].status.value == "WARN"
    assert "aws:SourceAccount" in found[w.cond_trust].message
    assert found[arn("nope")].status.value == "SKIP"


# -- iam.managed-policy-count -----------------------------------------------------------------
def test_managed_policy_count(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(run("iam.managed-policy-count", spec(w.good, w.crowded, w.nearly), facts))
    assert found[w.good].status.value == "PASS"
    assert found[w.crowded].status.value == "WARN"
    assert "Cannot exceed quota for PoliciesPerRole" in found[w.crowded].message
    assert found[w.nearly].status.value == "WARN"
    assert found[w.nearly].severity.value == "low"


def test_managed_policy_count_denied_is_unknown(w: SimpleNamespace, facts: Any) -> None:
    IamStub(errors={"ListAttachedRolePolicies": "AccessDenied"}).attach(facts)
    found = by_resource(run("iam.managed-policy-count", spec(w.good), facts))
    assert found[w.good].status.value == "UNKNOWN"
    assert "iam:ListAttachedRolePolicies" in found[w.good].message


# -- iam.execution-role-permissions ------------------------------------------------------------
def test_managed_policy_plus_vpc_inline_passes(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(run("iam.execution-role-permissions", spec(w.good), facts))
    assert found[w.good].status.value == "PASS", found[w.good].message


def test_a_bare_role_fails_with_attach_and_a_minimal_inline_policy(
    w: SimpleNamespace, facts: Any
) -> None:
    found = by_resource(run("iam.execution-role-permissions", spec(w.bare), facts))[w.bare]
    assert found.status.value == "FAIL"
    # 21 required; ec2:DetachNetworkInterface (auto-resume) and ec2:CreateTags are optional.
    assert "not allowed 21 of 23 grants" in found.message
    assert "Also not allowed, which AWS makes optional" in found.message
    missing = found.details["missing"]
    assert "s3:GetObject arn:aws:s3:::sagemaker-lcs/lifecycle/on_create.sh" in missing
    assert "s3:GetObject arn:aws:s3:::sagemaker-lcs/lifecycle/provisioning_parameters.json" in (
        missing
    )
    assert f"ec2:CreateNetworkInterface arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*" in (
        missing
    )
    fix = found.remediation
    assert f"aws iam attach-role-policy --role-name bare --policy-arn {MANAGED}" in fix
    inline = json.loads(shlex.split(fix.split("--policy-document ", 1)[1])[0])
    granted = {
        a
        for s in inline["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    # The managed policy covers logs, metrics, SSM and the sagemaker-* bucket: only EC2 is left.
    assert granted == {
        "ec2:CreateNetworkInterface",
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
        "ec2:DetachNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcs",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:CreateTags",
    }


def test_without_vpc_config_no_ec2_actions_are_needed(w: SimpleNamespace, facts: Any) -> None:
    # The managed policy alone is enough for a Slurm cluster without VpcConfig.
    found = by_resource(run("iam.execution-role-permissions", spec(w.denier, vpc=False), facts))
    assert "ec2:" not in found[w.denier].message


def test_permissions_boundary_limits_the_role(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(run("iam.execution-role-permissions", spec(w.bounded), facts))[w.bounded]
    assert found.status.value == "FAIL"
    assert "boundary" in found.message
    assert "only-logs" in found.remediation
    assert "logs:CreateLogGroup" not in found.message  # the boundary allows logs:*


def test_explicit_deny_wins_over_the_managed_policy(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(run("iam.execution-role-permissions", spec(w.denier, vpc=False), facts))[
        w.denier
    ]
    assert found.status.value == "FAIL"
    assert "s3:GetObject" in found.message and "explicitly" in found.message.lower()
    assert "Deny" in found.remediation


def test_bucket_not_named_sagemaker_needs_its_own_grant(w: SimpleNamespace, facts: Any) -> None:
    config = spec(w.other_bucket, w.bucket_arn_trap, w.good, bucket=OTHER_BUCKET, vpc=False)
    found = by_resource(run("iam.execution-role-permissions", config, facts))
    assert found[w.other_bucket].status.value == "PASS", found[w.other_bucket].message
    trap = found[w.bucket_arn_trap]
    assert trap.status.value == "FAIL"
    assert f"s3:GetObject on arn:aws:s3:::{OTHER_BUCKET}/lifecycle/on_create.sh" in trap.message
    assert "s3:ListBucket" not in trap.message
    # The managed policy reads only sagemaker-* buckets: the put-role-policy names the objects.
    assert found[w.good].status.value == "FAIL"
    assert (
        f"arn:aws:s3:::{OTHER_BUCKET}/lifecycle/provisioning_parameters.json"
        in found[w.good].remediation
    )


def test_policies_unreadable_is_unknown_per_role(w: SimpleNamespace, facts: Any) -> None:
    IamStub(errors={"GetPolicyVersion": "AccessDenied"}).attach(facts)
    found = by_resource(run("iam.execution-role-permissions", spec(w.crowded, w.bare), facts))
    assert found[w.crowded].status.value == "UNKNOWN"
    assert "iam:GetPolicyVersion" in found[w.crowded].message
    # A role with no managed policy needs no GetPolicyVersion: still judged.
    assert found[w.bare].status.value == "FAIL"


def test_cluster_role_permissions(w: SimpleNamespace, facts: Any) -> None:
    config = spec(w.good, cluster_role=w.cluster_role)
    found = by_resource(run("iam.execution-role-permissions", config, facts))
    as_cluster_role = f"{w.cluster_role} (ClusterRole)"
    assert found[as_cluster_role].status.value == "PASS", found[as_cluster_role].message
    assert found[w.good].status.value == "PASS"


# -- config.lifecycle-bucket-name, with and without IAM ------------------------------------------
def test_bucket_name_does_not_warn_when_iam_proves_the_roles_read_it(
    w: SimpleNamespace, facts: Any
) -> None:
    config = spec(w.other_bucket, bucket=OTHER_BUCKET, vpc=False)
    (finding,) = run("config.lifecycle-bucket-name", config, facts)
    assert finding.status.value == "PASS", finding.message
    assert "other-bucket" in finding.message and "not named sagemaker-*" in finding.message


def test_bucket_name_warns_when_iam_does_not_prove_it(w: SimpleNamespace, facts: Any) -> None:
    # Two groups share the bucket: one role may read it, the other (the bucket-ARN trap) not.
    config = spec(w.other_bucket, w.bucket_arn_trap, bucket=OTHER_BUCKET, vpc=False)
    (finding,) = run("config.lifecycle-bucket-name", config, facts)
    assert finding.status.value == "WARN"
    assert "iam.execution-role-permissions" in finding.message
    assert f"arn:aws:s3:::{OTHER_BUCKET}/*" in finding.remediation


def test_bucket_name_warns_when_the_roles_cannot_be_read(w: SimpleNamespace, facts: Any) -> None:
    IamStub(errors={"GetRole": "AccessDenied"}).attach(facts)
    config = spec(w.other_bucket, bucket=OTHER_BUCKET, vpc=False)
    (finding,) = run("config.lifecycle-bucket-name", config, facts)
    assert finding.status.value == "WARN"


def test_bucket_name_offline_warns_and_claims_nothing_about_iam(w: SimpleNamespace) -> None:
    config = spec(w.other_bucket, bucket=OTHER_BUCKET, vpc=False)
    (finding,) = run("config.lifecycle-bucket-name", config, None)
    assert finding.status.value == "WARN"
    assert "run with AWS access" in finding.message
    assert "confirm" not in finding.message


def test_config_passes_say_they_read_nothing_in_aws(w: SimpleNamespace) -> None:
    """A config check has read the config only: its PASS must not vouch for the role or the
    script (issue 8: a missing role and bucket used to read as PASS)."""
    config = spec(arn("does-not-exist"))
    for check_id in ("config.lifecycle-config", "config.execution-role-arn"):
        for finding in run(check_id, config, None):
            assert finding.status.value == "PASS"
            assert "not here" in finding.message, finding.message


# -- conditions, EKS, lifecycle objects ------------------------------------------------------
def test_a_grant_under_a_condition_is_a_warning_naming_it(w: SimpleNamespace, facts: Any) -> None:
    name = "conditional-s3"
    if not any(r["RoleName"] == name for r in w.iam.list_roles()["Roles"]):
        make_role(
            w.iam,
            name,
            managed=(MANAGED,),
            inline={
                "vpce-only": document(
                    {
                        "Effect": "Allow",
                        "Action": ["s3:ListBucket", "s3:GetObject"],
                        "Resource": [
                            f"arn:aws:s3:::{OTHER_BUCKET}",
                            f"arn:aws:s3:::{OTHER_BUCKET}/*",
                        ],
                        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0abc"}},
                    }
                )
            },
        )
    role = arn(name)
    found = by_resource(
        run("iam.execution-role-permissions", spec(role, bucket=OTHER_BUCKET, vpc=False), facts)
    )
    assert found[role].status.value == "WARN"
    assert "aws:SourceVpce" in found[role].message
    # Not proven: the bucket-name check keeps its warning.
    config = spec(role, bucket=OTHER_BUCKET, vpc=False)
    assert [f.status.value for f in run("config.lifecycle-bucket-name", config, facts)] == ["WARN"]


def test_eks_needs_the_eks_extras(w: SimpleNamespace, facts: Any) -> None:
    eks_arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/ml"
    config = load_spec(
        {
            "ClusterName": "ml-cluster",
            "Orchestrator": {"Eks": {"ClusterArn": eks_arn}},
            "VpcConfig": {
                "Subnets": ["subnet-0123456789abcdef0"],
                "SecurityGroupIds": ["sg-0123456789abcdef0"],
            },
            "InstanceGroups": [
                {
                    "InstanceGroupName": "g",
                    "InstanceType": "ml.m5.2xlarge",
                    "InstanceCount": 1,
                    "LifeCycleConfig": {
                        "SourceS3Uri": f"s3://{BUCKET}/lifecycle/",
                        "OnCreate": "on_create.sh",
                    },
                    "ExecutionRole": w.good,
                }
            ],
        }
    )
    found = by_resource(run("iam.execution-role-permissions", config, facts))[w.good]
    assert found.status.value == "FAIL"
    assert "eks: " in found.message
    # Pod Identity is optional on the page: listed apart from what is missing.
    assert f"eks-auth:AssumeRoleForPodIdentity {eks_arn}" in found.details["optional_missing"]
    # The EKS page's policy has EC2 actions the Slurm VPC policy lacks.
    attach = f"ec2:AttachNetworkInterface arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*"
    assert attach in found.details["missing"]
    assert "ecr:BatchGetImage *" in found.details["missing"]
    # EKS reads no provisioning_parameters.json (a Slurm file).
    assert not any("provisioning_parameters" in m for m in found.details["missing"])


@pytest.mark.parametrize(
    ("uri", "on_create", "on_init", "orchestrator", "expected"),
    [
        (
            "s3://lcs/lc/",
            "on_create.sh",
            None,
            "slurm",
            ("lc/on_create.sh", "lc/provisioning_parameters.json"),
        ),
        ("s3://lcs/lc", "/on_create.sh", None, "eks", ("lc/on_create.sh",)),
        ("s3://lcs", "on_create.sh", "init.sh", "eks", ("on_create.sh", "init.sh")),
        ("s3://lcs/a/b/", None, "init.sh", "eks", ("a/b/init.sh",)),
    ],
)
def test_lifecycle_objects(
    uri: str,
    on_create: str | None,
    on_init: str | None,
    orchestrator: str,
    expected: tuple[str, ...],
) -> None:
    from hyperpod_preflight.analysis.iam_roles import lifecycle_objects

    group = InstanceGroup(
        name="g",
        lifecycle_source_s3_uri=uri,
        lifecycle_on_create=on_create,
        lifecycle_on_init_complete=on_init,
    )
    cluster = ClusterSpec(orchestrator=orchestrator, instance_groups=(group,))
    assert lifecycle_objects(cluster, group) == ("lcs", expected)
    assert lifecycle_objects(cluster, replace(group, lifecycle_source_s3_uri="lcs/lc")) is None


def test_the_published_managed_policy_stands_in_when_iam_will_not_return_it(
    w: SimpleNamespace, facts: Any
) -> None:
    IamStub(errors={"GetPolicy": "AccessDenied"}).attach(facts)
    # good: the AWS managed policy (unreadable: AWS's copy is used) and an inline policy.
    found = by_resource(run("iam.execution-role-permissions", spec(w.good), facts))[w.good]
    assert found.status.value == "PASS", found.message
    assert "AmazonSageMakerClusterInstanceRolePolicy as AWS documents it" in found.message
    # bounded: its boundary is the account's own policy, which has no stand-in.
    found = by_resource(run("iam.execution-role-permissions", spec(w.bounded), facts))[w.bounded]
    assert found.status.value == "UNKNOWN"
    assert "iam:GetPolicy" in found.message


def test_lifecycle_objects_name_the_keys_the_nodes_read() -> None:
    """``./on_create.sh`` is the key ``lc/on_create.sh``; a Slurm config whose groups carry
    SlurmConfig reads no provisioning_parameters.json (as s3.lifecycle-objects says)."""
    from hyperpod_preflight.analysis.iam_roles import lifecycle_objects

    group = InstanceGroup(
        name="g", lifecycle_source_s3_uri="s3://lcs/lc/", lifecycle_on_create="./on_create.sh"
    )
    cluster = ClusterSpec(orchestrator="slurm", instance_groups=(group,))
    assert lifecycle_objects(cluster, group) == (
        "lcs",
        ("lc/on_create.sh", "lc/provisioning_parameters.json"),
    )
    typed = replace(group, slurm_node_type="Compute")
    cluster = ClusterSpec(orchestrator="slurm", instance_groups=(typed,))
    assert lifecycle_objects(cluster, typed) == ("lcs", ("lc/on_create.sh",))


def test_a_managed_policy_answer_without_its_default_version_is_unknown(
    w: SimpleNamespace, facts: Any
) -> None:
    """GetPolicy's Policy.DefaultVersionId is optional in botocore's model: without it the
    document cannot be read, which is UNKNOWN naming the action, not a crash."""
    from aws_world import validated
    from iam_stubs import _reply

    def get_policy(params: dict[str, Any], model: Any, **_: Any) -> Any:
        if model.name != "GetPolicy":
            return None
        body = {"Policy": {"PolicyName": "filler", "Arn": "arn:aws:iam::123456789012:policy/x"}}
        return _reply(200, validated("iam", "GetPolicy", body))

    facts.client("iam").meta.events.register("before-call", get_policy)
    found = by_resource(run("iam.execution-role-permissions", spec(w.crowded), facts))
    assert found[w.crowded].status.value == "UNKNOWN", found[w.crowded].message
    assert "iam:GetPolicy" in found[w.crowded].message
    assert "DefaultVersionId" in found[w.crowded].message


def test_an_attached_policy_listed_without_its_arn_is_unknown(
    w: SimpleNamespace, facts: Any
) -> None:
    """AttachedPolicy.PolicyArn is optional in botocore's model: a policy that cannot be
    named cannot be read (it could hold a Deny), so the role is UNKNOWN, not a crash."""
    from aws_world import validated
    from iam_stubs import _reply

    def listed(params: dict[str, Any], model: Any, **_: Any) -> Any:
        if model.name != "ListAttachedRolePolicies":
            return None
        body = {"AttachedPolicies": [{"PolicyName": "mystery"}], "IsTruncated": False}
        return _reply(200, validated("iam", model.name, body))

    facts.client("iam").meta.events.register("before-call", listed)
    found = by_resource(run("iam.execution-role-permissions", spec(w.bare), facts))
    assert found[w.bare].status.value == "UNKNOWN", found[w.bare].message
    assert "iam:ListAttachedRolePolicies" in found[w.bare].message
