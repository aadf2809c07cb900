"""s3.lifecycle-* against a moto account holding good and broken lifecycle buckets side by
side; other owners and denied reads are answered by botocore event handlers (moto ignores
``ExpectedBucketOwner`` and never denies)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import ACCOUNT, REGION, Injector, _response, by_resource, new_facts, run
from conftest import moto_env

import hyperpod_preflight.checks.s3  # noqa: F401  (registers the checks)
from hyperpod_preflight.preflight import run_cluster_preflight
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup

ROLE = f"arn:aws:iam::{ACCOUNT}:role/hyperpod-exec"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/hyperpod-other"
BIG = 50 * 1024 * 1024
SCRIPT = b"#!/bin/bash\nset -euo pipefail\necho hello\n"
PARAMS = b'{"version": "1.0.0", "workload_manager": "slurm"}\n'
BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
IDS = (
    "s3.lifecycle-bucket-exists",
    "s3.lifecycle-bucket-region",
    "s3.lifecycle-bucket-access",
    "s3.lifecycle-bucket-public",
    "s3.lifecycle-objects",
)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _bucket(s3: Any, name: str, *, block: bool = True, policy: str | None = None) -> None:
    if s3.meta.region_name == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name}
        )
    if block:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=BLOCK_ALL)
    if policy is not None:  # after the files: moto applies bucket policies to our uploads
        _files(s3, name)
        s3.put_bucket_policy(Bucket=name, Policy=policy)


def _files(s3: Any, bucket: str, prefix: str = "lifecycle/", **bodies: bytes) -> None:
    files = {"on_create.sh": SCRIPT, "provisioning_parameters.json": PARAMS}
    files.update({k.replace("__", "."): v for k, v in bodies.items()})
    for name, body in files.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}{name}", Body=body)


DENY_INSECURE = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::sagemaker-tls", "arn:aws:s3:::sagemaker-tls/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
GRANT_GOOD = {
    "Sid": "ExecutionRoleReads",
    "Effect": "Allow",
    "Principal": {"AWS": ROLE},
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": ["arn:aws:s3:::sagemaker-good", "arn:aws:s3:::sagemaker-good/*"],
}


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        s3 = boto3.client("s3", region_name=REGION)
        east = boto3.client("s3", region_name="us-east-1")
        kms = boto3.client("kms", region_name=REGION)
        ns = SimpleNamespace(s3=s3)
        _bucket(s3, "sagemaker-good")
        _files(s3, "sagemaker-good", on_init__sh=SCRIPT)
        s3.put_bucket_policy(Bucket="sagemaker-good", Policy=_policy(GRANT_GOOD))
        # moto applies bucket policies to calls but not aws:SecureTransport: only the access
        # check (which reads no object) judges this bucket.
        _bucket(s3, "sagemaker-tls", policy=_policy(DENY_INSECURE))
        _bucket(east, "sagemaker-east")
        _files(east, "sagemaker-east")
        _bucket(
            s3,
            "sagemaker-public",
            block=False,
            policy=_policy(
                {
                    "Sid": "Everyone",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::sagemaker-public/*",
                }
            ),
        )
        _bucket(s3, "sagemaker-open", block=False)
        _files(s3, "sagemaker-open")
        _bucket(s3, "sagemaker-empty")
        s3.put_object(Bucket="sagemaker-empty", Key="lifecycle/on_create.sh", Body=b"")
        _bucket(s3, "sagemaker-big")
        _files(s3, "sagemaker-big", on_create__sh=b"#" * BIG)
        ns.key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        _bucket(s3, "sagemaker-kms")
        s3.put_bucket_encryption(
            Bucket="sagemaker-kms",
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": ns.key_id,
                        }
                    }
                ]
            },
        )
        for name, body in (("on_create.sh", SCRIPT), ("provisioning_parameters.json", PARAMS)):
            s3.put_object(
                Bucket="sagemaker-kms",
                Key=f"lifecycle/{name}",
                Body=body,
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=ns.key_id,
            )
        _bucket(
            s3,
            "sagemaker-deny",
            policy=_policy(
                {
                    "Sid": "NoScripts",
                    "Effect": "Deny",
                    "Principal": {"AWS": ROLE},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::sagemaker-deny/*",
                }
            ),
        )
        _bucket(
            s3,
            "sagemaker-vpce",
            policy=_policy(
                {
                    "Sid": "OnlyThroughTheEndpoint",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::sagemaker-vpce/*",
                    "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}},
                }
            ),
        )
        # Buckets "of another account" (see ``other_owner``).
        _bucket(
            s3,
            "sagemaker-theirs",
            policy=_policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ROLE},
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [
                        "arn:aws:s3:::sagemaker-theirs",
                        "arn:aws:s3:::sagemaker-theirs/*",
                    ],
                }
            ),
        )
        _bucket(s3, "sagemaker-theirs-closed")
        _files(s3, "sagemaker-theirs-closed")
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, lifted_endpoint: None) -> Any:
    found = new_facts()
    found.verify_identity()
    return found


def spec_for(*buckets: str, on_init: str | None = None, eks: bool = False) -> ClusterSpec:
    """One group per bucket, every group with ROLE and OnCreate on_create.sh."""
    return ClusterSpec(
        name="c",
        orchestrator="eks" if eks else "slurm",
        instance_groups=tuple(
            InstanceGroup(
                name=f"g{i}",
                instance_type="ml.m5.xlarge",
                count=1,
                execution_role=ROLE,
                lifecycle_source_s3_uri=f"s3://{bucket}/lifecycle/",
                lifecycle_on_create="on_create.sh",
                lifecycle_on_init_complete=on_init,
                json_path=f"InstanceGroups[{i}]",
            )
            for i, bucket in enumerate(buckets)
        ),
    )


def s3_error(code: str, status: int) -> Any:
    body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
    return _response(status, body, {"Content-Type": "application/xml"})


def other_owner(facts: Any, *buckets: str) -> Injector:
    """S3's answer to ``ExpectedBucketOwner`` for buckets of another account: 403."""

    def answer(request: Any) -> Any:
        theirs = any(f"/{b}" in request.url or f"//{b}." in request.url for b in buckets)
        if theirs and request.headers.get("x-amz-expected-bucket-owner"):
            return s3_error("AccessDenied", 403)
        return None

    return Injector().always("GetBucketLocation", answer).attach(facts.client("s3"))


def deny(facts: Any, *operations: str) -> Injector:
    injector = Injector()
    for operation in operations:
        # HEAD answers have no body: S3 sends the bare status.
        body = b"" if operation == "HeadObject" else None
        injector.always(
            operation,
            lambda _r, b=body: (
                _response(403, b, {}) if b is not None else s3_error("AccessDenied", 403)
            ),
        )
    return injector.attach(facts.client("s3"))


# -- s3.lifecycle-bucket-exists -------------------------------------------------------------
def test_an_existing_bucket_passes_and_a_missing_one_fails_with_mb(facts: Any) -> None:
    found = by_resource(
        run("s3.lifecycle-bucket-exists", spec_for("sagemaker-good", "sagemaker-missing"), facts)
    )
    assert found["sagemaker-good"].status.value == "PASS"
    assert "owned by this account" in found["sagemaker-good"].message
    missing = found["sagemaker-missing"]
    assert missing.status.value == "FAIL"
    assert "does not exist" in missing.message
    assert "aws s3 mb s3://sagemaker-missing --region us-west-2" in missing.remediation
    assert "aws s3 sync ./lifecycle/ s3://sagemaker-missing/lifecycle/" in missing.remediation


def test_a_bucket_not_named_sagemaker_gets_a_sagemaker_name_in_the_fix(facts: Any) -> None:
    (missing,) = run("s3.lifecycle-bucket-exists", spec_for("team-scripts"), facts)
    assert missing.status.value == "FAIL"
    assert "aws s3 mb s3://sagemaker-team-scripts" in missing.remediation
    assert "InstanceGroups[0].LifeCycleConfig.SourceS3Uri" in missing.remediation


def test_a_denied_location_is_unknown_not_missing(facts: Any) -> None:
    deny(facts, "GetBucketLocation")
    (finding,) = run("s3.lifecycle-bucket-exists", spec_for("sagemaker-good"), facts)
    assert finding.status.value == "UNKNOWN"
    assert "s3:GetBucketLocation" in finding.message
    assert finding.details["action"] == "s3:GetBucketLocation"


def test_no_lifecycle_uri_is_skipped(facts: Any) -> None:
    spec = ClusterSpec(instance_groups=(InstanceGroup(name="g", execution_role=ROLE),))
    for check_id in IDS:
        (finding,) = run(check_id, spec, facts)
        assert finding.status.value == "SKIP"
    assert not [c for c in facts.calls if c.startswith("s3")], "nothing to read, nothing read"


# -- s3.lifecycle-bucket-region ---------------------------------------------------------------
def test_a_bucket_in_another_region_fails_naming_both(facts: Any) -> None:
    found = by_resource(
        run("s3.lifecycle-bucket-region", spec_for("sagemaker-good", "sagemaker-east"), facts)
    )
    assert found["sagemaker-good"].status.value == "PASS"
    east = found["sagemaker-east"]
    assert east.status.value == "FAIL"
    assert "us-east-1" in east.message and "us-west-2" in east.message
    assert "aws s3 mb s3://sagemaker-east-us-west-2 --region us-west-2" in east.remediation
    assert "aws s3 sync s3://sagemaker-east/lifecycle/" in east.remediation
    assert east.details == {"bucket_region": "us-east-1", "cluster_region": "us-west-2"}


def test_region_of_a_missing_bucket_is_skipped_and_denied_is_unknown(facts: Any) -> None:
    (missing,) = run("s3.lifecycle-bucket-region", spec_for("sagemaker-missing"), facts)
    assert missing.status.value == "SKIP"
    other = new_facts()
    other.verify_identity()
    deny(other, "GetBucketLocation")
    (denied,) = run("s3.lifecycle-bucket-region", spec_for("sagemaker-good"), other)
    assert denied.status.value == "UNKNOWN"
    assert "s3:GetBucketLocation" in denied.message


# -- s3.lifecycle-bucket-access ---------------------------------------------------------------
def test_an_own_bucket_whose_policy_denies_nothing_passes(facts: Any) -> None:
    # DenyInsecureTransport does not apply: nodes fetch over HTTPS.
    found = by_resource(
        run("s3.lifecycle-bucket-access", spec_for("sagemaker-good", "sagemaker-tls"), facts)
    )
    for finding in found.values():
        assert finding.status.value == "PASS", finding.message
        assert "belongs to this account" in finding.message


def test_an_own_bucket_denying_the_role_fails_naming_the_statement(facts: Any) -> None:
    (finding,) = run("s3.lifecycle-bucket-access", spec_for("sagemaker-deny"), facts)
    assert finding.status.value == "FAIL"
    assert ROLE in finding.message
    assert "NoScripts" in finding.message
    assert "put-bucket-policy --bucket sagemaker-deny" in finding.remediation


def test_a_deny_depending_on_a_vpc_endpoint_is_a_warning_naming_the_condition(
    facts: Any,
) -> None:
    (finding,) = run("s3.lifecycle-bucket-access", spec_for("sagemaker-vpce"), facts)
    assert finding.status.value == "WARN"
    assert "aws:SourceVpce" in finding.message


def test_another_accounts_bucket_passes_only_with_a_grant(facts: Any) -> None:
    seen = other_owner(facts, "sagemaker-theirs", "sagemaker-theirs-closed")
    found = by_resource(
        run(
            "s3.lifecycle-bucket-access",
            spec_for("sagemaker-theirs", "sagemaker-theirs-closed"),
            facts,
        )
    )
    assert found["sagemaker-theirs"].status.value == "PASS"
    assert "another account" in found["sagemaker-theirs"].message
    closed = found["sagemaker-theirs-closed"]
    assert closed.status.value == "FAIL"
    assert "has no bucket policy granting" in closed.message
    assert '"Principal":{"AWS":"' + ROLE + '"}' in closed.remediation
    assert "aws s3 sync s3://sagemaker-theirs-closed/lifecycle/" in closed.remediation
    # Two calls per foreign bucket (with, then without ExpectedBucketOwner).
    assert seen.seen["GetBucketLocation"] == 4


def test_an_unreadable_bucket_policy_is_unknown(facts: Any) -> None:
    deny(facts, "GetBucketPolicy")
    (finding,) = run("s3.lifecycle-bucket-access", spec_for("sagemaker-good"), facts)
    assert finding.status.value == "UNKNOWN"
    assert "s3:GetBucketPolicy" in finding.message


def test_access_of_a_missing_bucket_is_skipped(facts: Any) -> None:
    (finding,) = run("s3.lifecycle-bucket-access", spec_for("sagemaker-missing"), facts)
    assert finding.status.value == "SKIP"


# -- s3.lifecycle-bucket-public ---------------------------------------------------------------
def test_public_checks_pass_fail_and_warn(facts: Any) -> None:
    found = by_resource(
        run(
            "s3.lifecycle-bucket-public",
            spec_for("sagemaker-good", "sagemaker-public", "sagemaker-open"),
            facts,
        )
    )
    assert found["sagemaker-good"].status.value == "PASS"
    public = found["sagemaker-public"]
    assert public.status.value == "FAIL"
    assert public.severity.value == "high"
    assert "Everyone" in public.message and "s3:GetObject" in public.message
    assert "put-bucket-policy --bucket sagemaker-public" in public.remediation
    open_ = found["sagemaker-open"]
    assert open_.status.value == "WARN"
    assert "BlockPublicAcls" in open_.message
    assert (
        "aws s3api put-public-access-block --bucket sagemaker-open "
        "--public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,"
        "BlockPublicPolicy=true,RestrictPublicBuckets=true" in open_.remediation
    )


def test_the_accounts_block_public_access_covers_the_bucket(facts: Any) -> None:
    control = boto3.client("s3control", region_name=REGION)
    control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=BLOCK_ALL)
    try:
        (finding,) = run("s3.lifecycle-bucket-public", spec_for("sagemaker-open"), facts)
    finally:
        control.delete_public_access_block(AccountId=ACCOUNT)
    assert finding.status.value == "PASS"
    assert "account's settings" in finding.message


def test_public_cannot_tell_when_block_public_access_is_denied(facts: Any) -> None:
    deny(facts, "GetPublicAccessBlock")
    (finding,) = run("s3.lifecycle-bucket-public", spec_for("sagemaker-open"), facts)
    assert finding.status.value == "UNKNOWN"
    assert "s3:GetBucketPublicAccessBlock" in finding.message


def test_a_public_grant_fails_even_when_block_public_access_is_unreadable(facts: Any) -> None:
    deny(facts, "GetPublicAccessBlock")
    (finding,) = run("s3.lifecycle-bucket-public", spec_for("sagemaker-public"), facts)
    assert finding.status.value == "FAIL"


# -- s3.lifecycle-objects ---------------------------------------------------------------------
def test_objects_pass_with_sizes(facts: Any) -> None:
    found = by_resource(
        run("s3.lifecycle-objects", spec_for("sagemaker-good", on_init="on_init.sh"), facts)
    )
    assert set(found) == {
        "s3://sagemaker-good/lifecycle/on_create.sh",
        "s3://sagemaker-good/lifecycle/on_init.sh",
        "s3://sagemaker-good/lifecycle/provisioning_parameters.json",
    }
    assert all(f.status.value == "PASS" for f in found.values())
    assert found["s3://sagemaker-good/lifecycle/on_create.sh"].details["size"] == len(SCRIPT)


def test_a_missing_and_an_empty_object_fail_with_cp(facts: Any) -> None:
    found = by_resource(run("s3.lifecycle-objects", spec_for("sagemaker-empty"), facts))
    empty = found["s3://sagemaker-empty/lifecycle/on_create.sh"]
    assert empty.status.value == "FAIL"
    assert "empty (0 bytes)" in empty.message
    assert "aws s3 cp ./on_create.sh s3://sagemaker-empty/lifecycle/on_create.sh" in (
        empty.remediation
    )
    # HyperPod does not read provisioning_parameters.json: only scripts that read it fail
    # without it (the lifecycle lint tells), so its absence is a WARN, not a FAIL.
    params = found["s3://sagemaker-empty/lifecycle/provisioning_parameters.json"]
    assert params.status.value == "WARN"
    assert "does not exist" in params.message and "HyperPod itself does not" in params.message
    assert "provisioning_parameters.slurm-p5.json" in params.remediation


def test_eks_and_slurm_config_groups_need_no_provisioning_file(facts: Any) -> None:
    found = by_resource(run("s3.lifecycle-objects", spec_for("sagemaker-empty", eks=True), facts))
    assert list(found) == ["s3://sagemaker-empty/lifecycle/on_create.sh"]
    spec = spec_for("sagemaker-empty")
    spec = replace(
        spec,
        instance_groups=tuple(
            replace(g, slurm_node_type="Controller") for g in spec.instance_groups
        ),
    )
    assert list(by_resource(run("s3.lifecycle-objects", spec, facts))) == [
        "s3://sagemaker-empty/lifecycle/on_create.sh"
    ]


def test_a_50_mb_script_is_only_headed(facts: Any) -> None:
    found = by_resource(run("s3.lifecycle-objects", spec_for("sagemaker-big"), facts))
    big = found["s3://sagemaker-big/lifecycle/on_create.sh"]
    assert big.status.value == "PASS"
    assert big.details["size"] == BIG
    assert "52,428,800 bytes" in big.message
    assert facts.calls["s3:HeadObject"] == 2
    assert facts.calls["s3:GetObject"] == 0


def test_sse_kms_objects_record_their_key(facts: Any, w: SimpleNamespace) -> None:
    found = by_resource(run("s3.lifecycle-objects", spec_for("sagemaker-kms"), facts))
    script = found["s3://sagemaker-kms/lifecycle/on_create.sh"]
    assert script.status.value == "PASS"
    assert script.details["encryption"] == "aws:kms"
    assert w.key_id in script.details["kms_key_id"]
    assert "kms:Decrypt" in script.message
    assert script.details["bucket_default_encryption"] == "aws:kms"
    assert script.details["bucket_kms_key_id"] == w.key_id


def test_a_denied_head_is_unknown_per_object(facts: Any) -> None:
    deny(facts, "HeadObject")
    found = by_resource(run("s3.lifecycle-objects", spec_for("sagemaker-good"), facts))
    assert {f.status.value for f in found.values()} == {"UNKNOWN"}
    script = found["s3://sagemaker-good/lifecycle/on_create.sh"]
    assert script.details["action"] == "s3:GetObject"
    assert "s3:ListBucket" in script.message


def test_objects_of_a_missing_bucket_are_skipped(facts: Any) -> None:
    (finding,) = run("s3.lifecycle-objects", spec_for("sagemaker-missing"), facts)
    assert finding.status.value == "SKIP"
    assert finding.resource == "sagemaker-missing"
    assert facts.calls["s3:HeadObject"] == 0


# -- reads stay O(config) ---------------------------------------------------------------------
def test_three_groups_on_one_bucket_cost_one_read_set(facts: Any) -> None:
    spec = spec_for("sagemaker-good", "sagemaker-good", "sagemaker-good")
    spec = replace(
        spec,
        instance_groups=(
            *spec.instance_groups[:2],
            replace(spec.instance_groups[2], execution_role=OTHER_ROLE),
        ),
    )
    report = run_cluster_preflight(spec, facts=facts, only=list(IDS))
    s3_calls = {k: v for k, v in facts.calls.items() if k.startswith("s3")}
    assert s3_calls == {
        "s3:GetBucketLocation": 1,
        "s3:GetBucketPolicy": 1,
        "s3:GetPublicAccessBlock": 1,
        "s3:GetBucketEncryption": 1,
        "s3:HeadObject": 2,
    }
    assert {f.status.value for f in report.results} == {"PASS"}, [
        (f.check_id, f.message) for f in report.results if f.status.value != "PASS"
    ]


def test_a_missing_bucket_costs_one_call_with_every_check_and_prefetch(facts: Any) -> None:
    report = run_cluster_preflight(spec_for("sagemaker-missing"), facts=facts, only=list(IDS))
    s3_calls = {k: v for k, v in facts.calls.items() if k.startswith("s3")}
    assert s3_calls == {"s3:GetBucketLocation": 1}
    statuses = {f.check_id: f.status.value for f in report.results}
    assert statuses.pop("s3.lifecycle-bucket-exists") == "FAIL"
    assert set(statuses.values()) == {"SKIP"}
