"""The IAM policy evaluator: AWS's decision logic on plain policy documents."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import pytest

from hyperpod_preflight.analysis.iam_policy import (
    Decision,
    DecisionStatus,
    PolicyKind,
    Request,
    UncertaintyKind,
    evaluate,
    evaluate_many,
    evaluate_requests,
    missing_actions,
    parse_policy,
    public_grants,
    summarize,
    trust_allows,
)
from hyperpod_preflight.results import jsonable

ALLOWED = DecisionStatus.ALLOWED
EXPLICIT = DecisionStatus.EXPLICIT_DENY
IMPLICIT = DecisionStatus.IMPLICIT_DENY
CONDITIONAL = DecisionStatus.CONDITIONAL
UNRESOLVED = DecisionStatus.UNRESOLVED

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/HyperPodExec"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/HyperPodExec/i-0abc"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
BUCKET = "arn:aws:s3:::sagemaker-lifecycle"
OBJECT = "arn:aws:s3:::sagemaker-lifecycle/scripts/on_create.sh"
KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:us-west-2:{OTHER_ACCOUNT}:key/0000abcd-12ab-34cd-56ef-1234567890ab"
ENI = f"arn:aws:ec2:us-west-2:{ACCOUNT}:network-interface/*"
LOG_STREAM = (
    f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:/aws/sagemaker/Clusters/demo/abc123"
    ":log-stream:i-0abc"
)


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version:
        out["Version"] = version
    return out


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant(principal: Any, action: Any, resource: Any, effect: str = "Allow", **extra: Any) -> Any:
    return {
        "Effect": effect,
        "Principal": principal,
        "Action": action,
        "Resource": resource,
        **extra,
    }


@dataclass
class Case:
    id: str
    action: str
    resource: str
    policies: dict[str, Any]
    expected: DecisionStatus
    options: dict[str, Any] = field(default_factory=dict)
    names: tuple[str, ...] = ()  # policies that must be named in allowed_by / denied_by / uncertain


ALLOW_ALL = doc(allow("*"))
# The default key policy: the account root may do everything, which delegates to IAM policies.
KEY_POLICY_ROOT = doc(grant({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "kms:*", "*"))

CASES = [
    # --- basic matching -------------------------------------------------------------------
    Case(
        "exact-allow",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject", OBJECT))},
        ALLOWED,
        names=("p",),
    ),
    Case("no-policies", "s3:GetObject", OBJECT, {}, IMPLICIT),
    Case(
        "other-action-only",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:PutObject", "*"))},
        IMPLICIT,
    ),
    # The classic: GetObject granted on the bucket ARN covers no object.
    Case(
        "getobject-on-bucket-arn",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject", BUCKET))},
        IMPLICIT,
    ),
    Case(
        "getobject-on-bucket-star",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject", BUCKET + "/*"))},
        ALLOWED,
    ),
    # ... and its mirror: ListBucket granted on objects only does not cover the bucket.
    Case(
        "listbucket-on-objects",
        "s3:ListBucket",
        BUCKET,
        {"p": doc(allow("s3:ListBucket", BUCKET + "/*"))},
        IMPLICIT,
    ),
    Case(
        "describe-star-not-create",
        "ec2:CreateNetworkInterface",
        ENI,
        {"p": doc(allow("ec2:Describe*"))},
        IMPLICIT,
    ),
    Case(
        "describe-star-covers-describe",
        "ec2:DescribeSubnets",
        "*",
        {"p": doc(allow("ec2:Describe*"))},
        ALLOWED,
    ),
    Case("service-star", "ec2:CreateNetworkInterface", ENI, {"p": doc(allow("ec2:*"))}, ALLOWED),
    Case(
        "prefix-is-whole-service",
        "s3-object-lambda:GetObject",
        "*",
        {"p": doc(allow("s3:*"))},
        IMPLICIT,
    ),
    Case(
        "action-case-in-policy",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("S3:getobject", "*"))},
        ALLOWED,
    ),
    Case(
        "action-case-in-request",
        "S3:GETOBJECT",
        OBJECT,
        {"p": doc(allow("s3:GetObject", "*"))},
        ALLOWED,
    ),
    Case(
        "resource-case-sensitive",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject", "arn:aws:s3:::SageMaker-*"))},
        IMPLICIT,
    ),
    Case(
        "question-mark-one-char",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject", "arn:aws:s3:::sagemaker-lifecycl?/*"))},
        ALLOWED,
    ),
    Case(
        "question-mark-not-two",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject", "arn:aws:s3:::sagemaker-lifecyc?/*"))},
        IMPLICIT,
    ),
    Case(
        "question-mark-in-action",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObjec?", "*"))},
        ALLOWED,
    ),
    Case(
        "star-crosses-slash-and-colon",
        "logs:PutLogEvents",
        LOG_STREAM,
        {
            "p": doc(
                allow("logs:PutLogEvents", "arn:aws:logs:*:*:log-group:/aws/sagemaker/Clusters/*")
            )
        },
        ALLOWED,
    ),
    Case("star-everything", "iam:PassRole", ROLE, {"p": ALLOW_ALL}, ALLOWED),
    Case(
        "resource-list-second-matches",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow(["s3:GetObject"], [BUCKET, BUCKET + "/*"]))},
        ALLOWED,
    ),
    # --- NotAction / NotResource ------------------------------------------------------------
    Case(
        "notaction-allow-others",
        "s3:GetObject",
        OBJECT,
        {"p": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})},
        ALLOWED,
    ),
    Case(
        "notaction-allow-excludes-listed",
        "iam:PassRole",
        ROLE,
        {"p": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})},
        IMPLICIT,
    ),
    Case(
        "notaction-deny-others",
        "ec2:CreateNetworkInterface",
        ENI,
        {"p": doc(allow("*"), {"Effect": "Deny", "NotAction": ["s3:*"], "Resource": "*"})},
        EXPLICIT,
        names=("p",),
    ),
    Case(
        "notaction-deny-spares-listed",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("*"), {"Effect": "Deny", "NotAction": ["s3:*"], "Resource": "*"})},
        ALLOWED,
    ),
    Case(
        "notresource-allow",
        "s3:GetObject",
        OBJECT,
        {"p": doc({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"})},
        ALLOWED,
    ),
    Case(
        "notresource-allow-excluded",
        "s3:GetObject",
        "arn:aws:s3:::secret/k",
        {"p": doc({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"})},
        IMPLICIT,
    ),
    Case(
        "notresource-deny",
        "s3:GetObject",
        "arn:aws:s3:::other/k",
        {
            "p": doc(
                allow("s3:*"),
                {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::sagemaker-*"},
            )
        },
        EXPLICIT,
    ),
    Case(
        "notresource-deny-spares",
        "s3:GetObject",
        OBJECT,
        {
            "p": doc(
                allow("s3:*"),
                {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::sagemaker-*"},
            )
        },
        ALLOWED,
    ),
    # --- several policies, boundary ---------------------------------------------------------
    Case(
        "deny-beats-allow-across-policies",
        "s3:GetObject",
        OBJECT,
        {"grants": ALLOW_ALL, "guardrail": doc(deny("s3:GetObject", "arn:aws:s3:::sagemaker-*"))},
        EXPLICIT,
        names=("guardrail",),
    ),
    Case(
        "two-allows-both-named",
        "s3:GetObject",
        OBJECT,
        {"a": doc(allow("s3:GetObject")), "b": doc(allow("s3:Get*"))},
        ALLOWED,
        names=("a", "b"),
    ),
    Case(
        "boundary-does-not-allow",
        "ec2:CreateNetworkInterface",
        ENI,
        {"p": ALLOW_ALL},
        IMPLICIT,
        {"boundary": ("edge", doc(allow("s3:*")))},
    ),
    Case(
        "boundary-allows",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject"))},
        ALLOWED,
        {"boundary": ("edge", doc(allow("s3:*")))},
    ),
    Case(
        "boundary-deny",
        "s3:GetObject",
        OBJECT,
        {"p": ALLOW_ALL},
        EXPLICIT,
        {"boundary": ("edge", doc(allow("*"), deny("s3:*")))},
        names=("edge",),
    ),
    Case(
        "boundary-never-grants",
        "s3:GetObject",
        OBJECT,
        {},
        IMPLICIT,
        {"boundary": ("edge", ALLOW_ALL)},
    ),
    # --- conditions -------------------------------------------------------------------------
    Case(
        "conditional-allow",
        "s3:GetObject",
        OBJECT,
        {
            "p": doc(
                allow(
                    "s3:GetObject",
                    "*",
                    Sid="VpcOnly",
                    Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}},
                )
            )
        },
        CONDITIONAL,
        names=("p",),
    ),
    Case(
        "conditional-allow-context-true",
        "s3:GetObject",
        OBJECT,
        {
            "p": doc(
                allow("s3:GetObject", "*", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})
            )
        },
        ALLOWED,
        {"context": {"aws:SourceVpc": "vpc-1"}},
    ),
    Case(
        "conditional-allow-context-false",
        "s3:GetObject",
        OBJECT,
        {
            "p": doc(
                allow("s3:GetObject", "*", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})
            )
        },
        IMPLICIT,
        {"context": {"aws:sourcevpc": "vpc-2"}},
    ),
    Case(
        "conditional-deny-on-allowed",
        "s3:GetObject",
        OBJECT,
        {
            "grants": ALLOW_ALL,
            "guard": doc(deny("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": False}})),
        },
        CONDITIONAL,
        names=("guard",),
    ),
    Case(
        "conditional-deny-context-spares",
        "s3:GetObject",
        OBJECT,
        {
            "grants": ALLOW_ALL,
            "guard": doc(deny("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}})),
        },
        ALLOWED,
        {"context": {"aws:SecureTransport": True}},
    ),
    Case(
        "conditional-deny-context-applies",
        "s3:GetObject",
        OBJECT,
        {
            "grants": ALLOW_ALL,
            "guard": doc(deny("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}})),
        },
        EXPLICIT,
        {"context": {"aws:SecureTransport": False}},
    ),
    Case(
        "conditional-deny-irrelevant-when-not-allowed",
        "s3:GetObject",
        OBJECT,
        {"guard": doc(deny("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}}))},
        IMPLICIT,
    ),
    Case(
        "unsupported-operator",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:*", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))},
        CONDITIONAL,
        {"context": {"aws:SourceIp": "10.1.2.3"}},
    ),
    Case(
        "stringlike-context",
        "iam:PassRole",
        ROLE,
        {
            "p": doc(
                allow(
                    "iam:PassRole",
                    "*",
                    Condition={"StringLike": {"iam:PassedToService": "sagemaker.*"}},
                )
            )
        },
        ALLOWED,
        {"context": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    ),
    Case(
        "stringnotequals-context",
        "iam:PassRole",
        ROLE,
        {
            "p": doc(
                allow(
                    "iam:PassRole",
                    "*",
                    Condition={"StringNotEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
                )
            )
        },
        ALLOWED,
        {"context": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    ),
    Case(
        "forallvalues-context",
        "s3:GetObject",
        OBJECT,
        {
            "p": doc(
                allow(
                    "s3:*",
                    "*",
                    Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}},
                )
            )
        },
        IMPLICIT,
        {"context": {"aws:TagKeys": ["team", "owner"]}},
    ),
    Case(
        "foranyvalue-context",
        "s3:GetObject",
        OBJECT,
        {
            "p": doc(
                allow(
                    "s3:*", "*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}
                )
            )
        },
        ALLOWED,
        {"context": {"aws:TagKeys": ["team", "owner"]}},
    ),
    Case(
        "arnlike-context",
        "s3:GetObject",
        OBJECT,
        {
            "p": doc(
                allow(
                    "s3:*",
                    "*",
                    Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/HyperPod*"}},
                )
            )
        },
        ALLOWED,
        {"principal_arn": ROLE},
    ),
    Case(
        "arnlike-context-segmentwise",
        "s3:GetObject",
        OBJECT,
        {
            "p": doc(
                allow(
                    "s3:*",
                    "*",
                    Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Other*"}},
                )
            )
        },
        IMPLICIT,
        {"principal_arn": ROLE},
    ),
    Case(
        "null-condition",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:*", "*", Condition={"Null": {"aws:SourceVpc": "false"}}))},
        ALLOWED,
        {"context": {"aws:SourceVpc": "vpc-1"}},
    ),
    Case(
        "ifexists-unknown-key",
        "s3:GetObject",
        OBJECT,
        {
            "p": doc(
                allow("s3:*", "*", Condition={"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}})
            )
        },
        CONDITIONAL,
    ),
    # The managed policy's S3 statement: same-account buckets only, decided from the two accounts.
    Case(
        "managed-s3-same-account",
        "s3:GetObject",
        OBJECT,
        {
            "managed": doc(
                allow(
                    ["s3:ListBucket", "s3:GetObject"],
                    "arn:aws:s3:::sagemaker-*",
                    Condition={"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
                )
            )
        },
        ALLOWED,
        {"principal_arn": ROLE, "resource_account": ACCOUNT},
    ),
    Case(
        "managed-s3-accounts-unknown",
        "s3:GetObject",
        OBJECT,
        {
            "managed": doc(
                allow(
                    "s3:GetObject",
                    "arn:aws:s3:::sagemaker-*",
                    Condition={"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
                )
            )
        },
        CONDITIONAL,
    ),
    # --- policy variables -------------------------------------------------------------------
    Case(
        "variable-unresolved",
        "s3:GetObject",
        "arn:aws:s3:::home/alice/notes",
        {"p": doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))},
        UNRESOLVED,
        names=("p",),
    ),
    Case(
        "variable-resolved-from-context",
        "s3:GetObject",
        "arn:aws:s3:::home/alice/notes",
        {"p": doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))},
        ALLOWED,
        {"context": {"aws:username": "alice"}},
    ),
    Case(
        "variable-resolved-from-user-arn",
        "s3:GetObject",
        "arn:aws:s3:::home/bob/notes",
        {"p": doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))},
        IMPLICIT,
        {"principal_arn": USER},
    ),
    Case(
        "variable-cannot-match-anyway",
        "s3:GetObject",
        "arn:aws:s3:::other/x",
        {"p": doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))},
        IMPLICIT,
    ),
    Case(
        "variable-literal-in-old-version",
        "s3:GetObject",
        "arn:aws:s3:::home/alice/notes",
        {
            "p": doc(
                allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"), version="2008-10-17"
            )
        },
        IMPLICIT,
    ),
    Case(
        "variable-default-value",
        "s3:GetObject",
        "arn:aws:s3:::home/shared/notes",
        {"p": doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username, 'shared'}/*"))},
        ALLOWED,
    ),
    Case(
        "variable-escape-star-is-literal",
        "s3:GetObject",
        "arn:aws:s3:::b/ab",
        {"p": doc(allow("s3:GetObject", "arn:aws:s3:::b/a${*}"))},
        IMPLICIT,
    ),
    # --- shapes and malformed documents -----------------------------------------------------
    Case(
        "statement-single-dict",
        "s3:GetObject",
        OBJECT,
        {"p": {"Version": "2012-10-17", "Statement": allow("s3:GetObject", "*")}},
        ALLOWED,
    ),
    Case(
        "json-string-document",
        "s3:GetObject",
        OBJECT,
        {"p": json.dumps(doc(allow("s3:GetObject")))},
        ALLOWED,
    ),
    Case(
        "url-encoded-document",
        "s3:GetObject",
        OBJECT,
        {"p": urllib.parse.quote(json.dumps(doc(allow("s3:GetObject"))))},
        ALLOWED,
    ),
    Case(
        "malformed-statement-matching",
        "s3:GetObject",
        OBJECT,
        {"p": doc({"Action": "s3:GetObject", "Resource": "*"})},
        UNRESOLVED,
        names=("p",),
    ),
    Case(
        "malformed-effect-case",
        "s3:GetObject",
        OBJECT,
        {"grants": ALLOW_ALL, "p": doc({"Effect": "deny", "Action": "s3:*", "Resource": "*"})},
        UNRESOLVED,
    ),
    Case(
        "malformed-statement-elsewhere",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject"), {"Action": "iam:*", "Resource": "*"})},
        ALLOWED,
    ),
    Case(
        "malformed-document-blocks-allow",
        "s3:GetObject",
        OBJECT,
        {"good": ALLOW_ALL, "broken": "{not json"},
        UNRESOLVED,
        names=("broken",),
    ),
    Case(
        "malformed-document-deny-still-wins",
        "s3:GetObject",
        OBJECT,
        {"guard": doc(deny("s3:*")), "broken": "{not json"},
        EXPLICIT,
    ),
    # --- resource policies ------------------------------------------------------------------
    Case(
        "bucket-policy-grants-role",
        "s3:GetObject",
        OBJECT,
        {},
        ALLOWED,
        {
            "resource_policy": ("bucket", doc(grant({"AWS": ROLE}, "s3:GetObject", BUCKET + "/*"))),
            "principal_arn": ROLE,
        },
        names=("bucket",),
    ),
    Case(
        "bucket-policy-grants-role-session",
        "s3:GetObject",
        OBJECT,
        {},
        ALLOWED,
        {
            "resource_policy": doc(grant({"AWS": [ROLE]}, "s3:*", BUCKET + "/*")),
            "principal_arn": SESSION,
        },
    ),
    Case(
        "bucket-policy-grants-other-role",
        "s3:GetObject",
        OBJECT,
        {},
        IMPLICIT,
        {
            "resource_policy": doc(
                grant({"AWS": f"arn:aws:iam::{ACCOUNT}:role/Other"}, "s3:GetObject", BUCKET + "/*")
            ),
            "principal_arn": ROLE,
        },
    ),
    Case(
        "bucket-policy-account-root-delegates",
        "s3:GetObject",
        OBJECT,
        {},
        IMPLICIT,
        {
            "resource_policy": doc(
                grant({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "s3:GetObject", BUCKET + "/*")
            ),
            "principal_arn": ROLE,
        },
    ),
    Case(
        "bucket-policy-deny-principal",
        "s3:GetObject",
        OBJECT,
        {"p": ALLOW_ALL},
        EXPLICIT,
        {
            "resource_policy": doc(grant({"AWS": ACCOUNT}, "s3:*", BUCKET + "/*", effect="Deny")),
            "principal_arn": ROLE,
        },
    ),
    Case(
        "bucket-policy-principal-unknown",
        "s3:GetObject",
        OBJECT,
        {},
        UNRESOLVED,
        {"resource_policy": doc(grant({"AWS": ROLE}, "s3:GetObject", BUCKET + "/*"))},
    ),
    Case(
        "bucket-policy-capped-by-role-boundary",
        "s3:GetObject",
        OBJECT,
        {},
        IMPLICIT,
        {
            "resource_policy": doc(grant({"AWS": ROLE}, "s3:GetObject", BUCKET + "/*")),
            "principal_arn": SESSION,
            "boundary": doc(allow("ec2:*")),
        },
    ),
    Case(
        "bucket-policy-user-escapes-boundary",
        "s3:GetObject",
        OBJECT,
        {},
        ALLOWED,
        {
            "resource_policy": doc(grant({"AWS": USER}, "s3:GetObject", BUCKET + "/*")),
            "principal_arn": USER,
            "boundary": doc(allow("ec2:*")),
        },
    ),
    Case(
        "cross-account-needs-bucket-policy",
        "s3:GetObject",
        OBJECT,
        {"p": ALLOW_ALL},
        IMPLICIT,
        {"principal_arn": ROLE, "resource_account": OTHER_ACCOUNT},
    ),
    Case(
        "cross-account-both-allow",
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject", BUCKET + "/*"))},
        ALLOWED,
        {
            "principal_arn": ROLE,
            "resource_account": OTHER_ACCOUNT,
            "resource_policy": doc(
                grant({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "s3:GetObject", BUCKET + "/*")
            ),
        },
    ),
    Case(
        "cross-account-bucket-policy-alone",
        "s3:GetObject",
        OBJECT,
        {},
        IMPLICIT,
        {
            "principal_arn": ROLE,
            "resource_account": OTHER_ACCOUNT,
            "resource_policy": doc(grant({"AWS": ROLE}, "s3:GetObject", BUCKET + "/*")),
        },
    ),
    # --- KMS: the key policy decides (resource_policy_required) --------------------------------
    Case(
        "kms-key-policy-delegates-to-iam",
        "kms:Decrypt",
        KEY,
        {"p": doc(allow("kms:Decrypt", KEY))},
        ALLOWED,
        {
            "resource_policy": ("key", KEY_POLICY_ROOT),
            "principal_arn": ROLE,
            "resource_policy_required": True,
        },
        names=("p", "key"),
    ),
    Case(
        "kms-delegation-needs-identity-allow",
        "kms:Decrypt",
        KEY,
        {},
        IMPLICIT,
        {
            "resource_policy": KEY_POLICY_ROOT,
            "principal_arn": ROLE,
            "resource_policy_required": True,
        },
    ),
    Case(
        "kms-key-policy-grants-role",
        "kms:Decrypt",
        KEY,
        {},
        ALLOWED,
        {
            "resource_policy": doc(grant({"AWS": ROLE}, "kms:Decrypt", "*")),
            "principal_arn": SESSION,
            "resource_policy_required": True,
        },
    ),
    Case(
        "kms-identity-allow-without-key-policy-grant",
        "kms:Decrypt",
        KEY,
        {"p": ALLOW_ALL},
        IMPLICIT,
        {
            "resource_policy": doc(
                grant({"AWS": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmin"}, "kms:*", "*")
            ),
            "principal_arn": ROLE,
            "resource_policy_required": True,
        },
    ),
    Case(
        "kms-required-but-not-given",
        "kms:Decrypt",
        KEY,
        {"p": ALLOW_ALL},
        IMPLICIT,
        {"principal_arn": ROLE, "resource_policy_required": True},
    ),
    Case(
        "kms-key-policy-deny",
        "kms:Decrypt",
        KEY,
        {"p": ALLOW_ALL},
        EXPLICIT,
        {
            "resource_policy": doc(
                KEY_POLICY_ROOT["Statement"][0], grant("*", "kms:Decrypt", "*", effect="Deny")
            ),
            "principal_arn": ROLE,
            "resource_policy_required": True,
        },
    ),
    Case(
        "kms-other-account-key",
        "kms:Decrypt",
        OTHER_KEY,
        {"p": doc(allow("kms:Decrypt", OTHER_KEY))},
        ALLOWED,
        {
            "resource_policy": doc(grant({"AWS": ACCOUNT}, "kms:Decrypt", "*")),
            "principal_arn": ROLE,
            "resource_policy_required": True,
        },
    ),
    Case(
        "resource-account-ignored-when-arn-names-one",
        "ec2:CreateNetworkInterface",
        ENI,
        {"p": ALLOW_ALL},
        ALLOWED,
        {"principal_arn": ROLE, "resource_account": OTHER_ACCOUNT},
    ),
    Case(
        "resource-account-ignored-for-star",
        "ec2:DescribeSubnets",
        "*",
        {"p": ALLOW_ALL},
        ALLOWED,
        {"principal_arn": ROLE, "resource_account": OTHER_ACCOUNT},
    ),
    Case(
        "arn-in-other-account-needs-its-resource-policy",
        "kms:Decrypt",
        OTHER_KEY,
        {"p": ALLOW_ALL},
        IMPLICIT,
        {"principal_arn": ROLE},
    ),
    Case(
        "public-bucket-policy-grants",
        "s3:GetObject",
        OBJECT,
        {},
        ALLOWED,
        {"principal_arn": ROLE, "resource_policy": doc(grant("*", "s3:GetObject", BUCKET + "/*"))},
    ),
]


def _named(decision: Decision) -> set[str]:
    refs = [*decision.allowed_by, *decision.denied_by, *(u.statement for u in decision.uncertain)]
    names = {r.policy for r in refs if r is not None}
    return names | {u.policy for u in decision.uncertain}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_evaluate(case: Case) -> None:
    decision = evaluate(case.action, case.resource, case.policies, **case.options)
    assert decision.status is case.expected, decision.explanation
    assert set(case.names) <= _named(decision), decision
    assert decision.action == case.action and decision.resource == case.resource
    assert decision.explanation


def test_case_table_is_large_and_ids_unique() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


# --- what the results say -----------------------------------------------------------------------


def test_conditional_allow_names_the_statement_and_condition() -> None:
    policy = doc(
        allow("s3:GetObject", "*"),
        allow(
            "s3:ListBucket",
            "*",
            Sid="OnlyFromVpc",
            Condition={"StringEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"]}},
        ),
    )
    decision = evaluate("s3:ListBucket", BUCKET, {"lifecycle-read": policy})
    assert decision.status is CONDITIONAL
    (uncertainty,) = decision.uncertain
    assert uncertainty.kind is UncertaintyKind.CONDITION
    assert uncertainty.statement is not None
    assert (uncertainty.statement.policy, uncertainty.statement.index) == ("lifecycle-read", 1)
    assert uncertainty.statement.sid == "OnlyFromVpc"
    (condition,) = decision.conditions
    assert (condition.operator, condition.key) == ("StringEquals", "aws:SourceVpc")
    assert condition.values == ("vpc-1", "vpc-2")
    assert "OnlyFromVpc" in decision.explanation and "aws:SourceVpc" in decision.explanation


def test_conditional_deny_keeps_the_allow_and_names_the_deny() -> None:
    decision = evaluate(
        "s3:GetObject",
        OBJECT,
        {
            "grants": doc(allow("s3:GetObject", BUCKET + "/*", Sid="Read")),
            "guard": doc(
                deny(
                    "s3:*", "*", Sid="TlsOnly", Condition={"Bool": {"aws:SecureTransport": "false"}}
                )
            ),
        },
    )
    assert decision.status is CONDITIONAL
    assert [r.sid for r in decision.allowed_by] == ["Read"]
    (uncertainty,) = decision.uncertain
    assert uncertainty.statement is not None and uncertainty.statement.sid == "TlsOnly"
    assert decision.conditions[0].key == "aws:SecureTransport"


def test_unresolved_variable_is_named() -> None:
    decision = evaluate(
        "s3:GetObject",
        "arn:aws:s3:::home/alice/x",
        {"p": doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))},
    )
    assert decision.status is UNRESOLVED
    assert decision.uncertain[0].kind is UncertaintyKind.VARIABLE
    assert decision.uncertain[0].variables == ("${aws:username}",)
    assert "${aws:username}" in decision.explanation


def test_explicit_deny_names_the_denying_statement() -> None:
    decision = evaluate(
        "s3:GetObject",
        OBJECT,
        {"grants": ALLOW_ALL, "guardrail": doc(allow("ec2:*"), deny("s3:Get*", Sid="NoReads"))},
    )
    assert decision.status is EXPLICIT
    (ref,) = decision.denied_by
    assert (ref.policy, ref.index, ref.sid, ref.kind) == (
        "guardrail",
        1,
        "NoReads",
        PolicyKind.IDENTITY,
    )
    assert "guardrail" in decision.explanation


def test_boundary_gap_is_named() -> None:
    decision = evaluate(
        "ec2:CreateNetworkInterface",
        ENI,
        [("exec-vpc", doc(allow("ec2:CreateNetworkInterface")))],
        boundary=("DevBoundary", doc(allow(["s3:*", "logs:*"]))),
    )
    assert decision.status is IMPLICIT
    assert decision.not_allowed_by == ("permissions boundary 'DevBoundary'",)
    assert "DevBoundary" in decision.explanation


def test_allowed_names_policy_and_sid() -> None:
    decision = evaluate(
        "ec2:CreateTags",
        f"arn:aws:ec2:us-west-2:{ACCOUNT}:network-interface/eni-1",
        {"vpc": doc(allow("ec2:CreateTags", "arn:aws:ec2:*:*:network-interface/*", Sid="Tag"))},
    )
    assert decision.allowed and not decision.denied
    assert [(r.policy, r.sid) for r in decision.allowed_by] == [("vpc", "Tag")]


def test_problems_travel_with_the_decision() -> None:
    decision = evaluate(
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject"), {"Effect": "Allow", "Action": 5, "Resource": "*"})},
    )
    # The broken statement's Action is unreadable, but it is an Allow: the answer stands.
    assert decision.status is ALLOWED
    assert any("Action" in p.message for p in decision.problems)


def test_unreadable_action_in_a_deny_makes_it_unresolved() -> None:
    decision = evaluate(
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject"), {"Effect": "Deny", "Action": {"s3": 1}, "Resource": "*"})},
    )
    assert decision.status is UNRESOLVED
    assert decision.uncertain[0].kind is UncertaintyKind.MALFORMED


def test_policy_objects_and_pairs_are_accepted() -> None:
    parsed = parse_policy(doc(allow("s3:GetObject")), name="parsed")
    decisions = [
        evaluate("s3:GetObject", OBJECT, [parsed]),
        evaluate("s3:GetObject", OBJECT, [("pair", doc(allow("s3:GetObject")))]),
        evaluate("s3:GetObject", OBJECT, [doc(allow("s3:GetObject"))]),
    ]
    assert [d.status for d in decisions] == [ALLOWED] * 3
    assert [d.allowed_by[0].policy for d in decisions] == ["parsed", "pair", "#0"]


# --- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("{not json", "not JSON"),
        (b"\xff\xfe", "UTF-8"),
        ([allow("s3:*")], "not a JSON object"),
        ({"Version": "2012-10-17"}, "no Statement"),
        ({"Statement": "Allow everything"}, "neither an object nor a list"),
        (doc("just a string"), "not a JSON object"),  # type: ignore[arg-type]
        (
            doc({"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}),
            "both Action and NotAction",
        ),
        (doc({"Effect": "Allow", "Action": 3, "Resource": "*"}), "string or a list of strings"),
        (doc({"Effect": "Allow", "Action": "s3:*"}), "neither Resource nor NotResource"),
        (
            doc({"Effect": "Permit", "Action": "s3:*", "Resource": "*"}),
            "Effect must be Allow or Deny",
        ),
        (doc({"Effect": "Allow", "Action": "s3GetObject", "Resource": "*"}), "not an action"),
        (
            doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Conditon": {}}),
            "unknown element",
        ),
        (doc(grant("*", "s3:*", "*")), "cannot name a Principal"),
        (doc(allow("s3:*", "*", Condition={"StringEquals": "x"})), "must map keys to values"),
        (
            doc(allow("s3:*", "*", Condition={"StringEquals": {"k": {"nested": 1}}})),
            "values must be scalars",
        ),
        ({"Version": "2020-01-01", "Statement": []}, "Version"),
    ],
)
def test_parse_reports_problems_without_raising(document: Any, fragment: str) -> None:
    policy = parse_policy(document, name="doc")
    assert not policy.ok
    assert any(fragment in p.message for p in policy.problems), policy.problems
    assert all(p.policy == "doc" for p in policy.problems)


def test_parse_well_formed_policy_has_no_problems() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                allow(["s3:GetObject", "s3:ListBucket"], [BUCKET, BUCKET + "/*"], Sid="Read"),
                {"Effect": "Deny", "NotAction": "s3:*", "NotResource": "*"},
            ],
        },
        name="ok",
    )
    assert policy.ok and policy.readable
    assert [s.sid for s in policy.statements] == ["Read", None]
    assert policy.statements[1].action is not None and policy.statements[1].action.negated


def test_resource_policy_needs_a_principal() -> None:
    policy = parse_policy(doc(allow("s3:*")), kind=PolicyKind.RESOURCE)
    assert any("needs Principal" in p.message for p in policy.problems)


# --- trust policies ----------------------------------------------------------------------------

SAGEMAKER = "sagemaker.amazonaws.com"
HYPERPOD = "hyperpod.sagemaker.amazonaws.com"


def trust(
    principal: Any, action: Any = "sts:AssumeRole", effect: str = "Allow", **extra: Any
) -> Any:
    return doc({"Effect": effect, "Principal": principal, "Action": action, **extra})


@pytest.mark.parametrize(
    ("policy", "service", "expected"),
    [
        (trust({"Service": SAGEMAKER}), SAGEMAKER, ALLOWED),
        (trust({"Service": ["ec2.amazonaws.com", SAGEMAKER]}), SAGEMAKER, ALLOWED),
        (trust({"Service": "ec2.amazonaws.com"}), SAGEMAKER, IMPLICIT),
        (trust({"Service": SAGEMAKER}), HYPERPOD, IMPLICIT),
        (trust({"Service": [SAGEMAKER, HYPERPOD]}), HYPERPOD, ALLOWED),
        (trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), SAGEMAKER, IMPLICIT),
        (trust({"Service": SAGEMAKER}, action="sts:TagSession"), SAGEMAKER, IMPLICIT),
        (
            trust({"Service": SAGEMAKER}, action=["sts:AssumeRole", "sts:TagSession"]),
            SAGEMAKER,
            ALLOWED,
        ),
        (trust({"Service": SAGEMAKER}, action="sts:*"), SAGEMAKER, ALLOWED),
        (trust("*"), SAGEMAKER, ALLOWED),
        (
            trust(
                {"Service": SAGEMAKER}, Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}
            ),
            SAGEMAKER,
            CONDITIONAL,
        ),
        (
            doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": SAGEMAKER},
                    "Action": "sts:AssumeRole",
                },
                {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"},
            ),
            SAGEMAKER,
            EXPLICIT,
        ),
        (doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), SAGEMAKER, UNRESOLVED),
        ("not json", SAGEMAKER, UNRESOLVED),
        (
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"Service": SAGEMAKER},
                    "Action": "sts:AssumeRole",
                },
            },
            SAGEMAKER,
            ALLOWED,
        ),
    ],
)
def test_trust_allows(policy: Any, service: str, expected: DecisionStatus) -> None:
    decision = trust_allows(policy, service)
    assert decision.status is expected, decision.explanation


def test_trust_condition_decided_by_context_and_named_otherwise() -> None:
    policy = trust(
        {"Service": SAGEMAKER}, Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    )
    assert trust_allows(policy, SAGEMAKER, context={"aws:SourceAccount": ACCOUNT}).allowed
    assert trust_allows(policy, SAGEMAKER, context={"aws:SourceAccount": OTHER_ACCOUNT}).denied
    open_decision = trust_allows(("exec-trust", policy), SAGEMAKER)
    assert [c.key for c in open_decision.conditions] == ["aws:SourceAccount"]
    assert "exec-trust" in open_decision.explanation


# --- public grants -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "count"),
    [
        (grant("*", "s3:GetObject", BUCKET + "/*"), 1),
        (grant({"AWS": "*"}, "s3:*", [BUCKET, BUCKET + "/*"]), 1),
        (grant({"AWS": [ROLE, "*"]}, "s3:GetObject", BUCKET + "/*"), 1),
        (
            grant(
                "*",
                "s3:GetObject",
                BUCKET + "/*",
                Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}},
            ),
            0,
        ),
        (grant("*", "s3:*", BUCKET + "/*", effect="Deny"), 0),
        (grant({"AWS": ROLE}, "s3:GetObject", BUCKET + "/*"), 0),
        (grant({"Service": "logging.s3.amazonaws.com"}, "s3:PutObject", BUCKET + "/*"), 0),
        ({"Effect": "Allow", "NotPrincipal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"}, 1),
    ],
)
def test_public_grants(statement: dict[str, Any], count: int) -> None:
    assert len(public_grants(doc(statement))) == count


def test_public_grant_details_and_conditional_opt_in() -> None:
    policy = (
        "bucket-policy",
        doc(
            grant("*", "s3:GetObject", BUCKET + "/*", Sid="Open"),
            grant(
                "*",
                "s3:ListBucket",
                BUCKET,
                Sid="FromVpce",
                Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}},
            ),
        ),
    )
    (open_grant,) = public_grants(policy)
    assert open_grant.statement.sid == "Open" and open_grant.statement.policy == "bucket-policy"
    assert open_grant.actions == ("s3:GetObject",) and open_grant.resources == (BUCKET + "/*",)
    assert not open_grant.conditions and not open_grant.via_not_principal
    both = public_grants(policy, include_conditional=True)
    assert [g.statement.sid for g in both] == ["Open", "FromVpce"]
    assert both[1].conditions[0].key == "aws:SourceVpce"


def test_public_grants_of_a_malformed_document_is_empty() -> None:
    assert public_grants("{oops") == []
    assert public_grants({"Statement": 7}) == []


# --- many requests, summaries ----------------------------------------------------------


def test_evaluate_many_is_the_cross_product() -> None:
    decisions = evaluate_many(
        ["s3:ListBucket", "s3:GetObject"],
        [BUCKET, OBJECT],
        {"read": doc(allow("s3:ListBucket", BUCKET), allow("s3:GetObject", BUCKET + "/*"))},
    )
    assert [(d.action, d.resource, d.status) for d in decisions] == [
        ("s3:ListBucket", BUCKET, ALLOWED),
        ("s3:ListBucket", OBJECT, IMPLICIT),
        ("s3:GetObject", BUCKET, IMPLICIT),
        ("s3:GetObject", OBJECT, ALLOWED),
    ]


def test_evaluate_requests_uses_each_requests_context() -> None:
    policy = doc(
        allow(
            "cloudwatch:PutMetricData",
            "*",
            Condition={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Clusters"}},
        )
    )
    decisions = evaluate_requests(
        [
            Request.of(
                "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "/aws/sagemaker/Clusters"}
            ),
            Request.of("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Custom"}),
            Request.of("cloudwatch:PutMetricData", "*"),
        ],
        {"managed": policy},
    )
    assert [d.status for d in decisions] == [ALLOWED, IMPLICIT, CONDITIONAL]


def test_summary_and_missing_actions() -> None:
    decisions = evaluate_many(
        [
            "ec2:DescribeSubnets",
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "s3:GetObject",
        ],
        [ENI, "arn:aws:ec2:us-west-2:111122223333:subnet/*"],
        {
            "p": doc(
                allow("ec2:Describe*"),
                allow("ec2:DeleteNetworkInterface", ENI),
                allow("s3:GetObject", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            )
        },
    )
    summary = summarize(decisions)
    assert len(summary.allowed) == 3 and len(summary.uncertain) == 2 and len(summary.denied) == 3
    assert summary.missing_actions == ("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface")
    assert not summary.ok
    assert missing_actions(decisions) == {
        "ec2:CreateNetworkInterface": (ENI, "arn:aws:ec2:us-west-2:111122223333:subnet/*"),
        "ec2:DeleteNetworkInterface": ("arn:aws:ec2:us-west-2:111122223333:subnet/*",),
    }
    assert summarize(d for d in decisions if d.allowed).ok


def test_decision_serialises_for_finding_details() -> None:
    decision = evaluate(
        "s3:GetObject",
        OBJECT,
        {"p": doc(allow("s3:GetObject", "*", Condition={"StringLike": {"s3:prefix": "x/*"}}))},
    )
    dumped = jsonable(decision)
    assert dumped["status"] == "CONDITIONAL"
    assert dumped["uncertain"][0]["conditions"][0]["key"] == "s3:prefix"
    json.dumps(dumped)
