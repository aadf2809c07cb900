"""Readers for quotas facts (mixin of :class:`~hyperpod_preflight.facts.AwsFacts`)."""

from __future__ import annotations

from .core import FactsCore


class QuotaFacts(FactsCore):
    """quotas readers: memoized, asking only for what the spec names."""
