"""The cluster spec: what `aws sagemaker create-cluster --cli-input-json` would be given.

``ClusterSpec`` is the one typed view of a config that every other module reads. It is built
either from the CreateCluster JSON (validated against botocore's own model first) or from
CLI flags for quick use.

Validation has two layers, both reported with the JSON path of each problem:

- the schema: botocore's ``ParamValidator`` on the ``CreateCluster`` input shape (types,
  required keys, unknown keys, minimums), plus the constraints it leaves out — maximum
  lengths and values, ``enum`` and ``pattern`` — read from the same shapes, so the installed
  botocore model stays the single authority;
- forms the model is loose about and HyperPod is not: subnet, security group and IAM role
  ids, exactly one orchestrator, and an instance type or requirements in every group.

The modules, each owning one part:

- :mod:`.model`: the pydantic models (``ClusterSpec``, ``InstanceGroup``, ``VpcSettings``);
- :mod:`.schema`: validation against botocore's ``CreateCluster`` model;
- :mod:`.forms`: the HyperPod forms beyond the model (ids, one orchestrator, a type per group);
- :mod:`.problems`: a problem at a JSON path and the one-line message of an ``InputError``;
- :mod:`.load`: reading a file, stdin or a dict (:func:`load_spec`);
- :mod:`.build`: a validated config → ``ClusterSpec``;
- :mod:`.flags`: CLI flags → ``ClusterSpec`` (:func:`spec_from_flags`).

Everything public is importable from ``hyperpod_preflight.spec`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..sagemaker_model import botocore_version, sagemaker_service_model
from .forms import (
    ARN_PARTITION_RE,
    EKS_CLUSTER_ARN_RE,
    ROLE_ARN_RE,
    S3_URI_RE,
    SECURITY_GROUP_ID_RE,
    SUBNET_ID_RE,
    VPC_ID_RE,
    semantic_problems,
)
from .load import MAX_CONFIG_BYTES, load_spec, load_specs
from .model import CapacityType, ClusterSpec, InstanceGroup, VpcSettings, strip_ml
from .problems import Problem, format_problems
from .schema import (
    config_problems,
    create_cluster_shape,
    judge_config,
    schema_problems,
)

__all__ = [
    "ARN_PARTITION_RE",
    "EKS_CLUSTER_ARN_RE",
    "MAX_CONFIG_BYTES",
    "ROLE_ARN_RE",
    "S3_URI_RE",
    "SECURITY_GROUP_ID_RE",
    "SUBNET_ID_RE",
    "VPC_ID_RE",
    "CapacityType",
    "ClusterSpec",
    "InstanceGroup",
    "Problem",
    "VpcSettings",
    "botocore_version",
    "config_problems",
    "create_cluster_shape",
    "format_problems",
    "judge_config",
    "load_spec",
    "load_specs",
    "sagemaker_service_model",
    "schema_problems",
    "semantic_problems",
    "spec_from_flags",
    "strip_ml",
]

if TYPE_CHECKING:
    from .flags import spec_from_flags


def __getattr__(name: str) -> Any:
    """:func:`~.flags.spec_from_flags`, imported on first use: a run from a config file never
    needs the flag parsers (their patterns and dataclasses cost ~2 ms at import)."""
    if name == "spec_from_flags":
        from .flags import spec_from_flags

        return spec_from_flags
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
