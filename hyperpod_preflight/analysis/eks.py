"""What HyperPod needs of an EKS cluster, as data with its sources, and the pure judgements
the ``eks`` checks share: Kubernetes and add-on versions, caller ARNs, kubectl skew.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..records import KubeSnapshot

# -- data with sources ----------------------------------------------------------------------
# "SageMaker HyperPod supports Kubernetes versions 1.28, 1.29, 1.30, 1.31, 1.32, 1.33 and 1.34"
# (read 2026-12; older copies of the page list fewer: the list only ever grew).
KUBERNETES_VERSIONS_SOURCE = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-eks-prerequisites.html"
)
KUBERNETES_VERSIONS_READ = "2026-12"
SUPPORTED_KUBERNETES_VERSIONS: tuple[tuple[int, int], ...] = tuple((1, m) for m in range(28, 35))
# Same page: "The authentication mode ... supported by SageMaker HyperPod are API and
# API_AND_CONFIG_MAP"; "requires the Amazon VPC CNI plugin version 1.18.3 or later".
SUPPORTED_AUTHENTICATION_MODES = ("API", "API_AND_CONFIG_MAP")
MIN_VPC_CNI = (1, 18, 3)

_VERSION_RE = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def minor_version(text: str | None) -> tuple[int, int] | None:
    """``"1.31"`` / ``"v1.31.2-eks-abc"`` → ``(1, 31)``; None when it is no version."""
    match = _VERSION_RE.match((text or "").strip())
    return (int(match[1]), int(match[2])) if match else None


def patch_version(text: str | None) -> tuple[int, int, int] | None:
    """``"v1.18.3-eksbuild.1"`` → ``(1, 18, 3)`` (a missing patch reads as 0)."""
    match = _VERSION_RE.match((text or "").strip())
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in version)


@dataclass(frozen=True)
class KubernetesSupport:
    """How a cluster's Kubernetes version stands against HyperPod's list."""

    verdict: str  # "supported", "newer" (than the list), "older", "unparseable"
    version: tuple[int, int] | None


def kubernetes_support(version: str | None) -> KubernetesSupport:
    parsed = minor_version(version)
    if parsed is None:
        return KubernetesSupport("unparseable", None)
    if parsed in SUPPORTED_KUBERNETES_VERSIONS:
        return KubernetesSupport("supported", parsed)
    if parsed > max(SUPPORTED_KUBERNETES_VERSIONS):
        return KubernetesSupport("newer", parsed)
    return KubernetesSupport("older", parsed)


def supported_range() -> str:
    return (
        f"{dotted(min(SUPPORTED_KUBERNETES_VERSIONS))}–{dotted(max(SUPPORTED_KUBERNETES_VERSIONS))}"
    )


def kubectl_skew_ok(client: tuple[int, int], server: tuple[int, int]) -> bool:
    """kubectl is supported within one minor version (older or newer) of the API server."""
    return client[0] == server[0] and abs(client[1] - server[1]) <= 1


# -- principals ------------------------------------------------------------------------------
_ARN_RE = re.compile(
    r"^arn:(?P<partition>[\w-]+):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<resource>.+)$"
)


@dataclass(frozen=True)
class Principal:
    """An IAM principal as EKS access entries name it: ``role``, ``user`` or ``root``."""

    partition: str
    account: str
    kind: str
    name: str
    path: str = "/"

    @property
    def arn(self) -> str:
        if self.kind == "root":
            return f"arn:{self.partition}:iam::{self.account}:root"
        return f"arn:{self.partition}:iam::{self.account}:{self.kind}{self.path}{self.name}"

    def same_as(self, other: Principal) -> bool:
        """Same principal; a role's path is ignored, since an assumed-role session ARN does
        not carry it."""
        return (self.partition, self.account, self.kind, self.name) == (
            other.partition,
            other.account,
            other.kind,
            other.name,
        )


def principal(arn: str) -> Principal | None:
    """The IAM principal behind ``arn``: an ``assumed-role/NAME/SESSION`` ARN becomes role
    NAME (path unknown); None for what access entries cannot name (federated users …)."""
    match = _ARN_RE.match(arn.strip())
    if not match:
        return None
    partition, service, account, resource = (
        match["partition"],
        match["service"],
        match["account"],
        match["resource"],
    )
    if service == "sts":
        parts = resource.split("/")
        if parts[0] == "assumed-role" and len(parts) >= 3:
            return Principal(partition, account, "role", parts[1])
        return None
    if resource == "root":
        return Principal(partition, account, "root", "")
    kind, _, rest = resource.partition("/")
    if kind not in ("role", "user") or not rest:
        return None
    path, _, name = rest.rpartition("/")
    return Principal(partition, account, kind, name, f"/{path}/" if path else "/")


# -- the HyperPod dependencies Helm chart ------------------------------------------------------
# AWS: "This Helm installation step is required" before creating the HyperPod cluster
# (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-eks-install-packages-using-helm-chart.html).
# The chart is helm_chart/HyperPodHelmChart of https://github.com/aws/sagemaker-hyperpod-cli;
# its sub-charts name the objects below (the agent's namespace `aws-hyperpod` cannot change).
HELM_CHART_DOCS = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/"
    "sagemaker-hyperpod-eks-install-packages-using-helm-chart.html"
)
HELM_INSTALL = (
    "git clone https://github.com/aws/sagemaker-hyperpod-cli.git && cd "
    "sagemaker-hyperpod-cli/helm_chart && helm dependencies update HyperPodHelmChart && "
    "helm install hyperpod-dependencies HyperPodHelmChart --namespace kube-system"
)


@dataclass(frozen=True)
class ChartComponent:
    """One object the chart installs: a DaemonSet (``namespace`` exact, ``name`` exact or,
    with ``name_contains``, a substring, since the release name prefixes it) or a CRD."""

    label: str
    kind: str  # "DaemonSet" or "CustomResourceDefinition"
    name: str
    namespace: str | None = None
    name_contains: bool = False
    required: bool = True  # False: another install may provide it (WARN, not FAIL)


# HELM_CHART_DOCS: "Helm installation sets up various components for your Amazon EKS cluster,
# including job scheduling and queueing (Kueue), storage management, MLflow integration, and
# Kubeflow. Additionally, the charts install the following components for integrating with
# the SageMaker HyperPod cluster resiliency features, which are required components: Health
# Monitoring Agent ...". Only the resiliency components are called required; the Kubeflow
# operators are job tooling the chart also installs (WARN when absent).
CHART_COMPONENTS: tuple[ChartComponent, ...] = (
    ChartComponent(
        "health monitoring agent", "DaemonSet", "health-monitoring-agent", "aws-hyperpod"
    ),
    ChartComponent(
        "training operator (PyTorchJob CRD)",
        "CustomResourceDefinition",
        "pytorchjobs.kubeflow.org",
        required=False,
    ),
    ChartComponent(
        "MPI operator (MPIJob CRD)",
        "CustomResourceDefinition",
        "mpijobs.kubeflow.org",
        required=False,
    ),
    ChartComponent(
        "NVIDIA device plugin",
        "DaemonSet",
        "nvidia-device-plugin",
        name_contains=True,
        required=False,
    ),
    ChartComponent(
        "EFA device plugin",
        "DaemonSet",
        "aws-efa-k8s-device-plugin",
        name_contains=True,
        required=False,
    ),
)


def component_present(component: ChartComponent, snapshot: KubeSnapshot) -> bool | None:
    """True/False, or None when the listing it lives in could not be read."""
    if component.kind == "CustomResourceDefinition":
        return None if snapshot.crds is None else component.name in snapshot.crds
    if snapshot.daemonsets is None:
        return None
    for namespace, name in snapshot.daemonsets:
        if component.namespace is not None and namespace != component.namespace:
            continue
        if name == component.name or (component.name_contains and component.name in name):
            return True
    return False
