"""iam.lifecycle-kms against a moto account holding SSE-KMS lifecycle objects under keys in
every state that matters: AWS's default key policy, a key policy that neither delegates to
IAM nor names the role, a grant, a condition, a disabled key and one pending deletion.
Denied KMS reads are answered by a botocore handler (moto never denies)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import ACCOUNT, REGION, Injector, _response, by_resource, new_facts, run
from conftest import moto_env
from iam_stubs import document, healthy_execution_role, make_role, statement

import hyperpod_preflight.checks.iam  # noqa: F401  (registers the checks)
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup

CHECK = "iam.lifecycle-kms"
BUCKET = "sagemaker-kms-lcs"
DEFAULT_BUCKET = "sagemaker-kms-default"
SCRIPT = b"#!/bin/bash\necho hello\n"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def key_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ADMIN_ONLY = {
    "Sid": "KeyAdministrators",
    "Effect": "Allow",
    "Principal": {"AWS": role_arn("key-admin")},
    "Action": "kms:*",
    "Resource": "*",
}


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        iam = boto3.client("iam", region_name=REGION)
        kms = boto3.client("kms", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        ns = SimpleNamespace(kms=kms)
        decrypt_any = {"kms": document(statement("kms:Decrypt", "*"))}
        healthy_execution_role(iam, "decrypts")
        iam.put_role_policy(
            RoleName="decrypts", PolicyName="kms", PolicyDocument=json.dumps(decrypt_any["kms"])
        )
        healthy_execution_role(iam, "no-kms")
        make_role(iam, "key-admin")

        def key(policy: str | None = None) -> str:
            extra = {"Policy": policy} if policy else {}
            arn: str = kms.create_key(**extra)["KeyMetadata"]["Arn"]
            return arn

        ns.default_key = key()  # AWS's default key policy: the account root, kms:*
        ns.closed_key = key(key_policy(ADMIN_ONLY))
        ns.granted_key = key(key_policy(ADMIN_ONLY))
        kms.create_grant(
            KeyId=ns.granted_key, GranteePrincipal=role_arn("no-kms"), Operations=["Decrypt"]
        )
        ns.conditional_key = key(
            key_policy(
                ADMIN_ONLY,
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": role_arn("no-kms")},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::x/y"}
                    },
                },
            )
        )
        ns.disabled_key = key()
        ns.deleted_key = key()
        ns.alias_key = key()
        kms.create_alias(AliasName="alias/lifecycle", TargetKeyId=ns.alias_key.rsplit("/", 1)[1])

        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        for prefix, key_arn in {
            "default": ns.default_key,
            "closed": ns.closed_key,
            "granted": ns.granted_key,
            "conditional": ns.conditional_key,
            "disabled": ns.disabled_key,
            "deleted": ns.deleted_key,
        }.items():
            s3.put_object(
                Bucket=BUCKET,
                Key=f"{prefix}/on_create.sh",
                Body=SCRIPT,
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=key_arn,
            )
        s3.put_object(Bucket=BUCKET, Key="plain/on_create.sh", Body=SCRIPT)
        kms.disable_key(KeyId=ns.disabled_key.rsplit("/", 1)[1])  # moto: ids only
        kms.schedule_key_deletion(KeyId=ns.deleted_key.rsplit("/", 1)[1], PendingWindowInDays=7)

        s3.create_bucket(
            Bucket=DEFAULT_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        s3.put_bucket_encryption(
            Bucket=DEFAULT_BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": "alias/lifecycle",
                        }
                    }
                ]
            },
        )
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, lifted_endpoint: None) -> Any:
    found = new_facts()
    found.verify_identity()
    return found


def spec(*groups: tuple[str, str], bucket: str = BUCKET) -> ClusterSpec:
    """One group per (role name, prefix), each reading ``on_create.sh`` there."""
    return ClusterSpec(
        name="c",
        orchestrator="eks",
        instance_groups=tuple(
            InstanceGroup(
                name=f"g{i}",
                instance_type="ml.m5.xlarge",
                count=1,
                execution_role=role_arn(role),
                lifecycle_source_s3_uri=f"s3://{bucket}/{prefix}/",
                lifecycle_on_create="on_create.sh",
                json_path=f"InstanceGroups[{i}]",
            )
            for i, (role, prefix) in enumerate(groups)
        ),
    )


def kms_denied(facts: Any, *operations: str) -> Injector:
    """KMS (JSON protocol) answers each of ``operations`` with AccessDeniedException."""
    body = json.dumps({"__type": "AccessDeniedException", "message": "injected"}).encode()
    injector = Injector()
    for operation in operations:
        injector.always(
            operation,
            lambda _r: _response(400, body, {"Content-Type": "application/x-amz-json-1.1"}),
        )
    return injector.attach(facts.client("kms"))


def one(facts: Any, cluster: ClusterSpec) -> Any:
    (finding,) = run(CHECK, cluster, facts)
    return finding


def test_default_key_policy_and_a_role_allowed_decrypt_pass(w: SimpleNamespace, facts: Any) -> None:
    found = one(facts, spec(("decrypts", "default")))
    assert found.status.value == "PASS", found.message
    assert found.resource == f"{w.default_key} (decrypts)"
    assert "key policy" in found.message and "inline:kms" in found.message


def test_a_role_without_kms_decrypt_fails_with_the_exact_grant(
    w: SimpleNamespace, facts: Any
) -> None:
    found = one(facts, spec(("no-kms", "default")))
    assert found.status.value == "FAIL"
    assert "Lifecycle scripts did not run successfully" in found.message
    assert found.details["not_allowed_by"] == ["identity policies"]
    assert "you need the permission to decrypt the AWS KMS key" in found.details["quote"]
    fix = found.remediation
    assert "aws iam put-role-policy --role-name no-kms" in fix
    assert f'"Resource":"{w.default_key}"' in fix
    assert f'"kms:ViaService":"s3.{REGION}.amazonaws.com"' in fix
    assert "put-key-policy" not in fix  # the default key policy delegates to IAM already
    assert (
        f"aws kms create-grant --key-id {w.default_key} --grantee-principal "
        f"{role_arn('no-kms')} --operations Decrypt"
    ) in fix
    # Safe to paste: each command's last argument stands alone (no full stop glued to it).
    grant = shlex.split(fix.rsplit("in one step: ", 1)[1])
    assert grant[-2:] == ["--operations", "Decrypt"]
    put = shlex.split(fix.split("Grant it: ", 1)[1].split("; ", 1)[0])
    assert json.loads(put[-1])["Statement"][0]["Action"] == "kms:Decrypt"


def test_a_key_policy_that_neither_delegates_nor_names_the_role_fails(
    w: SimpleNamespace, facts: Any
) -> None:
    found = one(facts, spec(("decrypts", "closed")))
    assert found.status.value == "FAIL"
    assert any("resource policy" in label for label in found.details["not_allowed_by"])
    assert "put-role-policy" not in found.remediation  # the role's own policy allows it
    assert f"aws kms put-key-policy --key-id {w.closed_key}" in found.remediation
    assert f'"Principal":{{"AWS":"{role_arn("decrypts")}"}}' in found.remediation


def test_a_grant_to_the_role_is_enough(w: SimpleNamespace, facts: Any) -> None:
    found = one(facts, spec(("no-kms", "granted")))
    assert found.status.value == "PASS", found.message
    assert "grant" in found.message
    others = run(CHECK, spec(("decrypts", "granted")), facts)
    assert [f.status.value for f in others] == ["FAIL"]  # the grant is no-kms's, not theirs


def test_a_key_policy_grant_under_a_condition_warns_naming_it(
    w: SimpleNamespace, facts: Any
) -> None:
    found = one(facts, spec(("no-kms", "conditional")))
    assert found.status.value == "WARN"
    assert "kms:EncryptionContext:aws:s3:arn" in found.message


@pytest.mark.parametrize(
    ("prefix", "state", "fix"),
    [
        ("disabled", "Disabled", "aws kms enable-key --key-id"),
        ("deleted", "PendingDeletion", "aws kms cancel-key-deletion --key-id"),
    ],
)
def test_a_key_that_is_not_enabled_fails_once_for_the_key(
    w: SimpleNamespace, facts: Any, prefix: str, state: str, fix: str
) -> None:
    found = one(facts, spec(("decrypts", prefix), ("no-kms", prefix)))
    key = w.disabled_key if prefix == "disabled" else w.deleted_key
    assert (found.status.value, found.resource) == ("FAIL", key)
    assert state in found.message
    assert fix in found.remediation and key in found.remediation
    assert shlex.split(found.remediation)[-1] == key  # no full stop glued to the key id


def test_an_unreadable_key_policy_is_unknown_naming_get_key_policy(
    w: SimpleNamespace, facts: Any
) -> None:
    kms_denied(facts, "GetKeyPolicy")
    found = one(facts, spec(("decrypts", "default")))
    assert found.status.value == "UNKNOWN"
    assert found.details["action"] == "kms:GetKeyPolicy"
    assert "kms:GetKeyPolicy" in found.remediation


def test_an_undescribable_key_is_unknown_naming_describe_key(
    w: SimpleNamespace, facts: Any
) -> None:
    kms_denied(facts, "DescribeKey")
    found = one(facts, spec(("decrypts", "default")))
    assert (found.status.value, found.details["action"]) == ("UNKNOWN", "kms:DescribeKey")


def test_unreadable_grants_turn_a_fail_into_unknown(w: SimpleNamespace, facts: Any) -> None:
    kms_denied(facts, "ListGrants")
    found = one(facts, spec(("no-kms", "default")))
    assert (found.status.value, found.details["action"]) == ("UNKNOWN", "kms:ListGrants")
    assert "do not allow" in found.message


def test_objects_without_sse_kms_skip(w: SimpleNamespace, facts: Any) -> None:
    found = one(facts, spec(("no-kms", "plain")))
    assert found.status.value == "SKIP"
    assert "not KMS-encrypted (or SSE-S3)" in found.message
    assert not [c for c in facts.calls if c.startswith("kms:")]


def test_a_missing_object_is_judged_by_the_bucket_default_key(
    w: SimpleNamespace, facts: Any
) -> None:
    findings = run(CHECK, spec(("no-kms", "lc"), bucket=DEFAULT_BUCKET), facts)
    (found,) = findings
    assert found.status.value == "FAIL"
    assert found.resource == f"{w.alias_key} (no-kms)"  # the alias resolved to its key


def test_reads_once_per_key_and_role(w: SimpleNamespace, lifted_endpoint: None) -> None:
    cluster = spec(
        ("decrypts", "default"), ("no-kms", "default"), ("decrypts", "closed"), ("no-kms", "plain")
    )

    facts = new_facts()
    facts.verify_identity()
    findings = by_resource(run(CHECK, cluster, facts))
    assert sorted(f.status.value for f in findings.values()) == ["FAIL", "FAIL", "PASS"]
    cold = dict(facts.calls)
    assert {k: v for k, v in cold.items() if k.startswith(("kms:", "s3:"))} == {
        "s3:GetBucketLocation": 1,
        "s3:HeadObject": 3,
        "kms:DescribeKey": 2,
        "kms:GetKeyPolicy": 2,
        "kms:ListGrants": 2,
    }
