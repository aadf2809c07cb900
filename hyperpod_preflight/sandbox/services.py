"""What the config names that moto cannot build: the FSx file systems the cluster mounts and
the training plans its groups run on. Both are recorded on the :class:`~.build.Build` as the
AWS APIs describe them (botocore's output shapes), and :mod:`.answers` serves them.

FSx: every file system named by the config (``InstanceStorageConfigs[].FsxLustreConfig`` /
``FsxOpenZfsConfig``) or by the ``provisioning_parameters.json`` uploaded with the lifecycle
scripts (``fsx_dns_name`` with ``fsx_mountname``, ``fsx_openzfs_dns_name``), under the id its
DNS name holds, AVAILABLE, in the cluster's first subnet behind a network interface (built in
moto) in the cluster's security groups, which admit each other on every port.

Training plans: each ``TrainingPlanArn``, Active since yesterday for 14 days, reserving for
``hyperpod-cluster`` the instances of every group on it, in the zone of the cluster subnets.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import Build

# <fs-id>.fsx.<region>.amazonaws.com: the DNS name FSx gives a file system.
FSX_DNS = re.compile(r"^(fs-[0-9a-f]{8,17})\.fsx\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$")
PARAMS_FILE = "provisioning_parameters.json"


def _add(found: dict[str, dict[str, str]], dns: Any, kind: str, mount: Any = None) -> None:
    match = FSX_DNS.match(str(dns or "").strip())
    if match is None:
        return  # not a file system's DNS name: nothing to build (the checks say so)
    entry = found.setdefault(match.group(1), {"dns": str(dns).strip(), "kind": kind})
    if isinstance(mount, str) and mount:
        entry["mount"] = mount


def fsx_named(build: Build) -> dict[str, dict[str, str]]:
    """File-system id → its DNS name, kind (LUSTRE/OPENZFS) and Lustre mount name, for each
    file system the config or the uploaded parameters file names."""
    found: dict[str, dict[str, str]] = {}
    for group in build.config.get("InstanceGroups") or ():
        for storage in (group or {}).get("InstanceStorageConfigs") or ():
            if not isinstance(storage, dict):
                continue
            lustre = storage.get("FsxLustreConfig")
            if isinstance(lustre, dict):
                _add(found, lustre.get("DnsName"), "LUSTRE", lustre.get("MountName"))
            zfs = storage.get("FsxOpenZfsConfig")
            if isinstance(zfs, dict):
                _add(found, zfs.get("DnsName"), "OPENZFS")
    raw = (build.lifecycle_files or {}).get(PARAMS_FILE)
    try:
        params = json.loads(raw) if raw else {}
    except ValueError:
        params = {}  # the lifecycle checks report a parameters file that does not parse
    if isinstance(params, dict):
        _add(found, params.get("fsx_dns_name"), "LUSTRE", params.get("fsx_mountname"))
        _add(found, params.get("fsx_openzfs_dns_name"), "OPENZFS")
    return found


def build_file_systems(build: Build) -> None:
    """Each named FSx file system, as ``DescribeFileSystems`` describes it."""
    named = fsx_named(build)
    if not named or not build.subnet_ids:
        return
    ec2, region = build.client("ec2"), build.blueprint.region
    subnet = build.subnet_ids[0]
    for fs_id, entry in named.items():
        eni = ec2.create_network_interface(
            SubnetId=subnet,
            Groups=build.security_group_ids,
            Description=f"ENI for FSx file system {fs_id}",
        )["NetworkInterface"]["NetworkInterfaceId"]
        body: dict[str, Any] = {
            "OwnerId": build.account,
            "FileSystemId": fs_id,
            "FileSystemType": entry["kind"],
            "Lifecycle": "AVAILABLE",
            "StorageCapacity": 1200,
            "StorageType": "SSD",
            "VpcId": build.vpc_id,
            "SubnetIds": [subnet],
            "NetworkInterfaceIds": [eni],
            "DNSName": entry["dns"],
            "ResourceARN": f"arn:aws:fsx:{region}:{build.account}:file-system/{fs_id}",
        }
        if entry["kind"] == "LUSTRE":
            body["LustreConfiguration"] = {
                "DeploymentType": "PERSISTENT_2",
                "PerUnitStorageThroughput": 250,
                "MountName": entry.get("mount", "fsx"),
            }
        else:
            body["OpenZFSConfiguration"] = {"DeploymentType": "SINGLE_AZ_HA_2"}
        build.file_systems[fs_id] = body
        mount = f", mount name {entry['mount']}" if entry.get("mount") else ""
        build.note(f"FSx {entry['kind']} {fs_id} in {subnet} behind {eni}{mount}")


def build_training_plans(build: Build) -> None:
    """Each ``TrainingPlanArn``, as ``DescribeTrainingPlan`` describes it: Active, for
    ``hyperpod-cluster``, reserving every group's instances on it in the subnets' zone."""
    counts: dict[str, dict[str, int]] = {}
    for group in build.spec.instance_groups:
        if group.training_plan_arn and group.instance_type:
            per_type = counts.setdefault(str(group.training_plan_arn), {})
            per_type[group.instance_type] = per_type.get(group.instance_type, 0) + group.count
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = now - timedelta(days=1), now + timedelta(days=14)
    zone = f"{build.blueprint.region}a"
    for arn, per_type in counts.items():
        name = arn.rsplit("/", 1)[-1]
        summaries = [
            {
                "ReservedCapacityArn": (
                    f"arn:aws:sagemaker:{build.blueprint.region}:{build.account}:"
                    f"reserved-capacity/{name}-{i}"
                ),
                "InstanceType": itype,
                "TotalInstanceCount": count,
                "Status": "Active",
                "AvailabilityZone": zone,
                "DurationHours": 15 * 24,
                "StartTime": start,
                "EndTime": end,
            }
            for i, (itype, count) in enumerate(sorted(per_type.items()))
        ]
        total = sum(per_type.values())
        build.training_plans[name] = {
            "TrainingPlanArn": arn,
            "TrainingPlanName": name,
            "Status": "Active",
            "DurationHours": 15 * 24,
            "StartTime": start,
            "EndTime": end,
            "TotalInstanceCount": total,
            "AvailableInstanceCount": total,
            "InUseInstanceCount": 0,
            "TargetResources": ["hyperpod-cluster"],
            "ReservedCapacitySummaries": summaries,
        }
        build.note(f"training plan {name}: Active to {end:%Y-%m-%d}, {total} instances in {zone}")
