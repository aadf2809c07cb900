"""The lifecycle bucket exists and sits in the cluster's region."""

from __future__ import annotations

from ...records import BucketLocation
from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed
from ...shell import command
from ...spec import InstanceGroup
from ._common import (
    LIFECYCLE_FAILURE,
    bucket_needs,
    cannot_tell,
    each_bucket,
    first_prefix,
    located,
    location,
    sagemaker_name,
    uri_paths,
)

READS = bucket_needs()


@check(
    "s3.lifecycle-bucket-exists",
    "The lifecycle bucket exists",
    Severity.CRITICAL,
    needs=READS,
)
def lifecycle_bucket_exists(ctx: CheckContext) -> list[Outcome]:
    """Each bucket named by a SourceS3Uri exists (NoSuchBucket is a FAIL; 403 is UNKNOWN)."""
    return each_bucket(ctx, _exists)


def _exists(ctx: CheckContext, bucket: str, groups: list[InstanceGroup]) -> Outcome:
    found = location(ctx, bucket)
    if isinstance(found, BucketLocation):
        return passed(
            bucket,
            f"bucket {bucket} exists in {found.region}" + _owner_text(found),
            region=found.region,
            owned_by_this_account=found.owned,
        )
    if found is not None:
        return cannot_tell(bucket, found, "whether the bucket exists")
    name = sagemaker_name(bucket)
    prefix = first_prefix(groups)
    repoint = f", then point {uri_paths(groups)} at s3://{name}/{prefix}" if name != bucket else ""
    return failed(
        bucket,
        f"bucket {bucket} does not exist (NoSuchBucket); HyperPod would fail with "
        f'"{LIFECYCLE_FAILURE}"',
        "Create it and upload the scripts: "
        f"`{command('aws', 's3', 'mb', f's3://{name}', '--region', ctx.aws.region)}` and "
        f"`{command('aws', 's3', 'sync', './lifecycle/', f's3://{name}/{prefix}')}`{repoint}.",
        groups=[g.name for g in groups],
    )


@check(
    "s3.lifecycle-bucket-region",
    "The lifecycle bucket is in the cluster's region",
    Severity.HIGH,
    needs=READS,
)
def lifecycle_bucket_region(ctx: CheckContext) -> list[Outcome]:
    """Each lifecycle bucket is in the cluster's region (GetBucketLocation; None: us-east-1)."""
    return each_bucket(ctx, _in_region)


def _in_region(ctx: CheckContext, bucket: str, groups: list[InstanceGroup]) -> Outcome:
    region = ctx.aws.region
    found = located(ctx, bucket, "the bucket's region")
    if isinstance(found, Outcome):
        return found
    if found.region == region:
        return passed(bucket, f"bucket {bucket} is in {region}, as the cluster")
    name = sagemaker_name(bucket, region)
    prefix = first_prefix(groups)
    return failed(
        bucket,
        f"bucket {bucket} is in {found.region}, the cluster in {region}: the "
        "nodes fetch their lifecycle scripts from a bucket of the cluster's region",
        f"Copy the scripts to a bucket in {region}: "
        f"`{command('aws', 's3', 'mb', f's3://{name}', '--region', region)}` and `"
        + command(
            "aws",
            "s3",
            "sync",
            f"s3://{bucket}/{prefix}",
            f"s3://{name}/{prefix}",
            "--source-region",
            found.region,
            "--region",
            region,
        )
        + f"`, then point {uri_paths(groups)} at s3://{name}/{prefix}.",
        bucket_region=found.region,
        cluster_region=region,
    )


def _owner_text(found: BucketLocation) -> str:
    if found.owned is True:
        return ", owned by this account"
    if found.owned is False:
        return ", owned by another account"
    return ""
