"""IAM test helpers: roles in moto, and botocore ``before-call`` handlers answering what moto
cannot (``iam:SimulatePrincipalPolicy``, a chosen ``GetCallerIdentity``, denied calls).

Handlers are registered on the client the code under test uses (``facts.client("iam")``)
after the facts' own call counter, so every call is still counted and recorded; every canned
body is validated against botocore's output shape first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

import botocore.awsrequest
from aws_world import ACCOUNT, validated
from conftest import moto_env

SAGEMAKER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
MANAGED = "arn:aws:iam::aws:policy/AmazonSageMakerClusterInstanceRolePolicy"


@contextmanager
def moto_with_managed_policies() -> Iterator[None]:
    """``moto_env()`` with AWS managed policies loaded (``AmazonSageMakerClusterInstance
    RolePolicy`` among them), as a module-scoped fixture needs it."""
    saved = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    try:
        with moto_env():
            yield
    finally:
        if saved is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = saved


def statement(
    action: str | list[str], resource: str | list[str], effect: str = "Allow"
) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource}


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def make_role(
    iam: Any,
    name: str,
    *,
    path: str = "/",
    trust: dict[str, Any] | None = None,
    managed: tuple[str, ...] = (),
    inline: dict[str, dict[str, Any]] | None = None,
    boundary: str | None = None,
) -> str:
    """A role with the given trust policy (SageMaker's by default) and policies; its ARN."""
    extra = {"PermissionsBoundary": boundary} if boundary else {}
    arn: str = iam.create_role(
        RoleName=name,
        Path=path,
        AssumeRolePolicyDocument=json.dumps(trust or SAGEMAKER_TRUST),
        **extra,
    )["Role"]["Arn"]
    for policy_arn in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    for policy_name, doc in (inline or {}).items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(doc))
    return arn


def make_policy(iam: Any, name: str, doc: dict[str, Any]) -> str:
    arn: str = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
    return arn


def _reply(status: int, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    meta = {"HTTPStatusCode": status, "RequestId": "stub", "HTTPHeaders": {}}
    raw = botocore.awsrequest.AWSResponse("https://example.invalid/", status, {}, None)
    return raw, {**body, "ResponseMetadata": meta}


def error_reply(code: str, status: int = 403) -> tuple[Any, dict[str, Any]]:
    return _reply(status, {"Error": {"Code": code, "Message": f"{code} (injected)"}})


def _query_list(body: dict[str, list[str]], name: str) -> list[str]:
    keys = sorted(
        (k for k in body if k.startswith(f"{name}.member.") and k.count(".") == 2),
        key=lambda k: int(k.rsplit(".", 1)[1]),
    )
    return [body[k][0] for k in keys]


Decide = Callable[[str, str, dict[str, str]], str | tuple[str, list[str]]]


class IamStub:
    """Answers chosen IAM/STS operations; everything else falls through to moto.

    - ``simulate``: ``decide(action, resource, context) -> "allowed" | "implicitDeny" |
      "explicitDeny"`` or ``(decision, missing context keys)``; None: the simulator is left
      to moto (which lacks it);
    - ``errors``: ``{operation: error code}`` answered with HTTP 403;
    - ``identity``: the ``Arn`` ``GetCallerIdentity`` returns.
    """

    def __init__(
        self,
        *,
        simulate: Decide | None = None,
        errors: dict[str, str] | None = None,
        identity: str | None = None,
    ) -> None:
        self.decide = simulate
        self.errors = dict(errors or {})
        self.identity = identity
        self.simulated: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []

    def attach(self, facts: Any) -> IamStub:
        for service in ("iam", "sts"):
            facts.client(service).meta.events.register("before-call", self)
        return self

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> Any:
        name = model.name
        if name in self.errors:
            return error_reply(self.errors[name])
        if name == "GetCallerIdentity" and self.identity:
            body = {"UserId": "AROASTUB:session", "Account": ACCOUNT, "Arn": self.identity}
            return _reply(200, validated("sts", name, body))
        if name == "SimulatePrincipalPolicy" and self.decide is not None:
            return _reply(200, validated("iam", name, self._simulate(params)))
        return None

    def _simulate(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = params["body"]
        body = parse_qs(raw) if isinstance(raw, str) else {k: [v] for k, v in raw.items()}
        actions = _query_list(body, "ActionNames")
        resources = _query_list(body, "ResourceArns") or ["*"]
        context: dict[str, str] = {}
        for i in range(1, 20):
            key = body.get(f"ContextEntries.member.{i}.ContextKeyName")
            if not key:
                break
            context[key[0]] = body[f"ContextEntries.member.{i}.ContextKeyValues.member.1"][0]
        source = body["PolicySourceArn"][0]
        self.simulated.append((source, tuple(actions), tuple(resources)))
        results = []
        assert self.decide is not None
        for action in actions:
            for resource in resources:
                answer = self.decide(action, resource, context)
                decision, missing = (answer, []) if isinstance(answer, str) else answer
                result: dict[str, Any] = {
                    "EvalActionName": action,
                    "EvalResourceName": resource,
                    "EvalDecision": decision,
                }
                if missing:
                    result["MissingContextValues"] = missing
                results.append(result)
        return {"EvaluationResults": results, "IsTruncated": False}


def healthy_execution_role(iam: Any, name: str) -> str:
    """An execution role HyperPod accepts without loading AWS managed policies into moto: a
    customer-managed copy of ``AmazonSageMakerClusterInstanceRolePolicy`` attached, and the
    project's VPC policy inline."""
    from conftest import REPO

    from hyperpod_preflight.analysis.iam_requirements import managed_policy_document

    copy = make_policy(iam, f"{name}-instance-policy", managed_policy_document())
    vpc = json.loads((REPO / "policies" / "execution-role-vpc.json").read_text())
    return make_role(iam, name, managed=(copy,), inline={"vpc": vpc})


def assumed_role_env(iam: Any, name: str, path: str = "/") -> dict[str, str]:
    """Credentials (as ``AWS_*`` variables) of a moto session of a new role ``name``: moto's
    ``GetCallerIdentity`` then answers ``arn:aws:sts::ACCOUNT:assumed-role/NAME/preflight``."""
    import boto3

    anyone_here = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
    }
    role = make_role(iam, name, path=path, trust=document(anyone_here))
    creds = boto3.client("sts", region_name="us-west-2").assume_role(
        RoleArn=role, RoleSessionName="preflight"
    )["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
