"""A moto account with an FSx file system's network around it, and a botocore handler that
answers ``fsx:DescribeFileSystems`` with what moto leaves out (``Lifecycle``,
``NetworkInterfaceIds``, ``LustreConfiguration.MountName``), validated against botocore's
output shape first."""

from __future__ import annotations

import json
from typing import Any

import botocore.awsrequest
from aws_world import ACCOUNT, REGION, Injector, validated

# The file systems' ids must look like FSx's (fs- and 17 hex digits).
FS_OK = "fs-0123456789abcdef0"
FS_CLOSED = "fs-0123456789abcdef1"
FS_ELSEWHERE = "fs-0123456789abcdef2"
FS_CREATING = "fs-0123456789abcdef3"
FS_ZFS = "fs-0123456789abcdef4"
FS_MISSING = "fs-0123456789abcdef9"


def dns(fs_id: str) -> str:
    return f"{fs_id}.fsx.{REGION}.amazonaws.com"


def lustre(
    fs_id: str,
    subnet: str,
    enis: list[str],
    *,
    lifecycle: str = "AVAILABLE",
    mount_name: str = "abcdefgh",
    kind: str = "LUSTRE",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "FileSystemId": fs_id,
        "FileSystemType": kind,
        "Lifecycle": lifecycle,
        "OwnerId": ACCOUNT,
        "StorageCapacity": 1200,
        "SubnetIds": [subnet],
        "NetworkInterfaceIds": enis,
        "DNSName": dns(fs_id),
    }
    if kind == "LUSTRE":
        body["LustreConfiguration"] = {"MountName": mount_name, "DeploymentType": "PERSISTENT_2"}
    return body


def _json(status: int, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()

    class _Raw:
        def stream(self, **_: Any) -> Any:
            yield raw

    headers = {"Content-Type": "application/x-amz-json-1.1"}
    return botocore.awsrequest.AWSResponse("https://example.invalid/", status, headers, _Raw())


def file_systems(known: dict[str, dict[str, Any]]) -> Injector:
    """``DescribeFileSystems`` answered from ``known`` (id → FileSystem); an unknown id gets
    FSx's ``FileSystemNotFound``."""
    checked = {
        fs_id: validated("fsx", "DescribeFileSystems", {"FileSystems": [fs]})["FileSystems"][0]
        for fs_id, fs in known.items()
    }

    def answer(request: Any) -> Any:
        ids = json.loads(request.body or b"{}").get("FileSystemIds", [])
        missing = [i for i in ids if i not in checked]
        if missing:
            return _json(
                400,
                {"__type": "FileSystemNotFound", "Message": f"File system {missing[0]} not found"},
            )
        return _json(200, {"FileSystems": [checked[i] for i in ids]})

    return Injector().always("DescribeFileSystems", answer)


def fsx_denied() -> Injector:
    return Injector().always(
        "DescribeFileSystems",
        lambda _r: _json(403, {"__type": "AccessDeniedException", "Message": "denied"}),
    )
