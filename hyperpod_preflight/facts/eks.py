"""EKS readers: the cluster a HyperPod EKS config names, its ``vpc-cni`` add-on, its access
entries, and who the caller is (mixin of :class:`~hyperpod_preflight.facts.AwsFacts`).

Every reader asks for one named cluster; none lists the account's clusters. A cluster or
add-on that does not exist is ``None`` (``ResourceNotFoundException``); every other failure
is a :class:`~hyperpod_preflight.errors.FactUnavailable` the checks turn into UNKNOWN.

Cost for an EKS config: ``DescribeCluster``, ``DescribeAddon`` (vpc-cni),
``ListAccessEntries`` (one call per 100 entries), and for the caller's own entry
``DescribeAccessEntry`` plus ``ListAssociatedAccessPolicies``; ``GetCallerIdentity`` once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core import FactsCore, memoized

NOT_FOUND = ("ResourceNotFoundException",)


class EksFacts(FactsCore):
    """EKS readers, memoized per run."""

    if TYPE_CHECKING:  # IamFacts's reader: the run's one GetCallerIdentity

        def identity_arn(self) -> str: ...

    @memoized
    def eks_cluster(self, name: str) -> dict[str, Any] | None:
        """``DescribeCluster``'s ``cluster``; None when there is no such cluster here."""
        resp = self.call("eks", "DescribeCluster", none_on=NOT_FOUND, name=name)
        return None if resp is None else dict(resp.get("cluster") or {})

    @memoized
    def eks_addon(self, cluster: str, addon: str) -> dict[str, Any] | None:
        """``DescribeAddon``'s ``addon``; None when the add-on is not installed as an EKS
        add-on (it may still run self-managed)."""
        resp = self.call(
            "eks", "DescribeAddon", none_on=NOT_FOUND, clusterName=cluster, addonName=addon
        )
        return None if resp is None else dict(resp.get("addon") or {})

    @memoized
    def eks_access_entries(self, cluster: str) -> tuple[str, ...]:
        """The principal ARNs that have an access entry on ``cluster``."""
        return tuple(
            str(arn)
            for arn in self.paginate(
                "eks", "ListAccessEntries", "accessEntries", clusterName=cluster
            )
        )

    @memoized
    def eks_access_entry(self, cluster: str, principal_arn: str) -> dict[str, Any] | None:
        """``DescribeAccessEntry``'s ``accessEntry`` (Kubernetes groups, type); None when
        the entry is gone."""
        resp = self.call(
            "eks",
            "DescribeAccessEntry",
            none_on=NOT_FOUND,
            clusterName=cluster,
            principalArn=principal_arn,
        )
        return None if resp is None else dict(resp.get("accessEntry") or {})

    @memoized
    def eks_access_policies(self, cluster: str, principal_arn: str) -> tuple[dict[str, Any], ...]:
        """The access policies associated with one access entry."""
        return tuple(
            self.paginate(
                "eks",
                "ListAssociatedAccessPolicies",
                "associatedAccessPolicies",
                clusterName=cluster,
                principalArn=principal_arn,
            )
        )

    def caller_identity(self) -> dict[str, str]:
        """The caller's ``Account`` and ``Arn``, from :meth:`identity_arn` (what
        ``verify_identity`` read at the start of the run, else its one ``GetCallerIdentity``)."""
        arn = self.identity_arn()
        return {"Account": self.account or "", "Arn": arn, "UserId": ""}
