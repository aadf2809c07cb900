"""Lifecycle bucket checks (area ``s3``): the bucket(s) of the groups'
``LifeCycleConfig.SourceS3Uri`` exist, sit in the cluster's region, are readable by the
execution roles, are not public, and hold every file the config names.

Every check reads through ``ctx.aws`` (one read set per distinct bucket, one ``HeadObject``
per distinct object) and returns one outcome per bucket or object; a read that is denied is
UNKNOWN for that bucket or object, never a FAIL.

Each module registers its checks when imported; the registry imports a module when one of
its checks is selected (``registry.known_checks``, ``registry.get``), so this package
imports none of them.
"""
