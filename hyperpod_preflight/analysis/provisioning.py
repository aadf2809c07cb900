"""Slurm ``provisioning_parameters.json``: its model, parsing, and the cross-check with the
cluster config's instance groups.

The file is a convention of the Slurm lifecycle scripts (HyperPod itself does not read it):
the script that configures Slurm reads it to learn which instance group is the controller,
which is the login group and which groups are workers in which partition. A group named
there that the cluster lacks, or a cluster group it does not name, leaves nodes without a
Slurm role, and the lifecycle run or the cluster's Slurm fails.

Pure: bytes in, findings out.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .lifecycle_models import LintFinding, LintLevel
from .provisioning_model import Problem, ProvisioningParameters, validate
from .provisioning_model import WorkerGroup as WorkerGroup  # re-exported

DEFAULT_FILE = "provisioning_parameters.json"
_FSX_DNS = re.compile(
    r"^(?P<fs>fs-[0-9a-f]{8,17})\.fsx\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$"
)
_VERBS = {"is", "names", "must", "has", "gives", "does", "makes", "starts"}
_WANTED = {
    "string_type": "a string",
    "string_too_short": "a non-empty string",
    "list_type": "a list",
    "too_short": "a non-empty list",
    "model_type": "an object",
    "dict_type": "an object",
}
_SLURM_ROLES = {"controller": "Controller", "login": "Login", "worker": "Compute"}


@dataclass(frozen=True)
class ProvisioningCheck:
    """The parsed parameters (None when they could not be read) and what was found."""

    parameters: ProvisioningParameters | None
    findings: tuple[LintFinding, ...]


def _finding(
    level: LintLevel, file: str, line: int | None, message: str, remediation: str, rule: str
) -> LintFinding:
    verb = message.split(" ", 1)[0]
    joined = f"{file} {message}" if verb in _VERBS else f"{file}: {message}"
    return LintFinding(
        rule=rule, level=level, file=file, line=line, message=joined, remediation=remediation
    )


def _line_of_key(text: str, loc: Sequence[int | str]) -> int | None:
    """Best-effort line of the key at ``loc`` (e.g. ``("worker_groups", 1, "partition_name")``)."""
    pos, line = 0, None
    nth = 1
    for part in loc:
        if isinstance(part, int):
            nth = part + 1
            continue
        found = None
        for _ in range(nth):
            found = re.compile(r'"' + re.escape(part) + r'"\s*:').search(text, pos)
            if found is None:
                return line
            pos = found.end()
        nth = 1
        if found is not None:
            line = text.count("\n", 0, found.start()) + 1
    return line


def _field_name(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _type_name(value: Any) -> str:
    return {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true/false",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _decode(data: bytes, file: str) -> tuple[str | None, list[LintFinding]]:
    if data.startswith(b"\xef\xbb\xbf"):
        return None, [
            _finding(
                LintLevel.FAIL,
                file,
                1,
                "starts with a UTF-8 byte-order mark: Python's json module rejects it "
                "('Unexpected UTF-8 BOM'), so the lifecycle script cannot read the file",
                f"sed -i '1s/^\\xEF\\xBB\\xBF//' -- {shlex.quote(file)}",
                "bom",
            )
        ]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return None, [
            _finding(
                LintLevel.FAIL,
                file,
                line,
                f"is not valid UTF-8 (byte 0x{data[e.start]:02x} on line {line}): JSON must be "
                "UTF-8",
                f"iconv -f LATIN1 -t UTF-8 -- {shlex.quote(file)} > {shlex.quote(file + '.utf8')} "
                f"&& mv -- {shlex.quote(file + '.utf8')} {shlex.quote(file)}  "
                "(if it was saved as Latin-1), or retype the character",
                "invalid-utf8",
            )
        ]


def parse_provisioning_parameters(
    data: bytes, *, file: str = DEFAULT_FILE
) -> tuple[ProvisioningParameters | None, list[LintFinding]]:
    """Parse and validate the file; every problem is a FAIL naming the line or the field."""
    text, findings = _decode(data, file)
    if text is None:
        return None, findings
    raw, loaded = _load_json(text, file)
    findings += loaded
    if raw is _UNREADABLE:
        return None, findings
    if not isinstance(raw, dict):
        findings.append(
            _finding(
                LintLevel.FAIL,
                file,
                1,
                f"must be a JSON object, not {_type_name(raw)}",
                f"write {file} as an object with controller_group, worker_groups, …",
                "provisioning-field",
            )
        )
        return None, findings
    params, problems = validate(raw)
    if params is None:
        return None, findings + _field_findings(problems, text, file)
    if params.workload_manager != "slurm":
        findings.append(
            _finding(
                LintLevel.WARN,
                file,
                _line_of_key(text, ["workload_manager"]),
                f'workload_manager is "{params.workload_manager}"; the Slurm lifecycle scripts '
                'expect "slurm"',
                f'set "workload_manager": "slurm" in {file}',
                "provisioning-field",
            )
        )
    findings.extend(_fsx_findings(params, text, file))
    return params, findings


_UNREADABLE = object()  # _load_json's value for text that does not parse


def _load_json(text: str, file: str) -> tuple[Any, list[LintFinding]]:
    """The JSON value (``_UNREADABLE`` when it does not parse) and what was found reading
    it: a syntax error (FAIL), a key given twice (WARN)."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        counts = Counter(k for k, _ in items)
        duplicates.extend(k for k, n in counts.items() if n > 1)
        return dict(items)

    try:
        raw = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as e:
        return _UNREADABLE, [
            _finding(
                LintLevel.FAIL,
                file,
                e.lineno,
                f"is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}",
                f"fix the JSON at {file}:{e.lineno}:{e.colno}; check it with "
                f"`python3 -m json.tool {shlex.quote(file)}`",
                "json-syntax",
            )
        ]
    except RecursionError:
        return None, [
            _finding(
                LintLevel.UNKNOWN, file, None, "is nested too deeply to read", "", "json-syntax"
            )
        ]
    return raw, [
        _finding(
            LintLevel.WARN,
            file,
            _line_of_key(text, [key]),
            f'names "{key}" more than once: only the last one counts',
            f'keep one "{key}" in {file}',
            "provisioning-field",
        )
        for key in sorted(set(duplicates))
    ]


def _field_findings(problems: list[Problem], text: str, file: str) -> list[LintFinding]:
    """One FAIL per field the model rejects, at its line."""
    out: list[LintFinding] = []
    for problem in problems:
        loc = list(problem.loc)
        name = _field_name(loc)
        if problem.type == "missing":
            message = f'has no "{name}", which the Slurm lifecycle scripts need'
            fix = f'add "{name}" to {file}'
        else:
            got = _type_name(problem.input)
            message = f'field "{name}" is invalid ({got} given): {problem.msg}'
            fix = f'set "{name}" in {file} to {_WANTED.get(problem.type, "a valid value")}'
            if name == "worker_groups":
                fix = (
                    f'set "worker_groups" in {file} to a list like '
                    '[{"instance_group_name": "workers", "partition_name": "gpu"}]'
                )
        out.append(
            _finding(
                LintLevel.FAIL, file, _line_of_key(text, loc), message, fix, "provisioning-field"
            )
        )
    return out


def _fsx_findings(params: ProvisioningParameters, text: str, file: str) -> list[LintFinding]:
    out: list[LintFinding] = []
    if params.fsx_dns_name is not None and not _FSX_DNS.match(params.fsx_dns_name):
        out.append(
            _finding(
                LintLevel.WARN,
                file,
                _line_of_key(text, ["fsx_dns_name"]),
                f'fsx_dns_name "{params.fsx_dns_name}" is not of the form '
                "<fs-id>.fsx.<region>.amazonaws.com",
                "aws fsx describe-file-systems --file-system-ids <fs-id> "
                "--query 'FileSystems[0].DNSName'",
                "provisioning-fsx",
            )
        )
    if (params.fsx_dns_name is None) != (params.fsx_mountname is None):
        present, absent = (
            ("fsx_dns_name", "fsx_mountname")
            if params.fsx_mountname is None
            else ("fsx_mountname", "fsx_dns_name")
        )
        out.append(
            _finding(
                LintLevel.WARN,
                file,
                _line_of_key(text, [present]),
                f"{present} is set but {absent} is not: FSx for Lustre needs both to mount",
                "aws fsx describe-file-systems --file-system-ids <fs-id> --query "
                "'FileSystems[0].[DNSName,LustreConfiguration.MountName]'",
                "provisioning-fsx",
            )
        )
    return out


def _closest(name: str, choices: Sequence[str]) -> str | None:
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return match[0] if match else None


def cross_check(
    params: ProvisioningParameters,
    instance_groups: Mapping[str, str | None],
    *,
    file: str = DEFAULT_FILE,
    text: str = "",
    region: str | None = None,
) -> list[LintFinding]:
    """Compare the file with the config's instance groups (name → ``SlurmConfig.NodeType``).

    FAIL for a group the file names that the config lacks, a config group the file does not
    name, a group given two roles, a group whose ``SlurmConfig.NodeType`` disagrees with its
    role, and an FSx file system in another region than the cluster.
    """
    return [
        *_unknown_groups(params, instance_groups, file, text),
        *_repeated_groups(params, instance_groups, file),
        *_unnamed_groups(params, instance_groups, file),
        *_node_type_mismatches(params, instance_groups, file),
        *_fsx_region(params, file, text, region),
    ]


def _unknown_groups(
    params: ProvisioningParameters, instance_groups: Mapping[str, str | None], file: str, text: str
) -> list[LintFinding]:
    out: list[LintFinding] = []
    names = list(instance_groups)
    field_of = {"controller": "controller_group", "login": "login_group"}
    for role, group in params.roles():
        if group in instance_groups:
            continue
        key = field_of.get(role, "instance_group_name")
        guess = _closest(group, names)
        fix = (
            f'set "{key}": "{guess}" in {file}'
            if guess
            else f'set "{key}" in {file} to one of: {", ".join(names) or "(none)"}'
        )
        out.append(
            _finding(
                LintLevel.FAIL,
                file,
                _line_of_key(text, [key]) if text else None,
                f'names {role} group "{group}", which is not an instance group of the cluster '
                f"config (groups: {', '.join(names) or 'none'})",
                fix + ", or rename the instance group in the config",
                "provisioning-groups",
            )
        )
    return out


def _repeated_groups(
    params: ProvisioningParameters, instance_groups: Mapping[str, str | None], file: str
) -> list[LintFinding]:
    roles = params.roles()
    out: list[LintFinding] = []
    for group, count in Counter(group for _, group in roles).items():
        if count > 1 and group in instance_groups:
            given = sorted({role for role, g in roles if g == group})
            out.append(
                _finding(
                    LintLevel.FAIL if len(given) > 1 else LintLevel.WARN,
                    file,
                    None,
                    f'gives instance group "{group}" more than one place ({", ".join(given)})',
                    f'name "{group}" once in {file}',
                    "provisioning-groups",
                )
            )
    return out


def _unnamed_groups(
    params: ProvisioningParameters, instance_groups: Mapping[str, str | None], file: str
) -> list[LintFinding]:
    named = {group for _, group in params.roles()}
    return [
        _finding(
            LintLevel.FAIL,
            file,
            None,
            f'does not name instance group "{group}": its nodes get no Slurm role, and '
            "the lifecycle script cannot configure them",
            f'add {{"instance_group_name": "{group}", "partition_name": "<partition>"}} '
            f'to "worker_groups" in {file} (or make it the "login_group")',
            "provisioning-groups",
        )
        for group in instance_groups
        if group not in named
    ]


def _node_type_mismatches(
    params: ProvisioningParameters, instance_groups: Mapping[str, str | None], file: str
) -> list[LintFinding]:
    out: list[LintFinding] = []
    for role, group in params.roles():
        node_type = instance_groups.get(group)
        expected = _SLURM_ROLES[role]
        if node_type and node_type != expected:
            out.append(
                _finding(
                    LintLevel.FAIL,
                    file,
                    None,
                    f'makes "{group}" a {role} group, but its SlurmConfig.NodeType in the '
                    f"config is {node_type}",
                    f'set SlurmConfig.NodeType to "{expected}" for "{group}" in the config, '
                    f"or give the group the role of a {node_type} in {file}",
                    "provisioning-groups",
                )
            )
    return out


def _fsx_region(
    params: ProvisioningParameters, file: str, text: str, region: str | None
) -> list[LintFinding]:
    m = _FSX_DNS.match(params.fsx_dns_name) if region and params.fsx_dns_name else None
    if m is None or m.group("region") == region:
        return []
    return [
        _finding(
            LintLevel.FAIL,
            file,
            _line_of_key(text, ["fsx_dns_name"]) if text else None,
            f"fsx_dns_name is in {m.group('region')}, the cluster in {region}: "
            "FSx for Lustre cannot be mounted across regions",
            f"use a file system in {region} (aws fsx describe-file-systems --region {region})",
            "provisioning-fsx",
        )
    ]


def check_provisioning_parameters(
    data: bytes,
    *,
    file: str = DEFAULT_FILE,
    instance_groups: Mapping[str, str | None] | None = None,
    region: str | None = None,
) -> ProvisioningCheck:
    """Parse the file and, when the config's groups are given, cross-check it with them."""
    params, findings = parse_provisioning_parameters(data, file=file)
    if params is not None and instance_groups is not None:
        text = data.decode("utf-8", errors="replace")
        findings.extend(cross_check(params, instance_groups, file=file, text=text, region=region))
    return ProvisioningCheck(parameters=params, findings=tuple(findings))


def _json_object(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def differing_fields(first: bytes, second: bytes) -> list[str] | None:
    """The top-level fields whose values differ between two copies of the file (a field
    present in one copy only included), sorted; None when either copy is not a JSON object
    (then only the bytes can be compared)."""
    one, other = _json_object(first), _json_object(second)
    if one is None or other is None:
        return None
    return sorted(k for k in one.keys() | other.keys() if one.get(k, ...) != other.get(k, ...))
