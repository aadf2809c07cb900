"""What the sandbox account looks like: a :class:`Blueprint` of a careful user's preparation,
and the typical mistakes (:data:`DEFECTS`) that each change one thing of it.

Pure data: nothing here imports moto or boto3. A defect names the check that catches it and
the status that check reports, so the demo and the tests can say what the user should see.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import InputError


@dataclass(frozen=True)
class Blueprint:
    """Every choice the account builder makes; the defaults are the careful user's."""

    region: str = "us-west-2"
    vpc_dns: bool = True
    small_subnets: bool = False  # /28 private subnets instead of the planner's size
    public_subnets: bool = False  # the cluster subnets route 0.0.0.0/0 to the internet gateway
    nat_gateway: bool = True
    s3_gateway_endpoint: bool = True
    sg_self_ingress: bool = True
    sg_self_egress: bool = True
    role_exists: bool = True
    role_trusts: str = "sagemaker.amazonaws.com"
    role_vpc_policy: bool = True
    bucket_region: str | None = None  # None: the cluster's region
    bucket_public: bool = False
    crlf_scripts: bool = False
    missing_files: tuple[str, ...] = ()  # "ENTRY" stands for each group's OnCreate
    wrong_partition: bool = False  # provisioning_parameters.json names another partition
    # SageMaker quota values by quota name, replacing what the builder sizes from the plan
    quota_values: dict[str, float] = field(default_factory=dict)
    quota_scale: float = 2.0  # applied quota = needed × scale (at least needed + 2)


@dataclass(frozen=True)
class Defect:
    """A typical mistake: what it changes, and the finding it should produce."""

    name: str
    summary: str
    check_id: str
    status: str  # FAIL, or WARN where the pre-flight can only advise
    changes: dict[str, object]

    def apply(self, blueprint: Blueprint) -> Blueprint:
        return dataclasses.replace(blueprint, **self.changes)  # type: ignore[arg-type]


TOO_FEW_P5 = {"ml.p5.48xlarge for cluster usage": 1.0}

DEFECTS: dict[str, Defect] = {
    d.name: d
    for d in (
        Defect(
            "sg-no-self-ingress",
            "the security group lacks the all-traffic inbound rule from itself",
            "network.sg-efa-self-ingress",
            "FAIL",
            {"sg_self_ingress": False},
        ),
        Defect(
            "sg-no-self-egress",
            "the security group lacks the all-traffic outbound rule to itself",
            "network.sg-efa-self-egress",
            "FAIL",
            {"sg_self_egress": False},
        ),
        Defect(
            "no-s3-endpoint",
            "no S3 gateway endpoint on the private route tables (S3 goes through the NAT)",
            "network.s3-gateway-endpoint",
            "WARN",
            {"s3_gateway_endpoint": False},
        ),
        Defect(
            "no-nat",
            "no NAT gateway: the private subnets have no route out (only S3, by its endpoint)",
            "network.egress",
            "WARN",
            {"nat_gateway": False},
        ),
        Defect(
            "public-subnet",
            "the cluster subnets route 0.0.0.0/0 to the internet gateway (no NAT: no egress)",
            "network.subnet-private",
            "WARN",
            {"public_subnets": True},
        ),
        Defect(
            "small-subnet",
            "the private subnets are /28: too few addresses for the nodes",
            "network.subnet-capacity",
            "FAIL",
            {"small_subnets": True},
        ),
        Defect(
            "vpc-dns-off",
            "the VPC has DNS hostnames and DNS support off",
            "network.vpc-dns",
            "FAIL",
            {"vpc_dns": False},
        ),
        Defect(
            "missing-role",
            "the execution role was never created",
            "iam.execution-role-exists",
            "FAIL",
            {"role_exists": False},
        ),
        Defect(
            "role-missing-trust",
            "the execution role trusts ec2.amazonaws.com instead of sagemaker.amazonaws.com",
            "iam.execution-role-trust",
            "FAIL",
            {"role_trusts": "ec2.amazonaws.com"},
        ),
        Defect(
            "role-missing-vpc-policy",
            "the execution role lacks the network-interface permissions a VpcConfig needs",
            "iam.execution-role-permissions",
            "FAIL",
            {"role_vpc_policy": False},
        ),
        Defect(
            "bucket-other-region",
            "the lifecycle bucket is in us-east-1, not in the cluster's region",
            "s3.lifecycle-bucket-region",
            "FAIL",
            {"bucket_region": "us-east-1"},
        ),
        Defect(
            "public-bucket",
            "the lifecycle bucket's policy lets anyone read it",
            "s3.lifecycle-bucket-public",
            "FAIL",
            {"bucket_public": True},
        ),
        Defect(
            "missing-script",
            "the OnCreate script was never uploaded",
            "s3.lifecycle-objects",
            "FAIL",
            {"missing_files": ("ENTRY",)},
        ),
        Defect(
            "crlf-script",
            "the scripts were saved with Windows (CRLF) line endings",
            "lifecycle.scripts",
            "FAIL",
            {"crlf_scripts": True},
        ),
        Defect(
            "quota-too-low",
            "the ml.p5.48xlarge for cluster usage quota is 1",
            "quotas.instance-type",
            "FAIL",
            {"quota_values": TOO_FEW_P5},
        ),
    )
}


def parse_defects(names: Iterable[str]) -> tuple[Defect, ...]:
    """The defects ``names`` (comma-separated words allowed) name; InputError for an unknown one."""
    wanted = [n.strip() for word in names for n in word.split(",") if n.strip()]
    if wanted == ["all"]:
        return tuple(DEFECTS.values())
    unknown = [n for n in wanted if n not in DEFECTS]
    if unknown:
        raise InputError(
            f"--defects: unknown {', '.join(unknown)}; choose from "
            f"{', '.join(DEFECTS)} or all (hp-preflight demo --list-defects)"
        )
    return tuple(DEFECTS[n] for n in dict.fromkeys(wanted))


def blueprint_with(defects: Iterable[Defect], base: Blueprint | None = None) -> Blueprint:
    """``base`` (the careful user's account) with every defect applied."""
    blueprint = base or Blueprint()
    for defect in defects:
        blueprint = defect.apply(blueprint)
    return blueprint
