"""The HyperPod dependencies Helm chart on the EKS cluster, read through the Kubernetes API
(optional: the ``[kube]`` extra and ``--kube-context``). Read-only: lists, never changes."""

from __future__ import annotations

from ... import kube_facts
from ...analysis.eks import (
    CHART_COMPONENTS,
    HELM_CHART_DOCS,
    HELM_INSTALL,
    KubeSnapshot,
    component_present,
)
from ...models import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...registry import CheckContext, check
from ._common import eks_target

ENABLE = (
    "pip install 'hyperpod-preflight[kube]' and pass --kube-context CONTEXT (a context of your "
    "kubeconfig for this EKS cluster: `aws eks update-kubeconfig --name NAME`)"
)


@check(
    "eks.hyperpod-dependencies",
    "The HyperPod dependencies Helm chart is installed on the EKS cluster",
    Severity.CRITICAL,
    needs_aws=False,
)
def hyperpod_dependencies(ctx: CheckContext) -> list[Outcome]:
    """The chart's agent DaemonSet and operator CRDs exist (needs --kube-context and [kube])."""
    target = eks_target(ctx)
    if isinstance(target, Outcome):
        return [target]
    snapshot = ctx.options.get("kube_snapshot")
    if not isinstance(snapshot, KubeSnapshot):
        context = ctx.options.get("kube_context")
        if not context:
            return [skipped(target.arn, f"not read without --kube-context: {ENABLE}")]
        if not kube_facts.client_installed():
            return [skipped(target.arn, f"the kubernetes client is not installed: {ENABLE}")]
        try:
            snapshot = kube_facts.read_snapshot(str(context), ctx.options.get("kubeconfig"))
        except kube_facts.KubeUnavailable as exc:
            return [unknown(target.arn, f"could not tell: {exc}", ENABLE)]
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
