"""Service Quotas and HyperPod-usage readers: pagination, applied vs default, not found,
denied, throttled, concurrency of the two listings, bounded ENI counting."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aws_world import Injector, denied, validated
from conftest import moto_env
from quota_stubs import (
    EC2_VPC_QUOTAS,
    P5,
    ServiceQuotasFake,
    change,
    create_existing_clusters,
    default_account,
    fresh_facts,
    quota,
    sagemaker_quotas,
)

from hyperpod_preflight.facts import FactUnavailable
from hyperpod_preflight.facts.sagemaker import cluster_usage

P5_QUOTA = f"{P5} for cluster usage"


@pytest.fixture(scope="module")
def world() -> Iterator[None]:
    import boto3

    with moto_env():
        create_existing_clusters(boto3.client("sagemaker", region_name="us-west-2"))
        yield


@pytest.fixture(autouse=True)
def _lifted(_fail_closed_env: None, monkeypatch: pytest.MonkeyPatch, world: None) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def facts_with(fake: ServiceQuotasFake) -> Any:
    facts = fresh_facts()
    fake.attach(facts)
    return facts


def standard_fake(**kwargs: Any) -> ServiceQuotasFake:
    applied, defaults = sagemaker_quotas(
        applied=default_account(), defaults={P5_QUOTA: 0, "ml.m5.2xlarge for cluster usage": 1}
    )
    return ServiceQuotasFake(applied + EC2_VPC_QUOTAS, defaults, **kwargs)


def test_quota_on_page_three_is_found_and_listings_are_paged_once() -> None:
    fake = standard_fake()
    facts = facts_with(fake)
    p5 = facts.sagemaker_quota(P5_QUOTA)
    assert p5 is not None and p5.value == 8 and p5.source == "applied"
    assert p5.default_value == 0  # the default is reported alongside
    # 256 applied quotas: pages of 100 → 3 calls, and never more in this run
    for name in default_account():
        assert facts.sagemaker_quota(name) is not None
    assert fake.calls("ListServiceQuotas") == 3
    assert fake.calls("ListAWSDefaultServiceQuotas") == 3
    assert set(fake.page_sizes) == {100}


def test_quota_only_in_defaults_uses_the_default_value() -> None:
    applied, defaults = sagemaker_quotas(
        applied={}, defaults={"ml.g5.48xlarge for cluster usage": 2}
    )
    facts = facts_with(ServiceQuotasFake(applied, defaults))
    got = facts.sagemaker_quota("ml.g5.48xlarge for cluster usage")
    assert got is not None and got.value == 2 and got.source == "default"
    assert "AWS default" in got.described


def test_not_found_anywhere_is_none_never_zero() -> None:
    facts = facts_with(standard_fake())
    assert facts.sagemaker_quota("ml.p9.96xlarge for cluster usage") is None


def test_names_compare_without_case_or_spacing_and_aliases_are_tried() -> None:
    facts = facts_with(standard_fake())
    assert facts.sagemaker_quota("  ML.P5.48XLARGE   for cluster usage") is not None
    got = facts.sagemaker_quota("no such spelling", P5_QUOTA)
    assert got is not None and got.quota_code == "L-8762A75F"


def test_both_listings_are_read_concurrently() -> None:
    fake = standard_fake()
    defaults_started = threading.Event()
    fake.hooks["ListAWSDefaultServiceQuotas"] = defaults_started.set
    # The applied listing answers only once the defaults listing has started: serial
    # reading would wait the full timeout and fail the assertion below.
    overlapped: list[bool] = []
    fake.hooks["ListServiceQuotas"] = lambda: overlapped.append(defaults_started.wait(5))
    facts = facts_with(fake)
    assert facts.sagemaker_quota(P5_QUOTA) is not None
    assert overlapped and all(overlapped)


def test_applied_listing_denied_is_unavailable_naming_the_action() -> None:
    facts = facts_with(standard_fake().deny("ListServiceQuotas"))
    with pytest.raises(FactUnavailable) as info:
        facts.sagemaker_quota(P5_QUOTA)
    assert info.value.reason == "denied"
    assert info.value.action == "servicequotas:ListServiceQuotas"


def test_defaults_denied_still_answers_from_applied_but_not_for_the_rest() -> None:
    facts = facts_with(standard_fake().deny("ListAWSDefaultServiceQuotas"))
    got = facts.sagemaker_quota(P5_QUOTA)
    assert got is not None and got.value == 8 and got.default_value is None
    with pytest.raises(FactUnavailable) as info:
        facts.sagemaker_quota("ml.g5.48xlarge for cluster usage")
    assert info.value.action == "servicequotas:ListAWSDefaultServiceQuotas"


def test_throttled_list_pages_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.retries.standard

    monkeypatch.setattr(
        botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.01
    )
    fake = standard_fake().throttle("ListServiceQuotas", 3)
    facts = facts_with(fake)
    assert facts.sagemaker_quota(P5_QUOTA).value == 8
    assert fake.calls("ListServiceQuotas") == 3 + 3


def test_quota_by_code_falls_back_to_the_default() -> None:
    defaults = [quota("Network interfaces per Region", "L-DF5E4CA3", 5000, service="vpc")]
    applied = [quota("EC2-VPC Elastic IPs", "L-0263D0A3", 10, service="ec2")]
    fake = ServiceQuotasFake(applied, defaults)
    facts = facts_with(fake)
    eni = facts.quota_by_code("vpc", "L-DF5E4CA3")
    assert eni is not None and eni.value == 5000 and eni.source == "default"
    eip = facts.quota_by_code("ec2", "L-0263D0A3")
    assert eip is not None and eip.value == 10 and eip.source == "applied"
    assert facts.quota_by_code("ec2", "L-00000000") is None
    assert fake.calls("GetServiceQuota") == 3 and fake.calls("GetAWSDefaultServiceQuota") == 2


def test_error_reason_gives_no_value() -> None:
    broken = quota(P5_QUOTA, "L-8762A75F", None, error=("DEPENDENCY_THROTTLING_ERROR", "try later"))
    facts = facts_with(ServiceQuotasFake([broken], [quota(P5_QUOTA, "L-8762A75F", 0)]))
    got = facts.sagemaker_quota(P5_QUOTA)
    assert got is not None and got.value is None
    assert "DEPENDENCY_THROTTLING_ERROR" in got.error and got.default_value == 0


def test_request_history_marks_open_requests() -> None:
    history = [
        change("r-old", "sagemaker", "L-8762A75F", P5_QUOTA, 4, "APPROVED", case_id="c-1"),
        change("r-open", "sagemaker", "L-8762A75F", P5_QUOTA, 12, "CASE_OPENED", case_id="c-2"),
    ]
    facts = facts_with(ServiceQuotasFake(history=history))
    open_ones = facts.open_quota_requests("sagemaker", "L-8762A75F")
    assert [r.request_id for r in open_ones] == ["r-open"]
    assert open_ones[0].case_id == "c-2" and open_ones[0].desired_value == 12


# -- HyperPod usage -----------------------------------------------------------------------
def test_usage_counts_instances_of_existing_clusters() -> None:
    facts = fresh_facts()
    usage = facts.hyperpod_usage()
    assert {c.name for c in usage.clusters} == {"team-a", "team-b"}
    assert usage.instances_of(P5) == 3
    assert usage.instances_of("ml.c5.2xlarge") == 1
    assert usage.total() == 4 and usage.total(spot=True) == 0
    assert usage.holders(P5) == {"team-a": 2, "team-b": 1}
    assert facts.calls["sagemaker:ListClusters"] == 1
    assert facts.calls["sagemaker:DescribeCluster"] == 2


def test_usage_survives_throttling(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.retries.standard

    monkeypatch.setattr(
        botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.01
    )
    facts = fresh_facts()
    throttled = _json_error("ThrottlingException")
    injector = Injector().queue("ListClusters", throttled(), throttled())
    injector.queue("DescribeCluster", throttled())
    injector.attach(facts.client("sagemaker"))
    usage = facts.hyperpod_usage()
    assert usage.instances_of(P5) == 3
    assert injector.seen["ListClusters"] == 3


def test_usage_denied_names_the_action() -> None:
    facts = fresh_facts()
    denied_sm = Injector().always("ListClusters", lambda _r: _json_error("AccessDeniedException")())
    denied_sm.attach(facts.client("sagemaker"))
    with pytest.raises(FactUnavailable) as info:
        facts.hyperpod_usage()
    assert info.value.action == "sagemaker:ListClusters" and info.value.reason == "denied"


def _json_error(code: str) -> Any:
    from quota_stubs import error

    return lambda: error(code, "injected")


def _described(status: str, groups: list[dict[str, Any]]) -> dict[str, Any]:
    body = {
        "ClusterArn": "arn:aws:sagemaker:us-west-2:123456789012:cluster/abcdef012345",
        "ClusterName": "c",
        "ClusterStatus": status,
        "InstanceGroups": groups,
    }
    return validated("sagemaker", "DescribeCluster", body)


def test_cluster_usage_rules() -> None:
    scaling = _described(
        "Updating",
        [
            {"InstanceGroupName": "a", "InstanceType": P5, "CurrentCount": 2, "TargetCount": 4},
            {
                "InstanceGroupName": "s",
                "InstanceType": P5,
                "CurrentCount": 1,
                "TargetCount": 1,
                "CapacityRequirements": {"Spot": {}},
            },
            {
                "InstanceGroupName": "flex",
                "CurrentCount": 3,
                "TargetCount": 5,
                "InstanceTypeDetails": [
                    {"InstanceType": "ml.g5.48xlarge", "CurrentCount": 2},
                    {"InstanceType": "ml.g6e.48xlarge", "CurrentCount": 1},
                ],
            },
        ],
    )
    used = cluster_usage(scaling)
    assert used.on_demand_by_type == {P5: 4, "ml.g5.48xlarge": 2, "ml.g6e.48xlarge": 1}
    assert used.spot_by_type == {P5: 1}
    assert used.on_demand_total == 4 + 5 and used.spot_total == 1
    deleting = _described(
        "Deleting",
        [{"InstanceGroupName": "a", "InstanceType": P5, "CurrentCount": 1, "TargetCount": 4}],
    )
    assert cluster_usage(deleting).on_demand_by_type == {P5: 1}


# -- usage counters ------------------------------------------------------------------------
def test_eni_count_stops_once_decided() -> None:
    import boto3

    facts = fresh_facts()
    ec2 = boto3.client("ec2", region_name="us-west-2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    for _ in range(3):
        ec2.create_network_interface(SubnetId=subnet)
    total = facts.network_interface_count()
    assert total.complete and total.count >= 3
    early = facts.network_interface_count(stop_after=0)
    assert not early.complete and early.count >= 1 and early.pages == 1
    assert facts.network_interface_count(stop_after=total.count).complete


def test_eni_count_denied() -> None:
    facts = fresh_facts()
    denied("DescribeNetworkInterfaces").attach(facts.client("ec2"))
    with pytest.raises(FactUnavailable) as info:
        facts.network_interface_count(stop_after=10)
    assert info.value.action == "ec2:DescribeNetworkInterfaces"
