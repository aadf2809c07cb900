"""KMS readers for the keys that encrypt a config's lifecycle objects (mixin of
:class:`~hyperpod_preflight.facts.AwsFacts`).

Cost, per distinct key reference (a key id, key ARN or alias as S3 reports it): one
``DescribeKey``; per customer managed key of this account that a check judges, one
``GetKeyPolicy`` (only policy ``default`` exists:
https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html); and, only when
the policies do not already allow a role, one ``ListGrants`` filtered on that role.
"""

from __future__ import annotations

from typing import Any

from ..errors import FactUnavailable
from ..records import KmsGrant, KmsKey
from .core import FactsCore, memoized

_NOT_FOUND = ("NotFoundException",)


class KmsFacts(FactsCore):
    """KMS readers: memoized per key (and per key and grantee for grants)."""

    @memoized
    def key(self, key_id: str) -> KmsKey | None:
        """``DescribeKey`` of a key id, key ARN, alias name or alias ARN; None when KMS says
        it does not exist (``NotFoundException``)."""
        resp = self.call("kms", "DescribeKey", none_on=_NOT_FOUND, KeyId=key_id)
        if resp is None:
            return None
        meta = resp.get("KeyMetadata") or {}
        arn, state = meta.get("Arn"), meta.get("KeyState")
        if not isinstance(arn, str) or not isinstance(state, str):
            raise FactUnavailable("kms:DescribeKey", "error", f"no Arn or KeyState for {key_id}")
        return KmsKey(
            arn=arn,
            key_id=str(meta.get("KeyId", "")),
            manager=str(meta.get("KeyManager", "")),
            state=state,
        )

    @memoized
    def key_policy(self, key_arn: str) -> str:
        """The key policy (JSON text) of a key of this account (``GetKeyPolicy`` does not
        work across accounts)."""
        resp = self.call("kms", "GetKeyPolicy", KeyId=key_arn, PolicyName="default")
        policy = resp.get("Policy")
        if not isinstance(policy, str):
            raise FactUnavailable("kms:GetKeyPolicy", "error", f"no Policy for {key_arn}")
        return policy

    @memoized
    def key_grants(self, key_arn: str, grantee: str) -> tuple[KmsGrant, ...]:
        """The grants of ``key_arn`` whose grantee principal is ``grantee`` (an IAM ARN)."""
        grants = self.paginate(
            "kms", "ListGrants", "Grants", KeyId=key_arn, GranteePrincipal=grantee
        )
        return tuple(_grant(g) for g in grants if g.get("GranteePrincipal") == grantee)


def _grant(raw: dict[str, Any]) -> KmsGrant:
    constraints = raw.get("Constraints") or {}
    shown = tuple(
        f"{kind} {key}={value}"
        for kind in ("EncryptionContextEquals", "EncryptionContextSubset")
        for key, value in (constraints.get(kind) or {}).items()
    )
    return KmsGrant(
        grant_id=str(raw.get("GrantId", "")),
        grantee=str(raw.get("GranteePrincipal", "")),
        operations=tuple(str(op) for op in raw.get("Operations") or ()),
        constraints=shown,
    )
