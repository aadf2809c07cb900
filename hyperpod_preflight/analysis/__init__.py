"""Pure analysis shared by several checks: functions over the facts layer's plain data
(route tables, security groups, IAM policy documents, lifecycle scripts) that return typed
results. Nothing here does I/O or imports ``facts``, boto3 or botocore."""
