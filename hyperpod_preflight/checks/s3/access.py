"""The execution roles may read the lifecycle bucket, as far as the bucket decides: it is
owned by this account and its policy denies them nothing, or (another account's bucket) its
policy grants them ``s3:ListBucket`` and ``s3:GetObject`` on every file the config names.

The roles' own policies are the ``iam`` checks' subject: here they are taken to allow
everything, so that each decision is the bucket policy's alone.
"""

from __future__ import annotations

import json

from ...analysis.iam_policy import Decision, DecisionStatus, Request, evaluate_requests
from ...analysis.s3_lifecycle import lifecycle_objects
from ...errors import FactUnavailable
from ...records import BucketLocation
from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...shell import command
from ...spec import ARN_PARTITION_RE, InstanceGroup
from ._common import (
    bucket_needs,
    cannot_tell,
    each_bucket,
    first_prefix,
    located,
    policy_file_commands,
    sagemaker_name,
    uri_paths,
)

ROLE_SIDE = "the role's own policies (judged by the iam checks)"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# S3 does not say which account owns another account's bucket; any id that is not the
# role's own makes the evaluation cross-account (both sides must allow).
OTHER_ACCOUNT = "another-account"
# Nodes fetch the scripts over HTTPS (the AWS CLI and SDKs), so a common "deny unless
# aws:SecureTransport" statement does not apply to them.
REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


@check(
    "s3.lifecycle-bucket-access",
    "The lifecycle bucket lets the execution roles read it",
    Severity.HIGH,
    needs=bucket_needs("bucket_policy"),
)
def lifecycle_bucket_access(ctx: CheckContext) -> list[Outcome]:
    """The bucket is this account's or its policy grants the roles read; a Deny is a FAIL."""
    return each_bucket(ctx, _judge_bucket)


def _judge_bucket(ctx: CheckContext, bucket: str, groups: list[InstanceGroup]) -> Outcome:
    found = located(ctx, bucket, "who owns the bucket")
    if isinstance(found, Outcome):
        return found
    if found.owned is None:
        return unknown(bucket, "could not tell who owns the bucket: the run's account is unknown")
    roles = list(dict.fromkeys(g.execution_role for g in groups if g.execution_role))
    if not roles:
        return skipped(bucket, "no group using this bucket names an ExecutionRole")
    try:
        policy = ctx.aws.bucket_policy(bucket)
    except FactUnavailable as exc:
        return cannot_tell(bucket, exc, "whether the bucket policy lets the execution roles in")
    keys = [o.key for o in lifecycle_objects(ctx.spec) if o.bucket == bucket]
    owner = (ctx.aws.account or OTHER_ACCOUNT) if found.owned else OTHER_ACCOUNT
    decisions = {
        role: evaluate_requests(
            _requests(role, bucket, keys),
            {ROLE_SIDE: ALLOW_ALL},
            resource_policy=None if policy is None else (f"bucket policy of {bucket}", policy),
            principal_arn=role,
            resource_account=owner,
            context=REQUEST_CONTEXT,
        )
        for role in roles
    }
    return _outcome(bucket, groups, found, policy is not None, decisions)


def _bucket_arn(role: str, bucket: str) -> str:
    """The bucket's ARN in the role's partition."""
    match = ARN_PARTITION_RE.match(role)
    return f"arn:{match.group(1) if match else 'aws'}:s3:::{bucket}"


def _requests(role: str, bucket: str, keys: list[str]) -> list[Request]:
    arn = _bucket_arn(role, bucket)
    return [Request.of("s3:ListBucket", arn)] + [
        Request.of("s3:GetObject", f"{arn}/{key}") for key in keys
    ]


def _outcome(
    bucket: str,
    groups: list[InstanceGroup],
    found: BucketLocation,
    has_policy: bool,
    decisions: dict[str, list[Decision]],
) -> Outcome:
    explicit = _lines(decisions, {DecisionStatus.EXPLICIT_DENY})
    implicit = _lines(decisions, {DecisionStatus.IMPLICIT_DENY})
    conditional = _lines(decisions, {DecisionStatus.CONDITIONAL})
    unresolved = _lines(decisions, {DecisionStatus.UNRESOLVED})
    roles = list(decisions)
    edit = _policy_edit(bucket)
    if explicit:
        return failed(
            bucket,
            f"the bucket policy of {bucket} denies the execution role: " + "; ".join(explicit),
            f"Remove or narrow the Deny statement(s) named above (as the bucket owner): {edit}.",
            denied=explicit,
        )
    if implicit:
        whose = "another account" if not found.owned else "this account, the role to another,"
        return failed(
            bucket,
            f"bucket {bucket} belongs to {whose} and "
            + ("its policy does not grant" if has_policy else "has no bucket policy granting")
            + " the execution role read: "
            + "; ".join(implicit),
            _grant_or_copy(bucket, groups, roles, edit),
            not_granted=implicit,
        )
    if unresolved:
        return unknown(
            bucket,
            "could not tell whether the bucket policy lets the execution role read: "
            + "; ".join(unresolved),
            "Review the bucket policy: "
            f"`{command('aws', 's3api', 'get-bucket-policy', '--bucket', bucket)}`.",
        )
    if conditional:
        return warned(
            bucket,
            "the bucket policy decides the execution role's read by a condition: "
            + "; ".join(conditional),
            "Make sure the nodes' requests meet the condition (e.g. through the VPC endpoint "
            f"it names), or relax it: {edit}.",
            conditional=conditional,
        )
    return _readable(bucket, found, has_policy, roles)


def _policy_edit(bucket: str) -> str:
    save, put = policy_file_commands(bucket)
    return f"`{save}`, edit policy.json, then `{put}`"


def _grant_or_copy(bucket: str, groups: list[InstanceGroup], roles: list[str], edit: str) -> str:
    """The fix for a bucket that does not grant the roles read: the owner grants it, or the
    scripts move to a bucket of this account."""
    grant = json.dumps(_grant_statement(bucket, roles), separators=(",", ":"))
    name = sagemaker_name(bucket, "lifecycle")
    prefix = first_prefix(groups)
    return (
        f"Ask the bucket owner to add {grant} to its bucket policy ({edit}), or copy the "
        f"scripts to a bucket of this account: `{command('aws', 's3', 'mb', f's3://{name}')}`"
        " and `"
        + command("aws", "s3", "sync", f"s3://{bucket}/{prefix}", f"s3://{name}/{prefix}")
        + f"`, then point {uri_paths(groups)} at s3://{name}/{prefix}."
    )


def _readable(bucket: str, found: BucketLocation, has_policy: bool, roles: list[str]) -> Outcome:
    """Nothing in the bucket policy stops the roles: a PASS that says why."""
    if found.owned:
        how = "its policy denies them nothing" if has_policy else "it has no bucket policy"
        return passed(
            bucket,
            f"bucket {bucket} belongs to this account and {how}: the execution roles' own "
            "policies decide (see the iam checks)",
            roles=roles,
        )
    return passed(
        bucket,
        f"bucket {bucket} belongs to another account and its policy grants the execution "
        "roles s3:ListBucket and s3:GetObject on the lifecycle files",
        roles=roles,
    )


def _lines(decisions: dict[str, list[Decision]], wanted: set[DecisionStatus]) -> list[str]:
    return [
        f"{role}: {d.explanation}"
        for role, found in decisions.items()
        for d in found
        if d.status in wanted
    ]


def _grant_statement(bucket: str, roles: list[str]) -> dict[str, object]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": roles[0] if len(roles) == 1 else roles},
        "Action": ["s3:ListBucket", "s3:GetObject"],
        "Resource": [_bucket_arn(roles[0], bucket), f"{_bucket_arn(roles[0], bucket)}/*"],
    }
