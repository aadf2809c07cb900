"""Operating-system checks: kernel, cgroup v2, distribution, cores, memory, disk, Python."""

from __future__ import annotations

from ...registry import HostContext, check
from ...results import Outcome, Severity, passed, unknown, warned
from ..commands import version_at_least, version_tuple
from ._common import GB, facts, judged, not_in_profile, requirement, requirements

GRUB_FIX = (
    "add {arg} to GRUB_CMDLINE_LINUX in /etc/default/grub, then sudo update-grub && sudo reboot"
)


@check("host.cgroup-v2", "cgroup v2 (unified hierarchy)", Severity.MEDIUM, needs_aws=False)
def cgroup_v2(ctx: HostContext) -> list[Outcome]:
    """The host runs the cgroup v2 unified hierarchy; v1 or hybrid FAILs, unreadable UNKNOWN."""
    req = requirement(ctx, "host.cgroup-v2")
    if req is None:
        return not_in_profile(ctx)
    group = facts(ctx).cgroup
    if group.version is None:
        return [unknown("cgroup", "could not tell: /sys/fs/cgroup unreadable")]
    if group.version != 2:
        hybrid = " with a hybrid v2 mount" if "unified" in group.controllers else ""
        return [
            judged(
                req,
                "cgroup",
                f"cgroup v{group.version} controllers (legacy hierarchy{hybrid})",
                GRUB_FIX.format(arg="systemd.unified_cgroup_hierarchy=1"),
            )
        ]
    listed = f" (controllers: {' '.join(group.controllers)})" if group.controllers else ""
    return [passed("cgroup", f"cgroup v2{listed}")]


@check("host.kernel-version", "Kernel recent enough", Severity.MEDIUM, needs_aws=False)
def kernel_version(ctx: HostContext) -> list[Outcome]:
    """The kernel is at least the required (FAIL) and recommended (WARN) versions."""
    reqs = requirements(ctx, "host.kernel-version")
    if not reqs:
        return not_in_profile(ctx)
    release = facts(ctx).kernel_release
    if not release:
        return [unknown("kernel", "could not tell: /proc/sys/kernel/osrelease unreadable")]
    try:
        version_tuple(release)
    except ValueError:
        return [unknown("kernel", f"could not read a version from kernel release {release!r}")]
    # Required items first, so the finding names the most serious shortfall.
    for req in sorted(reqs, key=lambda r: not r.required):
        minimum = str(req.threshold)
        if not version_at_least(release, minimum):
            word = "older than" if req.required else "older than the recommended"
            return [
                judged(
                    req,
                    "kernel",
                    f"kernel {release} is {word} {minimum}",
                    "upgrade the kernel (Ubuntu: sudo apt-get install -y "
                    "linux-generic-hwe-$(. /etc/os-release; echo $VERSION_ID)) and reboot",
                    release=release,
                )
            ]
    best = max((str(r.threshold) for r in reqs), key=version_tuple)
    return [passed("kernel", f"kernel {release} (>= {best})", release=release)]


@check("host.disk-free", "Free disk space", Severity.MEDIUM, needs_aws=False)
def disk_free(ctx: HostContext) -> list[Outcome]:
    """Each path has the profile's free GB (less FAILs); a default path that is absent WARNs."""
    req = requirement(ctx, "host.disk-free")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    explicit = list(ctx.options.get("paths") or [])
    paths = explicit or [str(p) for p in req.params.get("paths", [])]
    minimum = float(req.threshold)
    disks = {d.path: d for d in host.disks}
    out: list[Outcome] = []
    for path in paths:
        disk = disks.get(path)
        if disk is None:
            out.append(unknown(path, "could not tell: not read"))
        elif not disk.exists:
            if explicit:
                out.append(judged(req, path, f"{path} does not exist", f"create or mount {path}"))
            else:
                out.append(
                    warned(
                        path,
                        f"{path} does not exist (HyperPod mounts it only with "
                        "InstanceStorageConfigs); pass --path to check another place",
                        "give the instance group an EBS volume (InstanceStorageConfigs) "
                        "or pass --path /where/you/write",
                    )
                )
        elif disk.error or disk.free_bytes is None:
            out.append(unknown(path, f"could not tell free space: {disk.error}"))
        elif disk.free_bytes < minimum * GB:
            out.append(
                judged(
                    req,
                    path,
                    f"{disk.free_bytes / GB:.0f} GB free of "
                    f"{(disk.total_bytes or 0) / GB:.0f} GB on {path}, below "
                    f"{minimum:g} GB",
                    f"free space (sudo du -xh -d1 {path} | sort -h) or grow the volume",
                    free_gb=round(disk.free_bytes / GB, 1),
                )
            )
        else:
            out.append(
                passed(
                    path,
                    f"{disk.free_bytes / GB:.0f} GB free on {path} (>= {minimum:g} GB)",
                    free_gb=round(disk.free_bytes / GB, 1),
                )
            )
    return out


@check("host.cpu-cores", "Enough CPU cores", Severity.MEDIUM, needs_aws=False)
def cpu_cores(ctx: HostContext) -> list[Outcome]:
    """The host has the profile's physical CPU cores; fewer FAIL, unreadable /proc UNKNOWN."""
    req = requirement(ctx, "host.cpu-cores")
    if req is None:
        return not_in_profile(ctx)
    cpu = facts(ctx).cpu
    if cpu.physical_cores is None:
        return [unknown("cpu", "could not tell: /proc/cpuinfo unreadable")]
    minimum = int(req.threshold)
    text = f"{cpu.physical_cores} cores ({cpu.logical_cpus} threads), {cpu.model_name}"
    if cpu.physical_cores < minimum:
        return [
            judged(
                req, "cpu", f"{text}: fewer than {minimum} cores", "use a machine with more cores"
            )
        ]
    return [passed("cpu", f"{text} (>= {minimum})")]


@check("host.memory", "Enough memory", Severity.MEDIUM, needs_aws=False)
def memory(ctx: HostContext) -> list[Outcome]:
    """MemTotal is at least 98% of the profile's GB (kernel reserve); less FAILs."""
    req = requirement(ctx, "host.memory")
    if req is None:
        return not_in_profile(ctx)
    total = facts(ctx).mem_total_bytes
    if total is None:
        return [unknown("memory", "could not tell: /proc/meminfo unreadable")]
    minimum = float(req.threshold)
    # MemTotal excludes what firmware and the kernel reserve: allow 2% below the figure.
    if total < minimum * GB * 0.98:
        return [
            judged(
                req,
                "memory",
                f"{total / GB:.1f} GB of memory, below {minimum:g} GB",
                "add memory or use a larger machine",
            )
        ]
    return [passed("memory", f"{total / GB:.1f} GB of memory (>= {minimum:g} GB)")]


def _allowed(threshold: str) -> dict[str, str]:
    """``ubuntu>=22.04,debian>=13`` → {ubuntu: 22.04, debian: 13}."""
    allowed = {}
    for part in threshold.split(","):
        name, _, version = part.strip().partition(">=")
        if name.strip():
            allowed[name.strip().lower()] = version.strip() or "0"
    return allowed


@check("host.os-release", "Supported distribution", Severity.MEDIUM, needs_aws=False)
def os_release(ctx: HostContext) -> list[Outcome]:
    """/etc/os-release names an allowed distribution at its minimum version; else FAIL."""
    req = requirement(ctx, "host.os-release")
    if req is None:
        return not_in_profile(ctx)
    release = facts(ctx).os_release
    if not release:
        return [unknown("os", "could not tell: /etc/os-release unreadable")]
    allowed = _allowed(str(req.threshold))
    wanted = ", ".join(f"{n} >= {v}" for n, v in allowed.items())
    name = release.get("ID", "").lower()
    version = release.get("VERSION_ID", "")
    pretty = release.get("PRETTY_NAME") or f"{name} {version}"
    if name not in allowed:
        return [judged(req, "os", f"{pretty} is not one of: {wanted}", f"install one of: {wanted}")]
    if not version:
        return [warned("os", f"{pretty} has no VERSION_ID (a testing release?); wanted {wanted}")]
    try:
        ok = version_at_least(version, allowed[name])
    except ValueError:
        return [unknown("os", f"could not compare version {version!r}")]
    if not ok:
        how = (
            "sudo do-release-upgrade"
            if name == "ubuntu"
            else ("follow the distribution's upgrade notes")
        )
        return [
            judged(
                req,
                "os",
                f"{pretty} is older than {name} {allowed[name]}",
                f"upgrade to {name} {allowed[name]} or newer ({how})",
            )
        ]
    return [passed("os", f"{pretty} (wanted {wanted})")]


@check("host.python-version", "python3 recent enough", Severity.MEDIUM, needs_aws=False)
def python_version(ctx: HostContext) -> list[Outcome]:
    """python3 is on PATH and at least the profile's version; missing or older FAILs."""
    req = requirement(ctx, "host.python-version")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    tool = host.tool("python3")
    minimum = str(req.threshold)
    fix = (
        f"install Python {minimum}+ (Ubuntu: sudo apt-get install -y python3; or uv python "
        f"install {minimum})"
    )
    if not tool.found:
        return [judged(req, "python3", "python3 is not on PATH", fix)]
    if not host.python_version:
        return [unknown("python3", f"could not tell its version: {tool.error or 'no output'}")]
    if not version_at_least(host.python_version, minimum):
        return [
            judged(
                req,
                "python3",
                f"python3 is {host.python_version}, older than {minimum}",
                fix,
                path=tool.path,
            )
        ]
    return [passed("python3", f"python3 {host.python_version} (>= {minimum})", path=tool.path)]
