"""Fact requests several checks declare (no check is registered here): the config's subnets,
their route tables and NAT gateways, its security groups, the cluster's VPC.

Each returns :class:`~hyperpod_preflight.registry.Need` / ``Then`` lists for a check's
``needs(spec, plan)``; the judge then reads the same facts through ``ctx.aws``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..analysis.iam_roles import caller_principal, config_roles
from ..analysis.network import nat_ids
from ..errors import FactUnavailable
from ..planner import ClusterPlan
from ..registry import CheckContext, Need, Request, Then, need
from ..spec import ClusterSpec


def subnets(spec: ClusterSpec, ids: Sequence[str] | None = None) -> list[Request]:
    """DescribeSubnets of the config's subnets (or ``ids``)."""
    wanted = spec.all_subnets if ids is None else ids
    return [need("subnets", wanted)] if wanted else []


def route_tables(spec: ClusterSpec) -> list[Request]:
    """The subnets and the route table that governs each."""
    ids = spec.all_subnets
    return [need("subnets", ids), need("subnet_route_tables", ids)] if ids else []


def egress(
    spec: ClusterSpec, then: Callable[[CheckContext], list[Request]] | None = None
) -> list[Request]:
    """The subnets, their route tables, then the NAT gateways the tables' routes name (then
    what ``then`` asks for, once the egress paths can be read)."""
    ids = spec.all_subnets
    if not ids:
        return []

    def nats(ctx: CheckContext) -> list[Request]:
        found = need("nat_gateways", nat_ids(ctx.aws.subnet_route_tables(ids).values()))
        return [found, *([Then(then)] if then is not None else [])]

    return [*route_tables(spec), Then(nats)]


def instance_types(spec: ClusterSpec) -> list[Request]:
    """DescribeInstanceTypes of every EC2 type the groups name (none: no read)."""
    types = tuple(dict.fromkeys(t for g in spec.instance_groups for t in g.ec2_types))
    return [need("instance_types", types)] if types else []


def security_groups(spec: ClusterSpec) -> list[Request]:
    ids = spec.all_security_groups
    return [need("security_groups", ids)] if ids else []


def cluster_vpc(
    spec: ClusterSpec, then: Callable[[CheckContext, str], list[Request]]
) -> list[Request]:
    """The cluster's VPC id (``--vpc``, else its first subnet's VPC), then what ``then``
    asks for about it."""

    def follow(ctx: CheckContext) -> list[Request]:
        vpc_id = ctx.aws.cluster_vpc_id(spec.all_subnets, spec.vpc_id)
        return then(ctx, vpc_id) if vpc_id else []

    return [need("cluster_vpc_id", spec.all_subnets, spec.vpc_id), Then(follow)]


def vpc_ids_of_subnets(
    spec: ClusterSpec, then: Callable[[CheckContext, list[str]], list[Request]]
) -> list[Request]:
    """The subnets, then what ``then`` asks for about the VPCs they are in."""
    ids = spec.all_subnets
    if not ids:
        return []

    def follow(ctx: CheckContext) -> list[Request]:
        found = ctx.aws.subnets(ids)
        vpcs = list(dict.fromkeys(str(s.get("VpcId", "")) for s in found.values()))
        return then(ctx, [v for v in vpcs if v])

    return [need("subnets", ids), Then(follow)]


def execution_role_policies(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """With AWS access: the caller's account, then the policies of the config's execution
    roles in it (nothing offline)."""

    def policies(ctx: CheckContext) -> list[Request]:
        if ctx.offline:
            return []
        try:
            account = ctx.aws.account or caller_principal(ctx.aws.identity_arn()).account
        except FactUnavailable:
            return []
        roles = [r for r in config_roles(ctx.spec) if r.kind == "ExecutionRole"]
        return [need("role_policies", r.name) for r in roles if r.account == account]

    if not any(r.kind == "ExecutionRole" for r in config_roles(spec)):
        return []
    return [Then(lambda ctx: [] if ctx.offline else [need("identity_arn"), Then(policies)])]


def identity() -> list[Request]:
    """The caller's identity (verified at the start of the run; no call then)."""
    return [need("identity_arn")]


def nothing(spec: ClusterSpec, plan: ClusterPlan) -> list[Need]:
    return []
