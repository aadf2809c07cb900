"""Reports as a user and a CI system read them: table, JSON, Markdown, JUnit, schema."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from hyperpod_preflight.models import Finding, Report, Severity, Status
from hyperpod_preflight.render import render_report, report_schema
from hyperpod_preflight.runner import summarize


def sample_report() -> Report:
    findings = [
        Finding(
            check_id="network.sg-efa-self-ingress",
            area="network",
            status=Status.FAIL,
            severity=Severity.CRITICAL,
            resource="sg-0b",
            message="no inbound rule from itself | EFA health checks did not run successfully",
            remediation="aws ec2 authorize-security-group-ingress --group-id sg-0b "
            "--ip-permissions IpProtocol=-1,UserIdGroupPairs=[{GroupId=sg-0b}]",
        ),
        Finding(
            check_id="network.sg-efa-self-ingress",
            area="network",
            status=Status.PASS,
            severity=Severity.CRITICAL,
            resource="sg-0a",
            message="all inbound traffic from itself is allowed",
        ),
        Finding(
            check_id="quotas.instance-type",
            area="quotas",
            status=Status.UNKNOWN,
            severity=Severity.CRITICAL,
            resource="ml.p5.48xlarge for cluster usage",
            message="could not tell: access denied to servicequotas:ListServiceQuotas",
            remediation="Allow servicequotas:ListServiceQuotas",
        ),
        Finding(
            check_id="network.subnet-private",
            area="network",
            status=Status.WARN,
            severity=Severity.MEDIUM,
            resource="subnet-1",
            message="MapPublicIpOnLaunch is on",
            remediation="aws ec2 modify-subnet-attribute --subnet-id subnet-1 "
            "--no-map-public-ip-on-launch",
        ),
        Finding(
            check_id="config.efa-single-subnet-az",
            area="config",
            status=Status.SKIP,
            severity=Severity.HIGH,
            resource="workers",
            message="one subnet",
        ),
    ]
    return Report(
        target="my-cluster",
        region="us-west-2",
        results=findings,
        summary=summarize(findings, "fail"),
    )


def test_json_report_round_trips_with_the_public_fields() -> None:
    text = render_report(sample_report(), "json")
    data = json.loads(text)
    assert data["schema_version"] == "1.0"
    assert data["summary"]["exit_code"] == 1
    first = data["results"][0]
    for key in ("check_id", "area", "status", "severity", "resource", "message", "remediation"):
        assert key in first
    assert first["status"] == "FAIL" and first["severity"] == "critical"
    assert Report.model_validate_json(text).results[0].resource == "sg-0b"


def test_table_shows_problems_first_with_fixes_then_a_count_of_passes() -> None:
    text = render_report(sample_report(), "table")
    lines = text.splitlines()
    first = [i for i, line in enumerate(lines) if line.startswith(("FAIL ", "WARN ", "UNKNOWN "))]
    assert [lines[i].split()[0] for i in first] == ["FAIL", "WARN", "UNKNOWN"]
    assert "authorize-security-group-ingress" in "\n".join(lines[: first[1]])  # its fix
    assert "1 passed, 1 not applicable (-v lists them)" in text
    assert "sg-0a" not in text  # the PASS row is counted, not listed
    assert "--ignore network.sg-efa-self-ingress" in text
    assert "\033[" not in text
    assert "FAILED: 1 PASS, 1 FAIL, 1 WARN" in text


def test_verbose_lists_every_pass_and_quiet_prints_the_summary_only() -> None:
    verbose = render_report(sample_report(), "table", verbosity=1)
    assert "sg-0a" in verbose and "config.efa-single-subnet-az" in verbose
    quiet = render_report(sample_report(), "table", verbosity=-1)
    assert quiet.count("\n") == 1 and quiet.startswith("FAILED:")


LONG_IDS = [
    "s3://sagemaker-hyperpod-lifecycle-123456789012/lifecycle/on_create.sh",
    "arn:aws:iam::123456789012:role/SageMakerHyperPodExecutionRole",
    "subnet-0123456789abcdef0",
    "rtb-0123456789abcdef0",
]


@pytest.mark.parametrize("width", [80, 100, 140])
def test_table_fits_the_width_and_never_splits_an_id(width: int) -> None:
    words = " ".join(LONG_IDS)
    finding = Finding(
        check_id="lifecycle.scripts",
        area="lifecycle",
        status=Status.FAIL,
        severity=Severity.HIGH,
        resource=LONG_IDS[0],
        message=f"the objects {words} and again {words} are all wrong in some way",
        remediation=f"aws s3 cp --recursive ./lifecycle {LONG_IDS[0]} --sse aws:kms; "
        f"aws iam attach-role-policy --role-name 'a role' --policy-arn {LONG_IDS[1]}",
    )
    report = sample_report()
    report.results.append(finding)
    text = render_report(report, "table", width=width)
    for line in text.splitlines():
        assert len(line) <= width, line
    flat = text.replace("\\\n", " ")
    for token in LONG_IDS:
        assert token in flat.replace("\n", " ").split() or token in flat, token


def test_a_wrapped_command_still_pastes_into_a_shell() -> None:
    import shlex

    from hyperpod_preflight.render_table import wrap_command

    command = (
        "aws ec2 create-vpc-endpoint --vpc-id vpc-0123456789abcdef0 --vpc-endpoint-type "
        "Interface --service-name 'com.amazonaws.us-west-2.ssm with spaces' --private-dns"
    )
    lines = wrap_command(command, 50, "  ")
    assert len(lines) > 1 and all(line.endswith(" \\") for line in lines[:-1])
    joined = "\n".join(lines).replace(" \\\n", " ")
    assert shlex.split(joined) == shlex.split(command)


def test_table_is_coloured_only_when_asked() -> None:
    assert "\033[1;31mFAIL" in render_report(sample_report(), "table", color=True)


def test_markdown_lists_problems_and_collapses_the_rest() -> None:
    text = render_report(sample_report(), "markdown")
    problems, rest = text.split("<details>", 1)
    rows = [line for line in problems.splitlines() if line.startswith("| ")]
    assert "FAIL" in rows[1] and len(rows) == 4  # header, FAIL, WARN, UNKNOWN
    assert "itself \\| EFA health" in text
    assert "**How to fix**" in problems and "authorize-security-group-ingress" in problems
    assert "1 passed, 1 not applicable</summary>" in rest and "sg-0a" in rest


def test_junit_counts_failures_and_skips_per_area() -> None:
    root = ET.fromstring(render_report(sample_report(), "junit").split("\n", 1)[1])
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    network = suites["hp-preflight.network"]
    assert network.get("tests") == "3" and network.get("failures") == "1"
    failure = network.find("testcase/failure")
    assert failure is not None and "authorize-security-group-ingress" in (failure.text or "")
    assert suites["hp-preflight.quotas"].get("skipped") == "1"


def test_schema_describes_results() -> None:
    schema = json.loads(report_schema())
    assert "results" in schema["properties"]
    finding = schema["$defs"]["Finding"]
    assert {"check_id", "status", "remediation"} <= set(finding["properties"])


def test_the_run_report_and_the_public_report_have_the_same_fields() -> None:
    import dataclasses

    from hyperpod_preflight.results import RunReport

    run = RunReport()
    public = Report()
    assert [f.name for f in dataclasses.fields(RunReport)] == list(Report.model_fields)
    for name in Report.model_fields:
        if name != "generated_at":
            assert getattr(run, name) == getattr(public, name), name
    assert Report.of(run).to_run() == run
