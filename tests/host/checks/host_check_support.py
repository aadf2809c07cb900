"""What the tests of ``hyperpod_preflight/host/checks/`` share with the other host tests.

pytest imports these test files with only their own folder on ``sys.path`` (no
``__init__.py``, the default "prepend" import mode); the fixture trees and the run helpers
live one folder up, in ``tests/host``, beside the reader and CLI tests that use them too.
This module appends that folder once and re-exports what the check tests use, so a check
test imports from here whatever order pytest collects the files in.

(A ``conftest.py`` here could not do it: pytest imports every conftest under the one name
``conftest``, which would hide ``tests/conftest.py`` from the tests that import from it.)
"""

from __future__ import annotations

import sys
from pathlib import Path

_HOST_TESTS = str(Path(__file__).resolve().parent.parent)
if _HOST_TESTS not in sys.path:
    sys.path.append(_HOST_TESTS)

from host_check_runs import (  # noqa: E402
    checkpoint_host,
    deny_stat,
    fabric_manager,
    findings,
    one,
    p5e_node,
    p5e_nvml,
    run,
    status,
    training_node,
    workstation,
)
from host_dcgm_samples import DCGM3  # noqa: E402
from host_fixture_trees import (  # noqa: E402
    FakeNvml,
    Node,
    build_tree,
    capture,
    eight_gpu_dump,
    fake_nvidia_smi,
    nvml_from_capture,
    nvrm_version,
    script,
)

__all__ = [
    "DCGM3",
    "FakeNvml",
    "Node",
    "build_tree",
    "capture",
    "checkpoint_host",
    "deny_stat",
    "eight_gpu_dump",
    "fabric_manager",
    "fake_nvidia_smi",
    "findings",
    "nvml_from_capture",
    "nvrm_version",
    "one",
    "p5e_node",
    "p5e_nvml",
    "run",
    "script",
    "status",
    "training_node",
    "workstation",
]
