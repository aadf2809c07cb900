"""iam.caller-permissions: the identity running create-cluster, asked of IAM's policy
simulator (moto lacks it: answered with botocore-shaped responses through ``IamStub``)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import ACCOUNT, REGION, new_facts, run
from conftest import moto_env
from iam_stubs import IamStub, assumed_role_env, healthy_execution_role

import hyperpod_preflight.checks.iam  # noqa: F401  (registers the checks)
from hyperpod_preflight.analysis.iam_roles import caller_principal
from hyperpod_preflight.spec import ClusterSpec, load_spec

DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/ops/Deployer"
SLR = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/hyperpod.sagemaker.amazonaws.com/"
    "AWSServiceRoleForSageMakerHyperPod"
)


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        iam = boto3.client("iam", region_name=REGION)
        ns = SimpleNamespace(iam=iam)
        ns.exec_a = healthy_execution_role(iam, "exec-a")
        ns.exec_b = healthy_execution_role(iam, "exec-b")
        ns.creds = assumed_role_env(iam, "Deployer", path="/ops/")
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, lifted_endpoint: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in w.creds.items():
        monkeypatch.setenv(name, value)
    return new_facts()


def spec(*roles: str) -> ClusterSpec:
    groups = [
        {
            "InstanceGroupName": f"g{i}",
            "InstanceType": "ml.m5.2xlarge",
            "InstanceCount": 1,
            "ExecutionRole": role,
        }
        for i, role in enumerate(roles)
    ]
    return load_spec({"ClusterName": "ml-cluster", "InstanceGroups": groups})


def only(findings: list[Any]) -> Any:
    assert len(findings) == 1
    return findings[0]


def allow_all(action: str, resource: str, context: dict[str, str]) -> str:
    return "allowed"


def test_session_arn_maps_to_its_role() -> None:
    caller = caller_principal(f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/alice@example.com")
    assert (caller.kind, caller.name) == ("role", "Deployer")
    assert caller.principal_arn == f"arn:aws:iam::{ACCOUNT}:role/Deployer"
    assert caller_principal(f"arn:aws:iam::{ACCOUNT}:user/ci/bot").principal_arn.endswith(
        "user/ci/bot"
    )
    assert caller_principal(f"arn:aws:iam::{ACCOUNT}:root").kind == "root"
    assert caller_principal(f"arn:aws:sts::{ACCOUNT}:federated-user/bob").kind == "other"


def test_allowed_caller_passes_and_the_simulator_gets_the_roles_real_arn(
    w: SimpleNamespace, facts: Any
) -> None:
    stub = IamStub(simulate=allow_all).attach(facts)
    finding = only(run("iam.caller-permissions", spec(w.exec_a, w.exec_b, w.exec_a), facts))
    assert finding.status.value == "PASS", finding.message
    assert finding.resource == f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/preflight"
    asked = {actions[0]: resources for _, actions, resources in stub.simulated}
    assert {source for source, _, _ in stub.simulated} == {DEPLOYER}  # path read by GetRole
    assert asked["iam:PassRole"] == (w.exec_a, w.exec_b)
    assert asked["sagemaker:CreateCluster"] == (f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:cluster/*",)
    assert asked["iam:CreateServiceLinkedRole"] == (SLR,)  # the role does not exist yet


def test_pass_role_denied_on_one_role_fails_with_a_policy_for_the_caller(
    w: SimpleNamespace, facts: Any
) -> None:
    def decide(action: str, resource: str, context: dict[str, str]) -> str:
        assert action != "iam:PassRole" or context == {
            "iam:PassedToService": "sagemaker.amazonaws.com"
        }
        return "implicitDeny" if resource == w.exec_b else "allowed"

    IamStub(simulate=decide).attach(facts)
    finding = only(run("iam.caller-permissions", spec(w.exec_a, w.exec_b), facts))
    assert finding.status.value == "FAIL"
    assert f"iam:PassRole on {w.exec_b}" in finding.message
    assert w.exec_a not in finding.message
    assert "aws iam put-role-policy --role-name Deployer" in finding.remediation
    assert f'"Resource":"{w.exec_b}"' in finding.remediation


def test_service_linked_role_creation_denied_names_the_creation_failure(
    w: SimpleNamespace, facts: Any
) -> None:
    def decide(action: str, resource: str, context: dict[str, str]) -> str:
        return "explicitDeny" if action == "iam:CreateServiceLinkedRole" else "allowed"

    IamStub(simulate=decide).attach(facts)
    finding = only(run("iam.caller-permissions", spec(w.exec_a), facts))
    assert finding.status.value == "FAIL"
    assert "could not be created" in finding.message


def test_an_answer_depending_on_missing_context_is_a_warning(
    w: SimpleNamespace, facts: Any
) -> None:
    def decide(action: str, resource: str, context: dict[str, str]) -> str | tuple[str, list[str]]:
        if action == "sagemaker:CreateCluster":
            return "implicitDeny", ["aws:RequestTag/team"]
        return "allowed"

    IamStub(simulate=decide).attach(facts)
    finding = only(run("iam.caller-permissions", spec(w.exec_a), facts))
    assert finding.status.value == "WARN"
    assert "aws:RequestTag/team" in finding.message


@pytest.mark.parametrize("how", ["denied", "absent"])
def test_simulator_unavailable_is_unknown_with_the_command_to_run(
    w: SimpleNamespace, facts: Any, how: str
) -> None:
    if how == "denied":
        IamStub(errors={"SimulatePrincipalPolicy": "AccessDenied"}).attach(facts)
    # else: moto has no simulator at all
    finding = only(run("iam.caller-permissions", spec(w.exec_a), facts))
    assert finding.status.value == "UNKNOWN"
    assert "iam:SimulatePrincipalPolicy" in finding.message
    fix = finding.remediation
    assert f"aws iam simulate-principal-policy --policy-source-arn {DEPLOYER}" in fix
    assert f"--action-names iam:PassRole --resource-arns {w.exec_a}" in fix
    assert "ContextKeyName=iam:PassedToService" in fix


def test_caller_role_path_unreadable_is_said(w: SimpleNamespace, facts: Any) -> None:
    IamStub(errors={"GetRole": "AccessDenied", "SimulatePrincipalPolicy": "AccessDenied"}).attach(
        facts
    )
    finding = only(run("iam.caller-permissions", spec(w.exec_a), facts))
    assert finding.status.value == "UNKNOWN"
    assert "path" in finding.message
    assert f"--policy-source-arn arn:aws:iam::{ACCOUNT}:role/Deployer " in finding.remediation
    # The service-linked role could not be read either: it is counted as still to create.
    assert "Whether AWSServiceRoleForSageMakerHyperPod exists is unknown" in finding.message
    assert "--action-names iam:CreateServiceLinkedRole" in finding.remediation


def test_user_and_root_callers(w: SimpleNamespace, facts: Any) -> None:
    user = f"arn:aws:iam::{ACCOUNT}:user/ci/bot"
    stub = IamStub(
        identity=user,
        simulate=lambda a, r, c: "implicitDeny" if a == "sagemaker:CreateCluster" else "allowed",
    ).attach(facts)
    finding = only(run("iam.caller-permissions", spec(w.exec_a), facts))
    # Not allowed CreateCluster itself: not the creating identity (see the read-only test).
    assert finding.status.value == "WARN"
    assert "aws iam put-user-policy --user-name bot" in finding.remediation
    assert {source for source, _, _ in stub.simulated} == {user}


def test_root_caller_passes_without_the_simulator(w: SimpleNamespace, facts: Any) -> None:
    stub = IamStub(identity=f"arn:aws:iam::{ACCOUNT}:root", simulate=allow_all).attach(facts)
    finding = only(run("iam.caller-permissions", spec(w.exec_a), facts))
    assert finding.status.value == "PASS"
    assert "root" in finding.message and not stub.simulated


def test_existing_service_linked_role_is_not_asked_for(w: SimpleNamespace, facts: Any) -> None:
    w.iam.create_role(
        RoleName="AWSServiceRoleForSageMakerHyperPod",
        Path="/aws-service-role/hyperpod.sagemaker.amazonaws.com/",
        AssumeRolePolicyDocument="{}",
    )
    try:
        stub = IamStub(simulate=allow_all).attach(facts)
        assert only(run("iam.caller-permissions", spec(w.exec_a), facts)).status.value == "PASS"
        assert "iam:CreateServiceLinkedRole" not in {a[0] for _, a, _ in stub.simulated}
    finally:
        w.iam.delete_role(RoleName="AWSServiceRoleForSageMakerHyperPod")


def test_slr_creation_denied_while_its_existence_is_unreadable_is_not_a_failure(
    w: SimpleNamespace, facts: Any
) -> None:
    # GetRole is denied: the service-linked role may exist, and then no one creates it.
    def decide(action: str, resource: str, context: dict[str, str]) -> str:
        return "implicitDeny" if action == "iam:CreateServiceLinkedRole" else "allowed"

    IamStub(simulate=decide, errors={"GetRole": "AccessDenied"}).attach(facts)
    finding = only(run("iam.caller-permissions", spec(w.exec_a), facts))
    assert finding.status.value == "UNKNOWN", finding.message
    assert "iam:CreateServiceLinkedRole" in finding.message
    assert "AWSServiceRoleForSageMakerHyperPod" in finding.message
    assert "aws iam get-role --role-name AWSServiceRoleForSageMakerHyperPod" in finding.remediation


def test_a_read_only_caller_is_a_warning_not_a_failure(w: SimpleNamespace, facts: Any) -> None:
    """The credentials of the run are the workstation's, not the account's: a CI runner with
    hp-preflight's read-only policy (allowed none of CreateCluster, PassRole, the service-linked
    role) is not the identity that creates the cluster; a FAIL would be false (issue 16)."""
    IamStub(simulate=lambda a, r, c: "implicitDeny").attach(facts)
    finding = only(run("iam.caller-permissions", spec(w.exec_a), facts))
    assert finding.status.value == "WARN", finding.message
    assert "credentials of this run" in finding.message
    assert "sagemaker:CreateCluster" in finding.message
    assert "Run hp-preflight with the credentials that will run create-cluster" in (
        finding.remediation
    )
    assert any("sagemaker-hyperpod-prerequisites-iam" in s for s in finding.details["sources"])


def test_a_creator_lacking_pass_role_still_fails_with_a_pasteable_grant(
    w: SimpleNamespace, facts: Any
) -> None:
    def decide(action: str, resource: str, context: dict[str, str]) -> str:
        return "implicitDeny" if action == "iam:PassRole" else "allowed"

    IamStub(simulate=decide).attach(facts)
    finding = only(run("iam.caller-permissions", spec(w.exec_a), facts))
    assert finding.status.value == "FAIL"
    command = finding.remediation.split("Grant it to ", 1)[1].split(": ", 1)[1]
    words = shlex.split(command.split(" (or run", 1)[0])
    assert words[:5] == ["aws", "iam", "put-role-policy", "--role-name", "Deployer"]
    assert json.loads(words[-1])["Statement"][0]["Action"] == "iam:PassRole"


def test_the_cluster_role_is_simulated_without_a_guessed_service(
    w: SimpleNamespace, facts: Any
) -> None:
    """Which service the ClusterRole is passed to is not documented: a caller allowed to pass
    it only to hyperpod.sagemaker.amazonaws.com is not refused on a guess of
    sagemaker.amazonaws.com; the answer depends on iam:PassedToService (WARN)."""
    cluster_role = f"arn:aws:iam::{ACCOUNT}:role/SageMakerHyperPodKarpenterRole"

    def decide(action: str, resource: str, context: dict[str, str]) -> str | tuple[str, list[str]]:
        if action == "iam:PassRole" and resource == cluster_role:
            service = context.get("iam:PassedToService")
            if service is None:
                return "implicitDeny", ["iam:PassedToService"]
            return "allowed" if service == "hyperpod.sagemaker.amazonaws.com" else "implicitDeny"
        return "allowed"

    stub = IamStub(simulate=decide).attach(facts)
    config = load_spec(
        {
            "ClusterName": "ml-cluster",
            "ClusterRole": cluster_role,
            "InstanceGroups": [
                {
                    "InstanceGroupName": "g",
                    "InstanceType": "ml.m5.2xlarge",
                    "InstanceCount": 1,
                    "ExecutionRole": w.exec_a,
                }
            ],
        }
    )
    finding = only(run("iam.caller-permissions", config, facts))
    assert finding.status.value == "WARN", finding.message
    assert "iam:PassedToService" in finding.message
    passed_roles = {r for _, a, rs in stub.simulated if a == ("iam:PassRole",) for r in rs}
    assert passed_roles == {w.exec_a, cluster_role}
