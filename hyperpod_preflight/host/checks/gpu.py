"""GPU checks: count, driver, compute capability, memory health (ECC, row remapping), PCIe
link, persistence mode, NVLink, nvidia-smi itself, and host memory against GPU memory. The
per-GPU checks give one finding per GPU (``gpu0 (0000:00:06.0)``)."""

from __future__ import annotations

from typing import Any

from ...registry import HostContext, check
from ...results import Outcome, Severity, passed, skipped, unknown, warned
from ...shell import command
from ..commands import version_at_least
from ..instance_types import Expectation
from ..models import GpuInfo, HostFacts
from ..profiles import Requirement
from ._common import (
    REPLACE_NODE,
    expectation,
    facts,
    judged,
    missing_field,
    no_gpu_outcomes,
    not_in_profile,
    per_gpu,
    requirement,
    source_name,
)
from ._counts import ExpectedCount, expected_count

DRIVER_INSTALL = (
    "install a current NVIDIA datacenter driver (Ubuntu: sudo apt-get install -y "
    "nvidia-driver-570-server && sudo reboot; HyperPod: use the current HyperPod DLAMI)"
)


DRIVER_MISSING = (
    "load it: sudo modprobe nvidia; if that fails, sudo dmesg | grep -i NVRM and " + DRIVER_INSTALL
)
NVML_INSTALL = (
    "install nvidia-ml-py (pip install nvidia-ml-py) or put nvidia-smi on PATH; if NVML "
    "reports a driver/library version mismatch, reboot to load the installed driver"
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@check("host.gpu-count", "GPU count matches the instance type", Severity.HIGH, needs_aws=False)
def gpu_count(ctx: HostContext) -> list[Outcome]:
    """Driver-visible GPUs reach the type's count or profile minimum; fewer FAIL, extra WARN."""
    req = requirement(ctx, "host.gpu-count")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    return judge_gpu_count(req, host, expected_count(req.threshold, "gpus", expectation(ctx), host))


def judge_gpu_count(req: Requirement, host: HostFacts, expected: ExpectedCount) -> list[Outcome]:
    """host.gpu-count's finding: the GPUs ``host`` shows against ``expected``."""
    on_bus = len(host.pci_gpus)
    seen = len(host.gpu.gpus) if host.gpu.readable else 0
    details: dict[str, Any] = {"driver_visible": seen, "pci_bus": on_bus, "source": host.gpu.source}
    bus = f"{on_bus} on the PCI bus"
    if host.pci_error:
        details["pci_error"] = host.pci_error
        bus = f"{on_bus} found on the PCI bus, which could not be read ({host.pci_error})"
    want = expected.want
    if want is None:
        if not expected.from_instance_type:
            return [unknown("gpus", f"gpu-count {expected.why_unknown}")]
        return [
            unknown(
                "gpus",
                f"could not tell the expected GPU count: {expected.why_unknown}; "
                f"{_plural(seen, 'GPU')} visible to the driver, {bus}",
                "pass --instance-type ml.p5.48xlarge, or --require gpu-count=N",
                **details,
            )
        ]
    if expected.from_instance_type and expected.accelerator == "neuron":
        return [
            skipped(
                "gpus",
                f"{expected.instance_type} has Neuron (Trainium) accelerators, not NVIDIA GPUs",
            )
        ]
    if host.gpu.permission_denied:
        return [
            unknown(
                "gpus",
                f"could not tell: {host.gpu.error}",
                "run as a user allowed to open /dev/nvidia*",
                **details,
            )
        ]
    if not host.gpu.readable and (on_bus or host.pci_error):
        return _count_without_gpu_list(req, host, want, expected.label, bus, details)
    label = expected.label
    if seen < want:
        extra = (
            f"; {on_bus} on the PCI bus, so {on_bus - seen} the driver cannot use"
            if on_bus > seen
            else ""
        )
        return [
            judged(
                req,
                "gpus",
                f"{_plural(seen, 'GPU')} visible to the driver, {label}{extra}",
                "nvidia-smi -L; sudo dmesg | grep -i -e NVRM -e Xid (a GPU "
                f"that fell off the bus needs a reboot or a new node); {REPLACE_NODE}",
                expected=want,
                **details,
            )
        ]
    if expected.from_instance_type and seen > want:
        return [
            warned(
                "gpus",
                f"{_plural(seen, 'GPU')} visible, more than the {want} of "
                f"{expected.instance_type}: is --instance-type right?",
                **details,
            )
        ]
    return [
        passed(
            "gpus",
            f"{_plural(seen, 'GPU')} visible to the driver ({label})",
            expected=want,
            **details,
        )
    ]


def _count_without_gpu_list(
    req: Requirement, host: HostFacts, want: int, label: str, bus: str, details: dict[str, Any]
) -> list[Outcome]:
    """host.gpu-count when neither NVML nor nvidia-smi gave a GPU list, judged from the PCI
    bus (GPUs on it, or the bus itself unreadable)."""
    on_bus = len(host.pci_gpus)
    if on_bus and host.gpu.driver_loaded is False:
        return [
            judged(
                req,
                "gpus",
                f"{_plural(on_bus, 'NVIDIA GPU')} on the PCI bus but none "
                f"usable: the nvidia driver is not loaded ({host.gpu.error}); "
                f"expected {want}",
                DRIVER_MISSING,
                **details,
            )
        ]
    if host.pci_error:
        # Neither the driver nor the bus could be read: "0 GPUs" would be a guess.
        return [
            unknown(
                "gpus",
                f"could not tell: no GPU list from the driver ({host.gpu.error}) and "
                f"{bus}; {label}",
                "run as a user that may read /sys/bus/pci (and /dev/nvidia*); " + NVML_INSTALL,
                expected=want,
                **details,
            )
        ]
    # The driver is loaded (or that cannot be told) but neither NVML nor nvidia-smi can
    # be asked. GPUs bound to the nvidia driver on the PCI bus are only a lower bound of
    # trouble: a GPU that fell off the bus (Xid 79) or failed RM initialisation stays
    # bound, so counting bindings as "visible to the driver" could PASS a broken node.
    # A demanding user wants no false PASS and no false FAIL: fewer bound GPUs than
    # expected is a fact read from sysfs (FAIL); enough bound GPUs is UNKNOWN until
    # NVML can confirm the driver really uses them.
    bound = sum(1 for d in host.pci_gpus if d.driver == "nvidia")
    details["bound_to_nvidia"] = bound
    if bound < want:
        return [
            judged(
                req,
                "gpus",
                f"{bound} of {_plural(on_bus, 'NVIDIA GPU')} on the PCI bus bound "
                f"to the nvidia driver, {label} (NVML/nvidia-smi unusable: "
                f"{host.gpu.error})",
                "ls -l /sys/bus/pci/devices/*/driver; sudo dmesg | grep -i -e NVRM "
                f"-e Xid; {REPLACE_NODE}",
                expected=want,
                **details,
            )
        ]
    return [
        unknown(
            "gpus",
            f"could not tell how many GPUs the driver can use: NVML and nvidia-smi "
            f"unusable ({host.gpu.error}); {bound} of "
            f"{_plural(on_bus, 'NVIDIA GPU')} on the PCI bus bound to the nvidia "
            f"driver ({label})",
            NVML_INSTALL,
            expected=want,
            **details,
        )
    ]


@check("host.driver-version", "NVIDIA driver recent enough", Severity.HIGH, needs_aws=False)
def driver_version(ctx: HostContext) -> list[Outcome]:
    """The NVIDIA driver is loaded and at least the profile's version; older or unloaded FAILs."""
    req = requirement(ctx, "host.driver-version")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    minimum = str(req.threshold)
    via = ""
    if not host.gpu.readable:
        if host.gpu.permission_denied:
            return [unknown("driver", f"could not tell: {host.gpu.error}")]
        if host.gpu.driver_version and host.gpu.driver_version_source:
            # NVML and nvidia-smi are unusable, but the kernel says which driver is loaded:
            # that is enough to judge the version (the GPUs themselves stay unknown).
            via = (
                f" (from {host.gpu.driver_version_source}; NVML/nvidia-smi unusable: "
                f"{host.gpu.error})"
            )
        elif host.pci_gpus:
            gpus = _plural(len(host.pci_gpus), "NVIDIA GPU")
            if host.gpu.driver_loaded is False:
                return [
                    judged(
                        req,
                        "driver",
                        f"{gpus} on the PCI bus but the nvidia driver is not loaded (no "
                        f"nvidia in /proc/modules, no /proc/driver/nvidia; {host.gpu.error})",
                        DRIVER_MISSING,
                    )
                ]
            loaded = (
                "the nvidia kernel module is loaded but its version could not be read "
                "(/proc/driver/nvidia/version)"
                if host.gpu.driver_loaded
                else "whether the nvidia driver is loaded could not be read (/proc/modules, "
                "/proc/driver/nvidia)"
            )
            return [
                unknown(
                    "driver",
                    f"could not tell: {gpus} on the PCI bus; {loaded}; NVML and "
                    f"nvidia-smi unusable ({host.gpu.error})",
                    NVML_INSTALL,
                )
            ]
        elif host.pci_error:
            return [
                unknown(
                    "driver",
                    f"could not tell whether this host has NVIDIA GPUs: the PCI bus could "
                    f"not be read ({host.pci_error}) and NVML/nvidia-smi unusable "
                    f"({host.gpu.error})",
                    "run as a user that may read /sys/bus/pci; " + NVML_INSTALL,
                )
            ]
        else:
            return [skipped("driver", "no NVIDIA GPU on this host")]
    version = host.gpu.driver_version
    if not version:
        return [unknown("driver", f"could not tell: {source_name(host)} gave no driver version")]
    try:
        ok = version_at_least(version, minimum)
    except ValueError:
        return [unknown("driver", f"could not compare driver version {version!r}")]
    cuda = f"; CUDA {host.gpu.cuda_driver_version}" if host.gpu.cuda_driver_version else ""
    if not ok:
        return [
            judged(
                req,
                "driver",
                f"driver {version} is older than {minimum}{cuda}{via}",
                DRIVER_INSTALL,
                version=version,
                minimum=minimum,
            )
        ]
    return [passed("driver", f"driver {version} (>= {minimum}){cuda}{via}", version=version)]


@check(
    "host.compute-capability", "GPU compute capability high enough", Severity.HIGH, needs_aws=False
)
def compute_capability(ctx: HostContext) -> list[Outcome]:
    """Each GPU's compute capability reaches the profile minimum; lower FAILs, unread UNKNOWN."""
    return per_gpu(ctx, "host.compute-capability", "the compute capability", _compute_capability)


def _compute_capability(req: Requirement, host: HostFacts, gpu: GpuInfo) -> Outcome:
    minimum = str(req.threshold)
    if gpu.compute_capability is None:
        return missing_field(host, gpu, "compute_capability")
    if not version_at_least(gpu.compute_capability, minimum):
        return judged(
            req,
            gpu.label,
            f"{gpu.name} has compute capability {gpu.compute_capability}, below {minimum}",
            "this GPU is too old for the workload: use an instance type with "
            "newer GPUs (p4d: 8.0, p5: 9.0)",
            cc=gpu.compute_capability,
        )
    return passed(
        gpu.label, f"{gpu.name}: compute capability {gpu.compute_capability} (>= {minimum})"
    )


@check("host.ecc", "ECC on, no uncorrectable errors", Severity.HIGH, needs_aws=False)
def ecc(ctx: HostContext) -> list[Outcome]:
    """Each GPU has ECC on, no uncorrectable error since driver load (FAIL); older ones WARN."""
    return per_gpu(ctx, "host.ecc", "ECC", _ecc)


def _ecc(req: Requirement, host: HostFacts, gpu: GpuInfo) -> Outcome:
    i = gpu.index
    if gpu.ecc_enabled is None:
        return missing_field(host, gpu, "ecc_enabled")
    if not gpu.ecc_enabled:
        later = " (enabled after the next GPU reset)" if gpu.ecc_pending_enabled else ""
        return judged(
            req, gpu.label, f"ECC is disabled{later}", f"sudo nvidia-smi -i {i} -e 1 && sudo reboot"
        )
    if gpu.ecc_uncorrected_volatile:
        return judged(
            req,
            gpu.label,
            f"{gpu.ecc_uncorrected_volatile} uncorrectable ECC error(s) since the driver loaded",
            f"drain the node and reset the GPU (sudo nvidia-smi -i {i} -r, or "
            f"reboot), then re-run; if they return, {REPLACE_NODE}",
            volatile=gpu.ecc_uncorrected_volatile,
        )
    if gpu.ecc_uncorrected_aggregate:
        return warned(
            gpu.label,
            f"ECC on; {gpu.ecc_uncorrected_aggregate} uncorrectable "
            "error(s) in the GPU's lifetime count, none since the driver "
            "loaded (see host.row-remap)",
            f"watch: nvidia-smi -q -i {i} -d ECC,ROW_REMAPPER",
            Severity.MEDIUM,
            aggregate=gpu.ecc_uncorrected_aggregate,
        )
    if gpu.ecc_uncorrected_volatile is None and "ecc_uncorrected_volatile" in gpu.errors:
        # ECC is on but the error count could not be read (a GPU lost mid-run, an NVML
        # error): that is not a pass.
        return missing_field(host, gpu, "ecc_uncorrected_volatile")
    counts = "" if gpu.ecc_uncorrected_volatile is None else ", 0 uncorrectable errors"
    return passed(gpu.label, f"ECC enabled{counts}")


@check("host.row-remap", "No pending row remaps or retired pages", Severity.HIGH, needs_aws=False)
def row_remap(ctx: HostContext) -> list[Outcome]:
    """No GPU has a failed or pending row remap or a pending page retirement; any FAILs."""
    return per_gpu(ctx, "host.row-remap", "row remapping", _row_remap)


def _row_remap(req: Requirement, host: HostFacts, gpu: GpuInfo) -> Outcome:
    if gpu.remap_failure:
        return judged(
            req,
            gpu.label,
            "row remapping failed: the GPU has run out of spare memory rows",
            REPLACE_NODE,
            severity=Severity.CRITICAL,
        )
    if gpu.remap_pending or gpu.retired_pages_pending:
        what = "a row remap" if gpu.remap_pending else "a page retirement"
        return judged(
            req,
            gpu.label,
            f"{what} is pending until the GPU is reset",
            f"drain the node, then sudo nvidia-smi -i {gpu.index} -r (or reboot)",
        )
    known = [
        f
        for f in ("remap_pending", "remap_failure", "retired_pages_pending")
        if getattr(gpu, f) is not None
    ]
    if not known:
        return missing_field(host, gpu, "remap_pending")
    remapped = (
        f"; {gpu.remapped_rows_uncorrectable} rows remapped for uncorrectable errors"
        if gpu.remapped_rows_uncorrectable
        else ""
    )
    return passed(
        gpu.label,
        f"nothing pending ({', '.join(k.replace('_', ' ') for k in known)}: no){remapped}",
    )


@check("host.pcie-link", "GPU PCIe link at full width and speed", Severity.MEDIUM, needs_aws=False)
def pcie_link(ctx: HostContext) -> list[Outcome]:
    """Each GPU's PCIe link is at full width (narrower FAILs) and generation (lower WARNs)."""
    return per_gpu(ctx, "host.pcie-link", "the PCIe link", _pcie_link)


def _pcie_link(req: Requirement, host: HostFacts, gpu: GpuInfo) -> Outcome:
    fields = ("pcie_gen_current", "pcie_gen_max", "pcie_width_current", "pcie_width_max")
    values = [getattr(gpu, f) for f in fields]
    for field, value in zip(fields, values, strict=True):
        if value is None:
            return missing_field(host, gpu, field)
    gen, gen_max, width, width_max = (int(v) for v in values)
    link = f"PCIe Gen{gen} x{width} (max Gen{gen_max} x{width_max})"
    bus = gpu.pci_bus_id or "<bus id>"
    if width < width_max:
        return judged(
            req,
            gpu.label,
            f"{link}: the link trained at a lower width",
            command("sudo", "lspci", "-vv", "-s", bus)
            + f" | grep -e LnkCap -e LnkSta (a seating or riser fault); {REPLACE_NODE}",
            gen=gen,
            width=width,
        )
    if gen < gen_max:
        return warned(
            gpu.label,
            f"{link}: below the maximum generation (GPUs lower it when idle; re-check under load)",
            f"nvidia-smi -q -i {gpu.index} -d PERFORMANCE,PCIE while a job "
            "runs; if it stays low, reboot or replace the node",
            gen=gen,
            width=width,
        )
    return passed(gpu.label, link)


@check("host.persistence-mode", "GPU persistence mode on", Severity.MEDIUM, needs_aws=False)
def persistence_mode(ctx: HostContext) -> list[Outcome]:
    """Each GPU has persistence mode on; off FAILs, unreadable is UNKNOWN."""
    return per_gpu(ctx, "host.persistence-mode", "persistence mode", _persistence_mode)


def _persistence_mode(req: Requirement, host: HostFacts, gpu: GpuInfo) -> Outcome:
    if gpu.persistence_mode is None:
        return missing_field(host, gpu, "persistence_mode")
    if not gpu.persistence_mode:
        return judged(
            req,
            gpu.label,
            "persistence mode is off (each job pays driver start-up; NCCL start can time out)",
            "sudo systemctl enable --now nvidia-persistenced "
            f"(or: sudo nvidia-smi -i {gpu.index} -pm 1)",
        )
    return passed(gpu.label, "persistence mode on")


@check("host.nvlink", "All NVLinks up", Severity.HIGH, needs_aws=False)
def nvlink(ctx: HostContext) -> list[Outcome]:
    """Every NVLink of each GPU is up (down FAILs); none on an NVSwitch instance type WARNs."""
    expect = expectation(ctx)

    def judge(req: Requirement, host: HostFacts, gpu: GpuInfo) -> Outcome:
        return _nvlink(req, host, gpu, expect)

    return per_gpu(ctx, "host.nvlink", "NVLink", judge)


def _nvlink(req: Requirement, host: HostFacts, gpu: GpuInfo, expect: Expectation | None) -> Outcome:
    links = gpu.nvlink_active
    if not links:
        if links is None and "nvlink_active" in gpu.errors:
            return missing_field(host, gpu, "nvlink_active")
        if expect is not None and expect.nvswitch:
            return warned(
                gpu.label,
                f"no NVLink reported, yet {expect.instance_type} "
                "links its GPUs through NVSwitch: is this that instance type?",
                "nvidia-smi nvlink -s; nvidia-smi topo -m",
            )
        return skipped(gpu.label, "this GPU has no NVLink (NVML: not supported)")
    down = [str(n) for n, up in enumerate(links) if not up]
    if down:
        return judged(
            req,
            gpu.label,
            f"NVLink {', '.join(down)} down ({len(links) - len(down)}/{len(links)} up)",
            f"nvidia-smi nvlink -s -i {gpu.index}; reset the GPUs (sudo "
            f"nvidia-smi -r) or reboot; if links stay down, {REPLACE_NODE}",
            down=down,
        )
    return passed(gpu.label, f"{len(links)}/{len(links)} NVLinks up")


@check("host.nvidia-smi", "nvidia-smi runs", Severity.HIGH, needs_aws=False)
def nvidia_smi(ctx: HostContext) -> list[Outcome]:
    """nvidia-smi is on PATH and `nvidia-smi -L` lists a GPU; missing, failing or empty FAILs."""
    req = requirement(ctx, "host.nvidia-smi")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    tool = host.tool("nvidia-smi")
    if not tool.found:
        return [judged(req, "nvidia-smi", "nvidia-smi is not on PATH", DRIVER_INSTALL)]
    if not tool.ran:
        return [unknown("nvidia-smi", "could not tell: nvidia-smi was not run")]
    if tool.error:
        first = tool.output.splitlines()[0] if tool.output else tool.error
        return [
            judged(
                req,
                "nvidia-smi",
                f"nvidia-smi -L failed: {first}",
                DRIVER_INSTALL,
                exit_code=tool.exit_code,
            )
        ]
    count = sum(1 for line in tool.output.splitlines() if line.startswith("GPU "))
    if count == 0:
        return [judged(req, "nvidia-smi", "nvidia-smi -L lists no GPU", DRIVER_INSTALL)]
    return [passed("nvidia-smi", f"nvidia-smi -L lists {_plural(count, 'GPU')}")]


@check(
    "host.host-ram-vs-vram", "Host memory covers the GPU memory", Severity.MEDIUM, needs_aws=False
)
def host_ram_vs_vram(ctx: HostContext) -> list[Outcome]:
    """Host memory is at least the profile's multiple of all GPU memory; less FAILs."""
    req = requirement(ctx, "host.host-ram-vs-vram")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    early = no_gpu_outcomes(host, "the host/GPU memory ratio")
    if early is not None:
        return early
    sizes = [g.memory_total_mib for g in host.gpu.gpus]
    if None in sizes or host.mem_total_bytes is None:
        return [unknown("memory", "could not tell: GPU memory or MemTotal unreadable")]
    vram = sum(s for s in sizes if s is not None) * 1024 * 1024
    ratio = float(req.threshold)
    have = host.mem_total_bytes / vram
    text = (
        f"host memory {host.mem_total_bytes / 2**30:.0f} GiB is {have:.2f}x the "
        f"{vram / 2**30:.0f} GiB of GPU memory"
    )
    if have < ratio:
        return [
            judged(
                req,
                "memory",
                f"{text}; needs {ratio:g}x to hold checkpoint images",
                f"use a host with at least {ratio * vram / 2**30:.0f} GiB of memory",
                ratio=round(have, 2),
            )
        ]
    return [passed("memory", f"{text} (>= {ratio:g}x)", ratio=round(have, 2))]
