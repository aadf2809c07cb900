"""What a ``--config`` file is, told by its content: a CreateCluster JSON, a CloudFormation
template (JSON or YAML) or a Terraform plan JSON; and the clusters it defines, each a
:class:`~.sourced.SourcedConfig` with the location of its values.

YAML and JSON are composed with PyYAML (``CSafeLoader`` where libyaml is present), whose
nodes keep their line and column and the CloudFormation short-form tags. JSON is parsed by
:mod:`json` first (strict: duplicate keys, NaN), so a CreateCluster JSON is judged exactly as
before; composing it only adds locations, and a JSON that PyYAML cannot compose keeps none.
A plain CreateCluster JSON (most configs) is located by :mod:`.json_marks` instead, to the
same lines and columns: PyYAML is imported only for what needs it (YAML, templates, plans,
JSON that :mod:`.json_marks` leaves to it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..results import Location
from .json_marks import Node, json_nodes
from .kinds import is_plan, is_template_data
from .problems import one_line
from .sourced import join, node_location

if TYPE_CHECKING:
    import yaml

    from .sourced import SourcedConfig


def compose(text: str) -> yaml.Node | None:
    """The node tree of ``text`` (None for an empty document)."""
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    node: yaml.Node | None = yaml.compose(text, Loader=loader)
    return node


def json_locations(text: str, file: str) -> dict[str, Any]:
    """JSON path → location of every value of a JSON config (empty when PyYAML cannot
    compose it). Plain JSON is read by :func:`~.json_marks.json_nodes`, without PyYAML."""
    nodes = json_nodes(text)
    if nodes is not None:
        return _node_locations(nodes, file)
    return yaml_locations(text, file)


def yaml_locations(text: str, file: str) -> dict[str, Any]:
    """:func:`json_locations` as PyYAML's ``compose()`` gives them."""
    import yaml

    try:
        root = compose(text)
    except (yaml.YAMLError, RecursionError):
        return {}
    found: dict[str, Any] = {}
    pending: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    while pending:
        node, path = pending.pop()
        found[path] = node_location(node, file, path, path)
        if isinstance(node, yaml.MappingNode):
            pending += [
                (v, join(path, str(k.value)))
                for k, v in node.value
                if isinstance(k, yaml.ScalarNode)
            ]
        elif isinstance(node, yaml.SequenceNode):
            pending += [(v, join(path, i)) for i, v in enumerate(node.value)]
    return found


def _node_locations(root: Node, file: str) -> dict[str, Any]:
    """:func:`json_locations` of a :func:`~.json_marks.json_nodes` tree, walked in the same
    order (where a key repeats, the first one's values win, as with PyYAML's nodes)."""
    found: dict[str, Any] = {}
    pending: list[tuple[Node, str]] = [(root, "")]
    while pending:
        (kind, line, column, children), path = pending.pop()
        found[path] = Location(
            file=file, line=line + 1, column=column + 1, path=path, config_path=path
        )
        if kind == "map":
            pending += [(v, join(path, k)) for k, v in children]
        elif kind == "seq":
            pending += [(v, join(path, i)) for i, v in enumerate(children)]
    return found


def looks_like_json(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith(("{", "["))


def iac_clusters(
    text: str,
    data: Any,
    file: str,
    *,
    parameters: Mapping[str, str],
    resource: str | None,
) -> list[SourcedConfig] | None:
    """The clusters of a CloudFormation template or Terraform plan; None when ``data`` (the
    JSON value, or None for YAML text) is neither (a CreateCluster JSON)."""
    if data is not None and not (is_plan(data) or is_template_data(data)):
        return None
    import yaml

    from .cfn import TemplateError, is_template, template_clusters
    from .tfplan import data_node, plan_clusters

    try:
        root = compose(text)
    except yaml.MarkedYAMLError as exc:
        if data is None:
            mark = exc.problem_mark
            where = f" at line {mark.line + 1}:{mark.column + 1}" if mark else ""
            raise InputError(
                one_line(f"{file}: neither JSON nor YAML{where}: {exc.problem}")
            ) from exc
        root = None
    except (yaml.YAMLError, RecursionError) as exc:
        if data is None:
            raise InputError(one_line(f"{file}: neither JSON nor YAML: {exc}")) from exc
        root = None
    if root is None:
        root = data_node(data) if data is not None else None
    if not isinstance(root, yaml.MappingNode):
        raise InputError(
            f"{file}: not a cluster config: neither JSON nor a YAML CloudFormation template "
            "(the top level is not a mapping); give a CreateCluster JSON, a CloudFormation "
            "template or a Terraform plan (terraform show -json)"
        )
    try:
        if data is not None and is_plan(data):
            return plan_clusters(root, data, file, resource)
        if not is_template(root):
            raise InputError(
                f"{file}: YAML that is not a CloudFormation template (no Resources); give a "
                "CreateCluster JSON, a CloudFormation template or a Terraform plan "
                "(terraform show -json)"
            )
        return template_clusters(root, file, parameters, resource)
    except TemplateError as exc:
        mark = getattr(exc.node, "start_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InputError(one_line(f"{file}{where}: {exc}")) from exc
    except RecursionError as exc:
        raise InputError(f"{file}: nested too deeply to be evaluated") from exc


# -- parameter values ----------------------------------------------------------------------------
_KEY_VALUE = re.compile(r"^([^=]+)=(.*)$", re.DOTALL)


def parse_parameter(text: str) -> tuple[str, str]:
    """``Key=Value`` of ``--parameter`` (the value may hold ``=``)."""
    m = _KEY_VALUE.match(text)
    if not m or not m.group(1).strip():
        raise InputError(f"--parameter {text!r}: expected Key=Value")
    return m.group(1).strip(), m.group(2)


def read_parameters_file(path: str) -> dict[str, str]:
    """Parameter values from a file in one of the shapes ``aws cloudformation deploy
    --parameter-overrides file://F`` reads (aws-cli PR 5443): ``["Key=Value", ...]``,
    ``[{"ParameterKey": K, "ParameterValue": V}, ...]`` (the CreateStack shape) or
    ``{"Parameters": {K: V}}`` (the CodePipeline shape)."""
    name = path[len("file://") :] if path.startswith("file://") else path
    try:
        data = json.loads(Path(name).read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise InputError(f"--parameters-file {name}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(one_line(f"--parameters-file {name}: cannot read: {exc}")) from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            one_line(f"--parameters-file {name}: invalid JSON at line {exc.lineno}: {exc.msg}")
        ) from exc
    values: dict[str, str] = {}
    if isinstance(data, dict) and isinstance(data.get("Parameters"), dict):
        return {str(k): _param_text(v) for k, v in data["Parameters"].items()}
    if not isinstance(data, list):
        raise InputError(
            f"--parameters-file {name}: expected a list of Key=Value strings or of "
            '{"ParameterKey", "ParameterValue"} objects, or {"Parameters": {...}}'
        )
    for i, item in enumerate(data):
        if isinstance(item, str):
            key, value = parse_parameter(item)
        elif isinstance(item, dict) and "ParameterKey" in item:
            if "ParameterValue" not in item:
                raise InputError(
                    f"--parameters-file {name}: item {i} ({item['ParameterKey']}) has no "
                    "ParameterValue (UsePreviousValue needs the deployed stack)"
                )
            key, value = str(item["ParameterKey"]), _param_text(item["ParameterValue"])
        else:
            raise InputError(f"--parameters-file {name}: item {i} is not Key=Value or an object")
        values[key] = value
    return values


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)
