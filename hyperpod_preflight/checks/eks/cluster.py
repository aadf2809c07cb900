"""The EKS cluster itself: it exists, is ACTIVE in this region and account, runs a
Kubernetes version HyperPod supports, sits in the HyperPod subnets' VPC, uses an
authentication mode HyperPod supports and a recent enough VPC CNI add-on."""

from __future__ import annotations

from ...analysis.eks import (
    KUBERNETES_VERSIONS_SOURCE,
    MIN_VPC_CNI,
    SUPPORTED_AUTHENTICATION_MODES,
    SUPPORTED_KUBERNETES_VERSIONS,
    dotted,
    kubernetes_support,
    patch_version,
    supported_range,
)
from ...registry import CheckContext, check, need
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...shell import command
from ._common import caller_account, cluster_needs, described_cluster, eks_target, vpc_config

READS = cluster_needs()


@check(
    "eks.cluster",
    "The EKS cluster exists, is ACTIVE, in this region and account",
    Severity.CRITICAL,
    needs=READS,
)
def cluster(ctx: CheckContext) -> list[Outcome]:
    """Orchestrator.Eks.ClusterArn names an ACTIVE cluster in this run's region and account."""
    target = eks_target(ctx)
    if isinstance(target, Outcome):
        return [target]
    region = ctx.aws.region
    if target.region != region:
        return [
            failed(
                target.arn,
                f"The EKS cluster is in {target.region} but this run (and the HyperPod cluster) "
                f"is in {region}: HyperPod attaches to an EKS cluster of its own region.",
                f"Create the HyperPod cluster in {target.region} (--region {target.region}), or "
                f"name an EKS cluster of {region}: `aws eks list-clusters --region {region}`.",
            )
        ]
    account = caller_account(ctx)
    if target.account != account:
        return [
            failed(
                target.arn,
                f"The EKS cluster ARN names account {target.account} but these credentials are "
                f"for account {account}: HyperPod attaches to an EKS cluster of the account "
                "that creates it.",
                f"Run with credentials of account {target.account}, or name a cluster of "
                f"{account}: `aws eks list-clusters --region {region}`.",
            )
        ]
    described = ctx.aws.eks_cluster(target.name)
    if described is None:
        return [
            failed(
                target.arn,
                f"No EKS cluster named '{target.name}' exists in {region} of account {account}.",
                f"Create it first (HyperPod attaches to an existing cluster), or fix the name: "
                f"`aws eks list-clusters --region {region}`.",
            )
        ]
    status = str(described.get("status", ""))
    if status == "ACTIVE":
        return [passed(target.arn, f"EKS cluster {target.name} is ACTIVE", status=status)]
    if status in ("CREATING", "UPDATING", "PENDING"):
        return [
            warned(
                target.arn,
                f"EKS cluster {target.name} is {status}: HyperPod needs it ACTIVE.",
                f"Wait for it: `aws eks wait cluster-active --name {target.name} "
                f"--region {region}`, then run again.",
                status=status,
            )
        ]
    if not status:
        return [unknown(target.arn, "could not tell: DescribeCluster gave no status")]
    return [
        failed(
            target.arn,
            f"EKS cluster {target.name} is {status}: HyperPod cannot attach to it.",
            f"See `aws eks describe-cluster --name {target.name} --region {region} --query "
            "cluster.health`; recreate the cluster if it cannot recover.",
            status=status,
        )
    ]


@check(
    "eks.kubernetes-version",
    "The EKS cluster runs a Kubernetes version HyperPod supports",
    Severity.CRITICAL,
    needs=READS,
)
def kubernetes_version(ctx: CheckContext) -> list[Outcome]:
    """The cluster's Kubernetes version is in HyperPod's list; newer is WARN, older FAIL."""
    out: list[Outcome] = []
    found = described_cluster(ctx, out)
    if found is None:
        return out
    target, described = found
    raw = described.get("version")
    support = kubernetes_support(str(raw) if raw else None)
    listed = f"HyperPod lists Kubernetes {supported_range()} ({KUBERNETES_VERSIONS_SOURCE})"
    lowest = min(SUPPORTED_KUBERNETES_VERSIONS)
    step = (support.version[0], support.version[1] + 1) if support.version else lowest
    upgrade = (
        command(
            "aws",
            "eks",
            "update-cluster-version",
            "--name",
            target.name,
            "--kubernetes-version",
            dotted(step),
            "--region",
            ctx.aws.region,
        )
        + f"  (EKS upgrades one minor version at a time: repeat up to {dotted(lowest)} or later)"
    )
    if support.verdict == "supported":
        return [passed(target.arn, f"Kubernetes {raw} is supported by HyperPod", version=raw)]
    if support.verdict == "newer":
        return [
            warned(
                target.arn,
                f"Kubernetes {raw} is newer than the versions {listed}; it may be supported "
                "already, or not yet.",
                "Check the page for the current list before creating the cluster.",
                version=raw,
            )
        ]
    if support.verdict == "older":
        return [
            failed(target.arn, f"Kubernetes {raw} is older than {listed}.", upgrade, version=raw)
        ]
    return [unknown(target.arn, f"could not tell: DescribeCluster gave version {raw!r}")]


@check(
    "eks.vpc",
    "The EKS cluster is in the VPC of the HyperPod subnets",
    Severity.CRITICAL,
    needs=cluster_needs(
        also=lambda spec, plan: [need("subnets", spec.all_subnets)] if spec.all_subnets else []
    ),
)
def vpc(ctx: CheckContext) -> list[Outcome]:
    """Each HyperPod subnet is in the EKS cluster's VPC (resourcesVpcConfig.vpcId)."""
    out: list[Outcome] = []
    found = described_cluster(ctx, out)
    if found is None:
        return out
    target, described = found
    cluster_vpc = vpc_config(described).get("vpcId")
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [skipped(target.arn, "the config names no subnets (VpcConfig.Subnets)")]
    if not cluster_vpc:
        return [
            unknown(
                target.arn,
                "could not tell: DescribeCluster gave no resourcesVpcConfig.vpcId",
                f"Compare by hand: `aws eks describe-cluster --name {target.name} --query "
                "cluster.resourcesVpcConfig.vpcId`.",
            )
        ]
    subnets = ctx.aws.subnets(subnet_ids)
    for subnet_id in subnet_ids:
        subnet = subnets.get(subnet_id)
        if subnet is None:
            out.append(skipped(subnet_id, "the subnet does not exist (see network.subnet-exists)"))
        elif not subnet.get("VpcId"):
            out.append(
                unknown(subnet_id, f"could not tell: DescribeSubnets gave no VpcId for {subnet_id}")
            )
        elif subnet["VpcId"] == cluster_vpc:
            out.append(passed(subnet_id, f"{subnet_id} is in the EKS cluster's VPC {cluster_vpc}"))
        else:
            out.append(
                failed(
                    subnet_id,
                    f"{subnet_id} is in {subnet['VpcId']} but EKS cluster {target.name} is in "
                    f"{cluster_vpc}: HyperPod nodes must join the EKS cluster's VPC.",
                    f"Use subnets of {cluster_vpc} in VpcConfig.Subnets: `aws ec2 "
                    f"describe-subnets --filters Name=vpc-id,Values={cluster_vpc}`.",
                    subnet_vpc=subnet["VpcId"],
                    cluster_vpc=cluster_vpc,
                )
            )
    return out


@check(
    "eks.authentication-mode",
    "The EKS cluster's authentication mode includes access entries (API)",
    Severity.CRITICAL,
    needs=READS,
)
def authentication_mode(ctx: CheckContext) -> list[Outcome]:
    """accessConfig.authenticationMode is API or API_AND_CONFIG_MAP; CONFIG_MAP is a FAIL."""
    out: list[Outcome] = []
    found = described_cluster(ctx, out)
    if found is None:
        return out
    target, described = found
    mode = (described.get("accessConfig") or {}).get("authenticationMode")
    if not mode:
        return [
            unknown(
                target.arn,
                "could not tell: DescribeCluster gave no accessConfig.authenticationMode",
                f"Check by hand: `aws eks describe-cluster --name {target.name} --query "
                "cluster.accessConfig`.",
            )
        ]
    if mode in SUPPORTED_AUTHENTICATION_MODES:
        return [
            passed(target.arn, f"authentication mode {mode} is supported by HyperPod", mode=mode)
        ]
    return [
        failed(
            target.arn,
            f"authentication mode {mode}: HyperPod needs access entries "
            f"({' or '.join(SUPPORTED_AUTHENTICATION_MODES)}) to let its nodes join.",
            command(
                "aws",
                "eks",
                "update-cluster-config",
                "--name",
                target.name,
                "--region",
                ctx.aws.region,
                "--access-config",
                "authenticationMode=API_AND_CONFIG_MAP",
            )
            + "  (a one-way change: it cannot go back to CONFIG_MAP)",
            mode=mode,
        )
    ]


@check(
    "eks.vpc-cni-version",
    "The vpc-cni add-on is at least 1.18.3",
    Severity.CRITICAL,
    needs=cluster_needs(lambda ctx, target, cluster: [need("eks_addon", target.name, "vpc-cni")]),
)
def vpc_cni_version(ctx: CheckContext) -> list[Outcome]:
    """The vpc-cni EKS add-on is 1.18.3 or later; self-managed CNI is UNKNOWN with how to check."""
    out: list[Outcome] = []
    found = described_cluster(ctx, out)
    if found is None:
        return out
    target, _ = found
    resource = f"{target.name}/vpc-cni"
    addon = ctx.aws.eks_addon(target.name, "vpc-cni")
    how_to_check = (
        "Check the image tag of the self-managed plugin: `kubectl describe daemonset aws-node "
        "-n kube-system | grep amazon-k8s-cni:`, or install the add-on: `aws eks create-addon "
        f"--cluster-name {target.name} --addon-name vpc-cni --region {ctx.aws.region}`."
    )
    if addon is None:
        return [
            unknown(
                resource,
                "could not tell: vpc-cni is not installed as an EKS add-on (a self-managed "
                "Amazon VPC CNI, if any, cannot be read through the EKS API)",
                how_to_check,
            )
        ]
    raw = str(addon.get("addonVersion", ""))
    version = patch_version(raw)
    if version is None:
        return [
            unknown(resource, f"could not tell: DescribeAddon gave version {raw!r}", how_to_check)
        ]
    minimum = dotted(MIN_VPC_CNI)
    if version >= MIN_VPC_CNI:
        return [passed(resource, f"vpc-cni {raw} (>= {minimum})", version=raw)]
    return [
        failed(
            resource,
            f"vpc-cni {raw} is older than {minimum}, which HyperPod requires.",
            command(
                "aws",
                "eks",
                "describe-addon-versions",
                "--addon-name",
                "vpc-cni",
                "--kubernetes-version",
                described_version(ctx, target.name),
                "--query",
                "addons[].addonVersions[].addonVersion",
            )
            + "; then "
            + command(
                "aws",
                "eks",
                "update-addon",
                "--cluster-name",
                target.name,
                "--addon-name",
                "vpc-cni",
                "--addon-version",
                "VERSION",
                "--region",
                ctx.aws.region,
            ),
            version=raw,
        )
    ]


def described_version(ctx: CheckContext, name: str) -> str:
    described = ctx.aws.eks_cluster(name) or {}
    return str(described.get("version", "CLUSTER_VERSION"))
