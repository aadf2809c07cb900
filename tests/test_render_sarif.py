"""`--output sarif` is a valid SARIF 2.1.0 log with rules from the registry and results at the
template's lines.

No well-kept PyPI package ships the SARIF 2.1.0 JSON schema (checked: sarif-om 1.0.4,
sarif-tools 3.0.5 and sarif-pydantic 0.6.2 ship none; check-jsonschema's vendored catalog has
no SARIF), and the tests run without network, so the log is validated with `jsonschema`
against the schema below: the OASIS specification's requirements, field by field, for every
object the renderer writes (section numbers of
https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html), plus the cross-references
the schema cannot express (ruleIndex → rules[ruleIndex].id)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from hp_configs import SG
from jsonschema import Draft202012Validator

from hyperpod_preflight.cli import main
from hyperpod_preflight.models import Finding, Report, Severity, Status
from hyperpod_preflight.render_sarif import render_sarif

STACK = Path(__file__).parent / "spec" / "iac" / "eks-cluster-stack.yaml"

_TEXT = {"type": "string", "minLength": 1}
_MESSAGE = {  # §3.11: a message has text (or an id); text is a string
    "type": "object",
    "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
    "properties": {"text": {"type": "string"}, "markdown": {"type": "string"}},
}
_MULTIFORMAT = {  # §3.12 multiformatMessageString: text required
    "type": "object",
    "required": ["text"],
    "properties": {"text": {"type": "string"}, "markdown": {"type": "string"}},
}
_REGION = {  # §3.30: 1-based line and column
    "type": "object",
    "properties": {
        "startLine": {"type": "integer", "minimum": 1},
        "startColumn": {"type": "integer", "minimum": 1},
    },
}
_LOCATION = {  # §3.28 location, §3.29 physicalLocation, §3.4 artifactLocation, §3.33
    "type": "object",
    "properties": {
        "physicalLocation": {
            "type": "object",
            "anyOf": [{"required": ["artifactLocation"]}, {"required": ["address"]}],
            "properties": {
                "artifactLocation": {
                    "type": "object",
                    "properties": {
                        "uri": {"type": "string", "format": "uri-reference"},
                        "uriBaseId": {"type": "string"},
                    },
                },
                "region": _REGION,
            },
        },
        "logicalLocations": {
            "type": "array",
            "items": {"type": "object", "properties": {"fullyQualifiedName": {"type": "string"}}},
        },
    },
}
SARIF_SUBSET: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",  # §3.13 sarifLog: version "2.1.0" and runs are required
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {
            "type": "array",
            "items": {  # §3.14 run: tool is required
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {  # §3.18 tool: driver required; §3.19 toolComponent: name
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": _TEXT,
                                    "version": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {  # §3.49 reportingDescriptor: id required
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "id": _TEXT,
                                                "name": {"type": "string"},
                                                "shortDescription": _MULTIFORMAT,
                                                "fullDescription": _MULTIFORMAT,
                                                "help": _MULTIFORMAT,
                                                "helpUri": {"type": "string", "format": "uri"},
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {
                                                        "level": {
                                                            "enum": [
                                                                "none",
                                                                "note",
                                                                "warning",
                                                                "error",
                                                            ]
                                                        }
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    # §3.14.14 columnKind
                    "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                    "invocations": {  # §3.20 invocation: executionSuccessful required
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["executionSuccessful"],
                            "properties": {
                                "executionSuccessful": {"type": "boolean"},
                                "exitCode": {"type": "integer"},
                            },
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {  # §3.27 result: message required
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": _TEXT,
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": _MESSAGE,
                                "locations": {"type": "array", "items": _LOCATION},
                                "partialFingerprints": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                                "suppressions": {  # §3.35 suppression: kind required
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["kind"],
                                        "properties": {
                                            "kind": {"enum": ["inSource", "external"]},
                                            "status": {
                                                "enum": ["accepted", "underReview", "rejected"]
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def validate(log: dict[str, Any]) -> None:
    validator = Draft202012Validator(
        SARIF_SUBSET, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    # format "uri" (§3.49.12 helpUri, $schema) is not checked by jsonschema without the
    # optional rfc3987 package: an absolute URI has a scheme and a host or path
    for uri in [log.get("$schema", "https://x/")] + [
        r["helpUri"]
        for run in log["runs"]
        for r in run["tool"]["driver"]["rules"]
        if "helpUri" in r
    ]:
        parsed = urlparse(uri)
        assert parsed.scheme and (parsed.netloc or parsed.path), uri
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        for result in run["results"]:  # §3.27.6: ruleIndex names the rule of ruleId
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_the_validator_rejects_what_the_specification_forbids() -> None:
    good = {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x", "rules": []}}, "results": []}],
    }
    validate(good)
    for bad in (
        {**good, "version": "2.0.0"},
        {"version": "2.1.0", "runs": [{"results": []}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                       "results": [{"level": "fatal", "message": {"text": ""}}]}]},
    ):  # fmt: skip
        with pytest.raises(AssertionError):
            validate(bad)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_sarif_of_a_template_is_valid_and_points_at_its_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["check", "--offline", "--config", str(STACK), "-o", "sarif", "--only", "config"]
    args += ["--parameter", f"SecurityGroupId={SG}", "--parameter", "ClusterNameParam=bad_name!"]
    code, out, err = run_cli(args, capsys)
    assert code == 1, err
    log = json.loads(out)
    validate(log)
    (run,) = log["runs"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    schema_rule = rules["config.schema"]
    assert schema_rule["shortDescription"]["text"] == (
        "Config is valid against botocore's CreateCluster model"
    )
    assert "docs/checks.md#configschema" in schema_rule["help"]["text"]
    (failure,) = [r for r in run["results"] if r["ruleId"] == "config.schema"]
    assert failure["level"] == "error"
    assert "does not match the ClusterName pattern" in failure["message"]["text"]
    lines = STACK.read_text().splitlines()
    line = next(i for i, t in enumerate(lines, 1) if "ClusterName: !Ref ClusterNameParam" in t)
    (location,) = failure["locations"]
    assert location["physicalLocation"]["region"] == {"startLine": line, "startColumn": 20}
    assert location["physicalLocation"]["artifactLocation"]["uri"] == STACK.as_uri()
    assert location["logicalLocations"][0]["fullyQualifiedName"] == (
        "Resources.HyperPodCluster.Properties.ClusterName"
    )
    # only alerts: no PASS or SKIP result
    assert {r["level"] for r in run["results"]} <= {"error", "warning", "note"}


def test_levels_relative_paths_and_ignored_findings() -> None:
    from hyperpod_preflight.models import Location

    def finding(status: Status, check_id: str, **extra: Any) -> Finding:
        return Finding(
            check_id=check_id,
            area=check_id.split(".")[0],
            status=status,
            severity=Severity.HIGH,
            resource="r",
            message="m",
            **extra,
        )

    here = Location(file="infra/cluster.yaml", line=3, column=5, path="Resources.C")
    report = Report(
        results=[
            finding(Status.FAIL, "config.schema", location=here),
            finding(Status.WARN, "config.schema", ignored=True, remediation="do x"),
            finding(Status.UNKNOWN, "network.egress"),
            finding(Status.PASS, "config.unique-group-names"),
            finding(Status.SKIP, "config.eks-vpc-config"),
        ]
    )
    log = json.loads(render_sarif(report))
    validate(log)
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "infra/cluster.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    # a finding without a location points at the config file the run read
    assert results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "infra/cluster.yaml"
    )
    assert results[1]["suppressions"][0]["kind"] == "external"
    assert results[1]["message"]["text"] == "m\nFix: do x"
    assert [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]] == [
        "config.schema",
        "network.egress",
    ]
