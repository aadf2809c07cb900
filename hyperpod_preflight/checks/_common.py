"""What checks of every area share (no check is registered here)."""

from __future__ import annotations

from typing import Any

from ..analysis.network import EgressPath, egress_paths, nat_ids
from ..errors import FactUnavailable
from ..registry import CheckContext
from ..results import Outcome, unknown


def could_not_tell(resource: str, exc: FactUnavailable, about: str = "", **details: Any) -> Outcome:
    """UNKNOWN for a read that failed: "could not tell[ <about>]: <why>", the read's own
    remediation, and the IAM action it needed in the details (then ``details``)."""
    question = f" {about}" if about else ""
    return unknown(
        resource,
        f"could not tell{question}: {exc.describe()}",
        exc.remediation,
        action=exc.action,
        **details,
    )


def read_egress_paths(ctx: CheckContext, subnet_ids: tuple[str, ...]) -> dict[str, EgressPath]:
    """The egress path of every existing subnet that has a route table: its route table,
    then the NAT gateways the default routes name (one read for all)."""
    tables = ctx.aws.subnet_route_tables(subnet_ids)
    return egress_paths(tables, ctx.aws.nat_gateways(nat_ids(tables.values())))
