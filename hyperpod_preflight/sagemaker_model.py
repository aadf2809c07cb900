"""The installed botocore's SageMaker service model: the one authority on what CreateCluster
accepts and which instance types HyperPod knows (``ClusterInstanceType``).

It is read with botocore's own data loader, never through a botocore or boto3 ``Session``: a
session reads the user's AWS config files, and commands that need no AWS (``plan``, config
validation) must work with a broken ``~/.aws/config`` or an unknown ``AWS_PROFILE``. Only
``AWS_DATA_PATH`` (extra model directories, an environment variable) is honoured, as botocore
itself does.

A leaf module: both :mod:`.spec` and :mod:`.catalog` import it, so neither imports the other
to reach the model. botocore is imported on first use: ``hp-preflight --help`` must not pay.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any


@cache
def sagemaker_service_model() -> Any:
    """botocore's SageMaker ``ServiceModel`` (loaded once per process)."""
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    loader = create_loader(os.environ.get("AWS_DATA_PATH"))
    description = loader.load_service_model("sagemaker", "service-2")
    return ServiceModel(description, service_name="sagemaker")
