"""Network checks (area ``network``): the VPC, its subnets, route tables, egress, the S3
gateway endpoint and the security groups a cluster config names, judged against what
HyperPod needs to create nodes and pass its EFA and lifecycle health checks.

Every check reads through ``ctx.aws`` (batched, memoized readers) and returns one outcome
per resource; a check never FAILs because it could not read something. Each subject is
its own module; importing the package registers every network check.
"""

from . import egress, placement, security_groups, subnets, vpc
from ._common import BASE_INTERFACE_SERVICES, EFA_FAILURE, LIFECYCLE_FAILURE

__all__ = [
    "BASE_INTERFACE_SERVICES",
    "EFA_FAILURE",
    "LIFECYCLE_FAILURE",
    "egress",
    "placement",
    "security_groups",
    "subnets",
    "vpc",
]
