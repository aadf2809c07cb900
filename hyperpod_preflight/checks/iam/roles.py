"""The roles a config names: they exist, trust the right service, and have room for one
more managed policy."""

from __future__ import annotations

import shlex
from typing import Any

from ...analysis.iam_policy import DecisionStatus, trust_allows
from ...analysis.iam_requirements import managed_policy_arn
from ...analysis.iam_roles import ConfigRole
from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, unknown, warned
from ...shell import command
from ._common import (
    IAM_QUOTAS_DOC,
    MANAGED_POLICY_QUOTA,
    compact,
    per_role,
    per_role_needs,
    trust_document,
    trust_requirement,
)


def _create_fix(role: ConfigRole) -> str:
    need = trust_requirement(role)
    create = command(
        "aws",
        "iam",
        "create-role",
        "--role-name",
        role.name,
        *(("--path", role.path) if role.path != "/" else ()),
        "--assume-role-policy-document",
        compact(trust_document(need.service_principal)),
    )
    if role.kind == "ClusterRole":
        return f"Create it: {create}; then grant it what managed autoscaling needs ({need.source})."
    attach = command(
        "aws",
        "iam",
        "attach-role-policy",
        "--role-name",
        role.name,
        "--policy-arn",
        managed_policy_arn(role.partition),
    )
    return (
        f"Create it: {create}; then {attach} (and policies/execution-role-vpc.json "
        "with a VpcConfig); or set the config's role ARN to an existing role."
    )


@check(
    "iam.execution-role-exists",
    "Every execution role (and ClusterRole) exists",
    Severity.CRITICAL,
    needs=per_role_needs("role"),
)
def execution_role_exists(ctx: CheckContext) -> list[Outcome]:
    """Each ExecutionRole and the ClusterRole exist, under the exact ARN the config gives."""

    def absent(role: ConfigRole) -> Outcome:
        return failed(
            role.resource,
            f"{role.kind} {role.name} does not exist in account {role.account} "
            f"(used by {role.where})",
            _create_fix(role),
        )

    def judge(role: ConfigRole, found: dict[str, Any]) -> Outcome:
        used = f"used by {role.where}"
        actual = str(found.get("Arn", ""))
        if actual and actual != role.arn:
            return failed(
                role.resource,
                f"a role named {role.name} exists, but its ARN is {actual}, not {role.arn} "
                f"(the path differs; {used})",
                f"Set {role.where} to {actual}.",
                actual_arn=actual,
            )
        return passed(role.resource, f"{role.kind} {role.name} exists ({used})")

    return per_role(ctx, ctx.aws.role, judge, absent)


@check(
    "iam.execution-role-trust",
    "Roles trust the HyperPod service principal (sts:AssumeRole)",
    Severity.CRITICAL,
    needs=per_role_needs("role"),
)
def execution_role_trust(ctx: CheckContext) -> list[Outcome]:
    """ExecutionRole trusts sagemaker.amazonaws.com, ClusterRole hyperpod.sagemaker.amazonaws.com"""
    return per_role(
        ctx,
        ctx.aws.role,
        lambda role, found: _trust_outcome(role, found.get("AssumeRolePolicyDocument")),
    )


def _trust_outcome(role: ConfigRole, document: object) -> Outcome:
    need = trust_requirement(role)
    who = f"{need.service_principal} {need.action}"
    if document is None:
        return unknown(
            role.resource,
            f"could not tell: GetRole returned no trust policy for {role.name}",
            f"Check it with `aws iam get-role --role-name {role.name}`.",
        )
    decision = trust_allows(document, need.service_principal, need.action)  # type: ignore[arg-type]
    fix = (
        f"Let {need.service_principal} assume the role (see {need.source}): aws iam "
        f"update-assume-role-policy --role-name {shlex.quote(role.name)} --policy-document "
        f"{shlex.quote(compact(trust_document(need.service_principal)))} (this replaces the trust "
        "policy: keep any other statement you need in the same document)."
    )
    if decision.status is DecisionStatus.ALLOWED:
        return passed(role.resource, f"the trust policy of {role.name} lets {who}")
    if decision.denied:
        return failed(
            role.resource,
            f"{role.kind} {role.name}: {decision.explanation}; {need.why}, so cluster "
            "creation fails",
            fix,
            source=need.source,
            quote=need.quote,
        )
    conditions = "; ".join(str(u) for u in decision.uncertain) or decision.explanation
    if decision.status is DecisionStatus.CONDITIONAL:
        return warned(
            role.resource,
            f"the trust policy of {role.name} lets {who} only under a condition: {conditions}",
            f"Make sure HyperPod's request meets it, or drop the condition. {fix}",
            source=need.source,
            quote=need.quote,
        )
    return unknown(
        role.resource,
        f"could not tell whether the trust policy of {role.name} lets {who}: {conditions}",
        fix,
        source=need.source,
        quote=need.quote,
    )


@check(
    "iam.managed-policy-count",
    "Roles have room under the managed-policies-per-role quota",
    Severity.MEDIUM,
    needs=per_role_needs("role", existing=("attached_role_policies",)),
)
def managed_policy_count(ctx: CheckContext) -> list[Outcome]:
    """Roles are not at or near the quota of 10 attached managed policies (WARN)."""

    def attached(name: str) -> int | None:
        """How many managed policies the role has attached (None: there is no such role)."""
        if ctx.aws.role(name) is None:
            return None
        return len(ctx.aws.attached_role_policies(name))

    return per_role(ctx, attached, _judge_policy_count)


def _judge_policy_count(role: ConfigRole, count: int) -> Outcome:
    limit = MANAGED_POLICY_QUOTA
    fix = (
        f"Attach no more managed policies to {role.name}: put further grants in an inline "
        f"policy (aws iam put-role-policy --role-name {role.name} ...), or ask for more "
        f"under the IAM quota 'Managed policies per role' ({IAM_QUOTAS_DOC})."
    )
    if count >= limit:
        return warned(
            role.resource,
            f"{role.name} has {count} managed policies attached, the default quota is "
            f'{limit}: attaching one more fails with "Cannot exceed quota for '
            'PoliciesPerRole"',
            fix,
            count=count,
        )
    if count >= limit - 2:
        return warned(
            role.resource,
            f"{role.name} has {count} managed policies attached, close to the default "
            f"quota of {limit}",
            fix,
            severity=Severity.LOW,
            count=count,
        )
    return passed(role.resource, f"{count} managed policies attached (default quota {limit})")
