"""What the slurm checks share: the file systems a config mounts (from each group's
``InstanceStorageConfigs`` and from the lifecycle ``provisioning_parameters.json``), the
parsed parameters file, and reading a file system per finding (no check is registered here).

The parameters file reaches the checks as bytes in ``ctx.options["provisioning_parameters"]``
(``{"file": path, "data": bytes | None}``), read by the CLI from ``--lifecycle-dir``: checks
do no I/O of their own. Reading it from the lifecycle S3 prefix is left to the S3 facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from ...analysis.provisioning import ProvisioningParameters, parse_provisioning_parameters
from ...analysis.security_groups import FSX_LUSTRE_PORT_RANGES
from ...errors import FactUnavailable
from ...models import Outcome, skipped, unknown
from ...planner import ClusterPlan
from ...registry import CheckContext, NeedsFn, Request, Then, need
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
# The port a client opens to the file system's network interfaces: Lustre's LNet port
# (https://docs.aws.amazon.com/fsx/latest/LustreGuide/limit-access-security-groups.html)
# and NFS for OpenZFS
# (https://docs.aws.amazon.com/fsx/latest/OpenZFSGuide/limit-access-security-groups.html).
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


def provisioning_parameters(ctx: CheckContext) -> tuple[ProvisioningParameters | None, str]:
    """The parsed ``provisioning_parameters.json`` given to the run (None when none was
    given, or it does not parse: the lifecycle lint reports why) and its file name."""
    given = ctx.options.get("provisioning_parameters")
    if not isinstance(given, dict) or not isinstance(given.get("data"), bytes):
        return None, PARAMS_SOURCE
    file = str(given.get("file") or PARAMS_SOURCE)
    params, _ = parse_provisioning_parameters(given["data"], file=file)
    return params, file


def fsx_references(ctx: CheckContext) -> list[FsxRef]:
    """Every file system the config or the parameters file mounts, one entry per file
    system (by id; by DNS name when the name holds no id)."""
    found: dict[str, FsxRef] = {}

    def add(dns: str, kind: FsxKind, group: str | None, mount: str | None, source: str) -> None:
        m = FSX_DNS.match(dns.strip())
        fs_id = m.group("fs").lower() if m else None
        ref = found.setdefault(fs_id or dns, FsxRef(dns_name=dns, kind=kind, file_system_id=fs_id))
        if group is None:
            ref.groups.extend(g.name for g in ctx.spec.instance_groups if g.name not in ref.groups)
        elif group not in ref.groups:
            ref.groups.append(group)
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
                    add(str(conf["DnsName"]), kind, group.name, mount, where)  # type: ignore[arg-type]
    params, file = provisioning_parameters(ctx)
    if params is not None and params.fsx_dns_name:
        # The reference lifecycle scripts mount it on every node of the cluster.
        add(params.fsx_dns_name, "lustre", None, params.fsx_mountname, file)
    return list(found.values())


def no_fsx(ctx: CheckContext) -> Outcome:
    hint = (
        ""
        if ctx.options.get("provisioning_parameters")
        else " (pass --lifecycle-dir to read the file systems provisioning_parameters.json names)"
    )
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
    ctx: CheckContext, out: list[Outcome]
) -> Iterator[tuple[FsxRef, dict[str, Any] | None]]:
    """Each referenced file system with its ``DescribeFileSystems`` entry (None: there is no
    such file system); appends UNKNOWN for one that could not be read or whose name holds
    no id."""
    for ref in fsx_references(ctx):
        if ref.file_system_id is None:
            out.append(not_an_fsx_name(ref))
            continue
        try:
            fs = ctx.aws.file_system(ref.file_system_id)
        except FactUnavailable as exc:
            out.append(cannot_read(ref, exc))
            continue
        yield ref, fs


def described(ctx: CheckContext, out: list[Outcome]) -> Iterator[tuple[FsxRef, dict[str, Any]]]:
    """Each referenced file system that exists, as :func:`read_file_systems` gives it; skips
    one that does not exist (``slurm.fsx-exists`` reports it)."""
    for ref, fs in read_file_systems(ctx, out):
        if fs is None:
            out.append(skipped(ref.resource, "the file system does not exist (slurm.fsx-exists)"))
            continue
        yield ref, fs


def fsx_needs(
    *,
    cluster_subnets: bool = False,
    cluster_vpc: bool = False,
    fs_subnets: bool = False,
    interfaces: bool = False,
) -> NeedsFn:
    """The needs of an FSx check: each referenced file system, then (as asked) the
    cluster's subnets or VPC, the file systems' subnets, and their network interfaces with
    those interfaces' security groups."""

    def needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
        base: list[Request] = []
        if cluster_subnets and spec.all_subnets:
            base.append(need("subnets", spec.all_subnets))
        if cluster_vpc:
            base.append(need("cluster_vpc_id", spec.all_subnets, spec.vpc_id))
        return [*base, Then(file_systems)]

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
            enis = [str(e) for e in fs.get("NetworkInterfaceIds") or ()]
            if interfaces and enis:
                out += [need("network_interfaces", enis), Then(groups_of(enis))]
        return out

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
