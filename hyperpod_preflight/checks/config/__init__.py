"""Config checks: what can be judged from the cluster config alone, without AWS access.

Each check returns one outcome per resource it judges (an instance group, an ARN, a bucket);
every FAIL and WARN names the JSON path to change. A spec built from flags may leave things
out on purpose (``--vpc`` alone has no groups): what is not given is SKIPped, not failed.

One module per subject (importing this package registers every check):

- :mod:`.schema`: ``config.schema``;
- :mod:`.groups`: ``config.unique-group-names``, ``config.controller-group``,
  ``config.instance-count-limit``;
- :mod:`.lifecycle`: ``config.lifecycle-config``, ``config.lifecycle-bucket-name``;
- :mod:`.roles`: ``config.execution-role-arn``;
- :mod:`.eks`: ``config.eks-vpc-config``;
- :mod:`.instance_types`: ``config.threads-per-core``, ``config.efa-single-subnet-az``,
  ``config.instance-types-sized``.
"""

from __future__ import annotations

from . import eks, groups, instance_types, lifecycle, roles, schema

__all__ = ["eks", "groups", "instance_types", "lifecycle", "roles", "schema"]
