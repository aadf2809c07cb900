"""Readers for the file systems a cluster mounts: FSx file systems by id and the network
interfaces they sit behind (mixin of :class:`~hyperpod_preflight.facts.AwsFacts`).

``DescribeFileSystems`` fails the whole call with ``FileSystemNotFound`` when one id of a
list is missing, so each file system is read on its own (a config names one or two). Some
answers carry no ``VpcId`` (moto's never do): checks find the VPC through ``SubnetIds``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .core import FactsCore, chunks, memoized
from .ec2 import FILTER_VALUES_PER_CALL, _norm


class FsxFacts(FactsCore):
    """FSx readers: memoized, asking only for the file systems the config names."""

    @memoized
    def file_system(self, file_system_id: str) -> dict[str, Any] | None:
        """``DescribeFileSystems`` of one id; None when it does not exist."""
        resp = self.call(
            "fsx",
            "DescribeFileSystems",
            none_on=("FileSystemNotFound",),
            FileSystemIds=[file_system_id],
        )
        if resp is None:
            return None
        found = [f for f in resp.get("FileSystems", []) if f.get("FileSystemId") == file_system_id]
        return found[0] if found else None

    def network_interfaces(self, eni_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The network interfaces of ``eni_ids`` that exist, by id (no call for none)."""
        ids = _norm(eni_ids)
        return self._network_interfaces(ids) if ids else {}

    @memoized
    def _network_interfaces(self, eni_ids: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(eni_ids, FILTER_VALUES_PER_CALL):
            for eni in self.paginate(
                "ec2",
                "DescribeNetworkInterfaces",
                "NetworkInterfaces",
                Filters=[{"Name": "network-interface-id", "Values": part}],
            ):
                found[eni["NetworkInterfaceId"]] = eni
        return found
