"""The s3.lifecycle-* judgements on plain-data facts: the edge cases real accounts produce
that moto cannot (an unknown account, a role of another account, a policy granting everyone
through NotPrincipal or under a condition, an unparseable policy, DSSE-KMS objects)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_world import by_resource, run

import hyperpod_preflight.checks.s3  # noqa: F401  (registers the checks)
from hyperpod_preflight.errors import FactUnavailable
from hyperpod_preflight.records import BucketLocation, PublicAccessBlock, S3ObjectHead
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/exec"
FOREIGN_ROLE = "arn:aws:iam::444455556666:role/exec"
ALL_ON = PublicAccessBlock.of(dict.fromkeys(PublicAccessBlock().off, True))


@dataclass
class PlainS3:
    """The S3 readers' answers as data (a bucket absent from ``locations`` does not exist)."""

    region: str = "us-west-2"
    account: str | None = ACCOUNT
    locations: dict[str, BucketLocation] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    blocks: dict[str, PublicAccessBlock] = field(default_factory=dict)
    account_block: PublicAccessBlock = field(default_factory=PublicAccessBlock)
    objects: dict[str, S3ObjectHead] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)

    def _gate(self, action: str) -> None:
        if action in self.denied:
            raise FactUnavailable(action, "denied", "AccessDenied")

    def bucket_location(self, bucket: str) -> BucketLocation | None:
        self._gate("s3:GetBucketLocation")
        return self.locations.get(bucket)

    def bucket_policy(self, bucket: str) -> str | None:
        self._gate("s3:GetBucketPolicy")
        return self.policies.get(bucket)

    def bucket_public_access_block(self, bucket: str) -> PublicAccessBlock:
        self._gate("s3:GetBucketPublicAccessBlock")
        return self.blocks.get(bucket, PublicAccessBlock())

    def account_public_access_block(self) -> PublicAccessBlock:
        self._gate("s3:GetAccountPublicAccessBlock")
        return self.account_block

    def bucket_default_encryption(self, bucket: str) -> tuple[str | None, str | None]:
        self._gate("s3:GetEncryptionConfiguration")
        return "AES256", None

    def head_object(self, bucket: str, key: str) -> S3ObjectHead | None:
        self._gate("s3:GetObject")
        return self.objects.get(f"{bucket}/{key}")


def spec(*roles: str, bucket: str = "sagemaker-b") -> ClusterSpec:
    return ClusterSpec(
        orchestrator="eks",
        instance_groups=tuple(
            InstanceGroup(
                name=f"g{i}",
                instance_type="ml.m5.xlarge",
                count=1,
                execution_role=role,
                lifecycle_source_s3_uri=f"s3://{bucket}/lc/",
                lifecycle_on_create="on_create.sh",
            )
            for i, role in enumerate(roles)
        ),
    )


def own(bucket: str = "sagemaker-b", owned: bool | None = True) -> dict[str, BucketLocation]:
    return {bucket: BucketLocation(bucket, "us-west-2", owned)}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


EVERYONE_READS = {
    "Sid": "Everyone",
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::sagemaker-b/*",
}


def one(check_id: str, facts: PlainS3, roles: tuple[str, ...] = (ROLE,)) -> Any:
    (finding,) = by_resource(run(check_id, spec(*roles), facts)).values()
    return finding


# -- access -----------------------------------------------------------------------------------
def test_access_is_unknown_without_the_runs_account() -> None:
    found = one("s3.lifecycle-bucket-access", PlainS3(locations=own(owned=None)))
    assert found.status.value == "UNKNOWN"
    assert "account is unknown" in found.message


def test_a_role_of_another_account_needs_a_grant_even_on_an_own_bucket() -> None:
    facts = PlainS3(locations=own())
    found = one("s3.lifecycle-bucket-access", facts, (ROLE, FOREIGN_ROLE))
    assert found.status.value == "FAIL"
    assert FOREIGN_ROLE in found.message and "the role to another" in found.message
    assert f"{ROLE}:" not in found.message, "the role of this account needs no grant"
    facts.policies["sagemaker-b"] = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": FOREIGN_ROLE},
            "Action": ["s3:ListBucket", "s3:GetObject"],
            "Resource": ["arn:aws:s3:::sagemaker-b", "arn:aws:s3:::sagemaker-b/lc/*"],
        }
    )
    assert one("s3.lifecycle-bucket-access", facts, (ROLE, FOREIGN_ROLE)).status.value == "PASS"


def test_a_grant_on_the_bucket_arn_only_is_not_a_grant_on_the_objects() -> None:
    facts = PlainS3(
        locations=own(owned=False),
        policies={
            "sagemaker-b": policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ROLE},
                    "Action": ["s3:ListBucket", "s3:GetObject"],
                    "Resource": "arn:aws:s3:::sagemaker-b",
                }
            )
        },
    )
    found = one("s3.lifecycle-bucket-access", facts)
    assert found.status.value == "FAIL"
    assert "s3:GetObject on arn:aws:s3:::sagemaker-b/lc/on_create.sh" in found.message
    assert "s3:ListBucket" not in " ".join(found.details["not_granted"])


def test_a_policy_variable_in_the_grant_cannot_be_decided() -> None:
    facts = PlainS3(
        locations=own(owned=False),
        policies={
            "sagemaker-b": policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ROLE},
                    "Action": ["s3:ListBucket", "s3:GetObject"],
                    "Resource": [
                        "arn:aws:s3:::sagemaker-b",
                        "arn:aws:s3:::sagemaker-b/${aws:username}/*",
                    ],
                }
            )
        },
    )
    assert one("s3.lifecycle-bucket-access", facts).status.value == "UNKNOWN"


def test_a_denied_location_makes_access_unknown() -> None:
    facts = PlainS3(locations=own(), denied={"s3:GetBucketLocation"})
    found = one("s3.lifecycle-bucket-access", facts)
    assert found.status.value == "UNKNOWN"
    assert found.details["action"] == "s3:GetBucketLocation"


# -- public -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "statement",
    [
        EVERYONE_READS,
        {**EVERYONE_READS, "Principal": "*", "Action": "s3:*"},
        {
            "Sid": "Everyone",
            "Effect": "Allow",
            "NotPrincipal": {"AWS": ROLE},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::sagemaker-b/*",
        },
    ],
    ids=["aws-star", "star-all", "not-principal"],
)
def test_any_unconditional_grant_to_everyone_fails(statement: dict[str, Any]) -> None:
    facts = PlainS3(locations=own(), policies={"sagemaker-b": policy(statement)})
    facts.blocks["sagemaker-b"] = ALL_ON
    found = one("s3.lifecycle-bucket-public", facts)
    assert found.status.value == "FAIL"
    assert "Everyone" in found.message
    assert "RestrictPublicBuckets" in found.message, "the block in place is mentioned"


def test_a_conditional_grant_to_everyone_passes_and_is_named() -> None:
    statement = {**EVERYONE_READS, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}
    facts = PlainS3(locations=own(), policies={"sagemaker-b": policy(statement)})
    facts.blocks["sagemaker-b"] = ALL_ON
    found = one("s3.lifecycle-bucket-public", facts)
    assert found.status.value == "PASS"
    assert "aws:SourceVpce" in found.message


def test_an_unparseable_policy_is_unknown_not_pass() -> None:
    facts = PlainS3(locations=own(), policies={"sagemaker-b": "{not json"}, blocks={})
    facts.blocks["sagemaker-b"] = ALL_ON
    found = one("s3.lifecycle-bucket-public", facts)
    assert found.status.value == "UNKNOWN"
    assert "not JSON" in found.message


def test_block_public_access_off_on_another_accounts_bucket_is_unknown() -> None:
    found = one("s3.lifecycle-bucket-public", PlainS3(locations=own(owned=False)))
    assert found.status.value == "UNKNOWN"
    assert "account owning the bucket" in found.message


def test_a_denied_account_setting_is_unknown_naming_its_action() -> None:
    facts = PlainS3(locations=own(), denied={"s3:GetAccountPublicAccessBlock"})
    found = one("s3.lifecycle-bucket-public", facts)
    assert found.status.value == "UNKNOWN"
    assert found.details["action"] == "s3:GetAccountPublicAccessBlock"


def test_partial_settings_warn_with_what_is_off() -> None:
    facts = PlainS3(
        locations=own(),
        blocks={"sagemaker-b": PublicAccessBlock.of({"BlockPublicAcls": True})},
        account_block=PublicAccessBlock.of({"IgnorePublicAcls": True}),
    )
    found = one("s3.lifecycle-bucket-public", facts)
    assert found.status.value == "WARN"
    assert found.details["off"] == ["BlockPublicPolicy", "RestrictPublicBuckets"]


# -- objects ----------------------------------------------------------------------------------
@pytest.mark.parametrize("encryption", ["aws:kms", "aws:kms:dsse"])
def test_kms_objects_name_their_key(encryption: str) -> None:
    key = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    head = S3ObjectHead("sagemaker-b", "lc/on_create.sh", 12, encryption, key)
    facts = PlainS3(locations=own(), objects={"sagemaker-b/lc/on_create.sh": head})
    found = one("s3.lifecycle-objects", facts)
    assert found.status.value == "PASS"
    assert found.details["kms_key_id"] == key
    assert "kms:Decrypt" in found.message


def test_objects_are_still_headed_when_the_location_is_denied() -> None:
    head = S3ObjectHead("sagemaker-b", "lc/on_create.sh", 12, "AES256", None)
    facts = PlainS3(objects={"sagemaker-b/lc/on_create.sh": head}, denied={"s3:GetBucketLocation"})
    assert one("s3.lifecycle-objects", facts).status.value == "PASS"
