"""The S3 readers of the lifecycle bucket (moto, with S3's own answers injected where moto
differs) and the pure mapping of a config to its lifecycle objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_world import ACCOUNT, REGION, Injector, _response, new_facts
from conftest import moto_env

from hyperpod_preflight.analysis.s3_lifecycle import (
    bucket_region,
    lifecycle_objects,
    object_key,
    split_uri,
)
from hyperpod_preflight.errors import FactUnavailable
from hyperpod_preflight.facts.core import action_name
from hyperpod_preflight.records import PUBLIC_ACCESS_SETTINGS, BucketLocation, PublicAccessBlock
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup

ROLE = f"arn:aws:iam::{ACCOUNT}:role/exec"


# -- IAM action names of S3 operations (each from the operation's API reference page) -------
@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("s3", "HeadObject", "s3:GetObject"),  # API_HeadObject: "s3:GetObject permission"
        ("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration"),
        ("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
        ("s3control", "GetPublicAccessBlock", "s3:GetAccountPublicAccessBlock"),
        ("s3", "GetBucketLocation", "s3:GetBucketLocation"),
        ("s3", "GetBucketPolicy", "s3:GetBucketPolicy"),
        ("ec2", "DescribeSubnets", "ec2:DescribeSubnets"),
    ],
)
def test_s3_operations_map_to_the_iam_actions_that_authorize_them(
    service: str, operation: str, action: str
) -> None:
    assert action_name(service, action.split(":")[0], operation) == action


# -- pure: where the lifecycle files are ------------------------------------------------------
@pytest.mark.parametrize(
    ("constraint", "region"),
    [(None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1"), ("eu-west-2", "eu-west-2")],
)
def test_location_constraints_name_regions(constraint: str | None, region: str) -> None:
    assert bucket_region(constraint) == region


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bkt/lifecycle/", ("bkt", "lifecycle/")),
        ("s3://bkt/lifecycle", ("bkt", "lifecycle/")),
        ("s3://bkt//a/b//", ("bkt", "a/b/")),
        ("s3://bkt", ("bkt", "")),
        ("s3://bkt/", ("bkt", "")),
        ("https://bkt/x", None),
        (None, None),
    ],
)
def test_split_uri(uri: str | None, expected: tuple[str, str] | None) -> None:
    assert split_uri(uri) == expected


def test_object_keys_drop_dot_slash() -> None:
    assert object_key("p/", "./on_create.sh") == "p/on_create.sh"
    assert object_key("", "on_create.sh") == "on_create.sh"


def _group(name: str, uri: str | None, **extra: Any) -> InstanceGroup:
    return InstanceGroup(
        name=name,
        execution_role=ROLE,
        lifecycle_source_s3_uri=uri,
        lifecycle_on_create=extra.pop("on_create", "on_create.sh"),
        **extra,
    )


def test_objects_are_distinct_across_groups_and_name_their_groups() -> None:
    spec = ClusterSpec(
        instance_groups=(
            _group("a", "s3://bkt/lc/"),
            _group("b", "s3://bkt/lc", lifecycle_on_init_complete="init.sh"),
            _group("c", "s3://other/x/"),
            _group("r", "s3://bkt/restricted/", restricted=True),
            _group("u", "s3://bkt/lc/", on_create="s3://bkt/lc/on_create.sh"),
            _group("n", None),
        )
    )
    found = {(o.uri, o.role): o.groups for o in lifecycle_objects(spec)}
    assert found == {
        ("s3://bkt/lc/on_create.sh", "OnCreate"): ("a", "b"),
        ("s3://bkt/lc/provisioning_parameters.json", "provisioning_parameters.json"): (
            "a",
            "b",
            "u",
        ),
        ("s3://bkt/lc/init.sh", "OnInitComplete"): ("b",),
        ("s3://other/x/on_create.sh", "OnCreate"): ("c",),
        ("s3://other/x/provisioning_parameters.json", "provisioning_parameters.json"): ("c",),
    }


def test_public_access_block_union_and_off() -> None:
    bucket = PublicAccessBlock.of({"BlockPublicAcls": True, "IgnorePublicAcls": "yes"})
    assert bucket.off == ("IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    account = PublicAccessBlock.of(
        {"IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    )
    assert bucket.union(account).off == ()
    assert PublicAccessBlock.of(None).off == PUBLIC_ACCESS_SETTINGS


# -- readers on moto ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world() -> Iterator[None]:
    with moto_env():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(
            Bucket="sagemaker-here", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        s3.put_object(Bucket="sagemaker-here", Key="lc/on_create.sh", Body=b"#!/bin/bash\n")
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="sagemaker-virginia")
        yield


@pytest.fixture
def facts(world: None, lifted_endpoint: None) -> Any:
    found = new_facts()
    found.verify_identity()
    return found


def test_location_of_own_missing_and_us_east_1_buckets(facts: Any) -> None:
    assert facts.bucket_location("sagemaker-here") == BucketLocation("sagemaker-here", REGION, True)
    assert facts.bucket_location("sagemaker-virginia").region == "us-east-1"
    assert facts.bucket_location("sagemaker-nowhere") is None
    assert facts.bucket_location("sagemaker-here") is not None
    assert facts.calls["s3:GetBucketLocation"] == 3, "memoized per bucket"


def test_legacy_eu_location_is_eu_west_1(facts: Any) -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint '
        b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">EU</LocationConstraint>'
    )
    s3_ids = {"x-amz-request-id": "0123456789ABCDEF", "x-amz-id-2": "aGVsbG8="}  # S3 sends both
    Injector().queue("GetBucketLocation", _response(200, body, s3_ids)).attach(facts.client("s3"))
    assert facts.bucket_location("sagemaker-here").region == "eu-west-1"


def test_a_bucket_refusing_both_calls_is_unreadable_not_missing(facts: Any) -> None:
    denied = b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>"
    seen = Injector().always("GetBucketLocation", lambda _r: _response(403, denied, {}))
    seen.attach(facts.client("s3"))
    with pytest.raises(FactUnavailable) as caught:
        facts.bucket_location("sagemaker-here")
    assert caught.value.action == "s3:GetBucketLocation"
    assert caught.value.reason == "denied"
    assert seen.seen["GetBucketLocation"] == 2


def test_head_object_reads_size_and_never_the_body(facts: Any) -> None:
    head = facts.head_object("sagemaker-here", "lc/on_create.sh")
    assert head is not None and head.size == len(b"#!/bin/bash\n")
    assert head.uri == "s3://sagemaker-here/lc/on_create.sh"
    assert facts.head_object("sagemaker-here", "lc/absent.sh") is None
    assert facts.calls["s3:GetObject"] == 0


def test_absent_configurations_read_as_none(facts: Any) -> None:
    assert facts.bucket_policy("sagemaker-here") is None
    assert facts.bucket_public_access_block("sagemaker-here").off == PUBLIC_ACCESS_SETTINGS
    assert facts.account_public_access_block().off == PUBLIC_ACCESS_SETTINGS
    assert facts.bucket_default_encryption("sagemaker-here") == (None, None)
