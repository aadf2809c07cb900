"""Every lifecycle file the config names exists under its SourceS3Uri and is not empty
(``HeadObject`` only: nothing is downloaded)."""

from __future__ import annotations

from typing import Any

from ...analysis.s3_lifecycle import PROVISIONING_PARAMETERS, LifecycleObject, lifecycle_objects
from ...errors import FactUnavailable
from ...records import S3ObjectHead
from ...registry import CheckContext, Then, check, need
from ...registry import Request as FactRequest
from ...results import Outcome, Severity, failed, passed, skipped, warned
from ...shell import command
from ...spec import ClusterSpec
from ._common import LIFECYCLE_FAILURE, cannot_tell, location, missing_bucket

TEMPLATE = "lifecycle/provisioning_parameters.slurm-p5.json"


@check(
    "s3.lifecycle-objects",
    "Every lifecycle file the config names exists and is not empty",
    Severity.CRITICAL,
    needs=lambda spec, plan: _objects_needs(spec),
)
def lifecycle_objects_exist(ctx: CheckContext) -> list[Outcome]:
    """OnCreate, OnInitComplete (and Slurm's provisioning_parameters.json) exist, non-empty."""
    needed = lifecycle_objects(ctx.spec)
    if not needed:
        return [skipped("LifeCycleConfig", "the config names no lifecycle file in S3")]
    by_bucket: dict[str, list[LifecycleObject]] = {}
    for obj in needed:
        by_bucket.setdefault(obj.bucket, []).append(obj)
    outcomes: list[Outcome] = []
    for bucket, objects in by_bucket.items():
        if location(ctx, bucket) is None:
            outcomes.append(missing_bucket(bucket))
            continue
        default = _default_encryption(ctx, bucket)
        for obj in objects:
            try:
                head = ctx.aws.head_object(obj.bucket, obj.key)
            except FactUnavailable as exc:
                outcomes.append(
                    cannot_tell(
                        obj.uri,
                        exc,
                        "whether the object exists (without s3:ListBucket S3 answers a "
                        "missing key with 403 too)",
                    )
                )
                continue
            outcomes.append(_judge(obj, head, default))
    return outcomes


def _objects_needs(spec: ClusterSpec) -> list[FactRequest]:
    """Each bucket's location, then the default encryption and one HeadObject per object of
    each bucket that may exist."""
    objects = lifecycle_objects(spec)
    if not objects:
        return []
    named = list(dict.fromkeys(o.bucket for o in objects))

    def heads(ctx: CheckContext) -> list[FactRequest]:
        there = {b for b in named if location(ctx, b) is not None}
        return [
            *(need("bucket_default_encryption", b) for b in named if b in there),
            *(need("head_object", o.bucket, o.key) for o in objects if o.bucket in there),
        ]

    return [*(need("bucket_location", b) for b in named), Then(heads)]


def _default_encryption(ctx: CheckContext, bucket: str) -> dict[str, Any]:
    """The bucket's default encryption, for the record (what a re-upload gets)."""
    try:
        algorithm, key_id = ctx.aws.bucket_default_encryption(bucket)
    except FactUnavailable as exc:
        return {"bucket_default_encryption": f"unreadable: {exc.describe()}"}
    return {"bucket_default_encryption": algorithm, "bucket_kms_key_id": key_id}


def _judge(obj: LifecycleObject, head: S3ObjectHead | None, default: dict[str, Any]) -> Outcome:
    what = _what(obj)
    fix = _upload(obj)
    if obj.role == PROVISIONING_PARAMETERS and (head is None or head.size == 0):
        # HyperPod runs OnCreate; it does not read this file itself. The reference
        # on_create.sh (lifecycle/README.md) does, other scripts may not: whether the node's
        # setup stops for want of it is lifecycle.scripts' to tell, from the scripts.
        state = "does not exist" if head is None else "is empty (0 bytes)"
        return warned(
            obj.uri,
            f"{what} {state}: the reference lifecycle scripts read it to learn the Slurm "
            "topology (HyperPod itself does not); if yours do, their run fails "
            f'("{LIFECYCLE_FAILURE}"); lifecycle.scripts tells whether they read it',
            fix,
            groups=list(obj.groups),
            **default,
        )
    if head is None:
        return failed(
            obj.uri,
            f'{what} does not exist; HyperPod would fail with "{LIFECYCLE_FAILURE}"',
            fix,
            groups=list(obj.groups),
            **default,
        )
    details: dict[str, Any] = {
        "size": head.size,
        "encryption": head.encryption,
        "kms_key_id": head.kms_key_id,
        "groups": list(obj.groups),
        **default,
    }
    if head.size == 0:
        return failed(obj.uri, f"{what} is empty (0 bytes)", fix, **details)
    encryption = (
        f", SSE-KMS with key {head.kms_key_id} (the execution role needs kms:Decrypt on it)"
        if head.kms
        else f", {head.encryption}"
        if head.encryption
        else ""
    )
    return passed(obj.uri, f"{what} exists ({head.size:,} bytes{encryption})", **details)


def _what(obj: LifecycleObject) -> str:
    """``the OnCreate script s3://… (groups a, b)``."""
    kind = (
        "Slurm provisioning file" if obj.role == PROVISIONING_PARAMETERS else f"{obj.role} script"
    )
    groups = f"group{'s' if len(obj.groups) > 1 else ''} {', '.join(obj.groups)}"
    return f"the {kind} {obj.uri} ({groups})"


def _upload(obj: LifecycleObject) -> str:
    name = obj.key.rsplit("/", 1)[-1]
    if obj.role == PROVISIONING_PARAMETERS:
        return (
            f"Write it (template: {TEMPLATE}; it names the controller, login and worker "
            f"groups), then `{command('aws', 's3', 'cp', './' + name, obj.uri)}`."
        )
    return f"Upload the script: `{command('aws', 's3', 'cp', './' + name, obj.uri)}`."
