"""Helpers the IAM checks share (no check is registered here)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from ...analysis.iam_requirements import (
    CLUSTER_ROLE_TRUST,
    EXECUTION_ROLE_TRUST,
    TrustRequirement,
)
from ...analysis.iam_roles import ConfigRole, caller_principal, config_roles
from ...errors import FactUnavailable
from ...planner import ClusterPlan
from ...registry import CheckContext, NeedsFn, Request, Then, need
from ...results import Outcome, skipped, unknown
from ...spec import ClusterSpec
from .._common import could_not_tell

T = TypeVar("T")

MANAGED_POLICY_QUOTA = 10  # IAM "Managed policies per role" default (adjustable up to 20)
IAM_QUOTAS_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"


def per_role_needs(*readers: str, existing: tuple[str, ...] = ()) -> NeedsFn:
    """The needs of a per-role check: the caller's account, then ``readers`` of each role
    of the config in it, then ``existing`` readers of each role that exists."""

    def needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
        return [need("identity_arn"), Then(each)] if config_roles(spec) else []

    def names(ctx: CheckContext) -> list[str]:
        account = caller_account(ctx)
        return list(dict.fromkeys(r.name for r in roles(ctx) if r.account == account))

    def each(ctx: CheckContext) -> list[Request]:
        out: list[Request] = [need(reader, name) for name in names(ctx) for reader in readers]
        return out + ([Then(found)] if existing else [])

    def found(ctx: CheckContext) -> list[Request]:
        out: list[Request] = []
        for name in names(ctx):
            try:
                if ctx.aws.role(name) is None:
                    continue
            except FactUnavailable:
                continue
            out += [need(reader, name) for reader in existing]
        return out

    return needs


def roles(ctx: CheckContext) -> list[ConfigRole]:
    return config_roles(ctx.spec)


def no_roles() -> Outcome:
    return skipped("-", "the config names no role ARN (ExecutionRole, ClusterRole) to check")


def caller_account(ctx: CheckContext) -> str:
    """The account of the credentials in use (from ``GetCallerIdentity``)."""
    if ctx.aws.account:
        return ctx.aws.account
    return caller_principal(ctx.aws.identity_arn()).account


def other_account(ctx: CheckContext, role: ConfigRole) -> Outcome | None:
    """UNKNOWN when the role is in another account than the credentials: IAM reads go to
    the caller's account, so a role of another account cannot be read from here."""
    account = caller_account(ctx)
    if role.account == account:
        return None
    return unknown(
        role.resource,
        f"could not tell: {role.kind} {role.name} is in account {role.account}, the "
        f"credentials in use are for account {account}; IAM reads only the caller's account",
        f"Run hp-preflight with credentials of account {role.account} to check this role.",
    )


def unreadable(resource: str, exc: FactUnavailable) -> Outcome:
    return could_not_tell(resource, exc, why=exc.reason)


def missing(role: ConfigRole) -> Outcome:
    return skipped(role.resource, "the role does not exist (see iam.execution-role-exists)")


def trust_requirement(role: ConfigRole) -> TrustRequirement:
    return CLUSTER_ROLE_TRUST if role.kind == "ClusterRole" else EXECUTION_ROLE_TRUST


def trust_document(service_principal: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service_principal},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def compact(document: dict[str, Any]) -> str:
    """A policy document as one shell-quotable line."""
    return json.dumps(document, separators=(",", ":"))


def role_flags(role: ConfigRole) -> str:
    return f"--role-name {role.name}" + (f" --path {role.path}" if role.path != "/" else "")


def minimal_policy(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """An identity policy granting exactly ``pairs`` (actions sharing resources together)."""
    resources_of: dict[str, list[str]] = defaultdict(list)
    for action, resource in pairs:
        resources_of[action].append(resource)
    actions_of: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for action, resources in resources_of.items():
        actions_of[tuple(dict.fromkeys(resources))].append(action)
    statements = [
        {
            "Effect": "Allow",
            "Action": actions if len(actions) > 1 else actions[0],
            "Resource": list(resources) if len(resources) > 1 else resources[0],
        }
        for resources, actions in actions_of.items()
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def per_role(
    ctx: CheckContext,
    read: Callable[[str], T | None],
    judge: Callable[[ConfigRole, T], Outcome],
    on_missing: Callable[[ConfigRole], Outcome] = missing,
) -> list[Outcome]:
    """One outcome per role of the config: a role of another account or an unreadable one is
    UNKNOWN, a role ``read`` does not find gets ``on_missing``, the others are judged."""
    named = roles(ctx)
    if not named:
        return [no_roles()]
    outcomes: list[Outcome] = []
    for role in named:
        foreign = other_account(ctx, role)
        if foreign is not None:
            outcomes.append(foreign)
            continue
        try:
            found = read(role.name)
        except FactUnavailable as exc:
            outcomes.append(unreadable(role.resource, exc))
            continue
        outcomes.append(on_missing(role) if found is None else judge(role, found))
    return outcomes
