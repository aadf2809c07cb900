"""capacity.instance-type-offered and capacity.training-plan: zones compared by id (names
map differently per account), training plans answered through a validated botocore
handler (moto has no DescribeTrainingPlan)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import (
    ACCOUNT,
    REGION,
    TrainingPlans,
    by_resource,
    denied,
    make_subnet,
    make_vpc,
    new_facts,
    reserved_capacity,
    run,
    statuses,
    training_plan_body,
)
from conftest import moto_env

from hyperpod_preflight.checks.capacity import CAPACITY_FAILURE
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, VpcSettings

SG = "sg-0123456789abcdef0"


def arn(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-plan/{name}"


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = make_vpc(ec2)
        ns = SimpleNamespace(ec2=ec2, vpc=vpc)
        # In this (moto) account us-west-2a is usw2-az2 and us-west-2b is usw2-az1.
        ns.in_2a = make_subnet(ec2, vpc, "10.0.0.0/20", zone_name="us-west-2a")
        ns.in_2b = make_subnet(ec2, vpc, "10.0.16.0/20", zone_name="us-west-2b")
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return new_facts()


def group(
    name: str, itype: str, count: int = 2, subnet: str | None = None, plan: str | None = None
) -> InstanceGroup:
    return InstanceGroup(
        name=name,
        instance_type=itype,
        count=count,
        override_vpc=VpcSettings(subnets=(subnet,), security_group_ids=(SG,)) if subnet else None,
        training_plan_arn=arn(plan) if plan else None,
    )


def spec(*groups: InstanceGroup, subnets: tuple[str, ...] = ()) -> ClusterSpec:
    vpc = VpcSettings(subnets=subnets, security_group_ids=(SG,)) if subnets else None
    return ClusterSpec(name="c", instance_groups=groups, vpc_config=vpc)


# -- capacity.instance-type-offered -------------------------------------------------------
def test_offered_compares_zone_ids_not_names(w: SimpleNamespace, facts: Any) -> None:
    cfg = spec(
        group("trn-2a", "ml.trn1.32xlarge", subnet=w.in_2a),
        group("trn-2b", "ml.trn1.32xlarge", subnet=w.in_2b),
        group("p5", "ml.p5.48xlarge", subnet=w.in_2a),
        group("nowhere", "ml.nope.large", subnet=w.in_2b),
    )
    found = by_resource(run("capacity.instance-type-offered", cfg, facts))
    assert {r: f.status.value for r, f in found.items()} == {
        "trn-2a": "WARN",
        "trn-2b": "PASS",
        "p5": "PASS",
        "nowhere": "WARN",
    }
    warn = found["trn-2a"]
    # moto offers trn1.32xlarge in usw2-az1 and usw2-az4 only.
    assert "not offered in usw2-az2 (us-west-2a)" in warn.message
    assert "offered in usw2-az1 (us-west-2b), usw2-az4 (us-west-2d)" in warn.message
    assert CAPACITY_FAILURE in warn.message and "advice, not proof" in warn.message
    assert "--availability-zone-id <zone-id>" in warn.remediation
    assert "not offered by EC2 in any zone" in found["nowhere"].message
    assert facts.calls["ec2:DescribeInstanceTypeOfferings"] == 1


def test_offered_without_subnets_looks_at_the_region(facts: Any) -> None:
    found = statuses(
        run("capacity.instance-type-offered", spec(group("p5", "ml.p5.48xlarge")), facts)
    )
    assert found == {"p5": "PASS"}


def test_offered_with_a_subnet_ec2_does_not_describe_is_unknown_not_pass(
    facts: Any,
) -> None:
    """The group's subnet is not in the account: its zone is unknown, so "offered there" is
    not proven (it was a PASS saying HyperPod picks the zone)."""
    unseen = "subnet-0123456789abcdef0"
    (finding,) = run(
        "capacity.instance-type-offered", spec(group("p5", "ml.p5.48xlarge", subnet=unseen)), facts
    )
    assert finding.status.value == "UNKNOWN", finding.message
    assert unseen in finding.message


def test_offered_denied_is_unknown(w: SimpleNamespace, facts: Any) -> None:
    denied("DescribeInstanceTypeOfferings").attach(facts.client("ec2"))
    findings = run(
        "capacity.instance-type-offered", spec(group("p5", "ml.p5.48xlarge", subnet=w.in_2b)), facts
    )
    assert [f.status.value for f in findings] == ["UNKNOWN"]
    assert "ec2:DescribeInstanceTypeOfferings" in findings[0].message


# -- capacity.training-plan ---------------------------------------------------------------
PLANS = {
    "good": training_plan_body("good", zone="us-west-2b"),
    "trn": training_plan_body("trn", instance_type="ml.trn1.32xlarge"),
    "expired": training_plan_body("expired", status="Expired", available=0),
    "later": training_plan_body("later", status="Scheduled"),
    "jobs": training_plan_body("jobs", targets=("training-job",)),
}


def test_training_plan_pass_and_each_mismatch(w: SimpleNamespace, facts: Any) -> None:
    handler = TrainingPlans(PLANS).attach(facts.client("sagemaker"))
    cfg = spec(
        group("ok", "ml.p5.48xlarge", 2, w.in_2b, "good"),
        group("wrong-zone", "ml.p5.48xlarge", 1, w.in_2a, "later"),
        group("wrong-type", "ml.p5.48xlarge", 1, w.in_2b, "trn"),
        group("expired", "ml.p5.48xlarge", 1, w.in_2b, "expired"),
        group("jobs", "ml.p5.48xlarge", 1, w.in_2b, "jobs"),
        group("missing", "ml.p5.48xlarge", 1, w.in_2b, "nope"),
        group("plain", "ml.p5.48xlarge", 1, w.in_2b),
    )
    found = by_resource(run("capacity.training-plan", cfg, facts))
    assert {r: f.status.value for r, f in found.items()} == {
        "ok": "PASS",
        "wrong-zone": "FAIL",  # plan "later" sits in us-west-2b = usw2-az1, the subnet in az2
        "wrong-type": "FAIL",
        "expired": "FAIL",
        "jobs": "FAIL",
        "missing": "FAIL",
    }
    assert "usw2-az2 (us-west-2a)" in found["wrong-zone"].message
    assert "is Scheduled" in found["wrong-zone"].message
    assert CAPACITY_FAILURE in found["wrong-zone"].message
    assert "reserves ml.trn1.32xlarge" in found["wrong-type"].message
    assert "is Expired" in found["expired"].message
    assert "not hyperpod-cluster" in found["jobs"].message
    assert "does not exist" in found["missing"].message
    assert sorted(handler.asked) == sorted(["good", "later", "trn", "expired", "jobs", "nope"])


def test_training_plan_scheduled_only_warns(w: SimpleNamespace, facts: Any) -> None:
    TrainingPlans(PLANS).attach(facts.client("sagemaker"))
    cfg = spec(group("soon", "ml.p5.48xlarge", 2, w.in_2b, "later"))
    assert statuses(run("capacity.training-plan", cfg, facts)) == {"soon": "WARN"}


def test_training_plan_count_shared_between_groups(w: SimpleNamespace, facts: Any) -> None:
    TrainingPlans(PLANS).attach(facts.client("sagemaker"))
    cfg = spec(
        group("a", "ml.p5.48xlarge", 3, w.in_2b, "good"),
        group("b", "ml.p5.48xlarge", 3, w.in_2b, "good"),
    )
    found = by_resource(run("capacity.training-plan", cfg, facts))
    assert found["a"].status.value == "FAIL" and found["b"].status.value == "FAIL"
    assert "need 6 instances, it has 4 available" in found["a"].message
    assert facts.calls["sagemaker:DescribeTrainingPlan"] == 1


def test_training_plan_zone_read_from_its_zone_id(w: SimpleNamespace, facts: Any) -> None:
    """``ReservedCapacitySummaries[].AvailabilityZoneId`` is the zone when present, with no
    name to map (in this account usw2-az1 is us-west-2b, usw2-az2 us-west-2a)."""
    by_id = training_plan_body(
        "by-id", summaries=[reserved_capacity("by-id", zone=None, zone_id="usw2-az1")]
    )
    TrainingPlans({"by-id": by_id}).attach(facts.client("sagemaker"))
    cfg = spec(
        group("right", "ml.p5.48xlarge", 1, w.in_2b, "by-id"),
        group("wrong", "ml.p5.48xlarge", 1, w.in_2a, "by-id"),
    )
    found = by_resource(run("capacity.training-plan", cfg, facts))
    assert found["right"].status.value == "PASS"
    assert found["wrong"].status.value == "FAIL"
    assert "usw2-az2 (us-west-2a)" in found["wrong"].message
    assert "capacity is in usw2-az1 (us-west-2b)" in found["wrong"].message


def test_training_plan_groups_of_each_type_use_that_types_capacity(
    w: SimpleNamespace, facts: Any
) -> None:
    """One plan reserving 4 x p5 in usw2-az1 and 2 x trn1 in usw2-az2: each group is held
    to the capacity (count and zone) of its own type, not the plan's total of 6."""
    mixed = training_plan_body(
        "mixed",
        total=6,
        available=6,
        summaries=[
            reserved_capacity("mixed", instance_type="ml.p5.48xlarge", total=4, zone_id="usw2-az1"),
            reserved_capacity(
                "mixed", instance_type="ml.trn1.32xlarge", total=2, zone="us-west-2a"
            ),
        ],
    )
    TrainingPlans({"mixed": mixed}).attach(facts.client("sagemaker"))
    too_many = spec(
        group("p5", "ml.p5.48xlarge", 5, w.in_2b, "mixed"),
        group("trn", "ml.trn1.32xlarge", 1, w.in_2a, "mixed"),
    )
    found = by_resource(run("capacity.training-plan", too_many, facts))
    assert found["p5"].status.value == "FAIL"
    assert "need 5 ml.p5.48xlarge" in found["p5"].message
    assert "reserves 4 ml.p5.48xlarge" in found["p5"].message
    assert found["trn"].status.value == "PASS"
    fits = spec(
        group("p5", "ml.p5.48xlarge", 4, w.in_2b, "mixed"),
        group("trn", "ml.trn1.32xlarge", 2, w.in_2a, "mixed"),
    )
    assert statuses(run("capacity.training-plan", fits, facts)) == {"p5": "PASS", "trn": "PASS"}
    # trn1 capacity is in us-west-2a = usw2-az2, not in usw2-az1 where p5's is.
    wrong_zone = spec(group("trn", "ml.trn1.32xlarge", 1, w.in_2b, "mixed"))
    found = by_resource(run("capacity.training-plan", wrong_zone, facts))
    assert found["trn"].status.value == "FAIL"
    assert "capacity is in usw2-az2 (us-west-2a)" in found["trn"].message


def test_training_plan_api_absent_or_denied_is_unknown(w: SimpleNamespace, facts: Any) -> None:
    cfg = spec(group("g", "ml.p5.48xlarge", 1, w.in_2b, "good"))
    # No handler: moto lacks DescribeTrainingPlan.
    absent = run("capacity.training-plan", cfg, facts)
    assert [f.status.value for f in absent] == ["UNKNOWN"]
    assert "not available" in absent[0].message
    fresh = new_facts()
    TrainingPlans(PLANS, errors={"good": "AccessDeniedException"}).attach(fresh.client("sagemaker"))
    found = run("capacity.training-plan", cfg, fresh)
    assert [f.status.value for f in found] == ["UNKNOWN"]
    assert "access denied to sagemaker:DescribeTrainingPlan" in found[0].message


def test_training_plan_skip_without_plans(facts: Any) -> None:
    cfg = spec(group("g", "ml.p5.48xlarge"))
    assert statuses(run("capacity.training-plan", cfg, facts)) == {"-": "SKIP"}
