"""`hp-preflight quotas` and `hp-preflight quotas request`: tables, exit codes, dry run vs
--yes, case ids, --wait. Spec, plan and facts are handed in through the click context
object (as a provisioning script would); input and could-not-run errors go through the
real entry point."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import moto_env
from quota_stubs import (
    EC2_VPC_QUOTAS,
    P5,
    ServiceQuotasFake,
    change,
    create_existing_clusters,
    default_account,
    fresh_facts,
    sagemaker_quotas,
    slurm_config,
)

from hyperpod_preflight.cli import cli, main
from hyperpod_preflight.planner import build_plan
from hyperpod_preflight.spec import load_spec

P5_QUOTA = f"{P5} for cluster usage"
P5_CODE = "L-8762A75F"


@pytest.fixture(scope="module")
def world() -> Iterator[None]:
    import boto3

    with moto_env():
        create_existing_clusters(boto3.client("sagemaker", region_name="us-west-2"))
        yield


@pytest.fixture(autouse=True)
def _lifted(_fail_closed_env: None, monkeypatch: pytest.MonkeyPatch, world: None) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def invoke(
    args: list[str], changes: dict[str, float | None] | None = None, **fake_kwargs: Any
) -> tuple[int, str, ServiceQuotasFake]:
    """Run `hp-preflight ARGS` with a Service Quotas fake; (exit code, output, fake)."""
    spec = load_spec(slurm_config([], []))
    spec = replace(spec, source="cluster.json")
    applied, defaults = sagemaker_quotas(applied=default_account(changes))
    fake = ServiceQuotasFake(applied + EC2_VPC_QUOTAS, defaults, **fake_kwargs)
    facts = fresh_facts()
    fake.attach(facts)
    result = CliRunner().invoke(
        cli,
        args,
        obj={"spec": spec, "plan": build_plan(spec), "facts": facts},
        standalone_mode=False,
        catch_exceptions=False,
    )
    return int(result.return_value), result.output, fake


def test_quotas_table_passes() -> None:
    code, out, _ = invoke(["quotas"])
    assert code == 0
    assert "APPLIED VALUE" in out and "IN USE" in out and "THIS CONFIG NEEDS" in out
    assert "DEFICIT" in out
    row = next(line for line in out.splitlines() if line.startswith(P5_QUOTA))
    assert row.split()[-5:] == [P5_CODE, "8", "3", "4", "0"]
    assert "Advisory" in out and "quota(s) short" not in out


def test_quotas_table_with_a_deficit_exits_1() -> None:
    code, out, fake = invoke(["quotas"], {P5_QUOTA: 6})
    assert code == 1
    row = next(line for line in out.splitlines() if line.startswith(P5_QUOTA))
    assert row.split()[-5:] == [P5_CODE, "6", "3", "4", "1"]
    assert "1 quota(s) short" in out and "hp-preflight quotas request --config cluster.json" in out
    assert fake.calls("RequestServiceQuotaIncrease") == 0
    assert fake.calls("ListRequestedServiceQuotaChangeHistoryByQuota") == 0


def test_quotas_json() -> None:
    code, out, _ = invoke(["quotas", "--output", "json"], {P5_QUOTA: 6})
    data = json.loads(out)
    assert code == 1 and data["short"] == 1 and data["region"] == "us-west-2"
    p5 = next(q for q in data["quotas"] if q["quota_name"] == P5_QUOTA)
    assert (p5["current_value"], p5["in_use"], p5["needed"], p5["deficit"]) == (6, 3, 4, 1)
    assert {f["check_id"] for f in data["advisory"]} == {
        "quotas.network-interfaces",
        "quotas.elastic-ips",
        "quotas.ec2-vcpus",
    }


def test_request_without_yes_is_a_dry_run() -> None:
    code, out, fake = invoke(["quotas", "request", "--headroom", "1"], {P5_QUOTA: 6})
    assert code == 0
    assert "dry run: nothing submitted" in out
    assert "hp-preflight quotas request --config cluster.json --yes" in out
    assert (
        "aws service-quotas request-service-quota-increase --service-code sagemaker "
        f"--quota-code {P5_CODE} --desired-value 8 --region us-west-2" in out
    )
    assert fake.calls("RequestServiceQuotaIncrease") == 0


def test_request_with_yes_submits_and_prints_case_ids() -> None:
    code, out, fake = invoke(["quotas", "request", "--yes"], {P5_QUOTA: 6})
    assert code == 0
    assert [s["DesiredValue"] for s in fake.submitted] == [7]
    assert f"submitted: {P5_QUOTA} → 7: request req-0001, case case-0001, status PENDING" in out


def test_request_wait_polls_to_approved() -> None:
    code, out, fake = invoke(
        ["quotas", "request", "--yes", "--wait", "--wait-timeout", "5", "--poll", "0.01"],
        {P5_QUOTA: 6},
    )
    assert code == 0 and "status APPROVED" in out
    assert fake.calls("GetRequestedServiceQuotaChange") == 2


def test_request_wait_timeout_exits_1() -> None:
    code, out, _ = invoke(
        ["quotas", "request", "--yes", "--wait", "--wait-timeout", "0.05", "--poll", "0.01"],
        {P5_QUOTA: 6},
        progression=("PENDING",),
    )
    assert code == 1 and "timed out waiting" in out


def test_request_never_duplicates_a_pending_one() -> None:
    pending = change("r-9", "sagemaker", P5_CODE, P5_QUOTA, 12, "PENDING", case_id="c-9")
    code, out, fake = invoke(["quotas", "request", "--yes"], {P5_QUOTA: 6}, history=[pending])
    assert code == 0 and fake.calls("RequestServiceQuotaIncrease") == 0
    assert "already-pending" in out and "request r-9, case c-9" in out


# -- through the real entry point: exit codes 2 and 3, one line, no traceback -------------
def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.err


def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = _main(["quotas", "--config", str(tmp_path / "missing.json")], capsys)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, err = _main(["quotas", "request", "--headroom", "-1"], capsys)
    assert code == 2
    code, err = _main(["quotas", "request", "--wait"], capsys)
    assert code == 2 and "--yes" in err


def test_unreachable_endpoint_exits_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from conftest import LOOPBACK_ENDPOINT

    monkeypatch.setenv("AWS_ENDPOINT_URL", LOOPBACK_ENDPOINT)  # nothing listens there
    config = tmp_path / "cluster.json"
    config.write_text(json.dumps(slurm_config([], [])))
    code, err = _main(["quotas", "request", "--config", str(config)], capsys)
    assert code == 3 and "Traceback" not in err and "hp-preflight: error:" in err


def test_config_file_is_loaded_and_planned(tmp_path: Path) -> None:
    config = tmp_path / "cluster.json"
    config.write_text(json.dumps(slurm_config([], [], workers_count=5)))
    applied, defaults = sagemaker_quotas(applied=default_account())
    fake = ServiceQuotasFake(applied + EC2_VPC_QUOTAS, defaults)
    facts = fresh_facts()
    fake.attach(facts)
    result = CliRunner().invoke(
        cli,
        ["quotas", "request", "--config", str(config)],
        obj={"facts": facts},
        standalone_mode=False,
        catch_exceptions=False,
    )
    assert result.return_value == 0
    row = next(line for line in result.output.splitlines() if line.startswith(P5_QUOTA))
    # code, current, in use, needs, desired, action
    assert row[len(P5_QUOTA) :].split()[:6] == [P5_CODE, "8", "3", "5", "8", "sufficient"]
    assert f"--config {config} --yes" not in result.output  # 8 covers 3 + 5: nothing to submit
    assert "dry run: nothing to submit" in result.output


def test_dry_run_submit_command_keeps_the_headroom() -> None:
    code, out, _ = invoke(["quotas", "request", "--headroom", "3"], {P5_QUOTA: 6})
    assert code == 0
    submit = next(line for line in out.splitlines() if "To submit:" in line)
    assert submit.endswith("hp-preflight quotas request --config cluster.json --yes --headroom 3")
    # the one-by-one commands ask for in use 3 + needed 4 + headroom 3
    assert f"--quota-code {P5_CODE} --desired-value 10 " in out


def test_ip_headroom_zero_is_kept(tmp_path: Path) -> None:
    """--ip-headroom 0 plans no spare nodes (0 is a value, not 'unset')."""
    config = tmp_path / "cluster.json"
    config.write_text(
        json.dumps(slurm_config(["subnet-0123456789abcdef0"], ["sg-0123456789abcdef0"]))
    )

    def enis_needed(*headroom: str) -> int:
        applied, defaults = sagemaker_quotas(applied=default_account())
        facts = fresh_facts()
        ServiceQuotasFake(applied + EC2_VPC_QUOTAS, defaults).attach(facts)
        result = CliRunner().invoke(
            cli,
            ["quotas", "--config", str(config), "-o", "json", *headroom],
            obj={"facts": facts},
            standalone_mode=False,
            catch_exceptions=False,
        )
        advisory = json.loads(result.output)["advisory"]
        enis = next(f for f in advisory if f["check_id"] == "quotas.network-interfaces")
        return int(enis["details"]["needed"])

    spare = enis_needed()  # the default keeps one spare node per group
    assert enis_needed("--ip-headroom", "0") < spare < enis_needed("--ip-headroom", "2")


# -- every value unknown: the exit code follows --fail-on as `check`'s does -----------------
ALL_QUOTA_READS = (
    "ListServiceQuotas",
    "ListAWSDefaultServiceQuotas",
    "GetServiceQuota",
    "GetAWSDefaultServiceQuota",
)


def invoke_denied(args: list[str]) -> tuple[int, str]:
    """`hp-preflight ARGS` with every Service Quotas read denied; (exit code, stdout+stderr)."""
    spec = replace(load_spec(slurm_config([], [])), source="cluster.json")
    applied, defaults = sagemaker_quotas(applied=default_account())
    fake = ServiceQuotasFake(applied + EC2_VPC_QUOTAS, defaults).deny(*ALL_QUOTA_READS)
    facts = fresh_facts()
    fake.attach(facts)
    result = CliRunner().invoke(
        cli,
        args,
        obj={"spec": spec, "plan": build_plan(spec), "facts": facts},
        standalone_mode=False,
        catch_exceptions=False,
    )
    return int(result.return_value), result.output


def test_quotas_all_unknown_is_incomplete_not_a_clean_bill() -> None:
    """Like `check`: UNKNOWN is below the default --fail-on fail (exit 0), but the run says
    INCOMPLETE instead of 'no quota short'."""
    code, out = invoke_denied(["quotas"])
    assert code == 0
    assert "no quota short" not in out
    assert "INCOMPLETE" in out and "could not be judged" in out
    assert "servicequotas:" in out  # the note names the action that was denied


def test_quotas_all_unknown_with_fail_on_unknown_exits_1() -> None:
    code, out = invoke_denied(["quotas", "--fail-on", "unknown"])
    assert code == 1 and "INCOMPLETE" in out


def test_quotas_json_counts_the_unknown() -> None:
    code, out = invoke_denied(["quotas", "-o", "json", "--fail-on", "unknown"])
    data = json.loads(out)
    assert code == 1 and data["short"] == 0 and data["fail_on"] == "unknown"
    assert data["unknown"] == len(data["quotas"]) > 0 and data["complete"] is False


def test_quotas_fail_on_warn_counts_advisory_warnings() -> None:
    """Advisory findings count as in `check`: a WARN makes exit 1 only with --fail-on warn."""
    code, out, _ = invoke(["quotas", "-o", "json"])
    warns = [f for f in json.loads(out)["advisory"] if f["status"] == "WARN"]
    code_warn, out_warn, _ = invoke(["quotas", "--fail-on", "warn"])
    assert warns  # the world's P-instance EC2 vCPU quota is below the config's vCPUs
    assert code == 0 and code_warn == 1
    assert out_warn.rstrip().endswith(
        f"FAILED: no quota short, {len(warns)} advisory WARN (fail-on warn)"
    )


def test_fail_on_before_request_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """`quotas request` has its own exit codes: --fail-on given to `quotas` is not dropped."""
    code, err = _main(["quotas", "--fail-on", "warn", "request"], capsys)
    assert code == 2 and "--fail-on" in err and "request" in err


def test_advisory_checks_are_found_in_a_fresh_interpreter() -> None:
    """`quotas` looks its advisory checks up by id before anything imported the check
    modules (the test run above has them imported already, a user's run has not)."""
    import subprocess
    import sys

    from hyperpod_preflight.cli.quotas import ADVISORY_CHECKS

    code = (
        "from hyperpod_preflight.registry import get; "
        f"print(','.join(get(c).check_id for c in {ADVISORY_CHECKS!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ",".join(ADVISORY_CHECKS)


def test_a_request_dry_run_that_could_not_judge_is_incomplete_like_quotas() -> None:
    """Issue 20: `quotas` all-UNKNOWN exited 0 while its `request` dry run exited 1."""
    code_quotas, _ = invoke_denied(["quotas"])
    code_dry, out = invoke_denied(["quotas", "request"])
    assert code_quotas == code_dry == 0 and "could not be judged" in out


def test_quotas_render_as_markdown_and_junit_too() -> None:
    code, out, _ = invoke(["quotas", "-o", "markdown"], {P5_QUOTA: 6})
    assert out.startswith("### hp-preflight quotas") and P5_QUOTA in out
    code_junit, out_junit, _ = invoke(["quotas", "-o", "junit"], {P5_QUOTA: 6})
    assert "<testsuites" in out_junit and code == code_junit
