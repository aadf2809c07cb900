"""Helpers the lifecycle-bucket checks share (no check is registered here)."""

from __future__ import annotations

from collections.abc import Callable

from ...analysis.s3_lifecycle import lifecycle_groups, split_uri
from ...errors import FactUnavailable
from ...planner import ClusterPlan
from ...records import BucketLocation
from ...registry import CheckContext, NeedsFn, Then, need
from ...registry import Request as FactRequest
from ...results import Outcome, Status, skipped
from ...shell import command
from ...spec import ClusterSpec, InstanceGroup

LIFECYCLE_FAILURE = (
    "Lifecycle scripts did not run successfully. Ensure the scripts exist in provided S3 "
    "path, are accessible, and run without errors."
)


def buckets(ctx: CheckContext) -> dict[str, list[InstanceGroup]]:
    """The lifecycle buckets of the config, each with the groups that use it."""
    return lifecycle_groups(ctx.spec)


def bucket_needs(
    *readers: str, after: Callable[[CheckContext, str], list[FactRequest]] | None = None
) -> NeedsFn:
    """Each lifecycle bucket's location, then ``readers`` of each bucket that exists (or
    whose location could not be read: the judge goes on), then ``after(ctx, bucket)``."""

    def needs(spec: ClusterSpec, plan: ClusterPlan) -> list[FactRequest]:
        named = list(lifecycle_groups(spec))
        if not named:
            return []
        return [*(need("bucket_location", b) for b in named), Then(each(named))]

    def each(named: list[str]) -> Callable[[CheckContext], list[FactRequest]]:
        def follow(ctx: CheckContext) -> list[FactRequest]:
            there = [b for b in named if location(ctx, b) is not None]
            out: list[FactRequest] = [need(r, b) for b in there for r in readers]
            if after is not None:
                out.append(Then(lambda c: [n for b in there for n in after(c, b)]))
            return out

        return follow

    return needs


def no_buckets() -> Outcome:
    return skipped("LifeCycleConfig", "no group names an s3:// LifeCycleConfig.SourceS3Uri")


def each_bucket(
    ctx: CheckContext, judge: Callable[[CheckContext, str, list[InstanceGroup]], Outcome]
) -> list[Outcome]:
    """One outcome per lifecycle bucket of the config, ``judge(ctx, bucket, its groups)``; a
    SKIP when the config names none."""
    named = buckets(ctx)
    if not named:
        return [no_buckets()]
    return [judge(ctx, bucket, groups) for bucket, groups in named.items()]


def missing_bucket(bucket: str) -> Outcome:
    return skipped(bucket, "the bucket does not exist (see s3.lifecycle-bucket-exists)")


def cannot_tell(resource: str, exc: FactUnavailable, what: str) -> Outcome:
    """UNKNOWN for one bucket or object, naming the action that could not be read."""
    return Outcome(
        status=Status.UNKNOWN,
        resource=resource,
        message=f"could not tell {what}: {exc.describe()}",
        remediation=exc.remediation,
        details={"action": exc.action, "reason": exc.reason},
    )


def location(ctx: CheckContext, bucket: str) -> BucketLocation | FactUnavailable | None:
    """The bucket's location (None: no such bucket), or why it could not be read."""
    try:
        return ctx.aws.bucket_location(bucket)
    except FactUnavailable as exc:
        return exc


def located(ctx: CheckContext, bucket: str, what: str) -> BucketLocation | Outcome:
    """The bucket's location, or the outcome that ends its judgement: SKIP when there is no
    such bucket (``s3.lifecycle-bucket-exists`` reports it), UNKNOWN naming ``what`` when
    its location could not be read."""
    found = location(ctx, bucket)
    if found is None:
        return missing_bucket(bucket)
    if isinstance(found, FactUnavailable):
        return cannot_tell(bucket, found, what)
    return found


def uri_paths(groups: list[InstanceGroup]) -> str:
    """Where the config names the bucket, for a remediation."""
    return ", ".join(f"{g.json_path or g.name}.LifeCycleConfig.SourceS3Uri" for g in groups)


def sagemaker_name(bucket: str, suffix: str = "") -> str:
    """A bucket name for a fix: ``bucket`` (plus ``-suffix``) named ``sagemaker-*`` as the
    managed policy expects; at most 63 characters."""
    name = bucket if bucket.startswith("sagemaker-") else f"sagemaker-{bucket}"
    tail = f"-{suffix}" if suffix else ""
    return name[: 63 - len(tail)].rstrip("-.") + tail


def first_prefix(groups: list[InstanceGroup]) -> str:
    """The key prefix of the first group's SourceS3Uri (empty or ending in /)."""
    for group in groups:
        where = split_uri(group.lifecycle_source_s3_uri)
        if where is not None:
            return where[1]
    return ""


def policy_file_commands(bucket: str) -> tuple[str, str]:
    """(the command that saves the bucket policy to policy.json, the one that puts it back)."""
    get = command(
        "aws",
        "s3api",
        "get-bucket-policy",
        "--bucket",
        bucket,
        "--query",
        "Policy",
        "--output",
        "text",
    )
    put = command(
        "aws", "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", "file://policy.json"
    )
    return f"{get} > policy.json", put
