"""config.custom-ami, config.scheduled-update, config.autoscaling and
capacity.training-plan-window: moto's EC2 images and CloudWatch alarms, training plans
answered through the validated handler (moto has no DescribeTrainingPlan), and the pure
judges on the edge cases moto cannot build (encrypted or foreign AMIs, other architectures)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import (
    ACCOUNT,
    REGION,
    Injector,
    TrainingPlans,
    by_resource,
    denied,
    ec2_response,
    new_facts,
    run,
    statuses,
    training_plan_body,
)
from conftest import moto_env
from hp_configs import cluster, group

import hyperpod_preflight.checks.features  # noqa: F401  (registers the checks)
from hyperpod_preflight.checks.features.image import image_problems
from hyperpod_preflight.checks.features.training_plan_window import judge_window
from hyperpod_preflight.spec import load_spec

NOW = datetime(2030, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        base = ec2.describe_images(Owners=["amazon"])["Images"]
        x86 = next(i for i in base if i.get("Architecture") == "x86_64")
        instance = ec2.run_instances(ImageId=x86["ImageId"], MinCount=1, MaxCount=1)
        ns = SimpleNamespace(
            own=ec2.create_image(
                InstanceId=instance["Instances"][0]["InstanceId"], Name="hyperpod-custom"
            )["ImageId"]
        )
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        # In this (moto) account us-west-2a is usw2-az2.
        ns.in_2a = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.0.0.0/20", AvailabilityZone="us-west-2a"
        )["Subnet"]["SubnetId"]
        cw = boto3.client("cloudwatch", region_name=REGION)
        cw.put_metric_alarm(
            AlarmName="gpu-errors",
            MetricName="Errors",
            Namespace="HP",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    f = new_facts()
    f.verify_identity()
    return f


# -- capacity.custom-ami ------------------------------------------------------------------------
def test_custom_ami_pass_missing_and_default(w: SimpleNamespace, facts: Any) -> None:
    cfg = load_spec(
        cluster(
            group("own", ImageId=w.own),
            group("gone", ImageId="ami-0123456789abcdef0"),
            group("plain", ImageId="default"),
        )
    )
    found = by_resource(run("capacity.custom-ami", cfg, facts))
    assert {k: v.status.value for k, v in found.items()} == {"own": "PASS", "gone": "FAIL"}
    assert "does not exist in us-west-2" in found["gone"].message
    assert "aws ec2 copy-image" in found["gone"].remediation
    assert facts.calls["ec2:DescribeImages"] == 1


def test_custom_ami_denied_is_unknown(w: SimpleNamespace, facts: Any) -> None:
    denied("DescribeImages").attach(facts.client("ec2"))
    findings = run("capacity.custom-ami", load_spec(cluster(group("own", ImageId=w.own))), facts)
    assert [f.status.value for f in findings] == ["UNKNOWN"]
    assert "ec2:DescribeImages" in findings[0].message


def test_custom_ami_skipped_without_image(facts: Any) -> None:
    assert statuses(run("capacity.custom-ami", load_spec(cluster(group("g"))), facts)) == {
        "-": "SKIP"
    }


def _image(**extra: Any) -> dict[str, Any]:
    body = {
        "ImageId": "ami-1",
        "State": "available",
        "Architecture": "x86_64",
        "OwnerId": ACCOUNT,
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": False}}],
    }
    body.update(extra)
    return body


X86 = {"p5.48xlarge": {"ProcessorInfo": {"SupportedArchitectures": ["x86_64"]}}}
ARM = {"c7g.large": {"ProcessorInfo": {"SupportedArchitectures": ["arm64"]}}}


@pytest.mark.parametrize(
    ("image", "types", "fails", "warns"),
    [
        (_image(), X86, [], []),
        (_image(), ARM, ["is x86_64, c7g.large runs arm64"], []),
        (_image(OwnerId="999999999999"), X86, ["owned by 999999999999"], []),
        (
            _image(OwnerId="999999999999", Public=True, ImageOwnerAlias="amazon"),
            X86,
            [],
            [],
        ),
        (
            _image(BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True}}]),
            X86,
            ["encrypted"],
            [],
        ),
        (
            _image(
                BlockDeviceMappings=[
                    {"DeviceName": "/dev/xvda", "Ebs": {}},
                    {"DeviceName": "/dev/xvdb", "Ebs": {}},
                    {"DeviceName": "/dev/sdc", "VirtualName": "ephemeral0"},
                ]
            ),
            X86,
            ["2 EBS volumes"],
            [],
        ),
        (_image(State="pending"), X86, [], ["pending"]),
        (_image(State="deregistered"), X86, ["deregistered"], []),
        (_image(), {"p5.48xlarge": None}, [], ["could not tell whether p5.48xlarge"]),
    ],
)
def test_image_judge(
    image: dict[str, Any], types: dict[str, Any], fails: list[str], warns: list[str]
) -> None:
    got_fails, got_warns = image_problems(image, ACCOUNT, types)
    assert len(got_fails) == len(fails) and len(got_warns) == len(warns)
    for want, got in zip(fails + warns, got_fails + got_warns, strict=True):
        assert want in got


# -- config.scheduled-update -------------------------------------------------------------------
def _update(expression: str, *alarms: str) -> dict[str, Any]:
    if not alarms:
        return {"ScheduleExpression": expression}
    return {
        "ScheduleExpression": expression,
        "DeploymentConfig": {"AutoRollbackConfiguration": [{"AlarmName": a} for a in alarms]},
    }


def test_scheduled_update_expression_pass_and_fail() -> None:
    cfg = load_spec(
        cluster(
            group("ok", ScheduledUpdateConfig=_update("cron(0 3 ? * SUN *)")),
            group("bad-cron", ScheduledUpdateConfig=_update("0 3 * * 0")),
        )
    )
    found = by_resource(run("config.scheduled-update", cfg, None))
    assert {k: v.status.value for k, v in found.items()} == {"ok": "PASS", "bad-cron": "FAIL"}
    assert "'0 3 * * 0'" in found["bad-cron"].message
    assert "cron(0 3 ? * SUN *)" in found["bad-cron"].remediation


def test_rollback_alarms_exist_or_not(facts: Any) -> None:
    cfg = load_spec(
        cluster(
            group("ok", ScheduledUpdateConfig=_update("cron(0 3 ? * SUN *)", "gpu-errors")),
            group("no-alarm", ScheduledUpdateConfig=_update("cron(30 2 1 * ? *)", "nope")),
            group("plain"),
        )
    )
    found = by_resource(run("capacity.rollback-alarms", cfg, facts))
    assert {k: v.status.value for k, v in found.items()} == {"ok": "PASS", "no-alarm": "FAIL"}
    assert "'nope'" in found["no-alarm"].message
    assert "put-metric-alarm --alarm-name nope" in found["no-alarm"].remediation
    assert facts.calls["cloudwatch:DescribeAlarms"] == 1


def test_scheduled_update_denied_alarms_is_unknown(facts: Any) -> None:
    import json as _json

    import botocore.awsrequest

    class _Raw:
        def stream(self, **_: Any) -> Any:
            yield _json.dumps({"__type": "AccessDenied", "message": "no"}).encode()

    def deny(_r: Any) -> Any:
        return botocore.awsrequest.AWSResponse(
            "https://example.invalid/", 403, {"Content-Type": "application/x-amz-json-1.0"}, _Raw()
        )

    Injector().always("DescribeAlarms", deny).attach(facts.client("cloudwatch"))
    cfg = load_spec(cluster(group("g", ScheduledUpdateConfig=_update("cron(0 3 ? * SUN *)", "a"))))
    (finding,) = run("capacity.rollback-alarms", cfg, facts)
    assert finding.status.value == "UNKNOWN"
    assert "cloudwatch:DescribeAlarms" in finding.message


# -- capacity.training-plan-window -------------------------------------------------------------
def _plan(start: datetime | None, end: datetime | None) -> dict[str, Any]:
    body = training_plan_body("p")
    body.pop("StartTime")
    if start:
        body["StartTime"] = start
    if end:
        body["EndTime"] = end
    return body


@pytest.mark.parametrize(
    ("start", "end", "status", "text"),
    [
        (NOW - timedelta(days=1), NOW + timedelta(days=3), "PASS", "3.0 days left"),
        (NOW + timedelta(hours=5), NOW + timedelta(days=3), "WARN", "in 5.0 hours"),
        (NOW - timedelta(days=9), NOW - timedelta(days=1), "FAIL", "ended"),
        (None, None, "UNKNOWN", "no StartTime/EndTime"),
    ],
)
def test_window_judge(start: Any, end: Any, status: str, text: str) -> None:
    got, message, _ = judge_window("p", "g", _plan(start, end), NOW)
    assert got == status and text in message


def test_window_through_the_engine(facts: Any) -> None:
    now = datetime.now(UTC)
    plans = {
        "now": _plan(now - timedelta(days=1), now + timedelta(days=2)),
        "later": _plan(now + timedelta(days=3), now + timedelta(days=5)),
    }
    for name, body in plans.items():
        body["TrainingPlanName"] = name
    TrainingPlans(plans, errors={"hidden": "AccessDeniedException"}).attach(
        facts.client("sagemaker")
    )
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-plan/"
    cfg = load_spec(
        cluster(
            group("a", TrainingPlanArn=arn + "now"),
            group("b", TrainingPlanArn=arn + "later"),
            group("c", TrainingPlanArn=arn + "hidden"),
        )
    )
    found = statuses(run("capacity.training-plan-window", cfg, facts))
    assert found == {"a": "PASS", "b": "WARN", "c": "UNKNOWN"}


# -- config.autoscaling ------------------------------------------------------------------------
ROLE = f"arn:aws:iam::{ACCOUNT}:role/hp-autoscaling"


def test_autoscaling_pass_and_each_missing_prerequisite() -> None:
    good = cluster(
        group("g"),
        eks=True,
        AutoScaling={"Mode": "Enable", "AutoScalerType": "Karpenter"},
        ClusterRole=ROLE,
        NodeProvisioningMode="Continuous",
        NodeRecovery="Automatic",
    )
    assert statuses(run("config.autoscaling", load_spec(good), None)) == {"test-cluster": "PASS"}
    bad = {**good, "NodeRecovery": "None"}
    bad.pop("NodeProvisioningMode")
    bad.pop("ClusterRole")
    (finding,) = run("config.autoscaling", load_spec(bad), None)
    assert finding.status.value == "FAIL"
    assert "NodeProvisioningMode is not set" in finding.message
    assert "NodeRecovery Automatic" in finding.message and "ClusterRole" in finding.message
    assert '"NodeProvisioningMode": "Continuous"' in finding.remediation


def test_autoscaling_on_slurm_fails_and_absent_is_skipped() -> None:
    slurm = cluster(group("g"), NodeProvisioningMode="Continuous")
    (finding,) = run("config.autoscaling", load_spec(slurm), None)
    assert finding.status.value == "FAIL" and "only supported for EKS" in finding.message
    assert statuses(run("config.autoscaling", load_spec(cluster(group("g"))), None)) == {
        "-": "SKIP"
    }


# -- capacity.instance-type-offered with InstanceRequirements ---------------------------------
def test_every_candidate_type_is_looked_up_in_the_groups_zone(
    w: SimpleNamespace, facts: Any
) -> None:
    flexible = group(
        "flex",
        InstanceType=None,
        InstanceRequirements={"InstanceTypes": ["ml.p5.48xlarge", "ml.trn1.32xlarge"]},
    )
    cfg = load_spec(cluster(flexible, subnets=[w.in_2a]))
    assert cfg.instance_groups[0].types == ("ml.p5.48xlarge", "ml.trn1.32xlarge")
    (finding,) = run("capacity.instance-type-offered", cfg, facts)
    # moto offers trn1.32xlarge in usw2-az1 and usw2-az4 only; p5 everywhere.
    assert finding.status.value == "WARN"
    assert "ml.trn1.32xlarge is not offered in usw2-az2" in finding.message
    assert "ml.p5.48xlarge is not offered" not in finding.message
    assert set(finding.details["offered_in"]) == {"ml.p5.48xlarge", "ml.trn1.32xlarge"}


@pytest.mark.parametrize(
    ("image", "account"),
    [
        ({k: v for k, v in _image().items() if k != "OwnerId"}, ACCOUNT),
        (_image(), None),
    ],
)
def test_image_owner_that_cannot_be_compared_is_a_warning_not_a_pass(
    image: dict[str, Any], account: str | None
) -> None:
    fails, warns = image_problems(image, account, X86)
    assert fails == []
    assert [w for w in warns if "could not tell whether ami-1 is owned by" in w]


DEPRECATED_AMI = "ami-0fedcba9876543210"


def test_a_deprecated_public_ami_is_still_found(w: SimpleNamespace, facts: Any) -> None:
    # EC2 leaves deprecated AMIs out of DescribeImages unless IncludeDeprecated is true
    # (their owner sees them anyway); they can still be launched.
    image = {
        "ImageId": DEPRECATED_AMI,
        "State": "available",
        "Architecture": "x86_64",
        "OwnerId": "137112412989",
        "ImageOwnerAlias": "amazon",
        "Public": True,
        "DeprecationTime": "2030-01-01T00:00:00.000Z",
    }

    def answer(request: Any) -> Any:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        shown = [image] if "IncludeDeprecated=true" in body else []
        return ec2_response("DescribeImages", {"Images": shown})

    Injector().always("DescribeImages", answer).attach(facts.client("ec2"))
    cfg = load_spec(cluster(group("g", ImageId=DEPRECATED_AMI)))
    (finding,) = run("capacity.custom-ami", cfg, facts)
    assert finding.status.value == "PASS", finding.message


def test_custom_ami_shares_the_runs_instance_type_read(w: SimpleNamespace, facts: Any) -> None:
    # The run describes every type of the config once (the plan's figures); a check reading
    # a subset of them would ask EC2 again.
    cfg = load_spec(
        cluster(group("own", ImageId=w.own), group("plain", instance_type="ml.c5.xlarge"))
    )
    facts.instance_types(tuple(t for g in cfg.instance_groups for t in g.ec2_types))
    found = by_resource(run("capacity.custom-ami", cfg, facts))
    assert found["own"].status.value == "PASS"
    assert facts.calls["ec2:DescribeInstanceTypes"] == 1
