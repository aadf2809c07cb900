"""Checks of what multi-node training needs: EFA devices and driver, locked memory, the
NVSwitch fabric manager, Slurm's GPU GRES and the shared file system."""

from __future__ import annotations

import re

from ...registry import HostContext, check
from ...results import Outcome, Severity, passed, skipped, unknown, warned
from ...shell import command
from ..models import HostFacts
from ._common import (
    GB,
    REPLACE_NODE,
    expectation,
    facts,
    judged,
    not_in_profile,
    requirement,
)
from ._counts import expected_count

EFA_INSTALL = (
    "install the EFA driver: curl -O https://efa-installer.amazonaws.com/"
    "aws-efa-installer-latest.tar.gz && tar xf aws-efa-installer-latest.tar.gz && "
    "cd aws-efa-installer && sudo ./efa_installer.sh -y"
)
MEMLOCK_FIX = (
    "printf '* soft memlock unlimited\\n* hard memlock unlimited\\n' | sudo tee "
    "/etc/security/limits.d/99-memlock.conf, log in again; for services (slurmd, "
    "containerd) set LimitMEMLOCK=infinity in their systemd unit"
)
NETWORK_FS = (
    "lustre",
    "nfs",
    "nfs4",
    "ceph",
    "gpfs",
    "beegfs",
    "wekafs",
    "cifs",
    "smb3",
    "glusterfs",
    "virtiofs",
    "9p",
    "fuse.mountpoint-s3",
    "fuse.s3fs",
    "fuse.juicefs",
    "fuse.gcsfuse",
    "fuse.glusterfs",
    "fuse.sshfs",
    "fuse.weka",
)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


@check(
    "host.efa-devices", "EFA device count matches the instance type", Severity.HIGH, needs_aws=False
)
def efa_devices(ctx: HostContext) -> list[Outcome]:
    """EFA devices on the PCI bus reach the type's count or profile minimum; fewer FAIL."""
    req = requirement(ctx, "host.efa-devices")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    found = host.efa_devices
    bus = f"{len(found)} EFA device(s) on the PCI bus"
    if host.pci_error:
        bus = (
            f"{len(found)} EFA device(s) found on the PCI bus, which could not be read "
            f"({host.pci_error})"
        )
    expected = expected_count(req.threshold, "efa", expectation(ctx), host)
    want = expected.want
    if want is None:
        return [
            unknown(
                "efa",
                f"could not tell the expected EFA count: {expected.why_unknown}; {bus}",
                "pass --instance-type ml.p5.48xlarge, or --require efa-count=N",
                found=len(found),
            )
        ]
    if want == 0:
        if expected.from_instance_type:
            return [skipped("efa", f"{expected.instance_type} has no EFA interface")]
        return [skipped("efa", f"the profile asks for no EFA device ({req.id} = 0)")]
    label = expected.label
    if len(found) < want and host.pci_error:
        return [
            unknown(
                "efa",
                f"could not tell: {bus}; {label}",
                "run as a user that may read /sys/bus/pci",
                found=len(found),
                expected=want,
            )
        ]
    if len(found) < want:
        return [
            judged(
                req,
                "efa",
                f"{len(found)} EFA device(s) on the PCI bus, {label}",
                "EFA interfaces are attached when the instance launches: check the "
                f"launch/instance group settings; {REPLACE_NODE}",
                found=len(found),
                expected=want,
                addresses=[d.address for d in found],
            )
        ]
    return [passed("efa", f"{len(found)} EFA device(s) ({label})", found=len(found))]


@check("host.efa-driver", "EFA kernel driver and verbs devices", Severity.HIGH, needs_aws=False)
def efa_driver(ctx: HostContext) -> list[Outcome]:
    """Where EFA is present, efa and ib_uverbs are loaded with a uverbs device each; else FAIL."""
    req = requirement(ctx, "host.efa-driver")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    expect = expectation(ctx)
    devices = len(host.efa_devices)
    if devices == 0 and not (expect and expect.efa_devices):
        if host.pci_error:
            return [
                unknown(
                    "efa",
                    f"could not tell whether this host has EFA devices: the PCI bus could "
                    f"not be read ({host.pci_error})",
                    "run as a user that may read /sys/bus/pci, or pass --instance-type",
                )
            ]
        return [skipped("efa", "no EFA device on this host")]
    out: list[Outcome] = []
    if host.modules is None:
        out.append(unknown("kernel modules", "could not tell: /proc/modules unreadable"))
    else:
        for module in ("efa", "ib_uverbs"):
            if module in host.modules:
                out.append(passed(f"module {module}", f"kernel module {module} loaded"))
            else:
                out.append(
                    judged(
                        req,
                        f"module {module}",
                        f"kernel module {module} is not loaded",
                        f"{command('sudo', 'modprobe', module)}; if missing, {EFA_INSTALL}",
                    )
                )
    uverbs = host.uverbs_devices
    if uverbs is None:
        out.append(unknown("/dev/infiniband", "could not tell: /dev/infiniband unreadable"))
    elif len(uverbs) < devices:
        out.append(
            judged(
                req,
                "/dev/infiniband",
                f"{len(uverbs)} uverbs device(s) for {devices} EFA device(s)",
                f"sudo modprobe ib_uverbs; {EFA_INSTALL}",
            )
        )
    else:
        out.append(passed("/dev/infiniband", f"{len(uverbs)} uverbs device(s)"))
    return out


def parse_size(text: str) -> int:
    """``64G`` → bytes (binary units, as ulimit counts)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(text)
    factor = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


@check("host.memlock", "Locked-memory limit unlimited", Severity.HIGH, needs_aws=False)
def memlock(ctx: HostContext) -> list[Outcome]:
    """ulimit -l is unlimited or at least the profile's size; lower FAILs, unreadable UNKNOWN."""
    req = requirement(ctx, "host.memlock")
    if req is None:
        return not_in_profile(ctx)
    limit = facts(ctx).memlock
    if limit is None:
        return [unknown("memlock", "could not tell: /proc/self/limits unreadable")]
    if limit.soft is None:
        return [passed("memlock", "ulimit -l: unlimited")]
    shown = f"{limit.soft // 1024} KiB"
    if str(req.threshold) == "unlimited":
        return [
            judged(
                req,
                "memlock",
                f"ulimit -l is {shown}, not unlimited (EFA and NCCL pin memory)",
                MEMLOCK_FIX,
                soft=limit.soft,
            )
        ]
    try:
        minimum = parse_size(str(req.threshold))
    except ValueError:
        return [unknown("memlock", f"memlock threshold {req.threshold!r} is not a size")]
    if limit.soft < minimum:
        return [
            judged(
                req,
                "memlock",
                f"ulimit -l is {shown}, below {req.threshold}",
                MEMLOCK_FIX,
                soft=limit.soft,
            )
        ]
    return [passed("memlock", f"ulimit -l is {shown} (>= {req.threshold})")]


def _fabric_applies(ctx: HostContext, host: HostFacts) -> str | None:
    """Why the fabric manager is needed here, or None."""
    expect = expectation(ctx)
    if expect is not None:
        return f"{expect.instance_type} uses NVSwitch" if expect.nvswitch else None
    if any(g.fabric_state is not None for g in host.gpu.gpus):
        return "the GPUs report an NVSwitch fabric"
    return None


@check(
    "host.fabric-manager",
    "NVIDIA fabric manager running on NVSwitch systems",
    Severity.HIGH,
    needs_aws=False,
)
def fabric_manager(ctx: HostContext) -> list[Outcome]:
    """On NVSwitch hosts nvidia-fabricmanager is active and GPUs registered; else FAIL."""
    req = requirement(ctx, "host.fabric-manager")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    reason = _fabric_applies(ctx, host)
    if reason is None:
        return [skipped("nvidia-fabricmanager", "no NVSwitch here (instance type or GPUs)")]
    driver = host.gpu.driver_version or "<driver version>"
    fix = (
        f"sudo systemctl enable --now nvidia-fabricmanager (its package version must equal "
        f"the driver's, {driver}: apt-get install nvidia-fabricmanager-<branch>)"
    )
    out: list[Outcome] = []
    service = host.fabric_manager
    if service is None or service.state is None:
        detail = f" ({service.detail})" if service and service.detail else ""
        out.append(unknown("nvidia-fabricmanager", f"could not tell whether it runs{detail}"))
    elif service.state == "active":
        out.append(passed("nvidia-fabricmanager", f"active (from {service.source}); {reason}"))
    else:
        out.append(
            judged(
                req,
                "nvidia-fabricmanager",
                f"nvidia-fabricmanager is {service.state.replace('-', ' ')} (from "
                f"{service.source}), but {reason}: GPUs cannot talk over NVLink without it",
                fix,
                state=service.state,
            )
        )
    for gpu in host.gpu.gpus:
        if gpu.fabric_state is None:
            continue
        if gpu.fabric_state == "completed" and gpu.fabric_status_ok is not False:
            out.append(passed(gpu.label, "fabric registration completed"))
        elif gpu.fabric_state == "completed":
            out.append(
                judged(
                    req,
                    gpu.label,
                    "fabric registration completed with an error",
                    f"sudo journalctl -u nvidia-fabricmanager; {fix}",
                )
            )
        else:
            out.append(
                judged(
                    req,
                    gpu.label,
                    f"fabric registration {gpu.fabric_state}",
                    fix,
                    state=gpu.fabric_state,
                )
            )
    return out


def _gres_gpus(gres: str) -> int:
    """GPUs in a Slurm Gres string: ``gpu:8``, ``gpu:h100:4(S:0),gpu:a100:4`` → 8."""
    total = 0
    for item in gres.split(","):
        item = re.sub(r"\(.*?\)", "", item.strip())
        parts = item.split(":")
        if parts[0] != "gpu":
            continue
        if len(parts) >= 2 and parts[-1].isdigit():
            total += int(parts[-1])
        else:
            total += 1
    return total


@check("host.slurm-gres", "Slurm sees this node's GPUs as GRES", Severity.HIGH, needs_aws=False)
def slurm_gres(ctx: HostContext) -> list[Outcome]:
    """Slurm knows this node and lists no fewer GPU GRES than the driver sees; else FAIL."""
    req = requirement(ctx, "host.slurm-gres")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    if not host.tool("scontrol").found:
        return [skipped("slurm", "scontrol is not on PATH (not a Slurm node)")]
    slurm = host.slurm
    if slurm is None:
        return [unknown("slurm", "could not tell: scontrol was not run")]
    node = slurm.node or "this node"
    if slurm.error:
        if "not found" in slurm.error.lower() or "invalid node" in slurm.error.lower():
            return [
                judged(
                    req,
                    node,
                    f"Slurm does not know node {node}: {slurm.error}",
                    "add the node to slurm.conf (NodeName=...) and sudo scontrol reconfigure",
                )
            ]
        return [unknown(node, f"could not tell: scontrol show node failed: {slurm.error}")]
    gpus = len(host.gpu.gpus) if host.gpu.readable else 0
    listed = _gres_gpus(slurm.gres or "")
    fix = (
        f"in slurm.conf give the node Gres=gpu:{gpus or 'N'} and set GresTypes=gpu; in "
        "gres.conf: AutoDetect=nvml; then sudo scontrol reconfigure"
    )
    if listed == 0:
        return [judged(req, node, f"Slurm lists no GPU GRES for {node} (Gres={slurm.gres})", fix)]
    if listed < gpus:
        return [
            judged(
                req,
                node,
                f"Slurm lists {listed} GPU(s) for {node}; the driver sees {gpus}",
                fix,
                gres=slurm.gres,
            )
        ]
    return [passed(node, f"Gres={slurm.gres} ({listed} GPU(s))", gres=slurm.gres)]


@check(
    "host.shared-mount",
    "Shared file system mounted with free space",
    Severity.HIGH,
    needs_aws=False,
)
def shared_mount(ctx: HostContext) -> list[Outcome]:
    """Each --shared-mount path is a mount with the profile's free GB (else FAIL); local WARNs."""
    req = requirement(ctx, "host.shared-mount")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    paths = list(ctx.options.get("shared_mounts") or [])
    if not paths:
        return [skipped("shared mount", "no shared mount given: pass --shared-mount /fsx")]
    minimum = float(req.threshold)
    disks = {d.path: d for d in host.disks}
    out: list[Outcome] = []
    for path in paths:
        disk = disks.get(path)
        if disk is None or disk.error:
            out.append(unknown(path, f"could not tell: {disk.error if disk else 'not read'}"))
        elif not disk.exists:
            out.append(
                judged(
                    req,
                    path,
                    f"{path} does not exist",
                    f"mount the shared file "
                    f"system at {path} (FSx for Lustre: sudo mount -t lustre "
                    f"<dns>@tcp:/<mountname> {path})",
                )
            )
        elif disk.mount_point is None:
            out.append(
                unknown(
                    path,
                    f"could not tell whether {path} is a mount point: the mount table "
                    "(/proc/self/mounts) is unreadable",
                    f"check by hand: findmnt {path}",
                )
            )
        elif disk.mount_point != path.rstrip("/") and path != "/":
            out.append(
                judged(
                    req,
                    path,
                    f"{path} is not a mount point: it is on "
                    f"{disk.mount_point} ({disk.fstype}), so the shared file system "
                    "is not mounted",
                    f"{command('sudo', 'mount', path)} (check /etc/fstab)",
                )
            )
        elif disk.free_bytes is not None and disk.free_bytes < minimum * GB:
            out.append(
                judged(
                    req,
                    path,
                    f"{disk.free_bytes / GB:.0f} GB free on {path}, below {minimum:g} GB",
                    f"free space: sudo du -xh -d1 {path} | sort -h",
                )
            )
        elif disk.fstype and not disk.fstype.startswith(NETWORK_FS):
            out.append(
                warned(
                    path,
                    f"{path} is {disk.fstype}, a local file system: other nodes will not see it",
                    "mount the cluster's shared file system there",
                )
            )
        else:
            free = f"{disk.free_bytes / GB:.0f} GB free" if disk.free_bytes is not None else ""
            out.append(passed(path, f"{path} mounted ({disk.fstype}), {free}"))
    return out
