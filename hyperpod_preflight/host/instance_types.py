"""What a node of a given instance type should have: GPUs, EFA devices, NVSwitch.

The type comes from ``--instance-type``, else HyperPod's own resource config on the node
(``/opt/ml/config/resource_config.json``, a file read), else, only with ``--imds``, the
instance metadata service. Expectations come from :mod:`hyperpod_preflight.catalog` when it
knows the type, else from the small table below (FACTS.md figures).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import sysfs
from .models import ResourceConfigFacts

RESOURCE_CONFIG = "/opt/ml/config/resource_config.json"
IMDS_BASE = "http://169.254.169.254"


@dataclass(kw_only=True)
class Expectation:
    """What the instance type promises."""

    instance_type: str
    gpus: int
    efa_devices: int
    nvswitch: bool
    accelerator: str = "nvidia"
    source: str = "hp-preflight table"


# ec2 name: (NVIDIA GPUs, EFA devices, NVSwitch, accelerator)
_TABLE: dict[str, tuple[int, int, bool, str]] = {
    "p4d.24xlarge": (8, 4, True, "nvidia"),
    "p4de.24xlarge": (8, 4, True, "nvidia"),
    "p5.48xlarge": (8, 32, True, "nvidia"),
    "p5e.48xlarge": (8, 32, True, "nvidia"),
    "p5en.48xlarge": (8, 16, True, "nvidia"),
    "p6-b200.48xlarge": (8, 8, True, "nvidia"),
    "g5.48xlarge": (8, 1, False, "nvidia"),
    "g6e.48xlarge": (8, 4, False, "nvidia"),
    "trn1.32xlarge": (0, 8, False, "neuron"),
    "trn1n.32xlarge": (0, 16, False, "neuron"),
    "trn2.48xlarge": (0, 16, False, "neuron"),
}


def ec2_name(instance_type: str) -> str:
    name = instance_type.strip()
    return name[3:] if name.startswith("ml.") else name


def expectation(instance_type: str) -> Expectation | None:
    """Expected GPUs/EFA/NVSwitch of ``instance_type`` (``ml.`` optional); None if unknown."""
    name = ec2_name(instance_type)
    try:
        from .. import catalog
    except ImportError:  # pragma: no cover - the catalog is part of the package
        catalog = None  # type: ignore[assignment]
    if catalog is not None:
        info = catalog.lookup(name)
        if info is not None:
            nvidia = info.accelerator == "nvidia"
            return Expectation(
                instance_type=f"ml.{name}",
                gpus=info.accelerator_count if nvidia else 0,
                efa_devices=info.efa_interfaces,
                nvswitch=info.nvswitch,
                accelerator=info.accelerator,
                source=f"catalog ({info.source})",
            )
    row = _TABLE.get(name)
    if row is None:
        return None
    gpus, efa, nvswitch, accelerator = row
    return Expectation(
        instance_type=f"ml.{name}",
        gpus=gpus,
        efa_devices=efa,
        nvswitch=nvswitch,
        accelerator=accelerator,
    )


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _dicts(value: object) -> list[dict[str, object]]:
    """The objects of a JSON list; anything else (a number, a string, null) gives none."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def read_resource_config(root: Path, hostname: str | None) -> ResourceConfigFacts | None:
    """This node's group and instance type from HyperPod's resource config; None when the
    file is absent (not a HyperPod node). A file of any other shape is reported in
    ``error``, never raised."""
    path = sysfs.under(root, RESOURCE_CONFIG)
    try:
        path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, PermissionError):
            reason += " (needs root, or read access to /opt/ml/config)"
        return ResourceConfigFacts(path=RESOURCE_CONFIG, found=True, error=f"unreadable: {reason}")
    facts = ResourceConfigFacts(path=RESOURCE_CONFIG, found=True)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except PermissionError as exc:
        facts.error = f"unreadable: {exc.strerror or exc} (needs root)"
        return facts
    except (OSError, ValueError) as exc:
        facts.error = f"unreadable: {exc}"
        return facts
    except RecursionError:
        facts.error = "unreadable: JSON nested too deeply"
        return facts
    if not isinstance(data, dict):
        facts.error = "not a JSON object"
        return facts
    cluster = data.get("ClusterConfig")
    if isinstance(cluster, dict):
        facts.cluster_name = _text_or_none(cluster.get("ClusterName"))
    groups = _dicts(data.get("InstanceGroups"))
    addresses = sysfs.local_ipv4_addresses(root)
    host_ip = None
    if hostname and hostname.startswith("ip-"):
        host_ip = hostname.split(".")[0][3:].replace("-", ".")
    for group in groups:
        for instance in _dicts(group.get("Instances")):
            ip = _text_or_none(instance.get("CustomerIpAddress"))
            if ip and (ip in addresses or ip == host_ip):
                facts.group = _text_or_none(group.get("Name")) or _text_or_none(
                    group.get("InstanceGroupName")
                )
                facts.instance_type = _text_or_none(group.get("InstanceType"))
                facts.instance_id = _text_or_none(instance.get("InstanceId"))
                if facts.instance_type is None:
                    facts.error = "this node's group has no InstanceType string"
                return facts
    types = {t for g in groups if (t := _text_or_none(g.get("InstanceType")))}
    if len(types) == 1:
        facts.instance_type = types.pop()
    elif not groups:
        facts.error = "no InstanceGroups in the file"
    else:
        facts.error = (
            "this node's address is not in the file and its groups have different "
            "instance types; pass --instance-type"
        )
    return facts


def imds_instance_type(base_url: str = IMDS_BASE, timeout: float = 1.0) -> str | None:
    """The EC2 instance type from IMDSv2 (a token, then one read). Only called with
    ``--imds``; returns None on any failure."""
    import urllib.error  # only with --imds: a plain host run does not pay for http and ssl
    import urllib.request

    try:
        token_request = urllib.request.Request(
            f"{base_url}/latest/api/token",
            method="PUT",
            headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"},
        )
        with urllib.request.urlopen(token_request, timeout=timeout) as response:
            token = response.read().decode().strip()
        request = urllib.request.Request(
            f"{base_url}/latest/meta-data/instance-type",
            headers={"X-aws-ec2-metadata-token": token},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            value = response.read().decode().strip()
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return value or None
