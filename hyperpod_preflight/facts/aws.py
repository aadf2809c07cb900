"""Every AWS reader of one run: :class:`AwsFacts` combines the reader mixins of each
service on one shared core (session, clients, memo, error mapping). It imports boto3."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import suppress

from ..workers import DaemonPool
from .capacity import CapacityFacts
from .cluster import LiveClusterFacts
from .core import FactsCore, memoized
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
    LiveClusterFacts,
    FactsCore,
):
    """Every AWS reader of one run."""

    @memoized
    def warm_sagemaker_quota_reads(self, *lookups: tuple[str, ...]) -> None:
        """Read the SageMaker quotas and the HyperPod usage at the same time, so that a
        quota judgement waits for the longest chain (``ListClusters`` then
        ``DescribeCluster``; the listings' sequential pages, or one round trip per quota
        with a cached code), not for their sum.

        ``lookups``: the ``(name, *aliases)`` the caller will ask :meth:`sagemaker_quota`
        for, each read at once (by cached code, else through the listings). Without them
        the listings are read unless the code cache holds SageMaker codes (then each
        quota is read by its code when asked for).

        Results and failures land in the readers' memo, where the checks find them; this
        returns nothing and raises nothing a reader would not raise again. Cost: the usage
        is read even when the quotas turn out unreadable (1 + one ``DescribeCluster`` per
        existing cluster), which a sequential reader would have skipped.
        """
        jobs: list[Callable[[], object]] = [self.hyperpod_usage]
        jobs += [functools.partial(self.sagemaker_quota, *names) for names in lookups]
        if not lookups and not self.cached_quota_codes(SAGEMAKER):
            jobs.append(functools.partial(self.quota_listings, SAGEMAKER))
        with DaemonPool(len(jobs) - 1, name="sagemaker-quotas") as pool:
            waits = [pool.submit(job).result for job in jobs[1:]]
            # Failures are memoized: the reader raises them again to its own caller.
            for wait in (jobs[0], *waits):
                with suppress(Exception):
                    wait()
