"""Readers for EC2 facts: the VPC, subnets, route tables, NAT gateways, VPC endpoints,
security groups, availability zones and instance types a cluster config names (mixin of
:class:`~hyperpod_preflight.facts.AwsFacts`).

Every reader asks for exactly what the config names, with server-side filters rather than
id lists (``subnet-id`` filters return nothing for a missing id where ``SubnetIds=`` would
fail the whole call), so the number of calls depends on the config and never on how many
VPCs, subnets or groups the account holds. Readers that take several ids normalise them
(sorted, de-duplicated) before the memo, so two checks asking for the same set cause one
call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from ..errors import FactUnavailable
from ..records import SubnetRouteTable, ZoneMap
from ..spec import strip_ml
from .core import FactsCore, chunks, memoized

# EC2 accepts at most a few hundred values per filter; stay well below.
FILTER_VALUES_PER_CALL = 200

# The VPC endpoint services a cluster's nodes may need (suffixes after
# ``com.amazonaws.<region>.``). Read in one call whatever the checks need.
ENDPOINT_SERVICES = (
    "s3",
    "ssm",
    "ssmmessages",
    "ec2messages",
    "logs",
    "sts",
    "ecr.api",
    "ecr.dkr",
)

VpcAttribute = Literal["enableDnsSupport", "enableDnsHostnames"]


def _norm(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({i for i in ids if i}))


class Ec2Facts(FactsCore):
    """EC2 readers: memoized, asking only for what the spec names."""

    # -- subnets ---------------------------------------------------------------------------
    def subnets(self, subnet_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The subnets of ``subnet_ids`` that exist, by id (one ``DescribeSubnets`` per 200
        ids; a missing id is simply absent from the result)."""
        return self._subnets(_norm(subnet_ids))

    @memoized
    def _subnets(self, subnet_ids: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(subnet_ids, FILTER_VALUES_PER_CALL):
            for subnet in self.paginate(
                "ec2",
                "DescribeSubnets",
                "Subnets",
                Filters=[{"Name": "subnet-id", "Values": part}],
            ):
                found[subnet["SubnetId"]] = subnet
        return found

    def cluster_vpc_id(self, subnet_ids: Iterable[str], given: str | None = None) -> str | None:
        """The cluster's VPC: ``given`` (``--vpc``) when set, else the VPC of the first
        listed subnet that exists; None when neither tells."""
        if given:
            return given
        ordered = [s for s in dict.fromkeys(subnet_ids) if s]
        if not ordered:
            return None
        found = self.subnets(ordered)
        for subnet_id in ordered:
            if found.get(subnet_id, {}).get("VpcId"):
                return str(found[subnet_id]["VpcId"])
        return None

    # -- VPC -------------------------------------------------------------------------------
    @memoized
    def vpc(self, vpc_id: str) -> dict[str, Any] | None:
        """The VPC, or None when it does not exist."""
        vpcs = self.paginate(
            "ec2", "DescribeVpcs", "Vpcs", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        )
        return vpcs[0] if vpcs else None

    @memoized
    def vpc_attribute(self, vpc_id: str, attribute: VpcAttribute) -> bool | None:
        """``enableDnsSupport`` / ``enableDnsHostnames`` of a VPC; None when the VPC does
        not exist."""
        resp = self.call(
            "ec2",
            "DescribeVpcAttribute",
            none_on=("InvalidVpcID.NotFound", "InvalidVpcID.Malformed"),
            VpcId=vpc_id,
            Attribute=attribute,
        )
        if resp is None:
            return None
        key = attribute[0].upper() + attribute[1:]
        value = (resp.get(key) or {}).get("Value")
        if not isinstance(value, bool):  # an answer without the attribute proves nothing
            raise FactUnavailable(
                "ec2:DescribeVpcAttribute", "error", f"the answer for {vpc_id} has no {key}"
            )
        return value

    # -- route tables ----------------------------------------------------------------------
    def subnet_route_tables(self, subnet_ids: Iterable[str]) -> dict[str, SubnetRouteTable]:
        """The route table of every existing subnet of ``subnet_ids``: its explicit
        association, else its VPC's main table."""
        return self._subnet_route_tables(_norm(subnet_ids))

    @memoized
    def _subnet_route_tables(self, subnet_ids: tuple[str, ...]) -> dict[str, SubnetRouteTable]:
        subnets = self.subnets(subnet_ids)
        # A subnet whose entry lacks VpcId cannot be placed: it gets no route table here
        # and the checks report it UNKNOWN.
        present = [s for s in subnet_ids if subnets.get(s, {}).get("VpcId")]
        if not present:
            return {}
        explicit: dict[str, dict[str, Any]] = {}
        main: dict[str, dict[str, Any]] = {}
        for table in self.route_tables({subnets[s]["VpcId"] for s in present}):
            for assoc in table.get("Associations", []):
                state = assoc.get("AssociationState", {}).get("State", "associated")
                if state not in ("associated", "associating"):
                    continue
                if assoc.get("Main"):
                    main[str(table["VpcId"])] = table
                elif assoc.get("SubnetId") in subnets:
                    explicit[str(assoc["SubnetId"])] = table
        result: dict[str, SubnetRouteTable] = {}
        for subnet_id in present:
            if subnet_id in explicit:
                result[subnet_id] = SubnetRouteTable(subnet_id, explicit[subnet_id], False)
            elif subnets[subnet_id]["VpcId"] in main:
                table = main[subnets[subnet_id]["VpcId"]]
                result[subnet_id] = SubnetRouteTable(subnet_id, table, implicit=True)
        return result

    def route_tables(self, vpc_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Every route table of the VPCs ``vpc_ids``, in one call filtered by ``vpc-id``.

        One call finds both the explicit associations and the main table (for subnets
        without one), and its count does not depend on the account's size. Filtering by
        ``association.subnet-id`` instead would also work on AWS (several values of one
        filter are ORed) but moto, and LocalStack built on it, match a multi-valued filter
        against a table's association list as a subset/superset, which misses tables.
        """
        return self._route_tables(_norm(vpc_ids))

    @memoized
    def _route_tables(self, vpc_ids: tuple[str, ...]) -> list[dict[str, Any]]:
        if not vpc_ids:
            return []
        return self.paginate(
            "ec2",
            "DescribeRouteTables",
            "RouteTables",
            Filters=[{"Name": "vpc-id", "Values": list(vpc_ids)}],
        )

    # -- NAT gateways and endpoints --------------------------------------------------------
    def nat_gateways(self, nat_gateway_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The NAT gateways of ``nat_gateway_ids`` that exist, by id (no call for none)."""
        ids = _norm(nat_gateway_ids)
        return self._nat_gateways(ids) if ids else {}

    @memoized
    def _nat_gateways(self, nat_gateway_ids: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(nat_gateway_ids, FILTER_VALUES_PER_CALL):
            for nat in self.paginate(
                "ec2",
                "DescribeNatGateways",
                "NatGateways",
                Filter=[{"Name": "nat-gateway-id", "Values": part}],
            ):
                found[nat["NatGatewayId"]] = nat
        return found

    @memoized
    def vpc_peerings(self, vpc_id: str) -> list[dict[str, Any]]:
        """The VPC's active peering connections (as requester or accepter)."""
        found: dict[str, dict[str, Any]] = {}
        for side in ("requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"):
            for pcx in self.paginate(
                "ec2",
                "DescribeVpcPeeringConnections",
                "VpcPeeringConnections",
                Filters=[
                    {"Name": side, "Values": [vpc_id]},
                    {"Name": "status-code", "Values": ["active"]},
                ],
            ):
                found[str(pcx.get("VpcPeeringConnectionId"))] = pcx
        return list(found.values())

    @memoized
    def vpc_transit_gateways(self, vpc_id: str) -> frozenset[str]:
        """The transit gateways the VPC has an available attachment to."""
        return frozenset(
            str(a["TransitGatewayId"])
            for a in self.paginate(
                "ec2",
                "DescribeTransitGatewayAttachments",
                "TransitGatewayAttachments",
                Filters=[
                    {"Name": "resource-id", "Values": [vpc_id]},
                    {"Name": "state", "Values": ["available"]},
                ],
            )
            if a.get("TransitGatewayId")
        )

    @memoized
    def vpc_endpoints(self, vpc_id: str) -> list[dict[str, Any]]:
        """The VPC's endpoints for the services in :data:`ENDPOINT_SERVICES` (Gateway and
        Interface, any state), in one call filtered by ``vpc-id`` and ``service-name``."""
        names = [
            f"{prefix}.{self.region}.{svc}"
            for svc in ENDPOINT_SERVICES
            for prefix in self._endpoint_prefixes()
        ]
        return self.paginate(
            "ec2",
            "DescribeVpcEndpoints",
            "VpcEndpoints",
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "service-name", "Values": names},
            ],
        )

    def endpoint_service_name(self, service: str) -> str:
        """``com.amazonaws.<region>.<service>``, the name an endpoint is created with."""
        return f"com.amazonaws.{self.region}.{service}"

    def _endpoint_prefixes(self) -> tuple[str, ...]:
        # China regions name some endpoint services ``cn.com.amazonaws.<region>.<svc>``.
        if self.region.startswith("cn-"):
            return ("com.amazonaws", "cn.com.amazonaws")
        return ("com.amazonaws",)

    # -- security groups -------------------------------------------------------------------
    def security_groups(self, group_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The security groups of ``group_ids`` that exist, by id."""
        return self._security_groups(_norm(group_ids))

    @memoized
    def _security_groups(self, group_ids: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(group_ids, FILTER_VALUES_PER_CALL):
            for group in self.paginate(
                "ec2",
                "DescribeSecurityGroups",
                "SecurityGroups",
                Filters=[{"Name": "group-id", "Values": part}],
            ):
                found[group["GroupId"]] = group
        return found

    # -- zones and instance types ----------------------------------------------------------
    @memoized
    def availability_zones(self) -> ZoneMap:
        """Zone names ↔ ids of the region's zones enabled for this account."""
        resp = self.call("ec2", "DescribeAvailabilityZones")
        zones = resp.get("AvailabilityZones", [])
        return ZoneMap(
            id_by_name={z["ZoneName"]: z["ZoneId"] for z in zones},
            name_by_id={z["ZoneId"]: z["ZoneName"] for z in zones},
        )

    def instance_types(self, ec2_names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        """``DescribeInstanceTypes`` entries by EC2 type name (``ml.`` prefixes are
        stripped); a type EC2 does not know is absent from the result."""
        return self._instance_types(_norm(strip_ml(n) for n in ec2_names))

    @memoized
    def _instance_types(self, ec2_names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(ec2_names, 100):
            for info in self.paginate(
                "ec2",
                "DescribeInstanceTypes",
                "InstanceTypes",
                Filters=[{"Name": "instance-type", "Values": part}],
            ):
                if info.get("InstanceType"):
                    found[str(info["InstanceType"])] = info
        return found

    # -- a whole VPC (the audit of `hp-preflight --vpc`) ------------------------------------
    # Each reader below asks for one VPC's resources with a server-side ``vpc-id`` filter
    # (paginated), so its calls grow with the VPC, never with the account.
    @memoized
    def vpc_subnets(self, vpc_id: str) -> list[dict[str, Any]]:
        """Every subnet of the VPC (``DescribeSubnets`` filtered by ``vpc-id``)."""
        return self.paginate(
            "ec2", "DescribeSubnets", "Subnets", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        )

    @memoized
    def vpc_security_groups(self, vpc_id: str) -> list[dict[str, Any]]:
        """Every security group of the VPC (``DescribeSecurityGroups`` by ``vpc-id``)."""
        return self.paginate(
            "ec2",
            "DescribeSecurityGroups",
            "SecurityGroups",
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
        )

    @memoized
    def vpc_nat_gateways(self, vpc_id: str) -> dict[str, dict[str, Any]]:
        """Every NAT gateway of the VPC, any state, by id (``DescribeNatGateways``)."""
        nats = self.paginate(
            "ec2",
            "DescribeNatGateways",
            "NatGateways",
            Filter=[{"Name": "vpc-id", "Values": [vpc_id]}],
        )
        return {str(n["NatGatewayId"]): n for n in nats if n.get("NatGatewayId")}

    @memoized
    def vpc_internet_gateways(self, vpc_id: str) -> list[dict[str, Any]]:
        """The internet gateways attached to the VPC (``attachment.vpc-id`` filter)."""
        return self.paginate(
            "ec2",
            "DescribeInternetGateways",
            "InternetGateways",
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}],
        )
