"""host.* checks of hyperpod_preflight/host/checks/virt.py on fixture trees: group membership
and IOMMU that cannot be read are UNKNOWN, not FAIL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from host_check_support import (
    deny_stat,
    findings,
    one,
    run,
    workstation,
)

from hyperpod_preflight.models import Status


@pytest.mark.parametrize("how", ["missing", "unreadable"])
def test_workstation_with_an_unreadable_etc_group_is_unknown_not_fail(
    tmp_path: Path, how: str
) -> None:
    root = workstation(tmp_path)
    (root / "etc/group").unlink()
    if how == "unreadable":
        (root / "etc/group").mkdir()  # read() fails (EISDIR), as EACCES would for a user
    report = run(root, None, profile="workstation", paths=["/"])
    groups = findings(report, "host.groups")
    assert [f.status for f in groups] == [Status.UNKNOWN]
    assert "/etc/group unreadable" in groups[0].message
    assert report.facts["user"]["groups"] is None


def test_iommu_that_cannot_be_looked_at_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = workstation(tmp_path)
    shutil.rmtree(root / "sys/kernel/iommu_groups")
    deny_stat(monkeypatch, root / "sys/kernel")
    report = run(root, None, profile="workstation", paths=["/"], only=["host.iommu"])
    assert one(report, "host.iommu").status is Status.UNKNOWN
