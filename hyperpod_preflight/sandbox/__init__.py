"""The sandbox: an AWS account a careful user would have prepared for a cluster config, built
in this process with moto, on which the normal pre-flight runs.

It is a user of the library, never a special case inside it: :func:`run_sandbox` builds the
account with plain boto3 calls (:mod:`.build`), answers the APIs moto lacks through botocore
events on its own session only (:mod:`.answers`), and hands ``run_cluster_preflight`` a
``boto3.Session``. :data:`DEFECTS` are the typical mistakes it can plant (:mod:`.blueprint`).
moto is the optional ``[sandbox]`` extra; without it :func:`run_sandbox` raises
:class:`SandboxUnavailable` naming the install command.
"""

from __future__ import annotations

from .blueprint import DEFECTS, Blueprint, Defect, parse_defects
from .run import (
    INSTALL_HINT,
    SandboxRun,
    SandboxUnavailable,
    example_config,
    require_moto,
    run_sandbox,
)

__all__ = [
    "DEFECTS",
    "INSTALL_HINT",
    "Blueprint",
    "Defect",
    "SandboxRun",
    "SandboxUnavailable",
    "example_config",
    "parse_defects",
    "require_moto",
    "run_sandbox",
]
