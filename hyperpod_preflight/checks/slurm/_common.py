"""What the slurm checks share: the file systems a config mounts (from each group's
``InstanceStorageConfigs`` and from the lifecycle ``provisioning_parameters.json``), the
copies of that parameters file, and reading a file system per finding (no check is
registered here).

The parameters file is read where the nodes read it: ``provisioning_parameters.json`` at
the root of each group's ``LifeCycleConfig.SourceS3Uri`` prefix (the reference
``on_create.sh`` layout, lifecycle/README.md), through the facts layer (read
``s3.provisioning-parameters``). ``--lifecycle-dir`` adds the local copy
(``ctx.options["provisioning_parameters"]``: ``{"file": path, "data": bytes | None}``, read by
the CLI): it is judged only when no prefix holds an uploaded copy, and otherwise compared
with the uploaded one (``slurm.provisioning-parameters``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ...analysis.lifecycle_models import DEFAULT_MAX_BYTES as LIFECYCLE_MAX_BYTES
from ...analysis.provisioning import parse_provisioning_parameters
from ...analysis.s3_lifecycle import (
    PROVISIONING_PARAMETERS,
    LifecyclePrefix,
    lifecycle_prefixes,
    split_uri,
)
from ...analysis.security_groups import FSX_LUSTRE_PORT_RANGES
from ...errors import FactUnavailable
from ...planner import ClusterPlan
from ...registry import CheckContext, NeedsFn, Request, Then, need
from ...results import Outcome, skipped, unknown

if TYPE_CHECKING:
    from ...analysis.provisioning_model import ProvisioningParameters
from ...spec import ClusterSpec
from ...spec.raw import raw_groups
from .._common import could_not_tell

FsxKind = Literal["lustre", "openzfs"]
# <fs-id>.fsx.<region>.amazonaws.com[.cn]: the DNS name FSx gives a file system.
FSX_DNS = re.compile(
    r"^(?P<fs>fs-[0-9a-f]{8,17})\.fsx\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$",
    re.IGNORECASE,
)
PARAMS_SOURCE = "provisioning_parameters.json"
# The ports a client opens to the file system's network interfaces. Lustre:
# https://docs.aws.amazon.com/fsx/latest/LustreGuide/limit-access-security-groups.html and
# https://docs.aws.amazon.com/fsx/latest/LustreGuide/cannot-create-fs.html: "You must set up
# the security group to allow inbound traffic on ports 988 and 1018-1023". NFS for OpenZFS:
# https://docs.aws.amazon.com/fsx/latest/OpenZFSGuide/limit-access-security-groups.html.
CLIENT_PORTS: dict[FsxKind, tuple[tuple[int, int], ...]] = {
    "lustre": FSX_LUSTRE_PORT_RANGES,
    "openzfs": ((2049, 2049),),
}


def ports_text(ranges: tuple[tuple[int, int], ...]) -> str:
    """``988 and 1018-1023``."""
    return " and ".join(f"{low}" if low == high else f"{low}-{high}" for low, high in ranges)


KIND_LABEL: dict[FsxKind, str] = {"lustre": "FSx for Lustre", "openzfs": "FSx for OpenZFS"}
FSX_TYPE: dict[FsxKind, str] = {"lustre": "LUSTRE", "openzfs": "OPENZFS"}
LIFECYCLE_FAILURE = (
    "Lifecycle scripts did not run successfully. Ensure the scripts exist in provided S3 "
    "path, are accessible, and run without errors."
)


@dataclass
class FsxRef:
    """One file system the config mounts, and where it is named."""

    dns_name: str
    kind: FsxKind
    file_system_id: str | None
    mount_names: dict[str, str] = field(default_factory=dict)  # source → mount name
    groups: list[str] = field(default_factory=list)  # instance groups that mount it
    sources: list[str] = field(default_factory=list)

    @property
    def resource(self) -> str:
        return self.file_system_id or self.dns_name


@dataclass(frozen=True)
class ParamsCopy:
    """One copy of ``provisioning_parameters.json``: where it is, its bytes, the parsed file
    (None: it does not parse; the lifecycle lint says why) and the instance groups whose
    lifecycle scripts read it (None: every group, for the local copy)."""

    file: str
    data: bytes
    params: ProvisioningParameters | None
    groups: tuple[str, ...] | None


@dataclass(frozen=True)
class ParamsSources:
    """Every copy of the parameters file this run could see, and the prefixes whose copy
    could not be read (S3 URI → why)."""

    uploaded: tuple[ParamsCopy, ...] = ()
    unreadable: tuple[tuple[str, FactUnavailable], ...] = ()
    local: ParamsCopy | None = None
    local_given: bool = False

    @property
    def in_use(self) -> tuple[ParamsCopy, ...]:
        """The copies the nodes read: the uploaded ones; the local copy stands in only when
        no prefix holds one."""
        if self.uploaded:
            return self.uploaded
        return (self.local,) if self.local is not None else ()


def _local_copy(ctx: CheckContext) -> tuple[ParamsCopy | None, bool]:
    given = ctx.options.get("provisioning_parameters")
    if not isinstance(given, dict):
        return None, False
    data = given.get("data")
    if not isinstance(data, bytes):
        return None, True
    file = str(given.get("file") or PARAMS_SOURCE)
    params, _ = parse_provisioning_parameters(data, file=file)
    return ParamsCopy(file=file, data=data, params=params, groups=None), True


def _prefix_groups(ctx: CheckContext, where: LifecyclePrefix) -> tuple[str, ...]:
    return tuple(
        g.name
        for g in ctx.spec.instance_groups
        if not g.restricted and split_uri(g.lifecycle_source_s3_uri) == (where.bucket, where.prefix)
    )


def _uploaded_copy(ctx: CheckContext, where: LifecyclePrefix) -> ParamsCopy | None:
    """The prefix's own ``provisioning_parameters.json`` (None: the prefix has none, or its
    bucket does not exist: the s3 checks say so); FactUnavailable when it cannot be told."""
    facts = ctx.aws
    try:
        listing = facts.prefix_listing(where.bucket, where.prefix)
    except FactUnavailable:
        with suppress(FactUnavailable):
            if facts.bucket_location(where.bucket) is None:
                return None
        raise
    if PROVISIONING_PARAMETERS not in listing.sizes:
        if listing.truncated:
            raise FactUnavailable(
                "s3:ListBucket",
                "error",
                f"the listing of {where.uri} stopped after {len(listing.sizes)} objects "
                f"without reaching {PROVISIONING_PARAMETERS}",
            )
        return None
    uri = f"{where.uri}{PROVISIONING_PARAMETERS}"
    data = facts.object_head_bytes(
        where.bucket, where.prefix + PROVISIONING_PARAMETERS, LIFECYCLE_MAX_BYTES
    )
    params, _ = parse_provisioning_parameters(data, file=uri)
    return ParamsCopy(file=uri, data=data, params=params, groups=_prefix_groups(ctx, where))


def parameter_sources(ctx: CheckContext) -> ParamsSources:
    """The uploaded copies (Slurm configs, when AWS is read) and the local one."""
    local, given = _local_copy(ctx)
    if ctx.spec.orchestrator != "slurm" or ctx.offline:
        return ParamsSources(local=local, local_given=given)
    uploaded: list[ParamsCopy] = []
    unreadable: list[tuple[str, FactUnavailable]] = []
    for where in lifecycle_prefixes(ctx.spec):
        try:
            found = _uploaded_copy(ctx, where)
        except FactUnavailable as exc:
            unreadable.append((f"{where.uri}{PROVISIONING_PARAMETERS}", exc))
            continue
        if found is not None:
            uploaded.append(found)
    return ParamsSources(tuple(uploaded), tuple(unreadable), local, given)


def fsx_references(ctx: CheckContext, sources: ParamsSources | None = None) -> list[FsxRef]:
    """Every file system the config or the parameters files in use mount, one entry per file
    system (by id; by DNS name when the name holds no id)."""
    found: dict[str, FsxRef] = {}

    def add(dns: str, kind: FsxKind, groups: Iterable[str], mount: str | None, source: str) -> None:
        m = FSX_DNS.match(dns.strip())
        fs_id = m.group("fs").lower() if m else None
        ref = found.setdefault(fs_id or dns, FsxRef(dns_name=dns, kind=kind, file_system_id=fs_id))
        ref.groups.extend(g for g in groups if g not in ref.groups)
        if mount is not None:
            ref.mount_names[source] = mount
        ref.sources.append(source)

    for group, raw in raw_groups(ctx.spec):
        for i, storage in enumerate(raw.get("InstanceStorageConfigs") or ()):
            for key, kind in (("FsxLustreConfig", "lustre"), ("FsxOpenZfsConfig", "openzfs")):
                conf = storage.get(key) if isinstance(storage, dict) else None
                if isinstance(conf, dict) and conf.get("DnsName"):
                    where = f"{group.json_path}.InstanceStorageConfigs[{i}].{key}"
                    mount = conf.get("MountName") if kind == "lustre" else None
                    add(str(conf["DnsName"]), kind, [group.name], mount, where)  # type: ignore[arg-type]
    everyone = [g.name for g in ctx.spec.instance_groups]
    for copy in (sources or parameter_sources(ctx)).in_use:
        if copy.params is not None and copy.params.fsx_dns_name:
            # The reference lifecycle scripts mount it on every node that runs them.
            groups = everyone if copy.groups is None else copy.groups
            add(copy.params.fsx_dns_name, "lustre", groups, copy.params.fsx_mountname, copy.file)
    return list(found.values())


def unread_parameters(sources: ParamsSources) -> list[Outcome]:
    """UNKNOWN for each prefix whose parameters file could not be read: a file system it
    names could not be judged."""
    return [
        could_not_tell(
            uri, exc, "which file system the uploaded provisioning_parameters.json mounts"
        )
        for uri, exc in sources.unreadable
    ]


def fsx_start(
    ctx: CheckContext, kinds: Collection[FsxKind] = ("lustre", "openzfs")
) -> tuple[list[FsxRef], list[Outcome]]:
    """The file systems of ``kinds`` to judge, and the outcomes to start with: UNKNOWN per
    unreadable parameters file, and a SKIP when there is nothing at all to judge."""
    sources = parameter_sources(ctx)
    refs = [r for r in fsx_references(ctx, sources) if r.kind in kinds]
    out = unread_parameters(sources)
    if not refs and not out:
        out.append(no_fsx(ctx, sources))
    return refs, out


def no_fsx(ctx: CheckContext, sources: ParamsSources) -> Outcome:
    seen = [c.file for c in sources.in_use]
    if seen:
        hint = f" (read {', '.join(seen)})"
    elif ctx.spec.orchestrator == "slurm" and ctx.facts is not None:
        hint = " (no lifecycle prefix holds a provisioning_parameters.json)"
    else:
        hint = ""
    return skipped("-", f"the config mounts no FSx file system{hint}")


def not_an_fsx_name(ref: FsxRef) -> Outcome:
    return unknown(
        ref.dns_name,
        f"{ref.dns_name} ({', '.join(ref.sources)}) is not an FSx DNS name of the form "
        "<fs-id>.fsx.<region>.amazonaws.com: cannot tell which file system it is",
        "Use the DNSName that `aws fsx describe-file-systems` gives the file system.",
    )


def cannot_read(ref: FsxRef, exc: FactUnavailable) -> Outcome:
    return could_not_tell(ref.resource, exc, cause=exc.reason)


def read_file_systems(
    ctx: CheckContext, refs: Iterable[FsxRef], out: list[Outcome]
) -> Iterator[tuple[FsxRef, dict[str, Any] | None]]:
    """Each of ``refs`` with its ``DescribeFileSystems`` entry (None: there is no such file
    system); appends UNKNOWN for one that could not be read or whose name holds no id."""
    for ref in refs:
        if ref.file_system_id is None:
            out.append(not_an_fsx_name(ref))
            continue
        try:
            fs = ctx.aws.file_system(ref.file_system_id)
        except FactUnavailable as exc:
            out.append(cannot_read(ref, exc))
            continue
        yield ref, fs


def described(
    ctx: CheckContext, refs: Iterable[FsxRef], out: list[Outcome]
) -> Iterator[tuple[FsxRef, dict[str, Any]]]:
    """Each of ``refs`` that exists, as :func:`read_file_systems` gives it; skips one that
    does not exist (``slurm.fsx-exists`` reports it)."""
    for ref, fs in read_file_systems(ctx, refs, out):
        if fs is None:
            out.append(skipped(ref.resource, "the file system does not exist (slurm.fsx-exists)"))
            continue
        yield ref, fs


def parameters_needs(spec: ClusterSpec, plan: ClusterPlan, then: Any = None) -> list[Request]:
    """Slurm: each lifecycle prefix listed, then its ``provisioning_parameters.json`` (the
    copy the nodes read; the bucket's region when a listing fails, to tell a missing bucket
    from an unreadable one), as :func:`parameter_sources` reads them; then ``then`` (a
    follow-up that reads those copies)."""
    after: list[Request] = [Then(then)] if then is not None else []
    if spec.orchestrator != "slurm":
        return after
    prefixes = list(lifecycle_prefixes(spec))

    def objects(ctx: CheckContext) -> list[Request]:
        return [r for where in prefixes for r in _parameters_of(where, ctx)] + after

    return [*(need("prefix_listing", w.bucket, w.prefix) for w in prefixes), Then(objects)]


def _parameters_of(where: LifecyclePrefix, ctx: CheckContext) -> list[Request]:
    try:
        listing = ctx.aws.prefix_listing(where.bucket, where.prefix)
    except FactUnavailable:
        return [need("bucket_location", where.bucket)]
    if PROVISIONING_PARAMETERS not in listing.sizes:
        return []
    key = where.prefix + PROVISIONING_PARAMETERS
    return [need("object_head_bytes", where.bucket, key, LIFECYCLE_MAX_BYTES)]


def fsx_needs(
    *,
    cluster_subnets: bool = False,
    cluster_vpc: bool = False,
    fs_subnets: bool = False,
    interfaces: bool = False,
    vpc_links: bool = False,
) -> NeedsFn:
    """The needs of an FSx check: each referenced file system, then (as asked) the
    cluster's subnets or VPC, the file systems' subnets, their network interfaces with
    those interfaces' security groups, and (``vpc_links``) the peering connections and
    transit gateways that could link a file system's other VPC to the cluster's."""

    def needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
        base: list[Request] = []
        if cluster_subnets and spec.all_subnets:
            base.append(need("subnets", spec.all_subnets))
        if cluster_vpc:
            base.append(need("cluster_vpc_id", spec.all_subnets, spec.vpc_id))
        return [*base, *parameters_needs(spec, plan, then=file_systems)]

    def file_systems(ctx: CheckContext) -> list[Request]:
        ids = [r.file_system_id for r in fsx_references(ctx) if r.file_system_id]
        if not ids:
            return []
        return [*(need("file_system", i) for i in ids), Then(around)]

    def around(ctx: CheckContext) -> list[Request]:
        out: list[Request] = []
        for ref in fsx_references(ctx):
            if not ref.file_system_id:
                continue
            try:
                fs = ctx.aws.file_system(ref.file_system_id)
            except FactUnavailable:
                continue
            if fs is None:
                continue
            ids = [str(s) for s in fs.get("SubnetIds") or ()]
            if fs_subnets and ids:
                out.append(need("subnets", ids))
            if vpc_links:
                out.append(Then(links_of(fs)))
            enis = [str(e) for e in fs.get("NetworkInterfaceIds") or ()]
            if interfaces and enis:
                out += [need("network_interfaces", enis), Then(groups_of(enis))]
        return out

    def links_of(fs: dict[str, Any]) -> Any:
        def links(ctx: CheckContext) -> list[Request]:
            cluster = ctx.aws.cluster_vpc_id(ctx.spec.all_subnets, ctx.spec.vpc_id)
            own = {str(fs["VpcId"])} if fs.get("VpcId") else set()
            ids = [str(s) for s in fs.get("SubnetIds") or ()]
            described = ctx.aws.subnets(ids) if ids else {}
            own |= {str(s["VpcId"]) for s in described.values() if s.get("VpcId")}
            if cluster is None or len(own) != 1 or cluster in own:
                return []
            other = own.pop()
            return [
                need("vpc_peerings", cluster),
                need("vpc_transit_gateways", cluster),
                need("vpc_transit_gateways", other),
            ]

        return links

    def groups_of(enis: list[str]) -> Any:
        def groups(ctx: CheckContext) -> list[Request]:
            found = ctx.aws.network_interfaces(enis)
            sgs = sorted({str(g["GroupId"]) for e in found.values() for g in e.get("Groups", [])})
            return [need("security_groups", sgs)] if sgs else []

        return groups

    return needs


def fs_subnets(ctx: CheckContext, fs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The file system's subnets as EC2 describes them (by id)."""
    ids = [str(s) for s in fs.get("SubnetIds") or ()]
    return ctx.aws.subnets(ids) if ids else {}
