"""Terraform plans (``terraform show -json PLAN``): every ``awscc_sagemaker_cluster`` the plan
creates or updates, as a CreateCluster config.

The plan's attribute names are the CloudFormation property names in snake_case (the awscc
provider is generated from the CloudFormation resource schema); :mod:`.walk` maps each onto
the CreateCluster member of the same name ignoring case and underscores, so botocore's model is
the mapping table. Attributes the model lacks (``cluster_arn``, ``cluster_status``,
``current_count`` ...) are computed by the provider and dropped; nulls are absent values.

A value the plan marks unknown (``after_unknown``: e.g. the id of a subnet created by the same
plan) is known only after ``apply``: it is recorded, never guessed
(https://developer.hashicorp.com/terraform/internals/json-format#change-representation:
"after_unknown ... with all unknown leaf values replaced with true").
"""

from __future__ import annotations

from typing import Any

import yaml

from .cfn import TemplateError
from .kinds import is_plan
from .schema import create_cluster_shape
from .sourced import SourcedConfig, join, node_location
from .walk import NO_VALUE, Resolved, ShapeWalk, Unknown, scalar_value

RESOURCE_TYPE = "awscc_sagemaker_cluster"
_CHECKED_ACTIONS = ({"create"}, {"update"}, {"delete", "create"}, {"create", "delete"})


def _child(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            child: yaml.Node = v
            return child
    return None


class _PlanResolver:
    """Nulls are absent; what ``after_unknown`` marks is unknown."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.unknown: set[int] = set()

    def mark(self, node: yaml.Node, mask: Any) -> None:
        """Record which nodes ``mask`` (``after_unknown``) says are unknown."""
        if mask is True:
            self.unknown.add(id(node))
            return
        if isinstance(node, yaml.MappingNode) and isinstance(mask, dict):
            present = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            for key, sub in mask.items():
                if key not in present and sub is True:
                    # unknown and absent from "after": add a placeholder at the parent's mark
                    key_node = yaml.ScalarNode("tag:yaml.org,2002:str", key, node.start_mark)
                    value = yaml.ScalarNode("tag:yaml.org,2002:null", "null", node.start_mark)
                    node.value.append((key_node, value))
                    present[key] = value
                if key in present:
                    self.mark(present[key], sub)
        elif isinstance(node, yaml.SequenceNode) and isinstance(mask, list):
            for item, sub in zip(node.value, mask, strict=False):
                self.mark(item, sub)

    def resolve(self, node: yaml.Node, src_path: str) -> Resolved:
        if id(node) in self.unknown:
            attribute = src_path.split(".after.", 1)[-1]
            return Unknown(f"{attribute} of {self.address} is unknown in the plan")
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return NO_VALUE
        return node

    def plain(self, node: yaml.Node, src_path: str) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return scalar_value(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(item, src_path) for item in node.value]
        return {str(k.value): self.plain(v, src_path) for k, v in node.value}


def plan_clusters(
    root: yaml.MappingNode, data: dict[str, Any], file: str, resource: str | None
) -> list[SourcedConfig]:
    """Every planned ``awscc_sagemaker_cluster`` create or update (or only ``resource``, an
    address)."""
    changes_node = _child(root, "resource_changes")
    changes = data.get("resource_changes") or []
    if not isinstance(changes, list):
        raise TemplateError("resource_changes must be a list", changes_node)
    found: list[SourcedConfig] = []
    addresses: list[str] = []
    for i, change in enumerate(changes):
        if not isinstance(change, dict) or change.get("type") != RESOURCE_TYPE:
            continue
        address = str(change.get("address") or f"{RESOURCE_TYPE}[{i}]")
        actions = set((change.get("change") or {}).get("actions") or ())
        if actions not in _CHECKED_ACTIONS:
            continue
        addresses.append(address)
        if resource is not None and address != resource:
            continue
        node = changes_node.value[i] if isinstance(changes_node, yaml.SequenceNode) else None
        found.append(_cluster(node, change, i, address, file))
    if resource is not None and not found:
        raise TemplateError(
            f"--resource {resource}: the plan creates or updates no {RESOURCE_TYPE} at that "
            f"address (it has: {', '.join(addresses) or 'none'})"
        )
    if not found:
        raise TemplateError(f"the plan creates or updates no {RESOURCE_TYPE}")
    return found


def _cluster(
    node: yaml.Node | None, change: dict[str, Any], index: int, address: str, file: str
) -> SourcedConfig:
    target = SourcedConfig(config={}, file=file, kind="terraform-plan", label=address)
    body = change.get("change") or {}
    src = f"resource_changes[{index}].change.after"
    after_node = None
    if isinstance(node, yaml.MappingNode):
        change_node = _child(node, "change")
        if isinstance(change_node, yaml.MappingNode):
            after_node = _child(change_node, "after")
    if not isinstance(after_node, yaml.MappingNode):
        after_node = data_node(body.get("after") or {})
    resolver = _PlanResolver(address)
    resolver.mark(after_node, body.get("after_unknown") or {})
    walk = ShapeWalk(resolver, target, drop_key=lambda key: True, plain=resolver.plain)
    target.config = walk.top(after_node, create_cluster_shape(), "", src)
    target.locations[""] = node_location(after_node, file, src, "")
    return target


def data_node(data: Any) -> yaml.Node:
    """Nodes for plain data (no line numbers): the fallback where the text cannot be composed."""
    node: yaml.Node = yaml.representer.SafeRepresenter().represent_data(data)
    return node


__all__ = ["RESOURCE_TYPE", "is_plan", "join", "plan_clusters"]
