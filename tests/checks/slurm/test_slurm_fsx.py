"""slurm.fsx-*: the FSx file systems a config mounts (InstanceStorageConfigs and the
lifecycle provisioning_parameters.json), read from moto's EC2 and FSx, with the fields moto's
FSx leaves out answered through a validated handler."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import REGION, by_resource, make_subnet, make_vpc, new_facts, run, statuses
from conftest import moto_env
from fsx_world import (
    FS_CLOSED,
    FS_CREATING,
    FS_ELSEWHERE,
    FS_MISSING,
    FS_OK,
    FS_ZFS,
    dns,
    file_systems,
    fsx_denied,
    lustre,
)
from hp_configs import cluster, group

import hyperpod_preflight.checks.slurm  # noqa: F401  (registers the checks)
from hyperpod_preflight.spec import load_spec


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        ns = SimpleNamespace(ec2=ec2)
        ns.vpc = make_vpc(ec2)
        # In this (moto) account us-west-2a is usw2-az2 and us-west-2b is usw2-az1.
        ns.sub_a = make_subnet(ec2, ns.vpc, "10.0.0.0/20", zone_name="us-west-2a")
        ns.sub_b = make_subnet(ec2, ns.vpc, "10.0.16.0/20", zone_name="us-west-2b")
        other = make_vpc(ec2, "10.9.0.0/16")
        ns.sub_other = make_subnet(ec2, other, "10.9.0.0/20", zone_name="us-west-2a")
        ns.other_vpc = other

        def sg(name: str, vpc: str) -> str:
            return str(
                ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
            )

        ns.sg_node = sg("nodes", ns.vpc)
        ns.sg_fs = sg("fsx-open", ns.vpc)
        ec2.authorize_security_group_ingress(
            GroupId=ns.sg_fs,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 988,
                    "ToPort": 988,
                    "UserIdGroupPairs": [{"GroupId": ns.sg_node}],
                },
                {
                    "IpProtocol": "tcp",
                    "FromPort": 1018,
                    "ToPort": 1023,
                    "UserIdGroupPairs": [{"GroupId": ns.sg_node}],
                },
                {
                    "IpProtocol": "tcp",
                    "FromPort": 2049,
                    "ToPort": 2049,
                    "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
                },
            ],
        )
        ns.sg_closed = sg("fsx-closed", ns.vpc)
        ec2.authorize_security_group_ingress(
            GroupId=ns.sg_closed,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
                }
            ],
        )

        def eni(subnet: str, group_id: str) -> str:
            return str(
                ec2.create_network_interface(SubnetId=subnet, Groups=[group_id])[
                    "NetworkInterface"
                ]["NetworkInterfaceId"]
            )

        # Only 988: Lustre also needs 1018-1023 between clients and servers.
        ns.sg_988 = sg("fsx-988-only", ns.vpc)
        ec2.authorize_security_group_ingress(
            GroupId=ns.sg_988,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 988,
                    "ToPort": 988,
                    "UserIdGroupPairs": [{"GroupId": ns.sg_node}],
                }
            ],
        )
        ns.eni_988 = eni(ns.sub_a, ns.sg_988)
        ns.eni_ok = eni(ns.sub_a, ns.sg_fs)
        ns.eni_closed = eni(ns.sub_a, ns.sg_closed)
        ns.known = {
            FS_OK: lustre(FS_OK, ns.sub_a, [ns.eni_ok]),
            FS_CLOSED: lustre(FS_CLOSED, ns.sub_a, [ns.eni_closed]),
            FS_ELSEWHERE: lustre(FS_ELSEWHERE, ns.sub_other, []),
            FS_CREATING: lustre(FS_CREATING, ns.sub_a, [ns.eni_ok], lifecycle="CREATING"),
            FS_ZFS: lustre(FS_ZFS, ns.sub_a, [ns.eni_ok], kind="OPENZFS"),
            FS_988_ONLY: lustre(FS_988_ONLY, ns.sub_a, [ns.eni_988]),
        }
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return new_facts()


def lustre_mount(fs_id: str, mount: str = "abcdefgh") -> dict[str, Any]:
    return {"FsxLustreConfig": {"DnsName": dns(fs_id), "MountName": mount}}


def zfs_mount(fs_id: str) -> dict[str, Any]:
    return {"FsxOpenZfsConfig": {"DnsName": dns(fs_id)}}


def config(w: SimpleNamespace, *storage: dict[str, Any], subnet: str | None = None) -> Any:
    groups = [group("workers", InstanceStorageConfigs=list(storage))]
    if subnet:
        groups.append(
            group(
                "far",
                InstanceStorageConfigs=list(storage),
                OverrideVpcConfig={"SecurityGroupIds": [w.sg_node], "Subnets": [subnet]},
            )
        )
    body = cluster(*groups, subnets=[w.sub_a])
    body["VpcConfig"]["SecurityGroupIds"] = [w.sg_node]
    return load_spec(body)


def params(fs_id: str, mount: str) -> dict[str, Any]:
    data = {
        "version": "1.0.0",
        "workload_manager": "slurm",
        "controller_group": "workers",
        "worker_groups": [{"instance_group_name": "workers", "partition_name": "dev"}],
        "fsx_dns_name": dns(fs_id),
        "fsx_mountname": mount,
    }
    return {"file": "lc/provisioning_parameters.json", "data": json.dumps(data).encode()}


def test_no_fsx_is_skipped_with_the_hint(w: SimpleNamespace, facts: Any) -> None:
    (finding,) = run("slurm.fsx-exists", config(w), facts)
    assert finding.status.value == "SKIP"
    assert "no lifecycle prefix holds a provisioning_parameters.json" in finding.message
    # The lifecycle bucket does not exist here: no FSx read is made
    assert "fsx:DescribeFileSystems" not in facts.calls


def test_exists_available_missing_creating_and_wrong_type(w: SimpleNamespace, facts: Any) -> None:
    file_systems(w.known).attach(facts.client("fsx"))
    cfg = config(
        w,
        lustre_mount(FS_OK),
        lustre_mount(FS_MISSING),
        lustre_mount(FS_CREATING),
        lustre_mount(FS_ZFS),
    )
    found = by_resource(run("slurm.fsx-exists", cfg, facts))
    assert {k: v.status.value for k, v in found.items()} == {
        FS_OK: "PASS",
        FS_MISSING: "FAIL",
        FS_CREATING: "WARN",
        FS_ZFS: "FAIL",
    }
    assert "does not exist in us-west-2" in found[FS_MISSING].message
    assert "describe-file-systems" in found[FS_MISSING].remediation
    assert "OPENZFS" in found[FS_ZFS].message and "FsxOpenZfsConfig" in found[FS_ZFS].remediation
    assert "CREATING" in found[FS_CREATING].message


def test_exists_denied_is_unknown_naming_the_action(w: SimpleNamespace, facts: Any) -> None:
    fsx_denied().attach(facts.client("fsx"))
    (finding,) = run("slurm.fsx-exists", config(w, lustre_mount(FS_OK)), facts)
    assert finding.status.value == "UNKNOWN"
    assert "fsx:DescribeFileSystems" in finding.message


def test_moto_fsx_without_lifecycle_is_unknown_and_vpc_found_through_subnets(
    w: SimpleNamespace, facts: Any
) -> None:
    """moto's own answer: no Lifecycle, no VpcId, no mount name, no interfaces."""
    fsx = boto3.client("fsx", region_name=REGION)
    fs_id = fsx.create_file_system(
        FileSystemType="LUSTRE",
        StorageCapacity=1200,
        SubnetIds=[w.sub_a],
        SecurityGroupIds=[w.sg_fs],
        LustreConfiguration={"DeploymentType": "PERSISTENT_2"},
    )["FileSystem"]["FileSystemId"]
    cfg = config(w, lustre_mount(fs_id))
    assert statuses(run("slurm.fsx-exists", cfg, facts)) == {fs_id: "UNKNOWN"}
    assert statuses(run("slurm.fsx-vpc", cfg, facts)) == {fs_id: "PASS"}
    assert statuses(run("slurm.fsx-mount-name", cfg, facts)) == {fs_id: "UNKNOWN"}
    assert statuses(run("slurm.fsx-security-groups", cfg, facts)) == {fs_id: "UNKNOWN"}
    assert facts.calls["fsx:DescribeFileSystems"] == 1


def test_vpc_pass_and_other_vpc_fail(w: SimpleNamespace, facts: Any) -> None:
    file_systems(w.known).attach(facts.client("fsx"))
    found = by_resource(
        run("slurm.fsx-vpc", config(w, lustre_mount(FS_OK), lustre_mount(FS_ELSEWHERE)), facts)
    )
    assert found[FS_OK].status.value == "PASS"
    bad = found[FS_ELSEWHERE]
    assert bad.status.value == "FAIL"
    assert w.other_vpc in bad.message and w.vpc in bad.message


def test_vpc_denied_subnets_is_unknown(w: SimpleNamespace, facts: Any) -> None:
    from aws_world import denied

    file_systems(w.known).attach(facts.client("fsx"))
    denied("DescribeSubnets").attach(facts.client("ec2"))
    (finding,) = run("slurm.fsx-vpc", config(w, lustre_mount(FS_OK)), facts)
    assert finding.status.value == "UNKNOWN" and "ec2:DescribeSubnets" in finding.message


def test_zone_same_passes_other_zone_warns_with_the_cost(w: SimpleNamespace, facts: Any) -> None:
    file_systems(w.known).attach(facts.client("fsx"))
    assert statuses(run("slurm.fsx-zone", config(w, lustre_mount(FS_OK)), facts)) == {FS_OK: "PASS"}
    (warn,) = run("slurm.fsx-zone", config(w, lustre_mount(FS_OK), subnet=w.sub_b), facts)
    assert warn.status.value == "WARN"
    assert "far in usw2-az1" in warn.message and "billed per GB" in warn.message


def test_zone_denied_is_unknown(w: SimpleNamespace, facts: Any) -> None:
    fsx_denied().attach(facts.client("fsx"))
    (finding,) = run("slurm.fsx-zone", config(w, lustre_mount(FS_OK)), facts)
    assert finding.status.value == "UNKNOWN"


def test_mount_name_match_and_mismatch_from_both_sources(w: SimpleNamespace, facts: Any) -> None:
    file_systems(w.known).attach(facts.client("fsx"))
    ok = run("slurm.fsx-mount-name", config(w, lustre_mount(FS_OK)), facts)
    assert statuses(ok) == {FS_OK: "PASS"}
    cfg = config(w, lustre_mount(FS_OK, "wrongnam"))
    (bad,) = run("slurm.fsx-mount-name", cfg, facts, provisioning_parameters=params(FS_OK, "nope"))
    assert bad.status.value == "FAIL"
    assert "'wrongnam'" in bad.message and "'nope'" in bad.message
    assert "lc/provisioning_parameters.json" in bad.message
    assert "'abcdefgh'" in bad.remediation


def test_provisioning_parameters_alone_name_the_file_system(w: SimpleNamespace, facts: Any) -> None:
    file_systems(w.known).attach(facts.client("fsx"))
    found = run(
        "slurm.fsx-exists", config(w), facts, provisioning_parameters=params(FS_MISSING, "x")
    )
    assert statuses(found) == {FS_MISSING: "FAIL"}
    assert "provisioning_parameters.json" in found[0].message


def test_security_groups_admit_or_not(w: SimpleNamespace, facts: Any) -> None:
    file_systems(w.known).attach(facts.client("fsx"))
    cfg = config(w, lustre_mount(FS_OK), lustre_mount(FS_CLOSED), zfs_mount(FS_ZFS))
    found = by_resource(run("slurm.fsx-security-groups", cfg, facts))
    # FS_ZFS sits behind the same group: 2049 is open to the cluster's CIDR.
    assert {k: v.status.value for k, v in found.items()} == {
        FS_OK: "PASS",
        FS_CLOSED: "FAIL",
        FS_ZFS: "PASS",
    }
    bad = found[FS_CLOSED]
    assert "TCP 988" in bad.message and w.sg_node in bad.message
    assert f"authorize-security-group-ingress --group-id {w.sg_closed}" in bad.remediation
    assert f"GroupId={w.sg_node}" in bad.remediation


FS_988_ONLY = "fs-0123456789abcdef5"


def test_lustre_needs_1018_to_1023_besides_988(w: SimpleNamespace, facts: Any) -> None:
    file_systems(w.known).attach(facts.client("fsx"))
    (bad,) = run("slurm.fsx-security-groups", config(w, lustre_mount(FS_988_ONLY)), facts)
    assert bad.status.value == "FAIL"
    assert f"TCP 1018-1023 from {w.sg_node}" in bad.message
    assert "FromPort=1018,ToPort=1023" in bad.remediation
    assert "FromPort=988" not in bad.remediation  # 988 is open already


def test_security_groups_denied_interfaces_is_unknown(w: SimpleNamespace, facts: Any) -> None:
    from aws_world import denied

    file_systems(w.known).attach(facts.client("fsx"))
    denied("DescribeNetworkInterfaces").attach(facts.client("ec2"))
    (finding,) = run("slurm.fsx-security-groups", config(w, lustre_mount(FS_OK)), facts)
    assert finding.status.value == "UNKNOWN"
    assert "ec2:DescribeNetworkInterfaces" in finding.message


def test_a_node_with_two_groups_is_admitted_through_either(w: SimpleNamespace, facts: Any) -> None:
    # The nodes carry sg_node and sg_closed; FS_OK admits sg_node, which every node's traffic
    # carries: the mount works, whatever sg_closed allows.
    file_systems(w.known).attach(facts.client("fsx"))
    cfg = config(w, lustre_mount(FS_OK))
    body = dict(cfg.raw)
    body["VpcConfig"] = {**body["VpcConfig"], "SecurityGroupIds": [w.sg_node, w.sg_closed]}
    (finding,) = run("slurm.fsx-security-groups", load_spec(body), facts)
    assert finding.status.value == "PASS", finding.message


def test_a_group_admitted_by_neither_of_its_groups_fails_naming_the_instance_group(
    w: SimpleNamespace, facts: Any
) -> None:
    file_systems(w.known).attach(facts.client("fsx"))
    cfg = config(w, lustre_mount(FS_CLOSED))
    body = dict(cfg.raw)
    body["VpcConfig"] = {**body["VpcConfig"], "SecurityGroupIds": [w.sg_node, w.sg_988]}
    (finding,) = run("slurm.fsx-security-groups", load_spec(body), facts)
    assert finding.status.value == "FAIL"
    assert "workers" in finding.message and w.sg_node in finding.message
    assert f"GroupId={w.sg_node}" in finding.remediation


UNSEEN_SUBNET = "subnet-0123456789abcdef0"  # not in the account: EC2 does not describe it


def test_zone_of_a_group_whose_subnets_are_not_described_is_unknown_not_pass(
    w: SimpleNamespace, facts: Any
) -> None:
    file_systems(w.known).attach(facts.client("fsx"))
    (finding,) = run("slurm.fsx-zone", config(w, lustre_mount(FS_OK), subnet=UNSEEN_SUBNET), facts)
    assert finding.status.value == "UNKNOWN"
    assert "far" in finding.message and UNSEEN_SUBNET in finding.message


def test_security_groups_of_a_group_whose_subnets_are_not_described_is_unknown(
    w: SimpleNamespace, facts: Any
) -> None:
    # FS_ZFS admits 2049 from 10.0.0.0/16 only: whether "far" is in it cannot be told.
    file_systems(w.known).attach(facts.client("fsx"))
    cfg = config(w, zfs_mount(FS_ZFS), subnet=UNSEEN_SUBNET)
    (finding,) = run("slurm.fsx-security-groups", cfg, facts)
    assert finding.status.value == "UNKNOWN"
    assert "far" in finding.message and UNSEEN_SUBNET in finding.message


def test_vpc_of_a_peered_vpc_is_a_warn_not_a_fail(w: SimpleNamespace, facts: Any) -> None:
    """FSx: "Only resources within the associated VPC, or a peered VPC, can access your file
    system's network interface": a file system in a peered VPC may be reachable (routes not
    read), so WARN naming the link; unlinked stays FAIL (test_vpc_pass_and_other_vpc_fail)."""
    peer_vpc = make_vpc(w.ec2, "10.8.0.0/16")
    peer_subnet = make_subnet(w.ec2, peer_vpc, "10.8.0.0/20", zone_name="us-west-2a")
    pcx = w.ec2.create_vpc_peering_connection(VpcId=w.vpc, PeerVpcId=peer_vpc)[
        "VpcPeeringConnection"
    ]["VpcPeeringConnectionId"]
    w.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    peered = "fs-0123456789abcdef6"
    file_systems({**w.known, peered: lustre(peered, peer_subnet, [])}).attach(facts.client("fsx"))
    (finding,) = run("slurm.fsx-vpc", config(w, lustre_mount(peered)), facts)
    assert finding.status.value == "WARN", finding.message
    assert pcx in finding.message and "not verified" in finding.message
    # tests/test_least_privilege.py counts on this test to call both reads.
    assert facts.calls["ec2:DescribeVpcPeeringConnections"] >= 1
    assert facts.calls["ec2:DescribeTransitGatewayAttachments"] >= 1


def test_vpc_links_unreadable_is_unknown_not_fail(w: SimpleNamespace, facts: Any) -> None:
    from aws_world import denied

    file_systems(w.known).attach(facts.client("fsx"))
    denied("DescribeVpcPeeringConnections").attach(facts.client("ec2"))
    (finding,) = run("slurm.fsx-vpc", config(w, lustre_mount(FS_ELSEWHERE)), facts)
    assert finding.status.value == "UNKNOWN", finding.message
    assert "ec2:DescribeVpcPeeringConnections" in finding.message
