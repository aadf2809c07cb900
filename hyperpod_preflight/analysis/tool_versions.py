"""The local command-line tools a HyperPod user needs, as data (who needs each, the minimum
version, how to install it), and pure parsers of each tool's own version output.

Sources: AWS CLI v2 install guide
(https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html), Session
Manager plugin
(https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html),
kubectl's version skew policy (https://kubernetes.io/releases/version-skew-policy/: "kubectl
is supported within one minor version (older or newer) of kube-apiserver"), Helm 3 (charts of
``apiVersion: v2``, which the HyperPod dependencies chart is), eksctl and the HyperPod CLI
(``pip install sagemaker-hyperpod``, command ``hyp``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

Version = tuple[int, ...]


_TRIPLE = re.compile(r"(?<![\w.])v?(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def _numbers(match: re.Match[str]) -> Version:
    return tuple(int(g) for g in match.groups() if g is not None)


def first_version(output: str) -> Version | None:
    """The first dotted version in ``output`` (``1.2.650.0``, ``v3.14.2+g…``, ``0.190.0``)."""
    match = _TRIPLE.search(output)
    return _numbers(match) if match else None


def parse_aws(output: str) -> Version | None:
    """``aws --version``: ``aws-cli/2.17.1 Python/3.11.8 Linux/…`` (v1 prints the same form,
    on stderr in old releases)."""
    match = re.search(r"aws-cli/(\d+)\.(\d+)\.(\d+)", output)
    return _numbers(match) if match else None


def parse_kubectl(output: str) -> Version | None:
    """``kubectl version --client -o json`` (``clientVersion.gitVersion``), falling back to
    the text forms (``Client Version: v1.31.2``, old ``GitVersion:"v1.20.4"``)."""
    try:
        data = json.loads(output)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("clientVersion"), dict):
        git = str(data["clientVersion"].get("gitVersion", ""))
        found = first_version(git)
        if found:
            return found
    match = re.search(r"Client Version:\s*(?:version\.Info\{.*?GitVersion:\")?v?([\d.]+)", output)
    return first_version(match[1]) if match else None


def parse_helm(output: str) -> Version | None:
    """``helm version --short``: ``v3.14.2+gc309b6f`` (Helm 2: ``Client: v2.16.1+g…``)."""
    return first_version(output)


@dataclass(frozen=True)
class ToolSpec:
    """One tool: how to ask its version, who needs it, the minimum and the install hint."""

    name: str
    args: tuple[str, ...]
    parse: Callable[[str], Version | None]
    needed_by: str  # "all" (every HyperPod user), "eks" (EKS only)
    required: bool
    install: str
    minimum: Version | None = None
    purpose: str = ""


# The HyperPod commands of the AWS CLI need v2; 2.17.1 is the minimum the project's issue
# names for them (not found stated on an AWS page when this was written: treat as advice).
AWS_CLI_MINIMUM: Version = (2, 17, 1)

TOOLS: dict[str, ToolSpec] = {
    t.name: t
    for t in (
        ToolSpec(
            "aws",
            ("--version",),
            parse_aws,
            "all",
            True,
            "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
            AWS_CLI_MINIMUM,
            "aws sagemaker create-cluster and the other HyperPod commands",
        ),
        ToolSpec(
            "session-manager-plugin",
            ("--version",),
            first_version,
            "all",
            True,
            "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
            "session-manager-working-with-install-plugin.html",
            None,
            "aws ssm start-session to the cluster's nodes",
        ),
        ToolSpec(
            "kubectl",
            ("version", "--client", "-o", "json"),
            parse_kubectl,
            "eks",
            True,
            "https://docs.aws.amazon.com/eks/latest/userguide/install-kubectl.html",
            None,
            "running and inspecting workloads on the EKS cluster",
        ),
        ToolSpec(
            "helm",
            ("version", "--short"),
            parse_helm,
            "eks",
            True,
            "https://helm.sh/docs/intro/install/",
            (3, 0, 0),
            "installing the HyperPod dependencies chart",
        ),
        ToolSpec(
            "eksctl",
            ("version",),
            first_version,
            "eks",
            False,
            "https://eksctl.io/installation/",
            None,
            "creating and managing EKS clusters (optional)",
        ),
        ToolSpec(
            "hyp",
            ("--version",),
            first_version,
            "eks",
            False,
            "pip install sagemaker-hyperpod",
            None,
            "the SageMaker HyperPod CLI for jobs on EKS clusters (optional)",
        ),
    )
}


def dotted(version: Version) -> str:
    return ".".join(str(p) for p in version)
