"""The cluster's VPC: it exists, and DNS support and hostnames are on."""

from __future__ import annotations

from typing import Any

from ...registry import CheckContext, check, need
from ...results import Outcome, Severity, failed, passed, skipped
from ...shell import arg, command
from .. import _needs
from ._common import (
    _no_vpc,
    cluster_vpc_id,
)


# -- VPC ----------------------------------------------------------------------------------
@check(
    "network.vpc-exists",
    "The cluster's VPC exists",
    Severity.CRITICAL,
    needs=lambda spec, plan: _needs.cluster_vpc(spec, lambda aws, v: [need("vpc", v)]),
)
def vpc_exists(ctx: CheckContext) -> list[Outcome]:
    """The cluster's VPC (--vpc, else its subnets' VPC) exists."""
    vpc_id = cluster_vpc_id(ctx)
    if vpc_id is None:
        return [_no_vpc(ctx)]
    vpc = ctx.aws.vpc(vpc_id)
    if vpc is None:
        return [
            failed(
                vpc_id,
                f"The VPC '{vpc_id}' does not exist in {ctx.aws.region}.",
                f"Check the id and the region (--region); list VPCs with "
                f"`aws ec2 describe-vpcs --region {arg(ctx.aws.region)}`.",
            )
        ]
    return [
        passed(
            vpc_id,
            f"VPC {vpc_id} exists ({vpc.get('CidrBlock', '?')}, {vpc.get('State', '?')})",
            cidr=vpc.get("CidrBlock"),
        )
    ]


@check(
    "network.vpc-dns",
    "The VPC has DNS support and DNS hostnames on",
    Severity.HIGH,
    needs=lambda spec, plan: _needs.cluster_vpc(
        spec,
        lambda aws, v: [
            need("vpc_attribute", v, a) for a in ("enableDnsSupport", "enableDnsHostnames")
        ],
    ),
)
def vpc_dns(ctx: CheckContext) -> list[Outcome]:
    """The VPC has enableDnsSupport and enableDnsHostnames on; either off is a FAIL."""
    vpc_id = cluster_vpc_id(ctx)
    if vpc_id is None:
        return [_no_vpc(ctx)]
    values: dict[str, Any] = {
        a: ctx.aws.vpc_attribute(vpc_id, a) for a in ("enableDnsSupport", "enableDnsHostnames")
    }
    if any(v is None for v in values.values()):
        return [skipped(vpc_id, "the VPC does not exist (see network.vpc-exists)")]
    off = [a for a, v in values.items() if not v]
    if not off:
        return [passed(vpc_id, "enableDnsSupport and enableDnsHostnames are on")]
    fixes = "; ".join(
        command("aws", "ec2", "modify-vpc-attribute", "--vpc-id", vpc_id, f"--{_kebab(a)}")
        for a in off
    )
    return [
        failed(
            vpc_id,
            f"{' and '.join(off)} {'is' if len(off) == 1 else 'are'} off in {vpc_id}: nodes "
            "cannot resolve each other, VPC endpoints' private DNS and FSx names",
            f"Turn them on (one attribute per call): {fixes}",
            **values,
        )
    ]


def _kebab(attribute: str) -> str:
    # enableDnsHostnames → enable-dns-hostnames
    out = "".join(f"-{c.lower()}" if c.isupper() else c for c in attribute)
    return out
