"""Print the whole-VPC audit and a capacity table for a sample account built in-process with
moto (no AWS account, no network): the output shown in the README's usage section.

Run: python bench/readme_demo.py   (needs the [dev] extras; uses tests/quota_stubs.py)
"""

from __future__ import annotations

import os
from typing import Any

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-west-2",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)
for _name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL") or n == "AWS_PROFILE"]:
    del os.environ[_name]

REGION = "us-west-2"


def sample_vpc(ec2: Any) -> str:
    """A public subnet with a NAT gateway, two private subnets (one with the S3 gateway
    endpoint, one without), the default group and one EFA-ready group."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    for attr in ("EnableDnsSupport", "EnableDnsHostnames"):
        ec2.modify_vpc_attribute(VpcId=vpc, **{attr: {"Value": True}})

    def subnet(cidr: str, zone: str) -> str:
        return str(
            ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZoneId=zone)["Subnet"][
                "SubnetId"
            ]
        )

    public = subnet("10.0.0.0/24", "usw2-az1")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rtb_public = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb_public, SubnetId=public)
    ec2.create_route(RouteTableId=rtb_public, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    private_a = subnet("10.0.16.0/20", "usw2-az2")
    private_b = subnet("10.0.64.0/22", "usw2-az3")
    rtb_a = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    rtb_b = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    for rtb, sid in ((rtb_a, private_a), (rtb_b, private_b)):
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=sid)
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="Gateway",
        ServiceName=f"com.amazonaws.{REGION}.s3",
        RouteTableIds=[rtb_a],
    )
    sg = ec2.create_security_group(GroupName="hyperpod-efa", Description="efa", VpcId=vpc)
    rule = [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg["GroupId"]}]}]
    ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=rule)
    ec2.authorize_security_group_egress(GroupId=sg["GroupId"], IpPermissions=rule)
    return str(vpc)


def offerings(region: str) -> list[dict[str, Any]]:
    """One training-plan offering of 16 × p5 for a week, in the region's first zone."""
    from datetime import datetime

    start = datetime(2030, 2, 1)
    return [
        {
            "TrainingPlanOfferingId": f"tpo-{region}-0001",
            "TargetResources": ["hyperpod-cluster"],
            "DurationHours": 168,
            "UpfrontFee": "1234567.00",
            "CurrencyCode": "USD",
            "ReservedCapacityOfferings": [
                {
                    "InstanceType": "ml.p5.48xlarge",
                    "InstanceCount": 16,
                    "AvailabilityZone": f"{region}a",
                    "DurationHours": 168,
                    "StartTime": start,
                }
            ],
        }
    ]


def main() -> None:
    import sys
    from pathlib import Path

    import boto3
    from moto import mock_aws

    repo = Path(__file__).resolve().parent.parent
    sys.path[:0] = [str(repo), str(repo / "tests"), str(repo / "bench")]
    from capacity_bench import Offerings
    from quota_stubs import ServiceQuotasFake, sagemaker_quotas

    from hyperpod_preflight.audit import run_vpc_audit
    from hyperpod_preflight.capacity_run import run_capacity_scan
    from hyperpod_preflight.facts import AwsFacts
    from hyperpod_preflight.render import render_report

    with mock_aws():
        vpc = sample_vpc(boto3.client("ec2", region_name=REGION))
        facts = AwsFacts(boto3.Session(region_name=REGION))
        types = ["ml.p5.48xlarge", "ml.g5.48xlarge"]
        report = run_vpc_audit(vpc, facts=facts, instance_types=types, nodes=8)
        print(f"$ hp-preflight --region {REGION} --vpc {vpc} --instance-type ml.p5.48xlarge \\")
        print("    --instance-type ml.g5.48xlarge --nodes 8")
        print(render_report(report, "table"))

        quotas = {"us-west-2": 32.0, "us-east-1": 8.0, "eu-west-1": 64.0, "ap-south-1": 24.0}

        def make(region: str) -> AwsFacts:
            regional = AwsFacts(boto3.Session(region_name=REGION), region=region)
            applied, defaults = sagemaker_quotas(
                applied={"ml.p5.48xlarge for cluster usage": quotas[region]}, filler=20
            )
            ServiceQuotasFake(applied, defaults).attach(regional)
            Offerings(offerings(region)).attach(regional.client("sagemaker"))
            return regional

        scan = run_capacity_scan(
            "ml.p5.48xlarge", 16, regions=list(quotas), facts_for=make, region=REGION
        )
        print("$ hp-preflight capacity --instance-type ml.p5.48xlarge --count 16 \\")
        print("    --regions us-west-2,us-east-1,eu-west-1,ap-south-1")
        print(render_report(scan, "table"))


if __name__ == "__main__":
    main()
