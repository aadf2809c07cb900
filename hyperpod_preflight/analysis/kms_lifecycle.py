"""Which KMS keys encrypt a config's lifecycle objects, and whether an execution role may
decrypt them through S3 (pure: no AWS access).

S3 decrypts an SSE-KMS object by calling ``kms:Decrypt`` on behalf of the principal reading
it, with ``kms:ViaService`` = ``s3.<region>.amazonaws.com``
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html). A key policy
decides who may use a key: a customer managed key needs its key policy to name the role, or
to grant the account root (AWS's default key policy, which delegates to IAM) while the role's
own policies allow the action
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html). An AWS
managed key (``aws/s3``) has a policy AWS writes: it lets every principal of its account use
the key through S3 and no one else
(https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..records import KMS_ENCRYPTIONS, KmsGrant, KmsKey, S3ObjectHead
from .iam_policy import Decision, evaluate
from .iam_requirements import LIFECYCLE_KMS
from .iam_roles import ConfigRole
from .s3_lifecycle import LifecycleObject

AWS_S3_KEY_ALIAS = "alias/aws/s3"  # what SSE-KMS uses when no key is named
DECRYPT = "kms:Decrypt"
KEY_STATE_DOC = "https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def key_reference(
    head: S3ObjectHead | None, default: tuple[str | None, str | None] | None
) -> str | None:
    """The KMS key (id, ARN or alias, as S3 reports it) that encrypts an object (``head``),
    or, when the object does not exist (``head`` None), that a new upload gets from the
    bucket's default encryption ``(algorithm, key id)``; None when it is not SSE-KMS (SSE-S3,
    no encryption, or ``default`` unknown)."""
    if head is not None:
        return (head.kms_key_id or AWS_S3_KEY_ALIAS) if head.kms else None
    if default is None:
        return None
    algorithm, key_id = default
    if algorithm not in KMS_ENCRYPTIONS:
        return None
    return key_id or AWS_S3_KEY_ALIAS


def execution_roles_reading(
    roles: Iterable[ConfigRole], objects: Iterable[LifecycleObject]
) -> list[ConfigRole]:
    """The execution roles of the groups that read any of ``objects``."""
    groups = {g for o in objects for g in o.groups}
    return [r for r in roles if r.kind == "ExecutionRole" and groups.intersection(r.groups)]


def needs_key_policy(key: KmsKey | None, account: str) -> bool:
    """Whether a key's policy decides anything here and can be read: an enabled customer
    managed key of ``account`` (``GetKeyPolicy`` does not work across accounts)."""
    return key is not None and key.enabled and not key.aws_managed and key.account == account


def decrypt_context(key: KmsKey, caller_account: str) -> dict[str, str]:
    """The context of the ``kms:Decrypt`` request S3 makes for a node of ``caller_account``."""
    context = {k: v.format(region=key.region) for k, v in LIFECYCLE_KMS[0].context}
    return {**context, "kms:CallerAccount": caller_account}


def decrypt_decision(
    key: KmsKey,
    identity: Mapping[str, Any],
    *,
    boundary: tuple[str, Any] | None,
    key_policy: str | Mapping[str, Any],
    role_arn: str,
    role_account: str,
) -> Decision:
    """May ``role_arn`` decrypt with ``key`` through S3? Its identity policies (and
    boundary) and the key policy, which must allow it directly or by delegating to IAM."""
    return evaluate(
        DECRYPT,
        key.arn,
        identity,
        boundary=boundary,
        resource_policy=("key policy", key_policy),
        principal_arn=role_arn,
        resource_policy_required=True,
        context=decrypt_context(key, role_account),
    )


def identity_decision(
    key: KmsKey, identity: Mapping[str, Any], *, role_account: str, deny_only: bool = False
) -> Decision:
    """The role's own policies alone on ``kms:Decrypt`` of ``key``; ``deny_only``: whether
    they deny it (an allow-everything stand-in supplies the Allow)."""
    policies = {**identity, "(stand-in: allow)": ALLOW_ALL} if deny_only else dict(identity)
    return evaluate(DECRYPT, key.arn, policies, context=decrypt_context(key, role_account))


def decrypt_grants(grants: Iterable[KmsGrant]) -> tuple[list[KmsGrant], list[KmsGrant]]:
    """The grants that include ``Decrypt``: (without constraints, with constraints)."""
    decrypting = [g for g in grants if "Decrypt" in g.operations]
    return [g for g in decrypting if not g.constraints], [g for g in decrypting if g.constraints]
