"""network.vpc-*, network.subnet-*, network.egress and network.s3-gateway-endpoint against a
moto account holding healthy and broken subnets side by side."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import (
    REGION,
    Injector,
    add_default_route,
    allow,
    by_resource,
    denied,
    ec2_response,
    healthy_network,
    main_route_table,
    make_interface_endpoints,
    make_nat_gateway,
    make_route_table,
    make_s3_gateway_endpoint,
    make_sg,
    make_subnet,
    make_vpc,
    new_facts,
    run,
    statuses,
)
from conftest import moto_env

from hyperpod_preflight.checks.network import BASE_INTERFACE_SERVICES, LIFECYCLE_FAILURE
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, VpcSettings

MISSING_SUBNET = "subnet-0123456789abcdef0"
MISSING_VPC = "vpc-0123456789abcdef0"


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        net = healthy_network(ec2)
        vpc, private = net.vpc, net.route_tables["private"]
        ns = SimpleNamespace(ec2=ec2, net=net, a=net.subnets["a"], sg=net.sgs["efa"])
        # No explicit association: the main table governs it, and it routes to the IGW.
        ns.implicit = make_subnet(ec2, vpc, "10.0.64.0/24", zone_id="usw2-az2")
        ns.main_rtb = main_route_table(ec2, vpc)
        add_default_route(ec2, ns.main_rtb, GatewayId=net.igw)
        ns.small = make_subnet(ec2, vpc, "10.0.65.0/28", zone_id="usw2-az1")
        ec2.associate_route_table(RouteTableId=private, SubnetId=ns.small)
        ns.mapped = make_subnet(ec2, vpc, "10.0.66.0/24", zone_id="usw2-az1", public_ip=True)
        ec2.associate_route_table(RouteTableId=private, SubnetId=ns.mapped)
        ns.isolated = make_subnet(ec2, vpc, "10.0.67.0/24", zone_id="usw2-az1")
        ns.isolated_rtb = make_route_table(ec2, vpc, [ns.isolated])
        ns.dead_nat_subnet = make_subnet(ec2, vpc, "10.0.68.0/24", zone_id="usw2-az1")
        dead = make_nat_gateway(ec2, net.subnets["public"])
        ec2.delete_nat_gateway(NatGatewayId=dead)
        add_default_route(ec2, make_route_table(ec2, vpc, [ns.dead_nat_subnet]), NatGatewayId=dead)
        ns.nat_only = make_subnet(ec2, vpc, "10.0.69.0/24", zone_id="usw2-az1")
        ns.nat_only_rtb = make_route_table(ec2, vpc, [ns.nat_only])
        add_default_route(ec2, ns.nat_only_rtb, NatGatewayId=net.nat)
        # VPC B: DNS off.
        ns.vpc_b = make_vpc(ec2, "10.1.0.0/16", dns=False)
        ns.b1 = make_subnet(ec2, ns.vpc_b, "10.1.0.0/24", zone_id="usw2-az1")
        # VPC C: no internet at all, interface endpoints for the base services only, and an
        # S3 gateway endpoint on the main table but not on c1's table.
        ns.vpc_c = make_vpc(ec2, "10.2.0.0/16")
        ns.c1 = make_subnet(ec2, ns.vpc_c, "10.2.0.0/24", zone_id="usw2-az1")
        ns.c1_rtb = make_route_table(ec2, ns.vpc_c, [ns.c1])
        # The endpoints' group admits HTTPS from the whole VPC (so from c1); the others are
        # swapped in through DescribeVpcEndpoints answers.
        ns.c_https = make_sg(ec2, ns.vpc_c, "endpoints", self_ingress=False, self_egress=False)
        https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
        allow(ec2, ns.c_https, "ingress", {**https, "IpRanges": [{"CidrIp": "10.2.0.0/16"}]})
        ns.c_cluster = make_sg(ec2, ns.vpc_c, "cluster")
        ns.c_from_cluster = make_sg(ec2, ns.vpc_c, "ep-pair", self_ingress=False)
        allow(
            ec2,
            ns.c_from_cluster,
            "ingress",
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": ns.c_cluster}]},
        )
        ns.c_closed = make_sg(ec2, ns.vpc_c, "ep-closed", self_ingress=False)
        allow(ec2, ns.c_closed, "ingress", {**https, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]})
        allow(
            ec2,
            ns.c_closed,
            "ingress",
            {
                "IpProtocol": "tcp",
                "FromPort": 80,
                "ToPort": 80,
                "UserIdGroupPairs": [{"GroupId": ns.c_cluster}],
            },
        )
        ns.c_prefix = make_sg(ec2, ns.vpc_c, "ep-prefix", self_ingress=False)
        pl = ec2.create_managed_prefix_list(
            PrefixListName="corp", AddressFamily="IPv4", MaxEntries=5
        )["PrefixList"]["PrefixListId"]
        allow(ec2, ns.c_prefix, "ingress", {**https, "PrefixListIds": [{"PrefixListId": pl}]})
        make_interface_endpoints(
            ec2, ns.vpc_c, [ns.c1], BASE_INTERFACE_SERVICES, security_group_ids=[ns.c_https]
        )
        ns.c_s3 = make_s3_gateway_endpoint(ec2, ns.vpc_c, [main_route_table(ec2, ns.vpc_c)])
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return new_facts()


def spec(
    *subnets: str,
    sgs: tuple[str, ...] = (),
    orchestrator: str = "slurm",
    vpc_id: str | None = None,
    count: int = 2,
    instance_type: str = "ml.p5.48xlarge",
) -> ClusterSpec:
    groups = (InstanceGroup(name="workers", instance_type=instance_type, count=count),)
    vpc = VpcSettings(subnets=subnets, security_group_ids=sgs) if subnets or sgs else None
    return ClusterSpec(
        name="c",
        orchestrator=orchestrator,  # type: ignore[arg-type]
        instance_groups=groups,
        vpc_config=vpc,
        vpc_id=vpc_id,
    )


# -- network.vpc-exists / network.vpc-dns -------------------------------------------------
def test_vpc_exists_pass_fail_skip(w: SimpleNamespace, facts: Any) -> None:
    assert statuses(run("network.vpc-exists", spec(w.a), facts)) == {w.net.vpc: "PASS"}
    missing = by_resource(run("network.vpc-exists", spec(vpc_id=MISSING_VPC), facts))
    assert missing[MISSING_VPC].status.value == "FAIL"
    assert f"The VPC '{MISSING_VPC}' does not exist" in missing[MISSING_VPC].message
    assert statuses(run("network.vpc-exists", spec(), facts)) == {"-": "SKIP"}
    assert statuses(run("network.vpc-exists", spec(MISSING_SUBNET), facts)) == {"-": "SKIP"}


def test_only_vpc_given_vpc_checks_run_subnet_checks_skip(w: SimpleNamespace, facts: Any) -> None:
    only_vpc = spec(vpc_id=w.net.vpc)
    assert statuses(run("network.vpc-exists", only_vpc, facts)) == {w.net.vpc: "PASS"}
    assert statuses(run("network.vpc-dns", only_vpc, facts)) == {w.net.vpc: "PASS"}
    for check_id in (
        "network.subnet-exists",
        "network.subnet-capacity",
        "network.subnet-private",
        "network.egress",
        "network.s3-gateway-endpoint",
    ):
        assert statuses(run(check_id, only_vpc, facts)) == {"-": "SKIP"}, check_id


def test_vpc_dns_pass_and_fail(w: SimpleNamespace, facts: Any) -> None:
    assert statuses(run("network.vpc-dns", spec(w.a), facts)) == {w.net.vpc: "PASS"}
    bad = by_resource(run("network.vpc-dns", spec(w.b1), facts))[w.vpc_b]
    assert bad.status.value == "FAIL"
    assert "enableDnsSupport and enableDnsHostnames are off" in bad.message
    assert f"aws ec2 modify-vpc-attribute --vpc-id {w.vpc_b} --enable-dns-hostnames" in (
        bad.remediation
    )
    assert statuses(run("network.vpc-dns", spec(vpc_id=MISSING_VPC), facts)) == {
        MISSING_VPC: "SKIP"
    }


# -- network.subnet-exists ----------------------------------------------------------------
def test_subnet_exists(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(run("network.subnet-exists", spec(w.a, MISSING_SUBNET, w.b1), facts))
    assert found[w.a].status.value == "PASS"
    assert "usw2-az1" in found[w.a].message
    assert found[MISSING_SUBNET].status.value == "FAIL"
    assert f"The subnet '{MISSING_SUBNET}' does not exist" in found[MISSING_SUBNET].message
    assert found[w.b1].status.value == "FAIL"  # in VPC B, the cluster is in VPC A
    assert w.vpc_b in found[w.b1].message and w.net.vpc in found[w.b1].message
    assert facts.calls["ec2:DescribeSubnets"] == 1


def test_subnet_exists_against_given_vpc(w: SimpleNamespace, facts: Any) -> None:
    found = statuses(run("network.subnet-exists", spec(w.a, vpc_id=w.vpc_b), facts))
    assert found == {w.a: "FAIL"}


# -- network.subnet-capacity --------------------------------------------------------------
def test_subnet_capacity_pass_and_fail_with_figures(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(run("network.subnet-capacity", spec(w.a, w.small), facts))
    # p5.48xlarge on Slurm: 32 addresses per node; 2 nodes + 1 headroom node = 96.
    assert found[w.a].status.value == "PASS"
    assert found[w.a].details["needed"] == 96
    small = found[w.small]
    assert small.status.value == "FAIL"
    assert small.details["needed"] == 96 and small.details["free"] == 11
    assert "a /25 or larger fits" in small.message and "needs 96 addresses" in small.message
    assert "--availability-zone-id usw2-az1" in small.remediation


def test_subnet_capacity_without_a_free_count_is_unknown_not_fail(
    w: SimpleNamespace, facts: Any
) -> None:
    """A partial DescribeSubnets answer (no AvailableIpAddressCount) cannot tell how many
    addresses are free: UNKNOWN naming the subnet, never a FAIL on 0 free."""

    def strip_free_count(parsed: dict[str, Any], **_: Any) -> None:
        for subnet in parsed.get("Subnets", []):
            if subnet.get("SubnetId") == w.small:
                subnet.pop("AvailableIpAddressCount", None)

    facts.client("ec2").meta.events.register("after-call.ec2.DescribeSubnets", strip_free_count)
    found = by_resource(run("network.subnet-capacity", spec(w.a, w.small), facts))
    assert found[w.a].status.value == "PASS"
    assert found[w.small].status.value == "UNKNOWN"
    assert w.small in found[w.small].message
    assert "AvailableIpAddressCount" in found[w.small].message


def test_subnet_capacity_eks_counts_more(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(run("network.subnet-capacity", spec(w.a, orchestrator="eks"), facts))
    assert found[w.a].details["needed"] == 3 * 81


# -- network.subnet-private ---------------------------------------------------------------
def test_subnet_private_explicit_implicit_and_mapped(w: SimpleNamespace, facts: Any) -> None:
    subnets = (w.a, w.implicit, w.mapped, MISSING_SUBNET)
    slurm = by_resource(run("network.subnet-private", spec(*subnets), facts))
    assert slurm[w.a].status.value == "PASS"
    assert slurm[w.implicit].status.value == "WARN"
    assert f"main route table {w.main_rtb}" in slurm[w.implicit].message
    assert "associate-route-table --subnet-id" in slurm[w.implicit].remediation
    assert slurm[w.mapped].status.value == "WARN"
    assert "--no-map-public-ip-on-launch" in slurm[w.mapped].remediation
    assert slurm[MISSING_SUBNET].status.value == "SKIP"
    eks = by_resource(
        run("network.subnet-private", spec(*subnets, orchestrator="eks"), new_facts())
    )
    # A public subnet "has a direct route to an internet gateway" (VPC user guide): the main
    # table's IGW route is the EKS FAIL. MapPublicIpOnLaunch behind a NAT route is not that
    # (it was a false FAIL): a WARN naming the attribute.
    assert {r: f.status.value for r, f in eks.items()} == {
        w.a: "PASS",
        w.implicit: "FAIL",
        w.mapped: "WARN",
        MISSING_SUBNET: "SKIP",
    }
    assert "sagemaker-hyperpod-eks-prerequisites.html" in eks[w.implicit].message
    assert "private by the VPC definition" in eks[w.mapped].message
    assert "--no-map-public-ip-on-launch" in eks[w.mapped].remediation


# -- network.egress -----------------------------------------------------------------------
def test_egress_through_a_peering_connection_is_no_egress(w: SimpleNamespace, facts: Any) -> None:
    """VPC peering does not carry traffic on to the peer's NAT or internet gateway (no edge
    to edge routing): 0.0.0.0/0 → pcx-… gives the subnet no way out."""
    peer_vpc = make_vpc(w.ec2, "10.9.0.0/16")
    pcx = w.ec2.create_vpc_peering_connection(VpcId=w.net.vpc, PeerVpcId=peer_vpc)[
        "VpcPeeringConnection"
    ]["VpcPeeringConnectionId"]
    w.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    peered = make_subnet(w.ec2, w.net.vpc, "10.0.70.0/24", zone_id="usw2-az1")
    add_default_route(
        w.ec2, make_route_table(w.ec2, w.net.vpc, [peered]), VpcPeeringConnectionId=pcx
    )
    found = by_resource(run("network.egress", spec(peered), facts))[peered]
    assert found.status.value == "WARN"
    assert pcx in found.message and "peering" in found.message


def test_egress_nat_none_and_dead_nat(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(
        run("network.egress", spec(w.a, w.isolated, w.dead_nat_subnet, w.implicit), facts)
    )
    assert found[w.a].status.value == "PASS" and w.net.nat in found[w.a].message
    isolated = found[w.isolated]
    # No HyperPod page requires interface endpoints (only S3, judged by its own check): a
    # WARN, not the FAIL it was.
    assert isolated.status.value == "WARN" and isolated.severity.value == "high"
    assert "network.s3-gateway-endpoint" in isolated.message
    assert isolated.details["missing_endpoints"] == list(BASE_INTERFACE_SERVICES)
    assert f"--route-table-id {w.isolated_rtb}" in isolated.remediation
    assert f"--service-name com.amazonaws.{REGION}.ssm " in isolated.remediation
    assert found[w.dead_nat_subnet].status.value == "WARN"
    assert "is deleted" in found[w.dead_nat_subnet].message
    # An internet gateway gives HyperPod's interfaces (no public IP) no egress.
    assert found[w.implicit].status.value == "WARN"


def nat_in_state(w: SimpleNamespace, state: str) -> Injector:
    """DescribeNatGateways answering that the healthy network's NAT gateway is ``state``
    (moto creates NAT gateways available at once)."""
    body = {
        "NatGateways": [
            {
                "NatGatewayId": w.net.nat,
                "State": state,
                "SubnetId": w.net.subnets["public"],
                "VpcId": w.net.vpc,
                "ConnectivityType": "public",
            }
        ]
    }
    return Injector().always(
        "DescribeNatGateways", lambda _r: ec2_response("DescribeNatGateways", body)
    )


def test_egress_through_a_pending_nat_gateway_warns(w: SimpleNamespace, facts: Any) -> None:
    """A NAT gateway is pending for a few minutes after creation: egress works once it is
    available, so a WARN naming the state, not a FAIL."""
    nat_in_state(w, "pending").attach(facts.client("ec2"))
    found = by_resource(run("network.egress", spec(w.nat_only), facts))[w.nat_only]
    assert found.status.value == "WARN"
    assert f"NAT gateway {w.net.nat} is pending" in found.message
    assert "once it is available" in found.message
    # Without an S3 gateway endpoint, S3 traffic will go through that NAT gateway: advice.
    s3 = by_resource(run("network.s3-gateway-endpoint", spec(w.nat_only), facts))[w.nat_only]
    assert s3.status.value == "WARN" and "it is pending" in s3.message


@pytest.mark.parametrize("state", ["failed", "deleting", "deleted"])
def test_egress_through_a_dead_nat_gateway_fails_naming_the_state(
    w: SimpleNamespace, facts: Any, state: str
) -> None:
    nat_in_state(w, state).attach(facts.client("ec2"))
    found = by_resource(run("network.egress", spec(w.nat_only), facts))[w.nat_only]
    assert found.status.value == "WARN"
    assert f"NAT gateway {w.net.nat} is {state}" in found.message


def test_egress_endpoints_only_slurm_pass_eks_names_missing(w: SimpleNamespace, facts: Any) -> None:
    assert statuses(run("network.egress", spec(w.c1), facts)) == {w.c1: "PASS"}
    eks = by_resource(run("network.egress", spec(w.c1, orchestrator="eks"), new_facts()))[w.c1]
    assert eks.status.value == "WARN"
    assert eks.details["missing_endpoints"] == ["ecr.api", "ecr.dkr"]


def endpoints_in_state(w: SimpleNamespace, states: dict[str, str], **changes: Any) -> Injector:
    """DescribeVpcEndpoints answering what moto holds for VPC C, with the endpoints whose
    service suffix is in ``states`` put in that state (moto creates them available) and
    ``changes`` applied to every endpoint (e.g. ``RouteTableIds``)."""
    held = w.ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [w.vpc_c]}])
    endpoints = []
    for ep in held["VpcEndpoints"]:
        service = ep["ServiceName"].rsplit(".", 1)[-1]
        ep = {**ep, **changes.get(service, {})}
        if service in states:
            ep["State"] = states[service]
        endpoints.append(ep)
    body = {"VpcEndpoints": endpoints}
    return Injector().always(
        "DescribeVpcEndpoints", lambda _r: ec2_response("DescribeVpcEndpoints", body)
    )


def ssm_endpoint(w: SimpleNamespace) -> str:
    held = w.ec2.describe_vpc_endpoints(
        Filters=[
            {"Name": "vpc-id", "Values": [w.vpc_c]},
            {"Name": "service-name", "Values": [f"com.amazonaws.{REGION}.ssm"]},
        ]
    )
    return str(held["VpcEndpoints"][0]["VpcEndpointId"])


@pytest.mark.parametrize("state", ["pendingAcceptance", "pending"])
def test_egress_through_pending_interface_endpoints_warns(
    w: SimpleNamespace, facts: Any, state: str
) -> None:
    """An interface endpoint still pending is present, not missing: a WARN naming it."""
    endpoints_in_state(w, {"ssm": state}).attach(facts.client("ec2"))
    found = by_resource(run("network.egress", spec(w.c1), facts))[w.c1]
    assert found.status.value == "WARN"
    assert f"{ssm_endpoint(w)} (ssm) is {state}" in found.message
    assert "once" in found.message and "available" in found.message
    assert found.details["missing_endpoints"] == []
    assert ssm_endpoint(w) in found.remediation


@pytest.mark.parametrize("state", ["rejected", "failed", "deleted"])
def test_egress_through_broken_interface_endpoints_fails_naming_them(
    w: SimpleNamespace, facts: Any, state: str
) -> None:
    endpoints_in_state(w, {"ssm": state}).attach(facts.client("ec2"))
    found = by_resource(run("network.egress", spec(w.c1), facts))[w.c1]
    assert found.status.value == "WARN"
    assert f"{ssm_endpoint(w)} (ssm) is {state}" in found.message
    assert found.details["missing_endpoints"] == []
    assert f"--service-name com.amazonaws.{REGION}.ssm " in found.remediation
    if state != "deleted":
        assert f"delete-vpc-endpoints --vpc-endpoint-ids {ssm_endpoint(w)}" in found.remediation


def endpoint_groups(w: SimpleNamespace, **by_service: list[str]) -> Injector:
    """DescribeVpcEndpoints answering VPC C's endpoints with the ``Groups`` of the named
    services replaced by these security groups."""
    changes = {
        service: {"Groups": [{"GroupId": g, "GroupName": g} for g in groups]}
        for service, groups in by_service.items()
    }
    return endpoints_in_state(w, {}, **changes)


def test_egress_endpoint_groups_admitting_https_pass(w: SimpleNamespace, facts: Any) -> None:
    """From a block holding the subnet (VPC C's endpoints as built), or from one of the
    cluster's groups (all traffic counts): PASS, with one read of the endpoints' groups."""
    assert statuses(run("network.egress", spec(w.c1), facts)) == {w.c1: "PASS"}
    assert facts.calls["ec2:DescribeSecurityGroups"] == 1
    pairs = new_facts()
    endpoint_groups(w, ssm=[w.c_closed, w.c_from_cluster]).attach(pairs.client("ec2"))
    assert statuses(run("network.egress", spec(w.c1, sgs=(w.c_cluster,)), pairs)) == {w.c1: "PASS"}


def test_egress_endpoint_group_without_https_from_the_cluster_fails(
    w: SimpleNamespace, facts: Any
) -> None:
    """443 open to another network and port 80 from the cluster's group: the nodes cannot
    reach the endpoint. FAIL naming it, its group and the exact command."""
    endpoint_groups(w, ssm=[w.c_closed], sts=[w.c_closed]).attach(facts.client("ec2"))
    found = by_resource(run("network.egress", spec(w.c1, w.a, sgs=(w.c_cluster,)), facts))
    assert found[w.a].status.value == "PASS"  # through the NAT gateway: no endpoint needed
    c1 = found[w.c1]
    assert c1.status.value == "WARN"
    ssm = ssm_endpoint(w)
    assert (
        f"endpoint {ssm} (ssm) security group {w.c_closed} allows no inbound TCP 443 "
        "from the cluster" in c1.message
    )
    assert "(sts)" in c1.message and "(logs)" not in c1.message
    assert (
        f"aws ec2 authorize-security-group-ingress --group-id {w.c_closed} --ip-permissions "
        f"'IpProtocol=tcp,FromPort=443,ToPort=443,UserIdGroupPairs=[{{GroupId={w.c_cluster}}}]'"
        in c1.remediation
    )
    assert {e["service"] for e in c1.details["blocked_endpoints"]} == {"ssm", "sts"}
    assert c1.details["blocked_endpoints"][0]["security_groups"] == [w.c_closed]
    assert facts.calls["ec2:DescribeSecurityGroups"] == 1
    # Without cluster groups in the config the command opens 443 to the subnet's block.
    bare = new_facts()
    endpoint_groups(w, ssm=[w.c_closed]).attach(bare.client("ec2"))
    alone = by_resource(run("network.egress", spec(w.c1), bare))[w.c1]
    assert alone.status.value == "WARN"
    assert "ToPort=443,IpRanges=[{CidrIp=10.2.0.0/24}]'" in alone.remediation


@pytest.mark.parametrize("how", ["denied", "prefix-list", "no-groups"])
def test_egress_endpoint_groups_that_cannot_be_judged_are_unknown(
    w: SimpleNamespace, facts: Any, how: str
) -> None:
    if how == "denied":
        denied("DescribeSecurityGroups").attach(facts.client("ec2"))
    else:
        groups = [w.c_prefix] if how == "prefix-list" else []
        endpoint_groups(w, ssm=groups).attach(facts.client("ec2"))
    found = by_resource(run("network.egress", spec(w.c1, w.a), facts))
    assert found[w.a].status.value == "PASS"
    c1 = found[w.c1]
    assert c1.status.value == "UNKNOWN"
    expected = {
        "denied": "ec2:DescribeSecurityGroups",
        "prefix-list": "only from prefix list pl-",
        "no-groups": "gave no security group",
    }[how]
    assert expected in c1.message
    if how != "denied":
        assert ssm_endpoint(w) in c1.message


# -- network.s3-gateway-endpoint ----------------------------------------------------------
def test_s3_gateway_endpoint(w: SimpleNamespace, facts: Any) -> None:
    subnets = (w.a, w.isolated, w.nat_only, w.mapped)
    found = by_resource(run("network.s3-gateway-endpoint", spec(*subnets), facts))
    assert found[w.a].status.value == "PASS" and found[w.mapped].status.value == "PASS"
    isolated = found[w.isolated]
    assert isolated.status.value == "FAIL" and LIFECYCLE_FAILURE in isolated.message
    assert isolated.remediation == (
        f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {w.net.s3_endpoint} "
        f"--add-route-table-ids {w.isolated_rtb}"
    )
    # With a NAT gateway the scripts still arrive: advice, not failure.
    assert found[w.nat_only].status.value == "WARN"
    assert w.nat_only_rtb in found[w.nat_only].remediation


def test_s3_gateway_endpoint_missing_in_vpc(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(run("network.s3-gateway-endpoint", spec(w.b1), facts))[w.b1]
    assert found.status.value == "FAIL"
    assert "has no gateway endpoint for com.amazonaws.us-west-2.s3" in found.message
    assert "create-vpc-endpoint" in found.remediation and "--vpc-endpoint-type Gateway" in (
        found.remediation
    )
    c1 = by_resource(run("network.s3-gateway-endpoint", spec(w.c1), facts))[w.c1]
    assert c1.status.value == "FAIL" and w.c_s3 in c1.remediation


def test_an_s3_interface_endpoint_with_private_dns_is_no_fail(
    w: SimpleNamespace, facts: Any
) -> None:
    """HyperPod's page asks for "a VPC endpoint" for S3, not a gateway one: c1 (no internet,
    no gateway endpoint on its table) with an available S3 interface endpoint, private DNS
    on, is a WARN naming it (it was a FAIL). Without private DNS it stays a FAIL."""
    held = w.ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [w.vpc_c]}])
    interface = {
        "VpcEndpointId": "vpce-0123456789abcdef0",
        "VpcEndpointType": "Interface",
        "VpcId": w.vpc_c,
        "ServiceName": f"com.amazonaws.{REGION}.s3",
        "State": "available",
        "PrivateDnsEnabled": True,
        "SubnetIds": [w.c1],
        "RouteTableIds": [],
        "Groups": [],
    }
    for dns, expected in ((True, "WARN"), (False, "FAIL")):
        body = {"VpcEndpoints": [*held["VpcEndpoints"], {**interface, "PrivateDnsEnabled": dns}]}
        answered = new_facts()
        Injector().always(
            "DescribeVpcEndpoints", lambda _r, b=body: ec2_response("DescribeVpcEndpoints", b)
        ).attach(answered.client("ec2"))
        c1 = by_resource(run("network.s3-gateway-endpoint", spec(w.c1), answered))[w.c1]
        assert c1.status.value == expected, c1.message
        if dns:
            assert "vpce-0123456789abcdef0" in c1.message


@pytest.mark.parametrize(("state", "status"), [("pending", "WARN"), ("failed", "FAIL")])
def test_s3_gateway_endpoint_present_but_not_usable(
    w: SimpleNamespace, facts: Any, state: str, status: str
) -> None:
    """VPC C's S3 gateway endpoint on c1's route table but not available: named with its
    state, never reported as missing (c1 has no internet egress: FAIL unless pending)."""
    endpoints_in_state(w, {"s3": state}, s3={"RouteTableIds": [w.c1_rtb]}).attach(
        facts.client("ec2")
    )
    found = by_resource(run("network.s3-gateway-endpoint", spec(w.c1), facts))[w.c1]
    assert found.status.value == status
    assert f"S3 gateway endpoint {w.c_s3}" in found.message and f"is {state}" in found.message
    assert "has no gateway endpoint" not in found.message
    if state == "failed":
        assert f"delete-vpc-endpoints --vpc-endpoint-ids {w.c_s3}" in found.remediation
        assert f"--route-table-ids {w.c1_rtb}" in found.remediation


@pytest.mark.parametrize(
    "check_id",
    [
        "network.subnet-exists",
        "network.subnet-private",
        "network.egress",
        "network.s3-gateway-endpoint",
    ],
)
def test_subnet_without_a_vpc_id_is_unknown_for_that_subnet_only(
    w: SimpleNamespace, facts: Any, check_id: str
) -> None:
    """A DescribeSubnets entry without VpcId cannot be placed: UNKNOWN for that subnet,
    the others judged as usual (no KeyError making the whole check UNKNOWN)."""
    held = w.ec2.describe_subnets(SubnetIds=[w.a, w.isolated])["Subnets"]
    body = {
        "Subnets": [
            {k: v for k, v in sub.items() if k != "VpcId" or sub["SubnetId"] == w.a} for sub in held
        ]
    }
    Injector().always("DescribeSubnets", lambda _r: ec2_response("DescribeSubnets", body)).attach(
        facts.client("ec2")
    )
    found = by_resource(run(check_id, spec(w.a, w.isolated), facts))
    assert found[w.a].status.value == "PASS"
    assert found[w.isolated].status.value == "UNKNOWN"
    assert "VpcId" in found[w.isolated].message


# -- cannot tell --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("check_id", "operation"),
    [
        ("network.vpc-exists", "DescribeVpcs"),
        ("network.vpc-dns", "DescribeVpcAttribute"),
        ("network.subnet-exists", "DescribeSubnets"),
        ("network.subnet-capacity", "DescribeSubnets"),
        ("network.subnet-private", "DescribeRouteTables"),
        ("network.egress", "DescribeVpcEndpoints"),
        ("network.s3-gateway-endpoint", "DescribeVpcEndpoints"),
    ],
)
def test_denied_is_unknown_naming_the_action(
    w: SimpleNamespace, facts: Any, check_id: str, operation: str
) -> None:
    denied(operation).attach(facts.client("ec2"))
    findings = run(check_id, spec(w.isolated, w.nat_only), facts)
    assert [f.status.value for f in findings] == ["UNKNOWN"]
    assert f"ec2:{operation}" in findings[0].message
    assert "hp-preflight-readonly.json" in findings[0].remediation


def test_s3_endpoint_is_judged_from_what_was_read_when_nat_gateways_are_denied(
    w: SimpleNamespace, facts: Any
) -> None:
    """Only where the NAT gateway decides (no usable endpoint, a NAT route) is it UNKNOWN."""
    denied("DescribeNatGateways").attach(facts.client("ec2"))
    found = by_resource(
        run("network.s3-gateway-endpoint", spec(w.a, w.isolated, w.nat_only), facts)
    )
    assert found[w.a].status.value == "PASS"  # its table uses the endpoint
    assert found[w.isolated].status.value == "FAIL"  # no endpoint, no default route at all
    assert found[w.nat_only].status.value == "UNKNOWN"
    assert "ec2:DescribeNatGateways" in found[w.nat_only].message
    assert "modify-vpc-endpoint" in found[w.nat_only].remediation  # attach the one there is


# -- network.egress: a default route to a transit gateway or an appliance ---------------------
def _tgw_subnet(w: SimpleNamespace, vpc: str, cidr: str) -> tuple[str, str]:
    tgw = w.ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    sub = make_subnet(w.ec2, vpc, cidr, zone_id="usw2-az1")
    w.ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[sub])
    add_default_route(w.ec2, make_route_table(w.ec2, vpc, [sub]), TransitGatewayId=tgw)
    return sub, tgw


def test_egress_through_a_transit_gateway_is_a_warn_not_a_pass(
    w: SimpleNamespace, facts: Any
) -> None:
    """Nothing read proves that the transit gateway forwards to the internet: WARN saying so
    (it was PASS "assumed")."""
    sub, tgw = _tgw_subnet(w, w.net.vpc, "10.0.71.0/24")
    found = by_resource(run("network.egress", spec(sub), facts))[sub]
    assert found.status.value == "WARN", found.message
    assert tgw in found.message and "transit gateway" in found.message
    assert "not verified" in found.message
    assert "search-transit-gateway-routes --transit-gateway-route-table-id" in found.remediation


def test_egress_through_an_appliance_interface_is_a_warn_not_a_pass(
    w: SimpleNamespace, facts: Any
) -> None:
    appliance = make_subnet(w.ec2, w.net.vpc, "10.0.72.0/24", zone_id="usw2-az1")
    eni = w.ec2.create_network_interface(SubnetId=appliance)["NetworkInterface"][
        "NetworkInterfaceId"
    ]
    sub = make_subnet(w.ec2, w.net.vpc, "10.0.73.0/24", zone_id="usw2-az1")
    add_default_route(w.ec2, make_route_table(w.ec2, w.net.vpc, [sub]), NetworkInterfaceId=eni)
    found = by_resource(run("network.egress", spec(sub), facts))[sub]
    assert found.status.value == "WARN", found.message
    assert eni in found.message and "not verified" in found.message


def test_egress_through_a_transit_gateway_with_every_endpoint_passes(
    w: SimpleNamespace, facts: Any
) -> None:
    """VPC C's interface endpoints (private DNS on, open on 443) serve the subnet whatever
    the transit gateway does: PASS through the endpoints."""
    sub, _ = _tgw_subnet(w, w.vpc_c, "10.2.1.0/24")
    found = by_resource(run("network.egress", spec(sub), facts))[sub]
    assert found.status.value == "PASS", found.message
    assert "interface endpoints" in found.message


def test_s3_traffic_through_a_transit_gateway_is_not_said_to_work(
    w: SimpleNamespace, facts: Any
) -> None:
    sub, tgw = _tgw_subnet(w, w.net.vpc, "10.0.74.0/24")
    found = by_resource(run("network.s3-gateway-endpoint", spec(sub), facts))[sub]
    assert found.status.value == "WARN"
    assert tgw in found.message and "not verified" in found.message
