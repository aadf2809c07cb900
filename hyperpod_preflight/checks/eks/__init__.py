"""EKS checks (area ``eks``): the EKS cluster a HyperPod EKS config attaches to, judged
against what HyperPod needs before ``create-cluster``: the cluster itself, its network path
from the HyperPod subnets, the caller's own access, and the dependencies Helm chart.

A Slurm config gets one SKIP per check. Every check reads through ``ctx.aws`` (except the
Helm chart one, which reads the Kubernetes API when asked to) and never FAILs on what it
could not read.
"""

from . import access, cluster, dependencies, network

__all__ = ["access", "cluster", "dependencies", "network"]
