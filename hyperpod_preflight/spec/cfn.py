"""CloudFormation templates: every ``AWS::SageMaker::Cluster`` resource as a CreateCluster
config, with its parameters and conditions evaluated.

The template is read with PyYAML's ``compose()`` (JSON and YAML alike), which keeps the line
and column of every node and leaves the short-form tags (``!Ref``, ``!If`` ...) on the nodes:
no YAML is parsed by hand. Intrinsic functions are evaluated as CloudFormation documents them
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html):
``Ref``, ``Fn::Sub``, ``Fn::If``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
``Fn::FindInMap``, ``Fn::Base64``, ``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``,
``Condition``, ``AWS::NoValue`` and the pseudo parameters. What only a deployment knows —
``Fn::GetAtt`` and ``Ref`` of a resource of the template, ``Fn::ImportValue``, ``Fn::GetAZs``,
an SSM parameter type, ``AWS::AccountId`` unless given — is an :class:`~.walk.Unknown`, never
guessed. Anything else is a :class:`TemplateError` naming what and where.

The resource's properties are mapped onto the CreateCluster model by :mod:`.walk` (the
properties of ``AWS::SageMaker::Cluster`` carry the API's member names:
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-cluster.html).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

import yaml

from .kinds import TEMPLATE_KEYS, is_template_data
from .schema import create_cluster_shape
from .sourced import SourcedConfig, join, node_location
from .walk import NO_VALUE, Lit, NoValue, Resolved, ShapeWalk, Unknown, scalar_value

CLUSTER_TYPE = "AWS::SageMaker::Cluster"
# Properties of the CloudFormation resource that CreateCluster does not take: CurrentCount is
# in the ClusterInstanceGroup property type of the resource reference (aws-properties-
# sagemaker-cluster-clusterinstancegroup.html) and has no CreateCluster counterpart.
CFN_ONLY_PROPERTIES = frozenset({"CurrentCount"})
SUPPORTED = (
    "Ref, Fn::Sub, Fn::If, Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Base64, "
    "Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition, Fn::GetAtt, Fn::ImportValue, Fn::GetAZs"
)
# Pseudo parameters (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
# pseudo-parameter-reference.html) that a template can be judged without.
_PSEUDO_DEFAULTS = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
_PSEUDO_DEPLOY_ONLY = ("AWS::AccountId", "AWS::Region", "AWS::StackName", "AWS::StackId")


class TemplateError(ValueError):
    """The template cannot be evaluated: the message names what, ``node`` where."""

    def __init__(self, message: str, node: Any = None) -> None:
        super().__init__(message)
        self.node = node


class _Deferred(Exception):
    """Raised inside an evaluation that reached a value known only at deploy time."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_template(root: Any) -> bool:
    """A CloudFormation template: a mapping with ``Resources`` or the format version."""
    if isinstance(root, yaml.MappingNode):
        keys = {k.value for k, _ in root.value if isinstance(k, yaml.ScalarNode)}
        return any(key in keys for key in TEMPLATE_KEYS)
    return is_template_data(root)


def section(root: yaml.MappingNode, name: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A top-level section as ``{key: (key node, value node)}`` (empty when absent)."""
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
                return {}
            if not isinstance(value, yaml.MappingNode):
                raise TemplateError(f"{name} must be a mapping", value)
            return {str(k.value): (k, v) for k, v in value.value if isinstance(k, yaml.ScalarNode)}
    return {}


def intrinsic(node: yaml.Node) -> tuple[str, yaml.Node] | None:
    """``(function, argument)`` of a short-form tag or a one-key ``Ref``/``Fn::`` mapping."""
    tag = node.tag or ""
    if tag.startswith("!"):
        name = tag[1:]
        fn = name if name in ("Ref", "Condition") else f"Fn::{name}"
        plain = {
            yaml.ScalarNode: "tag:yaml.org,2002:str",
            yaml.SequenceNode: "tag:yaml.org,2002:seq",
            yaml.MappingNode: "tag:yaml.org,2002:map",
        }[type(node)]
        if isinstance(node, yaml.ScalarNode):
            arg: yaml.Node = yaml.ScalarNode(plain, node.value, node.start_mark, node.end_mark)
        elif isinstance(node, yaml.SequenceNode):
            arg = yaml.SequenceNode(plain, node.value, node.start_mark, node.end_mark)
        else:
            arg = yaml.MappingNode(plain, node.value, node.start_mark, node.end_mark)
        return fn, arg
    if isinstance(node, yaml.MappingNode) and len(node.value) == 1:
        key, value = node.value[0]
        if isinstance(key, yaml.ScalarNode) and (
            key.value == "Ref" or key.value.startswith("Fn::") or key.value == "Condition"
        ):
            return str(key.value), value
    return None


class Template:
    """One template with its parameter values: evaluates nodes and conditions."""

    def __init__(self, root: yaml.MappingNode, file: str, parameters: Mapping[str, str]) -> None:
        self.root = root
        self.file = file
        self.resources = section(root, "Resources")
        self.conditions = section(root, "Conditions")
        self.mappings = section(root, "Mappings")
        self.values = self._parameter_values(section(root, "Parameters"), parameters)
        self._condition_memo: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    # -- parameters --------------------------------------------------------------------------
    def _parameter_values(
        self, declared: dict[str, tuple[yaml.Node, yaml.Node]], given: Mapping[str, str]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, (key_node, body) in declared.items():
            if not isinstance(body, yaml.MappingNode):
                raise TemplateError(f"parameter {name} must be a mapping", body)
            fields = {str(k.value): v for k, v in body.value if isinstance(k, yaml.ScalarNode)}
            ptype = fields.get("Type")
            type_name = str(ptype.value) if isinstance(ptype, yaml.ScalarNode) else "String"
            if name in given:
                raw: Any = given[name]
            elif "Default" in fields:
                default = fields["Default"]
                if not isinstance(default, yaml.ScalarNode):
                    raise TemplateError(f"parameter {name}: Default must be a scalar", default)
                raw = scalar_value(default)
                raw = "true" if raw is True else "false" if raw is False else raw
                raw = "" if raw is None else str(raw)
            else:
                raise TemplateError(
                    f"parameter {name} has no value and no Default: give "
                    f"--parameter {name}=VALUE or a --parameters-file",
                    key_node,
                )
            if type_name.startswith("AWS::SSM::Parameter::Value<") and name not in given:
                values[name] = Unknown(
                    f"parameter {name} is read from SSM Parameter Store at deploy time"
                )
            elif type_name.startswith("List<") or type_name == "CommaDelimitedList":
                values[name] = [part.strip() for part in str(raw).split(",")] if raw else []
            else:
                values[name] = str(raw)
        for name, value in given.items():
            if name in _PSEUDO_DEPLOY_ONLY or name in _PSEUDO_DEFAULTS:
                values[name] = value
            elif name not in declared:
                raise TemplateError(
                    f"--parameter {name}: the template declares no such parameter "
                    f"(it has: {', '.join(declared) or 'none'})"
                )
        return values

    # -- references --------------------------------------------------------------------------
    def ref(self, name: str, node: yaml.Node) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.values:
            value = self.values[name]
            if isinstance(value, Unknown):
                raise _Deferred(value.reason)
            return value
        if name in _PSEUDO_DEFAULTS:
            return _PSEUDO_DEFAULTS[name]
        if name in _PSEUDO_DEPLOY_ONLY or name.startswith("AWS::"):
            raise _Deferred(f"{name}; give --parameter {name}=VALUE")
        if name in self.resources:
            raise _Deferred(f"!Ref {name}, a resource of this template")
        raise TemplateError(f"!Ref {name}: no parameter or resource of that name", node)

    # -- conditions --------------------------------------------------------------------------
    def condition(self, name: str, node: yaml.Node) -> bool:
        if name in self._condition_memo:
            return self._condition_memo[name]
        if name not in self.conditions:
            raise TemplateError(f"condition {name} is not defined under Conditions", node)
        if name in self._evaluating:
            raise TemplateError(f"condition {name} refers to itself", node)
        self._evaluating.add(name)
        try:
            result = self.truth(self.conditions[name][1])
        finally:
            self._evaluating.discard(name)
        self._condition_memo[name] = result
        return result

    def truth(self, node: yaml.Node) -> bool:
        found = intrinsic(node)
        if found is None:
            raise TemplateError("a condition must be Fn::Equals, Not, And, Or or Condition", node)
        fn, arg = found
        if fn == "Condition":
            return self.condition(str(self.value(arg)), arg)
        items = arg.value if isinstance(arg, yaml.SequenceNode) else None
        if fn == "Fn::Equals":
            if items is None or len(items) != 2:
                raise TemplateError("Fn::Equals takes a list of two values", node)
            left, right = (self.value(items[0]), self.value(items[1]))
            return _text(left) == _text(right)
        if fn == "Fn::Not":
            if items is None or len(items) != 1:
                raise TemplateError("Fn::Not takes a list of one condition", node)
            return not self.truth(items[0])
        if fn in ("Fn::And", "Fn::Or"):
            if items is None or not 2 <= len(items) <= 10:
                raise TemplateError(f"{fn} takes a list of 2 to 10 conditions", node)
            results = [self.truth(item) for item in items]
            return all(results) if fn == "Fn::And" else any(results)
        raise TemplateError(f"{fn} is not a condition function", node)

    # -- values ------------------------------------------------------------------------------
    def resolve(self, node: yaml.Node, src_path: str) -> Resolved:
        """The node with the intrinsics at its top evaluated; a structure stays a node."""
        while True:
            found = intrinsic(node)
            if found is None:
                return node
            fn, arg = found
            try:
                if fn == "Fn::If":
                    node = self._if_branch(arg, node)
                    continue
                if fn == "Fn::Select":
                    picked = self._select(arg, node)
                    if isinstance(picked, yaml.Node):
                        node = picked
                        continue
                    return Lit(picked, node)
                value = self._call(fn, arg, node)
            except _Deferred as deferred:
                return Unknown(deferred.reason)
            if isinstance(value, NoValue):
                return value
            return Lit(value, node)

    def value(self, node: yaml.Node) -> Any:
        """The node's whole value, intrinsics evaluated (raises _Deferred when unknown)."""
        resolved = self.resolve(node, "")
        if isinstance(resolved, Unknown):
            raise _Deferred(resolved.reason)
        if isinstance(resolved, NoValue | Lit):
            return resolved.value if isinstance(resolved, Lit) else NO_VALUE
        if isinstance(resolved, yaml.ScalarNode):
            return scalar_value(resolved)
        if isinstance(resolved, yaml.SequenceNode):
            items = [self.value(item) for item in resolved.value]
            return [item for item in items if not isinstance(item, NoValue)]
        result: dict[str, Any] = {}
        for key, item in resolved.value:
            value = self.value(item)
            if not isinstance(value, NoValue):
                result[str(scalar_value(key))] = value
        return result

    def _if_branch(self, arg: yaml.Node, node: yaml.Node) -> yaml.Node:
        items = arg.value if isinstance(arg, yaml.SequenceNode) else None
        if items is None or len(items) != 3:
            raise TemplateError(
                "Fn::If takes [condition name, value if true, value if false]", node
            )
        name = items[0].value if isinstance(items[0], yaml.ScalarNode) else None
        if not isinstance(name, str):
            raise TemplateError("Fn::If: the first item must be a condition name", items[0])
        chosen: yaml.Node = items[1] if self.condition(name, items[0]) else items[2]
        return chosen

    def _select(self, arg: yaml.Node, node: yaml.Node) -> Any:
        items = arg.value if isinstance(arg, yaml.SequenceNode) else None
        if items is None or len(items) != 2:
            raise TemplateError("Fn::Select takes [index, list]", node)
        try:
            index = int(self.value(items[0]))
        except (TypeError, ValueError) as exc:
            raise TemplateError("Fn::Select: the index must be a number", items[0]) from exc
        target = self.resolve(items[1], "")
        if isinstance(target, Unknown):
            raise _Deferred(target.reason)
        if isinstance(target, yaml.SequenceNode):
            if not 0 <= index < len(target.value):
                raise TemplateError(f"Fn::Select: index {index} is out of range", node)
            return target.value[index]
        values = target.value if isinstance(target, Lit) else None
        if not isinstance(values, list) or not 0 <= index < len(values):
            raise TemplateError(f"Fn::Select: index {index} is not in the list", node)
        return values[index]

    def _call(self, fn: str, arg: yaml.Node, node: yaml.Node) -> Any:
        if fn == "Ref":
            return self.ref(str(self.value(arg)), node)
        if fn == "Fn::Sub":
            return self._sub(arg, node)
        if fn == "Fn::Join":
            items = arg.value if isinstance(arg, yaml.SequenceNode) else None
            if items is None or len(items) != 2:
                raise TemplateError("Fn::Join takes [delimiter, list]", node)
            parts = self.value(items[1])
            if not isinstance(parts, list):
                raise TemplateError("Fn::Join: the second item must be a list", items[1])
            return str(self.value(items[0])).join(_text(p) for p in parts)
        if fn == "Fn::Split":
            items = arg.value if isinstance(arg, yaml.SequenceNode) else None
            if items is None or len(items) != 2:
                raise TemplateError("Fn::Split takes [delimiter, string]", node)
            return _text(self.value(items[1])).split(_text(self.value(items[0])))
        if fn == "Fn::Base64":
            return base64.b64encode(_text(self.value(arg)).encode()).decode()
        if fn == "Fn::FindInMap":
            return self._find_in_map(arg, node)
        if fn == "Condition":
            return self.condition(str(self.value(arg)), node)
        if fn in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return self.truth(node)
        if fn == "Fn::GetAtt":
            target = self.value(arg)
            text = ".".join(map(str, target)) if isinstance(target, list) else str(target)
            logical = text.split(".", 1)[0]
            if logical not in self.resources:
                raise TemplateError(f"!GetAtt {text}: no resource {logical} in the template", node)
            raise _Deferred(f"!GetAtt {text}")
        if fn == "Fn::ImportValue":
            raise _Deferred("!ImportValue, an output of another stack")
        if fn == "Fn::GetAZs":
            raise _Deferred("!GetAZs")
        raise TemplateError(f"{fn} is not supported here (supported: {SUPPORTED})", node)

    def _sub(self, arg: yaml.Node, node: yaml.Node) -> str:
        if isinstance(arg, yaml.SequenceNode):
            if len(arg.value) != 2:
                raise TemplateError("Fn::Sub takes a string or [string, {variables}]", node)
            text_node, variables_node = arg.value
            variables = self.value(variables_node)
            if not isinstance(variables, dict):
                raise TemplateError("Fn::Sub: the variables must be a mapping", variables_node)
        else:
            text_node, variables = arg, {}
        text = self.value(text_node)
        if not isinstance(text, str):
            raise TemplateError("Fn::Sub: the template must be a string", text_node)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                return _text(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical = name.split(".", 1)[0]
                if logical in self.resources:
                    raise _Deferred(
                        f"${{{name}}} (an attribute of a resource this template creates)"
                    )
            value = self.ref(name, node)
            if isinstance(value, list):
                raise TemplateError(f"Fn::Sub: ${{{name}}} is a list", node)
            return _text(value)

        return re.sub(r"\$\{([^}]*)\}", replace, text)

    def _find_in_map(self, arg: yaml.Node, node: yaml.Node) -> Any:
        items = arg.value if isinstance(arg, yaml.SequenceNode) else None
        if items is None or len(items) != 3:
            raise TemplateError("Fn::FindInMap takes [map, top key, second key]", node)
        name, top, second = (_text(self.value(item)) for item in items)
        if name not in self.mappings:
            raise TemplateError(f"Fn::FindInMap: no mapping {name}", node)
        table = self.value(self.mappings[name][1])
        try:
            return table[top][second]
        except (KeyError, TypeError) as exc:
            raise TemplateError(f"Fn::FindInMap: {name} has no {top}.{second}", node) from exc

    def plain(self, node: yaml.Node, src_path: str) -> Any:
        """A node's full value where no shape guides; unknown parts become None."""
        try:
            value = self.value(node)
        except _Deferred:
            return None
        return None if isinstance(value, NoValue) else value

    # -- clusters ----------------------------------------------------------------------------
    def clusters(self, resource: str | None) -> list[SourcedConfig]:
        found: list[SourcedConfig] = []
        not_created: list[str] = []
        for logical, (key_node, body) in self.resources.items():
            if not isinstance(body, yaml.MappingNode):
                continue
            fields = {str(k.value): (k, v) for k, v in body.value if isinstance(k, yaml.ScalarNode)}
            rtype = fields.get("Type")
            if rtype is None or scalar_value(rtype[1]) != CLUSTER_TYPE:
                continue
            if resource is not None and logical != resource:
                continue
            cluster = self._cluster(logical, key_node, fields)
            if cluster is None:
                not_created.append(logical)
            else:
                found.append(cluster)
        if not found and not_created:
            raise TemplateError(
                f"no {CLUSTER_TYPE} is created with these parameters: the Condition of "
                f"{', '.join(not_created)} is false"
            )
        if resource is not None and not found:
            clusters = [
                name
                for name, (_, body) in self.resources.items()
                if isinstance(body, yaml.MappingNode) and _type_of(body) == CLUSTER_TYPE
            ]
            raise TemplateError(
                f"--resource {resource}: no {CLUSTER_TYPE} of that logical id "
                f"(the template has: {', '.join(clusters) or 'none'})"
            )
        return found

    def _cluster(
        self, logical: str, key_node: yaml.Node, fields: Mapping[str, tuple[yaml.Node, yaml.Node]]
    ) -> SourcedConfig | None:
        target = SourcedConfig(config={}, file=self.file, kind="cloudformation", label=logical)
        condition = fields.get("Condition")
        if condition is not None and not self.condition(str(condition[1].value), condition[1]):
            return None
        src = f"Resources.{logical}.Properties"
        properties = fields.get("Properties")
        if properties is None:
            target.locations[""] = node_location(key_node, self.file, f"Resources.{logical}", "")
            return target
        walk = ShapeWalk(
            self, target, drop_key=lambda key: key in CFN_ONLY_PROPERTIES, plain=self.plain
        )
        target.config = walk.top(properties[1], create_cluster_shape(), "", src)
        target.locations[""] = node_location(properties[0], self.file, src, "")
        return target


def _type_of(body: yaml.MappingNode) -> Any:
    for key, value in body.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "Type":
            return scalar_value(value) if isinstance(value, yaml.ScalarNode) else None
    return None


def _text(value: Any) -> str:
    """A value as CloudFormation compares and joins it (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, NoValue):
        return ""
    return str(value)


def template_clusters(
    root: yaml.MappingNode, file: str, parameters: Mapping[str, str], resource: str | None
) -> list[SourcedConfig]:
    """Every ``AWS::SageMaker::Cluster`` of the template (or only ``resource``)."""
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "Transform":
            raise TemplateError(
                "the template declares a Transform (macros such as AWS::Serverless or "
                "AWS::LanguageExtensions run at deploy time and are not evaluated here): "
                "check the processed template (aws cloudformation get-template "
                "--template-stage Processed)",
                value,
            )
    template = Template(root, file, parameters)
    clusters = template.clusters(resource)
    if not clusters:
        raise TemplateError(f"no {CLUSTER_TYPE} resource in the template", root)
    return clusters


__all__ = ["CLUSTER_TYPE", "TemplateError", "is_template", "join", "template_clusters"]
