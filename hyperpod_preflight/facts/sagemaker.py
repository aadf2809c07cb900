"""Readers for sagemaker facts (mixin of :class:`~hyperpod_preflight.facts.AwsFacts`)."""

from __future__ import annotations

from .core import FactsCore


class SageMakerFacts(FactsCore):
    """sagemaker readers: memoized, asking only for what the spec names."""
