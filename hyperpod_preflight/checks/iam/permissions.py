"""What each role's policies allow: the managed, inline and permissions-boundary policies of
every role the config names, evaluated locally against HyperPod's documented needs."""

from __future__ import annotations

import shlex
from collections import defaultdict

from ...analysis.iam_policy import Decision, DecisionStatus
from ...analysis.iam_requirements import (
    Requirement,
    managed_policy_arn,
    managed_policy_document,
)
from ...analysis.iam_roles import ConfigRole, evaluate_role, role_needs
from ...records import RolePolicies
from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, unknown, warned
from ...shell import command
from ._common import (
    compact,
    minimal_policy,
    per_role,
    per_role_needs,
)

INLINE_POLICY_NAME = "hyperpod-cluster-needs"
_SHOWN = 8  # missing grants listed in a message before "and N more"


@check(
    "iam.execution-role-permissions",
    "Roles' policies (managed, inline, boundary) allow what HyperPod needs",
    Severity.CRITICAL,
    needs=per_role_needs("role_policies"),
)
def execution_role_permissions(ctx: CheckContext) -> list[Outcome]:
    """Each role's policies allow every action AWS's pages require; optional ones WARN."""

    def judge(role: ConfigRole, policies: RolePolicies) -> Outcome:
        needs = role_needs(ctx.spec, role, ctx.aws.region)
        return _judge(role, policies, needs, evaluate_role(role, policies, needs))

    return per_role(ctx, ctx.aws.role_policies, judge)


def _policies_read(policies: RolePolicies) -> str:
    boundary = f", boundary {policies.boundary_arn}" if policies.boundary_arn else ""
    copied = "".join(
        f"; {arn.rsplit('/', 1)[-1]} as AWS documents it, since IAM did not return its "
        "current version"
        for arn in policies.substituted
    )
    return f"{policies.managed_count} managed, {len(policies.inline)} inline{boundary}{copied}"


def _s3_note(needs: list[Requirement]) -> str:
    if not any(r.action.startswith("s3:") for r in needs):
        return ""
    return (
        " S3 grants are judged for a lifecycle bucket of the role's own account; the "
        "bucket's owner and bucket policy are not read by this check."
    )


def _listing(decisions: list[Decision], needs: list[Requirement]) -> str:
    """Missing grants by need: ``managed-policy: logs:CreateLogGroup, ...; lifecycle-s3:
    s3:GetObject on arn:aws:s3:::b/k``. Resources are named where they are the config's
    own (the lifecycle objects); the rest are in the fix and the details."""
    group_of = {(r.action, r.resource): r.group for r in needs}
    by_group: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for d in decisions:
        by_group[group_of.get((d.action, d.resource), "other")][d.action].append(d.resource)
    parts = []
    for group, actions in by_group.items():
        if group.startswith("lifecycle"):
            shown = [f"{a} on {', '.join(rs[:_SHOWN])}" for a, rs in actions.items()]
        else:
            shown = list(actions)
        parts.append(f"{group}: {', '.join(shown)}")
    return "; ".join(parts)


def _sources(needs: list[Requirement], decisions: list[Decision]) -> list[dict[str, str]]:
    """The pages (URL and their own words) behind the needs ``decisions`` answer, once each."""
    wanted = {(d.action, d.resource) for d in decisions}
    found: dict[tuple[str, str], dict[str, str]] = {}
    for need in needs:
        if (need.action, need.resource) in wanted:
            found.setdefault((need.source, need.quote), {"url": need.source, "quote": need.quote})
    return list(found.values())


def _cited(sources: list[dict[str, str]]) -> str:
    return " ".join(f"{s['url']}: {s['quote']}" for s in sources)


def _split(
    needs: list[Requirement], denied: list[Decision]
) -> tuple[list[Decision], list[Decision]]:
    """Denied needs the pages require (a FAIL), and those they make optional (a WARN)."""
    optional = {(r.action, r.resource) for r in needs if not r.required}
    required = {(r.action, r.resource) for r in needs if r.required}
    hard = [d for d in denied if (d.action, d.resource) in required]
    soft = [d for d in denied if (d.action, d.resource) in optional - required]
    return hard, soft


def _judge(
    role: ConfigRole, policies: RolePolicies, needs: list[Requirement], decisions: list[Decision]
) -> Outcome:
    read = _policies_read(policies)
    hard, soft = _split(needs, [d for d in decisions if d.denied])
    uncertain = [d for d in decisions if not d.allowed and not d.denied]
    if hard:
        also = (
            f" Also not allowed, which AWS makes optional: {_listing(soft, needs)}." if soft else ""
        )
        return failed(
            role.resource,
            f"{role.kind} {role.name} ({read}) is not allowed {len(hard)} of "
            f"{len(decisions)} grants HyperPod needs: "
            f"{_listing(hard, needs)}.{_why(hard)}{also}"
            f"{_s3_note(needs)}",
            _fix(role, policies, needs, hard + soft),
            missing=[f"{d.action} {d.resource}" for d in hard],
            optional_missing=[f"{d.action} {d.resource}" for d in soft],
            sources=_sources(needs, hard),
        )
    if uncertain:
        return _uncertain(role, read, needs, uncertain)
    if soft:
        sources = _sources(needs, soft)
        return warned(
            role.resource,
            f"{role.kind} {role.name} ({read}) is allowed every grant AWS requires, but not "
            f"{_listing(soft, needs)}, which AWS makes optional or ties to one feature: "
            f"{_cited(sources)}",
            _fix(role, policies, needs, soft),
            optional_missing=[f"{d.action} {d.resource}" for d in soft],
            sources=sources,
        )
    return passed(
        role.resource,
        f"{role.kind} {role.name} ({read}) is allowed all {len(decisions)} grants HyperPod "
        f"needs for this config.{_s3_note(needs)}",
        policies=_policies_read(policies),
    )


def _uncertain(
    role: ConfigRole, read: str, needs: list[Requirement], uncertain: list[Decision]
) -> Outcome:
    named = "; ".join(dict.fromkeys(d.explanation for d in uncertain))
    if all(d.status is DecisionStatus.CONDITIONAL for d in uncertain):
        return warned(
            role.resource,
            f"{role.kind} {role.name} ({read}) is allowed {len(uncertain)} grant(s) only "
            f"under conditions this check cannot evaluate: {named}.{_s3_note(needs)}",
            "Make sure HyperPod's requests meet each condition, or grant the actions without it.",
        )
    return unknown(
        role.resource,
        f"could not tell whether {role.name} ({read}) is allowed everything: {named}",
        f"Review the named statements of {role.name}, or test with `aws iam "
        f"simulate-principal-policy --policy-source-arn {shlex.quote(role.arn)} "
        "--action-names ...`.",
    )


def _why(denied: list[Decision]) -> str:
    explicit = list(dict.fromkeys(str(r) for d in denied for r in d.denied_by))
    boundary = any("boundary" in label for d in denied for label in d.not_allowed_by)
    parts = []
    if explicit:
        parts.append(f" Denied explicitly by {', '.join(explicit)}.")
    if boundary:
        parts.append(" The permissions boundary does not allow some of them.")
    return "".join(parts)


def _lacks(decision: Decision, layer: str) -> bool:
    return any(label.startswith(layer) for label in decision.not_allowed_by)


def _fix(
    role: ConfigRole, policies: RolePolicies, needs: list[Requirement], denied: list[Decision]
) -> str:
    steps: list[str] = []
    # An implicit deny lacks an Allow in the identity policies, the boundary, or both.
    ungranted = [d for d in denied if _lacks(d, "identity")]
    capped = [d for d in denied if _lacks(d, "permissions boundary")]
    explicit = [d for d in denied if d.status is DecisionStatus.EXPLICIT_DENY]
    managed_arn = managed_policy_arn(role.partition)
    if ungranted and managed_arn not in policies.managed:
        # What would still be ungranted once the AWS managed policy is attached.
        extra = {managed_arn: managed_policy_document(role.partition)}
        pairs = {(d.action, d.resource) for d in ungranted}
        wanted = [r for r in needs if (r.action, r.resource) in pairs]
        after = [d for d in evaluate_role(role, policies, wanted, extra) if _lacks(d, "identity")]
        if len(after) < len(ungranted):
            steps.append(
                command(
                    "aws",
                    "iam",
                    "attach-role-policy",
                    "--role-name",
                    role.name,
                    "--policy-arn",
                    managed_arn,
                )
            )
            ungranted = after
    if ungranted:
        document = minimal_policy([(d.action, d.resource) for d in ungranted])
        steps.append(
            command(
                "aws",
                "iam",
                "put-role-policy",
                "--role-name",
                role.name,
                "--policy-name",
                INLINE_POLICY_NAME,
                "--policy-document",
                compact(document),
            )
        )
    if capped:
        actions = ", ".join(dict.fromkeys(d.action for d in capped))
        steps.append(
            f"allow {actions} in the permissions boundary {policies.boundary_arn} (a new "
            "default version of it), or remove the boundary: aws iam "
            f"delete-role-permissions-boundary --role-name {shlex.quote(role.name)}"
        )
    if explicit:
        refs = ", ".join(dict.fromkeys(str(r) for d in explicit for r in d.denied_by))
        steps.append(f"remove or narrow the Deny in {refs}")
    # no closing full stop: it would stick to the last command's quoted argument
    return "Grant what is missing: " + "; then ".join(steps)
