"""Readers of the kernel's own files (/proc, /sys, /dev, /etc) under a root path.

Every function takes ``root`` (``/`` on a live node, a fixture tree in tests) and returns
plain values or the models of :mod:`hyperpod_preflight.host.models`; a file that cannot be
read gives ``None`` (never an exception). Nothing here runs a command or needs root.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from .models import CgroupFacts, CpuFacts, DiskFacts, KvmFacts, Limit, PciDevice, UserFacts

GPU_CLASSES = ("0x0300", "0x0302")  # VGA compatible controller, 3D controller
NVIDIA_VENDOR = "0x10de"
AMAZON_VENDOR = "0x1d0f"


def under(root: Path, path: str) -> Path:
    """``path`` (absolute, as on the node) inside ``root``."""
    return root / path.lstrip("/")


def read_text(root: Path, path: str) -> str | None:
    try:
        return under(root, path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _exists(path: Path) -> bool | None:
    """Whether ``path`` exists; None when that cannot be told (permission, name too long)."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return None
    return True


def _kind(path: Path, test: Callable[[int], bool]) -> bool | None:
    """``test`` of ``path``'s mode; False when it does not exist, None when that cannot be
    told (permission denied, name too long …). ``Path.is_dir()`` raises then."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    except (OSError, ValueError):
        return None
    return test(mode)


def is_dir(path: Path) -> bool | None:
    return _kind(path, stat.S_ISDIR)


def is_file(path: Path) -> bool | None:
    return _kind(path, stat.S_ISREG)


def _first_line(root: Path, path: str) -> str | None:
    text = read_text(root, path)
    return text.strip().splitlines()[0].strip() if text and text.strip() else None


def kernel_release(root: Path) -> str | None:
    """``/proc/sys/kernel/osrelease`` (what ``uname -r`` prints)."""
    return _first_line(root, "/proc/sys/kernel/osrelease")


def hostname(root: Path) -> str | None:
    return _first_line(root, "/proc/sys/kernel/hostname")


def os_release(root: Path) -> dict[str, str]:
    """``/etc/os-release`` (or ``/usr/lib/os-release``) as a dict."""
    text = read_text(root, "/etc/os-release") or read_text(root, "/usr/lib/os-release") or ""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def cpu_info(root: Path) -> CpuFacts:
    """Vendor, model, logical CPUs, physical cores and the virtualisation flags."""
    text = read_text(root, "/proc/cpuinfo")
    if text is None:
        return CpuFacts()
    logical = 0
    cores: set[tuple[str, str]] = set()
    sockets: set[str] = set()
    flags: set[str] = set()
    vendor = model = None
    physical_id = "0"
    cpu_cores_field: int | None = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            logical += 1
            physical_id = "0"
        elif key == "vendor_id":
            vendor = vendor or value
        elif key == "model name":
            model = model or value
        elif key == "physical id":
            physical_id = value
            sockets.add(value)
        elif key == "core id":
            cores.add((physical_id, value))
        elif key == "cpu cores" and value.isdigit():
            cpu_cores_field = int(value)
        elif key in ("flags", "Features"):
            flags.update(value.split())
    physical = len(cores) or (cpu_cores_field * max(1, len(sockets)) if cpu_cores_field else None)
    virt = "vmx" if "vmx" in flags else "svm" if "svm" in flags else None
    return CpuFacts(
        vendor=vendor,
        model_name=model,
        logical_cpus=logical or None,
        physical_cores=physical or (logical or None),
        sockets=len(sockets) or None,
        virtualization_flag=virt,
        hypervisor="hypervisor" in flags if flags else None,
    )


def meminfo(root: Path) -> dict[str, int]:
    """``/proc/meminfo`` in bytes (``MemTotal``, ``MemAvailable`` …)."""
    text = read_text(root, "/proc/meminfo") or ""
    values: dict[str, int] = {}
    for line in text.splitlines():
        match = re.match(r"^(\w+):\s+(\d+)(?:\s+kB)?", line)
        if match:
            factor = 1024 if line.rstrip().endswith("kB") else 1
            values[match.group(1)] = int(match.group(2)) * factor
    return values


def modules(root: Path) -> list[str] | None:
    """Loaded kernel modules (``/proc/modules``, what ``lsmod`` reads)."""
    text = read_text(root, "/proc/modules")
    if text is None:
        return None
    return sorted({line.split()[0] for line in text.splitlines() if line.strip()})


INTERESTING_MODULES = frozenset(
    {
        "efa",
        "ib_uverbs",
        "ib_core",
        "nvidia",
        "nvidia_uvm",
        "nvidia_peermem",
        "gdrdrv",
        "kvm",
        "kvm_intel",
        "kvm_amd",
        "vfio_pci",
        "vfio",
    }
)


def builtin_modules(root: Path) -> set[str]:
    """Modules of interest present in /sys/module though absent from /proc/modules
    (compiled into the kernel)."""
    try:
        names = {p.name for p in under(root, "/sys/module").iterdir()}
    except OSError:
        return set()
    return names & INTERESTING_MODULES


# ``NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.04  Thu ...`` (proprietary) or
# ``NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  Release Build ...``
_NVRM_VERSION = re.compile(r"NVRM version:.*?Kernel Module\b.*?\s(\d+\.\d+(?:\.\d+)*)(?=\s|$)")


def nvidia_kernel_driver_version(root: Path) -> str | None:
    """The loaded nvidia kernel module's version, from /proc/driver/nvidia/version (else
    /sys/module/nvidia/version); None when neither can be read or parsed."""
    text = read_text(root, "/proc/driver/nvidia/version")
    for line in (text or "").splitlines():
        match = _NVRM_VERSION.search(line)
        if match:
            return match.group(1)
    version = _first_line(root, "/sys/module/nvidia/version")
    return version if version and re.fullmatch(r"\d+(?:\.\d+)+", version) else None


def nvidia_driver_loaded(root: Path, loaded: list[str] | None) -> bool | None:
    """Whether the ``nvidia`` kernel module is loaded: True when /proc/modules (or
    /sys/module) lists it or /proc/driver/nvidia exists; False only when the module list was
    read without it and /proc/driver/nvidia is absent; None when that cannot be told."""
    if loaded is not None and "nvidia" in loaded:
        return True
    proc_entry = _exists(under(root, "/proc/driver/nvidia"))
    if proc_entry:
        return True
    if proc_entry is False and loaded is not None:
        return False
    return None


def cmdline(root: Path) -> str | None:
    text = read_text(root, "/proc/cmdline")
    return text.strip() if text is not None else None


def iommu_group_count(root: Path) -> int | None:
    path = under(root, "/sys/kernel/iommu_groups")
    try:
        return sum(1 for _ in path.iterdir())
    except FileNotFoundError:
        return 0 if is_dir(under(root, "/sys/kernel")) else None
    except OSError:
        return None


def iommu_group_members(root: Path, group: int) -> list[str]:
    path = under(root, f"/sys/kernel/iommu_groups/{group}/devices")
    try:
        return sorted(p.name for p in path.iterdir())
    except OSError:
        return []


def _link_width(value: str | None) -> int | None:
    if value is None:
        return None
    match = re.match(r"x?(\d+)", value.strip())
    return int(match.group(1)) if match else None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def pci_device(root: Path, address: str) -> PciDevice | None:
    """One device of /sys/bus/pci/devices (vendor, device, class, driver, IOMMU group …)."""
    base = f"/sys/bus/pci/devices/{address}"
    vendor = _first_line(root, f"{base}/vendor")
    device = _first_line(root, f"{base}/device")
    klass = _first_line(root, f"{base}/class")
    if not (vendor and device and klass):
        return None
    driver = group = None
    device_dir = under(root, base)
    with contextlib.suppress(OSError):
        driver = os.path.basename(os.readlink(device_dir / "driver"))
    with contextlib.suppress(OSError, ValueError):
        group = int(os.path.basename(os.readlink(device_dir / "iommu_group")))
    numa = _int_or_none(_first_line(root, f"{base}/numa_node"))
    return PciDevice(
        address=address.lower(),
        vendor_id=vendor.lower(),
        device_id=device.lower(),
        class_code=klass.lower(),
        driver=driver,
        iommu_group=group,
        numa_node=numa if numa is not None and numa >= 0 else None,
        current_link_speed=_first_line(root, f"{base}/current_link_speed"),
        current_link_width=_link_width(_first_line(root, f"{base}/current_link_width")),
        max_link_speed=_first_line(root, f"{base}/max_link_speed"),
        max_link_width=_link_width(_first_line(root, f"{base}/max_link_width")),
    )


def _os_reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        reason += " (needs read access; run as a user that may read it)"
    return reason


def pci_scan(
    root: Path, *, wanted: tuple[str, ...] = (NVIDIA_VENDOR, AMAZON_VENDOR)
) -> tuple[list[PciDevice] | None, str | None]:
    """(NVIDIA and Amazon PCI functions, why the bus could not be read fully).

    The list is None when /sys/bus/pci/devices cannot be listed at all; the reason is set
    then, and also when some devices' ``vendor`` could not be read (the list then holds what
    could be read: a lower bound)."""
    path = under(root, "/sys/bus/pci/devices")
    try:
        addresses = sorted(p.name for p in path.iterdir())
    except OSError as exc:
        return None, f"/sys/bus/pci/devices: {_os_reason(exc)}"
    found = []
    unreadable = []
    for address in addresses:
        vendor = _first_line(root, f"/sys/bus/pci/devices/{address}/vendor")
        if vendor is None:
            unreadable.append(address)
            continue
        if vendor.lower() not in wanted:
            continue
        device = pci_device(root, address)
        if device is not None:
            found.append(device)
        else:
            unreadable.append(address)
    if unreadable:
        shown = ", ".join(unreadable[:3]) + (" …" if len(unreadable) > 3 else "")
        return found, (
            f"{len(unreadable)} of {len(addresses)} devices under /sys/bus/pci/devices "
            f"could not be read ({shown})"
        )
    return found, None


def pci_devices(
    root: Path, *, wanted: tuple[str, ...] = (NVIDIA_VENDOR, AMAZON_VENDOR)
) -> list[PciDevice] | None:
    """NVIDIA and Amazon PCI functions (GPUs, EFA); None when /sys/bus/pci is unreadable."""
    return pci_scan(root, wanted=wanted)[0]


def infiniband_devices(root: Path) -> list[str] | None:
    path = under(root, "/sys/class/infiniband")
    try:
        return sorted(p.name for p in path.iterdir())
    except FileNotFoundError:
        return []
    except OSError:
        return None


def uverbs_devices(root: Path) -> list[str] | None:
    path = under(root, "/dev/infiniband")
    try:
        return sorted(p.name for p in path.iterdir() if p.name.startswith("uverbs"))
    except FileNotFoundError:
        return []
    except OSError:
        return None


def cgroup(root: Path) -> CgroupFacts:
    """cgroup v2 when /sys/fs/cgroup/cgroup.controllers exists (the unified hierarchy)."""
    controllers = read_text(root, "/sys/fs/cgroup/cgroup.controllers")
    if controllers is not None:
        return CgroupFacts(version=2, controllers=controllers.split())
    base = under(root, "/sys/fs/cgroup")
    if is_dir(base):
        try:
            names = {p.name for p in base.iterdir()}
        except OSError:
            return CgroupFacts()
        if names & {"memory", "cpu", "cpuset", "devices", "cpu,cpuacct"}:
            return CgroupFacts(version=1, controllers=sorted(names))
        mounts = read_text(root, "/proc/self/mounts") or ""
        if re.search(r"\s/sys/fs/cgroup\s+cgroup2\s", mounts):
            return CgroupFacts(version=2)
        return CgroupFacts(version=1 if names else None, controllers=sorted(names))
    return CgroupFacts()


def _limit_value(text: str) -> int | None:
    return None if text == "unlimited" else int(text)


def memlock(root: Path) -> Limit | None:
    """RLIMIT_MEMLOCK of this process, from /proc/self/limits (what ``ulimit -l`` shows)."""
    text = read_text(root, "/proc/self/limits")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("Max locked memory"):
            parts = line[len("Max locked memory") :].split()
            try:
                return Limit(soft=_limit_value(parts[0]), hard=_limit_value(parts[1]))
            except (IndexError, ValueError):
                return None
    return None


def _passwd_name(root: Path, uid: int) -> str | None:
    for line in (read_text(root, "/etc/passwd") or "").splitlines():
        parts = line.split(":")
        if len(parts) > 2 and parts[2] == str(uid):
            return parts[0]
    return None


def user(root: Path) -> UserFacts:
    """This process's user and its groups (ids from /proc/self/status, names from
    /etc/group, members listed in /etc/group included)."""
    status = read_text(root, "/proc/self/status")
    if status is None:
        return UserFacts()
    uid = None
    gids: set[int] = set()
    for line in status.splitlines():
        fields = line.split()
        if line.startswith("Uid:"):
            uid = _int_or_none(fields[1] if len(fields) > 1 else None)
        elif line.startswith("Gid:"):
            gid = _int_or_none(fields[1] if len(fields) > 1 else None)
            if gid is not None:
                gids.add(gid)
        elif line.startswith("Groups:"):
            gids.update(g for g in map(_int_or_none, fields[1:]) if g is not None)
    name = _passwd_name(root, uid) if uid is not None else None
    group_file = read_text(root, "/etc/group")
    if group_file is None:
        # Without /etc/group the ids cannot be named: membership is unknown, not "none".
        return UserFacts(name=name, uid=uid, groups=None, error="/etc/group unreadable")
    groups: list[str] = []
    for line in group_file.splitlines():
        parts = line.split(":")
        if len(parts) < 3:
            continue
        members = parts[3].split(",") if len(parts) > 3 else []
        try:
            gid = int(parts[2])
        except ValueError:
            continue
        if gid in gids or (name and name in members):
            groups.append(parts[0])
    return UserFacts(name=name, uid=uid, groups=sorted(set(groups)))


def kvm(root: Path) -> KvmFacts:
    path = under(root, "/dev/kvm")
    exists = _exists(path) is True
    return KvmFacts(exists=exists, accessible=exists and os.access(path, os.R_OK | os.W_OK))


def mounts(root: Path) -> list[tuple[str, str]]:
    """(mount point, fstype) of every mount, from /proc/self/mounts."""
    text = read_text(root, "/proc/self/mounts") or read_text(root, "/proc/mounts") or ""
    result = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            result.append((parts[1].replace("\\040", " "), parts[2]))
    return result


def disk(root: Path, path: str, mount_table: list[tuple[str, str]]) -> DiskFacts:
    """Free space of ``path`` (statvfs) and the mount it lives on."""
    real = under(root, path)
    try:
        real.stat()
    except (FileNotFoundError, NotADirectoryError):
        return DiskFacts(path=path, exists=False)
    except OSError as exc:  # EACCES on a parent, a name too long …: cannot tell
        reason = exc.strerror or str(exc)
        if isinstance(exc, PermissionError):
            reason += " (needs root, or read access to its parent directories)"
        return DiskFacts(path=path, exists=True, error=reason)
    mount_point = fstype = None
    for point, kind in mount_table:
        prefix = point.rstrip("/") + "/"
        if (path == point or path.startswith(prefix) or point == "/") and (
            mount_point is None or len(point) >= len(mount_point)
        ):
            mount_point, fstype = point, kind
    try:
        stat = os.statvfs(real)
    except OSError as exc:
        return DiskFacts(path=path, exists=True, error=exc.strerror or str(exc))
    return DiskFacts(
        path=path,
        exists=True,
        free_bytes=stat.f_bavail * stat.f_frsize,
        total_bytes=stat.f_blocks * stat.f_frsize,
        mount_point=mount_point,
        fstype=fstype,
    )


def local_ipv4_addresses(root: Path) -> set[str]:
    """This node's own IPv4 addresses (``/32 host LOCAL`` entries of /proc/net/fib_trie)."""
    text = read_text(root, "/proc/net/fib_trie") or ""
    found: set[str] = set()
    last = None
    for line in text.splitlines():
        match = re.search(r"\|--\s+(\d+\.\d+\.\d+\.\d+)", line)
        if match:
            last = match.group(1)
        elif "/32 host LOCAL" in line and last and not last.startswith("127."):
            found.add(last)
    return found


def fabric_manager_process(root: Path) -> bool | None:
    """Whether an ``nv-fabricmanager`` process runs (scan of /proc/*/comm); None if /proc
    is unreadable."""
    proc = under(root, "/proc")
    try:
        entries = [p for p in proc.iterdir() if p.name.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            if (entry / "comm").read_bytes().strip() == b"nv-fabricmanager":
                return True
        except OSError:
            continue
    return False
