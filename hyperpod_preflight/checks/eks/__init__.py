"""EKS checks (area ``eks``): the EKS cluster a HyperPod EKS config attaches to, judged
against what HyperPod needs before ``create-cluster``: the cluster itself, its network path
from the HyperPod subnets, the caller's own access, and the dependencies Helm chart.

A Slurm config gets one SKIP per check. Every check reads through ``ctx.aws`` (except the
Helm chart one, which reads the Kubernetes API when asked to) and never FAILs on what it
could not read.

Each module registers its checks when imported; the registry imports a module when one of
its checks is selected (``registry.known_checks``, ``registry.get``), so this package
imports none of them.
"""
