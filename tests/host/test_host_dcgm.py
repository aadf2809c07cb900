"""`--dcgm`: `dcgmi diag -r 1 -j` mapped to findings. No real dcgmi output was available (the
H100 node has no DCGM), so these samples follow DCGM's documented JSON layouts (DCGM 3:
"DCGM GPU Diagnostic" with gpu_id; DCGM 4: "DCGM Diagnostic" with entity_id)."""

from __future__ import annotations

import json
from pathlib import Path

from host_fixture_trees import build_tree, nvml_from_capture, script

from hyperpod_preflight.host import run_host_preflight
from hyperpod_preflight.host.dcgm import parse_diag_json
from hyperpod_preflight.models import Status

DCGM3 = {
    "DCGM GPU Diagnostic": {
        "test_categories": [
            {
                "category": "Deployment",
                "tests": [
                    {"name": "Denylist", "results": [{"gpu_id": "0", "status": "Pass"}]},
                    {"name": "NVML Library", "results": [{"gpu_id": "0", "status": "Pass"}]},
                    {
                        "name": "Persistence Mode",
                        "results": [
                            {
                                "gpu_id": "0",
                                "status": "Warn",
                                "warnings": [
                                    {"warning": "Persistence mode for GPU 0 is disabled."}
                                ],
                            }
                        ],
                    },
                    {
                        "name": "Inforom",
                        "results": [
                            {
                                "gpu_id": "0",
                                "status": "Fail",
                                "warnings": ["Inforom for GPU 0 is corrupt"],
                            }
                        ],
                    },
                    {"name": "Environmental Variables", "results": [{"status": "Skip"}]},
                ],
            }
        ]
    }
}
DCGM4 = {
    "DCGM Diagnostic": {
        "test_categories": [
            {
                "category": "Deployment",
                "tests": [
                    {
                        "name": "software",
                        "results": [
                            {"entity_group": "GPU", "entity_id": 0, "status": "Pass"},
                            {
                                "entity_group": "GPU",
                                "entity_id": 1,
                                "status": "Fail",
                                "errors": [
                                    {"error_id": 5, "message": "GPU 1 has pending page retirements"}
                                ],
                            },
                        ],
                    }
                ],
            }
        ]
    }
}


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


def test_dcgm_findings_through_a_fake_dcgmi(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    (tmp_path / "diag.json").write_text(json.dumps(DCGM3))
    script(root, "/usr/bin/dcgmi", f"cat '{tmp_path}/diag.json'")
    report = run_host_preflight(
        root=str(root), nvml=nvml_from_capture("h100"), dcgm=True, only=["host.dcgm"]
    )
    by_resource = {f.resource: f for f in report.results}
    assert by_resource["dcgm Inforom"].status is Status.FAIL
    assert "Inforom for GPU 0 is corrupt" in by_resource["dcgm Inforom"].message
    assert by_resource["dcgm Persistence Mode"].status is Status.WARN
    assert by_resource["dcgm Denylist"].status is Status.PASS
    assert report.summary.exit_code == 1


def test_dcgm_absent_or_broken(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    report = run_host_preflight(root=str(root), nvml=None, dcgm=True, only=["host.dcgm"])
    (finding,) = report.results
    assert finding.status is Status.SKIP and "not installed" in finding.message
    script(
        root,
        "/usr/bin/dcgmi",
        "echo 'Error: unable to establish a connection to the specified host: localhost'; exit 255",
    )
    report = run_host_preflight(root=str(root), nvml=None, dcgm=True, only=["host.dcgm"])
    (finding,) = report.results
    assert finding.status is Status.UNKNOWN and "unable to establish" in finding.message
    report = run_host_preflight(root=str(root), nvml=None, only=["host.dcgm"])
    assert report.results[0].message == "not run: pass --dcgm"
