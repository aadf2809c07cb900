"""Helpers shared by the host checks: the facts, the profile's requirement items, and the
FAIL-or-WARN choice that a requirement's level makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...registry import HostContext
from ...results import Outcome, Severity, failed, skipped, unknown, warned
from ..instance_types import Expectation
from ..models import GpuInfo, HostFacts
from ..profiles import Profile, Requirement

GB = 1_000_000_000
REPLACE_NODE = (
    "on HyperPod (Slurm) mark the node for replacement: sudo scontrol update node=$(hostname) "
    'state=fail reason="Action:Replace"'
)


def facts(ctx: HostContext) -> HostFacts:
    return ctx.host


def profile(ctx: HostContext) -> Profile:
    found = ctx.options.get("profile")
    if not isinstance(found, Profile):
        raise TypeError("host checks need ctx.options['profile']")
    return found


def requirements(ctx: HostContext, check_id: str) -> list[Requirement]:
    return profile(ctx).for_check(check_id)


def requirement(ctx: HostContext, check_id: str) -> Requirement | None:
    found = requirements(ctx, check_id)
    return found[0] if found else None


def not_in_profile(ctx: HostContext) -> list[Outcome]:
    return [skipped("-", f"not a requirement of profile {profile(ctx).name}")]


def expectation(ctx: HostContext) -> Expectation | None:
    found = ctx.options.get("expect")
    return found if isinstance(found, Expectation) else None


def judged(
    req: Requirement,
    resource: str,
    message: str,
    remediation: str,
    severity: Severity | None = None,
    **details: Any,
) -> Outcome:
    """FAIL for a required item, WARN for an optional one."""
    details.setdefault("requirement", req.id)
    if req.required:
        return failed(resource, message, remediation, severity, **details)
    return warned(resource, f"{message} (optional)", remediation, severity, **details)


def source_name(host: HostFacts) -> str:
    return {"nvml": "NVML", "nvidia-smi": "nvidia-smi", "nvidia-smi-xml": "nvidia-smi -q"}.get(
        host.gpu.source, host.gpu.source
    )


def missing_field(host: HostFacts, gpu: GpuInfo, field: str) -> Outcome:
    """SKIP when the GPU does not support ``field``, else UNKNOWN with the reason."""
    not_supported, reason = gpu.why_missing(field, source_name(host))
    if not_supported:
        return skipped(gpu.label, reason)
    hint = "" if host.gpu.source == "nvml" else "install nvidia-ml-py (pip install nvidia-ml-py)"
    return unknown(gpu.label, f"could not tell: {reason}", hint)


def no_gpu_outcomes(host: HostFacts, what: str) -> list[Outcome] | None:
    """Outcomes for a per-GPU check when no GPU can be judged; None when GPUs are readable."""
    if host.gpu.readable and host.gpu.gpus:
        return None
    if host.gpu.permission_denied:
        return [
            unknown(
                "gpus",
                f"could not tell {what}: {host.gpu.error} (this user may not open /dev/nvidia*)",
                "run as a member of the group owning /dev/nvidia*",
            )
        ]
    if not host.gpu.readable and not host.pci_gpus and host.pci_error:
        return [
            unknown(
                "gpus",
                f"could not tell {what}: the PCI bus could not be read ({host.pci_error}) "
                f"and the driver gave no GPU list ({host.gpu.error})",
                "run as a user that may read /sys/bus/pci; install nvidia-ml-py "
                "(pip install nvidia-ml-py) or put nvidia-smi on PATH",
            )
        ]
    if host.gpu.readable or not host.pci_gpus:
        return [skipped("gpus", f"no NVIDIA GPU on this host; {what} does not apply")]
    if host.gpu.driver_loaded:
        driver = (
            f"the nvidia driver {host.gpu.driver_version} is loaded"
            if host.gpu.driver_version
            else "the nvidia driver is loaded"
        )
        return [
            unknown(
                "gpus",
                f"could not tell {what}: {len(host.pci_gpus)} NVIDIA GPU(s) on the PCI bus "
                f"and {driver}, but neither NVML nor nvidia-smi could be used "
                f"({host.gpu.error})",
                "install nvidia-ml-py (pip install nvidia-ml-py) or put nvidia-smi on PATH",
            )
        ]
    return [
        unknown(
            "gpus",
            f"could not tell {what}: {len(host.pci_gpus)} NVIDIA GPU(s) on the "
            f"PCI bus but the driver cannot be read ({host.gpu.error}); see "
            "host.driver-version",
        )
    ]


def per_gpu(
    ctx: HostContext,
    check_id: str,
    what: str,
    judge: Callable[[Requirement, HostFacts, GpuInfo], Outcome],
) -> list[Outcome]:
    """A per-GPU check's findings: SKIP when ``check_id`` is not in the profile, the
    :func:`no_gpu_outcomes` when no GPU can be judged, else ``judge``'s one per GPU."""
    req = requirement(ctx, check_id)
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    early = no_gpu_outcomes(host, what)
    if early is not None:
        return early
    return [judge(req, host, gpu) for gpu in host.gpu.gpus]
