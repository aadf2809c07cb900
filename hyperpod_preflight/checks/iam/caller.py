"""The identity that will call ``create-cluster``: ``sagemaker:CreateCluster``,
``iam:PassRole`` on every role of the config and, while HyperPod's service-linked role does
not exist, ``iam:CreateServiceLinkedRole``, asked of IAM's policy simulator."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from ...analysis.iam_requirements import SERVICE_LINKED_ROLE, Requirement
from ...analysis.iam_roles import (
    CallerPrincipal,
    SimulationBatch,
    caller_needs,
    caller_principal,
    simulation_batches,
)
from ...errors import FactUnavailable
from ...records import SimulatedDecision
from ...registry import CheckContext, Request, Then, check, need
from ...results import Outcome, Severity, failed, passed, unknown, warned
from ...shell import command
from ...spec import ClusterSpec
from ._common import compact, minimal_policy

SIMULATOR_DOC = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html"
)


def simulate_commands(principal_arn: str, batches: dict[SimulationBatch, list[str]]) -> str:
    """The ``aws iam simulate-principal-policy`` calls a user can run to check by hand."""
    commands = []
    for (action, context), resources in batches.items():
        entries = [
            part
            for k, v in context
            for part in (
                "--context-entries",
                f"ContextKeyName={k},ContextKeyValues={v},ContextKeyType=string",
            )
        ]
        commands.append(
            command(
                "aws",
                "iam",
                "simulate-principal-policy",
                "--policy-source-arn",
                principal_arn,
                "--action-names",
                action,
                "--resource-arns",
                *resources,
                *entries,
                "--query",
                "EvaluationResults[].[EvalActionName,EvalResourceName,EvalDecision]",
            )
        )
    return "; ".join(commands)


def _principal_arn(ctx: CheckContext, caller: CallerPrincipal) -> tuple[str, str]:
    """The caller's principal ARN for the simulator, and a note when its path is a guess."""
    if caller.kind != "role" or ":assumed-role/" not in caller.identity_arn:
        return caller.principal_arn, ""
    if caller.account == ctx.aws.account:
        try:
            found = ctx.aws.role(caller.name)
        except FactUnavailable:
            found = None
        if found and found.get("Arn"):
            return str(found["Arn"]), ""
    return caller.principal_arn, (
        f" (the role's path is not in the session ARN and could not be read: "
        f"{caller.principal_arn} assumes none)"
    )


def _caller_needs(spec: ClusterSpec) -> list[Request]:
    """The caller's identity, its role (for the real ARN, with its path) beside whether
    HyperPod's service-linked role exists, then one simulation per action."""

    def first(ctx: CheckContext) -> list[Request]:
        caller = caller_principal(ctx.aws.identity_arn())
        if caller.kind == "root":
            return []
        out: list[Request] = [need("service_linked_role_exists")]
        if caller.kind in ("role", "user"):
            out.append(Then(simulations))
        assumed = caller.kind == "role" and ":assumed-role/" in caller.identity_arn
        if assumed and caller.account == ctx.aws.account:
            out.insert(0, need("role", caller.name))
        return out

    def simulations(ctx: CheckContext) -> list[Request]:
        caller = caller_principal(ctx.aws.identity_arn())
        try:
            slr_exists = ctx.aws.service_linked_role_exists()
        except FactUnavailable:
            slr_exists = False
        principal_arn, _ = _principal_arn(ctx, caller)
        batches = simulation_batches(caller_needs(ctx.spec, caller, ctx.aws.region, slr_exists))
        return [
            need("simulate_principal_policy", principal_arn, [action], resources, context)
            for (action, context), resources in batches.items()
        ]

    return [need("identity_arn"), Then(first)]


@check(
    "iam.caller-permissions",
    "The caller may create the cluster (CreateCluster, PassRole, service-linked role)",
    Severity.CRITICAL,
    needs=lambda spec, plan: _caller_needs(spec),
)
def caller_permissions(ctx: CheckContext) -> list[Outcome]:
    """The caller may CreateCluster, PassRole and create the SLR; no CreateCluster at all: WARN."""
    caller = caller_principal(ctx.aws.identity_arn())
    resource = caller.identity_arn
    if caller.kind == "root":
        return [
            passed(
                resource,
                "the account's root user: IAM policies do not limit it (service control "
                "policies of an organization still may, and are not read here)",
            )
        ]
    slr_note = ""
    slr_known = True
    try:
        slr_exists = ctx.aws.service_linked_role_exists()
    except FactUnavailable as exc:
        slr_exists, slr_known = False, False
        slr_note = f" Whether {SERVICE_LINKED_ROLE} exists is unknown ({exc.describe()})."
    needs = caller_needs(ctx.spec, caller, ctx.aws.region, slr_exists)
    batches = simulation_batches(needs)
    if caller.kind == "other":
        return [
            unknown(
                resource,
                f"could not tell: {resource} is not a role or user the IAM policy simulator "
                "can test",
                f"Check it where the cluster will be created, e.g. for the role: "
                f"{simulate_commands('ROLE_ARN', batches)} ({SIMULATOR_DOC})",
            )
        ]
    principal_arn, path_note = _principal_arn(ctx, caller)
    answers: list[SimulatedDecision] = []
    try:
        for (action, context), resources in batches.items():
            answers += ctx.aws.simulate_principal_policy(
                principal_arn, [action], resources, context
            )
    except FactUnavailable as exc:
        return [
            unknown(
                resource,
                f"could not tell: {exc.describe()}{path_note}; the caller needs "
                f"{', '.join(dict.fromkeys(r.action for r in needs))}.{slr_note}",
                f"Run the simulator with credentials allowed iam:SimulatePrincipalPolicy: "
                f"{simulate_commands(principal_arn, batches)} ({SIMULATOR_DOC})",
                action=exc.action,
                why=exc.reason,
            )
        ]
    return [_judge(caller, principal_arn, needs, answers, path_note + slr_note, slr_known)]


@dataclass
class _Answers:
    """The simulator's answers sorted by what they mean for the caller."""

    denied: list[Requirement] = field(default_factory=list)
    depends: list[tuple[Requirement, SimulatedDecision]] = field(default_factory=list)
    untold: list[Requirement] = field(default_factory=list)
    if_missing: list[Requirement] = field(default_factory=list)  # denied SLR creation, unread


def _sort(needs: list[Requirement], answers: list[SimulatedDecision], slr_known: bool) -> _Answers:
    by_pair = {(a.action.lower(), a.resource): a for a in answers}
    out = _Answers()
    for req in needs:
        answer = by_pair.get((req.action.lower(), req.resource))
        if answer is None:
            out.untold.append(req)
        elif answer.decision == "allowed":
            continue
        elif answer.missing_context:
            out.depends.append((req, answer))
        elif not slr_known and req.action == "iam:CreateServiceLinkedRole":
            out.if_missing.append(req)
        else:
            out.denied.append(req)
    return out


def _judge(
    caller: CallerPrincipal,
    principal_arn: str,
    needs: list[Requirement],
    answers: list[SimulatedDecision],
    note: str,
    slr_known: bool = True,
) -> Outcome:
    """``slr_known``: whether the service-linked role's existence was read; when not, a
    denied ``iam:CreateServiceLinkedRole`` matters only if the role is missing (UNKNOWN)."""
    found = _sort(needs, answers, slr_known)
    who = f"{caller.kind} {caller.name}" if caller.name else caller.identity_arn
    if found.denied:
        return _denied(caller, principal_arn, who, found.denied, note)
    if found.depends or found.untold or found.if_missing:
        return _undecided(caller, principal_arn, who, found, note)
    actions = ", ".join(dict.fromkeys(r.action for r in needs))
    return passed(
        caller.identity_arn,
        f"the simulator says {who} may call {actions} on every resource it needs.{note}",
    )


def _denied(
    caller: CallerPrincipal,
    principal_arn: str,
    who: str,
    denied: list[Requirement],
    note: str,
) -> Outcome:
    """FAIL when the caller may call CreateCluster but lacks the rest; WARN when it may not
    call CreateCluster at all: the credentials of this run (a CI runner's read-only role,
    hp-preflight's own policy) are then not the identity that creates the cluster, which the
    check cannot see; judging them as the account's would be a false FAIL."""
    lines = "; ".join(f"{r.action} on {r.resource} ({r.why})" for r in denied)
    document = minimal_policy([(r.action, r.resource) for r in denied])
    verb = "put-role-policy --role-name" if caller.kind == "role" else "put-user-policy --user-name"
    grant = (
        f"aws iam {verb} {shlex.quote(caller.name)} --policy-name hyperpod-create-cluster "
        f"--policy-document {shlex.quote(compact(document))}"
    )
    sources = list(dict.fromkeys(f"{r.source}: {r.quote}" for r in denied))
    if any(r.action == "sagemaker:CreateCluster" for r in denied):
        return warned(
            caller.identity_arn,
            f"the credentials of this run ({who}) may not call sagemaker:CreateCluster, so "
            "they are not the identity that will create this cluster (or, if they are, "
            f"creation fails with AccessDenied); the simulator says {who} may not: "
            f"{lines}.{note}",
            "Run hp-preflight with the credentials that will run create-cluster to check "
            f"them; or, if {principal_arn} is the one, grant it: {grant}",
            denied=[f"{r.action} {r.resource}" for r in denied],
            sources=sources,
        )
    return failed(
        caller.identity_arn,
        f"the simulator says {who} may not: {lines}.{note}",
        f"Grant it to {principal_arn}: {grant} (or run create-cluster as an identity that has "
        "these permissions)",
        denied=[f"{r.action} {r.resource}" for r in denied],
        sources=sources,
    )


def _undecided(
    caller: CallerPrincipal, principal_arn: str, who: str, found: _Answers, note: str
) -> Outcome:
    parts = (
        [
            f"{r.action} on {r.resource} depends on {', '.join(a.missing_context)}"
            for r, a in found.depends
        ]
        + [f"{r.action} on {r.resource}: no answer from the simulator" for r in found.untold]
        + [
            f"{r.action} on {r.resource} is not allowed, which fails creation only if "
            f"{SERVICE_LINKED_ROLE} does not exist yet"
            for r in found.if_missing
        ]
    )
    status = warned if not found.untold and not found.if_missing else unknown
    recheck = simulation_batches([r for r, _ in found.depends] + found.untold + found.if_missing)
    return status(
        caller.identity_arn,
        f"{who} may not be allowed everything: {'; '.join(parts)}.{note}",
        (
            f"See whether {SERVICE_LINKED_ROLE} exists (`aws iam get-role --role-name "
            f"{SERVICE_LINKED_ROLE}`); "
            if found.if_missing
            else ""
        )
        + "Check the named condition keys of the caller's policies, e.g. with "
        f"{simulate_commands(principal_arn, recheck)}",
    )
