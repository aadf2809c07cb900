"""The Python API a provisioning script uses: typed models back, no printing, no exit."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLES

import hyperpod_preflight as hp


def test_plan_stays_a_function_after_the_planner_module_is_imported() -> None:
    import hyperpod_preflight.planner  # noqa: F401  (used to replace hp.plan by the module)

    assert callable(hp.plan) and hp.plan.__module__ == "hyperpod_preflight"


def test_load_plan_and_offline_run_return_models_and_print_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = hp.load_spec(EXAMPLES / "slurm-p5-cluster.json")
    assert isinstance(spec, hp.ClusterSpec)
    plan = hp.plan(spec)
    assert isinstance(plan, hp.ClusterPlan) and plan.total_instances == 6
    report = hp.run_preflight(spec, offline=True)
    assert isinstance(report, hp.Report)
    assert {f.area for f in report.results if f.status is not hp.Status.SKIP} <= {
        "config",
        "network",
    }
    assert not [f for f in report.results if f.area == "tools"]  # this machine: run_tools
    assert capsys.readouterr() == ("", "")


def test_bad_input_raises_input_error_not_system_exit() -> None:
    with pytest.raises(hp.InputError):
        hp.load_spec({"ClusterName": "c", "InstanceGroups": "not a list"}, strict=True)
    lenient = hp.load_spec({"ClusterName": "c", "InstanceGroups": "not a list"})
    assert [p.path for p in lenient.problems] == ["InstanceGroups"]
    spec = hp.load_spec(EXAMPLES / "slurm-p5-cluster.json")
    with pytest.raises(hp.InputError):
        hp.run_preflight(spec, offline=True, only=["no.such-check"])


def test_no_credentials_raise_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    spec = hp.load_spec(EXAMPLES / "slurm-p5-cluster.json")
    with pytest.raises(hp.CannotRunError):
        hp.run_preflight(spec)


def test_quota_request_api_plans_submits_once_and_sees_the_open_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from aws_world import healthy_network
    from conftest import moto_env
    from quota_stubs import (
        EC2_VPC_QUOTAS,
        ServiceQuotasFake,
        default_account,
        fresh_facts,
        sagemaker_quotas,
        slurm_config,
    )

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with moto_env():
        net = healthy_network(boto3.client("ec2", region_name="us-west-2"))
        applied, defaults = sagemaker_quotas(
            applied=default_account({"ml.p5.48xlarge for cluster usage": 2})
        )
        fake = ServiceQuotasFake(applied=[*applied, *EC2_VPC_QUOTAS], defaults=defaults)
        facts = fresh_facts()
        fake.attach(facts)
        spec = hp.load_spec(slurm_config([net.subnets["a"]], [net.sgs["efa"]]))

        plans = hp.plan_quota_requests(spec, facts=facts)
        p5 = next(p for p in plans if p.quota_name == "ml.p5.48xlarge for cluster usage")
        assert p5.action == "submit" and p5.desired_value == 4
        results = hp.submit_quota_requests(plans, facts=facts)
        submitted = [r for r in results if r.action == "submitted"]
        assert [r.quota_name for r in submitted] == [p5.quota_name]
        assert submitted[0].request_id

        again = hp.plan_quota_requests(spec, facts=fresh_facts_with(fake))
        p5_again = next(p for p in again if p.quota_name == p5.quota_name)
        assert p5_again.action == "already-pending"


def fresh_facts_with(fake: object) -> object:
    from quota_stubs import fresh_facts

    facts = fresh_facts()
    fake.attach(facts)  # type: ignore[attr-defined]
    return facts


RUNS = (
    "run_check",
    "run_audit",
    "run_capacity",
    "run_quotas_plan",
    "run_quotas_request",
    "run_host",
    "run_lifecycle_lint",
    "run_tools",
    "run_sandbox",
)


def test_one_typed_function_per_kind_of_run_taking_one_frozen_options_object() -> None:
    import dataclasses
    import inspect

    from hyperpod_preflight import options as options_module

    for name in RUNS:
        signature = inspect.signature(getattr(hp, name))
        written = [str(p.annotation) for p in signature.parameters.values()]
        assert "Any" not in " ".join([*written, str(signature.return_annotation)]), name
        first = getattr(options_module, written[0])
        assert dataclasses.is_dataclass(first) and first.__dataclass_params__.frozen, name
        assert written[0] in hp.__all__, name


def test_every_options_type_is_frozen_and_uses_literal_enumerations() -> None:
    import dataclasses
    import typing

    opts = hp.CheckOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.offline = True  # type: ignore[misc]
    fail_on = typing.get_type_hints(hp.Selection)["fail_on"]
    assert typing.get_origin(fail_on) is typing.Literal


def test_run_tools_and_run_lifecycle_lint_return_reports(tmp_path: Path) -> None:
    (tmp_path / "on_create.sh").write_bytes(b"#!/bin/bash\r\necho hi\r\n")
    report = hp.run_lifecycle_lint(hp.LintOptions(paths=(tmp_path,), run_tools=False))
    assert isinstance(report, hp.Report) and report.summary.exit_code == 1
    assert any(f.details.get("rule") == "crlf" for f in report.results)
    tools = hp.run_tools(hp.ToolsOptions(orchestrator="slurm"))
    assert {f.area for f in tools.results} == {"tools"}
