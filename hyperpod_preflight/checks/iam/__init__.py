"""IAM checks (area ``iam``): the roles a cluster config names exist, trust the HyperPod
service principal, have policies (managed, inline and their permissions boundary) allowing
what HyperPod needs, have room for one more managed policy; and the identity running
``create-cluster`` may create the cluster.

Reads go through ``ctx.aws`` once per role named, never per instance group; a role in
another account than the credentials, or a policy that cannot be read, is UNKNOWN.


Each module registers its checks when imported; the registry imports a module when one of
its checks is selected (``registry.known_checks``, ``registry.get``), so this package
imports none of them.
"""
