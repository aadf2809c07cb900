"""The CreateCluster request a live cluster was made from, rebuilt from its ``DescribeCluster``
answer, so ``hp-preflight diagnose`` can run every pre-flight check on a cluster that exists.

The mapping is the model's own: a member of ``DescribeCluster``'s answer (or of an instance
group's details) is kept when ``CreateClusterRequest`` (or ``ClusterInstanceGroupSpecification``
/ ``ClusterRestrictedInstanceGroupSpecification``) has a member of the same name and kind;
everything else (status, counts, ARNs, image ids in use) is the cluster's state, not its
request. The one renaming: an instance group's ``TargetCount`` is the ``InstanceCount`` that
was asked for (``CurrentCount`` when the answer lacks it).
"""

from __future__ import annotations

from typing import Any

from ..sagemaker_model import sagemaker_service_model

_GROUP_LISTS = {
    "InstanceGroups": "ClusterInstanceGroupSpecification",
    "RestrictedInstanceGroups": "ClusterRestrictedInstanceGroupSpecification",
}


def _keep(value: Any, shape: Any) -> Any:
    """``value`` reduced to what ``shape`` accepts (members of structures, recursively);
    None when it does not fit the shape at all."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return None
        out = {}
        for name, member in shape.members.items():
            if name in value:
                kept = _keep(value[name], member)
                if kept is not None:
                    out[name] = kept
        return out
    if kind == "list":
        if not isinstance(value, list):
            return None
        items = [_keep(v, shape.member) for v in value]
        return [i for i in items if i is not None]
    if kind == "map":
        return value if isinstance(value, dict) else None
    return value


def _group(detail: dict[str, Any], shape: Any) -> dict[str, Any]:
    kept: dict[str, Any] = _keep(detail, shape) or {}
    count = detail.get("TargetCount", detail.get("CurrentCount"))
    if "InstanceCount" in shape.members and isinstance(count, int):
        kept["InstanceCount"] = count
    return kept


def create_request_of(described: dict[str, Any]) -> dict[str, Any]:
    """The CreateCluster request (a dict ``load_spec`` takes) behind a ``DescribeCluster``
    answer."""
    model = sagemaker_service_model()
    request_shape = model.operation_model("CreateCluster").input_shape
    config: dict[str, Any] = {}
    for name, member in request_shape.members.items():
        if name not in described:
            continue
        if name in _GROUP_LISTS:
            group_shape = model.shape_for(_GROUP_LISTS[name])
            groups = described[name] if isinstance(described[name], list) else []
            config[name] = [_group(g, group_shape) for g in groups if isinstance(g, dict)]
            continue
        kept = _keep(described[name], member)
        if kept not in (None, {}, []):
            config[name] = kept
    return config
