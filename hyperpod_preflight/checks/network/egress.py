"""How nodes reach AWS services: a NAT gateway or usable interface endpoints that admit the
cluster on TCP 443, and the S3 gateway endpoint on every subnet's route table.
"""

from __future__ import annotations

from collections.abc import Iterable
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
from ...models import Outcome, Severity, failed, passed, unknown, warned
from ...planner import ClusterPlan
from ...records import SubnetRouteTable
from ...registry import CheckContext, Request, check, need
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
    ids = " ".join(ep_ids)
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
    return (
        f"aws ec2 authorize-security-group-ingress --group-id {a.group_ids[0]} "
        f"--ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,{source}'"
    )


@check(
    "network.egress",
    "Subnets reach AWS services through a NAT gateway or interface endpoints",
    Severity.HIGH,
    needs=lambda spec, plan: egress_needs(spec, plan),
)
def egress(ctx: CheckContext) -> list[Outcome]:
    """Each subnet reaches AWS services: NAT gateway, other target, or endpoints open on 443."""
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [_no_subnets(ctx)]
    subnets = ctx.aws.subnets(subnet_ids)
    paths = read_egress_paths(ctx, subnet_ids)
    needed = _needed_services(ctx)
    sg = next(iter(ctx.spec.all_security_groups), "<sg-id>")
    cluster_sgs = frozenset(ctx.spec.all_security_groups)
    endpoint_groups, groups_error = _endpoint_security_groups(ctx, subnets, paths, needed)
    out: list[Outcome] = []
    for sid, subnet in existing_subnets(ctx, out):
        path = paths.get(sid)
        if path is None:
            out.append(no_route_table(sid))
            continue
        if path.kind == "nat":
            out.append(
                passed(sid, f"subnet {sid} reaches the internet through NAT gateway {path.target}")
            )
            continue
        if path.kind == "other":
            out.append(
                passed(
                    sid,
                    f"subnet {sid} sends 0.0.0.0/0 to {path.target}; egress beyond it is "
                    "assumed, not verified",
                )
            )
            continue
        if path.kind == "pending":
            out.append(
                warned(
                    sid,
                    f"subnet {sid} routes 0.0.0.0/0 to a NAT gateway still being created: NAT "
                    f"gateway {path.target} is pending; egress works once it is available "
                    "(usually within minutes)",
                    f"Wait until it is available (`aws ec2 wait nat-gateway-available "
                    f"--nat-gateway-ids {path.target}`), then run again.",
                    nat_gateway=path.target,
                    nat_state="pending",
                )
            )
            continue
        endpoints = interface_endpoints_of(ctx, subnet["VpcId"])
        missing = [s for s in needed if s not in endpoints.usable and s not in endpoints.unusable]
        unusable = {s: endpoints.unusable[s] for s in needed if s in endpoints.unusable}
        pending = {s: ep for s, ep in unusable.items() if is_pending(ep)}
        unusable_details = [
            {"service": s, "id": ep.get("VpcEndpointId"), "state": endpoint_state(ep)}
            for s, ep in unusable.items()
        ]
        # The usable endpoints' security groups must let the nodes in on TCP 443.
        cidr = subnet_network(subnet)
        access = [
            endpoint_access(s, endpoints.usable[s], endpoint_groups, cluster_sgs, cidr)
            for s in needed
            if s in endpoints.usable and groups_error is None
        ]
        blocked = [a for a in access if a.verdict == "closed"]
        undecided = [a for a in access if a.verdict == "unknown"]
        blocked_details = [
            {"service": a.service, "id": a.endpoint_id, "security_groups": list(a.group_ids)}
            for a in blocked
        ]
        extra: dict[str, Any] = {"blocked_endpoints": blocked_details} if blocked else {}
        if (
            groups_error is not None
            and any(s in endpoints.usable for s in needed)
            and not missing
            and not unusable
        ):
            out.append(
                unknown(
                    sid,
                    f"subnet {sid} has no internet route and relies on interface endpoints, "
                    "but whether their security groups allow inbound TCP 443 could not be "
                    f"told: {groups_error.describe()}",
                    groups_error.remediation,
                    action=groups_error.action,
                    notes=list(path.notes),
                )
            )
            continue
        if not missing and not unusable and not blocked and undecided:
            out.append(
                unknown(
                    sid,
                    f"subnet {sid} has no internet route and relies on interface endpoints; "
                    "could not tell whether they admit TCP 443 from the cluster: "
                    + "; ".join(_describe_access(a) for a in undecided),
                    "Check that each endpoint's security group allows inbound TCP 443 from "
                    "the cluster's security groups or subnets (`aws ec2 "
                    "describe-security-groups --group-ids "
                    + " ".join(dict.fromkeys(g for a in undecided for g in a.group_ids))
                    + "`), then run again.",
                    notes=list(path.notes),
                )
            )
            continue
        if not missing and not unusable and not blocked:
            out.append(
                passed(
                    sid,
                    f"subnet {sid} has no internet route, but the VPC has interface endpoints "
                    f"(private DNS on) for {', '.join(needed)}; lifecycle scripts cannot "
                    "download anything from the internet",
                    notes=list(path.notes),
                )
            )
            continue
        if not missing and not blocked and len(pending) == len(unusable):
            out.append(
                warned(
                    sid,
                    f"subnet {sid} has no internet route ({'; '.join(path.notes)}) and the "
                    "VPC's interface endpoints are not usable yet: "
                    + "; ".join(why_unusable(s, ep) for s, ep in pending.items())
                    + "; nodes reach AWS services once they are available",
                    _wait_for_endpoints(str(ep.get("VpcEndpointId")) for ep in pending.values()),
                    missing_endpoints=missing,
                    unusable_endpoints=unusable_details,
                    notes=list(path.notes),
                )
            )
            continue
        table = ctx.aws.subnet_route_tables(subnet_ids).get(sid)
        rtb = table.route_table_id if table else "<route table>"

        def create(service: str, vpc_id: str = subnet["VpcId"], sid: str = sid) -> str:
            return (
                f"aws ec2 create-vpc-endpoint --vpc-id {vpc_id} --vpc-endpoint-type "
                f"Interface --service-name {ctx.aws.endpoint_service_name(service)} "
                f"--subnet-ids {sid} --security-group-ids {sg} --private-dns-enabled"
            )

        fixes = [create(s) for s in missing]
        fixes += [
            _authorize_https(a, sg if cluster_sgs else None, str(subnet.get("CidrBlock", "")))
            for a in blocked
        ]
        for service, ep in unusable.items():
            ep_id = ep.get("VpcEndpointId")
            state = endpoint_state(ep).lower()
            if is_available(ep):
                fixes.append(
                    f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {ep_id} --private-dns-enabled"
                )
            elif state in ("deleted", "deleting"):
                fixes.append(create(service))
            elif not is_pending(ep):
                fixes.append(
                    f"aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {ep_id} (it is {state}), "
                    f"then {create(service)}"
                )
        problems = []
        if missing:
            problems.append(
                f"the VPC lacks interface endpoints (private DNS on) for {', '.join(missing)}"
            )
        if unusable:
            problems.append(
                "interface endpoints present but not usable: "
                + "; ".join(why_unusable(s, ep) for s, ep in unusable.items())
            )
        if blocked:
            problems.append(
                "nodes cannot reach interface endpoints: "
                + "; ".join(_describe_access(a) for a in blocked)
            )
        wait = (
            " " + _wait_for_endpoints(str(ep.get("VpcEndpointId")) for ep in pending.values())
            if pending
            else ""
        )
        out.append(
            failed(
                sid,
                f"subnet {sid} has no egress: {'; '.join(path.notes)}; and "
                f"{'; and '.join(problems)}. Expect: "
                f'"{LIFECYCLE_FAILURE}"',
                "Route 0.0.0.0/0 to a NAT gateway in a public subnet: `aws ec2 create-route "
                f"--route-table-id {rtb} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id "
                f"<nat-id>` (create one with `aws ec2 create-nat-gateway --subnet-id "
                "<public-subnet> --allocation-id <eipalloc-id>`); or fix the endpoints: "
                + "; ".join(fixes)
                + wait,
                missing_endpoints=missing,
                unusable_endpoints=unusable_details,
                notes=list(path.notes),
                **extra,
            )
        )
    return out


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
        if path is None or not subnet.get("VpcId") or path.kind in ("nat", "other", "pending"):
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
        return warned(
            sid,
            f"{what}; S3 traffic (lifecycle scripts, checkpoints) goes through "
            f"{path.target}{once} instead, slower and billed per GB",
            fix,
            severity=Severity.MEDIUM,
        )
    return failed(
        sid,
        f"{what}, and the subnet has no internet egress: nodes cannot fetch the "
        f'lifecycle scripts. Expect: "{LIFECYCLE_FAILURE}"',
        fix,
    )


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
    create = (
        f"aws ec2 create-vpc-endpoint --vpc-id {vpc_id} --vpc-endpoint-type Gateway "
        f"--service-name {s3_name} --route-table-ids {rtb}"
    )
    if attached:
        # Attached, but rejected, failed, deleting, deleted …: present, not usable.
        ep_id, state = attached[0]["VpcEndpointId"], endpoint_state(attached[0])
        what = f"S3 gateway endpoint {ep_id} on route table {rtb} of {sid} is {state}, not usable"
        if state.lower() in ("deleted", "deleting"):
            return what, create
        return (
            what,
            f"Replace it: aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {ep_id}; {create}",
        )
    live = sorted(
        (ep for ep in gateways if is_available(ep) or is_pending(ep)),
        key=lambda e: not is_available(e),
    )
    if live:
        ep_id = live[0]["VpcEndpointId"]
        state = "" if is_available(live[0]) else f" ({endpoint_state(live[0])})"
        return (
            f"S3 gateway endpoint {ep_id}{state} is not attached to route table {rtb} of {sid}",
            f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {ep_id} --add-route-table-ids {rtb}",
        )
    return f"VPC {vpc_id} has no gateway endpoint for {s3_name} (needed by {sid})", create
