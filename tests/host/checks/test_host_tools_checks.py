"""host.* checks of hyperpod_preflight/host/checks/tools.py on fixture trees."""

from __future__ import annotations

from pathlib import Path

import pytest
from host_check_support import (
    deny_stat,
    one,
    run,
    training_node,
)

from hyperpod_preflight.models import Status


def test_apptainer_nvliblist_that_cannot_be_looked_at_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = training_node(tmp_path)
    conf = root / "etc/apptainer/nvliblist.conf"
    conf.unlink()
    deny_stat(monkeypatch, conf)
    report = run(root, None, profile="training", only=["host.apptainer-nv"])
    finding = one(report, "host.apptainer-nv")
    assert finding.status is Status.UNKNOWN
    assert "/etc/apptainer/nvliblist.conf" in finding.message
