"""Where a cluster config's lifecycle files live in S3: the buckets of the groups'
``LifeCycleConfig.SourceS3Uri`` and the object keys of every file the config names (pure).

HyperPod copies the ``SourceS3Uri`` prefix to each node and runs ``OnCreate`` (and
``OnInitComplete``) from there, so the key of a script is the prefix joined with its name.
For Slurm configs without ``SlurmConfig`` on their groups, the reference ``on_create.sh``
(lifecycle/README.md) reads ``provisioning_parameters.json`` from the same prefix, so it is
looked for too (HyperPod itself does not read it: its absence is a WARN, the lint tells
whether the scripts read it); with ``SlurmConfig`` the API itself names the Slurm topology.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import S3_URI_RE, ClusterSpec, InstanceGroup

PROVISIONING_PARAMETERS = "provisioning_parameters.json"

# GetBucketLocation's LocationConstraint → region: an empty answer means us-east-1, and the
# legacy "EU" means eu-west-1
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html).
_LEGACY_LOCATIONS = {"": "us-east-1", "EU": "eu-west-1"}


def bucket_region(location_constraint: str | None) -> str:
    """The region of a bucket from its ``LocationConstraint``."""
    value = location_constraint or ""
    return _LEGACY_LOCATIONS.get(value, value)


@dataclass(frozen=True)
class LifecycleObject:
    """One file of the lifecycle prefix that the config needs, and who needs it."""

    bucket: str
    key: str
    role: str  # "OnCreate", "OnInitComplete" or "provisioning_parameters.json"
    groups: tuple[str, ...]

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def split_uri(uri: str | None) -> tuple[str, str] | None:
    """``s3://bucket/a/b`` → ``("bucket", "a/b/")``: the bucket and the key prefix (empty or
    ending in ``/``); None for anything that is not an s3:// URI."""
    match = S3_URI_RE.fullmatch(uri or "")
    if match is None:
        return None
    prefix = (match["key"] or "").strip("/")
    return match["bucket"], f"{prefix}/" if prefix else ""


def entry_name(name: str) -> str:
    """A file name as the config gives it (``./on_create.sh``) relative to its prefix."""
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def object_key(prefix: str, name: str) -> str:
    """The key of file ``name`` (relative, maybe ``./x``) under ``prefix``."""
    return prefix + entry_name(name)


@dataclass(frozen=True)
class LifecyclePrefix:
    """One ``SourceS3Uri`` prefix and the entry scripts the groups name under it."""

    bucket: str
    prefix: str
    entries: tuple[str, ...]

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def lifecycle_prefixes(spec: ClusterSpec) -> list[LifecyclePrefix]:
    """Every distinct lifecycle prefix of the config that names an entry script
    (``OnCreate``, ``OnInitComplete``), first-seen order."""
    found: dict[tuple[str, str], list[str]] = {}
    for group in spec.instance_groups:
        where = None if group.restricted else split_uri(group.lifecycle_source_s3_uri)
        if where is None:
            continue
        entries = found.setdefault(where, [])
        for name in (group.lifecycle_on_create, group.lifecycle_on_init_complete):
            if name and entry_name(name) not in entries:
                entries.append(entry_name(name))
    return [LifecyclePrefix(b, p, tuple(e)) for (b, p), e in found.items() if e]


def lifecycle_groups(spec: ClusterSpec) -> dict[str, list[InstanceGroup]]:
    """The groups that fetch lifecycle files, by bucket (first-seen order)."""
    found: dict[str, list[InstanceGroup]] = {}
    for group in spec.instance_groups:
        where = None if group.restricted else split_uri(group.lifecycle_source_s3_uri)
        if where is not None:
            found.setdefault(where[0], []).append(group)
    return found


def needs_provisioning_parameters(spec: ClusterSpec) -> bool:
    """A Slurm config whose groups carry no ``SlurmConfig``: the topology comes from
    ``provisioning_parameters.json`` beside the scripts."""
    groups = [g for g in spec.instance_groups if not g.restricted]
    return spec.orchestrator == "slurm" and not any(g.slurm_node_type for g in groups)


def lifecycle_objects(spec: ClusterSpec) -> list[LifecycleObject]:
    """Every distinct (bucket, key) the config needs, with the groups needing it."""
    needed: dict[tuple[str, str], tuple[str, list[str]]] = {}
    with_params = needs_provisioning_parameters(spec)
    for bucket, groups in lifecycle_groups(spec).items():
        for group in groups:
            where = split_uri(group.lifecycle_source_s3_uri)
            assert where is not None  # lifecycle_groups kept only s3:// URIs
            prefix = where[1]
            names = [
                ("OnCreate", group.lifecycle_on_create),
                ("OnInitComplete", group.lifecycle_on_init_complete),
            ]
            if with_params:
                names.append((PROVISIONING_PARAMETERS, PROVISIONING_PARAMETERS))
            for role, name in names:
                if not name or "://" in name:  # config.lifecycle-config reports URIs
                    continue
                key = object_key(prefix, name)
                _, users = needed.setdefault((bucket, key), (role, []))
                if group.name not in users:
                    users.append(group.name)
    return [
        LifecycleObject(bucket=b, key=k, role=role, groups=tuple(users))
        for (b, k), (role, users) in needed.items()
    ]
