"""`--dcgm`: `dcgmi diag -r 1 -j` parsed into tests (hyperpod_preflight/host/dcgm.py), on the
samples of host_dcgm_samples.py (DCGM 3 and DCGM 4 layouts). The host.dcgm findings are
tested in checks/test_host_measure_checks.py."""

from __future__ import annotations

import json

from host_dcgm_samples import DCGM3, DCGM4

from hyperpod_preflight.host.dcgm import parse_diag_json


def test_dcgm3_layout() -> None:
    tests = {t.name: t for t in parse_diag_json(json.dumps(DCGM3))}
    assert tests["Denylist"].status == "pass"
    assert tests["Persistence Mode"].status == "warn"
    assert tests["Persistence Mode"].messages == ["Persistence mode for GPU 0 is disabled."]
    assert tests["Inforom"].status == "fail" and tests["Inforom"].gpus == [0]
    assert tests["Environmental Variables"].status == "skip"


def test_dcgm4_layout_takes_the_worst_gpu() -> None:
    (test,) = parse_diag_json("Successfully ran diagnostic.\n" + json.dumps(DCGM4))
    assert test.status == "fail" and test.gpus == [1]
    assert test.messages == ["GPU 1 has pending page retirements"]
