"""Lifecycle bucket checks (area ``s3``): the bucket(s) of the groups'
``LifeCycleConfig.SourceS3Uri`` exist, sit in the cluster's region, are readable by the
execution roles, are not public, and hold every file the config names.

Every check reads through ``ctx.aws`` (one read set per distinct bucket, one ``HeadObject``
per distinct object) and returns one outcome per bucket or object; a read that is denied is
UNKNOWN for that bucket or object, never a FAIL. Importing the package registers them.
"""

from . import access, bucket, objects, public

__all__ = ["access", "bucket", "objects", "public"]
