"""How nodes reach AWS services: a NAT gateway or usable interface endpoints that admit the
cluster on TCP 443, and the S3 gateway endpoint on every subnet's route table.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ...analysis.network import (
    EgressPath,
    EndpointAccess,
    endpoint_access,
    endpoint_state,
    is_available,
    is_pending,
    service_suffix,
    subnet_network,
    why_unusable,
)
from ...errors import FactUnavailable
from ...planner import ClusterPlan
from ...records import SubnetRouteTable
from ...registry import CheckContext, Request, check, need
from ...results import Outcome, Severity, failed, passed, unknown, warned
from ...shell import arg, command
from ...spec import ClusterSpec
from .. import _needs
from .._common import read_egress_paths
from ._common import (
    BASE_INTERFACE_SERVICES,
    EKS_INTERFACE_SERVICES,
    LIFECYCLE_FAILURE,
    _no_subnets,
    existing_subnets,
    interface_endpoints_of,
    no_route_table,
)


def _needed_services(ctx: CheckContext) -> tuple[str, ...]:
    extra = EKS_INTERFACE_SERVICES if ctx.spec.orchestrator == "eks" else ()
    return BASE_INTERFACE_SERVICES + extra


# Endpoint states (DescribeVpcEndpoints writes them camelCase) that become ``available``
# without anyone fixing anything.


def _wait_for_endpoints(ep_ids: Iterable[str]) -> str:
    ids = " ".join(arg(i) for i in ep_ids)
    return (
        f"Wait until they are available (`aws ec2 describe-vpc-endpoints --vpc-endpoint-ids "
        f"{ids} --query 'VpcEndpoints[].[VpcEndpointId,State]'`); an endpoint in "
        "pendingAcceptance waits for the endpoint service's owner to accept it (`aws ec2 "
        f"accept-vpc-endpoint-connections --service-id <vpce-svc-id> --vpc-endpoint-ids {ids}`, "
        "run by the owner). Then run again."
    )


def _describe_access(a: EndpointAccess) -> str:
    groups = ", ".join(a.group_ids) or "none"
    if a.verdict == "closed":
        return (
            f"endpoint {a.endpoint_id} ({a.service}) security group {groups} allows no inbound "
            "TCP 443 from the cluster"
        )
    return f"endpoint {a.endpoint_id} ({a.service}, security group {groups}): {a.reason}"


def _authorize_https(a: EndpointAccess, cluster_sg: str | None, subnet_cidr: str) -> str:
    source = (
        f"UserIdGroupPairs=[{{GroupId={cluster_sg}}}]"
        if cluster_sg
        else f"IpRanges=[{{CidrIp={subnet_cidr or '<subnet-cidr>'}}}]"
    )
    return command(
        "aws",
        "ec2",
        "authorize-security-group-ingress",
        "--group-id",
        a.group_ids[0],
        "--ip-permissions",
        f"IpProtocol=tcp,FromPort=443,ToPort=443,{source}",
    )


@dataclass(frozen=True)
class EgressSetting:
    """What every subnet of one ``network.egress`` run is judged with."""

    needed: tuple[str, ...]  # interface endpoint services the nodes use
    cluster_sg: str  # for commands (a placeholder when the config names none)
    cluster_sgs: frozenset[str]
    endpoint_groups: dict[str, dict[str, Any]]
    groups_error: FactUnavailable | None


@check(
    "network.egress",
    "Subnets reach AWS services through a NAT gateway or interface endpoints",
    Severity.HIGH,
    needs=lambda spec, plan: egress_needs(spec, plan),
)
def egress(ctx: CheckContext) -> list[Outcome]:
    """Each subnet reaches AWS services: NAT gateway, or interface endpoints open on 443 (WARN
    without either, and through a transit gateway or appliance, whose onward path is not read)."""
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [_no_subnets(ctx)]
    subnets = ctx.aws.subnets(subnet_ids)
    paths = read_egress_paths(ctx, subnet_ids)
    needed = _needed_services(ctx)
    groups, error = _endpoint_security_groups(ctx, subnets, paths, needed)
    setting = EgressSetting(
        needed=needed,
        cluster_sg=next(iter(ctx.spec.all_security_groups), "<sg-id>"),
        cluster_sgs=frozenset(ctx.spec.all_security_groups),
        endpoint_groups=groups,
        groups_error=error,
    )
    out: list[Outcome] = []
    for sid, subnet in existing_subnets(ctx, out):
        path = paths.get(sid)
        out.append(
            no_route_table(sid)
            if path is None
            else _judge_subnet_egress(ctx, setting, sid, subnet, path)
        )
    return out


def _judge_subnet_egress(
    ctx: CheckContext, setting: EgressSetting, sid: str, subnet: dict[str, Any], path: EgressPath
) -> Outcome:
    if path.kind == "nat":
        return passed(sid, f"subnet {sid} reaches the internet through NAT gateway {path.target}")
    if path.kind == "pending":
        return warned(
            sid,
            f"subnet {sid} routes 0.0.0.0/0 to a NAT gateway still being created: NAT "
            f"gateway {path.target} is pending; egress works once it is available "
            "(usually within minutes)",
            f"Wait until it is available (`aws ec2 wait nat-gateway-available "
            f"--nat-gateway-ids {shlex.quote(path.target)}`), then run again.",
            nat_gateway=path.target,
            nat_state="pending",
        )
    review = _review_endpoints(ctx, setting, subnet)
    if path.unverified:
        return _judge_unverified_route(ctx, setting, sid, subnet, path, review)
    return _judge_endpoints_only(ctx, setting, sid, subnet, path, review)


@dataclass(frozen=True)
class EndpointReview:
    """The interface endpoints a subnet without a NAT gateway relies on."""

    missing: list[str]
    unusable: dict[str, dict[str, Any]]
    pending: dict[str, dict[str, Any]]
    blocked: list[EndpointAccess]
    undecided: list[EndpointAccess]
    groups_unread: bool  # usable endpoints whose security groups could not be read

    @property
    def present(self) -> bool:
        """Every needed service has an endpoint, usable or on its way."""
        return not self.missing and not self.unusable

    @property
    def serve(self) -> bool:
        """Every needed service has a usable endpoint that admits the cluster on 443."""
        return self.present and not self.blocked and not self.undecided and not self.groups_unread

    @property
    def unusable_details(self) -> list[dict[str, Any]]:
        return [
            {"service": s, "id": ep.get("VpcEndpointId"), "state": endpoint_state(ep)}
            for s, ep in self.unusable.items()
        ]


def _review_endpoints(
    ctx: CheckContext, setting: EgressSetting, subnet: dict[str, Any]
) -> EndpointReview:
    needed = setting.needed
    endpoints = interface_endpoints_of(ctx, subnet["VpcId"])
    unusable = {s: endpoints.unusable[s] for s in needed if s in endpoints.unusable}
    # The usable endpoints' security groups must let the nodes in on TCP 443.
    cidr = subnet_network(subnet)
    access = [
        endpoint_access(s, endpoints.usable[s], setting.endpoint_groups, setting.cluster_sgs, cidr)
        for s in needed
        if s in endpoints.usable and setting.groups_error is None
    ]
    return EndpointReview(
        missing=[s for s in needed if s not in endpoints.usable and s not in endpoints.unusable],
        unusable=unusable,
        pending={s: ep for s, ep in unusable.items() if is_pending(ep)},
        blocked=[a for a in access if a.verdict == "closed"],
        undecided=[a for a in access if a.verdict == "unknown"],
        groups_unread=setting.groups_error is not None
        and any(s in endpoints.usable for s in needed),
    )


def _judge_unverified_route(
    ctx: CheckContext,
    setting: EgressSetting,
    sid: str,
    subnet: dict[str, Any],
    path: EgressPath,
    review: EndpointReview,
) -> Outcome:
    """A default route to a transit gateway or an appliance: where it leads is not read.
    Interface endpoints that serve the subnet make it moot (PASS); else a WARN saying that
    egress beyond it was not verified."""
    target = path.described_target
    if review.serve:
        return passed(
            sid,
            f"subnet {sid} sends 0.0.0.0/0 to {target} (egress beyond it not verified), and "
            f"the VPC's interface endpoints (private DNS on, open on 443) serve "
            f"{', '.join(setting.needed)}",
            via=target,
        )
    endpoints = (
        f"the VPC lacks interface endpoints for {', '.join(review.missing)}"
        if review.missing
        else "the VPC's interface endpoints do not cover every service the nodes use"
    )
    check_it = (
        "aws ec2 describe-transit-gateway-route-tables --filters "
        + shlex.quote(f"Name=transit-gateway-id,Values={path.target}")
        + " --query 'TransitGatewayRouteTables[].TransitGatewayRouteTableId'; then aws ec2 "
        "search-transit-gateway-routes --transit-gateway-route-table-id <tgw-rtb-id> "
        "--filters Name=route-search.exact-match,Values=0.0.0.0/0"
        if path.target.startswith("tgw-")
        else f"check that {target} forwards to a NAT gateway or an internet gateway"
    )
    creates = [_create_endpoint(ctx, setting, s, subnet, sid) for s in review.missing]
    return warned(
        sid,
        f"subnet {sid} sends 0.0.0.0/0 to {target}: egress beyond it was not verified "
        f"(nothing read shows that it leads on to a NAT gateway or the internet), and "
        f"{endpoints}. If it does not, the nodes cannot reach AWS services. "
        f'Expect then: "{LIFECYCLE_FAILURE}"',
        f"Confirm the route onward: {check_it}"
        + (f"; or add the endpoints: {'; '.join(creates)}" if creates else ""),
        via=target,
        missing_endpoints=review.missing,
        notes=list(path.notes),
    )


def _create_endpoint(
    ctx: CheckContext, setting: EgressSetting, service: str, subnet: dict[str, Any], sid: str
) -> str:
    """An interface endpoint for ``service`` in the subnet, open to the cluster's group."""
    return _new_endpoint(
        str(subnet["VpcId"]),
        "Interface",
        ctx.aws.endpoint_service_name(service),
        "--subnet-ids",
        sid,
        "--security-group-ids",
        setting.cluster_sg,
        "--private-dns-enabled",
    )


# One builder per endpoint command, for the interface and the S3 gateway endpoints alike.
def _new_endpoint(vpc_id: str, kind: str, service_name: str, *where: str) -> str:
    return command(
        "aws",
        "ec2",
        "create-vpc-endpoint",
        "--vpc-id",
        vpc_id,
        "--vpc-endpoint-type",
        kind,
        "--service-name",
        service_name,
        *where,
    )


def _modify_endpoint(ep_id: str, *change: str) -> str:
    return command("aws", "ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", ep_id, *change)


def _delete_endpoint(ep_id: str) -> str:
    return command("aws", "ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", ep_id)


def _judge_endpoints_only(
    ctx: CheckContext,
    setting: EgressSetting,
    sid: str,
    subnet: dict[str, Any],
    path: EgressPath,
    review: EndpointReview,
) -> Outcome:
    """No way out to the internet: the interface endpoints decide."""
    notes = list(path.notes)
    if review.present and review.groups_unread:
        error = setting.groups_error
        assert error is not None
        return unknown(
            sid,
            f"subnet {sid} has no internet route and relies on interface endpoints, "
            "but whether their security groups allow inbound TCP 443 could not be "
            f"told: {error.describe()}",
            error.remediation,
            action=error.action,
            notes=notes,
        )
    if review.present and not review.blocked and review.undecided:
        return unknown(
            sid,
            f"subnet {sid} has no internet route and relies on interface endpoints; "
            "could not tell whether they admit TCP 443 from the cluster: "
            + "; ".join(_describe_access(a) for a in review.undecided),
            "Check that each endpoint's security group allows inbound TCP 443 from "
            "the cluster's security groups or subnets (`aws ec2 "
            "describe-security-groups --group-ids "
            + " ".join(dict.fromkeys(g for a in review.undecided for g in a.group_ids))
            + "`), then run again.",
            notes=notes,
        )
    if review.serve:
        return passed(
            sid,
            f"subnet {sid} has no internet route, but the VPC has interface endpoints "
            f"(private DNS on) for {', '.join(setting.needed)}; lifecycle scripts cannot "
            "download anything from the internet",
            notes=notes,
        )
    if not review.missing and not review.blocked and len(review.pending) == len(review.unusable):
        return warned(
            sid,
            f"subnet {sid} has no internet route ({'; '.join(path.notes)}) and the "
            "VPC's interface endpoints are not usable yet: "
            + "; ".join(why_unusable(s, ep) for s, ep in review.pending.items())
            + "; nodes reach AWS services once they are available",
            _wait_for_endpoints(str(ep.get("VpcEndpointId")) for ep in review.pending.values()),
            missing_endpoints=review.missing,
            unusable_endpoints=review.unusable_details,
            notes=notes,
        )
    return _no_egress(ctx, setting, sid, subnet, path, review)


def _endpoint_fixes(
    ctx: CheckContext,
    setting: EgressSetting,
    sid: str,
    subnet: dict[str, Any],
    review: EndpointReview,
) -> list[str]:
    fixes = [_create_endpoint(ctx, setting, s, subnet, sid) for s in review.missing]
    fixes += [
        _authorize_https(
            a, setting.cluster_sg if setting.cluster_sgs else None, str(subnet.get("CidrBlock", ""))
        )
        for a in review.blocked
    ]
    for service, ep in review.unusable.items():
        ep_id = str(ep.get("VpcEndpointId"))
        state = endpoint_state(ep).lower()
        if is_available(ep):
            fixes.append(_modify_endpoint(ep_id, "--private-dns-enabled"))
        elif state in ("deleted", "deleting"):
            fixes.append(_create_endpoint(ctx, setting, service, subnet, sid))
        elif not is_pending(ep):
            fixes.append(
                f"{_delete_endpoint(ep_id)} (it is {state}), "
                f"then {_create_endpoint(ctx, setting, service, subnet, sid)}"
            )
    return fixes


# https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-prerequisites.html names
# one endpoint: "Establish Amazon Simple Storage Service (Amazon S3) connectivity for
# VPC-deployed SageMaker HyperPod instance groups by creating a VPC endpoint. Without internet
# access, instance groups cannot store or retrieve lifecycle scripts". No HyperPod page lists
# interface endpoints (ssm, logs, sts, ecr ...) a cluster without internet access must have, so
# their absence is a WARN; S3 is network.s3-gateway-endpoint's FAIL.
HYPERPOD_VPC_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-prerequisites.html"
)


def _no_egress(
    ctx: CheckContext,
    setting: EgressSetting,
    sid: str,
    subnet: dict[str, Any],
    path: EgressPath,
    review: EndpointReview,
) -> Outcome:
    table = ctx.aws.subnet_route_tables(ctx.spec.all_subnets).get(sid)
    rtb = shlex.quote(table.route_table_id) if table else "<route table>"
    problems = []
    if review.missing:
        problems.append(
            f"the VPC lacks interface endpoints (private DNS on) for {', '.join(review.missing)}"
        )
    if review.unusable:
        problems.append(
            "interface endpoints present but not usable: "
            + "; ".join(why_unusable(s, ep) for s, ep in review.unusable.items())
        )
    if review.blocked:
        problems.append(
            "nodes cannot reach interface endpoints: "
            + "; ".join(_describe_access(a) for a in review.blocked)
        )
    wait = (
        " " + _wait_for_endpoints(str(ep.get("VpcEndpointId")) for ep in review.pending.values())
        if review.pending
        else ""
    )
    blocked = [
        {"service": a.service, "id": a.endpoint_id, "security_groups": list(a.group_ids)}
        for a in review.blocked
    ]
    extra: dict[str, Any] = {"blocked_endpoints": blocked} if blocked else {}
    return warned(
        sid,
        f"subnet {sid} has no egress: {'; '.join(path.notes)}; and "
        f"{'; and '.join(problems)}. HyperPod's page asks only for the S3 endpoint "
        f"(network.s3-gateway-endpoint, {HYPERPOD_VPC_DOC}), but nodes here cannot reach "
        "these services, and lifecycle scripts that download from the internet (apt, pip, "
        "git, curl) fail",
        "Route 0.0.0.0/0 to a NAT gateway in a public subnet: `aws ec2 create-route "
        f"--route-table-id {rtb} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id "
        "<nat-id>` (create one with `aws ec2 create-nat-gateway --subnet-id "
        "<public-subnet> --allocation-id <eipalloc-id>`); or fix the endpoints: "
        + "; ".join(_endpoint_fixes(ctx, setting, sid, subnet, review))
        + wait,
        missing_endpoints=review.missing,
        unusable_endpoints=review.unusable_details,
        notes=list(path.notes),
        severity=Severity.HIGH,
        **extra,
    )


def _endpoint_security_groups(
    ctx: CheckContext,
    subnets: dict[str, dict[str, Any]],
    paths: dict[str, EgressPath],
    needed: tuple[str, ...],
) -> tuple[dict[str, dict[str, Any]], Any]:
    """The security groups of the usable interface endpoints that subnets without internet
    egress rely on, in one batched (memoized) read; (groups, None), or ({}, the
    FactUnavailable) when they cannot be read."""

    ids = _endpoint_group_ids(ctx, subnets, paths, needed)
    if not ids:
        return {}, None
    try:
        return ctx.aws.security_groups(ids), None
    except FactUnavailable as exc:
        return {}, exc


def _endpoint_group_ids(
    ctx: CheckContext,
    subnets: dict[str, dict[str, Any]],
    paths: dict[str, EgressPath],
    needed: tuple[str, ...],
) -> list[str]:
    ids: list[str] = []
    for sid, subnet in subnets.items():
        path = paths.get(sid)
        if path is None or not subnet.get("VpcId") or path.kind in ("nat", "pending"):
            continue
        usable = interface_endpoints_of(ctx, str(subnet["VpcId"])).usable
        for service in needed:
            if service in usable:
                ids += [str(g["GroupId"]) for g in usable[service].get("Groups", [])]
    return ids


def _endpoints(ctx: CheckContext, vpc_ids: list[str]) -> list[Request]:
    return [need("vpc_endpoints", v) for v in vpc_ids]


def egress_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """The subnets' egress paths, their VPCs' endpoints, then the security groups of the
    interface endpoints that subnets without internet egress rely on."""

    def endpoint_groups(ctx: CheckContext) -> list[Request]:
        ids = ctx.spec.all_subnets
        subnets = ctx.aws.subnets(ids)
        paths = read_egress_paths(ctx, ids)
        found = _endpoint_group_ids(ctx, subnets, paths, _needed_services(ctx))
        return [need("security_groups", found)] if found else []

    if not spec.all_subnets:
        return []
    return [
        *_needs.vpc_ids_of_subnets(spec, _endpoints),
        *_needs.egress(spec, then=endpoint_groups),
    ]


@check(
    "network.s3-gateway-endpoint",
    "An S3 gateway endpoint is attached to every cluster subnet's route table",
    Severity.HIGH,
    needs=lambda spec, plan: [*_needs.egress(spec), *_needs.vpc_ids_of_subnets(spec, _endpoints)],
)
def s3_gateway_endpoint(ctx: CheckContext) -> list[Outcome]:
    """Each subnet's route table uses an S3 gateway endpoint (WARN with other egress, else FAIL)."""
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [_no_subnets(ctx)]
    tables = ctx.aws.subnet_route_tables(subnet_ids)
    out: list[Outcome] = []
    for sid, subnet in existing_subnets(ctx, out):
        table = tables.get(sid)
        if table is None:
            out.append(no_route_table(sid))
            continue
        out.append(_judge_s3_endpoint(ctx, sid, str(subnet["VpcId"]), table))
    return out


def _judge_s3_endpoint(
    ctx: CheckContext, sid: str, vpc_id: str, table: SubnetRouteTable
) -> Outcome:
    """One subnet: the endpoint on its table decides; the subnet's other egress (NAT
    gateways read only now) decides between WARN and FAIL when there is none."""
    gateways = [
        ep
        for ep in ctx.aws.vpc_endpoints(vpc_id)
        if ep.get("VpcEndpointType") == "Gateway"
        and service_suffix(str(ep.get("ServiceName", "")), ctx.aws.region) == "s3"
    ]
    rtb = table.route_table_id
    attached = [ep for ep in gateways if rtb in ep.get("RouteTableIds", [])]
    usable = [ep for ep in attached if is_available(ep)]
    if usable:
        return passed(
            sid, f"route table {rtb} of {sid} uses S3 gateway endpoint {usable[0]['VpcEndpointId']}"
        )
    pending = [ep for ep in attached if is_pending(ep)]
    if pending:
        ep_id = pending[0]["VpcEndpointId"]
        return warned(
            sid,
            f"S3 gateway endpoint {ep_id} on route table {rtb} of {sid} is "
            f"{endpoint_state(pending[0])}: S3 is reachable through it once it is available",
            _wait_for_endpoints([ep_id]),
            endpoint=ep_id,
            state=endpoint_state(pending[0]),
        )
    what, fix = _s3_endpoint_fix(ctx, sid, vpc_id, rtb, gateways, attached)
    try:
        path = read_egress_paths(ctx, (sid,)).get(sid)
    except FactUnavailable as exc:
        return unknown(
            sid,
            f"{what}; whether the subnet has other egress could not be told: {exc.describe()}",
            f"{exc.remediation} Either way: {fix}".strip(),
            action=exc.action,
        )
    if path is not None and (path.reaches_internet or path.kind == "pending"):
        once = " once it is available (it is pending)" if path.kind == "pending" else ""
        if path.unverified:
            once = " (if it leads on to the internet: egress beyond it was not verified)"
        return warned(
            sid,
            f"{what}; S3 traffic (lifecycle scripts, checkpoints) goes through "
            f"{path.described_target}{once} instead, slower and billed per GB",
            fix,
            severity=Severity.MEDIUM,
        )
    interface = _s3_interface_endpoint(ctx, vpc_id)
    if interface is not None:
        # The page asks for "a VPC endpoint" for S3, not a gateway one: an interface endpoint
        # with private DNS answers the default S3 names inside the VPC.
        return warned(
            sid,
            f"{what}, and the subnet has no internet egress; S3 interface endpoint "
            f"{interface} (private DNS on) serves S3 in the VPC if its security groups admit "
            "TCP 443 from the nodes",
            fix,
            severity=Severity.MEDIUM,
            endpoint=interface,
        )
    return failed(
        sid,
        f"{what}, and the subnet has no internet egress: nodes cannot fetch the "
        f'lifecycle scripts ({HYPERPOD_VPC_DOC}). Expect: "{LIFECYCLE_FAILURE}"',
        fix,
    )


def _s3_interface_endpoint(ctx: CheckContext, vpc_id: str) -> str | None:
    """An available S3 interface endpoint of the VPC with private DNS on, else None."""
    for ep in ctx.aws.vpc_endpoints(vpc_id):
        if (
            ep.get("VpcEndpointType") == "Interface"
            and service_suffix(str(ep.get("ServiceName", "")), ctx.aws.region) == "s3"
            and ep.get("PrivateDnsEnabled")
            and is_available(ep)
        ):
            return str(ep.get("VpcEndpointId"))
    return None


def _s3_endpoint_fix(
    ctx: CheckContext,
    sid: str,
    vpc_id: str,
    rtb: str,
    gateways: list[dict[str, Any]],
    attached: list[dict[str, Any]],
) -> tuple[str, str]:
    """(what is wrong, the command that fixes it) when no usable endpoint is attached."""
    s3_name = ctx.aws.endpoint_service_name("s3")
    create = _new_endpoint(vpc_id, "Gateway", s3_name, "--route-table-ids", rtb)
    if attached:
        # Attached, but rejected, failed, deleting, deleted …: present, not usable.
        ep_id, state = attached[0]["VpcEndpointId"], endpoint_state(attached[0])
        what = f"S3 gateway endpoint {ep_id} on route table {rtb} of {sid} is {state}, not usable"
        if state.lower() in ("deleted", "deleting"):
            return what, create
        return what, f"Replace it: {_delete_endpoint(ep_id)}; {create}"
    live = sorted(
        (ep for ep in gateways if is_available(ep) or is_pending(ep)),
        key=lambda e: not is_available(e),
    )
    if live:
        ep_id = live[0]["VpcEndpointId"]
        state = "" if is_available(live[0]) else f" ({endpoint_state(live[0])})"
        return (
            f"S3 gateway endpoint {ep_id}{state} is not attached to route table {rtb} of {sid}",
            _modify_endpoint(ep_id, "--add-route-table-ids", rtb),
        )
    return f"VPC {vpc_id} has no gateway endpoint for {s3_name} (needed by {sid})", create
