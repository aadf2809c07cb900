"""Readers for ec2 facts (mixin of :class:`~hyperpod_preflight.facts.AwsFacts`)."""

from __future__ import annotations

from .core import FactsCore


class Ec2Facts(FactsCore):
    """ec2 readers: memoized, asking only for what the spec names."""
