"""GPU inventory of a node and a ready PCIe-passthrough snippet, as YAML.

The inventory joins what the driver reports (index, name, memory) with what the PCI bus
shows (vendor/device id, IOMMU group and its other functions, bound driver), so GPUs the
driver cannot see are listed too. The YAML is written with PyYAML's safe dumper (imported
only here), multi-line strings such as the modprobe.d file as literal blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import sysfs
from .models import HostFacts, PciDevice

BRIDGE_CLASS = "0x0604"


@dataclass(kw_only=True)
class GroupMember:
    pci_address: str
    vendor_id: str | None = None
    device_id: str | None = None
    class_code: str | None = None
    driver: str | None = None


@dataclass(kw_only=True)
class InventoryGpu:
    index: int | None = None
    """NVML index; None: driver cannot see it."""
    name: str | None = None
    uuid: str | None = None
    pci_address: str
    vendor_id: str | None = None
    device_id: str | None = None
    iommu_group: int | None = None
    iommu_group_members: list[GroupMember] = field(default_factory=list)
    driver: str | None = None
    memory_mib: int | None = None
    numa_node: int | None = None


@dataclass(kw_only=True)
class Inventory:
    host: str | None = None
    driver_version: str | None = None
    iommu_enabled: bool | None = None
    cmdline: str | None = None
    gpus: list[InventoryGpu] = field(default_factory=list)


def _member(root: Path, address: str) -> GroupMember:
    device = sysfs.pci_device(root, address)
    if device is None:
        return GroupMember(pci_address=address)
    return GroupMember(
        pci_address=address,
        vendor_id=device.vendor_id,
        device_id=device.device_id,
        class_code=device.class_code,
        driver=device.driver,
    )


def build_inventory(facts: HostFacts) -> Inventory:
    """Every NVIDIA GPU of the node, from the PCI bus and the driver."""
    root = Path(facts.root)
    by_bus = {g.pci_bus_id: g for g in facts.gpu.gpus if g.pci_bus_id}
    pci: dict[str, PciDevice] = {d.address: d for d in facts.pci_gpus}
    addresses = sorted(set(pci) | set(by_bus))
    gpus = []
    for address in addresses:
        device = pci.get(address)
        gpu = by_bus.get(address)
        item = InventoryGpu(pci_address=address)
        if gpu is not None:
            item.index, item.name, item.uuid = gpu.index, gpu.name, gpu.uuid
            item.memory_mib = gpu.memory_total_mib
        if device is not None:
            item.vendor_id, item.device_id = device.vendor_id, device.device_id
            item.iommu_group, item.driver = device.iommu_group, device.driver
            item.numa_node = device.numa_node
            if device.iommu_group is not None:
                item.iommu_group_members = [
                    _member(root, a) for a in sysfs.iommu_group_members(root, device.iommu_group)
                ]
        gpus.append(item)
    gpus.sort(key=lambda g: (g.index is None, g.index if g.index is not None else 0, g.pci_address))
    count = facts.iommu_group_count
    return Inventory(
        host=facts.hostname,
        driver_version=facts.gpu.driver_version,
        iommu_enabled=None if count is None else count > 0,
        cmdline=facts.cmdline,
        gpus=gpus,
    )


def _hex(value: str | None) -> str:
    return (value or "0x0000").lower().removeprefix("0x")


def _hostdev(address: str) -> str:
    domain, bus, rest = address.split(":")
    slot, function = rest.split(".")
    return (
        "<hostdev mode='subsystem' type='pci' managed='yes'><source><address "
        f"domain='0x{domain}' bus='0x{bus}' slot='0x{slot}' function='0x{function}'/>"
        "</source></hostdev>"
    )


def passthrough(inventory: Inventory, cpu_vendor: str | None) -> dict[str, Any]:
    """The vfio-pci ids, kernel command line and libvirt <hostdev> entries for passing every
    GPU (and the other functions of its IOMMU group) through to VMs."""
    ids: list[str] = []
    devices = []
    warnings = []
    for gpu in inventory.gpus:
        members = [m for m in gpu.iommu_group_members if m.class_code != BRIDGE_CLASS] or [
            GroupMember(
                pci_address=gpu.pci_address, vendor_id=gpu.vendor_id, device_id=gpu.device_id
            )
        ]
        for member in members:
            pair = f"{_hex(member.vendor_id)}:{_hex(member.device_id)}"
            if member.vendor_id and pair not in ids:
                ids.append(pair)
        foreign = [m.pci_address for m in members if m.vendor_id and m.vendor_id != "0x10de"]
        if foreign:
            warnings.append(
                f"{gpu.pci_address}: IOMMU group {gpu.iommu_group} also holds "
                f"non-NVIDIA devices {', '.join(foreign)}; they must pass through "
                "together (or use an ACS override)"
            )
        devices.append(
            {
                "pci_address": gpu.pci_address,
                "iommu_group": gpu.iommu_group,
                "group_members": [m.pci_address for m in members],
                "libvirt_hostdev": [_hostdev(m.pci_address) for m in members],
            }
        )
    if inventory.iommu_enabled is False:
        warnings.append(
            "the IOMMU is off (no /sys/kernel/iommu_groups): enable VT-d/AMD-Vi "
            "and add the kernel arguments below first"
        )
    iommu_arg = (
        "amd_iommu=on"
        if (cpu_vendor or "").lower().startswith("authenticamd")
        else "intel_iommu=on"
    )
    joined = ",".join(ids)
    return {
        "vfio_pci_ids": joined,
        "kernel_cmdline": f"{iommu_arg} iommu=pt vfio-pci.ids={joined}" if ids else "",
        "modprobe_d_vfio_conf": (
            f"options vfio-pci ids={joined}\nsoftdep nvidia pre: vfio-pci" if ids else ""
        ),
        "devices": devices,
        "warnings": warnings,
    }


def inventory_yaml(inventory: Inventory, cpu_vendor: str | None, tool_version: str) -> str:
    document = {
        "host": inventory.host,
        "driver_version": inventory.driver_version,
        "iommu_enabled": inventory.iommu_enabled,
        "gpus": [
            {
                "index": g.index,
                "name": g.name,
                "uuid": g.uuid,
                "pci_address": g.pci_address,
                "vendor_id": g.vendor_id,
                "device_id": g.device_id,
                "iommu_group": g.iommu_group,
                "driver": g.driver,
                "memory_mib": g.memory_mib,
                "numa_node": g.numa_node,
            }
            for g in inventory.gpus
        ],
        "passthrough": passthrough(inventory, cpu_vendor),
    }
    header = (
        f"# GPU inventory written by hp-preflight {tool_version}.\n"
        "# passthrough: bind every listed function to vfio-pci (kernel_cmdline, or the "
        "modprobe.d file),\n# then give a VM the libvirt_hostdev entries of its GPU.\n"
    )
    import yaml  # PyYAML; imported here so the host checks start without it

    class _Dumper(yaml.SafeDumper):
        """Multi-line strings (the modprobe.d file) as literal blocks, ready to paste."""

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _str)
    body: str = yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000
    )
    return header + body
