"""Parsing IAM policy documents (a dict, JSON text, or the URL-encoded JSON IAM's APIs
return) into ``Policy``; never raises: what is wrong is listed in ``Policy.problems``
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html)."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from .model import (
    Condition,
    Document,
    Effect,
    Element,
    IdentityPolicies,
    Policy,
    PolicyKind,
    PolicyLike,
    PolicyProblem,
    PrincipalElement,
    Statement,
)

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
