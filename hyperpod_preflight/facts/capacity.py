"""Readers for capacity facts: instance-type offerings per AZ id and training plans (mixin of
:class:`~hyperpod_preflight.facts.AwsFacts`)."""

from __future__ import annotations

from .core import FactsCore


class CapacityFacts(FactsCore):
    """Capacity readers: memoized, asking only for what the spec names."""
