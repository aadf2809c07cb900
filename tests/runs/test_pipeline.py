"""The one run pipeline: every registered check judged with only the facts it declared,
one ``select_checks`` per run whatever its kind, and the view refusing undeclared reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import EXAMPLES

import hyperpod_preflight.runner as runner
import hyperpod_preflight.runs.pipeline as pipeline
from hyperpod_preflight.models import Report
from hyperpod_preflight.planner import build_plan
from hyperpod_preflight.registry import (
    CheckContext,
    Need,
    UndeclaredRead,
    all_checks,
    check,
    need,
)
from hyperpod_preflight.runs.gather import FactSources, Gatherer
from hyperpod_preflight.spec import load_spec


def _undeclared(report: Report) -> list[str]:
    """Findings of a judge (or its needs) that read what it did not declare."""
    return [
        f"{f.check_id}: {f.message}"
        for f in report.results
        if f.internal_error or "UndeclaredRead" in f.message
    ]


def test_every_check_that_reads_facts_declares_its_needs() -> None:
    """No check of any kind reads ``ctx.aws`` without ``needs=`` beside it (the 14 of issue
    17 among them: capacity.*, network.vpc-exists, slurm.fsx-*...)."""
    import inspect

    for kind in ("cluster", "vpc", "capacity"):
        for c in all_checks(kind):
            reads = "ctx.aws" in inspect.getsource(c.fn)
            if c.info.needs_aws or reads:
                assert c.declares_needs, f"{c.check_id} reads facts but declares no needs"
    assert [c.check_id for c in all_checks("host") if c.declares_needs] == []


@pytest.mark.parametrize("example", ["slurm", "eks"])
def test_every_check_runs_with_only_its_declared_facts(example: str) -> None:
    """The sandbox account of each example, through the normal pipeline: every judge gets a
    view holding exactly what its needs declared; a read of anything else would be an
    internal error (UndeclaredRead) in the report. Tools included (``only`` all areas)."""
    from hyperpod_preflight.sandbox.run import example_config, run_sandbox

    report = run_sandbox(example_config(example), only=[c.check_id for c in all_checks()]).report
    assert len({f.check_id for f in report.results}) == len(all_checks())
    assert _undeclared(report) == []


def test_the_view_refuses_a_read_the_check_did_not_declare() -> None:
    """A judge that reads beyond its needs gets UndeclaredRead, turned into an internal-error
    UNKNOWN naming the read; the same judge with the read declared passes."""

    class Facts:
        region = "us-west-2"
        account = "123456789012"
        calls: ClassVar[list[Any]] = []

        def vpc(self, vpc_id: str) -> dict[str, Any]:
            self.calls.append(vpc_id)
            return {"VpcId": vpc_id}

    def judge(ctx: CheckContext) -> list[Any]:
        from hyperpod_preflight.models import passed

        return [passed("-", str(ctx.aws.vpc("vpc-1")))]

    spec = load_spec(EXAMPLES / "slurm-p5-cluster.json")
    ctx = CheckContext(spec=spec, plan=build_plan(spec), facts=Facts())  # type: ignore[arg-type]
    for needs, expected in (
        (lambda s, p: [], "UNKNOWN"),
        (lambda s, p: [need("vpc", "vpc-1")], "PASS"),
    ):
        declared = check("config.test-view-probe", "probe", runner.Severity.LOW, needs=needs)
        declared(judge)
        probe = runner.all_checks()  # noqa: F841  (registry loaded)
        from hyperpod_preflight.registry import _REGISTRY

        c = _REGISTRY.pop("config.test-view-probe")
        gatherer = Gatherer(FactSources(aws=ctx.facts))
        (finding,) = runner.gather_and_judge(c, ctx, gatherer)
        assert finding.status.value == expected, finding.message
        if expected == "UNKNOWN":
            assert "UndeclaredRead" in finding.message and "vpc('vpc-1')" in finding.message
    assert Facts.calls == ["vpc-1"]  # only the declared read was made


def test_a_declared_batch_answers_a_part_of_it() -> None:
    gatherer = Gatherer(FactSources(aws=None))
    declared = need("subnets", ["subnet-a", "subnet-b"])
    view = gatherer.view("x", {declared.key})
    with pytest.raises(UndeclaredRead):
        view.subnets(["subnet-c"])
    assert isinstance(declared, Need)


def _count_selects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = runner.select_checks

    def counting(kind: str, selection: Any) -> Any:
        calls.append(kind)
        return real(kind, selection)

    monkeypatch.setattr(runner, "select_checks", counting)
    monkeypatch.setattr(pipeline, "select_checks", counting)
    return calls


def test_one_select_and_one_timing_per_check_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from hyperpod_preflight.preflight import run_cluster_preflight

    calls = _count_selects(monkeypatch)
    spec = load_spec(EXAMPLES / "slurm-p5-cluster.json")
    report = run_cluster_preflight(spec, offline=True)
    assert calls == ["cluster"]
    assert report.duration_s > 0


def test_one_select_per_sandbox_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from hyperpod_preflight.sandbox.run import run_sandbox

    calls = _count_selects(monkeypatch)
    run_sandbox(only=["network"])
    assert calls == ["cluster"]


def test_one_select_per_host_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hyperpod_preflight.host import run_host_preflight

    calls = _count_selects(monkeypatch)
    report = run_host_preflight(root=str(tmp_path))
    assert calls == ["host"]
    # timed once, from the start: reading the node is inside the run's duration
    assert report.duration_s >= 0


def test_check_audit_capacity_and_host_share_the_pipeline_module() -> None:
    """Each entry point hands the pipeline its preparation; none builds a report itself."""
    import inspect

    import hyperpod_preflight.audit as audit
    import hyperpod_preflight.capacity_run as capacity_run
    import hyperpod_preflight.host.api as host_api
    import hyperpod_preflight.preflight as preflight

    for module in (preflight, audit, capacity_run, host_api):
        source = inspect.getsource(module)
        assert "pipeline.run(" in source, module.__name__
        assert "select_checks" not in source and "Report(" not in source, module.__name__
