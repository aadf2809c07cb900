"""The lifecycle bucket is not public: its policy grants everyone (``*``) nothing without a
condition, and Block Public Access is on (the bucket's settings, else the account's)."""

from __future__ import annotations

from ...analysis.iam_policy import PolicyKind, PublicGrant, parse_policy, public_grants
from ...errors import FactUnavailable
from ...records import BucketLocation, PublicAccessBlock
from ...registry import CheckContext, check, need
from ...registry import Request as FactRequest
from ...results import Outcome, Severity, failed, passed, unknown, warned
from ...shell import command
from ...spec import InstanceGroup
from ._common import (
    bucket_needs,
    cannot_tell,
    each_bucket,
    location,
    missing_bucket,
    policy_file_commands,
)

BLOCK_ALL = (
    "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
)


@check(
    "s3.lifecycle-bucket-public",
    "The lifecycle bucket is not public",
    Severity.MEDIUM,
    needs=bucket_needs(
        "bucket_policy", "bucket_public_access_block", after=lambda ctx, b: _account_needs(ctx, b)
    ),
)
def lifecycle_bucket_public(ctx: CheckContext) -> list[Outcome]:
    """A policy granting * is a FAIL; Block Public Access not all on is a WARN."""
    return each_bucket(ctx, _judge_bucket)


def _account_needs(ctx: CheckContext, bucket: str) -> list[FactRequest]:
    """The account's Block Public Access, read only where the judge needs it: the bucket's
    own is not all on, and this account owns the bucket."""
    found = location(ctx, bucket)
    try:
        block = ctx.aws.bucket_public_access_block(bucket)
    except FactUnavailable:
        return []
    if block.off and isinstance(found, BucketLocation) and found.owned is True:
        return [need("account_public_access_block")]
    return []


def _judge_bucket(ctx: CheckContext, bucket: str, _groups: list[InstanceGroup]) -> Outcome:
    found = location(ctx, bucket)
    if found is None:
        return missing_bucket(bucket)
    try:
        policy = ctx.aws.bucket_policy(bucket)
    except FactUnavailable as exc:
        return cannot_tell(bucket, exc, "whether the bucket policy makes it public")
    try:
        block: PublicAccessBlock | FactUnavailable = ctx.aws.bucket_public_access_block(bucket)
    except FactUnavailable as exc:
        block = exc
    parsed = parse_policy(policy or "", name=f"bucket policy of {bucket}", kind=PolicyKind.RESOURCE)
    grants = public_grants(parsed) if policy is not None else []
    if grants:
        return _public_policy(bucket, grants, block)
    if policy is not None and parsed.problems:
        return unknown(
            bucket,
            "could not tell whether the bucket policy makes it public: "
            + "; ".join(str(p) for p in parsed.problems),
            f"Review it: `{command('aws', 's3api', 'get-bucket-policy', '--bucket', bucket)}`.",
        )
    if isinstance(block, FactUnavailable):
        return cannot_tell(bucket, block, "whether Block Public Access is on")
    conditional = public_grants(parsed, include_conditional=True) if policy else []
    narrowed = [_describe(g) for g in conditional]
    no_grant = (
        f"no unconditional public grant (under a condition: {'; '.join(narrowed)})"
        if narrowed
        else "no public grant"
    )
    if not block.off:
        return passed(bucket, f"{no_grant}, and Block Public Access is all on for {bucket}")
    owned = isinstance(found, BucketLocation) and found.owned is True
    if not owned:
        return unknown(
            bucket,
            f"could not tell whether public access is blocked: {', '.join(block.off)} "
            f"{'is' if len(block.off) == 1 else 'are'} off on {bucket}, and the setting of "
            "the account owning the bucket (which S3 also applies) is not readable from here",
            f"As the bucket owner: `{_block_all(bucket)}`.",
        )
    try:
        account = ctx.aws.account_public_access_block()
    except FactUnavailable as exc:
        return cannot_tell(bucket, exc, "whether the account blocks public access")
    off = block.union(account).off
    if not off:
        return passed(
            bucket,
            f"{no_grant}, and Block Public Access is all on for {bucket} (with the "
            "account's settings)",
        )
    return warned(
        bucket,
        f"Block Public Access is not all on for {bucket}: {', '.join(off)} "
        f"{'is' if len(off) == 1 else 'are'} off on the bucket and the account; the "
        "lifecycle scripts could be made public by a policy or ACL",
        f"`{_block_all(bucket)}`",
        off=list(off),
    )


def _block_all(bucket: str) -> str:
    return command(
        "aws",
        "s3api",
        "put-public-access-block",
        "--bucket",
        bucket,
        "--public-access-block-configuration",
        BLOCK_ALL,
    )


def _public_policy(
    bucket: str, grants: list[PublicGrant], block: PublicAccessBlock | FactUnavailable
) -> Outcome:
    shown = "; ".join(_describe(g) for g in grants)
    restricted = isinstance(block, PublicAccessBlock) and "RestrictPublicBuckets" in block.on
    note = (
        " (RestrictPublicBuckets on the bucket limits it to this account's principals "
        "today, but the grant stays in the policy)"
        if restricted
        else ""
    )
    save, put = policy_file_commands(bucket)
    return failed(
        bucket,
        f"the bucket policy of {bucket} grants everyone (*) access without a condition: "
        f"{shown}{note}",
        f"Remove those statements (as the bucket owner): `{save}`, delete them, then `{put}`"
        + f" (or `{command('aws', 's3api', 'delete-bucket-policy', '--bucket', bucket)}` "
        f"when nothing else is in it); then `{_block_all(bucket)}`.",
        severity=Severity.HIGH,
        statements=[str(g.statement) for g in grants],
    )


def _describe(grant: PublicGrant) -> str:
    actions = ", ".join(grant.actions) or "(none)"
    what = f"everything except {actions}" if grant.not_action else actions
    who = " (an Allow with NotPrincipal)" if grant.via_not_principal else ""
    when = f" if {', '.join(str(c) for c in grant.conditions)}" if grant.conditions else ""
    return f"{grant.statement} allows {what}{who}{when}"
