"""AWS facts: the only package that calls boto3.

:class:`AwsFacts` combines the reader mixins of each service on one shared core (session,
clients, memo, error mapping). Import it lazily: it imports boto3.
"""

from __future__ import annotations

from contextlib import suppress

from ..errors import FactUnavailable
from ..workers import DaemonPool
from .capacity import CapacityFacts
from .core import FactsCore, classify, memoized
from .ec2 import Ec2Facts
from .eks import EksFacts
from .features import FeatureFacts
from .fsx import FsxFacts
from .iam import IamFacts
from .kms import KmsFacts
from .quotas import SAGEMAKER, QuotaFacts
from .s3 import S3Facts
from .sagemaker import SageMakerFacts


class AwsFacts(
    Ec2Facts,
    CapacityFacts,
    QuotaFacts,
    SageMakerFacts,
    S3Facts,
    IamFacts,
    FsxFacts,
    FeatureFacts,
    EksFacts,
    KmsFacts,
    FactsCore,
):
    """Every AWS reader of one run."""

    @memoized
    def warm_sagemaker_quota_reads(self) -> None:
        """Read both SageMaker quota listings and the HyperPod usage at the same time, so
        that a quota judgement waits for the longer of the two chains (the listings'
        sequential pages; ``ListClusters`` then ``DescribeCluster``), not for their sum.

        Results and failures land in the readers' memo, where the checks find them; this
        returns nothing and raises nothing a reader would not raise again. Cost: the usage
        is read even when the quota listings turn out unreadable (1 + one
        ``DescribeCluster`` per existing cluster), which a sequential reader would have
        skipped.
        """
        with DaemonPool(1, name="hyperpod-usage") as pool:
            usage = pool.submit(self.hyperpod_usage)
            # Failures are memoized: the reader raises them again to its own caller.
            for wait in (lambda: self.quota_listings(SAGEMAKER), usage.result):
                with suppress(Exception):
                    wait()


__all__ = ["AwsFacts", "FactUnavailable", "FactsCore", "classify", "memoized"]
