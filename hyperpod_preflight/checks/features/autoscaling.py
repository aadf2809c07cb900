"""``config.autoscaling``: a config that turns on HyperPod's managed (Karpenter) autoscaling
meets its documented prerequisites, and ``NodeProvisioningMode`` is used where it exists.

From AWS docs "Autoscaling on SageMaker HyperPod EKS"
(https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-eks-autoscaling.html) and
the CreateCluster reference: autoscaling is for EKS-orchestrated clusters, needs
``NodeProvisioningMode: Continuous`` (itself "only supported for EKS orchestrated clusters")
and ``NodeRecovery: Automatic``, and ``ClusterRole`` names the role HyperPod assumes to call
``sagemaker:BatchAddClusterNodes``/``BatchDeleteClusterNodes``. What that role may do is an
IAM question: it is judged with the other roles by the iam checks.
"""

from __future__ import annotations

from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, skipped

DOCS = "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-eks-autoscaling.html"


def autoscaling_problems(config: dict[str, object], orchestrator: str) -> list[tuple[str, str]]:
    """(problem, fix) of the cluster-level autoscaling settings of a config."""
    out: list[tuple[str, str]] = []
    mode = config.get("NodeProvisioningMode")
    if mode is not None and orchestrator != "eks":
        out.append(
            (
                f"NodeProvisioningMode {mode} is only supported for EKS-orchestrated clusters",
                "remove NodeProvisioningMode from a Slurm config",
            )
        )
    scaling = config.get("AutoScaling")
    if not isinstance(scaling, dict) or scaling.get("Mode") != "Enable":
        return out
    if orchestrator != "eks":
        out.append(
            (
                "AutoScaling is enabled on a Slurm cluster: HyperPod autoscaling is for EKS "
                "orchestration",
                'remove AutoScaling, or set "AutoScaling": {"Mode": "Disable"}',
            )
        )
    if mode != "Continuous":
        out.append(
            (
                "AutoScaling needs continuous provisioning, and NodeProvisioningMode is "
                f"{mode or 'not set'}",
                'set "NodeProvisioningMode": "Continuous"',
            )
        )
    if config.get("NodeRecovery") != "Automatic":
        out.append(
            (
                f"AutoScaling needs NodeRecovery Automatic, and it is "
                f"{config.get('NodeRecovery') or 'not set'}",
                'set "NodeRecovery": "Automatic"',
            )
        )
    if not config.get("ClusterRole"):
        out.append(
            (
                "AutoScaling is enabled without a ClusterRole for HyperPod to add and remove "
                "nodes with",
                'set "ClusterRole" to a role trusting hyperpod.sagemaker.amazonaws.com that '
                "allows sagemaker:BatchAddClusterNodes and sagemaker:BatchDeleteClusterNodes",
            )
        )
    return out


@check(
    "config.autoscaling",
    "AutoScaling meets its prerequisites (EKS, Continuous provisioning, Automatic recovery, role)",
    Severity.CRITICAL,
    needs_aws=False,
)
def autoscaling(ctx: CheckContext) -> list[Outcome]:
    """Autoscaling is EKS-only, with Continuous provisioning, Automatic recovery and a role."""
    config = ctx.spec.raw
    if not config.get("AutoScaling") and not config.get("NodeProvisioningMode"):
        return [skipped("-", "the config sets neither AutoScaling nor NodeProvisioningMode")]
    problems = autoscaling_problems(config, ctx.spec.orchestrator)
    if problems:
        return [
            failed(
                ctx.spec.name,
                "; ".join(p for p, _ in problems) + f" (see {DOCS})",
                "; ".join(f for _, f in problems),
            )
        ]
    scaling = config.get("AutoScaling") or {}
    enabled = isinstance(scaling, dict) and scaling.get("Mode") == "Enable"
    return [
        passed(
            ctx.spec.name,
            "autoscaling prerequisites met (EKS, Continuous, Automatic recovery, ClusterRole)"
            if enabled
            else f"NodeProvisioningMode {config.get('NodeProvisioningMode')} on EKS; "
            "autoscaling not enabled",
        )
    ]
