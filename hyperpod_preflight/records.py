"""Plain data that the facts layer returns and checks judge: no boto3, no I/O.

Checks import these types from here (never from ``facts``), so ``list-checks`` and
``--offline`` runs never load boto3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SubnetRouteTable:
    """The route table that governs one subnet: its explicit association, else the VPC's
    main table (``implicit`` is then True)."""

    subnet_id: str
    route_table: dict[str, Any]
    implicit: bool

    @property
    def route_table_id(self) -> str:
        return str(self.route_table.get("RouteTableId", ""))

    @property
    def routes(self) -> list[dict[str, Any]]:
        return list(self.route_table.get("Routes", []))

    @property
    def association_id(self) -> str | None:
        """The explicit association's id (for ``replace-route-table-association``)."""
        if self.implicit:
            return None
        for assoc in self.route_table.get("Associations", []):
            if assoc.get("SubnetId") == self.subnet_id:
                return str(assoc.get("RouteTableAssociationId", "")) or None
        return None


@dataclass(frozen=True)
class ZoneMap:
    """Availability zone names ↔ zone ids of this account and region. Names map to
    different physical zones in each account; ids do not."""

    id_by_name: dict[str, str] = field(default_factory=dict)
    name_by_id: dict[str, str] = field(default_factory=dict)

    def label(self, zone_id: str) -> str:
        """``usw2-az1 (us-west-2b)`` where the name is known."""
        name = self.name_by_id.get(zone_id)
        return f"{zone_id} ({name})" if name else zone_id

    def to_id(self, zone: str) -> str:
        """A zone name or id → the zone id (unchanged when unknown)."""
        if zone in self.name_by_id:
            return zone
        return self.id_by_name.get(zone, zone)


# -- S3 (the lifecycle bucket) ----------------------------------------------------------------
@dataclass(frozen=True)
class BucketLocation:
    """Where a bucket is and whether this account owns it.

    ``owned``: True when S3 accepted ``ExpectedBucketOwner=<this account>``; False when it
    refused that (403) while the same call without it was answered, which only a bucket of
    another account does; None when the run's account is unknown.
    """

    bucket: str
    region: str
    owned: bool | None


# The four settings of S3 Block Public Access, as the API names them.
PUBLIC_ACCESS_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


@dataclass(frozen=True)
class PublicAccessBlock:
    """The Block Public Access settings that are on (of a bucket or of an account)."""

    on: frozenset[str] = frozenset()

    @classmethod
    def of(cls, config: dict[str, Any] | None) -> PublicAccessBlock:
        config = config or {}
        return cls(frozenset(s for s in PUBLIC_ACCESS_SETTINGS if config.get(s) is True))

    @property
    def off(self) -> tuple[str, ...]:
        return tuple(s for s in PUBLIC_ACCESS_SETTINGS if s not in self.on)

    def union(self, other: PublicAccessBlock) -> PublicAccessBlock:
        """S3 applies the most restrictive of the bucket's and the account's settings."""
        return PublicAccessBlock(self.on | other.on)


KMS_ENCRYPTIONS = frozenset({"aws:kms", "aws:kms:dsse"})


@dataclass(frozen=True)
class S3ObjectHead:
    """What ``HeadObject`` told about one object (its content is never read)."""

    bucket: str
    key: str
    size: int
    encryption: str | None  # "AES256", "aws:kms", "aws:kms:dsse"; None when not said
    kms_key_id: str | None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def kms(self) -> bool:
        return self.encryption in KMS_ENCRYPTIONS


@dataclass(frozen=True)
class PrefixListing:
    """The objects under one S3 prefix: key relative to the prefix → size in bytes."""

    bucket: str
    prefix: str
    sizes: dict[str, int]
    truncated: bool = False  # more objects than were listed


@dataclass(frozen=True)
class RolePolicies:
    """Every policy that decides what one IAM role may do, as IAM returned them: the
    attached managed policies' default versions (by policy ARN), the inline policies (by
    name) and the permissions boundary's default version, if the role has one."""

    role_name: str
    role_arn: str
    managed: dict[str, Any] = field(default_factory=dict)
    inline: dict[str, Any] = field(default_factory=dict)
    boundary_arn: str | None = None
    boundary: Any = None
    # Managed policies whose document IAM would not give, replaced by AWS's published copy.
    substituted: tuple[str, ...] = ()

    @property
    def managed_count(self) -> int:
        return len(self.managed)

    def identity_policies(self) -> dict[str, Any]:
        """``{name: document}`` for the evaluator: managed by ARN, inline by ``inline:NAME``."""
        return {**self.managed, **{f"inline:{n}": d for n, d in self.inline.items()}}


@dataclass(frozen=True)
class SimulatedDecision:
    """One (action, resource) answer of ``iam:SimulatePrincipalPolicy``: ``decision`` is
    ``allowed``, ``explicitDeny`` or ``implicitDeny``; ``missing_context`` names the context
    keys the answer depended on but the request did not carry."""

    action: str
    resource: str
    decision: str
    missing_context: tuple[str, ...] = ()


@dataclass(frozen=True)
class KmsKey:
    """What ``kms:DescribeKey`` told about one KMS key."""

    arn: str
    key_id: str
    manager: str  # "AWS" (an AWS managed key such as aws/s3) or "CUSTOMER"
    state: str  # "Enabled", "Disabled", "PendingDeletion", "PendingImport", "Unavailable"…

    @property
    def account(self) -> str:
        parts = self.arn.split(":")
        return parts[4] if len(parts) > 5 else ""

    @property
    def region(self) -> str:
        parts = self.arn.split(":")
        return parts[3] if len(parts) > 5 else ""

    @property
    def aws_managed(self) -> bool:
        return self.manager == "AWS"

    @property
    def enabled(self) -> bool:
        return self.state == "Enabled"


@dataclass(frozen=True)
class KmsGrant:
    """One KMS grant of a key (``kms:ListGrants``): who may call which operations, and the
    encryption-context constraints a request must meet (empty: none)."""

    grant_id: str
    grantee: str
    operations: tuple[str, ...]
    constraints: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolRun:
    """What running ``name --version`` (or its equivalent) gave: ``path`` None when the
    tool is not on PATH; ``error`` when it could not be run or did not finish."""

    name: str
    path: str | None
    output: str = ""
    returncode: int | None = None
    error: str = ""

    @property
    def found(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class KubeSnapshot:
    """What was read from the Kubernetes API: DaemonSets as (namespace, name) and CRD names,
    each None with the reason when it could not be read."""

    daemonsets: tuple[tuple[str, str], ...] | None
    crds: tuple[str, ...] | None
    daemonsets_error: str = ""
    crds_error: str = ""


# -- a live HyperPod cluster's lifecycle logs (see facts/cluster.py for the source) -------
def cluster_id(cluster_arn: str) -> str:
    """The id at the end of a HyperPod cluster ARN (``arn:…:cluster/<id>``)."""
    return cluster_arn.rsplit("/", 1)[-1]


def lifecycle_log_group(cluster_name: str, cluster_arn: str) -> str:
    return f"/aws/sagemaker/Clusters/{cluster_name}/{cluster_id(cluster_arn)}"


def lifecycle_log_stream(group_name: str, instance_id: str) -> str:
    return f"LifecycleConfig/{group_name}/{instance_id}"


# The most bytes of one lifecycle file read (locally or from S3) and linted.
LIFECYCLE_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class ToolResult:
    """What running an external tool on this machine (``bash -n``, ``shellcheck``) gave."""

    returncode: int
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
