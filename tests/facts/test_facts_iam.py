"""facts/iam.py against moto (and botocore's Stubber for the simulator moto lacks): what is
read, in how many calls, and that prefetching changes no count."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import ACCOUNT, REGION, new_facts, run
from botocore.stub import Stubber
from conftest import moto_env
from iam_stubs import (
    IamStub,
    assumed_role_env,
    document,
    healthy_execution_role,
    make_policy,
    make_role,
    statement,
)

import hyperpod_preflight.checks.iam  # noqa: F401  (registers the checks)
from hyperpod_preflight.errors import FactUnavailable
from hyperpod_preflight.registry import all_checks
from hyperpod_preflight.spec import load_spec


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        iam = boto3.client("iam", region_name=REGION)
        ns = SimpleNamespace(iam=iam)
        shared = make_policy(iam, "shared", document(statement("logs:*", "*")))
        ns.boundary = make_policy(iam, "boundary", document(statement("*", "*")))
        ns.a = make_role(
            iam,
            "a",
            path="/team/x/",
            managed=(shared,),
            inline={"one": document(statement("s3:GetObject", "*"))},
            boundary=ns.boundary,
        )
        ns.b = make_role(iam, "b", managed=(shared,))
        ns.shared = shared
        ns.exec = healthy_execution_role(iam, "exec")
        ns.creds = assumed_role_env(iam, "Deployer")
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, lifted_endpoint: None) -> Any:
    return new_facts()


def test_role_policies_reads_managed_inline_and_boundary_as_documents(
    w: SimpleNamespace, facts: Any
) -> None:
    policies = facts.role_policies("a")
    assert policies.role_arn == w.a and policies.role_arn.endswith(":role/team/x/a")
    assert policies.managed == {w.shared: document(statement("logs:*", "*"))}
    assert policies.inline == {"one": document(statement("s3:GetObject", "*"))}
    assert policies.boundary_arn == w.boundary
    assert policies.boundary == document(statement("*", "*"))
    assert facts.role_policies("missing") is None


def test_a_policy_shared_by_two_roles_is_read_once(w: SimpleNamespace, facts: Any) -> None:
    facts.role_policies("a")
    facts.role_policies("b")
    facts.role_policies("a")
    assert facts.calls["iam:GetRole"] == 2
    assert facts.calls["iam:GetPolicy"] == 2  # shared + a's boundary
    assert facts.calls["iam:GetPolicyVersion"] == 2
    assert facts.calls["iam:GetRolePolicy"] == 1


def test_an_unreadable_inline_policy_makes_the_whole_set_unavailable(
    w: SimpleNamespace, facts: Any
) -> None:
    IamStub(errors={"GetRolePolicy": "AccessDenied"}).attach(facts)
    with pytest.raises(FactUnavailable) as info:
        facts.role_policies("a")
    assert info.value.action == "iam:GetRolePolicy" and info.value.reason == "denied"


def test_simulator_results_per_resource_are_flattened(facts: Any) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/Deployer"
    targets = [f"arn:aws:iam::{ACCOUNT}:role/x", f"arn:aws:iam::{ACCOUNT}:role/y"]
    client = facts.client("iam")
    with Stubber(client) as stub:
        stub.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [
                    {
                        "EvalActionName": "iam:PassRole",
                        "EvalDecision": "implicitDeny",
                        "ResourceSpecificResults": [
                            {"EvalResourceName": targets[0], "EvalResourceDecision": "allowed"},
                            {
                                "EvalResourceName": targets[1],
                                "EvalResourceDecision": "implicitDeny",
                                "MissingContextValues": ["iam:PassedToService"],
                            },
                        ],
                    }
                ],
                "IsTruncated": False,
            },
            {
                "PolicySourceArn": role,
                "ActionNames": ["iam:PassRole"],
                "ResourceArns": targets,
                "ContextEntries": [
                    {
                        "ContextKeyName": "iam:PassedToService",
                        "ContextKeyValues": ["sagemaker.amazonaws.com"],
                        "ContextKeyType": "string",
                    }
                ],
            },
        )
        answers = facts.simulate_principal_policy(
            role, ["iam:PassRole"], targets, [("iam:PassedToService", "sagemaker.amazonaws.com")]
        )
        stub.assert_no_pending_responses()
    assert [(a.resource, a.decision, a.missing_context) for a in answers] == [
        (targets[0], "allowed", ()),
        (targets[1], "implicitDeny", ("iam:PassedToService",)),
    ]


def _config(*roles: str) -> Any:
    groups = [
        {
            "InstanceGroupName": f"g{i}",
            "InstanceType": "ml.m5.2xlarge",
            "InstanceCount": 1,
            "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-x/lc/", "OnCreate": "on_create.sh"},
            "ExecutionRole": role,
        }
        for i, role in enumerate(roles)
    ]
    return load_spec({"ClusterName": "c", "InstanceGroups": groups})


def test_the_iam_checks_read_each_role_once_whatever_runs_beside_them(
    w: SimpleNamespace, lifted_endpoint: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in w.creds.items():
        monkeypatch.setenv(name, value)
    spec = _config(w.exec, w.a, w.exec, f"arn:aws:iam::{ACCOUNT}:role/gone")
    iam_checks = [c for c in all_checks() if c.info.area == "iam"]

    def run_all(checks: list[Any]) -> Any:
        facts = new_facts()
        IamStub(simulate=lambda action, resource, context: "allowed").attach(facts)
        facts.verify_identity()
        for c in checks:  # each gathers what it declared, then judges with only that
            run(c.check_id, spec, facts)
        return facts.calls

    cold = run_all(iam_checks)
    # Per role named, never per group: the config names exec twice.
    assert dict(cold) == {
        "sts:GetCallerIdentity": 1,
        "iam:GetRole": 5,  # exec, a, gone, the service-linked role, the caller's role
        # exec, a and gone: the listings go out beside GetRole (one round trip less);
        # gone's fail (it does not exist) and are not used
        "iam:ListAttachedRolePolicies": 3,
        "iam:ListRolePolicies": 3,
        "iam:GetRolePolicy": 2,  # exec's vpc, a's one
        "iam:GetPolicy": 3,  # exec's copy, shared, a's boundary
        "iam:GetPolicyVersion": 3,
        "iam:SimulatePrincipalPolicy": 3,  # CreateCluster, PassRole, CreateServiceLinkedRole
        "s3:GetBucketLocation": 1,  # iam.lifecycle-kms: sagemaker-x does not exist
    }
