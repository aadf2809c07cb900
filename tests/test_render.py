"""Reports as a user and a CI system read them: table, JSON, Markdown, JUnit, schema."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

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


def test_table_groups_by_area_shows_fixes_and_the_ignore_hint() -> None:
    text = render_report(sample_report(), "table")
    assert text.index("[network]") < text.index("[quotas]") < text.index("[config]")
    assert "How to fix:" in text
    assert "authorize-security-group-ingress" in text
    assert "--ignore network.sg-efa-self-ingress" in text
    assert "\033[" not in text
    assert text.rstrip().splitlines()[-1].startswith("FAILED: 1 PASS, 1 FAIL, 1 WARN")


def test_table_lists_checks_skipped_as_a_whole_once() -> None:
    report = sample_report()
    report.results.append(
        Finding(
            check_id="quotas.ec2-vcpus",
            area="quotas",
            status=Status.SKIP,
            severity=Severity.INFO,
            resource="-",
            message="needs AWS access",
        )
    )
    text = render_report(report, "table")
    assert "Skipped (needs AWS access): quotas.ec2-vcpus" in text
    assert "SKIP      quotas.ec2-vcpus" not in text
    markdown = render_report(report, "markdown")
    assert "Skipped (needs AWS access): `quotas.ec2-vcpus`" in markdown
    assert "| `quotas.ec2-vcpus`" not in markdown
    # JSON keeps every finding: machines get the whole list.
    assert '"quotas.ec2-vcpus"' in render_report(report, "json")


def test_table_is_coloured_only_when_asked() -> None:
    assert "\033[1;31mFAIL" in render_report(sample_report(), "table", color=True)


def test_markdown_escapes_pipes_and_lists_failures_first() -> None:
    text = render_report(sample_report(), "markdown")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert "FAIL" in rows[1]  # header, then the FAIL row first
    assert "itself \\| EFA health" in text
    assert "<details><summary>How to fix</summary>" in text


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
