"""eks.* checks against a moto network and an EKS answerer (moto drops accessConfig, vpcId
and the cluster security group, and lacks add-ons and access entries): pass, fail and
cannot-tell for each."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import (
    ACCOUNT,
    REGION,
    add_default_route,
    allow,
    by_resource,
    healthy_network,
    make_route_table,
    make_sg,
    make_subnet,
    make_vpc,
    new_facts,
    run,
    statuses,
)
from conftest import moto_env
from eks_world import ADMIN_ROLE, ASSUMED, EksFake, cluster_body

import hyperpod_preflight.checks.eks  # noqa: F401  (registers the checks)
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, VpcSettings

ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/ml"


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        net = healthy_network(ec2)
        ns = SimpleNamespace(ec2=ec2, net=net, vpc=net.vpc, a=net.subnets["a"], sg=net.sgs["efa"])
        ns.isolated = make_subnet(ec2, net.vpc, "10.0.67.0/24", zone_id="usw2-az1")
        make_route_table(ec2, net.vpc, [ns.isolated])
        other_vpc = make_vpc(ec2, "10.9.0.0/16")
        ns.other = make_subnet(ec2, other_vpc, "10.9.0.0/24", zone_id="usw2-az1")
        add_default_route(ec2, make_route_table(ec2, other_vpc, [ns.other]), GatewayId="local")
        https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
        ns.cp_pair = make_sg(ec2, net.vpc, "cp-pair", self_ingress=False)
        allow(ec2, ns.cp_pair, "ingress", {**https, "UserIdGroupPairs": [{"GroupId": ns.sg}]})
        ns.cp_cidr = make_sg(ec2, net.vpc, "cp-cidr", self_ingress=False)
        allow(ec2, ns.cp_cidr, "ingress", {**https, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]})
        ns.cp_closed = make_sg(ec2, net.vpc, "cp-closed", self_ingress=False)
        allow(ec2, ns.cp_closed, "ingress", {**https, "IpRanges": [{"CidrIp": "192.0.2.0/24"}]})
        nat = ec2.describe_nat_gateways(NatGatewayIds=[net.nat])["NatGateways"][0]
        ns.nat_ip = nat["NatGatewayAddresses"][0]["PublicIp"]
        yield ns


@pytest.fixture
def lifted(w: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def facts_with(fake: EksFake | None = None) -> Any:
    facts = new_facts()
    if fake is not None:
        fake.attach(facts.client("eks"), facts.client("sts"))
    return facts


def spec(
    *subnets: str, sgs: tuple[str, ...] = (), arn: str = ARN, orchestrator: str = "eks"
) -> ClusterSpec:
    vpc = VpcSettings(subnets=subnets, security_group_ids=sgs) if subnets or sgs else None
    return ClusterSpec(
        name="hp",
        orchestrator=orchestrator,  # type: ignore[arg-type]
        eks_cluster_arn=arn if orchestrator == "eks" else None,
        instance_groups=(InstanceGroup(name="g", instance_type="ml.g5.8xlarge", count=1),),
        vpc_config=vpc,
    )


def one(findings: list[Any]) -> Any:
    assert len(findings) == 1, findings
    return findings[0]


# -- eks.cluster ----------------------------------------------------------------------------
@pytest.mark.usefixtures("lifted")
def test_cluster_active_missing_and_states(w: SimpleNamespace) -> None:
    fake = EksFake(
        {
            "ml": cluster_body("ml"),
            "new": cluster_body("new", status="CREATING"),
            "bad": cluster_body("bad", status="FAILED"),
        }
    )
    facts = facts_with(fake)
    assert one(run("eks.cluster", spec(w.a), facts)).status.value == "PASS"
    gone = one(run("eks.cluster", spec(w.a, arn=ARN.replace("/ml", "/nope")), facts))
    assert gone.status.value == "FAIL" and "list-clusters" in gone.remediation
    creating = one(run("eks.cluster", spec(w.a, arn=ARN.replace("/ml", "/new")), facts))
    assert creating.status.value == "WARN" and "wait cluster-active" in creating.remediation
    failed = one(run("eks.cluster", spec(w.a, arn=ARN.replace("/ml", "/bad")), facts))
    assert failed.status.value == "FAIL" and "FAILED" in failed.message


@pytest.mark.usefixtures("lifted")
def test_cluster_in_another_region_or_account_fails_without_describing_it(
    w: SimpleNamespace,
) -> None:
    fake = EksFake({"ml": cluster_body("ml")})
    facts = facts_with(fake)
    east = one(run("eks.cluster", spec(w.a, arn=ARN.replace(REGION, "us-east-1")), facts))
    assert east.status.value == "FAIL" and "us-east-1" in east.message
    other = one(run("eks.cluster", spec(w.a, arn=ARN.replace(ACCOUNT, "999999999999")), facts))
    assert other.status.value == "FAIL" and "999999999999" in other.message
    assert fake.calls == []
    # the other eks checks point at eks.cluster instead of judging a wrong cluster
    version = one(
        run("eks.kubernetes-version", spec(w.a, arn=ARN.replace(REGION, "eu-west-1")), facts)
    )
    assert version.status.value == "SKIP" and "eks.cluster" in version.message


@pytest.mark.usefixtures("lifted")
def test_cluster_denied_is_unknown_naming_the_action(w: SimpleNamespace) -> None:
    facts = facts_with(EksFake(errors={"DescribeCluster": "AccessDeniedException"}))
    finding = one(run("eks.cluster", spec(w.a), facts))
    assert finding.status.value == "UNKNOWN" and "eks:DescribeCluster" in finding.message


@pytest.mark.usefixtures("lifted")
def test_slurm_configs_skip_every_eks_check(w: SimpleNamespace) -> None:
    facts = facts_with(EksFake())
    for check_id in ("eks.cluster", "eks.vpc", "eks.caller-access", "eks.hyperpod-dependencies"):
        finding = one(run(check_id, spec(w.a, orchestrator="slurm"), facts))
        assert finding.status.value == "SKIP" and "not an EKS config" in finding.message


@pytest.mark.usefixtures("lifted")
def test_moto_cluster_is_read_and_a_dropped_access_config_is_unknown(w: SimpleNamespace) -> None:
    eks = boto3.client("eks", region_name=REGION)
    eks.create_cluster(
        name="moto-made",
        version="1.30",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={"subnetIds": [w.a], "endpointPrivateAccess": True},
        accessConfig={"authenticationMode": "API"},
    )
    facts = facts_with()  # moto answers everything, including GetCallerIdentity
    target = spec(w.a, sgs=(w.sg,), arn=ARN.replace("/ml", "/moto-made"))
    assert one(run("eks.cluster", target, facts)).status.value == "PASS"
    assert one(run("eks.kubernetes-version", target, facts)).status.value == "PASS"
    mode = one(run("eks.authentication-mode", target, facts))
    assert mode.status.value == "UNKNOWN" and "authenticationMode" in mode.message
    assert one(run("eks.vpc", target, facts)).status.value == "UNKNOWN"  # moto has no vpcId


# -- eks.kubernetes-version -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("version", "status", "text"),
    [("1.31", "PASS", "supported"), ("1.35", "WARN", "newer"), ("1.27", "FAIL", "older")],
)
@pytest.mark.usefixtures("lifted")
def test_kubernetes_version(w: SimpleNamespace, version: str, status: str, text: str) -> None:
    facts = facts_with(EksFake({"ml": cluster_body("ml", version=version)}))
    finding = one(run("eks.kubernetes-version", spec(w.a), facts))
    assert finding.status.value == status and text in finding.message
    if status == "FAIL":
        assert "--kubernetes-version 1.28" in finding.remediation


@pytest.mark.usefixtures("lifted")
def test_kubernetes_version_denied(w: SimpleNamespace) -> None:
    facts = facts_with(EksFake(errors={"DescribeCluster": "AccessDeniedException"}))
    assert one(run("eks.kubernetes-version", spec(w.a), facts)).status.value == "UNKNOWN"


# -- eks.vpc --------------------------------------------------------------------------------
@pytest.mark.usefixtures("lifted")
def test_vpc_per_subnet(w: SimpleNamespace) -> None:
    facts = facts_with(EksFake({"ml": cluster_body("ml", vpc_id=w.vpc)}))
    found = by_resource(run("eks.vpc", spec(w.a, w.other), facts))
    assert found[w.a].status.value == "PASS"
    assert found[w.other].status.value == "FAIL"
    assert f"Values={w.vpc}" in found[w.other].remediation


@pytest.mark.usefixtures("lifted")
def test_vpc_unknown_without_vpc_id_or_when_subnets_are_denied(w: SimpleNamespace) -> None:
    facts = facts_with(EksFake({"ml": cluster_body("ml", vpc_id="")}))
    assert one(run("eks.vpc", spec(w.a), facts)).status.value == "UNKNOWN"
    from aws_world import denied

    facts = facts_with(EksFake({"ml": cluster_body("ml", vpc_id=w.vpc)}))
    denied("DescribeSubnets").attach(facts.client("ec2"))
    finding = one(run("eks.vpc", spec(w.a), facts))
    assert finding.status.value == "UNKNOWN" and "ec2:DescribeSubnets" in finding.message


# -- eks.authentication-mode ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "status"),
    [("API", "PASS"), ("API_AND_CONFIG_MAP", "PASS"), ("CONFIG_MAP", "FAIL"), (None, "UNKNOWN")],
)
@pytest.mark.usefixtures("lifted")
def test_authentication_mode(w: SimpleNamespace, mode: str | None, status: str) -> None:
    facts = facts_with(EksFake({"ml": cluster_body("ml", mode=mode)}))
    finding = one(run("eks.authentication-mode", spec(w.a), facts))
    assert finding.status.value == status
    if status == "FAIL":
        assert finding.remediation.startswith(
            "aws eks update-cluster-config --name ml --region us-west-2 --access-config "
            "authenticationMode=API_AND_CONFIG_MAP"
        )


# -- eks.vpc-cni-version --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("v1.18.3-eksbuild.1", "PASS"),
        ("v1.19.0-eksbuild.2", "PASS"),
        ("v1.18.2-eksbuild.1", "FAIL"),
    ],
)
@pytest.mark.usefixtures("lifted")
def test_vpc_cni_version(w: SimpleNamespace, version: str, status: str) -> None:
    facts = facts_with(EksFake({"ml": cluster_body("ml")}, addons={"ml/vpc-cni": version}))
    finding = one(run("eks.vpc-cni-version", spec(w.a), facts))
    assert finding.status.value == status
    if status == "FAIL":
        assert "aws eks update-addon --cluster-name ml --addon-name vpc-cni" in finding.remediation


@pytest.mark.usefixtures("lifted")
def test_self_managed_cni_and_denied_add_on_are_unknown(w: SimpleNamespace) -> None:
    facts = facts_with(EksFake({"ml": cluster_body("ml")}))
    finding = one(run("eks.vpc-cni-version", spec(w.a), facts))
    assert finding.status.value == "UNKNOWN"
    assert "kubectl describe daemonset aws-node -n kube-system" in finding.remediation
    facts = facts_with(
        EksFake({"ml": cluster_body("ml")}, errors={"DescribeAddon": "AccessDeniedException"})
    )
    finding = one(run("eks.vpc-cni-version", spec(w.a), facts))
    assert finding.status.value == "UNKNOWN" and "eks:DescribeAddon" in finding.message


# -- eks.api-endpoint-access ----------------------------------------------------------------
@pytest.mark.usefixtures("lifted")
def test_private_endpoint_passes_every_subnet(w: SimpleNamespace) -> None:
    facts = facts_with(EksFake({"ml": cluster_body("ml", private=True, public=False)}))
    assert statuses(run("eks.api-endpoint-access", spec(w.a, w.isolated), facts)) == {
        w.a: "PASS",
        w.isolated: "PASS",
    }


@pytest.mark.usefixtures("lifted")
def test_public_endpoint_needs_egress(w: SimpleNamespace) -> None:
    facts = facts_with(EksFake({"ml": cluster_body("ml", private=False, public=True)}))
    found = by_resource(run("eks.api-endpoint-access", spec(w.a, w.isolated), facts))
    assert found[w.a].status.value == "PASS"
    assert found[w.isolated].status.value == "FAIL"
    assert "endpointPrivateAccess=true" in found[w.isolated].remediation


@pytest.mark.usefixtures("lifted")
def test_public_endpoint_cidrs_against_the_nat_address(w: SimpleNamespace) -> None:
    shut = cluster_body("ml", private=False, public=True, public_cidrs=("192.0.2.0/24",))
    found = one(run("eks.api-endpoint-access", spec(w.a), facts_with(EksFake({"ml": shut}))))
    assert found.status.value == "FAIL" and w.nat_ip in found.message
    allowed = cluster_body("ml", private=False, public=True, public_cidrs=(f"{w.nat_ip}/32",))
    ok = one(run("eks.api-endpoint-access", spec(w.a), facts_with(EksFake({"ml": allowed}))))
    assert ok.status.value == "PASS"


@pytest.mark.usefixtures("lifted")
def test_endpoint_access_unknown_when_fields_or_route_tables_are_missing(
    w: SimpleNamespace,
) -> None:
    fields = cluster_body("ml", private=None, public=None)
    finding = one(run("eks.api-endpoint-access", spec(w.a), facts_with(EksFake({"ml": fields}))))
    assert finding.status.value == "UNKNOWN"
    from aws_world import denied

    facts = facts_with(EksFake({"ml": cluster_body("ml", private=False, public=True)}))
    denied("DescribeRouteTables").attach(facts.client("ec2"))
    finding = one(run("eks.api-endpoint-access", spec(w.a), facts))
    assert finding.status.value == "UNKNOWN" and "ec2:DescribeRouteTables" in finding.message


# -- eks.cluster-sg-admits-nodes ------------------------------------------------------------
@pytest.mark.parametrize(
    ("group", "status"), [("cp_pair", "PASS"), ("cp_cidr", "PASS"), ("cp_closed", "FAIL")]
)
@pytest.mark.usefixtures("lifted")
def test_cluster_security_group(w: SimpleNamespace, group: str, status: str) -> None:
    cluster_sg = getattr(w, group)
    facts = facts_with(EksFake({"ml": cluster_body("ml", cluster_sg=cluster_sg)}))
    finding = one(run("eks.cluster-sg-admits-nodes", spec(w.a, sgs=(w.sg,)), facts))
    assert finding.resource == w.sg and finding.status.value == status
    if status == "FAIL":
        assert finding.remediation == (
            f"aws ec2 authorize-security-group-ingress --group-id {cluster_sg} --protocol tcp "
            f"--port 443 --source-group {w.sg}"
        )


@pytest.mark.usefixtures("lifted")
def test_cluster_security_group_missing_or_denied_is_unknown(w: SimpleNamespace) -> None:
    gone = cluster_body("ml", cluster_sg="sg-0123456789abcdef0")
    finding = one(
        run(
            "eks.cluster-sg-admits-nodes", spec(w.a, sgs=(w.sg,)), facts_with(EksFake({"ml": gone}))
        )
    )
    assert finding.status.value == "UNKNOWN"
    from aws_world import denied

    facts = facts_with(EksFake({"ml": cluster_body("ml", cluster_sg=w.cp_pair)}))
    denied("DescribeSecurityGroups").attach(facts.client("ec2"))
    finding = one(run("eks.cluster-sg-admits-nodes", spec(w.a, sgs=(w.sg,)), facts))
    assert finding.status.value == "UNKNOWN" and "ec2:DescribeSecurityGroups" in finding.message


# -- eks.caller-access ----------------------------------------------------------------------
@pytest.mark.usefixtures("lifted")
def test_no_access_entry_warns_with_the_role_arn_not_the_session(w: SimpleNamespace) -> None:
    facts = facts_with(EksFake({"ml": cluster_body("ml")}, caller=ASSUMED))
    finding = one(run("eks.caller-access", spec(w.a), facts))
    assert finding.status.value == "WARN" and "kubectl" in finding.message
    assert finding.resource == ADMIN_ROLE
    assert f"aws eks create-access-entry --cluster-name ml --principal-arn {ADMIN_ROLE}" in (
        finding.remediation
    )
    assert "associate-access-policy" in finding.remediation and "assumed-role" not in (
        finding.remediation
    )


@pytest.mark.usefixtures("lifted")
def test_access_entry_with_a_policy_passes_even_when_the_role_has_a_path(
    w: SimpleNamespace,
) -> None:
    with_path = f"arn:aws:iam::{ACCOUNT}:role/teams/ml/Admin"
    entries = {with_path: {"policies": ["AmazonEKSClusterAdminPolicy"]}}
    facts = facts_with(EksFake({"ml": cluster_body("ml")}, entries=entries))
    finding = one(run("eks.caller-access", spec(w.a), facts))
    assert finding.status.value == "PASS" and "AmazonEKSClusterAdminPolicy" in finding.message


@pytest.mark.usefixtures("lifted")
def test_access_entry_granting_nothing_warns(w: SimpleNamespace) -> None:
    facts = facts_with(EksFake({"ml": cluster_body("ml")}, entries={ADMIN_ROLE: {}}))
    finding = one(run("eks.caller-access", spec(w.a), facts))
    assert finding.status.value == "WARN" and "associate-access-policy" in finding.remediation
    assert "create-access-entry" not in finding.remediation


@pytest.mark.usefixtures("lifted")
def test_caller_access_cannot_tell(w: SimpleNamespace) -> None:
    denied_list = EksFake(
        {"ml": cluster_body("ml")}, errors={"ListAccessEntries": "AccessDeniedException"}
    )
    finding = one(run("eks.caller-access", spec(w.a), facts_with(denied_list)))
    assert finding.status.value == "UNKNOWN" and "eks:ListAccessEntries" in finding.message
    federated = f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
    finding = one(
        run(
            "eks.caller-access",
            spec(w.a),
            facts_with(EksFake({"ml": cluster_body("ml")}, caller=federated)),
        )
    )
    assert finding.status.value == "UNKNOWN"


# -- tools.kubectl against the cluster's own version ----------------------------------------
@pytest.mark.usefixtures("lifted")
def test_kubectl_skew_is_judged_against_the_described_cluster(
    w: SimpleNamespace, tmp_path: Any
) -> None:
    from tool_fakes import kubectl_json, write_tool

    import hyperpod_preflight.checks.tools  # noqa: F401
    from hyperpod_preflight.facts.local import ToolProbe

    write_tool(tmp_path, "kubectl", kubectl_json("v1.33.0"))
    probe = ToolProbe(path=str(tmp_path))
    facts = facts_with(EksFake({"ml": cluster_body("ml", version="1.31")}))
    finding = one(run("tools.kubectl", spec(w.a), facts, tool_probe=probe))
    assert finding.status.value == "WARN" and "EKS cluster ml" in finding.message
    facts = facts_with(EksFake(errors={"DescribeCluster": "AccessDeniedException"}))
    finding = one(run("tools.kubectl", spec(w.a), facts, tool_probe=probe))
    assert finding.status.value == "PASS" and "not checked" in finding.message
    assert "eks:DescribeCluster" in finding.message


# -- the caller's identity ------------------------------------------------------------------
@pytest.mark.usefixtures("lifted")
def test_eks_and_iam_readers_share_one_get_caller_identity(w: SimpleNamespace) -> None:
    facts = new_facts()  # no verify_identity: the readers must fetch it, once between them
    assert facts.caller_identity()["Account"] == ACCOUNT
    arn = facts.identity_arn()
    assert facts.caller_identity()["Arn"] == arn
    assert facts.calls["sts:GetCallerIdentity"] == 1


@pytest.mark.usefixtures("lifted")
def test_public_endpoint_without_its_cidrs_in_the_answer_is_unknown(w: SimpleNamespace) -> None:
    body = cluster_body("ml", private=False, public=True)
    del body["cluster"]["resourcesVpcConfig"]["publicAccessCidrs"]
    found = by_resource(
        run("eks.api-endpoint-access", spec(w.a, w.isolated), facts_with(EksFake({"ml": body})))
    )
    assert found[w.a].status.value == "UNKNOWN" and "publicAccessCidrs" in found[w.a].message
    assert found[w.isolated].status.value == "FAIL"  # no egress at all: provable regardless


@pytest.mark.parametrize(
    ("group", "status"), [("cp_cidr", "UNKNOWN"), ("cp_pair", "PASS"), ("cp_closed", "FAIL")]
)
@pytest.mark.usefixtures("lifted")
def test_cluster_security_group_with_a_subnet_whose_range_was_not_read(
    w: SimpleNamespace, group: str, status: str
) -> None:
    gone = "subnet-0123456789abcdef0"  # not in the VPC: its CIDR cannot be read
    facts = facts_with(EksFake({"ml": cluster_body("ml", cluster_sg=getattr(w, group))}))
    finding = one(run("eks.cluster-sg-admits-nodes", spec(w.a, gone, sgs=(w.sg,)), facts))
    assert finding.status.value == status, finding.message
    if status == "UNKNOWN":
        assert gone in finding.message


@pytest.mark.usefixtures("lifted")
def test_private_access_missing_from_the_answer_is_no_fail_for_a_subnet_without_egress(
    w: SimpleNamespace,
) -> None:
    body = cluster_body("ml", private=None, public=True)
    found = by_resource(
        run("eks.api-endpoint-access", spec(w.a, w.isolated), facts_with(EksFake({"ml": body})))
    )
    assert found[w.a].status.value == "PASS"  # the public endpoint is reached: provable
    assert found[w.isolated].status.value == "UNKNOWN"
    assert "endpointPrivateAccess" in found[w.isolated].message
    assert "endpointPrivateAccess=true" in found[w.isolated].remediation


@pytest.mark.usefixtures("lifted")
def test_cluster_security_group_missing_from_the_answer_is_no_fail_on_the_others(
    w: SimpleNamespace,
) -> None:
    body = cluster_body("ml", cluster_sg=None)
    body["cluster"]["resourcesVpcConfig"]["securityGroupIds"] = [w.cp_closed]
    facts = facts_with(EksFake({"ml": body}))
    finding = one(run("eks.cluster-sg-admits-nodes", spec(w.a, sgs=(w.sg,)), facts))
    assert finding.status.value == "UNKNOWN" and "clusterSecurityGroupId" in finding.message
    body["cluster"]["resourcesVpcConfig"]["securityGroupIds"] = [w.cp_pair]
    facts = facts_with(EksFake({"ml": body}))
    finding = one(run("eks.cluster-sg-admits-nodes", spec(w.a, sgs=(w.sg,)), facts))
    assert finding.status.value == "PASS"  # an additional group admits it: provable


@pytest.mark.usefixtures("lifted")
def test_public_endpoint_through_a_transit_gateway_is_a_warn_not_a_pass(
    w: SimpleNamespace,
) -> None:
    """Only the public endpoint, and the subnet's default route goes to a transit gateway
    whose onward path is not read: not verified, so WARN (it was PASS)."""
    tgw = w.ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    sub = make_subnet(w.ec2, w.vpc, "10.0.75.0/24", zone_id="usw2-az1")
    w.ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=w.vpc, SubnetIds=[sub])
    add_default_route(w.ec2, make_route_table(w.ec2, w.vpc, [sub]), TransitGatewayId=tgw)
    body = cluster_body("ml", private=False, public=True)
    finding = one(run("eks.api-endpoint-access", spec(sub), facts_with(EksFake({"ml": body}))))
    assert finding.status.value == "WARN", finding.message
    assert tgw in finding.message and "not verified" in finding.message
    assert "endpointPrivateAccess=true" in finding.remediation


@pytest.mark.usefixtures("lifted")
def test_cluster_security_group_does_not_guard_a_public_only_endpoint(w: SimpleNamespace) -> None:
    """Private access off: nodes reach the public endpoint, not the control plane's network
    interfaces that the cluster security group guards, so a closed group is no FAIL."""
    body = cluster_body("ml", cluster_sg=w.cp_closed, private=False, public=True)
    finding = one(
        run(
            "eks.cluster-sg-admits-nodes", spec(w.a, sgs=(w.sg,)), facts_with(EksFake({"ml": body}))
        )
    )
    assert finding.status.value == "SKIP", finding.message
    assert "eks.api-endpoint-access" in finding.message


@pytest.mark.usefixtures("lifted")
def test_an_unread_additional_cluster_group_is_unknown_not_fail(w: SimpleNamespace) -> None:
    """The cluster security group does not admit the nodes; an additional group of the
    cluster is not returned by EC2: it might, so UNKNOWN (was FAIL)."""
    gone = "sg-0123456789abcdef0"
    body = cluster_body("ml", cluster_sg=w.cp_closed)
    body["cluster"]["resourcesVpcConfig"]["securityGroupIds"] = [gone]
    finding = one(
        run(
            "eks.cluster-sg-admits-nodes", spec(w.a, sgs=(w.sg,)), facts_with(EksFake({"ml": body}))
        )
    )
    assert finding.status.value == "UNKNOWN", finding.message
    assert gone in finding.message


@pytest.mark.usefixtures("lifted")
def test_unknown_private_access_makes_a_closed_cluster_group_unknown(w: SimpleNamespace) -> None:
    body = cluster_body("ml", cluster_sg=w.cp_closed, private=None)
    finding = one(
        run(
            "eks.cluster-sg-admits-nodes", spec(w.a, sgs=(w.sg,)), facts_with(EksFake({"ml": body}))
        )
    )
    assert finding.status.value == "UNKNOWN" and "endpointPrivateAccess" in finding.message
