"""An EKS-orchestrated config: a well-formed EKS cluster ARN and a VpcConfig."""

from __future__ import annotations

from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, skipped
from ...spec import (
    EKS_CLUSTER_ARN_RE,
    ClusterSpec,
)
from ._common import from_flags


# -- config.eks-vpc-config ----------------------------------------------------------------------
@check(
    "config.eks-vpc-config",
    "EKS-orchestrated clusters have a VpcConfig and a well-formed EKS cluster ARN",
    Severity.CRITICAL,
    needs_aws=False,
)
def check_eks_vpc_config(ctx: CheckContext) -> list[Outcome]:
    """An EKS config has a VpcConfig and a well-formed EKS cluster ARN."""
    spec: ClusterSpec = ctx.spec
    if spec.orchestrator != "eks":
        return [skipped("Orchestrator", "Slurm-orchestrated cluster: VpcConfig is optional")]
    outcomes: list[Outcome] = []
    arn = spec.eks_cluster_arn
    if arn is None:
        if from_flags(spec):
            outcomes.append(skipped("Orchestrator.Eks.ClusterArn", "no --eks-cluster-arn given"))
        else:
            outcomes.append(
                failed(
                    "Orchestrator.Eks.ClusterArn",
                    "EKS orchestrator without a cluster ARN",
                    'Set Orchestrator.Eks.ClusterArn to "arn:aws:eks:REGION:ACCOUNT:cluster/NAME" '
                    "(aws eks describe-cluster --name NAME --query cluster.arn).",
                )
            )
    else:
        match = EKS_CLUSTER_ARN_RE.fullmatch(arn)
        if match:
            outcomes.append(
                passed(
                    arn,
                    f"EKS cluster {match['name']} in {match['region']}, account {match['account']}",
                    region=match["region"],
                )
            )
        else:
            outcomes.append(
                failed(
                    arn,
                    f"{arn!r} is not an EKS cluster ARN",
                    'Set Orchestrator.Eks.ClusterArn to "arn:aws:eks:REGION:ACCOUNT:cluster/NAME" '
                    "(aws eks describe-cluster --name NAME --query cluster.arn).",
                )
            )
    vpc = spec.vpc_config
    if vpc is None or not vpc.subnets:
        if from_flags(spec) and vpc is None:
            outcomes.append(skipped("VpcConfig", "no --subnet / --security-group given"))
        else:
            outcomes.append(
                failed(
                    "VpcConfig",
                    "an EKS-orchestrated cluster needs VpcConfig (it cannot be added later)",
                    'Add "VpcConfig": {"SecurityGroupIds": ["sg-..."], "Subnets": '
                    '["subnet-..."]} with private subnets of the EKS cluster\'s VPC.',
                )
            )
    elif not vpc.security_group_ids:
        outcomes.append(
            failed(
                "VpcConfig",
                "VpcConfig has subnets but no security group",
                'Add VpcConfig.SecurityGroupIds, e.g. ["sg-..."] (a group allowing all traffic '
                "to and from itself).",
            )
        )
    else:
        outcomes.append(
            passed(
                "VpcConfig",
                f"{len(vpc.subnets)} subnet(s) and {len(vpc.security_group_ids)} security group(s)",
            )
        )
    return outcomes
