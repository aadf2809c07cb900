"""Slurm provisioning_parameters.json: parsing, field errors, cross-check with the config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperpod_preflight as hp
from hyperpod_preflight.analysis.lifecycle_models import LintFinding, LintLevel
from hyperpod_preflight.analysis.provisioning import (
    ProvisioningParameters,
    check_provisioning_parameters,
    parse_provisioning_parameters,
)

REPO = Path(__file__).resolve().parents[2]
GROUPS = {"controller": "Controller", "login": "Login", "workers": "Compute"}
VALID: dict[str, Any] = {
    "version": "1.0.0",
    "workload_manager": "slurm",
    "controller_group": "controller",
    "login_group": "login",
    "worker_groups": [{"instance_group_name": "workers", "partition_name": "gpu"}],
}


def dump(doc: Any) -> bytes:
    return json.dumps(doc, indent=2).encode()


def check(doc: Any, groups: dict[str, str | None] | None = GROUPS, **kw: Any) -> list[LintFinding]:
    data = doc if isinstance(doc, bytes) else dump(doc)
    return list(check_provisioning_parameters(data, instance_groups=groups, **kw).findings)


def with_(**changes: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(VALID))
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def test_templates_parse_and_match_the_example_config() -> None:
    spec = hp.load_spec(REPO / "examples" / "slurm-p5-cluster.json")
    groups = {g.name: g.slurm_node_type for g in spec.instance_groups}
    for path in (
        REPO / "lifecycle" / "provisioning_parameters.slurm-p5.json",
        REPO / "lifecycle" / "slurm" / "provisioning_parameters.json",
    ):
        result = check_provisioning_parameters(path.read_bytes(), instance_groups=groups)
        assert result.findings == ()
        assert isinstance(result.parameters, ProvisioningParameters)
        assert result.parameters.controller_group == "controller"


def test_extra_keys_are_kept() -> None:
    params, findings = parse_provisioning_parameters(dump(with_(custom_flag=True)))
    assert findings == []
    assert params is not None and params.extra == {"custom_flag": True}


def test_corrupted_file_fails_with_line_and_column() -> None:
    corrupted = dump(VALID)[:-30]  # cut off mid-way, as an interrupted upload would
    [finding] = check(corrupted)
    assert (finding.rule, finding.level) == ("json-syntax", LintLevel.FAIL)
    assert finding.line is not None and finding.line > 1
    assert f"line {finding.line} column" in finding.message
    assert "python3 -m json.tool" in finding.remediation


def test_trailing_comma_fails_on_its_line() -> None:
    text = b'{\n  "version": "1.0.0",\n  "worker_groups": [],\n}\n'
    [finding] = check(text)
    assert (finding.rule, finding.line) == ("json-syntax", 4)


@pytest.mark.parametrize(
    ("doc", "field", "line"),
    [
        (with_(controller_group=None), "controller_group", None),
        (with_(version=None), "version", None),
        (with_(worker_groups=[]), "worker_groups", 6),
        (with_(worker_groups="workers"), "worker_groups", 6),
        (with_(controller_group=7), "controller_group", 4),
        (with_(login_group=["login"]), "login_group", 5),
        (
            with_(worker_groups=[{"instance_group_name": "workers", "partition_name": 5}]),
            "worker_groups[0].partition_name",
            9,
        ),
        (
            with_(worker_groups=[{"instance_group_name": "workers"}]),
            "worker_groups[0].partition_name",
            6,
        ),
    ],
)
def test_wrong_or_missing_fields_fail_naming_the_field(
    doc: dict[str, Any], field: str, line: int | None
) -> None:
    findings = check(doc, groups=None)
    assert [(f.rule, f.level) for f in findings] == [("provisioning-field", LintLevel.FAIL)]
    assert f'"{field}"' in findings[0].message
    assert findings[0].line == line
    assert field.split(".")[0].split("[")[0] in findings[0].remediation


def test_not_an_object_fails() -> None:
    [finding] = check(b'["controller"]', groups=None)
    assert "must be a JSON object, not a list" in finding.message


def test_bom_and_latin1_fail() -> None:
    [bom] = check(b"\xef\xbb\xbf" + dump(VALID))
    assert (bom.rule, bom.level) == ("bom", LintLevel.FAIL)
    [latin1] = check(dump(VALID).replace(b"gpu", b"gp\xfc"))
    assert (latin1.rule, latin1.line) == ("invalid-utf8", 9)


def test_duplicate_keys_warn() -> None:
    text = dump(VALID).replace(b'"version"', b'"login_group": "x",\n  "version"', 1)
    findings = check(text)
    assert [(f.rule, f.level) for f in findings] == [("provisioning-field", LintLevel.WARN)]
    assert "login_group" in findings[0].message


def test_other_workload_manager_warns() -> None:
    [finding] = check(with_(workload_manager="kubernetes"))
    assert finding.level is LintLevel.WARN


# -- cross-check with the config's instance groups -----------------------------------------------
def test_group_missing_from_the_config_fails_with_the_closest_name() -> None:
    findings = check(with_(controller_group="controler"))
    assert [(f.rule, f.level) for f in findings] == [
        ("provisioning-groups", LintLevel.FAIL),  # "controler" is not a group
        ("provisioning-groups", LintLevel.FAIL),  # "controller" is not named
    ]
    assert 'set "controller_group": "controller"' in findings[0].remediation
    assert findings[0].line == 4
    assert 'does not name instance group "controller"' in findings[1].message


def test_config_group_not_named_fails_with_the_entry_to_add() -> None:
    [finding] = check(VALID, groups={**GROUPS, "inference": None})
    assert finding.level is LintLevel.FAIL
    assert '{"instance_group_name": "inference", "partition_name": "<partition>"}' in (
        finding.remediation
    )


def test_group_in_two_roles_fails() -> None:
    doc = with_(login_group="workers")
    findings = check(doc, groups={"controller": None, "workers": None})
    assert any("more than one place (login, worker)" in f.message for f in findings)
    assert all(f.level is LintLevel.FAIL for f in findings)


def test_node_type_disagreeing_with_the_role_fails() -> None:
    findings = check(VALID, groups={"controller": "Compute", "login": None, "workers": None})
    [finding] = findings
    assert "SlurmConfig.NodeType in the config is Compute" in finding.message


def test_no_login_group_is_fine() -> None:
    assert check(with_(login_group=None), groups={"controller": None, "workers": None}) == []


FSX = "fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com"


def test_fsx_in_the_cluster_region_is_fine_and_elsewhere_fails() -> None:
    doc = with_(fsx_dns_name=FSX, fsx_mountname="abcdefgh")
    assert check(doc, region="us-west-2") == []
    [finding] = check(doc, region="us-east-1")
    assert (finding.rule, finding.level) == ("provisioning-fsx", LintLevel.FAIL)


def test_fsx_name_of_the_wrong_form_or_alone_warns() -> None:
    [bad_form] = check(with_(fsx_dns_name="myfs.example.com", fsx_mountname="x"))
    assert (bad_form.rule, bad_form.level) == ("provisioning-fsx", LintLevel.WARN)
    [alone] = check(with_(fsx_dns_name=FSX))
    assert "fsx_mountname is not" in alone.message


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_parsing_never_raises(data: bytes) -> None:
    result = check_provisioning_parameters(data, instance_groups=GROUPS, region="us-west-2")
    assert result.parameters is not None or result.findings


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from([*VALID, "instance_group_name", "partition_name", "x"]),
                inner,
                max_size=6,
            )
        ),
        max_leaves=20,
    )
)
def test_any_json_document_gets_findings_or_parameters(doc: Any) -> None:
    result = check_provisioning_parameters(dump(doc), instance_groups=GROUPS)
    assert result.parameters is not None or result.findings


def test_differing_fields_names_top_level_keys_that_differ() -> None:
    from hyperpod_preflight.analysis.provisioning import differing_fields

    one = b'{"controller_group": "c", "fsx_mountname": "a", "extra": 1}'
    other = b'{\n  "fsx_mountname": "b",\n  "controller_group": "c"\n}'
    assert differing_fields(one, other) == ["extra", "fsx_mountname"]
    assert differing_fields(one, one.replace(b", ", b",\n ")) == []
    assert differing_fields(b"\xef\xbb\xbf" + one, one) == []  # a BOM changes no value
    assert differing_fields(b"[1]", one) is None and differing_fields(b"{", one) is None


# -- the validator against pydantic's strict model of the same fields ----------------------------
# The lint validates without pydantic (start-up time of a pre-commit hook); what it reports
# must be exactly what pydantic's strict model reports: same type, place and message.
def _pydantic_oracle() -> Any:
    from pydantic import BaseModel, ConfigDict, Field

    class WorkerGroup(BaseModel):
        model_config = ConfigDict(extra="allow", strict=True)
        instance_group_name: str = Field(min_length=1)
        partition_name: str = Field(min_length=1)

    class ProvisioningParameters(BaseModel):
        model_config = ConfigDict(extra="allow", strict=True)
        version: str = Field(min_length=1)
        workload_manager: str = Field(min_length=1)
        controller_group: str = Field(min_length=1)
        login_group: str | None = Field(default=None, min_length=1)
        worker_groups: list[WorkerGroup] = Field(min_length=1)
        fsx_dns_name: str | None = None
        fsx_mountname: str | None = None

    return ProvisioningParameters


_ORACLE = _pydantic_oracle()
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "a", "slurm"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(["x"]), inner),
    max_leaves=4,
)
_WORKER_DOCS = st.dictionaries(
    st.sampled_from(["instance_group_name", "partition_name", "other"]), _JSON_VALUES
)
_DOCS = st.dictionaries(
    st.sampled_from([*VALID, "fsx_dns_name", "fsx_mountname", "extra"]),
    _JSON_VALUES | st.lists(_WORKER_DOCS | _JSON_VALUES, max_size=3),
)


def _same_as_pydantic(doc: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from hyperpod_preflight.analysis.provisioning_model import validate

    params, problems = validate(doc)
    try:
        model = _ORACLE.model_validate(doc)
    except ValidationError as e:
        expected = [(x["type"], tuple(x["loc"]), x["msg"]) for x in e.errors()]
        assert params is None
        assert [(p.type, p.loc, p.msg) for p in problems] == expected
    else:
        assert problems == [] and params is not None
        assert params.roles() == [
            *[("controller", model.controller_group)],
            *([("login", model.login_group)] if model.login_group is not None else []),
            *[("worker", w.instance_group_name) for w in model.worker_groups],
        ]
        assert (params.fsx_dns_name, params.fsx_mountname) == (
            model.fsx_dns_name,
            model.fsx_mountname,
        )
        assert params.extra == (model.model_extra or {})


@settings(max_examples=400, deadline=None)
@given(_DOCS)
def test_the_validator_reports_what_pydantics_strict_model_reports(doc: dict[str, Any]) -> None:
    _same_as_pydantic(doc)


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {**VALID, "worker_groups": []},
        {**VALID, "worker_groups": "x"},
        {**VALID, "worker_groups": [1, {"instance_group_name": ""}, {"partition_name": 2}]},
        {**VALID, "login_group": "", "fsx_dns_name": 3, "version": True},
        {**VALID, "login_group": None, "fsx_mountname": None},
    ],
)
def test_the_validator_on_each_kind_of_problem(doc: dict[str, Any]) -> None:
    _same_as_pydantic(doc)
