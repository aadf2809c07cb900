"""IAM checks (area ``iam``): the roles a cluster config names exist, trust the HyperPod
service principal, have policies (managed, inline and their permissions boundary) allowing
what HyperPod needs, have room for one more managed policy; and the identity running
``create-cluster`` may create the cluster.

Reads go through ``ctx.aws`` once per role named, never per instance group; a role in
another account than the credentials, or a policy that cannot be read, is UNKNOWN.
Importing the package registers every IAM check.
"""

from . import caller, kms, permissions, roles

__all__ = ["caller", "kms", "permissions", "roles"]
