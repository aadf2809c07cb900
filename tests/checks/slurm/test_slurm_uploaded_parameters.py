"""The slurm checks read provisioning_parameters.json where the nodes read it: in the
lifecycle prefix in S3 (moto), without --lifecycle-dir; the local copy is compared with it.
FSx answers come from fsx_world's validated handler (moto's FSx lacks Lifecycle, mount name
and network interfaces); the network is moto's EC2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import REGION, by_resource, make_subnet, make_vpc, new_facts, run, statuses
from conftest import moto_env
from fsx_world import FS_CLOSED, FS_ELSEWHERE, FS_OK, dns, file_systems, lustre
from hp_configs import LIFECYCLE, cluster, group

import hyperpod_preflight.checks.slurm  # noqa: F401  (registers the checks)
from hyperpod_preflight.preflight import run_cluster_preflight
from hyperpod_preflight.spec import load_spec

BUCKET = "sagemaker-lifecycle-bucket"
PREFIX = "lifecycle/"
URI = f"s3://{BUCKET}/{PREFIX}provisioning_parameters.json"
FSX_CHECKS = [
    "slurm.fsx-exists",
    "slurm.fsx-vpc",
    "slurm.fsx-zone",
    "slurm.fsx-mount-name",
    "slurm.fsx-security-groups",
]


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        ec2 = boto3.client("ec2", region_name=REGION)
        ns = SimpleNamespace(ec2=ec2, s3=boto3.client("s3", region_name=REGION))
        ns.vpc = make_vpc(ec2)
        ns.sub_a = make_subnet(ec2, ns.vpc, "10.0.0.0/20", zone_name="us-west-2a")
        other = make_vpc(ec2, "10.9.0.0/16")
        ns.sub_other = make_subnet(ec2, other, "10.9.0.0/20", zone_name="us-west-2a")
        ns.other_vpc = other

        def sg(name: str) -> str:
            return str(
                ec2.create_security_group(GroupName=name, Description=name, VpcId=ns.vpc)["GroupId"]
            )

        def eni(group_id: str) -> str:
            return str(
                ec2.create_network_interface(SubnetId=ns.sub_a, Groups=[group_id])[
                    "NetworkInterface"
                ]["NetworkInterfaceId"]
            )

        ns.sg_node = sg("nodes")
        # Exactly as the FSx for Lustre page shows: TCP 988 and 1018-1023 from the clients.
        ns.sg_fs = sg("fsx-open")
        ec2.authorize_security_group_ingress(
            GroupId=ns.sg_fs,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": low,
                    "ToPort": high,
                    "UserIdGroupPairs": [{"GroupId": ns.sg_node}],
                }
                for low, high in ((988, 988), (1018, 1023))
            ],
        )
        ns.sg_no_988 = sg("fsx-no-988")  # 1018-1023 only
        ec2.authorize_security_group_ingress(
            GroupId=ns.sg_no_988,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 1018,
                    "ToPort": 1023,
                    "UserIdGroupPairs": [{"GroupId": ns.sg_node}],
                }
            ],
        )
        ns.known = {
            FS_OK: lustre(FS_OK, ns.sub_a, [eni(ns.sg_fs)]),
            FS_CLOSED: lustre(FS_CLOSED, ns.sub_a, [eni(ns.sg_no_988)]),
            FS_ELSEWHERE: lustre(FS_ELSEWHERE, ns.sub_other, []),
        }
        ns.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        ns.s3.put_object(Bucket=BUCKET, Key=PREFIX + "on_create.sh", Body=b"#!/bin/bash\n")
        yield ns


@pytest.fixture
def facts(w: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    made = new_facts()
    file_systems(w.known).attach(made.client("fsx"))
    return made


def parameters(fs_id: str, mount: str = "abcdefgh", **extra: Any) -> bytes:
    data = {
        "version": "1.0.0",
        "workload_manager": "slurm",
        "controller_group": "workers",
        "worker_groups": [{"instance_group_name": "workers", "partition_name": "dev"}],
        "fsx_dns_name": dns(fs_id),
        "fsx_mountname": mount,
        **extra,
    }
    return json.dumps(data, indent=2).encode()


def upload(w: SimpleNamespace, body: bytes | None) -> None:
    key = PREFIX + "provisioning_parameters.json"
    if body is None:
        w.s3.delete_object(Bucket=BUCKET, Key=key)
    else:
        w.s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def config(w: SimpleNamespace, *groups: dict[str, Any]) -> Any:
    body = cluster(*(groups or (group("workers"),)), subnets=[w.sub_a])
    body["VpcConfig"]["SecurityGroupIds"] = [w.sg_node]
    return load_spec(body)


def plain_check(w: SimpleNamespace, facts: Any, **options: Any) -> dict[str, Any]:
    """The whole pipeline (reads prefetched, then judged), no --lifecycle-dir: findings by
    (check id, resource)."""
    report = run_cluster_preflight(
        config(w), facts=facts, only=FSX_CHECKS, options=options, concurrency=4
    )
    return {(f.check_id, f.resource): f for f in report.results}


def test_plain_check_fails_an_fsx_in_another_vpc(w: SimpleNamespace, facts: Any) -> None:
    upload(w, parameters(FS_ELSEWHERE))
    found = plain_check(w, facts)
    bad = found[("slurm.fsx-vpc", FS_ELSEWHERE)]
    assert bad.status.value == "FAIL", bad.message
    assert w.other_vpc in bad.message and w.vpc in bad.message


def test_plain_check_fails_a_wrong_mount_name(w: SimpleNamespace, facts: Any) -> None:
    upload(w, parameters(FS_OK, mount="wrongnam"))
    found = plain_check(w, facts)
    bad = found[("slurm.fsx-mount-name", FS_OK)]
    assert bad.status.value == "FAIL", bad.message
    assert URI in bad.message and "'wrongnam'" in bad.message
    assert "'abcdefgh'" in bad.remediation


def test_plain_check_fails_a_file_system_group_without_988(w: SimpleNamespace, facts: Any) -> None:
    upload(w, parameters(FS_CLOSED))
    found = plain_check(w, facts)
    bad = found[("slurm.fsx-security-groups", FS_CLOSED)]
    assert bad.status.value == "FAIL", bad.message
    assert f"TCP 988 from {w.sg_node}" in bad.message
    assert "FromPort=988,ToPort=988" in bad.remediation


def test_plain_check_passes_the_file_system_as_the_fsx_page_shows_it(
    w: SimpleNamespace, facts: Any
) -> None:
    upload(w, parameters(FS_OK))
    found = plain_check(w, facts)
    assert {k: f.status.value for k, f in found.items()} == {
        ("slurm.fsx-exists", FS_OK): "PASS",
        ("slurm.fsx-vpc", FS_OK): "PASS",
        ("slurm.fsx-zone", FS_OK): "PASS",
        ("slurm.fsx-mount-name", FS_OK): "PASS",
        ("slurm.fsx-security-groups", FS_OK): "PASS",
    }
    # The object was read once, by the declared read, for all five checks.
    assert facts.calls["s3:GetObject"] == 1


def test_the_uploaded_copy_wins_over_a_differing_local_copy(w: SimpleNamespace, facts: Any) -> None:
    upload(w, parameters(FS_OK))
    local = {"file": "lc/provisioning_parameters.json", "data": parameters(FS_ELSEWHERE, "x")}
    found = by_resource(run("slurm.fsx-vpc", config(w), facts, provisioning_parameters=local))
    assert statuses(found.values()) == {FS_OK: "PASS"}


def test_a_local_copy_that_differs_is_a_warn_naming_the_fields(
    w: SimpleNamespace, facts: Any
) -> None:
    upload(w, parameters(FS_OK))
    local = {"file": "lc/provisioning_parameters.json", "data": parameters(FS_OK, "other")}
    body = cluster(
        group("workers", SlurmConfig={"NodeType": "Compute", "PartitionNames": ["dev"]}),
        subnets=[w.sub_a],
    )
    found = by_resource(
        run("slurm.provisioning-parameters", load_spec(body), facts, provisioning_parameters=local)
    )
    warn = found[URI]
    assert warn.status.value == "WARN"
    assert "fsx_mountname" in warn.message and "controller_group" not in warn.message
    assert warn.details["differing_fields"] == ["fsx_mountname"]
    assert f"aws s3 cp lc/provisioning_parameters.json {URI}" in warn.remediation


def test_the_same_local_copy_written_differently_is_not_a_warn(
    w: SimpleNamespace, facts: Any
) -> None:
    upload(w, parameters(FS_OK))
    same = json.dumps(json.loads(parameters(FS_OK))).encode()  # no indent
    local = {"file": "lc/provisioning_parameters.json", "data": same}
    found = run("slurm.provisioning-parameters", config(w), facts, provisioning_parameters=local)
    assert all(f.status.value != "WARN" for f in found)


def test_an_unreadable_prefix_is_unknown_not_a_silent_pass(w: SimpleNamespace, facts: Any) -> None:
    from aws_world import Injector, _response

    upload(w, parameters(FS_ELSEWHERE))
    Injector().always(
        "ListObjectsV2",
        lambda _r: _response(
            403,
            b"<Error><Code>AccessDenied</Code><Message>denied</Message></Error>",
            {"Content-Type": "application/xml"},
        ),
    ).attach(facts.client("s3"))
    (finding,) = run("slurm.fsx-vpc", config(w), facts)
    assert finding.status.value == "UNKNOWN", finding.message
    assert finding.resource == URI and "s3:ListBucket" in finding.message


def test_no_uploaded_copy_and_no_mount_is_skipped(w: SimpleNamespace, facts: Any) -> None:
    upload(w, None)
    (finding,) = run("slurm.fsx-exists", config(w), facts)
    assert finding.status.value == "SKIP"
    assert "no lifecycle prefix holds a provisioning_parameters.json" in finding.message


def test_the_file_system_is_mounted_by_the_groups_of_its_prefix_only(
    w: SimpleNamespace, facts: Any
) -> None:
    upload(w, parameters(FS_CLOSED))
    # "login" runs scripts from another prefix, and its group (sg_fs) is not admitted: it does
    # not mount FS_CLOSED, so only "workers" is named.
    other = {**LIFECYCLE, "SourceS3Uri": f"s3://{BUCKET}/elsewhere/"}
    cfg = config(w, group("workers"), group("login", LifeCycleConfig=other))
    (bad,) = run("slurm.fsx-security-groups", cfg, facts)
    assert bad.status.value == "FAIL"
    assert "workers" in bad.message and "login" not in bad.message
