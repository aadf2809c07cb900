"""Whether the person running the pre-flight can use kubectl on the EKS cluster: an access
entry for their IAM role or user (not the ``assumed-role/…`` session) that grants something."""

from __future__ import annotations

from typing import Any

from ...analysis.eks import Principal, principal
from ...registry import CheckContext, Request, Then, check, need
from ...results import Outcome, Severity, passed, skipped, unknown, warned
from ...shell import command
from ._common import EksTarget, cluster_needs, described_cluster

ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def _commands(ctx: CheckContext, target: EksTarget, who: Principal, *, create: bool) -> str:
    region = ctx.aws.region
    steps = []
    if create:
        steps.append(
            command(
                "aws",
                "eks",
                "create-access-entry",
                "--cluster-name",
                target.name,
                "--principal-arn",
                who.arn,
                "--region",
                region,
            )
        )
    steps.append(
        command(
            "aws",
            "eks",
            "associate-access-policy",
            "--cluster-name",
            target.name,
            "--principal-arn",
            who.arn,
            "--policy-arn",
            ADMIN_POLICY,
            "--access-scope",
            "type=cluster",
            "--region",
            region,
        )
    )
    note = ""
    if who.kind == "role" and who.path == "/":
        note = (
            f"  (if role {who.name} has a path, use its full ARN: `aws iam get-role --role-name "
            f"{who.name} --query Role.Arn`)"
        )
    return "; ".join(steps) + note


def _entries_needs(
    ctx: CheckContext, target: EksTarget, described: dict[str, Any]
) -> list[Request]:
    """The access entries where the check lists them (the cluster uses access entries and the
    caller is a principal an entry can name), then the caller's entry and its policies."""
    if (described.get("accessConfig") or {}).get("authenticationMode") == "CONFIG_MAP":
        return []
    who = principal(ctx.aws.caller_identity()["Arn"])
    if who is None:
        return []

    def entry(ctx: CheckContext) -> list[Request]:
        entries = ctx.aws.eks_access_entries(target.name)
        match = next(
            (e for e in entries if (p := principal(e)) is not None and p.same_as(who)), None
        )
        if match is None:
            return []
        return [
            need("eks_access_entry", target.name, match),
            need("eks_access_policies", target.name, match),
        ]

    return [need("eks_access_entries", target.name), Then(entry)]


@check(
    "eks.caller-access",
    "You have an access entry on the EKS cluster (kubectl will work)",
    Severity.MEDIUM,
    needs=cluster_needs(lambda ctx, target, described: _entries_needs(ctx, target, described)),
)
def caller_access(ctx: CheckContext) -> list[Outcome]:
    """An access entry for the caller's role or user exists and grants something; else WARN."""
    out: list[Outcome] = []
    found = described_cluster(ctx, out)
    if found is None:
        return out
    target, described = found
    caller_arn = ctx.aws.caller_identity()["Arn"]
    who = principal(caller_arn)
    if who is None:
        return [
            unknown(
                caller_arn,
                f"could not tell: {caller_arn} is not an IAM role, user or root that an access "
                "entry can name",
                f"List the entries: `aws eks list-access-entries --cluster-name {target.name}`.",
            )
        ]
    mode = (described.get("accessConfig") or {}).get("authenticationMode")
    if mode == "CONFIG_MAP":
        return [
            skipped(
                who.arn,
                "the cluster uses only the aws-auth ConfigMap, which the EKS API cannot read "
                "(see eks.authentication-mode)",
            )
        ]
    entries = ctx.aws.eks_access_entries(target.name)
    match = next((e for e in entries if (p := principal(e)) is not None and p.same_as(who)), None)
    if match is None:
        also = (
            " unless the aws-auth ConfigMap maps it (API_AND_CONFIG_MAP)"
            if mode == "API_AND_CONFIG_MAP"
            else ""
        )
        return [
            warned(
                who.arn,
                f"{who.arn} has no access entry on EKS cluster {target.name}: kubectl, helm and "
                f"the HyperPod CLI will not work for you{also}. Cluster creation itself does not "
                "need it.",
                _commands(ctx, target, who, create=True),
                caller=caller_arn,
            )
        ]
    entry = ctx.aws.eks_access_entry(target.name, match) or {}
    policies = ctx.aws.eks_access_policies(target.name, match)
    groups = [str(g) for g in entry.get("kubernetesGroups", [])]
    if policies or groups:
        names = [str(p.get("policyArn", "")).rsplit("/", 1)[-1] for p in policies]
        granted = ", ".join([*names, *(f"group {g}" for g in groups)])
        return [passed(who.arn, f"access entry {match} grants {granted}", entry=match)]
    return [
        warned(
            who.arn,
            f"access entry {match} exists but has no access policy and no Kubernetes group: "
            "kubectl will be refused",
            _commands(ctx, target, who, create=False),
            entry=match,
        )
    ]
