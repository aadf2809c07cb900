"""Checks of a GPU-passthrough workstation: VT-x/AMD-V, IOMMU, /dev/kvm, group membership."""

from __future__ import annotations

from ...registry import HostContext, check
from ...results import Outcome, Severity, passed, unknown
from ._common import facts, judged, not_in_profile, requirement


@check("host.virtualization", "CPU virtualisation (VT-x/AMD-V)", Severity.HIGH, needs_aws=False)
def virtualization(ctx: HostContext) -> list[Outcome]:
    """The CPU has the vmx or svm flag (VT-x/AMD-V); none FAILs, unreadable is UNKNOWN."""
    req = requirement(ctx, "host.virtualization")
    if req is None:
        return not_in_profile(ctx)
    cpu = facts(ctx).cpu
    if cpu.logical_cpus is None:
        return [unknown("cpu", "could not tell: /proc/cpuinfo unreadable")]
    if cpu.virtualization_flag:
        name = "VT-x" if cpu.virtualization_flag == "vmx" else "AMD-V"
        return [passed("cpu", f"{name} available ({cpu.virtualization_flag} flag)")]
    if cpu.hypervisor:
        return [
            judged(
                req,
                "cpu",
                "no vmx/svm flag: this is a virtual machine without nested virtualisation",
                "enable nested virtualisation on the hypervisor, or use a bare-metal host",
            )
        ]
    return [
        judged(
            req,
            "cpu",
            "no vmx/svm flag: hardware virtualisation is off or absent",
            "enable Intel VT-x / AMD SVM in the firmware (BIOS/UEFI) setup, then reboot",
        )
    ]


@check("host.iommu", "IOMMU enabled with groups", Severity.HIGH, needs_aws=False)
def iommu(ctx: HostContext) -> list[Outcome]:
    """The kernel lists IOMMU groups (GPU passthrough); none FAILs, unreadable is UNKNOWN."""
    req = requirement(ctx, "host.iommu")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    groups = host.iommu_group_count
    if groups is None:
        return [unknown("iommu", "could not tell: /sys/kernel/iommu_groups unreadable")]
    cmdline = host.cmdline or ""
    if groups > 0:
        return [passed("iommu", f"{groups} IOMMU groups", cmdline=cmdline)]
    amd = (host.cpu.vendor or "").lower().startswith("authenticamd")
    arg = "amd_iommu=on iommu=pt" if amd else "intel_iommu=on iommu=pt"
    unit = "AMD-Vi/IOMMU" if amd else "VT-d"
    return [
        judged(
            req,
            "iommu",
            "no IOMMU groups: the IOMMU is off, so GPUs cannot be passed through",
            f"enable {unit} in the firmware setup; add {arg} to "
            "GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub; sudo update-grub && sudo "
            "reboot",
            cmdline=cmdline,
        )
    ]


@check("host.kvm", "/dev/kvm usable", Severity.HIGH, needs_aws=False)
def kvm(ctx: HostContext) -> list[Outcome]:
    """/dev/kvm exists and this user can open it; otherwise the check FAILs."""
    req = requirement(ctx, "host.kvm")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    if not host.kvm.exists:
        vendor = "kvm_amd" if (host.cpu.virtualization_flag == "svm") else "kvm_intel"
        return [
            judged(
                req,
                "/dev/kvm",
                "/dev/kvm does not exist",
                f"sudo modprobe {vendor} (needs VT-x/AMD-V, see host.virtualization)",
            )
        ]
    if not host.kvm.accessible:
        return [
            judged(
                req,
                "/dev/kvm",
                "/dev/kvm exists but this user cannot open it",
                "sudo usermod -aG kvm $USER, then log in again",
            )
        ]
    return [passed("/dev/kvm", "/dev/kvm present and usable")]


@check("host.groups", "User in the needed groups", Severity.LOW, needs_aws=False)
def groups(ctx: HostContext) -> list[Outcome]:
    """The user is root or in each group the profile lists; missing FAILs, unreadable UNKNOWN."""
    req = requirement(ctx, "host.groups")
    if req is None:
        return not_in_profile(ctx)
    user = facts(ctx).user
    wanted = [str(g) for g in (req.threshold or [])]
    if user.uid == 0:
        return [passed(group, "root needs no group membership") for group in wanted]
    if user.groups is None or user.uid is None:
        why = user.error or "/proc/self/status unreadable"
        return [unknown("groups", f"could not tell: {why}")]
    name = user.name or f"uid {user.uid}"
    out = []
    for group in wanted:
        if group in user.groups:
            out.append(passed(group, f"{name} is in {group}"))
        else:
            out.append(
                judged(
                    req,
                    group,
                    f"{name} is not in group {group}",
                    f"sudo usermod -aG {group} {user.name or '$USER'}, then log in again "
                    "(the group comes with its package: docker, libvirt, qemu-kvm)",
                )
            )
    return out
