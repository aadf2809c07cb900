"""AWS's decision logic over parsed policies: explicit deny wins, then an Allow from the
identity policies (capped by a permissions boundary) or a resource policy, across accounts
from both (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
and the entry points: ``evaluate``, ``evaluate_requests``, ``evaluate_many``, ``trust_allows``,
``public_grants``, ``summarize``, ``missing_actions``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .conditions import (
    _evaluate_condition,
    _match_action,
    _match_resource,
    _normalise_context,
    _Tri,
    _tri_all,
    _tri_any,
)
from .model import (
    AccessSummary,
    Context,
    ContextValue,
    Decision,
    DecisionStatus,
    Effect,
    Element,
    IdentityPolicies,
    Policy,
    PolicyKind,
    PolicyLike,
    PolicyProblem,
    PublicGrant,
    Request,
    Statement,
    StatementRef,
    Uncertainty,
    UncertaintyKind,
    _join,
    _title,
    _unique,
)
from .parse import _as_policies, _as_policy
from .principals import _ARN_PARTS, _match_principal, _Via, _Who, _who_for_arn


@dataclass(frozen=True)
class _Hit:
    """A statement that applies (YES) or might (MAYBE, with why)."""

    ref: StatementRef
    effect: Effect | None
    applies: _Tri
    via: _Via | None = None
    uncertainty: Uncertainty | None = None


def _statement_hit(
    policy: Policy,
    statement: Statement,
    action: str,
    resource: str | None,
    who: _Who | None,
    context: Mapping[str, tuple[str, ...]],
) -> _Hit | None:
    ref = policy.ref(statement)

    def maybe(kind: UncertaintyKind, **extra: Any) -> _Hit:
        uncertainty = Uncertainty(policy=policy.name, kind=kind, statement=ref, **extra)
        return _Hit(ref, statement.effect, _Tri.MAYBE, uncertainty=uncertainty)

    malformed = bool(statement.problems)
    if statement.action is not None and _match_action(statement.action, action) is _Tri.NO:
        return None
    variables: tuple[str, ...] = ()
    if resource is not None and statement.resource is not None:
        found, variables = _match_resource(statement.resource, resource, context, policy.version)
        if found is _Tri.NO:
            return None
    via: _Via | None = None
    principal_unknown = False
    if policy.kind in (PolicyKind.RESOURCE, PolicyKind.TRUST) and statement.principal is not None:
        found_principal, via = _match_principal(statement.principal, who)
        if found_principal is _Tri.NO:
            return None
        principal_unknown = found_principal is _Tri.MAYBE
    condition_results = [
        (c, _evaluate_condition(c, context, policy.version)) for c in statement.conditions
    ]
    if any(r is _Tri.NO for _, r in condition_results):
        return None
    if malformed:
        return maybe(UncertaintyKind.MALFORMED, detail="; ".join(statement.problems))
    if variables:
        return maybe(UncertaintyKind.VARIABLE, variables=variables)
    if principal_unknown:
        return maybe(UncertaintyKind.PRINCIPAL, detail="the requesting principal is not known")
    open_conditions = tuple(c for c, r in condition_results if r is _Tri.MAYBE)
    if open_conditions:
        return maybe(UncertaintyKind.CONDITION, conditions=open_conditions)
    return _Hit(ref, statement.effect, _Tri.YES, via=via)


@dataclass
class _Layer:
    """What one set of policies says: allow and deny, each yes / no / cannot tell."""

    label: str
    allow: _Tri = _Tri.NO
    deny: _Tri = _Tri.NO
    allow_hits: list[_Hit] = field(default_factory=list)
    deny_hits: list[_Hit] = field(default_factory=list)
    allow_uncertain: list[Uncertainty] = field(default_factory=list)
    deny_uncertain: list[Uncertainty] = field(default_factory=list)

    @property
    def allow_refs(self) -> tuple[StatementRef, ...]:
        return tuple(h.ref for h in self.allow_hits)


def _layer(
    label: str,
    policies: Sequence[Policy],
    action: str,
    resource: str | None,
    who: _Who | None,
    context: Mapping[str, tuple[str, ...]],
    *,
    granting: Iterable[_Via | None] | None = None,
) -> _Layer:
    """Evaluate statements; ``granting`` limits which principal matches count as an Allow."""
    allowed_vias = set(granting) if granting is not None else None
    layer = _Layer(label)
    for policy in policies:
        if not policy.readable:
            unreadable = Uncertainty(
                policy=policy.name,
                kind=UncertaintyKind.MALFORMED,
                detail="; ".join(p.message for p in policy.problems),
            )
            layer.allow_uncertain.append(unreadable)
            layer.deny_uncertain.append(unreadable)
            continue
        for statement in policy.statements:
            hit = _statement_hit(policy, statement, action, resource, who, context)
            if hit is None:
                continue
            if hit.effect in (Effect.DENY, None):
                _record(hit, layer.deny_hits, layer.deny_uncertain)
            if hit.effect in (Effect.ALLOW, None):
                if (
                    allowed_vias is not None
                    and hit.applies is _Tri.YES
                    and hit.via not in allowed_vias
                ):
                    continue
                _record(hit, layer.allow_hits, layer.allow_uncertain)
    layer.allow = _level(layer.allow_hits, layer.allow_uncertain)
    layer.deny = _level(layer.deny_hits, layer.deny_uncertain)
    return layer


def _record(hit: _Hit, sure: list[_Hit], unsure: list[Uncertainty]) -> None:
    if hit.applies is _Tri.YES:
        sure.append(hit)
    elif hit.uncertainty is not None:
        unsure.append(hit.uncertainty)


def _level(sure: list[_Hit], unsure: list[Uncertainty]) -> _Tri:
    return _Tri.YES if sure else _Tri.MAYBE if unsure else _Tri.NO


def _implied_context(principal: _Who | None, resource_account: str | None) -> dict[str, str]:
    implied: dict[str, str] = {}
    if principal is not None and principal.account:
        implied["aws:PrincipalAccount"] = principal.account
        if not principal.is_session:
            implied["aws:PrincipalArn"] = principal.value
        if principal.is_user:
            implied["aws:username"] = principal.value.rsplit("/", 1)[-1]
    if resource_account:
        implied["aws:ResourceAccount"] = resource_account
    return implied


def evaluate(
    action: str,
    resource: str,
    identity_policies: IdentityPolicies,
    *,
    boundary: PolicyLike | None = None,
    resource_policy: PolicyLike | None = None,
    principal_arn: str | None = None,
    resource_account: str | None = None,
    resource_policy_required: bool = False,
    context: Context | None = None,
) -> Decision:
    """Decide one request.

    ``identity_policies``: ``{name: document}`` or a list of ``Policy`` / ``(name, document)``;
    names appear in the result (``allowed_by`` / ``denied_by``). ``boundary`` and
    ``resource_policy``: one ``Policy``, ``(name, document)`` or document. ``principal_arn``: the
    role, role-session or user asking (needed to apply a resource policy). ``resource_account``:
    the account owning the resource when its ARN does not say (S3 buckets and objects; ignored
    for ARNs naming an account and for ``*``); when the owner differs from the principal's
    account both the identity and the resource policy must allow. ``context``: the
    condition keys the request is known to carry; ``aws:PrincipalAccount``,
    ``aws:PrincipalArn`` and ``aws:ResourceAccount`` are filled in from the two ARNs/accounts.
    ``resource_policy_required``: the resource policy decides, as a KMS key policy does
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html): it must grant the
    principal, or grant the account root so that the identity policies' Allow counts.
    """
    policies = _policy_set(
        identity_policies,
        boundary,
        resource_policy,
        principal_arn,
        resource_account,
        resource_policy_required,
    )
    return _decide(action, resource, policies, context)


@dataclass(frozen=True)
class _PolicySet:
    """Everything that applies to one principal, parsed once."""

    identity: Sequence[Policy]
    boundary: Policy | None
    resource: Policy | None
    principal_arn: str | None
    resource_account: str | None
    resource_policy_required: bool

    @property
    def problems(self) -> tuple[PolicyProblem, ...]:
        policies = [*self.identity, self.boundary, self.resource]
        return tuple(p for policy in policies if policy is not None for p in policy.problems)


def _policy_set(
    identity_policies: IdentityPolicies,
    boundary: PolicyLike | None,
    resource_policy: PolicyLike | None,
    principal_arn: str | None,
    resource_account: str | None,
    resource_policy_required: bool,
) -> _PolicySet:
    return _PolicySet(
        identity=_as_policies(identity_policies, PolicyKind.IDENTITY),
        boundary=None if boundary is None else _as_policy(boundary, "", PolicyKind.BOUNDARY),
        resource=(
            None
            if resource_policy is None
            else _as_policy(resource_policy, "", PolicyKind.RESOURCE)
        ),
        principal_arn=principal_arn,
        resource_account=resource_account,
        resource_policy_required=resource_policy_required,
    )


@dataclass(frozen=True)
class _Paths:
    """How the layers combine into "allowed": the answer, the grants used, the layers lacking."""

    allowed: _Tri
    refs: tuple[StatementRef, ...]
    gaps: tuple[_Layer, ...]


_DIRECT = frozenset({_Via.EXACT, _Via.ANYONE, _Via.ROLE_OF_SESSION})


def _decide(action: str, resource: str, policies: _PolicySet, context: Context | None) -> Decision:
    who = _who_for_arn(policies.principal_arn) if policies.principal_arn else None
    # An ARN naming its account is authoritative; ``resource_account`` fills in for ARNs that
    # carry none (S3); a bare "*" has no owner to compare.
    arn = _ARN_PARTS.match(resource)
    resource_account = (arn.group(4) or policies.resource_account) if arn else None
    merged: dict[str, ContextValue] = dict(_implied_context(who, resource_account))
    merged.update(context or {})
    ctx = _normalise_context(merged)
    cross_account = bool(
        who and who.account and resource_account and who.account != resource_account
    )

    def layer(policy: Policy, granting: Iterable[_Via] | None = None) -> _Layer:
        title = _title(policy.kind, policy.name)
        return _layer(title, [policy], action, resource, who, ctx, granting=granting)

    id_layer = _layer("identity policies", policies.identity, action, resource, who, ctx)
    b_layer = layer(policies.boundary) if policies.boundary else None
    r_layer = d_layer = None
    if policies.resource is not None:
        r_layer = layer(policies.resource, set(_Via) if cross_account else _DIRECT)
        d_layer = layer(policies.resource, {_Via.ACCOUNT})
    layers = [x for x in (id_layer, b_layer, r_layer) if x is not None]
    problems = policies.problems

    def decision(status: DecisionStatus, explanation: str, **fields: Any) -> Decision:
        return Decision(
            action=action,
            resource=resource,
            status=status,
            problems=problems,
            explanation=explanation,
            **fields,
        )

    deny = _tri_any(x.deny for x in layers)
    if deny is _Tri.YES:
        refs = tuple(h.ref for x in layers for h in x.deny_hits)
        return decision(
            DecisionStatus.EXPLICIT_DENY,
            f"{action} on {resource} is explicitly denied by {_join(refs)}",
            denied_by=refs,
        )
    if cross_account:
        assert who is not None
        missing = f"account {resource_account}, the principal in {who.account}"
        paths = _cross_account(id_layer, b_layer, r_layer, missing)
    else:
        paths = _same_account(id_layer, b_layer, r_layer, d_layer, who, policies)
    if paths.allowed is _Tri.NO:
        lacking = tuple(g.label for g in paths.gaps)
        return decision(
            DecisionStatus.IMPLICIT_DENY,
            f"{action} on {resource} is not allowed: no Allow in {' or '.join(lacking)}",
            not_allowed_by=lacking,
        )
    allow_refs = tuple(dict.fromkeys(paths.refs))
    if paths.allowed is _Tri.YES and deny is _Tri.NO:
        granted = tuple(r for r in allow_refs if r.kind is not PolicyKind.BOUNDARY)
        return decision(
            DecisionStatus.ALLOWED,
            f"{action} on {resource} is allowed by {_join(granted)}",
            allowed_by=allow_refs,
        )
    uncertain: list[Uncertainty] = []
    if deny is _Tri.MAYBE:
        uncertain += [u for x in layers for u in x.deny_uncertain]
    if paths.allowed is _Tri.MAYBE:
        uncertain += [u for x in layers if x.allow is _Tri.MAYBE for u in x.allow_uncertain]
    return _uncertain_decision(decision, f"{action} on {resource}", uncertain, allow_refs)


def _gaps(*layers: _Layer | None) -> tuple[_Layer, ...]:
    return tuple(x for x in layers if x is not None and x.allow is _Tri.NO)


def _cross_account(
    id_layer: _Layer, b_layer: _Layer | None, r_layer: _Layer | None, missing: str
) -> _Paths:
    """Across accounts both sides must allow; no resource policy means no grant on its side."""
    if r_layer is None:
        r_layer = _Layer(f"a resource policy (the resource is in {missing})")
    b_allow = b_layer.allow if b_layer else _Tri.YES
    refs = id_layer.allow_refs + (b_layer.allow_refs if b_layer else ()) + r_layer.allow_refs
    allowed = _tri_all([id_layer.allow, b_allow, r_layer.allow])
    return _Paths(allowed, refs, _gaps(id_layer, b_layer, r_layer))


def _same_account(
    id_layer: _Layer,
    b_layer: _Layer | None,
    r_layer: _Layer | None,
    d_layer: _Layer | None,
    who: _Who | None,
    policies: _PolicySet,
) -> _Paths:
    """Within one account an identity Allow or a resource-policy grant is enough.

    The boundary caps identity grants; it caps resource-policy grants too, except for an IAM
    user or a grant naming the exact role-session ARN (AWS: "Evaluating identity-based policies
    with permissions boundaries and resource-based policies"). With ``resource_policy_required``
    (KMS keys) the resource policy must grant the principal itself, or grant the account
    (delegating to IAM) while the identity policies allow.
    """
    b_allow = b_layer.allow if b_layer else _Tri.YES
    b_refs = b_layer.allow_refs if b_layer else ()
    identity = _tri_all([id_layer.allow, b_allow])
    if r_layer is None or d_layer is None:
        if policies.resource_policy_required:
            required = _Layer("a resource policy (it is required; none was given)")
            return _Paths(_Tri.NO, (), (required,))
        return _Paths(identity, id_layer.allow_refs + b_refs, _gaps(id_layer, b_layer))
    direct = r_layer.allow
    direct_refs = r_layer.allow_refs
    if b_layer is not None and not _escapes_boundary(r_layer, who):
        direct = _tri_all([direct, b_allow])
        direct_refs += b_refs
    refs: tuple[StatementRef, ...] = direct_refs if direct is _Tri.YES else ()
    if policies.resource_policy_required:
        delegated = _tri_all([d_layer.allow, identity])
        if delegated is _Tri.YES:
            refs += d_layer.allow_refs + id_layer.allow_refs + b_refs
        lacking = _gaps(id_layer, b_layer)
        if r_layer.allow is _Tri.NO and d_layer.allow is _Tri.NO:
            lacking += (r_layer,)
        return _Paths(_tri_any([direct, delegated]), refs, lacking)
    if identity is _Tri.YES:
        refs += id_layer.allow_refs + b_refs
    return _Paths(_tri_any([identity, direct]), refs, _gaps(id_layer, b_layer, r_layer))


def _uncertain_decision(
    decision: Callable[..., Decision],
    subject: str,
    uncertain: Sequence[Uncertainty],
    allow_refs: tuple[StatementRef, ...],
) -> Decision:
    unique = tuple(dict.fromkeys(uncertain))
    conditional = all(u.kind is UncertaintyKind.CONDITION for u in unique)
    status = DecisionStatus.CONDITIONAL if conditional else DecisionStatus.UNRESOLVED
    verb = "depends on" if conditional else "cannot be decided:"
    return decision(
        status,
        f"{subject} {verb} {'; '.join(str(u) for u in unique)}",
        allowed_by=allow_refs,
        uncertain=unique,
    )


def _escapes_boundary(layer: _Layer, who: _Who | None) -> bool:
    """A same-account resource-policy grant the boundary does not cap (see ``_decide``)."""
    if who is None:
        return False
    vias = {h.via for h in layer.allow_hits}
    return (who.is_user and bool(vias)) or (who.is_session and _Via.EXACT in vias)


# ---------------------------------------------------------------------------------------------
# Convenience: many requests, trust policies, public grants, summaries


def evaluate_requests(
    requests: Iterable[Request],
    identity_policies: IdentityPolicies,
    *,
    boundary: PolicyLike | None = None,
    resource_policy: PolicyLike | None = None,
    principal_arn: str | None = None,
    resource_account: str | None = None,
    resource_policy_required: bool = False,
    context: Context | None = None,
) -> list[Decision]:
    """Evaluate each request, parsing every policy once; a request's context adds to ``context``."""
    policies = _policy_set(
        identity_policies,
        boundary,
        resource_policy,
        principal_arn,
        resource_account,
        resource_policy_required,
    )
    out: list[Decision] = []
    for request in requests:
        merged: dict[str, ContextValue] = dict(context or {})
        merged.update(dict(request.context))
        out.append(_decide(request.action, request.resource, policies, merged))
    return out


def evaluate_many(
    actions: Iterable[str],
    resources: Iterable[str],
    identity_policies: IdentityPolicies,
    *,
    boundary: PolicyLike | None = None,
    resource_policy: PolicyLike | None = None,
    principal_arn: str | None = None,
    resource_account: str | None = None,
    resource_policy_required: bool = False,
    context: Context | None = None,
) -> list[Decision]:
    """Every action on every resource (action-major order); options as for ``evaluate``."""
    resource_list = list(resources)
    return evaluate_requests(
        [Request(action=a, resource=r) for a in actions for r in resource_list],
        identity_policies,
        boundary=boundary,
        resource_policy=resource_policy,
        principal_arn=principal_arn,
        resource_account=resource_account,
        resource_policy_required=resource_policy_required,
        context=context,
    )


def summarize(decisions: Iterable[Decision]) -> AccessSummary:
    decided = list(decisions)
    return AccessSummary(
        allowed=tuple(d for d in decided if d.allowed),
        denied=tuple(d for d in decided if d.denied),
        uncertain=tuple(d for d in decided if not d.allowed and not d.denied),
    )


def missing_actions(decisions: Iterable[Decision]) -> dict[str, tuple[str, ...]]:
    """The denied (explicitly or implicitly) actions, each with the resources it is denied on."""
    out: dict[str, list[str]] = {}
    for decision in decisions:
        if decision.denied:
            out.setdefault(decision.action, []).append(decision.resource)
    return {action: _unique(found) for action, found in out.items()}


def trust_allows(
    trust_policy: PolicyLike,
    service_principal: str,
    action: str = "sts:AssumeRole",
    *,
    context: Context | None = None,
) -> Decision:
    """May ``service_principal`` (e.g. ``sagemaker.amazonaws.com``) assume the role?"""
    policy = _as_policy(trust_policy, "", PolicyKind.TRUST)
    who = _Who("Service", service_principal)
    ctx = _normalise_context(context)
    layer = _layer("trust policy", [policy], action, None, who, ctx)
    subject = f"{service_principal} {action}"

    def decision(status: DecisionStatus, explanation: str, **fields: Any) -> Decision:
        return Decision(
            action=action,
            resource=service_principal,
            status=status,
            problems=policy.problems,
            explanation=explanation,
            **fields,
        )

    if layer.deny is _Tri.YES:
        refs = tuple(h.ref for h in layer.deny_hits)
        return decision(
            DecisionStatus.EXPLICIT_DENY, f"{subject} is denied by {_join(refs)}", denied_by=refs
        )
    if layer.allow is _Tri.NO:
        return decision(
            DecisionStatus.IMPLICIT_DENY,
            f"the {_title(PolicyKind.TRUST, policy.name)} does not let {subject}",
            not_allowed_by=("trust policy",),
        )
    refs = tuple(h.ref for h in layer.allow_hits)
    if layer.allow is _Tri.YES and layer.deny is _Tri.NO:
        return decision(
            DecisionStatus.ALLOWED, f"{subject} is allowed by {_join(refs)}", allowed_by=refs
        )
    uncertain = list(layer.deny_uncertain) if layer.deny is _Tri.MAYBE else []
    if layer.allow is _Tri.MAYBE:
        uncertain += layer.allow_uncertain
    return _uncertain_decision(decision, subject, uncertain, refs)


def public_grants(
    resource_policy: PolicyLike, *, include_conditional: bool = False
) -> list[PublicGrant]:
    """Statements allowing everyone (``"*"``, ``{"AWS": "*"}`` or an Allow with NotPrincipal).

    Unconditional ones only, unless ``include_conditional`` (a condition such as
    ``aws:SourceVpce`` or ``aws:PrincipalOrgID`` usually narrows "everyone" a lot).
    """
    policy = _as_policy(resource_policy, "", PolicyKind.RESOURCE)
    grants: list[PublicGrant] = []
    for statement in policy.statements:
        if statement.effect is not Effect.ALLOW or statement.principal is None:
            continue
        element = statement.principal
        if element.negated:
            everyone, via_not = True, True
        else:
            everyone = any(t == "*" or (t == "AWS" and v == "*") for t, v in element.entries)
            via_not = False
        if not everyone or (statement.conditions and not include_conditional):
            continue
        action = statement.action or Element((), negated=False)
        resource = statement.resource or Element((), negated=False)
        grants.append(
            PublicGrant(
                statement=policy.ref(statement),
                actions=action.values,
                not_action=action.negated,
                resources=resource.values,
                not_resource=resource.negated,
                via_not_principal=via_not,
                conditions=statement.conditions,
            )
        )
    return grants
