"""One check per local tool: the AWS CLI v2 and the Session Manager plugin for everyone;
kubectl (within one minor version of the cluster), Helm 3, and optionally eksctl and the
HyperPod CLI for EKS. Each runs the tool once for its version; nothing needs AWS."""

from __future__ import annotations

from ...analysis.eks import kubectl_skew_ok, minor_version
from ...analysis.tool_versions import dotted
from ...errors import FactUnavailable
from ...planner import ClusterPlan
from ...registry import CheckContext, Request, Then, check, need
from ...results import Outcome, Severity, failed, passed, unknown, warned
from ...spec import ClusterSpec
from ...spec.forms import EKS_CLUSTER_ARN_RE
from ._common import MajorFloor, judge_tool, read, tool_needs

AWS_CLI_V2 = MajorFloor(
    major=2,
    verdict=warned,
    what="is AWS CLI v1: the HyperPod commands and their options are maintained for v2",
    fix="Install v2 (it replaces v1 on PATH)",
)
HELM_3 = MajorFloor(
    major=3,
    verdict=failed,
    what="is Helm 2: the HyperPod dependencies chart (apiVersion v2) needs Helm 3",
    fix="Install Helm 3",
)


@check(
    "tools.aws-cli",
    "The AWS CLI v2 is installed",
    Severity.HIGH,
    needs_aws=False,
    needs=tool_needs("aws"),
)
def aws_cli(ctx: CheckContext) -> list[Outcome]:
    """aws is on PATH and is v2 (at least 2.17.1); v1 or an older v2 is a WARN."""
    return judge_tool(ctx, "aws", AWS_CLI_V2)


@check(
    "tools.session-manager-plugin",
    "The Session Manager plugin is installed (node access)",
    Severity.MEDIUM,
    needs_aws=False,
    needs=tool_needs("session-manager-plugin"),
)
def session_manager_plugin(ctx: CheckContext) -> list[Outcome]:
    """session-manager-plugin is on PATH (aws ssm start-session needs it)."""
    return judge_tool(ctx, "session-manager-plugin")


def _cluster_version(ctx: CheckContext) -> tuple[str | None, str]:
    """The EKS cluster's Kubernetes version and where it came from: ``--kubernetes-version``,
    else DescribeCluster when AWS is at hand (a read the eks checks make anyway)."""
    given = ctx.options.get("kubernetes_version")
    if given:
        return str(given), "--kubernetes-version"
    match = EKS_CLUSTER_ARN_RE.fullmatch(ctx.spec.eks_cluster_arn or "")
    if ctx.offline or match is None:
        return None, "offline" if ctx.offline else "no cluster ARN"
    if match["region"] != ctx.aws.region or (
        ctx.aws.account is not None and match["account"] != ctx.aws.account
    ):
        return None, "the cluster is not in this run's region and account"
    try:
        described = ctx.aws.eks_cluster(match["name"])
    except FactUnavailable as exc:
        return None, exc.describe()
    if described is None:
        return None, "the EKS cluster was not found (see eks.cluster)"
    if not described.get("version"):
        return None, "DescribeCluster gave no version"
    return str(described["version"]), f"EKS cluster {match['name']}"


def kubectl_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """kubectl's run, and DescribeCluster when the cluster is in this run's region and
    account and --kubernetes-version does not name the version."""
    match = EKS_CLUSTER_ARN_RE.fullmatch(spec.eks_cluster_arn or "")

    def cluster(ctx: CheckContext) -> list[Request]:
        if ctx.options.get("kubernetes_version") or ctx.offline or match is None:
            return []
        if match["region"] != ctx.aws.region:
            return []
        if ctx.aws.account is not None and match["account"] != ctx.aws.account:
            return []
        return [need("eks_cluster", match["name"])]

    return [*tool_needs("kubectl")(spec, plan), Then(cluster)]


@check(
    "tools.kubectl",
    "kubectl is installed, within one minor version of the cluster",
    Severity.HIGH,
    needs_aws=False,
    needs=kubectl_needs,
)
def kubectl(ctx: CheckContext) -> list[Outcome]:
    """kubectl is on PATH (EKS) and within one minor version of the cluster's Kubernetes."""
    spec, run, version, done = read(ctx, "kubectl")
    if done is not None:
        return [done]
    assert version is not None
    client = (version[0], version[1] if len(version) > 1 else 0)
    shown = dotted(version)
    cluster, source = _cluster_version(ctx)
    server = minor_version(cluster)
    if server is None and cluster is not None:
        return [
            unknown(
                "kubectl",
                f"could not tell: kubectl {shown} is installed, but the cluster's Kubernetes "
                f"version {cluster!r} ({source}) is not a version X.Y to judge its skew against",
                "Pass the cluster's version as X.Y: --kubernetes-version 1.31",
                version=shown,
            )
        ]
    if server is None:
        return [
            passed(
                "kubectl",
                f"kubectl {shown} at {run.path}; its skew against the cluster was not checked "
                f"({source}: pass --kubernetes-version or run with AWS access)",
                version=shown,
            )
        ]
    if kubectl_skew_ok(client, server):
        return [
            passed(
                "kubectl",
                f"kubectl {shown} is within one minor version of Kubernetes {cluster} ({source})",
                version=shown,
            )
        ]
    wanted = f"{server[0]}.{server[1]}"
    return [
        warned(
            "kubectl",
            f"kubectl {shown} is more than one minor version from Kubernetes {cluster} "
            f"({source}): kubectl supports one minor version of skew either way",
            f"Install kubectl {wanted}: {spec.install}",
            version=shown,
            cluster_version=cluster,
        )
    ]


@check(
    "tools.helm",
    "Helm 3 is installed (for the dependencies chart)",
    Severity.HIGH,
    needs_aws=False,
    needs=tool_needs("helm"),
)
def helm(ctx: CheckContext) -> list[Outcome]:
    """helm is on PATH (EKS) and is Helm 3 or later; Helm 2 cannot install the chart."""
    return judge_tool(ctx, "helm", HELM_3)


@check(
    "tools.eksctl",
    "eksctl is installed (optional)",
    Severity.LOW,
    needs_aws=False,
    needs=tool_needs("eksctl"),
)
def eksctl(ctx: CheckContext) -> list[Outcome]:
    """eksctl is on PATH (optional, EKS): missing is a WARN with the install hint."""
    return judge_tool(ctx, "eksctl")


@check(
    "tools.hyp",
    "The HyperPod CLI (hyp) is installed (optional)",
    Severity.LOW,
    needs_aws=False,
    needs=tool_needs("hyp"),
)
def hyp(ctx: CheckContext) -> list[Outcome]:
    """hyp, the SageMaker HyperPod CLI, is on PATH (optional, EKS): missing is a WARN."""
    return judge_tool(ctx, "hyp")
