"""Three-valued matching (yes / no / cannot tell) of what a statement names against a
request: actions and resources with ``*`` and ``?``, policy variables such as
``${aws:PrincipalAccount}``, and ``Condition`` operators over the request context
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
A key absent from the context given is "cannot tell", never "absent from the request"."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from enum import Enum

from .model import VARIABLES_VERSION, Condition, Context, Element


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
