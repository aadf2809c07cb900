"""IAM policy documents: parsing and a pure evaluator of AWS's decision logic.

The evaluator answers "may this principal call ``action`` on ``resource``?" from the policy
documents the facts layer read (identity policies, an optional permissions boundary, an optional
resource policy), following AWS's "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):

- an explicit ``Deny`` that applies, in any policy, wins;
- otherwise an ``Allow`` is needed from an identity policy, or (same account) from a resource
  policy that names the principal; across accounts both sides must allow;
- a permissions boundary never grants; when one is given the action must also be allowed by it
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html). A resource
  policy's grant escapes the boundary only for an IAM user, or for the exact role-session ARN.

It never guesses. A ``Condition`` it cannot evaluate from the request context it was given makes
the answer CONDITIONAL (naming the statement and the condition); a policy variable it cannot
resolve, an unknown principal or a malformed policy make it UNRESOLVED. Both are "cannot tell",
never a pass or a fail. Service control policies, session policies and anything else not handed
in are outside its view.

Matching (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html):
actions are case-insensitive, resources case-sensitive, both with ``*`` (any run of characters,
``/`` and ``:`` included) and ``?`` (one character).
"""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "AccessSummary",
    "Condition",
    "Decision",
    "DecisionStatus",
    "Effect",
    "Policy",
    "PolicyKind",
    "PolicyProblem",
    "PublicGrant",
    "Request",
    "Statement",
    "StatementRef",
    "Uncertainty",
    "UncertaintyKind",
    "evaluate",
    "evaluate_many",
    "evaluate_requests",
    "missing_actions",
    "parse_policy",
    "public_grants",
    "summarize",
    "trust_allows",
]

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


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Condition(_Frozen):
    """One operator/key pair of a statement's ``Condition`` block (values are OR-ed)."""

    operator: str
    key: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        shown = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.operator} {self.key} = {shown}"


class StatementRef(_Frozen):
    """Which statement of which policy: what a message needs to point at."""

    policy: str
    kind: PolicyKind
    index: int  # position in the Statement list (0 for a lone statement object)
    sid: str | None = None
    effect: Effect | None = None  # None: the statement's Effect could not be read

    def __str__(self) -> str:
        sid = f" (Sid {self.sid!r})" if self.sid else ""
        return f"{_title(self.kind, self.policy)} statement #{self.index}{sid}"


class PolicyProblem(_Frozen):
    """Something in a document that is not a valid policy; ``statement`` None: the document."""

    policy: str
    statement: int | None
    message: str

    def __str__(self) -> str:
        where = "" if self.statement is None else f" statement #{self.statement}"
        return f"{self.policy or '(unnamed)'!r}{where}: {self.message}"


class Uncertainty(_Frozen):
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


class Decision(_Frozen):
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


class Request(_Frozen):
    """One request to evaluate: action, resource ARN and the context keys it is known to carry."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, action: str, resource: str, context: Mapping[str, str] | None = None) -> Request:
        return cls(action=action, resource=resource, context=tuple((context or {}).items()))


class PublicGrant(_Frozen):
    """A resource-policy statement that allows everyone (``*``) something."""

    statement: StatementRef
    actions: tuple[str, ...]
    not_action: bool  # True: everything except ``actions``
    resources: tuple[str, ...]
    not_resource: bool
    via_not_principal: bool  # an Allow with NotPrincipal grants everyone else
    conditions: tuple[Condition, ...]  # empty for an unconditional grant


class AccessSummary(_Frozen):
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

_ACTION_RE = re.compile(r"^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?_-]*)$")
_KNOWN_KEYS = {
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
}


def parse_policy(
    document: Document | None, *, name: str = "", kind: PolicyKind = PolicyKind.IDENTITY
) -> Policy:
    """Parse a policy document; never raises: what is wrong is listed in ``Policy.problems``."""

    def unreadable(message: str) -> Policy:
        problem = PolicyProblem(policy=name, statement=None, message=message)
        return Policy(name, kind, None, (), (problem,), readable=False)

    doc: Any = document
    if isinstance(doc, bytes):
        try:
            doc = doc.decode("utf-8")
        except UnicodeDecodeError:
            return unreadable("the document is not UTF-8 text")
    if isinstance(doc, str):
        text = doc.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            text = urllib.parse.unquote(text)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            return unreadable(f"the document is not JSON ({exc.msg} at {exc.pos})")
    if not isinstance(doc, Mapping):
        return unreadable(f"the document is a {type(doc).__name__}, not a JSON object")
    version = doc.get("Version")
    problems: list[PolicyProblem] = []
    if version is not None and version not in ("2012-10-17", "2008-10-17"):
        problems.append(PolicyProblem(policy=name, statement=None, message=f"Version {version!r}"))
    raw = doc.get("Statement")
    if raw is None:
        return unreadable("the document has no Statement")
    raw_list: list[Any] = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(raw_list, list):
        return unreadable("Statement is neither an object nor a list")
    statements: list[Statement] = []
    for index, item in enumerate(raw_list):
        statement = _parse_statement(index, item, kind)
        statements.append(statement)
        problems.extend(
            PolicyProblem(policy=name, statement=index, message=m) for m in statement.problems
        )
    return Policy(
        name,
        kind,
        version if isinstance(version, str) else None,
        tuple(statements),
        tuple(problems),
        readable=True,
    )


def _parse_statement(index: int, item: Any, kind: PolicyKind) -> Statement:
    problems: list[str] = []
    if not isinstance(item, Mapping):
        return Statement(index, None, None, None, None, None, (), ("not a JSON object",))
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        problems.append("Sid is not a string")
        sid = None
    unknown = sorted(str(k) for k in item if k not in _KNOWN_KEYS)
    if unknown:
        problems.append(f"unknown element(s) {', '.join(unknown)}")
    effect: Effect | None = None
    raw_effect = item.get("Effect")
    if raw_effect in ("Allow", "Deny"):
        effect = Effect(raw_effect)
    else:
        problems.append(f"Effect must be Allow or Deny, not {raw_effect!r}")

    action = _parse_element(item, "Action", "NotAction", problems, required=True)
    if action is not None:
        bad = [a for a in action.values if not _ACTION_RE.match(a)]
        if bad:
            problems.append(f"not an action: {', '.join(map(repr, bad))}")
            action = None
    needs_resource = kind is not PolicyKind.TRUST
    resource = _parse_element(item, "Resource", "NotResource", problems, required=needs_resource)
    principal = _parse_principal(item, problems)
    if kind in (PolicyKind.IDENTITY, PolicyKind.BOUNDARY):
        if "Principal" in item or "NotPrincipal" in item:
            problems.append(f"a {kind} cannot name a Principal")
    elif "Principal" not in item and "NotPrincipal" not in item:
        problems.append(f"a {kind} statement needs Principal or NotPrincipal")
    conditions = _parse_conditions(item.get("Condition"), problems)
    return Statement(index, sid, effect, action, resource, principal, conditions, tuple(problems))


def _string_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _parse_element(
    item: Mapping[str, Any], name: str, not_name: str, problems: list[str], *, required: bool
) -> Element | None:
    if name in item and not_name in item:
        problems.append(f"both {name} and {not_name}")
        return None
    key = name if name in item else not_name if not_name in item else None
    if key is None:
        if required:
            problems.append(f"neither {name} nor {not_name}")
        return None
    values = _string_list(item[key])
    if values is None:
        problems.append(f"{key} must be a string or a list of strings")
        return None
    return Element(values, negated=key == not_name)


def _parse_principal(item: Mapping[str, Any], problems: list[str]) -> PrincipalElement | None:
    if "Principal" in item and "NotPrincipal" in item:
        problems.append("both Principal and NotPrincipal")
        return None
    key = "Principal" if "Principal" in item else "NotPrincipal" if "NotPrincipal" in item else None
    if key is None:
        return None
    raw = item[key]
    if raw == "*":
        return PrincipalElement((("*", "*"),), negated=key == "NotPrincipal")
    if not isinstance(raw, Mapping) or not raw:
        problems.append(f'{key} must be "*" or an object such as {{"AWS": ...}}')
        return None
    entries: list[tuple[str, str]] = []
    for principal_type, value in raw.items():
        values = _string_list(value)
        if values is None:
            problems.append(f"{key}.{principal_type} must be a string or a list of strings")
            return None
        entries.extend((str(principal_type), v) for v in values)
    return PrincipalElement(tuple(entries), negated=key == "NotPrincipal")


def _condition_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _parse_conditions(raw: Any, problems: list[str]) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        problems.append("Condition must be an object")
        return ()
    out: list[Condition] = []
    for operator, block in raw.items():
        if not isinstance(block, Mapping):
            problems.append(f"Condition {operator} must map keys to values")
            continue
        for key, value in block.items():
            listed = value if isinstance(value, list) else [value]
            values = [_condition_value(v) for v in listed]
            if any(v is None for v in values):
                problems.append(f"Condition {operator} {key}: values must be scalars")
                continue
            out.append(
                Condition(
                    operator=str(operator),
                    key=str(key),
                    values=tuple(v for v in values if v is not None),
                )
            )
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Matching: three-valued (yes / no / cannot tell)


class _Tri(Enum):
    NO = 0
    MAYBE = 1
    YES = 2


def _tri_any(values: Iterable[_Tri]) -> _Tri:
    return max(values, key=lambda t: t.value, default=_Tri.NO)


def _tri_all(values: Iterable[_Tri]) -> _Tri:
    return min(values, key=lambda t: t.value, default=_Tri.YES)


def _tri_not(value: _Tri) -> _Tri:
    return {_Tri.YES: _Tri.NO, _Tri.NO: _Tri.YES, _Tri.MAYBE: _Tri.MAYBE}[value]


@functools.lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _wild_match(pattern: str, value: str, *, ignore_case: bool) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def _context_string(context: Mapping[str, tuple[str, ...]], key: str) -> str | None:
    values = context.get(key.lower())
    return values[0] if values is not None and len(values) == 1 else None


def _resolve(
    text: str, context: Mapping[str, tuple[str, ...]], version: str | None, *, wildcards: bool
) -> tuple[re.Pattern[str] | None, tuple[str, ...], str]:
    """Turn a policy string into a regex, substituting policy variables from ``context``.

    Returns (regex, unresolved variables, the text with resolved variables). The regex treats
    an unresolved variable as ``.*`` (so "could it match at all?" can still be answered).
    """
    if version != VARIABLES_VERSION or "${" not in text:
        pattern = _wildcard(text, False) if wildcards else re.compile(re.escape(text), re.DOTALL)
        return pattern, (), text
    parts: list[str] = []
    shown: list[str] = []
    unresolved: list[str] = []
    position = 0
    for found in _VARIABLE.finditer(text):
        literal = text[position : found.start()]
        parts.append(_wildcard(literal, False).pattern if wildcards else re.escape(literal))
        shown.append(literal)
        inner = found.group(1).strip()
        key, _, default = inner.partition(",")
        key = key.strip()
        value = _ESCAPES.get(key) or _context_string(context, key)
        if value is None and default.strip():
            value = default.strip().strip("'")
        if value is None:
            unresolved.append(found.group(0))
            parts.append(".*")
            shown.append(found.group(0))
        else:
            parts.append(re.escape(value))
            shown.append(value)
        position = found.end()
    tail = text[position:]
    parts.append(_wildcard(tail, False).pattern if wildcards else re.escape(tail))
    shown.append(tail)
    return re.compile("".join(parts), re.DOTALL), tuple(unresolved), "".join(shown)


def _match_resource(
    element: Element,
    resource: str,
    context: Mapping[str, tuple[str, ...]],
    version: str | None,
) -> tuple[_Tri, tuple[str, ...]]:
    results: list[_Tri] = []
    unresolved: list[str] = []
    for pattern_text in element.values:
        pattern, missing, _ = _resolve(pattern_text, context, version, wildcards=True)
        assert pattern is not None
        hit = pattern.fullmatch(resource) is not None
        if not hit:
            results.append(_Tri.NO)
        elif missing:
            results.append(_Tri.MAYBE)
            unresolved.extend(missing)
        else:
            results.append(_Tri.YES)
    found = _tri_any(results)
    if element.negated:
        found = _tri_not(found)
    return found, tuple(unresolved) if found is _Tri.MAYBE else ()


def _match_action(element: Element, action: str) -> _Tri:
    hit = any(_wild_match(p, action, ignore_case=True) for p in element.values)
    return _Tri.YES if hit != element.negated else _Tri.NO


# --- principals --------------------------------------------------------------------------------


class _Via(Enum):
    """How a principal entry matched: decides whether a resource-policy Allow grants."""

    ANYONE = "anyone"
    ACCOUNT = "account"  # delegates to the account's identity policies; no grant by itself
    ROLE_OF_SESSION = "role"  # the role of a role session: still limited by its boundary
    EXACT = "exact"


@dataclass(frozen=True)
class _Who:
    kind: str  # "AWS" or "Service"
    value: str
    account: str | None = None
    role_name: str | None = None  # for role ARNs and role-session ARNs
    is_session: bool = False
    is_user: bool = False


_ARN_PARTS = re.compile(r"^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$")


def _who_for_arn(arn: str) -> _Who:
    match = _ARN_PARTS.match(arn)
    if not match:
        if re.fullmatch(r"\d{12}", arn):
            return _Who("AWS", arn, account=arn)
        return _Who("AWS", arn)
    _, service, _, account, rest = match.groups()
    role_name = None
    is_session = False
    if service == "iam" and rest.startswith("role/"):
        role_name = rest.rsplit("/", 1)[-1]
    elif service == "sts" and rest.startswith("assumed-role/"):
        pieces = rest.split("/")
        role_name = pieces[1] if len(pieces) > 2 else None
        is_session = True
    is_user = service == "iam" and rest.startswith("user/")
    return _Who("AWS", arn, account or None, role_name, is_session, is_user)


def _principal_entry(entry: tuple[str, str], who: _Who | None) -> tuple[_Tri, _Via | None]:
    principal_type, value = entry
    if principal_type == "*" or (principal_type == "AWS" and value == "*"):
        if principal_type == "AWS" and who is not None and who.kind != "AWS":
            return _Tri.NO, None
        return _Tri.YES, _Via.ANYONE
    if who is None:
        return _Tri.MAYBE, None
    if principal_type != who.kind:
        return _Tri.NO, None
    if who.kind == "Service":
        return (_Tri.YES, _Via.EXACT) if value.lower() == who.value.lower() else (_Tri.NO, None)
    if value == who.value:
        return _Tri.YES, _Via.EXACT
    named = _who_for_arn(value)
    if named.account and who.account == named.account:
        if re.fullmatch(r"\d{12}", value) or value.endswith(":root"):
            return _Tri.YES, _Via.ACCOUNT
        if (
            named.role_name is not None
            and not named.is_session
            and who.is_session
            and who.role_name == named.role_name
        ):
            return _Tri.YES, _Via.ROLE_OF_SESSION
    return _Tri.NO, None


_VIA_RANK = [_Via.ACCOUNT, _Via.ROLE_OF_SESSION, _Via.ANYONE, _Via.EXACT]


def _match_principal(element: PrincipalElement, who: _Who | None) -> tuple[_Tri, _Via | None]:
    results = [_principal_entry(e, who) for e in element.entries]
    found = _tri_any(r for r, _ in results)
    vias = [v for r, v in results if r is _Tri.YES and v is not None]
    via = max(vias, key=_VIA_RANK.index) if vias else None
    if element.negated:
        return _tri_not(found), (_Via.ANYONE if found is _Tri.NO else None)
    return found, via


# --- conditions --------------------------------------------------------------------------------

_STRING_OPERATORS = {
    "StringEquals": (False, False, False),  # (negated, ignore_case, wildcards)
    "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, True, False),
    "StringNotEqualsIgnoreCase": (True, True, False),
    "StringLike": (False, False, True),
    "StringNotLike": (True, False, True),
}
_ARN_OPERATORS = {"ArnEquals": False, "ArnLike": False, "ArnNotEquals": True, "ArnNotLike": True}


def _value_matches(
    operator: str,
    pattern: str,
    value: str,
    context: Mapping[str, tuple[str, ...]],
    version: str | None,
) -> bool | None:
    """Does one context value match one condition value? None: cannot tell (variable)."""
    if operator in _STRING_OPERATORS:
        _, ignore_case, wildcards = _STRING_OPERATORS[operator]
        regex, missing, _ = _resolve(pattern, context, version, wildcards=wildcards)
        if missing or regex is None:
            return None
        flags = re.IGNORECASE if ignore_case else 0
        return re.fullmatch(regex.pattern, value, flags | re.DOTALL) is not None
    if operator in _ARN_OPERATORS:
        _, missing, text = _resolve(pattern, context, version, wildcards=True)
        if missing:
            return None
        want, got = text.split(":", 5), value.split(":", 5)
        return len(want) == len(got) == 6 and all(
            _wild_match(w, g, ignore_case=False) for w, g in zip(want, got, strict=True)
        )
    if operator == "Bool":
        return pattern.lower() == value.lower()
    return None


def _evaluate_condition(
    condition: Condition, context: Mapping[str, tuple[str, ...]], version: str | None
) -> _Tri:
    """One operator/key pair; MAYBE when the operator is unsupported or the key is unknown."""
    operator = condition.operator
    qualifier = ""
    if ":" in operator:
        qualifier, _, operator = operator.partition(":")
        if qualifier not in ("ForAnyValue", "ForAllValues"):
            return _Tri.MAYBE
    if operator.endswith("IfExists"):
        operator = operator.removesuffix("IfExists")  # key known present: same test
    supported = operator in _STRING_OPERATORS or operator in _ARN_OPERATORS or operator == "Bool"
    values = context.get(condition.key.lower())
    if operator == "Null" and not qualifier:
        if values is None or len(condition.values) != 1:
            return _Tri.MAYBE  # absent from what we were told is not absent from the request
        return _Tri.YES if condition.values[0].lower() == "false" else _Tri.NO
    if not supported or values is None:
        return _Tri.MAYBE
    negated = (
        _STRING_OPERATORS[operator][0]
        if operator in _STRING_OPERATORS
        else (_ARN_OPERATORS.get(operator, False))
    )

    def one(value: str) -> bool | None:
        hits = [_value_matches(operator, p, value, context, version) for p in condition.values]
        if any(h is True for h in hits):
            return not negated
        if any(h is None for h in hits):
            return None
        return negated

    if not qualifier:
        if len(values) != 1:
            return _Tri.MAYBE
        result = one(values[0])
        return _Tri.MAYBE if result is None else _Tri.YES if result else _Tri.NO
    outcomes = [one(v) for v in values]
    if qualifier == "ForAllValues":
        if any(o is False for o in outcomes):
            return _Tri.NO
        return _Tri.MAYBE if any(o is None for o in outcomes) else _Tri.YES
    if any(o is True for o in outcomes):
        return _Tri.YES
    return _Tri.MAYBE if any(o is None for o in outcomes) else _Tri.NO


def _normalise_context(context: Context | None) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for key, value in (context or {}).items():
        if isinstance(value, bool):
            out[key.lower()] = ("true" if value else "false",)
        elif isinstance(value, str | int):
            out[key.lower()] = (str(value),)
        else:
            out[key.lower()] = tuple(str(v) for v in value)
    return out


# ---------------------------------------------------------------------------------------------
# Statement and policy evaluation


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


def _as_policy(item: PolicyLike, default_name: str, kind: PolicyKind) -> Policy:
    if isinstance(item, Policy):
        return item
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return parse_policy(item[1], name=item[0], kind=kind)
    return parse_policy(item, name=default_name, kind=kind)


def _as_policies(items: IdentityPolicies | None, kind: PolicyKind) -> list[Policy]:
    if items is None:
        return []
    if isinstance(items, Mapping):
        return [parse_policy(doc, name=str(name), kind=kind) for name, doc in items.items()]
    return [_as_policy(item, f"#{i}", kind) for i, item in enumerate(items)]


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


def _title(kind: PolicyKind, name: str) -> str:
    return f"{kind} {name!r}" if name else str(kind)


def _join(refs: Sequence[StatementRef]) -> str:
    return ", ".join(str(r) for r in refs) if refs else "no statement"


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


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
