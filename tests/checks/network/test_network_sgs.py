"""network.sg-* and network.efa-single-az against moto: every rule and every group pair of
every configured group is looked at, and zones are compared by id."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import (
    REGION,
    allow,
    by_resource,
    denied,
    make_sg,
    make_subnet,
    make_vpc,
    new_facts,
    run,
    statuses,
)
from conftest import moto_env
from quota_stubs import ServiceQuotasFake, quota

from hyperpod_preflight.checks.network import EFA_FAILURE
from hyperpod_preflight.models import Severity
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, VpcSettings

MISSING_SG = "sg-0123456789abcdef0"


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = make_vpc(ec2)
        ns = SimpleNamespace(ec2=ec2, vpc=vpc)
        ns.az1 = make_subnet(ec2, vpc, "10.0.0.0/20", zone_id="usw2-az1")
        ns.az1b = make_subnet(ec2, vpc, "10.0.16.0/20", zone_id="usw2-az1")
        ns.az2 = make_subnet(ec2, vpc, "10.0.32.0/20", zone_id="usw2-az2")
        ns.other = make_sg(ec2, vpc, "other", self_ingress=False, self_egress=False)
        ns.good = make_sg(ec2, vpc, "good")
        # The self pair is not the first pair of its rule (the ParallelCluster false positive).
        ns.multi = make_sg(ec2, vpc, "multi", other_pairs=[ns.other], open_egress=False)
        ns.lacking = make_sg(ec2, vpc, "lacking", self_ingress=False, self_egress=False)
        ns.ports = make_sg(ec2, vpc, "ports", self_ingress=False, self_egress=False)
        for direction in ("ingress", "egress"):
            allow(
                ec2,
                ns.ports,
                direction,
                {
                    "IpProtocol": "tcp",
                    "FromPort": 0,
                    "ToPort": 65535,
                    "UserIdGroupPairs": [{"GroupId": ns.ports}],
                },
            )
        ns.crowded = make_sg(ec2, vpc, "crowded")
        allow(
            ec2,
            ns.crowded,
            "ingress",
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": f"10.9.{i}.0/24"} for i in range(56)],
            },
        )
        ns.fsx_partial = make_sg(ec2, vpc, "fsx", self_ingress=False)
        allow(
            ec2,
            ns.fsx_partial,
            "ingress",
            {
                "IpProtocol": "tcp",
                "FromPort": 988,
                "ToPort": 988,
                "UserIdGroupPairs": [{"GroupId": ns.fsx_partial}],
            },
        )
        ns.vpc_b = make_vpc(ec2, "10.1.0.0/16")
        ns.foreign = make_sg(ec2, ns.vpc_b, "foreign")
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return new_facts()


def spec(
    w: SimpleNamespace,
    *sgs: str,
    subnets: tuple[str, ...] | None = None,
    groups: tuple[InstanceGroup, ...] | None = None,
) -> ClusterSpec:
    return ClusterSpec(
        name="c",
        instance_groups=groups
        or (InstanceGroup(name="workers", instance_type="ml.p5.48xlarge", count=2),),
        vpc_config=VpcSettings(subnets=subnets or (w.az1,), security_group_ids=sgs),
    )


def test_sg_exists(w: SimpleNamespace, facts: Any) -> None:
    found = by_resource(run("network.sg-exists", spec(w, w.good, MISSING_SG, w.foreign), facts))
    assert found[w.good].status.value == "PASS"
    assert f"The security group '{MISSING_SG}' does not exist" in found[MISSING_SG].message
    assert found[w.foreign].status.value == "FAIL"
    assert "The security group does not belong to the VPC" in found[w.foreign].message
    assert facts.calls["ec2:DescribeSecurityGroups"] == 1


@pytest.mark.parametrize("check_id", ["network.sg-efa-self-ingress", "network.sg-efa-self-egress"])
def test_efa_self_rules_every_group_every_pair(
    w: SimpleNamespace, facts: Any, check_id: str
) -> None:
    # No group of the EFA workers has both self rules: each one lacking a rule FAILs.
    assert statuses(run(check_id, spec(w, w.multi), facts)) == {w.multi: "PASS"}
    findings = by_resource(run(check_id, spec(w, w.lacking, w.ports, MISSING_SG), facts))
    assert {r: f.status.value for r, f in findings.items()} == {
        w.lacking: "FAIL",
        w.ports: "FAIL",
        MISSING_SG: "SKIP",
    }
    lacking = findings[w.lacking]
    assert EFA_FAILURE in lacking.message
    assert "nor does another group of workers (EFA)" in lacking.message
    assert lacking.details["groups"] == ["workers"]
    assert "create-efa.html" in lacking.details["docs"]
    direction = "ingress" if check_id.endswith("ingress") else "egress"
    assert lacking.remediation == (
        f"aws ec2 authorize-security-group-{direction} --group-id {w.lacking} "
        f"--ip-permissions 'IpProtocol=-1,UserIdGroupPairs=[{{GroupId={w.lacking}}}]'"
    )
    assert "tcp 0-65535" in findings[w.ports].message  # a port range does not count


@pytest.mark.parametrize("check_id", ["network.sg-efa-self-ingress", "network.sg-efa-self-egress"])
def test_one_group_with_both_self_rules_is_enough_for_an_efa_node(
    w: SimpleNamespace, facts: Any, check_id: str
) -> None:
    # "the EFA must be a member of a security group that allows all inbound and outbound
    # traffic to and from the security group itself" (EC2 create-efa page): an admin group
    # beside it needs no self rules. This FAILed before (every group was judged alone).
    found = by_resource(run(check_id, spec(w, w.good, w.lacking), facts))
    assert {r: f.status.value for r, f in found.items()} == {w.good: "PASS", w.lacking: "PASS"}
    assert f"workers through {w.good}" in found[w.lacking].message


@pytest.mark.parametrize("check_id", ["network.sg-efa-self-ingress", "network.sg-efa-self-egress"])
def test_a_group_used_only_without_efa_needs_no_self_rules(
    w: SimpleNamespace, facts: Any, check_id: str
) -> None:
    # The documented layout: the controller (ml.t3.medium) and login (ml.m5) in their own
    # group; the HyperPod page asks for the self rules "For HyperPod clusters using ... EFA-
    # enabled instances". This FAILed before.
    plain = VpcSettings(subnets=(w.az1,), security_group_ids=(w.lacking,))
    groups = (
        InstanceGroup(name="controller", instance_type="ml.t3.medium", count=1, override_vpc=plain),
        InstanceGroup(name="login", instance_type="ml.m5.xlarge", count=1, override_vpc=plain),
        InstanceGroup(name="workers", instance_type="ml.p5.48xlarge", count=2),
    )
    found = by_resource(run(check_id, spec(w, w.good, groups=groups), facts))
    assert {r: f.status.value for r, f in found.items()} == {w.good: "PASS", w.lacking: "SKIP"}
    assert "controller (ml.t3.medium)" in found[w.lacking].message


def test_efa_support_unread_is_unknown_not_fail(w: SimpleNamespace, facts: Any) -> None:
    # DescribeInstanceTypes denied and the plan does not know the type: nothing to judge by.
    groups = (InstanceGroup(name="odd", instance_type="ml.zz9.large", count=1),)
    denied("DescribeInstanceTypes").attach(facts.client("ec2"))
    found = by_resource(
        run("network.sg-efa-self-ingress", spec(w, w.lacking, groups=groups), facts)
    )
    assert found[w.lacking].status.value == "UNKNOWN", found[w.lacking].message
    assert "ec2:DescribeInstanceTypes" in found[w.lacking].remediation


def test_two_groups_one_lacking_fails_only_that_one(w: SimpleNamespace, facts: Any) -> None:
    # Two EFA groups, each with one security group: the one lacking the rule FAILs.
    groups = (
        InstanceGroup(
            name="a",
            instance_type="ml.p5.48xlarge",
            count=1,
            override_vpc=VpcSettings(subnets=(w.az1,), security_group_ids=(w.good,)),
        ),
        InstanceGroup(
            name="b",
            instance_type="ml.p5.48xlarge",
            count=1,
            override_vpc=VpcSettings(subnets=(w.az1,), security_group_ids=(w.lacking,)),
        ),
    )
    found = statuses(run("network.sg-efa-self-ingress", spec(w, w.good, groups=groups), facts))
    assert found == {w.good: "PASS", w.lacking: "FAIL"}


def test_egress_open_only(w: SimpleNamespace, facts: Any) -> None:
    found = statuses(run("network.sg-egress-open-only", spec(w, w.lacking, w.good, w.multi), facts))
    assert found == {w.lacking: "WARN", w.good: "PASS", w.multi: "PASS"}


def test_sg_count_runs_offline_and_per_vpc_config(w: SimpleNamespace) -> None:
    six = tuple(f"sg-0{i:016x}" for i in range(6))
    groups = (
        InstanceGroup(name="workers", instance_type="ml.p5.48xlarge", count=1),
        InstanceGroup(
            name="login",
            instance_type="ml.m5.xlarge",
            count=1,
            override_vpc=VpcSettings(subnets=(w.az1,), security_group_ids=six),
        ),
    )
    found = statuses(run("network.sg-count", spec(w, w.good, groups=groups), None))
    assert found == {"VpcConfig": "PASS", "InstanceGroups[login].OverrideVpcConfig": "FAIL"}
    assert statuses(run("network.sg-count", ClusterSpec(name="c"), None)) == {"-": "SKIP"}


RULES_QUOTA = ("Inbound or outbound rules per security group", "L-0EA8095F")


def rules_quota(applied: float | None = None, default: float | None = 60) -> ServiceQuotasFake:
    """Service Quotas holding the rules-per-group quota (``applied`` None: default only)."""
    name, code = RULES_QUOTA
    return ServiceQuotasFake(
        applied=[] if applied is None else [quota(name, code, applied, service="vpc")],
        defaults=[] if default is None else [quota(name, code, default, service="vpc")],
    )


def test_rule_count_near_limit_is_info(w: SimpleNamespace, facts: Any) -> None:
    rules_quota(applied=60).attach(facts)
    found = by_resource(run("network.sg-rule-count", spec(w, w.crowded, w.good), facts))
    assert found[w.good].status.value == "PASS"
    crowded = found[w.crowded]
    assert crowded.status.value == "WARN" and crowded.severity is Severity.INFO
    assert crowded.details["inbound"] == 57  # 56 CIDRs + the self pair
    assert crowded.details["limit"] == 60 and crowded.details["limit_source"] == "applied"
    assert "IPv4 and IPv6 rules count separately" in crowded.message
    assert "--service-code vpc --quota-code L-0EA8095F" in crowded.remediation


def test_rule_count_judges_against_the_accounts_raised_quota(
    w: SimpleNamespace, facts: Any
) -> None:
    """57 inbound rules are near the default 60, not near an applied 100."""
    fake = rules_quota(applied=100).attach(facts)
    found = by_resource(run("network.sg-rule-count", spec(w, w.crowded), facts))[w.crowded]
    assert found.status.value == "PASS"
    assert found.details["limit"] == 100 and "the account's quota of 100" in found.message
    assert fake.calls("GetServiceQuota") == 1


def test_rule_count_judges_against_the_accounts_lowered_quota(
    w: SimpleNamespace, facts: Any
) -> None:
    lowered = make_sg(w.ec2, w.vpc, "lowered")
    allow(
        w.ec2,
        lowered,
        "ingress",
        {
            "IpProtocol": "tcp",
            "FromPort": 22,
            "ToPort": 22,
            "IpRanges": [{"CidrIp": f"10.8.{i}.0/24"} for i in range(25)],
        },
    )
    rules_quota(applied=30).attach(facts)
    found = by_resource(run("network.sg-rule-count", spec(w, lowered), facts))[lowered]
    assert found.status.value == "WARN" and found.severity is Severity.INFO
    assert found.details["inbound"] == 26 and found.details["limit"] == 30
    assert "the account's quota of 30" in found.message


def test_rule_count_uses_the_aws_default_when_nothing_is_applied(
    w: SimpleNamespace, facts: Any
) -> None:
    fake = rules_quota(applied=None, default=60).attach(facts)
    found = by_resource(run("network.sg-rule-count", spec(w, w.crowded), facts))[w.crowded]
    assert found.status.value == "WARN" and found.details["limit_source"] == "default"
    assert "the AWS default quota of 60" in found.message
    assert fake.calls("GetAWSDefaultServiceQuota") == 1


@pytest.mark.parametrize("how", ["denied", "absent"])
def test_rule_count_quota_unreadable_falls_back_to_60_and_says_so(
    w: SimpleNamespace, facts: Any, how: str
) -> None:
    """An unreadable quota is never a FAIL nor an UNKNOWN of the whole check: the groups
    are judged against the default 60, and the message says why."""
    fake = rules_quota(applied=None, default=None).attach(facts)
    if how == "denied":
        fake.deny("GetServiceQuota")
    found = by_resource(run("network.sg-rule-count", spec(w, w.crowded, w.good), facts))
    assert found[w.good].status.value == "PASS"
    crowded = found[w.crowded]
    assert crowded.status.value == "WARN" and crowded.severity is Severity.INFO
    assert crowded.details["limit"] == 60 and crowded.details["limit_source"] == "fallback"
    assert "could not be read" in crowded.message
    expected = "servicequotas:GetServiceQuota" if how == "denied" else "L-0EA8095F"
    assert expected in crowded.message and expected in found[w.good].message
    assert "ignore this if it is already raised" in crowded.remediation


def test_fsx_lustre_only_with_the_option(w: SimpleNamespace, facts: Any) -> None:
    cfg = spec(w, w.good, w.fsx_partial)
    assert statuses(run("network.sg-fsx-lustre", cfg, facts)) == {"-": "SKIP"}
    found = by_resource(run("network.sg-fsx-lustre", cfg, facts, fsx=True))
    assert found[w.good].status.value == "PASS"
    partial = found[w.fsx_partial]
    assert partial.status.value == "FAIL"
    assert "ingress 1018, 1019, 1020, 1021, 1022, 1023" in partial.message
    assert "egress" not in partial.message.split("within the group:")[1].split(";")[0]
    assert "FromPort=1018,ToPort=1023" in partial.remediation


def test_fsx_lustre_cidr_rules_count_only_when_they_cover_the_cluster_subnets(
    w: SimpleNamespace, facts: Any
) -> None:
    """A Lustre port open to some other network does not let the nodes talk to each other;
    open to a block holding every cluster subnet (the VPC's) it does."""

    def lustre_from(cidr: str) -> str:
        group = make_sg(w.ec2, w.vpc, f"fsx-{cidr}", self_ingress=False, self_egress=False)
        for direction in ("ingress", "egress"):
            for low, high in ((988, 988), (1018, 1023)):
                allow(
                    w.ec2,
                    group,
                    direction,
                    {
                        "IpProtocol": "tcp",
                        "FromPort": low,
                        "ToPort": high,
                        "IpRanges": [{"CidrIp": cidr}],
                    },
                )
        return group

    elsewhere, vpc_wide = lustre_from("203.0.113.0/24"), lustre_from("10.0.0.0/16")
    cfg = spec(w, elsewhere, vpc_wide, subnets=(w.az1, w.az1b))
    found = by_resource(run("network.sg-fsx-lustre", cfg, facts, fsx=True))
    assert found[elsewhere].status.value == "FAIL"
    assert elsewhere in found[elsewhere].message
    assert found[vpc_wide].status.value == "PASS"


def _override(w: SimpleNamespace, *subnets: str) -> VpcSettings:
    return VpcSettings(subnets=subnets, security_group_ids=(w.good,))


def _spread_workers(w: SimpleNamespace) -> InstanceGroup:
    """An EFA group whose OverrideVpcConfig spans two zones."""
    return InstanceGroup(
        name="workers",
        instance_type="ml.p5.48xlarge",
        count=1,
        override_vpc=_override(w, w.az1, w.az2),
    )


def test_efa_single_az(w: SimpleNamespace, facts: Any) -> None:
    groups = (
        InstanceGroup(name="inherits", instance_type="ml.p5.48xlarge", count=2),
        InstanceGroup(name="cpu", instance_type="ml.m5.xlarge", count=2),
        InstanceGroup(
            name="pinned",
            instance_type="ml.p5.48xlarge",
            count=2,
            override_vpc=_override(w, w.az1, w.az1b),
        ),
        InstanceGroup(
            name="spread",
            instance_type="ml.p5.48xlarge",
            count=2,
            override_vpc=_override(w, w.az1, w.az2),
        ),
    )
    cfg = spec(w, w.good, subnets=(w.az1, w.az2), groups=groups)
    found = by_resource(run("network.efa-single-az", cfg, facts))
    # "when VpcConfig is provided, HyperPod selects a subnet from the provided VpcConfig's
    # subnet list. All instance groups inherit the subnet's AZ." (HyperPod prerequisites):
    # a VpcConfig listing two zones is documented, and was a false FAIL.
    assert found["inherits"].status.value == "PASS"
    assert "inherit its AZ" in found["inherits"].message
    # An override spanning zones is documented too (multi-AZ); EFA cannot cross: a WARN.
    assert found["spread"].status.value == "WARN"
    assert found["spread"].severity is Severity.HIGH
    assert "usw2-az1" in found["spread"].message and "usw2-az2" in found["spread"].message
    assert found["cpu"].status.value == "SKIP"
    assert found["pinned"].status.value == "PASS"


def test_efa_single_az_falls_back_to_the_plan_when_types_unreadable(
    w: SimpleNamespace, facts: Any
) -> None:
    denied("DescribeInstanceTypes").attach(facts.client("ec2"))
    groups = (_spread_workers(w),)
    # p5.48xlarge is in the built-in catalog: EFA is known without the API.
    cfg = spec(w, w.good, groups=groups)
    assert statuses(run("network.efa-single-az", cfg, facts)) == {"workers": "WARN"}


@pytest.mark.parametrize(
    "check_id",
    [
        "network.sg-exists",
        "network.sg-efa-self-ingress",
        "network.sg-efa-self-egress",
        "network.sg-egress-open-only",
        "network.sg-rule-count",
        "network.sg-fsx-lustre",
    ],
)
def test_denied_is_unknown(w: SimpleNamespace, facts: Any, check_id: str) -> None:
    denied("DescribeSecurityGroups").attach(facts.client("ec2"))
    findings = run(check_id, spec(w, w.good), facts, fsx=True)
    assert [f.status.value for f in findings] == ["UNKNOWN"]
    assert "ec2:DescribeSecurityGroups" in findings[0].message


def test_efa_single_az_denied_subnets_is_unknown(w: SimpleNamespace, facts: Any) -> None:
    denied("DescribeSubnets").attach(facts.client("ec2"))
    groups = (_spread_workers(w),)
    findings = run("network.efa-single-az", spec(w, w.good, groups=groups), facts)
    assert [f.status.value for f in findings] == ["UNKNOWN"]
    assert "ec2:DescribeSubnets" in findings[0].message


def test_efa_single_az_with_a_subnet_ec2_does_not_describe_is_unknown_not_pass(
    w: SimpleNamespace, facts: Any
) -> None:
    """The override's second subnet is not in the account: its zone is not known, so "one
    zone" is not proven (it was a PASS, the unseen subnet silently left out)."""
    unseen = "subnet-0123456789abcdef0"

    def one(*subnets: str) -> Any:
        group = InstanceGroup(
            name="workers",
            instance_type="ml.p5.48xlarge",
            count=1,
            override_vpc=_override(w, *subnets),
        )
        return by_resource(run("network.efa-single-az", spec(w, w.good, groups=(group,)), facts))

    found = one(w.az1, unseen)
    assert found["workers"].status.value == "UNKNOWN", found["workers"].message
    assert unseen in found["workers"].message
    # Two zones among the subnets that were described: a WARN whatever the unseen one is.
    assert one(w.az1, w.az2, unseen)["workers"].status.value == "WARN"
