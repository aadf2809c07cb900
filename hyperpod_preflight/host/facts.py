"""Collect :class:`HostFacts` for one node: files first, then NVML, then only the commands
the chosen profile needs, run concurrently.

Everything is read under ``root`` (``/`` on a node; a fixture tree in tests). NVML is asked
only for the live root (it cannot be pointed at a tree) unless a pynvml-like module is
passed in; without NVML, ``nvidia-smi`` found in the tree is used. Nothing here writes, needs
root, or touches the network (the metadata service only with ``imds=True``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..workers import DaemonPool
from . import sysfs
from .commands import CommandResult, probe_tools, run_command
from .deep.models import DeepFacts
from .instance_types import IMDS_BASE, imds_instance_type, read_resource_config
from .models import GpuFacts, HostFacts, ServiceFacts, SlurmNodeFacts, ToolInfo
from .nvml import load_pynvml, read_nvml
from .nvsmi import read_nvidia_smi
from .profiles import Profile

AUTO: Any = object()  # "find pynvml yourself"
FABRIC_MANAGER_UNIT = "nvidia-fabricmanager"


@dataclass
class CollectOptions:
    root: str = "/"
    instance_type: str | None = None
    paths: list[str] = field(default_factory=list)
    shared_mounts: list[str] = field(default_factory=list)
    measure_bandwidth: bool = False
    dcgm: bool = False
    dcgm_level: int = 1
    deep: bool = False
    deep_seconds: float = 60.0
    # One line per deep step as it starts (the CLI shows them on a terminal); None: silent.
    deep_progress: Callable[[str], None] | None = None
    imds: bool = False
    imds_url: str = IMDS_BASE
    nvml: Any = AUTO
    run: Callable[..., CommandResult] = run_command


def _needed_tools(profile: Profile, opts: CollectOptions) -> tuple[set[str], set[str]]:
    """(tools to look up, tools whose version command must run) for ``profile``."""
    names: set[str] = {"nvidia-smi"}
    versions: set[str] = set()
    for item in profile.requirements:
        if item.check == "host.tools":
            tool = str(item.params.get("tool", item.id.removeprefix("tool-")))
            names.add(tool)
            if item.threshold is not None:
                versions.add(tool)
        elif item.check == "host.python-version":
            names.add("python3")
            versions.add("python3")
        elif item.check == "host.slurm-gres":
            names.add("scontrol")
        elif item.check == "host.fabric-manager":
            names.add("systemctl")
        elif item.check == "host.apptainer-nv":
            names.update({"apptainer", "nvidia-container-cli"})
    if opts.dcgm:
        names.add("dcgmi")
    if opts.deep:
        names.update({"dmesg", "journalctl"})
    return names, versions


def _fabric_manager(
    root: Path, systemctl: ToolInfo, run: Callable[..., CommandResult]
) -> ServiceFacts:
    service = ServiceFacts(name=FABRIC_MANAGER_UNIT)
    if systemctl.path:
        result = run([systemctl.path, "is-active", FABRIC_MANAGER_UNIT], 3.0)
        state = (result.stdout.strip().splitlines() or [""])[0].strip()
        if result.error is None and state in (
            "active",
            "inactive",
            "failed",
            "activating",
            "deactivating",
            "reloading",
        ):
            service.state, service.source = state, "systemctl is-active"
            return service
        service.detail = (result.error or (result.stderr or result.stdout).strip())[:200]
    running = sysfs.fabric_manager_process(root)
    if running is None:
        service.detail = service.detail or "no systemd and /proc unreadable"
        return service
    service.state = "active" if running else "not-running"
    service.source = "the process list; no systemd" if not systemctl.path else "the process list"
    return service


def _slurm_node(scontrol: str, node: str, run: Callable[..., CommandResult]) -> SlurmNodeFacts:
    result = run([scontrol, "show", "node", node, "-o"], 3.0)
    facts = SlurmNodeFacts(node=node)
    if not result.ok:
        lines = (result.stderr or result.stdout).strip().splitlines()
        facts.error = result.error or (lines[0][:200] if lines else f"exit {result.exit_code}")
        return facts
    gres = re.search(r"(?:^|\s)Gres=(\S*)", result.stdout)
    state = re.search(r"(?:^|\s)State=(\S*)", result.stdout)
    facts.gres = gres.group(1) if gres else None
    facts.state = state.group(1) if state else None
    return facts


def _read_gpus(
    root: Path, opts: CollectOptions, tools: dict[str, ToolInfo], want_nvlink: bool
) -> GpuFacts:
    nvml = opts.nvml
    if nvml is AUTO:
        nvml = load_pynvml() if opts.root in ("/", "") else None
    nvml_error = None
    if nvml is not None:
        facts = read_nvml(nvml)
        if facts.readable or facts.permission_denied:
            return facts
        nvml_error = facts.error
    else:
        nvml_error = "NVML: nvidia-ml-py not installed" if opts.root in ("/", "") else None
    smi = tools.get("nvidia-smi")
    if smi is None or smi.path is None:
        reasons = [r for r in (nvml_error, "nvidia-smi: not found on PATH") if r]
        return GpuFacts(source="none", error="; ".join(reasons))
    facts = read_nvidia_smi(smi.path, lambda argv: opts.run(argv, 10.0), want_nvlink=want_nvlink)
    if not facts.readable and nvml_error:
        facts.error = f"{nvml_error}; {facts.error}"
    return facts


def _kernel_driver(root: Path, facts: HostFacts) -> None:
    """Without NVML and nvidia-smi, what the kernel itself says of the driver: whether the
    nvidia module is loaded, and its version (/proc/driver/nvidia/version)."""
    gpu = facts.gpu
    gpu.driver_loaded = sysfs.nvidia_driver_loaded(root, facts.modules)
    version = sysfs.nvidia_kernel_driver_version(root)
    if version is not None:
        gpu.driver_loaded = True
        gpu.driver_version = version
        gpu.driver_version_source = "/proc/driver/nvidia/version"


def collect_host_facts(profile: Profile, opts: CollectOptions | None = None) -> HostFacts:
    """Read everything ``profile`` (and the options) need about this node."""
    opts = opts or CollectOptions()
    started = time.perf_counter()
    root = Path(opts.root or "/")
    facts = HostFacts(root=str(root))
    names, versions = _needed_tools(profile, opts)
    checks = {item.check for item in profile.requirements}

    with DaemonPool(4, name="facts") as pool:
        tools_future = pool.submit(probe_tools, names, root, versions=versions)
        _read_system(root, facts)
        _read_disks(root, profile, opts, facts)
        _read_instance_type(root, opts, facts)
        tools = tools_future.result()
        facts.tools = tools
        futures = _start_probes(pool, root, opts, facts, checks)
        facts.gpu = _read_gpus(root, opts, tools, want_nvlink="host.nvlink" in checks)
        if not facts.gpu.readable and not facts.gpu.permission_denied:
            _kernel_driver(root, facts)
        _finish_probes(futures, opts, facts)
        xids = futures["xid"].result() if "xid" in futures else None

    if "host.apptainer-nv" in checks:
        facts.apptainer_nvliblist, facts.apptainer_nvliblist_error = _nvliblist(
            root, tools.get("apptainer")
        )
    python = tools.get("python3")
    if python is not None and python.version:
        facts.python_version = python.version
    if opts.measure_bandwidth:
        from .bandwidth import measure

        facts.bandwidth = measure(facts.gpu.gpus)
    if opts.deep:
        facts.deep = _deep(root, opts, facts)
        facts.deep.xid = xids
    facts.collect_seconds = round(time.perf_counter() - started, 3)
    return facts


def _read_system(root: Path, facts: HostFacts) -> None:
    """The kernel, OS, CPU, memory, modules, PCI and InfiniBand devices, limits."""
    facts.hostname = sysfs.hostname(root)
    facts.kernel_release = sysfs.kernel_release(root)
    facts.os_release = sysfs.os_release(root)
    facts.cpu = sysfs.cpu_info(root)
    mem = sysfs.meminfo(root)
    facts.mem_total_bytes = mem.get("MemTotal")
    facts.mem_available_bytes = mem.get("MemAvailable")
    loaded = sysfs.modules(root)
    if loaded is not None:
        facts.modules = sorted(set(loaded) | sysfs.builtin_modules(root))
    facts.cmdline = sysfs.cmdline(root)
    facts.iommu_group_count = sysfs.iommu_group_count(root)
    devices, facts.pci_error = sysfs.pci_scan(root)
    facts.pci_devices = devices or []
    facts.infiniband_devices = sysfs.infiniband_devices(root)
    facts.uverbs_devices = sysfs.uverbs_devices(root)
    facts.cgroup = sysfs.cgroup(root)
    facts.memlock = sysfs.memlock(root)
    facts.user = sysfs.user(root)
    facts.kvm = sysfs.kvm(root)


def _read_disks(root: Path, profile: Profile, opts: CollectOptions, facts: HostFacts) -> None:
    """The asked paths (else the profile's) and the shared mounts."""
    mount_table = sysfs.mounts(root)
    disk_paths = list(opts.paths)
    if not disk_paths:
        for item in profile.for_check("host.disk-free"):
            disk_paths.extend(str(p) for p in item.params.get("paths", []))
    for path in dict.fromkeys([*disk_paths, *opts.shared_mounts]):
        facts.disks.append(sysfs.disk(root, path, mount_table))


def _read_instance_type(root: Path, opts: CollectOptions, facts: HostFacts) -> None:
    """--instance-type, else HyperPod's resource_config.json, else (--imds) the metadata."""
    facts.resource_config = read_resource_config(root, facts.hostname)
    if opts.instance_type:
        facts.instance_type, facts.instance_type_source = opts.instance_type, "--instance-type"
    elif facts.resource_config and facts.resource_config.instance_type:
        facts.instance_type = facts.resource_config.instance_type
        facts.instance_type_source = "resource_config.json"
    elif opts.imds:
        found = imds_instance_type(opts.imds_url)
        if found:
            facts.instance_type, facts.instance_type_source = found, "instance metadata"
        else:
            facts.notes.append("--imds: the instance metadata service did not answer")


def _start_probes(
    pool: DaemonPool, root: Path, opts: CollectOptions, facts: HostFacts, checks: set[str]
) -> dict[str, Future[Any]]:
    """The slow command probes the checks need, started beside the GPU read."""
    tools = facts.tools
    futures: dict[str, Future[Any]] = {}
    if "host.fabric-manager" in checks:
        systemctl = tools.get("systemctl") or ToolInfo(name="systemctl")
        futures["fm"] = pool.submit(_fabric_manager, root, systemctl, opts.run)
    scontrol = tools.get("scontrol")
    if "host.slurm-gres" in checks and scontrol is not None and scontrol.path:
        node = (facts.hostname or "").split(".")[0]
        futures["slurm"] = pool.submit(_slurm_node, scontrol.path, node, opts.run)
    smi = tools.get("nvidia-smi")
    if "host.nvidia-smi" in checks and smi is not None and smi.path:
        futures["smi"] = pool.submit(opts.run, [smi.path, "-L"], 10.0)
    if opts.dcgm and tools.get("dcgmi") and tools["dcgmi"].path:
        from .dcgm import run_diag

        futures["dcgm"] = pool.submit(
            run_diag, tools["dcgmi"].path, opts.run, level=opts.dcgm_level
        )
    if opts.deep:
        from .deep.xid import read_xids

        futures["xid"] = pool.submit(read_xids, root, tools, opts.run)
    return futures


def _finish_probes(futures: dict[str, Future[Any]], opts: CollectOptions, facts: HostFacts) -> None:
    """What the probes found, into ``facts`` (the XIDs are the deep step's)."""
    if "fm" in futures:
        facts.fabric_manager = futures["fm"].result()
    if "slurm" in futures:
        facts.slurm = futures["slurm"].result()
    if "smi" in futures:
        result: CommandResult = futures["smi"].result()
        info = facts.tools["nvidia-smi"]
        info.ran, info.exit_code = True, result.exit_code
        text = (result.stdout + "\n" + result.stderr).strip()
        info.output = "\n".join(text.splitlines()[:8])[:600]
        info.error = result.error or (
            None if result.exit_code == 0 else f"exited with {result.exit_code}"
        )
    if "dcgm" in futures:
        facts.dcgm = futures["dcgm"].result()
    elif opts.dcgm:
        from .models import DcgmFacts

        facts.dcgm = DcgmFacts(error="dcgmi not found on PATH")


def _deep(root: Path, opts: CollectOptions, facts: HostFacts) -> DeepFacts:
    """The --deep measurements (torch imported only here), on the live node's GPUs only."""
    from .deep.measure import run_deep

    if opts.root not in ("/", ""):
        return DeepFacts(budget_s=opts.deep_seconds, reason=f"--root {root}: a captured tree")
    if not facts.gpu.readable:
        reason = f"no GPU could be read ({facts.gpu.error})" if facts.gpu.error else "no GPU"
        return DeepFacts(budget_s=opts.deep_seconds, reason=reason)
    nvml = load_pynvml() if opts.nvml is AUTO else opts.nvml
    return run_deep(
        facts.gpu.gpus,
        facts.pci_devices,
        budget_s=opts.deep_seconds,
        nvml=nvml,
        progress=opts.deep_progress,
    )


def _nvliblist(root: Path, apptainer: ToolInfo | None) -> tuple[str | None, str | None]:
    """Apptainer's nvliblist.conf (what --nv binds), next to its install prefix or in /etc;
    (None, the places that could not be looked at) when none is found."""
    candidates = ["/etc/apptainer/nvliblist.conf", "/usr/local/etc/apptainer/nvliblist.conf"]
    if apptainer is not None and apptainer.path:
        prefix = Path(apptainer.path).parent.parent
        try:
            relative = "/" + str(prefix.relative_to(root)).lstrip("./")
        except ValueError:
            relative = str(prefix)
        candidates.insert(0, f"{relative.rstrip('/')}/etc/apptainer/nvliblist.conf")
    unknown = []
    for candidate in candidates:
        found = sysfs.is_file(sysfs.under(root, candidate))
        if found:
            return candidate, None
        if found is None:
            unknown.append(candidate)
    return None, (f"could not look at {', '.join(unknown)}" if unknown else None)
