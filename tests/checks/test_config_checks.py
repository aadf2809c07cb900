"""Each config check through the engine (runner.run_one): a pass, a fail, and a cannot-tell
or not-applicable case, judged from what the user would read."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hp_configs import EKS_ARN, ROLE, SG, SUBNET_A, SUBNET_B, cluster, group

import hyperpod_preflight.checks.config  # noqa: F401  (registers the checks)
from hyperpod_preflight import registry
from hyperpod_preflight.catalog import InstanceTypeInfo
from hyperpod_preflight.models import Finding, Severity, Status
from hyperpod_preflight.planner import build_plan
from hyperpod_preflight.runner import CheckContext, run_one
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup, load_spec, spec_from_flags

CONFIG_CHECKS = [
    "config.schema",
    "config.unique-group-names",
    "config.lifecycle-config",
    "config.execution-role-arn",
    "config.eks-vpc-config",
    "config.threads-per-core",
    "config.instance-count-limit",
    "config.lifecycle-bucket-name",
    "config.efa-single-subnet-az",
    "config.controller-group",
    "config.instance-types-sized",
    "config.autoscaling",
    "config.scheduled-update",
]


def run(check_id: str, spec: ClusterSpec, **plan_kwargs: Any) -> list[Finding]:
    ctx = CheckContext(spec=spec, plan=build_plan(spec, **plan_kwargs))
    findings = run_one(registry.get(check_id), ctx)
    for finding in findings:
        assert "could not tell: the check failed" not in finding.message  # never crashed
        if finding.status in (Status.FAIL, Status.WARN):
            assert finding.remediation, finding
    return findings


def statuses(findings: list[Finding]) -> dict[str, Status]:
    return {f.resource: f.status for f in findings}


def spec_of(*groups: dict[str, Any], **kwargs: Any) -> ClusterSpec:
    return load_spec(cluster(*groups, **kwargs))


def direct(spec: ClusterSpec, **group_changes: Any) -> ClusterSpec:
    """The spec with its first group changed, as a library user could build it (bypassing
    load_spec's validation)."""
    first = replace(spec.instance_groups[0], **group_changes)
    return replace(spec, instance_groups=(first, *spec.instance_groups[1:]))


VPC_ONLY = spec_from_flags(vpc="vpc-0a1b2c3d4e5f60718")


def test_all_config_checks_are_registered_offline() -> None:
    infos = {c.check_id: c.info for c in registry.all_checks("cluster") if c.info.area == "config"}
    assert sorted(infos) == sorted(CONFIG_CHECKS)
    assert not any(info.needs_aws for info in infos.values())


@pytest.mark.parametrize("check_id", [c for c in CONFIG_CHECKS if c != "config.eks-vpc-config"])
def test_checks_needing_groups_skip_a_vpc_only_spec(check_id: str) -> None:
    findings = run(check_id, VPC_ONLY)
    assert [f.status for f in findings] == [Status.SKIP]
    assert findings[0].message


# -- config.schema --------------------------------------------------------------------------------
def test_schema_pass_names_the_botocore_version() -> None:
    import botocore

    (finding,) = run("config.schema", spec_of(group("w")))
    assert finding.status is Status.PASS
    assert botocore.__version__ in finding.message


def test_schema_fails_a_spec_whose_raw_config_is_invalid() -> None:
    spec = spec_of(group("w"))
    bad = replace(spec, raw={**spec.raw, "ClusterName": "bad_name!"})
    (finding,) = run("config.schema", bad)
    assert finding.status is Status.FAIL
    assert "ClusterName: 'bad_name!' does not match" in finding.message


def test_schema_warns_about_a_missing_cluster_name() -> None:
    config = cluster(group("w"))
    del config["ClusterName"]
    findings = run("config.schema", load_spec(config))
    assert statuses(findings)["ClusterName"] is Status.WARN


# -- config.unique-group-names --------------------------------------------------------------------
def test_unique_group_names() -> None:
    ok = run("config.unique-group-names", spec_of(group("a"), group("b")))
    assert statuses(ok) == {"a": Status.PASS, "b": Status.PASS}
    restricted = [{"InstanceGroupName": "a", "InstanceType": "ml.p5.48xlarge",
                   "InstanceCount": 1, "ExecutionRole": ROLE}]  # fmt: skip
    dup = run(
        "config.unique-group-names",
        spec_of(group("a"), group("b"), RestrictedInstanceGroups=restricted),
    )
    assert statuses(dup) == {"a": Status.FAIL, "b": Status.PASS}
    failure = next(f for f in dup if f.status is Status.FAIL)
    assert "InstanceGroups[0], RestrictedInstanceGroups[0]" in failure.message
    assert "RestrictedInstanceGroups[0].InstanceGroupName" in failure.remediation


# -- config.lifecycle-config ----------------------------------------------------------------------
def test_lifecycle_config() -> None:
    spec = spec_of(
        group("ok"),
        group("no-create", LifeCycleConfig={"SourceS3Uri": "s3://sagemaker-b/lc/"}),
        group("https", LifeCycleConfig={"SourceS3Uri": "https://b.s3.amazonaws.com/lc",
                                        "OnCreate": "on_create.sh"}),
        group("uri-create", LifeCycleConfig={"SourceS3Uri": "s3://sagemaker-b/lc/",
                                             "OnCreate": "s3://sagemaker-b/lc/on_create.sh"}),
        group("none", LifeCycleConfig=None),
        group("init-only", LifeCycleConfig={"SourceS3Uri": "s3://sagemaker-b/lc/",
                                            "OnInitComplete": "after_ami.sh"}),
    )  # fmt: skip
    findings = run("config.lifecycle-config", spec)
    assert statuses(findings) == {
        "ok": Status.PASS,
        "no-create": Status.FAIL,
        "https": Status.FAIL,
        "uri-create": Status.FAIL,
        "none": Status.WARN,
        "init-only": Status.PASS,
    }
    by = {f.resource: f for f in findings}
    assert "InstanceGroups[1].LifeCycleConfig.OnCreate" in by["no-create"].remediation
    assert "InstanceGroups[4].LifeCycleConfig" in by["none"].remediation


def test_lifecycle_config_from_flags_skips_what_was_not_given() -> None:
    spec = spec_from_flags(instance_groups=["w=ml.p5.48xlarge:2"])
    assert [f.status for f in run("config.lifecycle-config", spec)] == [Status.SKIP]


# -- config.execution-role-arn --------------------------------------------------------------------
def test_execution_role_arn() -> None:
    (ok,) = run("config.execution-role-arn", spec_of(group("a"), group("b"), eks=True))
    assert ok.status is Status.PASS and ok.resource == ROLE
    china_role = "arn:aws-cn:iam::123456789012:role/hp"
    mixed = run(
        "config.execution-role-arn",
        spec_of(group("a"), group("b", ExecutionRole=china_role), eks=True),
    )
    assert statuses(mixed) == {ROLE: Status.PASS, china_role: Status.FAIL}
    assert "partition aws-cn" in next(f for f in mixed if f.resource == china_role).message
    broken = direct(spec_of(group("a")), execution_role="arn:aws:iam::123456789012:user/bob")
    (bad,) = run("config.execution-role-arn", broken)
    assert bad.status is Status.FAIL and "InstanceGroups[0].ExecutionRole" in bad.remediation


def test_execution_role_not_given_by_flags_is_skipped() -> None:
    spec = spec_from_flags(instance_groups=["w=ml.p5.48xlarge:2"])
    assert [f.status for f in run("config.execution-role-arn", spec)] == [Status.SKIP]


# -- config.eks-vpc-config ------------------------------------------------------------------------
def test_eks_vpc_config() -> None:
    ok = run("config.eks-vpc-config", spec_of(group("w"), eks=True))
    assert statuses(ok) == {EKS_ARN: Status.PASS, "VpcConfig": Status.PASS}
    no_vpc = run("config.eks-vpc-config", spec_of(group("w"), eks=True, subnets=[]))
    assert statuses(no_vpc)["VpcConfig"] is Status.FAIL
    bad_arn = replace(spec_of(group("w"), eks=True), eks_cluster_arn="arn:aws:eks:x")
    assert statuses(run("config.eks-vpc-config", bad_arn))["arn:aws:eks:x"] is Status.FAIL


def test_eks_vpc_config_skips_slurm_and_flags_without_vpc() -> None:
    assert [f.status for f in run("config.eks-vpc-config", spec_of(group("w")))] == [Status.SKIP]
    flags = spec_from_flags(eks_cluster_arn=EKS_ARN)
    assert statuses(run("config.eks-vpc-config", flags)) == {
        EKS_ARN: Status.PASS,
        "VpcConfig": Status.SKIP,
    }


# -- config.threads-per-core ----------------------------------------------------------------------
def test_threads_per_core() -> None:
    spec = spec_of(
        group("p5", ThreadsPerCore=1),
        group("unset"),
        group("g5", "ml.g5.12xlarge", ThreadsPerCore=1),
        group("g5-default", "ml.g5.12xlarge", ThreadsPerCore=2),
        group("gb", "ml.p6e-gb200.36xlarge", ThreadsPerCore=2),
    )
    assert statuses(run("config.threads-per-core", spec)) == {
        "p5": Status.PASS,
        "unset": Status.PASS,
        "g5": Status.WARN,  # g5 lists no valid threads per core: CPU options fixed
        "g5-default": Status.PASS,
        "gb": Status.UNKNOWN,  # not sized offline
    }


def test_threads_per_core_fails_a_value_the_type_does_not_support() -> None:
    grace = InstanceTypeInfo(
        name="p6e-gb200.36xlarge", vcpus=144, default_cores=144, valid_threads_per_core=(1,),
        accelerator="nvidia", accelerator_count=4, efa_interfaces=17, network_cards=17,
        ipv4_per_eni=50, max_enis=34, memory_gib=960, source="ec2:DescribeInstanceTypes",
    )  # fmt: skip
    spec = spec_of(group("gb", "ml.p6e-gb200.36xlarge", ThreadsPerCore=2))
    (finding,) = run("config.threads-per-core", spec, instance_types={"p6e-gb200.36xlarge": grace})
    assert finding.status is Status.FAIL
    assert "supports ThreadsPerCore 1, not 2" in finding.message
    assert "InstanceGroups[0].ThreadsPerCore" in finding.remediation


# -- config.instance-count-limit ------------------------------------------------------------------
def test_instance_count_limit() -> None:
    (ok,) = run("config.instance-count-limit", spec_of(group("w", count=16), group("c")))
    assert ok.status is Status.PASS
    (warn,) = run("config.instance-count-limit", spec_of(group("w", count=64), group("c")))
    assert warn.status is Status.WARN and warn.resource == "cluster"
    assert "65 instances" in warn.message and "unconfirmed" in warn.message
    assert "--quota-code L-2CE978FC --desired-value 65" in warn.remediation
    too_many = direct(spec_of(group("w")), count=7000)
    assert statuses(run("config.instance-count-limit", too_many))["w"] is Status.FAIL


# -- config.lifecycle-bucket-name -----------------------------------------------------------------
def test_lifecycle_bucket_name() -> None:
    other = {"SourceS3Uri": "s3://my-scripts/lc/", "OnCreate": "on_create.sh"}
    findings = run(
        "config.lifecycle-bucket-name",
        spec_of(group("a"), group("b", LifeCycleConfig=other), group("c", LifeCycleConfig=other)),
    )
    assert statuses(findings) == {
        "sagemaker-lifecycle-bucket": Status.PASS,
        "my-scripts": Status.WARN,
    }
    warn = next(f for f in findings if f.status is Status.WARN)
    assert warn.severity is Severity.MEDIUM
    assert "arn:aws:s3:::sagemaker-*" in warn.message
    assert "InstanceGroups[1].LifeCycleConfig.SourceS3Uri" in warn.remediation
    assert "InstanceGroups[2].LifeCycleConfig.SourceS3Uri" in warn.remediation


def test_lifecycle_bucket_name_skips_without_uris() -> None:
    spec = spec_of(group("a", LifeCycleConfig=None))
    assert [f.status for f in run("config.lifecycle-bucket-name", spec)] == [Status.SKIP]


# -- config.efa-single-subnet-az ------------------------------------------------------------------
def test_efa_single_subnet_az() -> None:
    two = {"SecurityGroupIds": [SG], "Subnets": [SUBNET_A, SUBNET_B]}
    spec = spec_of(
        group("one", count=4),
        group("spread", count=4, OverrideVpcConfig=two),
        group("cpu", "ml.m5.xlarge", count=2, OverrideVpcConfig=two),
        group("gb", "ml.p6e-gb200.36xlarge", count=2, OverrideVpcConfig=two),
    )
    findings = run("config.efa-single-subnet-az", spec)
    assert statuses(findings) == {
        "one": Status.PASS,
        "spread": Status.WARN,
        "cpu": Status.SKIP,
        "gb": Status.UNKNOWN,
    }
    warn = next(f for f in findings if f.status is Status.WARN)
    assert "one Availability Zone" in warn.message
    assert "InstanceGroups[1].OverrideVpcConfig.Subnets" in warn.remediation


def test_efa_single_subnet_az_skips_groups_without_subnets() -> None:
    findings = run("config.efa-single-subnet-az", spec_of(group("w"), subnets=[]))
    assert [f.status for f in findings] == [Status.SKIP]


# -- config.controller-group ----------------------------------------------------------------------
def _slurm(
    name: str, node_type: str | None, count: int = 1, itype: str = "ml.m5.xlarge"
) -> dict[str, Any]:
    return group(
        name, itype, count=count, SlurmConfig={"NodeType": node_type} if node_type else None
    )


def test_controller_group() -> None:
    ok = run(
        "config.controller-group", spec_of(_slurm("ctl", "Controller"), _slurm("w", "Compute", 4))
    )
    assert statuses(ok) == {"ctl": Status.PASS}
    big = run(
        "config.controller-group", spec_of(_slurm("ctl", "Controller", 2), _slurm("w", "Compute"))
    )
    assert statuses(big) == {"ctl": Status.FAIL}
    assert "InstanceGroups[0].InstanceCount to 1" in big[0].remediation
    two_controllers = spec_of(
        _slurm("c1", "Controller"), _slurm("c2", "Controller"), _slurm("w", None)
    )
    two = run("config.controller-group", two_controllers)
    assert statuses(two) == {"c2": Status.FAIL, "w": Status.WARN}
    none = run("config.controller-group", spec_of(_slurm("l", "Login"), _slurm("w", "Compute")))
    assert statuses(none) == {"cluster": Status.FAIL}


def test_controller_group_skips_without_slurm_config_and_on_eks() -> None:
    assert [f.status for f in run("config.controller-group", spec_of(group("w")))] == [Status.SKIP]
    eks = spec_of(group("w"), eks=True)
    assert [f.status for f in run("config.controller-group", eks)] == [Status.SKIP]


# -- config.instance-types-sized ------------------------------------------------------------------
def test_instance_types_sized() -> None:
    spec = spec_of(
        group("w"), group("gb", "ml.p6e-gb200.36xlarge"), group("gb2", "ml.p6e-gb200.36xlarge")
    )
    findings = run("config.instance-types-sized", spec)
    assert statuses(findings) == {
        "ml.p5.48xlarge": Status.PASS,
        "ml.p6e-gb200.36xlarge": Status.WARN,
    }
    warn = next(f for f in findings if f.status is Status.WARN)
    assert "gb, gb2" in warn.message and "ec2:DescribeInstanceTypes" in warn.remediation
    assert warn.severity is Severity.LOW


def test_instance_types_sized_by_ec2_figures_pass() -> None:
    info = InstanceTypeInfo(
        name="p6e-gb200.36xlarge", vcpus=144, default_cores=144, ipv4_per_eni=50, max_enis=34,
        network_cards=17, memory_gib=960, source="ec2:DescribeInstanceTypes",
    )  # fmt: skip
    spec = spec_of(group("gb", "ml.p6e-gb200.36xlarge"))
    (finding,) = run("config.instance-types-sized", spec, instance_types={info.name: info})
    assert finding.status is Status.PASS and "ec2:DescribeInstanceTypes" in finding.message


def test_a_spec_built_in_python_runs() -> None:
    spec = ClusterSpec(
        name="py",
        source="script",
        instance_groups=(InstanceGroup(name="w", instance_type="ml.p5.48xlarge", count=2),),
    )
    ctx = CheckContext(spec=spec, plan=build_plan(spec))
    (finding,) = run_one(registry.get("config.execution-role-arn"), ctx)
    assert finding.status is Status.FAIL and finding.resource == "w"
    (sized,) = run_one(registry.get("config.instance-types-sized"), ctx)
    assert sized.status is Status.PASS
