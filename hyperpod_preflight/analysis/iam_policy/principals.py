"""Who is asking: principal ARNs, and whether a resource or trust policy's ``Principal``
names them (and how: exactly, through their account, or as the role of a session), which
decides whether a resource-policy Allow grants by itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from .conditions import _Tri, _tri_any, _tri_not
from .model import PrincipalElement


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
