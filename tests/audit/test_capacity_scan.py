"""`hp-preflight capacity` across four regions of one moto account: Service Quotas and
training-plan offerings answered by fakes in botocore's shapes, EC2 offerings by moto. One
region ready, one short of quota, one needing a reservation, one denied (UNKNOWN) while
the others go on; and the ranking the user reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import botocore.session
import pytest
from aws_world import _LOADER, REGION, _response, denied, healthy_network, new_facts, validated
from conftest import moto_env
from quota_stubs import ServiceQuotasFake, sagemaker_quotas

from hyperpod_preflight.analysis.capacity_scan import RegionFacts, judge_region, rank
from hyperpod_preflight.audit_models import CapacityScan, RegionCapacity
from hyperpod_preflight.capacity_run import NOT_ENABLED_NOTE, partition_regions, run_capacity_scan
from hyperpod_preflight.checks.capacity_regions import anywhere_outcome
from hyperpod_preflight.models import Status

P5 = "ml.p5.48xlarge"
QUOTA = f"{P5} for cluster usage"


class Offerings:
    """Answers ``SearchTrainingPlanOfferings`` (moto lacks it) with ``offerings``."""

    def __init__(self, offerings: list[dict[str, Any]]) -> None:
        self.body = validated(
            "sagemaker", "SearchTrainingPlanOfferings", {"TrainingPlanOfferings": offerings}
        )
        self.asked: list[dict[str, Any]] = []

    def attach(self, client: Any) -> Offerings:
        client.meta.events.register("before-call", self)
        return self

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> Any:
        if model.name != "SearchTrainingPlanOfferings":
            return None
        self.asked.append(json.loads(params["body"]))
        meta = {"HTTPStatusCode": 200, "RequestId": "stub", "HTTPHeaders": {}}
        return _response(200, b"", {}), {**self.body, "ResponseMetadata": meta}


def offering(zone: str, count: int) -> dict[str, Any]:
    return {
        "TrainingPlanOfferingId": f"tpo-{zone}",
        "TargetResources": ["hyperpod-cluster"],
        "DurationHours": 168,
        "UpfrontFee": "123456.00",
        "CurrencyCode": "USD",
        "ReservedCapacityOfferings": [
            {
                "InstanceType": P5,
                "InstanceCount": count,
                "AvailabilityZone": zone,
                "DurationHours": 168,
                "StartTime": datetime(2030, 2, 1),
                "EndTime": datetime(2030, 2, 8),
            }
        ],
    }


@pytest.fixture(scope="module")
def account() -> Iterator[None]:
    with moto_env():
        new_facts()  # loads the shared botocore data loader
        yield


def facts_in(region: str) -> Any:
    from hyperpod_preflight.facts import AwsFacts

    core = botocore.session.Session()
    if _LOADER:  # the big service models parsed once per test run
        core.register_component("data_loader", _LOADER[0])
    return AwsFacts(boto3.Session(botocore_session=core, region_name=REGION), region=region)


def world(quota_by_region: dict[str, float | None], denied: set[str]) -> Any:
    """A ``facts_for`` giving each region its quota (None: absent) and offerings."""

    def make(region: str) -> Any:
        facts = facts_in(region)
        value = quota_by_region.get(region)
        applied, defaults = sagemaker_quotas(
            applied={QUOTA: value} if value is not None else {}, filler=20
        )
        fake = ServiceQuotasFake(applied, defaults).attach(facts)
        if region in denied:
            fake.deny("ListServiceQuotas", "ListAWSDefaultServiceQuotas")
        Offerings([offering(f"{region}a", 16), offering(f"{region}b", 8)]).attach(
            facts.client("sagemaker")
        )
        return facts

    return make


REGIONS = ["us-west-2", "us-east-1", "eu-west-1", "ap-southeast-2"]


def test_four_regions_ranked_ready_quota_reservation_unknown(
    account: None, lifted_endpoint: None
) -> None:
    make = world(
        {"us-west-2": 32, "us-east-1": 4, "eu-west-1": 64, "ap-southeast-2": 64},
        denied={"ap-southeast-2"},
    )
    report = run_capacity_scan(P5, 16, regions=REGIONS, facts_for=make)
    assert report.kind == "capacity"
    assert report.capacity is not None
    order = [(r.region, r.status) for r in report.capacity.regions]
    assert order == [
        ("us-west-2", "ready"),
        ("us-east-1", "quota"),
        ("eu-west-1", "reservation"),  # moto offers no p5 in eu-west-1
        ("ap-southeast-2", "unknown"),
    ]
    east = report.capacity.regions[1]
    assert east.headroom == 4
    assert "--service-code sagemaker" in east.command
    assert "--desired-value 16" in east.command
    eu = report.capacity.regions[2]
    assert [o["id"] for o in eu.offerings] == ["tpo-eu-west-1a"]  # only the one covering 16
    assert "create-training-plan" in eu.command and "tpo-eu-west-1a" in eu.command
    denied = report.capacity.regions[3]
    assert "servicequotas:ListServiceQuotas" in " ".join(denied.reasons)
    findings = {f.resource: f for f in report.results if f.check_id == "capacity.region"}
    assert findings["ap-southeast-2"].status is Status.UNKNOWN
    assert findings["us-west-2"].status is Status.PASS
    anywhere = next(f for f in report.results if f.check_id == "capacity.anywhere")
    assert anywhere.status is Status.PASS
    assert report.summary.exit_code == 0
    # every read was declared by the checks' needs and gathered before judging
    assert not [f for f in report.results if f.internal_error]


def test_no_region_ready_fails_with_the_closest_fix(account: None, lifted_endpoint: None) -> None:
    make = world({"us-west-2": 8, "us-east-1": 2}, denied=set())
    report = run_capacity_scan(P5, 16, regions=["us-west-2", "us-east-1"], facts_for=make)
    anywhere = next(f for f in report.results if f.check_id == "capacity.anywhere")
    assert anywhere.status is Status.FAIL
    assert "us-west-2" in anywhere.message  # more headroom ranks first
    assert "request-service-quota-increase" in anywhere.remediation
    assert report.summary.exit_code == 1


def test_a_quota_absent_everywhere_is_unknown_never_zero(
    account: None, lifted_endpoint: None
) -> None:
    make = world({"us-west-2": None}, denied=set())
    report = run_capacity_scan(P5, 16, regions=["us-west-2"], facts_for=make)
    assert report.capacity is not None
    assert report.capacity.regions[0].status == "unknown"
    assert report.summary.exit_code == 0


def test_judge_region_table() -> None:
    zones = frozenset({"usw2-az1"})
    ready = judge_region(RegionFacts("r1", quota_value=20, in_use=4, zones=zones), P5, 16)
    short = judge_region(RegionFacts("r2", quota_value=20, in_use=5, zones=zones), P5, 16)
    nowhere = judge_region(RegionFacts("r3", quota_value=99, in_use=0, zones=frozenset()), P5, 16)
    blind = judge_region(RegionFacts("r4", errors={"quota": "access denied"}), P5, 16)
    no_zone_read = judge_region(
        RegionFacts("r5", quota_value=99, in_use=0, zones=None, errors={"zones": "x"}), P5, 16
    )
    assert [r.status for r in (ready, short, nowhere, blind, no_zone_read)] == [
        "ready",
        "quota",
        "reservation",
        "unknown",
        "unknown",
    ]
    assert "--desired-value 21" in short.command
    ranked = rank([blind, nowhere, short, ready])
    assert [r.region for r in ranked] == ["r1", "r2", "r3", "r4"]


def test_vpc_room_too_small_is_said(account: None) -> None:
    room = judge_region(
        RegionFacts("r", quota_value=99, in_use=0, zones=frozenset({"z1"}), vpc_room={"z1": 3}),
        P5,
        16,
    )
    assert room.status == "ready"
    assert "no subnet of the VPC" in " ".join(room.reasons)


def test_all_regions_come_from_botocore_partition_data() -> None:
    session = boto3.Session(region_name="us-west-2")
    regions = partition_regions(session)
    assert {"us-east-1", "us-west-2", "eu-west-1"} <= set(regions)
    assert not any(r.startswith("cn-") for r in regions)


def test_vpc_room_that_could_not_be_read_is_said_not_judged(
    account: None, lifted_endpoint: None
) -> None:
    net = healthy_network(boto3.client("ec2", region_name=REGION))
    make = world({"us-west-2": 32}, denied=set())

    def blind(region: str) -> Any:
        facts = make(region)
        denied("DescribeSubnets").attach(facts.client("ec2"))
        return facts

    report = run_capacity_scan(
        P5, 16, regions=["us-west-2"], region="us-west-2", vpc=net.vpc, facts_for=blind
    )
    assert report.capacity is not None
    reasons = " ".join(report.capacity.regions[0].reasons)
    assert "no subnet of the VPC" not in reasons
    assert "ec2:DescribeSubnets" in reasons


def test_no_ready_region_with_an_unread_one_is_unknown_not_fail(
    account: None, lifted_endpoint: None
) -> None:
    # us-west-2 is short; us-east-1 could not be read (denied): it may be ready
    make = world({"us-west-2": 8, "us-east-1": 64}, denied={"us-east-1"})
    report = run_capacity_scan(P5, 16, regions=["us-west-2", "us-east-1"], facts_for=make)
    anywhere = next(f for f in report.results if f.check_id == "capacity.anywhere")
    assert anywhere.status is Status.UNKNOWN
    assert "us-east-1" in anywhere.message and "us-west-2" in anywhere.message
    assert "request-service-quota-increase" in anywhere.remediation
    assert report.summary.exit_code == 0


def test_a_region_not_enabled_does_not_hold_back_the_fail() -> None:
    short = RegionCapacity(region="us-west-2", status="quota", headroom=4, command="aws …")
    off = RegionCapacity(
        region="ap-east-1",
        status="unknown",
        reasons=[
            f"could not tell: access denied to servicequotas:ListServiceQuotas{NOT_ENABLED_NOTE}"
        ],
    )
    scan = CapacityScan(instance_type=P5, count=16, orchestrator="slurm", regions=[short, off])
    anywhere = anywhere_outcome(scan)
    assert anywhere.status is Status.FAIL
    assert "us-west-2" in anywhere.message


def test_the_scan_runs_through_the_pipeline_once(
    account: None, lifted_endpoint: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One selection (``--skip`` applied there), one timing: ``--skip capacity.region``
    leaves the region findings out and keeps the verdict and the ranked scan."""
    import hyperpod_preflight.runs.pipeline as pipeline

    kinds: list[str] = []
    real = pipeline.select_checks

    def counting(kind: str, selection: Any) -> Any:
        kinds.append(kind)
        return real(kind, selection)

    monkeypatch.setattr(pipeline, "select_checks", counting)
    make = world({"us-west-2": 32, "us-east-1": 4}, denied=set())
    report = run_capacity_scan(
        P5, 16, regions=["us-west-2", "us-east-1"], facts_for=make, skip=["capacity.region"]
    )
    assert kinds == ["capacity"]
    assert [f.check_id for f in report.results] == ["capacity.anywhere"]
    assert report.results[0].status is Status.PASS
    assert report.capacity is not None and len(report.capacity.regions) == 2
    assert report.duration_s > 0
    only = run_capacity_scan(
        P5, 16, regions=["us-west-2"], facts_for=make, only=["capacity.region"]
    )
    assert {f.check_id for f in only.results} == {"capacity.region"}


def test_a_bad_id_is_refused_before_any_region_is_read() -> None:
    from hyperpod_preflight.errors import InputError

    def never(region: str) -> Any:
        raise AssertionError("no region may be opened for a bad selection")

    with pytest.raises(InputError, match=r"capacity\.regions"):
        run_capacity_scan(P5, 16, regions=["us-west-2"], facts_for=never, skip=["capacity.regions"])


def test_the_run_deadline_holds_a_silent_region(account: None, lifted_endpoint: None) -> None:
    """--timeout is the run's: a region whose quota listing never answers is UNKNOWN (timed
    out) when it passes, and the report comes back."""
    import threading
    import time

    make = world({"us-west-2": 32}, denied=set())
    release = threading.Event()

    def silent(region: str) -> Any:
        facts = make(region)

        def hang(**_: Any) -> None:
            release.wait(10)

        facts.client("service-quotas").meta.events.register("before-call", hang)
        return facts

    started = time.monotonic()
    try:
        report = run_capacity_scan(P5, 16, regions=["us-west-2"], facts_for=silent, timeout_s=1)
    finally:
        release.set()
    assert time.monotonic() - started < 5
    assert {f.status for f in report.results} == {Status.UNKNOWN}
    assert all("timed out after 1 s" in f.message for f in report.results)
    assert report.capacity is not None
    assert report.capacity.regions[0].status == "unknown"


def test_the_regions_reader_routes_only_read_only_readers(
    account: None, lifted_endpoint: None
) -> None:
    """The scan reaches each region through ``in_region``: a reader of the list, in a region
    of the run; never a mutating call (a quota request) nor a region it did not open."""
    from hyperpod_preflight.errors import FactUnavailable
    from hyperpod_preflight.facts.regions import RegionalFacts

    make = world({"us-west-2": 32}, denied=set())
    regional = RegionalFacts({"us-west-2": make("us-west-2")}, home_region="us-west-2")
    assert regional.in_region("us-west-2", "sagemaker_quota", QUOTA).limit == 32
    with pytest.raises(FactUnavailable, match="not a reader"):
        regional.in_region("us-west-2", "request_quota_increase", "sagemaker", "L-1", 99)
    with pytest.raises(FactUnavailable, match="not a region of this run"):
        regional.in_region("eu-west-1", "sagemaker_quota", QUOTA)
    assert regional.region == "us-west-2" and regional.call_count > 0
