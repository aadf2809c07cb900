"""The facts of several regions behind one reader, for a run that compares regions
(``hp-preflight capacity``): ``in_region(region, reader, *args)`` calls the read-only reader
``reader`` of that region's :class:`~hyperpod_preflight.facts.AwsFacts`.

Each region keeps its own facts (its own clients, memo and call count); this object only
routes, so the run's gatherer reads every region's requests at once, as it reads one
region's. Only the readers named in :data:`READERS` are routed: nothing here can reach a
mutating call (a quota request) or a private helper.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import FactUnavailable

if TYPE_CHECKING:
    from .aws import AwsFacts

# The readers a region scan may ask of each region: its quota, usage, offered zones and
# training-plan offerings, and the VPC audit's reads of one VPC.
READERS = frozenset(
    {
        "sagemaker_quota",
        "hyperpod_usage",
        "instance_type_offerings",
        "training_plan_instance_types",
        "training_plan_offerings",
        "vpc",
        "vpc_attribute",
        "vpc_subnets",
        "vpc_security_groups",
        "route_tables",
        "vpc_nat_gateways",
        "vpc_internet_gateways",
        "vpc_endpoints",
        "instance_types",
        "quota_by_code",
    }
)
# The services a region's readers call: their clients are made before any thread starts
# (a boto3 session is not thread-safe).
SERVICES = ("ec2", "sagemaker", "service-quotas")


class RegionalFacts:
    """One run's facts of several regions; ``home`` (if any) gives the run's own account and
    caller, ``home_region`` its region (else ``home``'s)."""

    offline = False

    def __init__(
        self,
        by_region: Mapping[str, AwsFacts],
        home: AwsFacts | None = None,
        *,
        home_region: str | None = None,
    ) -> None:
        self._by_region = dict(by_region)
        self._home = home
        self._home_region = home_region
        for facts in self._by_region.values():
            for service in SERVICES:
                facts.client(service)

    @property
    def region(self) -> str | None:
        if self._home_region:
            return self._home_region
        return str(self._home.region) if self._home is not None else None

    @property
    def account(self) -> str | None:
        return self._home.account if self._home is not None else None

    @property
    def caller_arn(self) -> str | None:
        return getattr(self._home, "caller_arn", None)

    @property
    def regions(self) -> list[str]:
        return list(self._by_region)

    @property
    def call_count(self) -> int:
        """AWS calls made in every region."""
        return sum(int(f.call_count) for f in self._by_region.values())

    def in_region(self, region: str, reader: str, *args: Any) -> Any:
        """``reader(*args)`` of ``region``'s facts."""
        if reader not in READERS:
            raise FactUnavailable(reader, "error", "not a reader of a region scan")
        facts = self._by_region.get(region)
        if facts is None:
            raise FactUnavailable(reader, "error", f"{region} is not a region of this run")
        return getattr(facts, reader)(*args)

    def close(self) -> None:
        """End every region's I/O (see :meth:`~hyperpod_preflight.facts.core.FactsCore.close`)."""
        for facts in self._by_region.values():
            facts.close()
