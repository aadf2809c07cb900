"""The HyperPod dependencies Helm chart on the EKS cluster, read through the Kubernetes API
(optional: the ``[kube]`` extra and ``--kube-context``). Read-only: lists, never changes."""

from __future__ import annotations

from ...analysis.eks import (
    CHART_COMPONENTS,
    HELM_CHART_DOCS,
    HELM_INSTALL,
    component_present,
)
from ...errors import FactUnavailable
from ...planner import ClusterPlan
from ...registry import CheckContext, Need, check, need
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...spec import ClusterSpec
from ._common import eks_target


def _needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Need]:
    """The Kubernetes listing, for an EKS config."""
    return [need("kube_snapshot")] if spec.orchestrator == "eks" else []


ENABLE = (
    "pip install 'hyperpod-preflight[kube]' and pass --kube-context CONTEXT (a context of your "
    "kubeconfig for this EKS cluster: `aws eks update-kubeconfig --name NAME`)"
)


@check(
    "eks.hyperpod-dependencies",
    "The HyperPod dependencies Helm chart is installed on the EKS cluster",
    Severity.CRITICAL,
    needs_aws=False,
    needs=lambda spec, plan: _needs(spec, plan),
)
def hyperpod_dependencies(ctx: CheckContext) -> list[Outcome]:
    """The chart's agent DaemonSet and operator CRDs exist (needs --kube-context and [kube])."""
    target = eks_target(ctx)
    if isinstance(target, Outcome):
        return [target]
    try:
        snapshot = ctx.aws.kube_snapshot()
    except FactUnavailable as exc:
        return [unknown(target.arn, f"could not tell: {exc.describe()}", ENABLE)]
    if isinstance(snapshot, str):  # why nothing was read
        return [skipped(target.arn, f"{snapshot}: {ENABLE}")]
    out: list[Outcome] = []
    for component in CHART_COMPONENTS:
        where = f"{component.kind}/{component.name}"
        if component.namespace:
            where = f"{component.kind}/{component.namespace}/{component.name}"
        present = component_present(component, snapshot)
        if present is None:
            reason = (
                snapshot.crds_error
                if component.kind == "CustomResourceDefinition"
                else snapshot.daemonsets_error
            )
            out.append(unknown(where, f"could not tell: {reason}"))
        elif present:
            out.append(passed(where, f"{component.label} is installed"))
        elif component.required:
            out.append(
                failed(
                    where,
                    f"{component.label} is missing: the HyperPod dependencies chart is not "
                    "(fully) installed, and AWS requires it before creating the cluster "
                    f"({HELM_CHART_DOCS})",
                    HELM_INSTALL,
                )
            )
        else:
            out.append(
                warned(
                    where,
                    f"{component.label} was not found (the chart installs it; another install "
                    "may provide it under another name)",
                    HELM_INSTALL,
                )
            )
    return out
