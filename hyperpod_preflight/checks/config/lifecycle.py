"""The lifecycle configuration of each group: an s3:// SourceS3Uri and an entry script, and a
bucket the execution roles may read (named sagemaker-*, or granted by their own policies)."""

from __future__ import annotations

from collections import defaultdict

from ...analysis.iam_roles import caller_principal, config_roles, evaluate_role, role_needs
from ...errors import FactUnavailable, shown
from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, skipped, warned
from ...spec import (
    S3_URI_RE,
    ClusterSpec,
    InstanceGroup,
)
from .. import _needs
from ._common import from_flags, no_groups

MANAGED_POLICY = "AmazonSageMakerClusterInstanceRolePolicy"
EXAMPLE_LIFECYCLE = (
    '{"SourceS3Uri": "s3://sagemaker-<bucket>/lifecycle/", "OnCreate": "on_create.sh"}'
)


# -- config.lifecycle-config --------------------------------------------------------------------
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ClusterLifeCycleConfig.html:
# OnCreate is "The file name of the entrypoint script of lifecycle scripts under
# `SourceS3Uri`" (OnInitComplete the same), and SourceS3Uri "An Amazon S3 bucket path where
# your lifecycle scripts are stored". A ".." segment names no file under that path: S3 keys
# are flat ("The Amazon S3 data model is a flat structure ... There is no hierarchy of
# subbuckets or subfolders", https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html),
# so "s3://b/src/../etc" is the literal prefix "src/../etc/", and the same ".." in a file
# name leaves the folder the scripts are fetched into on the node. Neither the API's patterns
# (S3Uri "(https|s3)://([^/]+)/?(.*)", ClusterLifeCycleConfigFileName "[\S\s]+") nor the page
# forbid it, and an object uploaded under that literal key would be found: a WARN, not a FAIL.
# Whether the object is there is s3.lifecycle-objects' verdict (a HEAD of the literal key).
LIFECYCLE_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ClusterLifeCycleConfig.html"
)


def _dot_dot(path: str) -> bool:
    """``path`` has a ``..`` segment (``/`` or ``\\`` separated)."""
    return ".." in path.replace("\\", "/").split("/")


def _leaves_the_prefix(group: InstanceGroup, path: str) -> Outcome | None:
    """A WARN naming the first LifeCycleConfig field with a ``..`` segment, else None."""
    uri = group.lifecycle_source_s3_uri or ""
    key = uri.split("://", 1)[-1].partition("/")[2]
    fields = (
        ("SourceS3Uri", key, uri),
        ("OnCreate", group.lifecycle_on_create or "", group.lifecycle_on_create or ""),
        (
            "OnInitComplete",
            group.lifecycle_on_init_complete or "",
            group.lifecycle_on_init_complete or "",
        ),
    )
    for field, part, value in fields:
        if not _dot_dot(part):
            continue
        where = (
            "its key prefix must name the folder the scripts are in, without '..' (S3 keys "
            "are flat: '..' is no parent folder)"
            if field == "SourceS3Uri"
            else "it must be a file name under SourceS3Uri"
        )
        return warned(
            group.name,
            f"{path}.{field} {shown(value)} has a '..' segment that leaves the lifecycle "
            f"prefix: {where} ({LIFECYCLE_DOC}); unless the scripts were uploaded under "
            "that literal key, the nodes will not find them",
            f"Set {path}.{field} without '..': "
            + (
                'e.g. "s3://sagemaker-<bucket>/lifecycle/".'
                if field == "SourceS3Uri"
                else 'the script\'s name relative to SourceS3Uri, e.g. "on_create.sh".'
            ),
            severity=Severity.HIGH,
            field=field,
        )
    return None


@check(
    "config.lifecycle-config",
    "Every instance group has a lifecycle config (s3:// SourceS3Uri and OnCreate)",
    Severity.CRITICAL,
    needs_aws=False,
)
def check_lifecycle_config(ctx: CheckContext) -> list[Outcome]:
    """Every group names an s3:// SourceS3Uri and an entry script (WARN without)."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return no_groups()
    return [_lifecycle_outcome(spec, group) for group in spec.instance_groups]


def _lifecycle_outcome(spec: ClusterSpec, group: InstanceGroup) -> Outcome:
    # The API reference (API_ClusterLifeCycleConfig) asks for an S3 path starting with
    # s3://sagemaker-; the bucket name itself is judged by config.lifecycle-bucket-name.
    path = f"{group.json_path}.LifeCycleConfig"
    uri = group.lifecycle_source_s3_uri
    scripts = [s for s in (group.lifecycle_on_create, group.lifecycle_on_init_complete) if s]
    if group.restricted:
        return skipped(group.name, "restricted instance groups take no LifeCycleConfig")
    if uri is None and not scripts:
        if from_flags(spec):
            return skipped(group.name, "no --lifecycle-uri given")
        return warned(
            group.name,
            "no LifeCycleConfig: no lifecycle script runs on these nodes"
            + (" (nothing sets up Slurm on them)" if spec.orchestrator == "slurm" else ""),
            f"Add {path} = {EXAMPLE_LIFECYCLE}.",
            severity=Severity.HIGH,
        )
    if uri is None:
        return failed(
            group.name,
            f"LifeCycleConfig names {shown(scripts[0])} but no SourceS3Uri to fetch it from",
            f'Add {path}.SourceS3Uri, e.g. "s3://sagemaker-<bucket>/lifecycle/".',
        )
    if not S3_URI_RE.fullmatch(uri):
        return failed(
            group.name,
            f"SourceS3Uri {shown(uri)} is not an s3://bucket/prefix URI",
            f"Set {path}.SourceS3Uri to the S3 prefix holding the scripts, e.g. "
            '"s3://sagemaker-<bucket>/lifecycle/".',
        )
    leaving = _leaves_the_prefix(group, path)
    if leaving is not None:
        return leaving
    if not scripts:
        if from_flags(spec):
            return passed(group.name, f"SourceS3Uri {uri} is well-formed (no OnCreate with flags)")
        return failed(
            group.name,
            f"LifeCycleConfig has SourceS3Uri {uri} but names no script (OnCreate)",
            f'Add {path}.OnCreate naming the script under that prefix, e.g. "on_create.sh".',
        )
    for script in scripts:
        if "://" in script:
            return failed(
                group.name,
                f"script {shown(script)} is a URI; it must be a file name under SourceS3Uri",
                f"Set {path}.OnCreate to the script's name relative to {uri}, "
                'e.g. "on_create.sh".',
            )
        if script.startswith("/") or script != script.strip():
            return warned(
                group.name,
                f"script {shown(script)} is not a plain relative file name",
                f"Set {path}.OnCreate to the script's name relative to {uri}, "
                'e.g. "on_create.sh".',
            )
    return passed(
        group.name,
        f"LifeCycleConfig is well-formed: {', '.join(scripts)} under {uri} (the config only: "
        "whether the objects exist is read by the S3 and lifecycle checks, not here)",
    )


# -- config.lifecycle-bucket-name ---------------------------------------------------------------
@check(
    "config.lifecycle-bucket-name",
    "Lifecycle bucket is named sagemaker-* (readable under the managed policy)",
    Severity.MEDIUM,
    needs_aws=False,
    needs=_needs.execution_role_policies,
)
def check_lifecycle_bucket_name(ctx: CheckContext) -> list[Outcome]:
    """The lifecycle bucket is named sagemaker-*, or IAM shows the roles' own read grant."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return no_groups()
    buckets: dict[str, list[InstanceGroup]] = defaultdict(list)
    for group in spec.instance_groups:
        match = S3_URI_RE.fullmatch(group.lifecycle_source_s3_uri or "")
        if match:
            buckets[match["bucket"]].append(group)
    if not buckets:
        return [skipped("LifeCycleConfig", "no s3:// lifecycle URI given")]
    outcomes = []
    for bucket, groups in buckets.items():
        if bucket.startswith("sagemaker-"):
            outcomes.append(
                passed(
                    bucket,
                    f"bucket name matches arn:aws:s3:::sagemaker-*, the S3 read grant of "
                    f"{MANAGED_POLICY} (the name only: the bucket is not read here)",
                )
            )
            continue
        readers = _roles_proven_to_read(ctx, bucket, groups)
        if readers:
            outcomes.append(
                passed(
                    bucket,
                    f"bucket {bucket!r} is not named sagemaker-*, so {MANAGED_POLICY} does not "
                    f"cover it, but the policies IAM returned for {', '.join(readers)} allow "
                    "s3:ListBucket on it and s3:GetObject on every lifecycle object (judged as "
                    "a bucket of the role's own account; the bucket policy is not read here)",
                    roles=readers,
                )
            )
            continue
        paths = ", ".join(f"{g.json_path}.LifeCycleConfig.SourceS3Uri" for g in groups)
        how = (
            "run with AWS access so iam.execution-role-permissions reads the role's policies"
            if ctx.offline
            else "the roles' own policies did not prove it here: see iam.execution-role-permissions"
        )
        outcomes.append(
            warned(
                bucket,
                f"bucket {bucket!r} is not named sagemaker-*: {MANAGED_POLICY} grants S3 read "
                "only on arn:aws:s3:::sagemaker-*, so each execution role needs a grant of its "
                f"own ({how})",
                f"Copy the scripts to a bucket named sagemaker-<name> and point {paths} at it, "
                f"or allow s3:ListBucket on arn:aws:s3:::{bucket} and s3:GetObject on "
                f"arn:aws:s3:::{bucket}/* in the execution role's policy.",
                groups=[g.name for g in groups],
            )
        )
    return outcomes


def _roles_proven_to_read(
    ctx: CheckContext, bucket: str, groups: list[InstanceGroup]
) -> list[str] | None:
    """With AWS access: the execution roles of ``groups``, when the policies IAM returns
    for each allow ``s3:ListBucket`` on ``bucket`` and ``s3:GetObject`` on every lifecycle
    object the config names in it; None offline or when any of that is not proven."""
    if ctx.offline:
        return None
    used = {g.execution_role for g in groups}
    roles = [r for r in config_roles(ctx.spec) if r.kind == "ExecutionRole" and r.arn in used]
    if not roles or len(roles) != len(used):  # a group without a (well-formed) role
        return None
    try:
        account = ctx.aws.account or caller_principal(ctx.aws.identity_arn()).account
        for role in roles:
            policies = ctx.aws.role_policies(role.name) if role.account == account else None
            if policies is None:
                return None
            arn = f"arn:{role.partition}:s3:::{bucket}"
            needs = [
                r
                for r in role_needs(ctx.spec, role, ctx.aws.region)
                if r.group == "lifecycle-s3"
                and (r.resource == arn or r.resource.startswith(f"{arn}/"))
            ]
            if not needs or not all(d.allowed for d in evaluate_role(role, policies, needs)):
                return None
    except FactUnavailable:
        return None
    return [r.name for r in roles]
