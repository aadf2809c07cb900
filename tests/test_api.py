"""The Python API a provisioning script uses: typed models back, no printing, no exit."""

from __future__ import annotations

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
    assert capsys.readouterr() == ("", "")


def test_bad_input_raises_input_error_not_system_exit() -> None:
    with pytest.raises(hp.InputError):
        hp.load_spec({"ClusterName": "c", "InstanceGroups": "not a list"})
    spec = hp.load_spec(EXAMPLES / "slurm-p5-cluster.json")
    with pytest.raises(hp.InputError):
        hp.run_preflight(spec, offline=True, only=["no.such-check"])


def test_no_credentials_raise_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    spec = hp.load_spec(EXAMPLES / "slurm-p5-cluster.json")
    with pytest.raises(hp.CannotRunError):
        hp.run_preflight(spec)
