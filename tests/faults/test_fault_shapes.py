"""Answers that look like AWS at first sight but do not carry the operation's output shape:
a HEAD without S3's request headers, XML of the wrong shape, a query answer without its
result element, a listing without its list, a JSON object that is not the operation's.

Every one is "not the AWS protocol": the checks that read it say UNKNOWN naming the
endpoint, never FAIL or PASS from an empty or default value. A default AWS documents (no
LocationConstraint means us-east-1) applies only to an answer proven to be AWS's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from aws_world import ACCOUNT, REGION, Injector, _response, by_resource, new_facts, run
from conftest import moto_env
from fault_kit import SUBNET, faulty_facts, no_backoff, response, small_spec

import hyperpod_preflight.checks.iam
import hyperpod_preflight.checks.quotas
import hyperpod_preflight.checks.s3  # noqa: F401  (registers the checks)
from hyperpod_preflight.errors import CannotRunError, FactUnavailable
from hyperpod_preflight.models import Status
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup

NOT_AWS = "did not answer in the AWS protocol"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/hyperpod-exec"
BUCKET = "sagemaker-faults"
S3_IDS = (
    "s3.lifecycle-bucket-exists",
    "s3.lifecycle-bucket-region",
    "s3.lifecycle-bucket-access",
    "s3.lifecycle-bucket-public",
    "s3.lifecycle-objects",
)
# What S3 itself sends with every answer (moto and LocalStack send x-amzn-requestid).
S3_IDS_HEADERS = {"x-amz-request-id": "0123456789ABCDEF", "x-amz-id-2": "aGVsbG8="}


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    no_backoff(monkeypatch)


@pytest.fixture(scope="module")
def account() -> Iterator[None]:
    """A moto account with a good lifecycle bucket in us-west-2 (on_create.sh is not empty)."""
    with moto_env():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=BUCKET, Key="lifecycle/on_create.sh", Body=b"#!/bin/bash\necho hi\n")
        s3.put_object(Bucket=BUCKET, Key="lifecycle/provisioning_parameters.json", Body=b"{}")
        iam = boto3.client("iam", region_name=REGION)
        iam.create_role(
            RoleName="hyperpod-exec",
            AssumeRolePolicyDocument=(
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                '"Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
            ),
        )
        yield


@pytest.fixture
def lifted(account: None, lifted_endpoint: None) -> None:
    return None


def lifecycle_spec() -> ClusterSpec:
    return ClusterSpec(
        name="c",
        orchestrator="slurm",
        instance_groups=(
            InstanceGroup(
                name="g0",
                instance_type="ml.m5.xlarge",
                count=1,
                execution_role=ROLE,
                lifecycle_source_s3_uri=f"s3://{BUCKET}/lifecycle/",
                lifecycle_on_create="on_create.sh",
                json_path="InstanceGroups[0]",
            ),
        ),
    )


def facts_with(injector: Injector) -> Any:
    facts = faulty_facts(injector, max_attempts=2)
    facts.verify_identity()
    return facts


def never_a_verdict(findings: list[Any]) -> None:
    """Every finding is UNKNOWN (or SKIP) and names the endpoint that answered junk."""
    assert findings
    for f in findings:
        assert f.status.value not in ("FAIL", "PASS", "WARN"), (f.check_id, f.message)
    unknown = [f for f in findings if f.status is Status.UNKNOWN]
    assert unknown and all(NOT_AWS in f.message and "endpoint" in f.message for f in unknown)


# -- S3 -----------------------------------------------------------------------------------
def bare_head() -> Any:
    """A proxy's 200 to HEAD: Content-Length 0, none of S3's headers."""
    return botocore_response(200, b"", {"Content-Length": "0", "Content-Type": "text/plain"})


def botocore_response(status: int, body: bytes, headers: dict[str, str]) -> Any:
    return _response(status, body, headers)


def test_a_head_without_s3_headers_is_not_an_empty_object(lifted: None) -> None:
    facts = facts_with(Injector().always("HeadObject", lambda _r: bare_head()))
    with pytest.raises(FactUnavailable) as err:
        facts.head_object(BUCKET, "lifecycle/on_create.sh")
    assert err.value.reason == "protocol"
    assert "the S3 endpoint did not answer in the AWS protocol: HTTP 200" in err.value.describe()
    found = by_resource(run("s3.lifecycle-objects", lifecycle_spec(), facts))
    assert all(f.status is Status.UNKNOWN for f in found.values()), found
    assert not any("is empty (0 bytes)" in f.message for f in found.values())
    assert all(NOT_AWS in f.message for f in found.values())


def test_a_head_of_an_empty_object_with_s3_headers_is_still_empty(lifted: None) -> None:
    """The guard does not turn a real empty file into UNKNOWN: S3's own answer to HEAD of a
    0-byte object carries the request ids, ETag and Last-Modified."""
    headers = {
        **S3_IDS_HEADERS,
        "Content-Length": "0",
        "ETag": '"d41d8cd98f00b204e9800998ecf8427e"',
        "Last-Modified": "Mon, 07 Dec 2026 16:45:52 GMT",
        "Content-Type": "binary/octet-stream",
    }
    facts = facts_with(
        Injector().always("HeadObject", lambda _r: botocore_response(200, b"", headers))
    )
    head = facts.head_object(BUCKET, "lifecycle/on_create.sh")
    assert head is not None and head.size == 0


def test_every_s3_answer_empty_gives_no_verdict(lifted: None) -> None:
    """An S3 endpoint answering 200 with an empty body to everything."""
    inj = Injector()
    for op in (
        "GetBucketLocation",
        "HeadObject",
        "ListObjectsV2",
        "GetBucketPolicy",
        "GetPublicAccessBlock",
        "GetBucketEncryption",
        "GetObject",
    ):
        inj.always(op, lambda _r: botocore_response(200, b"", {"Content-Length": "0"}))
    facts = facts_with(inj)
    findings = [f for cid in S3_IDS for f in run(cid, lifecycle_spec(), facts)]
    assert not [f for f in findings if f.status.value in ("FAIL", "PASS")], [
        (f.check_id, f.status.value, f.message) for f in findings
    ]


@pytest.mark.parametrize("with_s3_headers", [False, True], ids=["bare", "s3-headers"])
def test_wrong_shape_bucket_location_is_not_us_east_1(lifted: None, with_s3_headers: bool) -> None:
    headers = {"Content-Type": "application/xml", **(S3_IDS_HEADERS if with_s3_headers else {})}
    body = b"<Foo><Bar>1</Bar></Foo>"
    facts = facts_with(
        Injector().always("GetBucketLocation", lambda _r: botocore_response(200, body, headers))
    )
    with pytest.raises(FactUnavailable) as err:
        facts.bucket_location(BUCKET)
    assert err.value.reason == "protocol" and "HTTP 200" in err.value.describe()
    [finding] = run("s3.lifecycle-bucket-region", lifecycle_spec(), facts)
    assert finding.status is Status.UNKNOWN and "us-east-1" not in finding.message
    assert NOT_AWS in finding.message


def test_s3s_own_us_east_1_answer_still_means_us_east_1(lifted: None) -> None:
    """An empty LocationConstraint, as S3 sends it for us-east-1, keeps its documented
    meaning (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html)."""
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + (
        b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
    )
    headers = {"Content-Type": "application/xml", **S3_IDS_HEADERS}
    facts = facts_with(
        Injector().always("GetBucketLocation", lambda _r: botocore_response(200, body, headers))
    )
    location = facts.bucket_location(BUCKET)
    assert location is not None and location.region == "us-east-1"


def test_a_listing_without_its_elements_is_not_an_empty_prefix(lifted: None) -> None:
    body = b"<ListBucketResult><Foo/></ListBucketResult>"
    headers = {"Content-Type": "application/xml", **S3_IDS_HEADERS}
    facts = facts_with(
        Injector().always("ListObjectsV2", lambda _r: botocore_response(200, body, headers))
    )
    with pytest.raises(FactUnavailable, match=NOT_AWS):
        facts.prefix_listing(BUCKET, "lifecycle/")


# -- EC2: the right root, no result -------------------------------------------------------
def ec2_junk(operation: str) -> Callable[[Any], Any]:
    body = f"<{operation}Response><foo/></{operation}Response>".encode()
    return lambda _r: response(200, body)


@pytest.mark.parametrize(
    ("operation", "check_id"),
    [
        ("DescribeSubnets", "network.subnet-exists"),
        ("DescribeSecurityGroups", "network.sg-exists"),
    ],
)
def test_right_root_without_the_list_is_not_does_not_exist(operation: str, check_id: str) -> None:
    facts = faulty_facts(Injector().always(operation, ec2_junk(operation)), max_attempts=2)
    findings = run(check_id, small_spec(), facts)
    never_a_verdict(findings)
    assert all("EC2" in f.message for f in findings)


def test_ec2_answer_with_an_empty_list_is_still_an_empty_list() -> None:
    """EC2's own answer for nothing found carries the empty set (``<subnetSet/>``)."""
    body = (
        b'<DescribeSubnetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        b"<requestId>r</requestId><subnetSet/></DescribeSubnetsResponse>"
    )
    facts = faulty_facts(
        Injector().always("DescribeSubnets", lambda _r: response(200, body)), max_attempts=1
    )
    assert facts.subnets([SUBNET]) == {} or not any(facts.subnets([SUBNET]).values())


# -- query protocol: the right root, no result element -------------------------------------
def query_without_result(operation: str) -> Callable[[Any], Any]:
    body = (
        f"<{operation}Response><ResponseMetadata><RequestId>r</RequestId>"
        f"</ResponseMetadata></{operation}Response>"
    ).encode()
    return lambda _r: response(200, body)


def test_sts_without_its_result_is_one_line_naming_the_endpoint() -> None:
    inj = Injector().always("GetCallerIdentity", query_without_result("GetCallerIdentity"))
    with pytest.raises(CannotRunError) as err:
        faulty_facts(inj).verify_identity()
    message = str(err.value)
    assert err.value.exit_code == 3
    assert message.startswith("the STS endpoint did not answer in the AWS protocol: HTTP 200")
    assert "KeyError" not in message and "\n" not in message


def test_iam_get_role_without_its_result_is_unknown(lifted: None) -> None:
    facts = facts_with(Injector().always("GetRole", query_without_result("GetRole")))
    with pytest.raises(FactUnavailable) as err:
        facts.role(ROLE.rsplit("/", 1)[1])
    assert err.value.reason == "protocol" and "the IAM endpoint" in err.value.describe()


# -- JSON protocol: an object that is not the operation's -----------------------------------
def json_junk(_r: Any) -> Any:
    return response(200, b'{"unexpected": true}', "application/x-amz-json-1.1")


def test_list_clusters_junk_is_not_zero_clusters() -> None:
    facts = faulty_facts(Injector().always("ListClusters", json_junk), max_attempts=2)
    with pytest.raises(FactUnavailable) as err:
        facts.hyperpod_usage()
    assert err.value.reason == "protocol"
    assert "the SageMaker endpoint did not answer in the AWS protocol" in err.value.describe()


def test_list_clusters_junk_makes_the_quota_checks_unknown() -> None:
    """The quota checks read usage from ListClusters: junk there is never PASS."""
    from quota_stubs import ServiceQuotasFake, default_account, sagemaker_quotas, slurm_config

    from hyperpod_preflight.spec import load_spec

    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/20")["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
        facts = new_facts()
        Injector().always("ListClusters", json_junk).attach(facts.client("sagemaker"))
        applied, defaults = sagemaker_quotas(applied=default_account())
        ServiceQuotasFake(applied, defaults).attach(facts)
        spec = load_spec(slurm_config([subnet], [sg]))
        findings = run("quotas.instance-type", spec, facts)
    assert findings
    for f in findings:
        assert f.status is Status.UNKNOWN, (f.resource, f.status, f.message)
        assert NOT_AWS in f.message


def test_service_quotas_junk_is_not_an_empty_listing() -> None:
    facts = faulty_facts(Injector().always("ListServiceQuotas", json_junk), max_attempts=2)
    with pytest.raises(FactUnavailable, match=f"the Service Quotas endpoint {NOT_AWS}"):
        facts.applied_quotas("sagemaker")
