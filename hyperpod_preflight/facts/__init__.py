"""AWS facts: the only package that calls boto3.

:class:`AwsFacts` combines the reader mixins of each service on one shared core (session,
clients, memo, error mapping). Import it lazily: it imports boto3.
"""

from __future__ import annotations

from .capacity import CapacityFacts
from .core import FactsCore, FactUnavailable, classify, memoized
from .ec2 import Ec2Facts
from .quotas import QuotaFacts
from .sagemaker import SageMakerFacts


class AwsFacts(Ec2Facts, CapacityFacts, QuotaFacts, SageMakerFacts, FactsCore):
    """Every AWS reader of one run."""


__all__ = ["AwsFacts", "FactUnavailable", "FactsCore", "classify", "memoized"]
