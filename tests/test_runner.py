"""The check engine: error isolation, --offline, --ignore, --fail-on, concurrency, order."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import pytest

from hyperpod_preflight.errors import InputError
from hyperpod_preflight.facts import FactUnavailable
from hyperpod_preflight.models import (
    CheckInfo,
    Outcome,
    Severity,
    Status,
    failed,
    passed,
    warned,
)
from hyperpod_preflight.registry import Check
from hyperpod_preflight.runner import (
    CheckContext,
    RunContext,
    Selection,
    run_checks,
    select_checks,
    summarize,
)


def make_check(
    check_id: str,
    fn: Callable[[CheckContext], Iterable[Outcome]],
    *,
    needs_aws: bool = False,
    severity: Severity = Severity.HIGH,
) -> Check:
    info = CheckInfo(
        check_id=check_id,
        area=check_id.split(".")[0],
        title=check_id,
        severity=severity,
        needs_aws=needs_aws,
    )
    return Check(info=info, fn=fn)


def test_a_crashing_check_becomes_unknown_and_the_others_still_run() -> None:
    def boom(ctx: CheckContext) -> list[Outcome]:
        raise KeyError("VpcId")

    checks = [
        make_check("network.boom", boom),
        make_check("network.fine", lambda ctx: [passed("vpc-1", "fine")]),
    ]
    findings = run_checks(checks, RunContext(), Selection())
    assert [(f.check_id, f.status) for f in findings] == [
        ("network.boom", Status.UNKNOWN),
        ("network.fine", Status.PASS),
    ]
    assert "KeyError" in findings[0].message
    assert findings[0].status is not Status.FAIL


def test_access_denied_is_unknown_naming_the_iam_action() -> None:
    def denied(ctx: CheckContext) -> list[Outcome]:
        raise FactUnavailable("ec2:DescribeSubnets", "denied", "UnauthorizedOperation")

    (finding,) = run_checks([make_check("network.denied", denied)], RunContext(), Selection())
    assert finding.status is Status.UNKNOWN
    assert "ec2:DescribeSubnets" in finding.message
    assert "ec2:DescribeSubnets" in finding.remediation
    assert finding.details["action"] == "ec2:DescribeSubnets"


def test_offline_skips_checks_that_need_aws_without_calling_them() -> None:
    called = []

    def aws_check(ctx: CheckContext) -> list[Outcome]:
        called.append(True)
        return [passed("x", "x")]

    (finding,) = run_checks(
        [make_check("network.aws", aws_check, needs_aws=True)], RunContext(), Selection()
    )
    assert finding.status is Status.SKIP and "offline" in finding.message
    assert called == []


def test_a_check_with_nothing_to_say_reports_skip() -> None:
    (finding,) = run_checks([make_check("config.empty", lambda ctx: [])], RunContext(), Selection())
    assert finding.status is Status.SKIP


def _two_failures() -> list[Check]:
    return [
        make_check("network.a", lambda ctx: [failed("sg-1", "bad", "fix it")]),
        make_check("quotas.b", lambda ctx: [failed("ml.p5.48xlarge", "short", "ask")]),
    ]


def test_ignore_downgrades_fail_to_warn_and_keeps_it_visible() -> None:
    findings = run_checks(_two_failures(), RunContext(), Selection(ignore=["network.a"]))
    by_id = {f.check_id: f for f in findings}
    assert by_id["network.a"].status is Status.WARN and by_id["network.a"].ignored
    assert "ignored" in by_id["network.a"].message
    assert by_id["quotas.b"].status is Status.FAIL and not by_id["quotas.b"].ignored
    assert summarize(findings, "fail").exit_code == 1


def test_ignore_all_and_ignore_an_area() -> None:
    all_ignored = run_checks(_two_failures(), RunContext(), Selection(ignore=["all"]))
    assert {f.status for f in all_ignored} == {Status.WARN}
    assert summarize(all_ignored, "fail").exit_code == 0
    assert summarize(all_ignored, "warn").exit_code == 1
    area = run_checks(_two_failures(), RunContext(), Selection(ignore=["quotas"]))
    assert [f.status for f in area] == [Status.FAIL, Status.WARN]


def test_fail_on_levels() -> None:
    warn_only = run_checks(
        [make_check("network.w", lambda ctx: [warned("subnet-1", "public", "make private")])],
        RunContext(),
        Selection(),
    )
    assert summarize(warn_only, "fail").exit_code == 0
    assert summarize(warn_only, "warn").exit_code == 1
    unknown_only = run_checks(
        [
            make_check(
                "network.u", lambda ctx: [Outcome(status=Status.UNKNOWN, resource="-", message="?")]
            )
        ],
        RunContext(),
        Selection(),
    )
    assert summarize(unknown_only, "warn").exit_code == 0
    assert summarize(unknown_only, "unknown").exit_code == 1


def test_checks_run_concurrently_and_results_keep_check_order() -> None:
    barrier = threading.Barrier(3, timeout=5)

    def waits(name: str) -> Callable[[CheckContext], list[Outcome]]:
        def fn(ctx: CheckContext) -> list[Outcome]:
            barrier.wait()  # only returns if all three run at the same time
            return [passed(name, "ok")]

        return fn

    checks = [make_check(f"network.c{i}", waits(f"r{i}")) for i in range(3)]
    findings = run_checks(checks, RunContext(), Selection(concurrency=3))
    assert [f.resource for f in findings] == ["r0", "r1", "r2"]
    assert all(f.status is Status.PASS for f in findings)


def test_severity_override_and_default() -> None:
    check = make_check(
        "network.s",
        lambda ctx: [
            failed("a", "m", "r"),
            failed("b", "m", "r", severity=Severity.CRITICAL),
        ],
        severity=Severity.MEDIUM,
    )
    first, second = run_checks([check], RunContext(), Selection())
    assert first.severity is Severity.MEDIUM and second.severity is Severity.CRITICAL


def test_unknown_ids_in_selection_are_bad_input_with_a_suggestion() -> None:
    with pytest.raises(InputError) as info:
        select_checks("cluster", Selection(skip=["config.unique-group-name"]))
    message = str(info.value)
    assert "--skip" in message and "config.unique-group-names" in message
    with pytest.raises(InputError):
        select_checks("cluster", Selection(only=["all"]))


def test_only_and_skip_by_id_and_area() -> None:
    only_config = select_checks("cluster", Selection(only=["config"]))
    assert only_config and all(c.info.area == "config" for c in only_config)
    skipped = select_checks("cluster", Selection(skip=["config"]))
    assert all(c.info.area != "config" for c in skipped)


def test_an_internal_error_is_marked_keeps_earlier_outcomes_and_fails_under_unknown() -> None:
    def half(ctx: CheckContext) -> Iterable[Outcome]:
        yield passed("subnet-a", "fine")
        raise AttributeError("'NoneType' object has no attribute 'get'")

    findings = run_checks([make_check("network.half", half)], RunContext(), Selection())
    assert [f.status for f in findings] == [Status.PASS, Status.UNKNOWN]
    crashed = findings[1]
    assert crashed.internal_error is True
    assert crashed.details["error"] == "AttributeError"
    assert "internal error" in crashed.message and "HP_PREFLIGHT_DEBUG=1" in crashed.remediation
    assert summarize(findings, "fail").internal_errors == 1
    assert summarize(findings, "unknown").exit_code == 1


def test_a_denied_read_is_not_an_internal_error() -> None:
    def denied(ctx: CheckContext) -> list[Outcome]:
        raise FactUnavailable("ec2:DescribeSubnets", "denied", "AccessDenied")

    (finding,) = run_checks([make_check("network.d", denied)], RunContext(), Selection())
    assert finding.status is Status.UNKNOWN and finding.internal_error is False
