"""The execution roles may decrypt the lifecycle objects that are SSE-KMS encrypted: the key
exists and is enabled, and both the role's policies and the key policy (or a grant) allow
``kms:Decrypt`` through S3."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from ...analysis.iam_policy import Decision, DecisionStatus
from ...analysis.iam_requirements import LIFECYCLE_KMS
from ...analysis.iam_roles import ConfigRole
from ...analysis.kms_lifecycle import (
    KEY_STATE_DOC,
    decrypt_context,
    decrypt_decision,
    decrypt_grants,
    execution_roles_reading,
    identity_decision,
    key_reference,
    needs_key_policy,
)
from ...analysis.s3_lifecycle import LifecycleObject, lifecycle_objects
from ...errors import FactUnavailable
from ...planner import ClusterPlan
from ...records import KmsKey, RolePolicies
from ...registry import CheckContext, Request, Then, UndeclaredRead, check, need
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...shell import command
from ...spec import ClusterSpec
from .._common import could_not_tell
from ._common import caller_account, compact, missing, other_account, roles, unreadable

LIFECYCLE_FAILURE = "Lifecycle scripts did not run successfully"
# The page saying that reading an SSE-KMS object needs kms:Decrypt, and its words.
_SOURCE: dict[str, Any] = {"source": LIFECYCLE_KMS[0].source, "quote": LIFECYCLE_KMS[0].quote}
INLINE_POLICY_NAME = "hp-preflight-lifecycle-kms"
# How to make a key usable again, by key state (KEY_STATE_DOC); ``{arn}`` is quoted.
_STATE_FIX = {
    "Disabled": "aws kms enable-key --key-id {arn}",
    "PendingDeletion": (
        "aws kms cancel-key-deletion --key-id {arn} && aws kms enable-key --key-id {arn}"
    ),
    "PendingReplicaDeletion": (
        "aws kms cancel-key-deletion --key-id {arn} && aws kms enable-key --key-id {arn}"
    ),
    "PendingImport": "import its key material: aws kms import-key-material --key-id {arn} ...",
    "Unavailable": (
        "reconnect its custom key store: aws kms connect-custom-key-store --custom-key-store-id ..."
    ),
}


@dataclass
class _Keys:
    """The lifecycle objects by the KMS key reference encrypting them, and what was not read."""

    by_ref: dict[str, list[LifecycleObject]] = field(default_factory=dict)
    unreadable: list[Outcome] = field(default_factory=list)
    plain: int = 0  # objects read and not SSE-KMS
    unjudged: int = 0  # missing objects whose bucket's default encryption is unreadable


def _kms_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """What the judge reads, stage by stage: each bucket's location, then each object's
    ``HeadObject``, the bucket default encryption of a missing object, then each key and
    the policies of the execution roles reading it, then the key policies and the grants
    (``ListGrants``, which the judge reads only when the policies do not allow Decrypt)."""
    objects = lifecycle_objects(spec)
    if not objects:
        return []

    def heads(ctx: CheckContext) -> list[Request]:
        out: list[Request] = [
            need("head_object", o.bucket, o.key)
            for o in objects
            if not _bucket_missing(ctx, o.bucket)
        ]
        return [*out, Then(defaults)]

    def defaults(ctx: CheckContext) -> list[Request]:
        out: list[Request] = []
        for o in objects:
            try:
                if (
                    not _bucket_missing(ctx, o.bucket)
                    and ctx.aws.head_object(o.bucket, o.key) is None
                ):
                    out.append(need("bucket_default_encryption", o.bucket))
            except FactUnavailable:
                continue
        return [*out, Then(keys)]

    def keys(ctx: CheckContext) -> list[Request]:
        found = _key_references(ctx, objects)
        if not found.by_ref:
            return []
        account = caller_account(ctx)
        readers = execution_roles_reading(
            roles(ctx), [o for objs in found.by_ref.values() for o in objs]
        )
        names = dict.fromkeys(r.name for r in readers if r.account == account)
        return [
            *(need("key", ref) for ref in found.by_ref),
            *(need("role_policies", name) for name in names),
            Then(policies),
        ]

    def policies(ctx: CheckContext) -> list[Request]:
        found = _key_references(ctx, objects)
        account = caller_account(ctx)
        out: list[Request] = []
        for ref in found.by_ref:
            try:
                key = ctx.aws.key(ref)
            except FactUnavailable:
                continue
            if key is not None and needs_key_policy(key, account):
                out.append(need("key_policy", key.arn))
        return [*out, Then(grants)]

    def grants(ctx: CheckContext) -> list[Request]:
        """``ListGrants`` where the judge reads it: a dry run of each (role, key) judgement
        over what was gathered names the grants it would read."""
        out: list[Request] = []
        for judge, key_policy in _judgements(ctx, objects):
            try:
                judge.outcome(key_policy)
            except UndeclaredRead:
                out.append(need("key_grants", judge.key.arn, judge.role_arn))
        return out

    bucket_reads = [need("bucket_location", b) for b in dict.fromkeys(o.bucket for o in objects)]
    return [need("identity_arn"), *bucket_reads, Then(heads)]


@check(
    "iam.lifecycle-kms",
    "Execution roles may decrypt SSE-KMS lifecycle objects (IAM and key policy)",
    Severity.CRITICAL,
    needs=lambda spec, plan: _kms_needs(spec, plan),
)
def lifecycle_kms(ctx: CheckContext) -> list[Outcome]:
    """Roles may kms:Decrypt each SSE-KMS lifecycle object's key, by IAM and the key policy."""
    objects = lifecycle_objects(ctx.spec)
    if not objects:
        return [skipped("LifeCycleConfig", "the config names no lifecycle file in S3")]
    keys = _key_references(ctx, objects)
    outcomes = list(keys.unreadable)
    if not keys.by_ref:
        if outcomes:
            return outcomes
        also = (
            f"; {keys.unjudged} missing object(s) whose bucket or its default encryption "
            "could not be read are not judged (see s3.lifecycle-objects)"
            if keys.unjudged
            else ""
        )
        return [
            skipped(
                "LifeCycleConfig",
                f"lifecycle objects are not KMS-encrypted (or SSE-S3){also}",
            )
        ]
    account = caller_account(ctx)
    usable: dict[str, tuple[KmsKey, list[LifecycleObject]]] = {}
    policies_of_key: dict[str, str | FactUnavailable] = {}
    unusable: set[str] = set()
    for ref, objs in keys.by_ref.items():
        try:
            key = ctx.aws.key(ref)
        except FactUnavailable as exc:
            outcomes.append(unreadable(ref, exc))
            continue
        if key is None:
            outcomes.append(_no_such_key(ref, objs))
            continue
        if needs_key_policy(key, account) and key.arn not in policies_of_key:
            try:
                policies_of_key[key.arn] = ctx.aws.key_policy(key.arn)
            except FactUnavailable as exc:
                policies_of_key[key.arn] = exc
        if not key.enabled:
            if key.arn not in unusable:  # two references (id, alias) to one key: one finding
                unusable.add(key.arn)
                outcomes.append(_unusable(key, objs))
            continue
        usable.setdefault(key.arn, (key, []))[1].extend(objs)
    every_object = [o for objs in keys.by_ref.values() for o in objs]
    for role in execution_roles_reading(roles(ctx), every_object):
        foreign = other_account(ctx, role)
        if foreign is not None:
            outcomes.append(foreign)
            continue
        try:
            policies = ctx.aws.role_policies(role.name)
        except FactUnavailable as exc:
            outcomes.append(unreadable(role.resource, exc))
            continue
        if policies is None:
            outcomes.append(missing(role))
            continue
        for key, objs in usable.values():
            mine = [o for o in objs if set(o.groups).intersection(role.groups)]
            if mine:
                judge = _Judge(ctx, role, policies, key, mine, account)
                outcomes.append(judge.outcome(policies_of_key.get(key.arn)))
    return outcomes


def _judgements(
    ctx: CheckContext, objects: list[LifecycleObject]
) -> list[tuple[_Judge, str | FactUnavailable | None]]:
    """Each (role, enabled key) pair the judge decides, with the key's policy as read."""
    found = _key_references(ctx, objects)
    account = caller_account(ctx)
    usable: dict[str, tuple[KmsKey, list[LifecycleObject]]] = {}
    policies_of_key: dict[str, str | FactUnavailable] = {}
    for ref, objs in found.by_ref.items():
        try:
            key = ctx.aws.key(ref)
            if key is not None and needs_key_policy(key, account):
                policies_of_key.setdefault(key.arn, ctx.aws.key_policy(key.arn))
        except FactUnavailable:
            continue
        if key is not None and key.enabled:
            usable.setdefault(key.arn, (key, []))[1].extend(objs)
    pairs: list[tuple[_Judge, str | FactUnavailable | None]] = []
    every = [o for objs in found.by_ref.values() for o in objs]
    for role in execution_roles_reading(roles(ctx), every):
        if role.account != account:
            continue
        try:
            held = ctx.aws.role_policies(role.name)
        except FactUnavailable:
            continue
        for key, objs in usable.values() if held is not None else ():
            mine = [o for o in objs if set(o.groups).intersection(role.groups)]
            if mine and held is not None:
                judge = _Judge(ctx, role, held, key, mine, account)
                pairs.append((judge, policies_of_key.get(key.arn)))
    return pairs


def _key_references(ctx: CheckContext, objects: list[LifecycleObject]) -> _Keys:
    """Each object's key: its own (``HeadObject``), or for a missing object the bucket's
    default (``GetBucketEncryption``, read only then); objects of a missing bucket are not
    judged. The prefetch ``kms.lifecycle-keys`` makes the same reads."""
    keys = _Keys()
    for obj in objects:
        if _bucket_missing(ctx, obj.bucket):
            keys.unjudged += 1
            continue
        try:
            head = ctx.aws.head_object(obj.bucket, obj.key)
        except FactUnavailable as exc:
            about = f"whether {obj.uri} is KMS-encrypted"
            keys.unreadable.append(could_not_tell(obj.uri, exc, about, why=exc.reason))
            continue
        default = None
        if head is None:
            try:
                default = ctx.aws.bucket_default_encryption(obj.bucket)
            except FactUnavailable:
                keys.unjudged += 1
                continue
        ref = key_reference(head, default)
        if ref is None:
            keys.plain += 1
        else:
            keys.by_ref.setdefault(ref, []).append(obj)
    return keys


def _bucket_missing(ctx: CheckContext, bucket: str) -> bool:
    """The bucket does not exist (s3.lifecycle-bucket-exists reports it); unreadable: go on."""
    try:
        return ctx.aws.bucket_location(bucket) is None
    except FactUnavailable:
        return False


def _uris(objects: list[LifecycleObject]) -> str:
    shown = ", ".join(o.uri for o in objects[:3])
    return shown + (f" and {len(objects) - 3} more" if len(objects) > 3 else "")


def _no_such_key(ref: str, objects: list[LifecycleObject]) -> Outcome:
    return failed(
        ref,
        f"KMS key {ref}, which encrypts {_uris(objects)} (or is the bucket's default for "
        f'it), does not exist: S3 cannot decrypt them and HyperPod fails with "'
        f'{LIFECYCLE_FAILURE}"',
        "Upload the files again under a key that exists (aws s3 cp ./FILE "
        f"{shlex.quote(objects[0].uri)} --sse aws:kms --sse-kms-key-id KEY_ARN, or --sse "
        "AES256), and "
        "point the bucket's default encryption at it (aws s3api put-bucket-encryption).",
        objects=[o.uri for o in objects],
    )


def _unusable(key: KmsKey, objects: list[LifecycleObject]) -> Outcome:
    fix = _STATE_FIX.get(key.state)
    message = (
        f"KMS key {key.arn}, which encrypts {_uris(objects)}, is {key.state}: S3 cannot "
        f'decrypt them and HyperPod fails with "{LIFECYCLE_FAILURE}" ({KEY_STATE_DOC})'
    )
    if fix is None:
        return unknown(
            key.arn,
            f"could not tell whether KMS key {key.arn} is usable: it is {key.state}",
            "Run again once the key is Enabled.",
            state=key.state,
        )
    # no closing full stop: it would stick to the command's last argument
    return failed(key.arn, message, f"Make the key usable: {fix.format(arn=key.arn)}")


@dataclass
class _Judge:
    """One execution role against one enabled key."""

    ctx: CheckContext
    role: ConfigRole
    policies: RolePolicies
    key: KmsKey
    objects: list[LifecycleObject]
    account: str

    @property
    def resource(self) -> str:
        return f"{self.key.arn} ({self.role.name})"

    @property
    def role_arn(self) -> str:
        return self.policies.role_arn or self.role.arn

    @property
    def subject(self) -> str:
        return f"{self.role.name} to kms:Decrypt {_uris(self.objects)} with {self.key.arn}"

    def outcome(self, key_policy: str | FactUnavailable | None) -> Outcome:
        if self.key.aws_managed:
            return self._aws_managed()
        if self.key.account != self.account:
            return self._other_account()
        if isinstance(key_policy, FactUnavailable) or key_policy is None:
            exc = key_policy or FactUnavailable("kms:GetKeyPolicy", "error", "not read")
            about = f"whether the key policy allows {self.subject}"
            return could_not_tell(self.resource, exc, about, why=exc.reason)
        boundary = (
            (self.policies.boundary_arn, self.policies.boundary)
            if self.policies.boundary_arn
            else None
        )
        decision = decrypt_decision(
            self.key,
            self.policies.identity_policies(),
            boundary=boundary,
            key_policy=key_policy,
            role_arn=self.role_arn,
            role_account=self.role.account,
        )
        return self._judged(decision)

    def _judged(self, decision: Decision) -> Outcome:
        if decision.allowed:
            return passed(
                self.resource,
                f"{self.role.name} may kms:Decrypt with {self.key.arn} through S3: "
                f"{decision.explanation}",
                objects=[o.uri for o in self.objects],
            )
        if decision.status is DecisionStatus.EXPLICIT_DENY:
            refs = ", ".join(str(r) for r in decision.denied_by)
            return failed(
                self.resource,
                f"{self.subject} is denied: {decision.explanation}; nodes cannot read the "
                f'lifecycle scripts and HyperPod fails with "{LIFECYCLE_FAILURE}"',
                f"Remove or narrow the Deny in {refs}.",
                **_SOURCE,
            )
        if decision.status is DecisionStatus.IMPLICIT_DENY:
            return self._with_grants(decision)
        if decision.status is DecisionStatus.CONDITIONAL:
            return warned(
                self.resource,
                f"{self.role.name} may kms:Decrypt with {self.key.arn} only under a "
                f"condition this check cannot evaluate: {decision.explanation}",
                "Make sure S3's request for the nodes meets it (kms:ViaService "
                f"s3.{self.key.region}.amazonaws.com, the object's encryption context), or "
                "grant kms:Decrypt without it.",
            )
        return unknown(
            self.resource,
            f"could not tell whether {self.subject} is allowed: {decision.explanation}",
            f"Review the named statements, or test: aws kms get-key-policy --key-id "
            f"{self.key.arn} --policy-name default.",
        )

    def _with_grants(self, decision: Decision) -> Outcome:
        """The policies do not allow it: a grant to the role still may."""
        try:
            grants = self.ctx.aws.key_grants(self.key.arn, self.role_arn)
        except FactUnavailable as exc:
            return unknown(
                self.resource,
                f"the policies do not allow {self.subject} ({decision.explanation}); could "
                f"not tell whether a grant does: {exc.describe()}",
                exc.remediation,
                action=exc.action,
                why=exc.reason,
            )
        plain, constrained = decrypt_grants(grants)
        if plain:
            return passed(
                self.resource,
                f"{self.role.name} may kms:Decrypt with {self.key.arn}: grant "
                f"{plain[0].grant_id} allows it (the policies alone do not)",
                objects=[o.uri for o in self.objects],
            )
        if constrained:
            shown = "; ".join(c for g in constrained for c in g.constraints)
            return warned(
                self.resource,
                f"{self.role.name} may kms:Decrypt with {self.key.arn} only through grant "
                f"{constrained[0].grant_id}, constrained to an encryption context ({shown}); "
                "S3 sends aws:s3:arn (the object's ARN, or the bucket's with an S3 Bucket Key)",
                "Make sure the constraint matches the lifecycle objects, or grant without it.",
            )
        return failed(
            self.resource,
            f"{self.subject} is not allowed: {decision.explanation}, and no grant gives it; "
            f'nodes cannot read the lifecycle scripts and HyperPod fails with "'
            f'{LIFECYCLE_FAILURE}"',
            self._fix(decision),
            objects=[o.uri for o in self.objects],
            not_allowed_by=list(decision.not_allowed_by),
            **_SOURCE,
        )

    def _fix(self, decision: Decision) -> str:
        """A step for each policy that lacks the Allow, or one grant that does it all."""
        steps: list[str] = []
        lacking = decision.not_allowed_by
        if any(label.startswith("identity") for label in lacking):
            steps.append(self._role_policy_step())
        if any(label.startswith("permissions boundary") for label in lacking):
            steps.append(
                f"allow kms:Decrypt on {self.key.arn} in the permissions boundary "
                f"{self.policies.boundary_arn}"
            )
        if any("resource policy" in label for label in lacking):
            steps.append(self._key_policy_step())
        if self.key.account != self.account:
            steps.append(
                f"let the key policy (account {self.key.account}) allow {self.role_arn} kms:Decrypt"
            )
        grant = command(
            "aws",
            "kms",
            "create-grant",
            "--key-id",
            self.key.arn,
            "--grantee-principal",
            self.role_arn,
            "--operations",
            "Decrypt",
        )
        if not steps:
            return f"Grant it: {grant}"
        # no full stop after a command: it would stick to its last argument
        return f"Grant it: {'; and '.join(steps)}; or, in one step: {grant}"

    def _via_s3(self) -> dict[str, dict[str, str]]:
        """The condition that keeps the Allow to S3's requests for the nodes."""
        return {"StringEquals": {"kms:ViaService": f"s3.{self.key.region}.amazonaws.com"}}

    def _role_policy_step(self) -> str:
        """An inline policy on the role that allows kms:Decrypt with the key through S3."""
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": self.key.arn,
                    "Condition": self._via_s3(),
                }
            ],
        }
        return command(
            "aws",
            "iam",
            "put-role-policy",
            "--role-name",
            self.role.name,
            "--policy-name",
            INLINE_POLICY_NAME,
            "--policy-document",
            compact(document),
        )

    def _key_policy_step(self) -> str:
        """A statement to add to the key policy, and the commands that read and write it."""
        statement = {
            "Sid": "HyperPodLifecycleDecrypt",
            "Effect": "Allow",
            "Principal": {"AWS": self.role_arn},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": self._via_s3(),
        }
        read = command(
            "aws",
            "kms",
            "get-key-policy",
            "--key-id",
            self.key.arn,
            "--policy-name",
            "default",
            "--output",
            "text",
        )
        write = command(
            "aws",
            "kms",
            "put-key-policy",
            "--key-id",
            self.key.arn,
            "--policy-name",
            "default",
            "--policy",
            "file://key.json",
        )
        edit = f"{read} > key.json; edit key.json; {write}"
        return f"add {compact(statement)} to the key policy ({edit})"

    def _aws_managed(self) -> Outcome:
        """An AWS managed key (aws/s3): its policy lets principals of its own account use
        it through S3; only a Deny in the role's policies can stop that."""
        if self.key.account != self.role.account:
            return failed(
                self.resource,
                f"{_uris(self.objects)} are encrypted with the AWS managed key {self.key.arn} "
                f"of account {self.key.account}, whose key policy admits only that account: "
                f"{self.role.name} of account {self.role.account} cannot decrypt them",
                "Encrypt the lifecycle files with a customer managed key whose key policy "
                f"allows {self.role_arn} (aws s3 cp ./FILE {shlex.quote(self.objects[0].uri)} "
                "--sse aws:kms "
                "--sse-kms-key-id KEY_ARN), or with SSE-S3 (--sse AES256).",
            )
        decision = identity_decision(
            self.key,
            self.policies.identity_policies(),
            role_account=self.role.account,
            deny_only=True,
        )
        if decision.status is DecisionStatus.EXPLICIT_DENY:
            return self._judged(decision)
        if not decision.allowed:
            return warned(
                self.resource,
                f"the policies of {self.role.name} may deny kms:Decrypt with the AWS managed "
                f"key {self.key.arn}: {decision.explanation}",
                "Make sure the Deny does not match S3's request for the nodes.",
            )
        return passed(
            self.resource,
            f"{_uris(self.objects)} use the AWS managed key {self.key.arn}, whose key policy "
            f"lets principals of account {self.key.account} decrypt through S3; the policies "
            f"of {self.role.name} deny it nothing",
            objects=[o.uri for o in self.objects],
        )

    def _other_account(self) -> Outcome:
        """A customer managed key of another account: its policy cannot be read from here,
        but the role's own policies must allow the action (both sides must, across
        accounts)."""
        decision = identity_decision(
            self.key, self.policies.identity_policies(), role_account=self.role.account
        )
        if decision.status is DecisionStatus.IMPLICIT_DENY:
            return self._with_grants(decision)
        if decision.denied:
            return self._judged(decision)
        context = decrypt_context(self.key, self.role.account)
        return unknown(
            self.resource,
            f"could not tell whether the key policy of {self.key.arn} (account "
            f"{self.key.account}) allows {self.subject}: GetKeyPolicy works only in the "
            f"key's own account ({context['kms:ViaService']})",
            f"With credentials of account {self.key.account}: aws kms get-key-policy --key-id "
            f"{self.key.arn} --policy-name default, and check it allows {self.role_arn} "
            "kms:Decrypt.",
        )
