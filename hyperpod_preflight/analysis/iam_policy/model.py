"""The IAM evaluator's data: policy documents as parsed (``Policy``, ``Statement`` ...), the
requests it answers (``Request``) and its answers (``Decision``, ``Uncertainty``,
``AccessSummary``, ``PublicGrant``). Pure data, no logic beyond formatting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Document = Mapping[str, Any] | str | bytes
"""A policy document as read: a dict, JSON text, or URL-encoded JSON (as IAM's APIs return it)."""
ContextValue = str | bool | int | Sequence[str]
Context = Mapping[str, ContextValue]
"""Request context keys (``aws:PrincipalAccount``, ``s3:prefix`` ...): case-insensitive."""

VARIABLES_VERSION = "2012-10-17"  # policy variables are literal text in any other version


# ---------------------------------------------------------------------------------------------
# Public result types


class PolicyKind(StrEnum):
    IDENTITY = "identity policy"
    BOUNDARY = "permissions boundary"
    RESOURCE = "resource policy"
    TRUST = "trust policy"


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class DecisionStatus(StrEnum):
    ALLOWED = "ALLOWED"
    EXPLICIT_DENY = "EXPLICIT_DENY"
    IMPLICIT_DENY = "IMPLICIT_DENY"
    CONDITIONAL = "CONDITIONAL"  # depends on a Condition that could not be evaluated
    UNRESOLVED = "UNRESOLVED"  # policy variable, unknown principal or malformed policy


class UncertaintyKind(StrEnum):
    CONDITION = "condition"
    VARIABLE = "variable"
    PRINCIPAL = "principal"
    MALFORMED = "malformed"


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One operator/key pair of a statement's ``Condition`` block (values are OR-ed)."""

    operator: str
    key: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        shown = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.operator} {self.key} = {shown}"


@dataclass(frozen=True, kw_only=True)
class StatementRef:
    """Which statement of which policy: what a message needs to point at."""

    policy: str
    kind: PolicyKind
    index: int  # position in the Statement list (0 for a lone statement object)
    sid: str | None = None
    effect: Effect | None = None  # None: the statement's Effect could not be read

    def __str__(self) -> str:
        sid = f" (Sid {self.sid!r})" if self.sid else ""
        return f"{_title(self.kind, self.policy)} statement #{self.index}{sid}"


@dataclass(frozen=True, kw_only=True)
class PolicyProblem:
    """Something in a document that is not a valid policy; ``statement`` None: the document."""

    policy: str
    statement: int | None
    message: str

    def __str__(self) -> str:
        where = "" if self.statement is None else f" statement #{self.statement}"
        return f"{self.policy or '(unnamed)'!r}{where}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class Uncertainty:
    """Why a statement might or might not apply: what stops a definite answer."""

    policy: str
    kind: UncertaintyKind
    statement: StatementRef | None = None  # None when the whole document is unreadable
    conditions: tuple[Condition, ...] = ()
    variables: tuple[str, ...] = ()
    detail: str = ""

    def __str__(self) -> str:
        where = str(self.statement) if self.statement else f"policy {self.policy or '(unnamed)'!r}"
        if self.kind is UncertaintyKind.CONDITION:
            return f"{where}: condition {'; '.join(str(c) for c in self.conditions)}"
        if self.kind is UncertaintyKind.VARIABLE:
            return f"{where}: unresolved policy variable {', '.join(self.variables)}"
        return f"{where}: {self.detail}"


@dataclass(frozen=True, kw_only=True)
class Decision:
    """The answer for one (action, resource) request."""

    action: str
    resource: str
    status: DecisionStatus
    allowed_by: tuple[StatementRef, ...] = ()
    denied_by: tuple[StatementRef, ...] = ()
    uncertain: tuple[Uncertainty, ...] = ()  # set for CONDITIONAL and UNRESOLVED
    not_allowed_by: tuple[str, ...] = ()  # for IMPLICIT_DENY: the layers lacking an Allow
    problems: tuple[PolicyProblem, ...] = ()  # every problem seen in the policies, for the record
    explanation: str = ""

    @property
    def allowed(self) -> bool:
        return self.status is DecisionStatus.ALLOWED

    @property
    def denied(self) -> bool:
        return self.status in (DecisionStatus.EXPLICIT_DENY, DecisionStatus.IMPLICIT_DENY)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The conditions the answer depends on (empty unless CONDITIONAL/UNRESOLVED)."""
        return tuple(c for u in self.uncertain for c in u.conditions)


@dataclass(frozen=True, kw_only=True)
class Request:
    """One request to evaluate: action, resource ARN and the context keys it is known to carry."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, action: str, resource: str, context: Mapping[str, str] | None = None) -> Request:
        return cls(action=action, resource=resource, context=tuple((context or {}).items()))


@dataclass(frozen=True, kw_only=True)
class PublicGrant:
    """A resource-policy statement that allows everyone (``*``) something."""

    statement: StatementRef
    actions: tuple[str, ...]
    not_action: bool  # True: everything except ``actions``
    resources: tuple[str, ...]
    not_resource: bool
    via_not_principal: bool  # an Allow with NotPrincipal grants everyone else
    conditions: tuple[Condition, ...]  # empty for an unconditional grant


@dataclass(frozen=True, kw_only=True)
class AccessSummary:
    """Decisions grouped by outcome: what a check turns into PASS / FAIL / UNKNOWN."""

    allowed: tuple[Decision, ...] = ()
    denied: tuple[Decision, ...] = ()  # explicit and implicit
    uncertain: tuple[Decision, ...] = ()  # CONDITIONAL and UNRESOLVED

    @property
    def missing_actions(self) -> tuple[str, ...]:
        return _unique(d.action for d in self.denied)

    @property
    def ok(self) -> bool:
        return not self.denied and not self.uncertain


# ---------------------------------------------------------------------------------------------
# Parsed documents


@dataclass(frozen=True)
class Element:
    """An Action/Resource list; ``negated`` for NotAction/NotResource."""

    values: tuple[str, ...]
    negated: bool


@dataclass(frozen=True)
class PrincipalElement:
    """``Principal``/``NotPrincipal`` as (type, value) pairs; type ``*`` for a bare ``"*"``."""

    entries: tuple[tuple[str, str], ...]
    negated: bool


@dataclass(frozen=True)
class Statement:
    """One statement. ``None`` elements could not be read (see ``problems``) or are absent."""

    index: int
    sid: str | None
    effect: Effect | None
    action: Element | None
    resource: Element | None
    principal: PrincipalElement | None
    conditions: tuple[Condition, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """A parsed policy. ``readable`` False: the document itself could not be understood."""

    name: str
    kind: PolicyKind
    version: str | None
    statements: tuple[Statement, ...]
    problems: tuple[PolicyProblem, ...]
    readable: bool

    @property
    def ok(self) -> bool:
        return not self.problems

    def ref(self, statement: Statement) -> StatementRef:
        return StatementRef(
            policy=self.name,
            kind=self.kind,
            index=statement.index,
            sid=statement.sid,
            effect=statement.effect,
        )


PolicyLike = Policy | Document | tuple[str, Document]
"""One policy: parsed, a bare document, or ``(name, document)`` so results can name it."""
IdentityPolicies = Mapping[str, Document] | Iterable[PolicyLike]
"""Identity policies: ``{name: document}`` or a list of ``PolicyLike``."""


def _title(kind: PolicyKind, name: str) -> str:
    return f"{kind} {name!r}" if name else str(kind)


def _join(refs: Sequence[StatementRef]) -> str:
    return ", ".join(str(r) for r in refs) if refs else "no statement"


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
