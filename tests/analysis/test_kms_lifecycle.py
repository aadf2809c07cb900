"""analysis/kms_lifecycle.py: which key encrypts a lifecycle object, and kms:Decrypt decided
from the role's policies and the key policy (AWS's default key policy delegates to IAM)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hyperpod_preflight.analysis.iam_policy import DecisionStatus
from hyperpod_preflight.analysis.kms_lifecycle import (
    AWS_S3_KEY_ALIAS,
    decrypt_decision,
    decrypt_grants,
    identity_decision,
    key_reference,
    needs_key_policy,
)
from hyperpod_preflight.records import KmsGrant, KmsKey, S3ObjectHead

ACCOUNT = "111122223333"
OTHER = "444455556666"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/exec"
KEY = KmsKey(
    arn=f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
    manager="CUSTOMER",
    state="Enabled",
)


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str = "kms:Decrypt", resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def key_grant(principal: str, action: str = "kms:*", **extra: Any) -> dict[str, Any]:
    return {
        "Effect": extra.pop("effect", "Allow"),
        "Principal": {"AWS": principal},
        "Action": action,
        "Resource": "*",
        **extra,
    }


DEFAULT_KEY_POLICY = doc(key_grant(f"arn:aws:iam::{ACCOUNT}:root"))
VIA_S3 = {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}


def head(encryption: str | None, key_id: str | None = None) -> S3ObjectHead:
    return S3ObjectHead("b", "k", 10, encryption, key_id)


@pytest.mark.parametrize(
    ("object_head", "default", "expected"),
    [
        (head("aws:kms", KEY.arn), None, KEY.arn),
        (head("aws:kms:dsse", KEY.arn), ("AES256", None), KEY.arn),  # the object's own wins
        (head("aws:kms"), None, AWS_S3_KEY_ALIAS),
        (head("AES256"), ("aws:kms", KEY.arn), None),  # SSE-S3 object in a KMS bucket
        (head(None), None, None),
        (None, ("aws:kms", "alias/lc"), "alias/lc"),  # missing object: the bucket's default
        (None, ("aws:kms", None), AWS_S3_KEY_ALIAS),
        (None, ("AES256", None), None),
        (None, (None, None), None),
        (None, None, None),  # missing object, default unknown
    ],
)
def test_key_reference(
    object_head: S3ObjectHead | None,
    default: tuple[str | None, str | None] | None,
    expected: str | None,
) -> None:
    assert key_reference(object_head, default) == expected


@pytest.mark.parametrize(
    ("identity", "key_policy", "boundary", "expected"),
    [
        # AWS's default key policy delegates to IAM: the role's policy decides.
        ({"p": doc(allow())}, DEFAULT_KEY_POLICY, None, DecisionStatus.ALLOWED),
        ({"p": doc(allow(resource=KEY.arn))}, DEFAULT_KEY_POLICY, None, DecisionStatus.ALLOWED),
        ({"p": doc(allow("kms:*"))}, DEFAULT_KEY_POLICY, None, DecisionStatus.ALLOWED),
        ({}, DEFAULT_KEY_POLICY, None, DecisionStatus.IMPLICIT_DENY),
        ({"p": doc(allow("kms:Encrypt"))}, DEFAULT_KEY_POLICY, None, DecisionStatus.IMPLICIT_DENY),
        # The root of another account delegates nothing to this one.
        (
            {"p": doc(allow())},
            doc(key_grant(f"arn:aws:iam::{OTHER}:root")),
            None,
            DecisionStatus.IMPLICIT_DENY,
        ),
        # A key policy naming the role is enough on its own.
        ({}, doc(key_grant(ROLE, "kms:Decrypt")), None, DecisionStatus.ALLOWED),
        # Neither delegating nor naming the role: the role's Allow is not enough.
        (
            {"p": doc(allow())},
            doc(key_grant(f"arn:aws:iam::{ACCOUNT}:role/admin")),
            None,
            DecisionStatus.IMPLICIT_DENY,
        ),
        # The S3 condition is met by the request S3 makes.
        ({"p": doc(allow(Condition=VIA_S3))}, DEFAULT_KEY_POLICY, None, DecisionStatus.ALLOWED),
        (
            {"p": doc(allow(Condition={"StringEquals": {"kms:ViaService": "ec2.x"}}))},
            DEFAULT_KEY_POLICY,
            None,
            DecisionStatus.IMPLICIT_DENY,
        ),
        # An encryption-context condition cannot be decided here.
        (
            {},
            doc(
                key_grant(
                    ROLE,
                    "kms:Decrypt",
                    Condition={"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:*"}},
                )
            ),
            None,
            DecisionStatus.CONDITIONAL,
        ),
        # A Deny in the key policy wins over everything.
        (
            {"p": doc(allow())},
            doc(
                key_grant(f"arn:aws:iam::{ACCOUNT}:root"),
                key_grant(ROLE, "kms:Decrypt", effect="Deny"),
            ),
            None,
            DecisionStatus.EXPLICIT_DENY,
        ),
        # The permissions boundary caps the delegated grant.
        (
            {"p": doc(allow())},
            DEFAULT_KEY_POLICY,
            ("boundary", doc(allow("s3:*"))),
            DecisionStatus.IMPLICIT_DENY,
        ),
    ],
)
def test_decrypt_decision(
    identity: dict[str, Any],
    key_policy: dict[str, Any],
    boundary: tuple[str, Any] | None,
    expected: DecisionStatus,
) -> None:
    decision = decrypt_decision(
        KEY,
        identity,
        boundary=boundary,
        key_policy=json.dumps(key_policy),
        role_arn=ROLE,
        role_account=ACCOUNT,
    )
    assert decision.status is expected, decision.explanation


def test_identity_deny_only_sees_denies_alone() -> None:
    deny = {"p": doc({"Effect": "Deny", "Action": "kms:*", "Resource": "*"})}
    assert identity_decision(KEY, deny, role_account=ACCOUNT, deny_only=True).denied
    assert identity_decision(KEY, {}, role_account=ACCOUNT, deny_only=True).allowed
    assert identity_decision(KEY, {}, role_account=ACCOUNT).denied


def test_needs_key_policy_only_for_enabled_customer_keys_of_the_account() -> None:
    assert needs_key_policy(KEY, ACCOUNT)
    assert not needs_key_policy(KEY, OTHER)
    assert not needs_key_policy(None, ACCOUNT)
    for changed in ({"manager": "AWS"}, {"state": "Disabled"}):
        assert not needs_key_policy(KmsKey(**{**KEY.__dict__, **changed}), ACCOUNT)


def test_decrypt_grants_split_by_constraints() -> None:
    plain = KmsGrant("g1", ROLE, ("Decrypt", "Encrypt"))
    constrained = KmsGrant("g2", ROLE, ("Decrypt",), ("EncryptionContextSubset a=b",))
    other = KmsGrant("g3", ROLE, ("Encrypt",))
    assert decrypt_grants([plain, constrained, other]) == ([plain], [constrained])
