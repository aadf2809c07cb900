"""Sample output of `dcgmi diag -r 1 -j`. No real dcgmi output was available (the H100 node
has no DCGM), so these follow DCGM's documented JSON layouts (DCGM 3: "DCGM GPU Diagnostic"
with gpu_id; DCGM 4: "DCGM Diagnostic" with entity_id). Shared by the reader tests
(test_host_dcgm.py) and the host.dcgm check tests (checks/test_host_measure_checks.py)."""

from __future__ import annotations

from typing import Any

DCGM3: dict[str, Any] = {
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
DCGM4: dict[str, Any] = {
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
