"""S3 readers for the lifecycle bucket(s) a cluster config names (mixin of
:class:`~hyperpod_preflight.facts.AwsFacts`).

Cost is O(config): one set of bucket reads per distinct bucket and one ``HeadObject`` per
distinct object the config names; objects are never downloaded (a 50 MB script costs one
``HEAD``). The account's Block Public Access setting is read once per run, and only when a
bucket's own settings are not all on.

Ownership without ``GetBucketAcl`` (whose ``Owner.ID`` is a canonical user id, not an
account): ``GetBucketLocation`` is sent with ``ExpectedBucketOwner=<this account>``. S3
answers a bucket of another account with 403 AccessDenied
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html); a 403 can
also mean that the caller lacks ``s3:GetBucketLocation``, so the same call is repeated once
without the header: answered → the bucket belongs to another account; 403 again → cannot
tell. A bucket of this account costs one call.

IAM names some S3 operations differently (``HeadObject`` is authorized by
``s3:GetObject``…): see :data:`~hyperpod_preflight.facts.core.ACTION_OF_OPERATION`.
"""

from __future__ import annotations

from typing import Any

from ..analysis.s3_lifecycle import bucket_region
from ..errors import FactUnavailable
from ..records import BucketLocation, PrefixListing, PublicAccessBlock, S3ObjectHead
from .core import FactsCore, classify, memoized

# A lifecycle prefix holds a few dozen files; past this the listing stops (said in the result).
MAX_LISTED_OBJECTS = 5000

_NO_BUCKET = ("NoSuchBucket",)
# HEAD answers carry no body: botocore reports the HTTP status as the code.
_NO_OBJECT = ("404", "NotFound", "NoSuchKey")


class S3Facts(FactsCore):
    """S3 readers: memoized per bucket and per object."""

    @memoized
    def bucket_location(self, bucket: str) -> BucketLocation | None:
        """The bucket's region and owner; None when the bucket does not exist (NoSuchBucket).

        A 403 on both calls (see the module docstring) raises ``FactUnavailable``: a bucket
        that refuses us exists or not, nothing here tells."""
        if not self.account:
            resp = self.call("s3", "GetBucketLocation", none_on=_NO_BUCKET, Bucket=bucket)
            return None if resp is None else _location(bucket, resp, owned=None)
        try:
            resp = self.call(
                "s3",
                "GetBucketLocation",
                none_on=_NO_BUCKET,
                Bucket=bucket,
                ExpectedBucketOwner=self.account,
            )
        except FactUnavailable as exc:
            if exc.reason != "denied":
                raise
            resp = self.call("s3", "GetBucketLocation", none_on=_NO_BUCKET, Bucket=bucket)
            return None if resp is None else _location(bucket, resp, owned=False)
        return None if resp is None else _location(bucket, resp, owned=True)

    @memoized
    def bucket_policy(self, bucket: str) -> str | None:
        """The bucket policy document (JSON text); None when the bucket has none."""
        resp = self.call("s3", "GetBucketPolicy", none_on=("NoSuchBucketPolicy",), Bucket=bucket)
        if resp is None:
            return None
        policy = resp.get("Policy")
        if not isinstance(policy, str):
            raise FactUnavailable("s3:GetBucketPolicy", "error", f"no Policy for {bucket}")
        return policy

    @memoized
    def bucket_public_access_block(self, bucket: str) -> PublicAccessBlock:
        """The bucket's own Block Public Access settings (none on when it has none)."""
        resp = self.call(
            "s3",
            "GetPublicAccessBlock",
            none_on=("NoSuchPublicAccessBlockConfiguration",),
            Bucket=bucket,
        )
        return PublicAccessBlock.of(
            None if resp is None else resp.get("PublicAccessBlockConfiguration")
        )

    @memoized
    def account_public_access_block(self) -> PublicAccessBlock:
        """This account's Block Public Access settings (S3 Control; none on when unset)."""
        if not self.account:
            raise FactUnavailable(
                "s3:GetAccountPublicAccessBlock", "error", "the run's account is not known"
            )
        resp = self.call(
            "s3control",
            "GetPublicAccessBlock",
            none_on=("NoSuchPublicAccessBlockConfiguration",),
            AccountId=self.account,
        )
        return PublicAccessBlock.of(
            None if resp is None else resp.get("PublicAccessBlockConfiguration")
        )

    @memoized
    def bucket_default_encryption(self, bucket: str) -> tuple[str | None, str | None]:
        """The bucket's default encryption: ``(algorithm, KMS key id)``, ``(None, None)``
        when it has no configuration."""
        resp = self.call(
            "s3",
            "GetBucketEncryption",
            none_on=("ServerSideEncryptionConfigurationNotFoundError",),
            Bucket=bucket,
        )
        rules = ((resp or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
        for rule in rules:
            default = rule.get("ApplyServerSideEncryptionByDefault") or {}
            if default.get("SSEAlgorithm"):
                return str(default["SSEAlgorithm"]), default.get("KMSMasterKeyID")
        return None, None

    @memoized
    def head_object(self, bucket: str, key: str) -> S3ObjectHead | None:
        """Size and encryption of one object (a ``HEAD``: nothing is downloaded); None when
        it does not exist. Without ``s3:ListBucket`` S3 answers a missing key with 403, which
        raises ``FactUnavailable`` (cannot tell), never None."""
        resp = self.call("s3", "HeadObject", none_on=_NO_OBJECT, Bucket=bucket, Key=key)
        if resp is None:
            return None
        size = resp.get("ContentLength")
        if not isinstance(size, int):
            raise FactUnavailable("s3:GetObject", "error", f"no ContentLength for {key}")
        return S3ObjectHead(
            bucket=bucket,
            key=key,
            size=size,
            encryption=resp.get("ServerSideEncryption"),
            kms_key_id=resp.get("SSEKMSKeyId"),
        )

    @memoized
    def prefix_listing(self, bucket: str, prefix: str) -> PrefixListing:
        """Every object under ``prefix`` (ListObjectsV2, paginated), relative key → size, up
        to ``MAX_LISTED_OBJECTS``; ``truncated`` says when more were left unread."""
        client = self.client("s3")
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if self.account:
            params["ExpectedBucketOwner"] = self.account
        sizes: dict[str, int] = {}
        truncated = False
        try:
            for page in client.get_paginator("list_objects_v2").paginate(**params):
                if "KeyCount" not in page:  # every ListObjectsV2 answer carries KeyCount
                    raise FactUnavailable(
                        "s3:ListBucket", "error", "ListObjectsV2 answered without KeyCount"
                    )
                for item in page.get("Contents", []):
                    key, size = str(item.get("Key", "")), item.get("Size")
                    if not key.startswith(prefix) or key.endswith("/"):
                        continue
                    if not isinstance(size, int):  # there, size unknown: never "missing"
                        raise FactUnavailable(
                            "s3:ListBucket", "error", f"ListObjectsV2 listed {key} without Size"
                        )
                    sizes[key[len(prefix) :]] = size
                if len(sizes) >= MAX_LISTED_OBJECTS:
                    truncated = bool(page.get("IsTruncated"))
                    break
        except FactUnavailable:
            raise
        except Exception as exc:
            raise classify(exc, "s3:ListBucket") from exc
        return PrefixListing(bucket=bucket, prefix=prefix, sizes=sizes, truncated=truncated)

    @memoized
    def object_head_bytes(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """At most ``max_bytes + 1`` bytes of an object (a ranged, streamed GET: a larger
        object is seen as larger without being downloaded)."""
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Range": f"bytes=0-{max_bytes}"}
        if self.account:
            params["ExpectedBucketOwner"] = self.account
        resp = self.call("s3", "GetObject", **params)
        body = resp.get("Body")
        if body is None:
            raise FactUnavailable("s3:GetObject", "error", f"no body for {key}")
        try:
            return bytes(body.read(max_bytes + 1))
        finally:
            body.close()


def _location(bucket: str, resp: dict[str, Any], *, owned: bool | None) -> BucketLocation:
    return BucketLocation(
        bucket=bucket, region=bucket_region(resp.get("LocationConstraint")), owned=owned
    )
