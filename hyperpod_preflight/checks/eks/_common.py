"""What the EKS checks share: the cluster the config names (parsed from its ARN, then read
once), and the outcomes for a config that names none (no check is registered here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...planner import ClusterPlan
from ...registry import CheckContext, NeedsFn, Request, Then, need
from ...results import Outcome, skipped
from ...spec import ClusterSpec
from ...spec.forms import EKS_CLUSTER_ARN_RE


@dataclass(frozen=True)
class EksTarget:
    """``Orchestrator.Eks.ClusterArn``, taken apart."""

    arn: str
    partition: str
    region: str
    account: str
    name: str


def eks_target(ctx: CheckContext) -> EksTarget | Outcome:
    """The EKS cluster the config names, or the SKIP that says why there is none."""
    if ctx.spec.orchestrator != "eks":
        return skipped("-", "not an EKS config (Orchestrator.Slurm): nothing to check")
    arn = ctx.spec.eks_cluster_arn or ""
    match = EKS_CLUSTER_ARN_RE.fullmatch(arn)
    if match is None:
        return skipped(
            arn or "-",
            "Orchestrator.Eks.ClusterArn is missing or not an EKS cluster ARN (see config.schema)",
        )
    return EksTarget(arn, match["partition"], match["region"], match["account"], match["name"])


def caller_account(ctx: CheckContext) -> str:
    """The account of the credentials in use (read once per run)."""
    return ctx.aws.account or ctx.aws.caller_identity()["Account"]


def described_cluster(
    ctx: CheckContext, out: list[Outcome]
) -> tuple[EksTarget, dict[str, Any]] | None:
    """The named cluster and its ``DescribeCluster`` answer when it can be judged; else the
    SKIP that points at ``eks.cluster`` is appended to ``out``."""
    target = eks_target(ctx)
    if isinstance(target, Outcome):
        out.append(target)
        return None
    if target.region != ctx.aws.region or target.account != caller_account(ctx):
        out.append(
            skipped(
                target.arn,
                "the EKS cluster is not in this run's region and account (see eks.cluster)",
            )
        )
        return None
    cluster = ctx.aws.eks_cluster(target.name)
    if cluster is None:
        out.append(skipped(target.arn, "the EKS cluster does not exist (see eks.cluster)"))
        return None
    return target, cluster


After = Callable[[CheckContext, EksTarget, dict[str, Any]], list[Request]]


def cluster_needs(after: After | None = None, *, also: NeedsFn | None = None) -> NeedsFn:
    """The needs of an EKS check: the caller's account, then ``DescribeCluster`` of the
    named cluster when it is in this run's region and account, then what ``after`` asks
    for about the described cluster; ``also``: needs that do not depend on it."""

    def needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
        if spec.orchestrator != "eks":
            return []
        extra = list(also(spec, plan)) if also is not None else []
        return [need("identity_arn"), Then(cluster), *extra]

    def cluster(ctx: CheckContext) -> list[Request]:
        target = eks_target(ctx)
        if isinstance(target, Outcome):
            return []
        if target.region != ctx.aws.region or target.account != caller_account(ctx):
            return []
        return [need("eks_cluster", target.name), *([Then(described)] if after else [])]

    def described(ctx: CheckContext) -> list[Request]:
        found = described_cluster(ctx, [])
        return after(ctx, *found) if found is not None and after is not None else []

    return needs


def vpc_config(cluster: dict[str, Any]) -> dict[str, Any]:
    return dict(cluster.get("resourcesVpcConfig") or {})
