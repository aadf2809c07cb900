"""Network checks (area ``network``): the VPC, its subnets, route tables, egress, the S3
gateway endpoint and the security groups a cluster config names, judged against what
HyperPod needs to create nodes and pass its EFA and lifecycle health checks.

Every check reads through ``ctx.aws`` (batched, memoized readers) and returns one outcome
per resource; a check never FAILs because it could not read something.

Each module registers its checks when imported; the registry imports a module when one of
its checks is selected (``registry.known_checks``, ``registry.get``), so this package
imports none of them.
"""

from ._common import BASE_INTERFACE_SERVICES, EFA_FAILURE, LIFECYCLE_FAILURE

__all__ = ["BASE_INTERFACE_SERVICES", "EFA_FAILURE", "LIFECYCLE_FAILURE"]
