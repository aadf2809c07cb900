"""Quota checks against moto (SageMaker clusters, EC2 network) plus the Service Quotas fake:
every check passes, fails and cannot tell; usage of existing clusters; throttling."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aws_world import (
    Injector,
    Network,
    add_default_route,
    by_resource,
    denied,
    healthy_network,
    make_route_table,
    make_subnet,
)
from conftest import moto_env
from quota_stubs import (
    CLUSTER_QUOTAS,
    EC2_VPC_QUOTAS,
    P5,
    ServiceQuotasFake,
    create_existing_clusters,
    default_account,
    error,
    fresh_facts,
    quota,
    sagemaker_quotas,
    slurm_config,
)

import hyperpod_preflight.checks.quotas  # noqa: F401  (registers the checks)
from hyperpod_preflight.models import Severity, Status
from hyperpod_preflight.planner import build_plan
from hyperpod_preflight.registry import get
from hyperpod_preflight.runner import CheckContext, gather_and_judge, gatherer_for
from hyperpod_preflight.spec import load_spec

P5_QUOTA = f"{P5} for cluster usage"
PER_CLUSTER, TOTAL, EBS = (CLUSTER_QUOTAS[k][0] for k in ("per_cluster", "total", "ebs"))


@dataclass
class World:
    net: Network
    bare_subnet: str  # a private subnet whose route table (the main one) has no NAT route
    tgw_subnet: str  # egress through a transit gateway (usw2-az3): needs no NAT gateway


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    import boto3

    with moto_env():
        ec2 = boto3.client("ec2", region_name="us-west-2")
        net = healthy_network(ec2)
        bare = make_subnet(ec2, net.vpc, "10.0.64.0/20", zone_id="usw2-az2")
        tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
        tgw_subnet = make_subnet(ec2, net.vpc, "10.0.80.0/20", zone_id="usw2-az3")
        ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw, VpcId=net.vpc, SubnetIds=[tgw_subnet]
        )
        rtb = make_route_table(ec2, net.vpc, [tgw_subnet])
        add_default_route(ec2, rtb, TransitGatewayId=tgw)
        create_existing_clusters(boto3.client("sagemaker", region_name="us-west-2"))
        yield World(net=net, bare_subnet=bare, tgw_subnet=tgw_subnet)


@pytest.fixture(autouse=True)
def _lifted(_fail_closed_env: None, monkeypatch: pytest.MonkeyPatch, world: World) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def account(
    changes: dict[str, float | None] | None = None,
    *,
    ec2_vpc: list[dict[str, Any]] | None = None,
    **fake_kwargs: Any,
) -> ServiceQuotasFake:
    applied, defaults = sagemaker_quotas(applied=default_account(changes))
    return ServiceQuotasFake(
        applied + (EC2_VPC_QUOTAS if ec2_vpc is None else ec2_vpc), defaults, **fake_kwargs
    )


def spec_for(world: World, *, subnets: list[str] | None = None, **changes: Any) -> Any:
    cfg = slurm_config(
        subnets if subnets is not None else [world.net.subnets["a"]],
        [world.net.sgs["efa"]],
        **changes,
    )
    return load_spec(cfg)


def run_check(check_id: str, spec: Any, fake: ServiceQuotasFake | None, facts: Any = None) -> Any:
    facts = facts or fresh_facts()
    if fake is not None:
        fake.attach(facts)
    ctx = CheckContext(spec=spec, plan=build_plan(spec), facts=facts)
    return by_resource(gather_and_judge(get(check_id), ctx, gatherer_for(ctx)))


# -- quotas.instance-type -----------------------------------------------------------------
def test_instance_type_pass_counts_existing_clusters(world: World) -> None:
    found = run_check("quotas.instance-type", spec_for(world), account())
    assert set(found) == {
        P5_QUOTA,
        "ml.m5.2xlarge for cluster usage",
        "ml.m5.4xlarge for cluster usage",
    }
    p5 = found[P5_QUOTA]
    assert p5.status is Status.PASS
    assert p5.details["in_use"] == 3 and p5.details["needed"] == 4 and p5.details["value"] == 8
    assert "in use 3 (team-a: 2, team-b: 1)" in p5.message and "1 to spare" in p5.message


def test_instance_type_fails_because_existing_clusters_use_the_headroom(world: World) -> None:
    # 4 workers fit a quota of 6 on their own; the 3 p5 of team-a and team-b make it short.
    found = run_check("quotas.instance-type", spec_for(world), account({P5_QUOTA: 6}))
    p5 = found[P5_QUOTA]
    assert p5.status is Status.FAIL and p5.severity is Severity.CRITICAL
    assert p5.details["deficit"] == 1 and p5.details["desired_value"] == 7
    assert "quota 6 (applied), in use 3" in p5.message and "needs 4" in p5.message
    assert "short by 1" in p5.message
    assert (
        "aws service-quotas request-service-quota-increase --service-code sagemaker "
        "--quota-code L-8762A75F --desired-value 7 --region us-west-2" in p5.remediation
    )
    assert "hp-preflight quotas request --config" in p5.remediation
    assert found["ml.m5.2xlarge for cluster usage"].status is Status.PASS


def test_instance_type_quota_at_default_only(world: World) -> None:
    applied, defaults = sagemaker_quotas(
        applied=default_account({P5_QUOTA: None}), defaults={P5_QUOTA: 0}
    )
    found = run_check("quotas.instance-type", spec_for(world), ServiceQuotasFake(applied, defaults))
    p5 = found[P5_QUOTA]
    assert p5.status is Status.FAIL and p5.details["value_source"] == "default"
    assert "0 (AWS default; no applied value)" in p5.message


def test_instance_type_not_found_is_unknown_not_zero(world: World) -> None:
    found = run_check(
        "quotas.instance-type", spec_for(world), account({"ml.m5.4xlarge for cluster usage": None})
    )
    missing = found["ml.m5.4xlarge for cluster usage"]
    assert missing.status is Status.UNKNOWN and "neither with an applied value" in missing.message
    assert found[P5_QUOTA].status is Status.PASS


def test_instance_type_denied_is_unknown_naming_the_action(world: World) -> None:
    found = run_check("quotas.instance-type", spec_for(world), account().deny("ListServiceQuotas"))
    assert {f.status for f in found.values()} == {Status.UNKNOWN}
    assert all(f.details["action"] == "servicequotas:ListServiceQuotas" for f in found.values())
    assert "servicequotas:ListServiceQuotas" in found[P5_QUOTA].remediation


def test_usage_unreadable_is_unknown_unless_the_config_alone_is_short(world: World) -> None:
    facts = fresh_facts()
    Injector().always("ListClusters", lambda _r: error("AccessDeniedException")).attach(
        facts.client("sagemaker")
    )
    found = run_check("quotas.instance-type", spec_for(world), account({P5_QUOTA: 3}), facts=facts)
    assert found[P5_QUOTA].status is Status.FAIL  # needs 4 > 3 even with nothing in use
    assert "short by at least 1" in found[P5_QUOTA].message
    unknown = found["ml.m5.2xlarge for cluster usage"]
    assert unknown.status is Status.UNKNOWN and "sagemaker:ListClusters" in unknown.message


def test_spot_groups_use_the_spot_quotas(world: World) -> None:
    spot_quota = f"{P5} for cluster spot instance usage"
    spot_total = "Total number of Spot instances allowed across SageMaker HyperPod clusters"
    spec = spec_for(world, workers_spot=True)
    fake = account({spot_quota: 2, spot_total: 0})
    found = run_check("quotas.instance-type", spec, fake)
    assert P5_QUOTA not in found
    assert found[spot_quota].status is Status.FAIL and found[spot_quota].details["in_use"] == 0
    totals = run_check("quotas.instances-total", spec, account({spot_quota: 2, spot_total: 0}))
    assert totals[spot_total].status is Status.FAIL
    assert totals[TOTAL].status is Status.PASS and totals[TOTAL].details["needed"] == 2


def flexible_spec(world: World, *flex: tuple[str, int, list[str]], **changes: Any) -> Any:
    """The standard config plus groups with ``InstanceRequirements`` (name, count, types)."""
    cfg = slurm_config([world.net.subnets["a"]], [world.net.sgs["efa"]], **changes)
    template = cfg["InstanceGroups"][0]
    for name, count, types in flex:
        group = {k: v for k, v in template.items() if k != "InstanceType"}
        group.update(
            InstanceGroupName=name,
            InstanceCount=count,
            InstanceRequirements={"InstanceTypes": types},
        )
        cfg["InstanceGroups"].append(group)
    return load_spec(cfg)


def test_flexible_group_counts_in_full_against_each_of_its_types(world: World) -> None:
    """A group that may land on p5 or m5.2xlarge is counted whole on both: p5 needs 4 + 2
    (3 in use, quota 8 → short by 1), m5.2xlarge 1 + 2 (quota 2 → short by 1). The groups
    of fixed type fit: only the worst case overflows, which may not happen (1 on each type
    fits), so a WARN with the numbers, not a FAIL."""
    spec = flexible_spec(world, ("flex", 2, [P5, "ml.m5.2xlarge"]))
    found = run_check("quotas.instance-type", spec, account())
    assert set(found) == {
        P5_QUOTA,
        "ml.m5.2xlarge for cluster usage",
        "ml.m5.4xlarge for cluster usage",
    }
    p5 = found[P5_QUOTA]
    assert p5.status is Status.WARN and p5.details["needed"] == 6
    assert p5.details["deficit"] == 1 and p5.details["flexible_groups"] == ["flex"]
    assert "only if the flexible group(s) land entirely on" in p5.message
    assert p5.details["groups"] == ["workers", "flex"]
    assert "worst case: flexible group flex (InstanceRequirements)" in p5.message
    assert f"may land entirely on {P5}" in p5.message
    m5 = found["ml.m5.2xlarge for cluster usage"]
    assert m5.status is Status.WARN and m5.details["needed"] == 3
    assert "--desired-value 3" in m5.remediation
    fixed_only = found["ml.m5.4xlarge for cluster usage"]
    assert fixed_only.status is Status.PASS and "flexible_groups" not in fixed_only.details
    assert "worst case" not in fixed_only.message


def test_flexible_group_beside_fixed_groups_that_overflow_is_still_a_fail(world: World) -> None:
    """p5 quota 6, 3 in use, the fixed group needs 4: short whatever the flexible group
    does, so FAIL."""
    spec = flexible_spec(world, ("flex", 2, [P5, "ml.m5.2xlarge"]))
    found = run_check("quotas.instance-type", spec, account({P5_QUOTA: 6}))
    p5 = found[P5_QUOTA]
    assert p5.status is Status.FAIL, p5.message
    assert p5.details["deficit"] == 3


def test_flexible_groups_pass_when_every_type_holds_the_whole_group(world: World) -> None:
    spec = flexible_spec(
        world, ("flex", 2, [P5, "ml.m5.2xlarge"]), ("flex2", 1, ["ml.m5.2xlarge", P5])
    )
    fake = account({P5_QUOTA: 10, "ml.m5.2xlarge for cluster usage": 4})
    found = run_check("quotas.instance-type", spec, fake)
    p5 = found[P5_QUOTA]  # one finding per quota name, both flexible groups in it
    assert p5.status is Status.PASS and p5.details["needed"] == 4 + 2 + 1
    assert p5.details["flexible_groups"] == ["flex", "flex2"]
    assert "worst case: flexible groups flex, flex2" in p5.message
    assert found["ml.m5.2xlarge for cluster usage"].details["needed"] == 1 + 2 + 1
    assert {f.status for f in found.values()} == {Status.PASS}


def test_flexible_group_type_without_quota_or_unreadable_is_unknown(world: World) -> None:
    spec = flexible_spec(world, ("flex", 2, ["ml.g6.12xlarge", "ml.m5.2xlarge"]))
    found = run_check("quotas.instance-type", spec, account({"ml.m5.2xlarge for cluster usage": 3}))
    g6 = found["ml.g6.12xlarge for cluster usage"]
    assert g6.status is Status.UNKNOWN and "neither with an applied value" in g6.message
    assert found["ml.m5.2xlarge for cluster usage"].status is Status.PASS
    denied_ = run_check("quotas.instance-type", spec, account().deny("ListServiceQuotas"))
    assert "ml.g6.12xlarge for cluster usage" in denied_
    assert {f.status for f in denied_.values()} == {Status.UNKNOWN}


def test_flexible_spot_group_counts_against_the_spot_quotas(world: World) -> None:
    spec = flexible_spec(world, ("flex", 2, [P5, "ml.m5.2xlarge"]))
    raw = {**spec.raw}
    raw["InstanceGroups"] = [
        {**g, "CapacityRequirements": {"Spot": {}}} if g["InstanceGroupName"] == "flex" else g
        for g in spec.raw["InstanceGroups"]
    ]
    spec = load_spec(raw)
    spot_quota = f"{P5} for cluster spot instance usage"
    found = run_check("quotas.instance-type", spec, account({spot_quota: 1}))
    # Only the flexible group needs this quota, and it may land on m5.2xlarge spot: WARN.
    assert found[spot_quota].status is Status.WARN and found[spot_quota].details["needed"] == 2
    assert found[P5_QUOTA].details["needed"] == 4  # on-demand: the workers only


# -- quotas.instances-per-cluster, quotas.instances-total, quotas.ebs-volume-size ----------
@pytest.mark.parametrize(
    ("check_id", "name", "ok", "short", "expect"),
    [
        ("quotas.instances-per-cluster", PER_CLUSTER, 20, 5, "short by 1"),
        ("quotas.instances-total", TOTAL, 30, 8, "short by 2"),  # 4 in use + 6 > 8
        ("quotas.ebs-volume-size", EBS, 1024, 256, "short by 244"),
    ],
)
def test_cluster_wide_quotas(
    world: World, check_id: str, name: str, ok: float, short: float, expect: str
) -> None:
    spec = spec_for(world)
    good = run_check(check_id, spec, account({name: ok}))[name]
    assert good.status is Status.PASS
    bad = run_check(check_id, spec, account({name: short}))[name]
    assert bad.status is Status.FAIL and expect in bad.message
    assert f"--desired-value {int(short) + int(expect.split()[-1])}" in bad.remediation
    cannot = run_check(check_id, spec, account().deny("ListServiceQuotas"))[name]
    assert cannot.status is Status.UNKNOWN


def test_ebs_check_skips_without_volumes(world: World) -> None:
    cfg_spec = spec_for(world)
    groups = tuple(replace(g, ebs_volume_sizes_gb=()) for g in cfg_spec.instance_groups)
    spec = replace(cfg_spec, instance_groups=groups)
    found = run_check("quotas.ebs-volume-size", spec, account())
    assert found[EBS].status is Status.SKIP


def test_per_cluster_quota_found_by_a_later_spelling(world: World) -> None:
    fixed = "Maximum number of instances allowed per SageMaker HyperPod cluster"
    found = run_check(
        "quotas.instances-per-cluster", spec_for(world), account({PER_CLUSTER: None, fixed: 4})
    )
    assert found[PER_CLUSTER].status is Status.FAIL


def test_throttled_calls_yield_the_same_findings(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.retries.standard

    spec = spec_for(world)
    plain = {
        cid: run_check(cid, spec, account({P5_QUOTA: 6}))
        for cid in ("quotas.instance-type", "quotas.instances-total")
    }
    monkeypatch.setattr(
        botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.01
    )
    facts = fresh_facts()
    fake = account({P5_QUOTA: 6}).throttle("ListServiceQuotas", 2)
    fake.throttle("ListAWSDefaultServiceQuotas", 2)
    throttling = Injector().queue(
        "ListClusters", error("ThrottlingException"), error("ThrottlingException")
    )
    throttling.queue("DescribeCluster", error("ThrottlingException"))
    throttling.attach(facts.client("sagemaker"))
    fake.attach(facts)
    for cid, before in plain.items():
        after = run_check(cid, spec, None, facts=facts)
        assert {r: (f.status, f.message) for r, f in after.items()} == {
            r: (f.status, f.message) for r, f in before.items()
        }
    assert fake.calls("ListServiceQuotas") == 3 + 2
    assert throttling.seen["ListClusters"] == 3


# -- quotas.network-interfaces ------------------------------------------------------------
ENI = "Network interfaces per Region"


def _ec2_vpc(eni: float = 5000, eip: float = 5, p_vcpus: float = 384) -> list[dict[str, Any]]:
    return [
        quota(ENI, "L-DF5E4CA3", eni, service="vpc"),
        quota("EC2-VPC Elastic IPs", "L-0263D0A3", eip, service="ec2"),
        quota("Running On-Demand P instances", "L-417A185B", p_vcpus, service="ec2"),
        quota(
            "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
            "L-1216C47A",
            1152,
            service="ec2",
        ),
    ]


def test_network_interfaces(world: World) -> None:
    spec = spec_for(world)
    needed = build_plan(spec).enis_needed
    assert needed == 164  # (4+1) x 32 cards for p5, (1+1) x 1 for each small group
    ok = run_check("quotas.network-interfaces", spec, account(ec2_vpc=_ec2_vpc()))[ENI]
    assert ok.status is Status.PASS and ok.details["needed"] == 164
    short = run_check("quotas.network-interfaces", spec, account(ec2_vpc=_ec2_vpc(eni=150)))[ENI]
    assert short.status is Status.WARN and short.severity is Severity.MEDIUM
    assert "--service-code vpc --quota-code L-DF5E4CA3" in short.remediation
    facts = fresh_facts()
    denied("DescribeNetworkInterfaces").attach(facts.client("ec2"))
    cannot = run_check("quotas.network-interfaces", spec, account(), facts=facts)[ENI]
    assert cannot.status is Status.UNKNOWN and "ec2:DescribeNetworkInterfaces" in cannot.message


def test_network_interfaces_skip_without_vpc_config(world: World) -> None:
    spec = replace(spec_for(world), vpc_config=None)
    found = run_check("quotas.network-interfaces", spec, account())
    assert found[ENI].status is Status.SKIP


# -- quotas.elastic-ips -------------------------------------------------------------------
EIP = "EC2-VPC Elastic IPs"


def test_elastic_ips(world: World) -> None:
    with_nat = spec_for(world)
    found = run_check("quotas.elastic-ips", with_nat, account())[EIP]
    assert found.status is Status.PASS and found.details["needed"] == 0
    # the bare subnet (usw2-az2) has no NAT route: one NAT gateway, one EIP, and the
    # healthy network's NAT already holds one of the quota's 1
    without = spec_for(world, subnets=[world.net.subnets["a"], world.bare_subnet])
    short = run_check("quotas.elastic-ips", without, account(ec2_vpc=_ec2_vpc(eip=1)))[EIP]
    assert short.status is Status.WARN and short.details["zones_without_nat"] == ["usw2-az2"]
    assert "not one per node" in short.message
    assert "--service-code ec2 --quota-code L-0263D0A3 --desired-value 2" in short.remediation
    roomy = run_check("quotas.elastic-ips", without, account())[EIP]
    assert roomy.status is Status.PASS and roomy.details["needed"] == 1
    facts = fresh_facts()
    denied("DescribeAddresses").attach(facts.client("ec2"))
    cannot = run_check("quotas.elastic-ips", without, account(), facts=facts)[EIP]
    assert cannot.status is Status.UNKNOWN and "ec2:DescribeAddresses" in cannot.message


def test_elastic_ips_use_the_egress_analysis_of_network_egress(world: World) -> None:
    """A subnet whose egress goes through a transit gateway needs no NAT gateway of its
    own, so no Elastic IP; the bare subnet still does."""
    spec = spec_for(world, subnets=[world.net.subnets["a"], world.tgw_subnet, world.bare_subnet])
    found = run_check("quotas.elastic-ips", spec, account())[EIP]
    assert found.status is Status.PASS
    assert found.details["needed"] == 1
    assert found.details["zones_without_nat"] == ["usw2-az2"]
    only_tgw = spec_for(world, subnets=[world.tgw_subnet])
    assert run_check("quotas.elastic-ips", only_tgw, account())[EIP].details["needed"] == 0


# -- quotas.ec2-vcpus ---------------------------------------------------------------------
def test_ec2_vcpus_are_advisory_info(world: World) -> None:
    spec = spec_for(world)
    found = run_check("quotas.ec2-vcpus", spec, account(ec2_vpc=_ec2_vpc(p_vcpus=384)))
    p = found["Running On-Demand P instances"]
    assert p.status is Status.WARN and p.severity is Severity.INFO
    assert p.details["needed_vcpus"] == 4 * 192 and "advisory only" in p.message
    std = found["Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"]
    assert std.status is Status.PASS and std.details["needed_vcpus"] == 8 + 16
    ok = run_check("quotas.ec2-vcpus", spec, account(ec2_vpc=_ec2_vpc(p_vcpus=768)))
    assert ok["Running On-Demand P instances"].status is Status.PASS
    cannot = run_check("quotas.ec2-vcpus", spec, account().deny("GetServiceQuota"))
    assert {f.status for f in cannot.values()} == {Status.UNKNOWN}


# -- how the reads are scheduled ------------------------------------------------------------
def test_usage_is_read_beside_the_quota_listings(world: World) -> None:
    """ListClusters starts while the applied listing is still paging: the judgement waits
    for the longer chain, not for the sum of both."""
    fake = account()
    clusters_listed = threading.Event()
    overlapped: list[bool] = []
    fake.hooks["ListServiceQuotas"] = lambda: overlapped.append(clusters_listed.wait(2))
    facts = fresh_facts()
    Injector().always("ListClusters", lambda _r: clusters_listed.set()).attach(
        facts.client("sagemaker")
    )
    found = run_check("quotas.instance-type", spec_for(world), fake, facts=facts)
    assert found[P5_QUOTA].status is Status.PASS
    assert overlapped and all(overlapped)
    assert facts.calls["sagemaker:ListClusters"] == 1


def test_preflight_reads_what_needs_no_plan_beside_describe_instance_types(
    world: World,
) -> None:
    """DescribeInstanceTypes (which the plan waits for) answers only once the quota listing,
    the usage and the subnets have started: a run that read them after planning would
    wait out the timeouts below. The calls are the same as without the warm-up."""
    from hyperpod_preflight.preflight import run_cluster_preflight

    started = {op: threading.Event() for op in ("ListServiceQuotas", "ListClusters", "Subnets")}
    fake = account()
    fake.hooks["ListServiceQuotas"] = started["ListServiceQuotas"].set
    facts = fresh_facts()
    fake.attach(facts)
    Injector().always("ListClusters", lambda _r: started["ListClusters"].set()).attach(
        facts.client("sagemaker")
    )
    seen_first: dict[str, bool] = {}

    def before_types(_request: Any) -> None:
        seen_first.update({op: e.wait(2) for op, e in started.items()})

    ec2 = Injector().always("DescribeInstanceTypes", before_types)
    ec2.always("DescribeSubnets", lambda _r: started["Subnets"].set())
    ec2.attach(facts.client("ec2"))
    report = run_cluster_preflight(spec_for(world), facts=facts, only=["network", "quotas"])
    assert seen_first == dict.fromkeys(started, True)
    assert not {Status.FAIL, Status.UNKNOWN} & {f.status for f in report.results}
    assert facts.calls["ec2:DescribeSubnets"] == 1
    assert facts.calls["service-quotas:ListServiceQuotas"] == fake.calls("ListServiceQuotas")
    assert report.api_calls == facts.call_count


def test_partial_describe_instance_types_falls_back_to_the_catalog(world: World) -> None:
    """An entry without NetworkInfo (a partial answer) sizes that type from the catalog
    with a note, instead of ending the run with a traceback."""
    from hyperpod_preflight.preflight import run_cluster_preflight

    facts = fresh_facts()

    def strip_network_info(parsed: dict[str, Any], **_: Any) -> None:
        for info in parsed.get("InstanceTypes", []):
            info.pop("NetworkInfo", None)

    facts.client("ec2").meta.events.register(
        "after-call.ec2.DescribeInstanceTypes", strip_network_info
    )
    report = run_cluster_preflight(spec_for(world), facts=facts, only=["network.vpc-exists"])
    notes = report.facts["notes"]
    assert any("p5.48xlarge sized from the built-in catalog" in n for n in notes), notes
    assert [f.status for f in report.results] == [Status.PASS]
