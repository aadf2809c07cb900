"""SageMaker readers: HyperPod instances already held in the region (mixin of
:class:`~hyperpod_preflight.facts.AwsFacts`).

The ``ml.<type> for cluster usage`` and ``Total number of instances allowed across SageMaker
HyperPod clusters`` quotas are shared by every HyperPod cluster of the region, so the
instances of existing clusters reduce the headroom of a new one.

Cost: ``ListClusters`` (one call per 100 clusters) plus one ``DescribeCluster`` per cluster,
run concurrently. This grows with the number of HyperPod clusters (normally a handful),
never with other resources of the account.

Counting rules (documented because they decide FAIL/PASS):

- Each instance group counts ``max(CurrentCount, TargetCount)``: a cluster that is creating
  or scaling up is about to hold its target. Clusters in ``Failed`` or ``Deleting`` count
  only ``CurrentCount`` (they are releasing, not acquiring).
- Flexible groups (``InstanceTypeDetails``) count ``CurrentCount`` per type; instances still
  to come in such a group count towards the totals only (their type is not decided yet).
- Restricted instance groups count like the others.
- Groups with ``CapacityRequirements.Spot`` count against the *spot* quotas
  (``ml.<type> for cluster spot instance usage``), the rest against the on-demand ones.
- A cluster with the name of the one being created is counted like any other (it holds
  its instances) and flagged: ``create-cluster`` would fail on the name anyway, and an
  ``update-cluster`` of it would need only the difference.
- A cluster that disappears between ``ListClusters`` and ``DescribeCluster`` is skipped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..workers import DaemonPool
from .core import FactsCore, memoized

RELEASING_STATUSES = frozenset({"Failed", "Deleting"})
_GONE = ("ResourceNotFound", "ResourceNotFoundException", "ValidationException")


@dataclass(frozen=True, kw_only=True)
class ClusterUsage:
    """The instances one existing HyperPod cluster holds (or is acquiring)."""

    name: str
    arn: str = ""
    status: str = ""
    on_demand_by_type: dict[str, int] = field(default_factory=dict)
    spot_by_type: dict[str, int] = field(default_factory=dict)
    on_demand_total: int = 0
    spot_total: int = 0

    @property
    def total(self) -> int:
        return self.on_demand_total + self.spot_total


@dataclass(frozen=True, kw_only=True)
class HyperPodUsage:
    """Every HyperPod cluster of the region and the instances they count against quotas."""

    region: str = ""
    clusters: tuple[ClusterUsage, ...] = ()

    def instances_of(self, instance_type: str, *, spot: bool = False) -> int:
        """Instances of ``instance_type`` (``ml.`` prefixed) across all clusters."""
        return sum(
            (c.spot_by_type if spot else c.on_demand_by_type).get(instance_type, 0)
            for c in self.clusters
        )

    def total(self, *, spot: bool = False) -> int:
        return sum(c.spot_total if spot else c.on_demand_total for c in self.clusters)

    def holders(self, instance_type: str | None = None, *, spot: bool = False) -> dict[str, int]:
        """cluster name → instances counted (of one type, or all), for messages."""
        out: dict[str, int] = {}
        for c in self.clusters:
            if instance_type is None:
                n = c.spot_total if spot else c.on_demand_total
            else:
                n = (c.spot_by_type if spot else c.on_demand_by_type).get(instance_type, 0)
            if n:
                out[c.name] = n
        return out

    def cluster(self, name: str) -> ClusterUsage | None:
        return next((c for c in self.clusters if c.name == name), None)


class SageMakerFacts(FactsCore):
    """SageMaker readers: memoized, asking only for what the quota maths needs."""

    @memoized
    def cluster_summaries(self) -> list[dict[str, Any]]:
        """``ListClusters``, every page (name, ARN, status)."""
        return self.paginate(
            "sagemaker", "ListClusters", "ClusterSummaries", PaginationConfig={"PageSize": 100}
        )

    @memoized
    def describe_cluster(self, name: str) -> dict[str, Any] | None:
        """``DescribeCluster``; None when the cluster no longer exists."""
        resp: dict[str, Any] | None = self.call(
            "sagemaker", "DescribeCluster", none_on=_GONE, ClusterName=name
        )
        return resp

    @memoized
    def hyperpod_usage(self) -> HyperPodUsage:
        """Instances per ``ml.`` type held by the region's HyperPod clusters."""
        names = [str(s["ClusterName"]) for s in self.cluster_summaries()]
        if not names:
            return HyperPodUsage(region=self.region)
        workers = max(1, min(8, len(names)))
        with DaemonPool(workers, name="describe-cluster") as pool:
            futures = [pool.submit(self.describe_cluster, name) for name in names]
            described = [f.result() for f in futures]
        clusters = tuple(cluster_usage(d) for d in described if d is not None)
        return HyperPodUsage(region=self.region, clusters=clusters)


def cluster_usage(described: dict[str, Any]) -> ClusterUsage:
    """Count one ``DescribeCluster`` answer by the rules of this module's docstring."""
    status = str(described.get("ClusterStatus", ""))
    releasing = status in RELEASING_STATUSES
    on_demand: Counter[str] = Counter()
    spot: Counter[str] = Counter()
    totals = {"on_demand": 0, "spot": 0}
    groups = list(described.get("InstanceGroups") or []) + list(
        described.get("RestrictedInstanceGroups") or []
    )
    for group in groups:
        is_spot = "Spot" in (group.get("CapacityRequirements") or {})
        by_type = spot if is_spot else on_demand
        current = int(group.get("CurrentCount") or 0)
        target = int(group.get("TargetCount") or 0)
        held = current if releasing else max(current, target)
        details = group.get("InstanceTypeDetails") or []
        if details:
            for detail in details:
                count = int(detail.get("CurrentCount") or 0)
                if detail.get("InstanceType") and count:
                    by_type[str(detail["InstanceType"])] += count
            held = max(held, sum(int(d.get("CurrentCount") or 0) for d in details))
        elif group.get("InstanceType") and held:
            by_type[str(group["InstanceType"])] += held
        totals["spot" if is_spot else "on_demand"] += held
    return ClusterUsage(
        name=str(described.get("ClusterName", "")),
        arn=str(described.get("ClusterArn", "")),
        status=status,
        on_demand_by_type=dict(on_demand),
        spot_by_type=dict(spot),
        on_demand_total=totals["on_demand"],
        spot_total=totals["spot"],
    )
