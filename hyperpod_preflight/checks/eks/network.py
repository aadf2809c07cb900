"""The path from HyperPod nodes to the EKS API server: each subnet reaches an endpoint
(private access, or public access through the subnet's egress and the allowed CIDRs), and
the cluster's security groups admit the HyperPod security groups on TCP 443."""

from __future__ import annotations

import ipaddress
import shlex
from dataclasses import dataclass, replace
from typing import Any

from ...analysis.network import (
    admits_https,
    egress_paths,
    nat_ids,
    subnet_network,
)
from ...registry import CheckContext, Request, check, need
from ...results import Outcome, Severity, Status, failed, passed, skipped, unknown, warned
from ...shell import command
from .. import _needs
from ._common import EksTarget, cluster_needs, described_cluster, vpc_config


def _private_fix(ctx: CheckContext, target: EksTarget) -> str:
    return command(
        "aws",
        "eks",
        "update-cluster-config",
        "--name",
        target.name,
        "--region",
        ctx.aws.region,
        "--resources-vpc-config",
        "endpointPrivateAccess=true",
    )


def _control_ids(described: dict[str, Any]) -> list[str]:
    """The cluster security group and the additional groups DescribeCluster names."""
    config = vpc_config(described)
    return [
        str(g)
        for g in dict.fromkeys(
            [config.get("clusterSecurityGroupId"), *config.get("securityGroupIds", [])]
        )
        if g
    ]


def _control_groups(
    ctx: CheckContext, target: EksTarget, described: dict[str, Any]
) -> list[Request]:
    ids = _control_ids(described)
    return [need("security_groups", ids)] if ids else []


def _in_cidrs(ip: str, cidrs: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
        return any(address in ipaddress.ip_network(c, strict=False) for c in cidrs)
    except ValueError:
        return False


@check(
    "eks.api-endpoint-access",
    "HyperPod subnets can reach the EKS API server endpoint",
    Severity.CRITICAL,
    needs=cluster_needs(also=lambda spec, plan: _needs.egress(spec)),
)
def api_endpoint_access(ctx: CheckContext) -> list[Outcome]:
    """Each subnet reaches the API: private access on, or public access via its egress."""
    out: list[Outcome] = []
    found = described_cluster(ctx, out)
    if found is None:
        return out
    target, described = found
    config = vpc_config(described)
    subnet_ids = ctx.spec.all_subnets
    if not subnet_ids:
        return [skipped(target.arn, "the config names no subnets (VpcConfig.Subnets)")]
    if config.get("endpointPrivateAccess") is True:
        return [
            passed(
                s,
                f"the private endpoint of {target.name} is on: nodes in the VPC reach it "
                "(with the VPC's DNS support and hostnames on, see network.vpc-dns)",
            )
            for s in subnet_ids
        ]
    private = config.get("endpointPrivateAccess")  # None: not in the answer
    public = config.get("endpointPublicAccess")
    if public is not True:
        what = "off" if public is False else "not in the answer"
        return [
            unknown(
                target.arn,
                f"could not tell: endpointPrivateAccess is {private!r} and "
                f"endpointPublicAccess is {what}",
                f"Check `aws eks describe-cluster --name {target.name} --query "
                "cluster.resourcesVpcConfig`; the simplest fix is " + _private_fix(ctx, target),
            )
        ]
    listed = config.get("publicAccessCidrs")  # None: not in the answer, so not known
    cidrs = [str(c) for c in listed] if listed else None
    open_to_all = cidrs is not None and "0.0.0.0/0" in cidrs
    subnets = ctx.aws.subnets(subnet_ids)
    tables = ctx.aws.subnet_route_tables(subnet_ids)
    nats = ctx.aws.nat_gateways(nat_ids(tables.values()))
    paths = egress_paths(tables, nats)
    for sid in subnet_ids:
        if sid not in subnets:
            out.append(skipped(sid, "the subnet does not exist (see network.subnet-exists)"))
            continue
        path = paths.get(sid)
        if path is None:
            out.append(unknown(sid, f"could not tell: no route table of {sid} was found"))
            continue
        judged = _public_judgement(ctx, target, sid, path, nats, cidrs, open_to_all)
        if private is None and judged.status is not Status.PASS:
            # Only the public endpoint was judged: the private one may well serve this subnet.
            judged = unknown(
                sid,
                "could not tell: DescribeCluster gave no endpointPrivateAccess, and through "
                f"the public endpoint alone: {judged.message}",
                judged.remediation,
            )
        out.append(judged)
    return out


def _public_judgement(
    ctx: CheckContext,
    target: EksTarget,
    sid: str,
    path: Any,
    nats: dict[str, dict[str, Any]],
    cidrs: list[str] | None,
    open_to_all: bool,
) -> Outcome:
    fix = _private_fix(ctx, target)
    only_public = f"{target.name} has only its public endpoint"
    if path.kind == "pending":
        return warned(
            sid,
            f"{only_public}, and {sid}'s NAT gateway {path.target} is still pending",
            f"Wait for the NAT gateway, or turn private access on: {fix}",
        )
    if not path.reaches_internet:
        why = "; ".join(path.notes) or "no egress"
        return failed(
            sid,
            f"{only_public} and {sid} has no way out ({why}): nodes cannot reach the API "
            "server and never join the cluster.",
            fix,
        )
    if path.unverified:
        return warned(
            sid,
            f"{only_public}; {sid} sends 0.0.0.0/0 to {path.described_target}, and egress "
            "beyond it was not verified: whether nodes reach the public endpoint (and from "
            "which address) is not known",
            f"Turn private access on, so that nodes in the VPC reach it directly: {fix}",
        )
    if open_to_all:
        return passed(sid, f"{sid} reaches the public endpoint through {path.target}")
    if cidrs is None:
        return unknown(
            sid,
            f"could not tell: {only_public} and DescribeCluster gave no publicAccessCidrs, so "
            f"whether it admits {sid}'s traffic (through {path.target}) is not known",
            fix,
        )
    if path.kind == "nat":
        addresses = [
            str(a.get("PublicIp"))
            for a in nats.get(path.target, {}).get("NatGatewayAddresses", [])
            if a.get("PublicIp")
        ]
        if any(_in_cidrs(ip, cidrs) for ip in addresses):
            return passed(sid, f"{sid} reaches the public endpoint from an allowed address")
        if addresses:
            return failed(
                sid,
                f"{only_public}, open only to {', '.join(cidrs)}; {sid} leaves through NAT "
                f"gateway {path.target} ({', '.join(addresses)}), which is not among them.",
                f"{fix}  (or add {addresses[0]}/32 to publicAccessCidrs)",
            )
    return unknown(
        sid,
        f"could not tell: {only_public}, open only to {', '.join(cidrs)}, and the public "
        f"address {sid} leaves from (through {path.target}) is not known",
        fix,
    )


@check(
    "eks.cluster-sg-admits-nodes",
    "The EKS cluster security group admits HyperPod nodes on TCP 443",
    Severity.CRITICAL,
    needs=cluster_needs(_control_groups, also=lambda spec, plan: _needs.subnets(spec)),
)
def cluster_sg_admits_nodes(ctx: CheckContext) -> list[Outcome]:
    """The cluster's security groups allow TCP 443 (or all) from each HyperPod group."""
    out: list[Outcome] = []
    found = described_cluster(ctx, out)
    if found is None:
        return out
    target, described = found
    config = vpc_config(described)
    if not ctx.spec.all_security_groups:
        return [
            skipped(target.arn, "the config names no security groups (VpcConfig.SecurityGroupIds)")
        ]
    if config.get("endpointPrivateAccess") is False:
        # The cluster security group guards the control plane's network interfaces in the
        # VPC, which serve the private endpoint only; the public endpoint is judged by
        # eks.api-endpoint-access.
        return [
            skipped(
                target.arn,
                "private endpoint access is off: nodes reach the public endpoint, which the "
                "cluster security group does not guard (see eks.api-endpoint-access)",
            )
        ]
    control = ControlGroups.read(ctx, config)
    if isinstance(control, Outcome):
        return [replace(control, resource=target.arn)]
    subnets = ctx.aws.subnets(ctx.spec.all_subnets)
    return [
        _judge_node_group(ctx, target.name, config, control, sg, subnets)
        for sg in ctx.spec.all_security_groups
    ]


@dataclass(frozen=True)
class ControlGroups:
    """The EKS cluster's security groups: ids (the cluster security group first), the
    ones read, and the ones DescribeSecurityGroups did not return."""

    ids: list[str]
    readable: list[dict[str, Any]]
    unread: list[str]

    @staticmethod
    def read(ctx: CheckContext, config: dict[str, Any]) -> ControlGroups | Outcome:
        ids = [
            str(g)
            for g in dict.fromkeys(
                [config.get("clusterSecurityGroupId"), *config.get("securityGroupIds", [])]
            )
            if g
        ]
        if not ids:
            return unknown("-", "could not tell: DescribeCluster named no cluster security group")
        groups = ctx.aws.security_groups(ids)
        readable = [groups[g] for g in ids if g in groups]
        if not readable:
            return unknown(
                "-",
                f"could not tell: the cluster's security group {', '.join(ids)} was not "
                "returned by DescribeSecurityGroups",
            )
        return ControlGroups(ids, readable, [g for g in ids if g not in groups])


def _judge_node_group(
    ctx: CheckContext,
    cluster: str,
    config: dict[str, Any],
    control: ControlGroups,
    sg: str,
    subnets: dict[str, dict[str, Any]],
) -> Outcome:
    nets, unread = _networks_using(ctx, sg, subnets)
    verdicts: list[tuple[ipaddress.IPv4Network | None, bool]] = []
    prefix_lists: list[str] = []
    # None: judged by group only (a rule naming the group, or 0.0.0.0/0)
    for net in nets if nets and not unread else [*nets, None]:
        allowed = False
        for group in control.readable:
            ok, lists = admits_https(group.get("IpPermissions", []), frozenset({sg}), net)
            allowed = allowed or ok
            prefix_lists += lists
        verdicts.append((net, allowed))
    if all(ok for _, ok in verdicts):
        return passed(sg, f"the EKS cluster security group admits {sg} on TCP 443")
    if prefix_lists:
        return unknown(
            sg,
            "could not tell: TCP 443 is allowed only from prefix list "
            f"{', '.join(dict.fromkeys(prefix_lists))}, whose entries are not read",
        )
    if unread and all(ok for net, ok in verdicts if net is not None):
        return unknown(
            sg,
            f"could not tell: no rule admits {sg} by group, and the address range of "
            f"{', '.join(unread)} was not read (no such subnet, or no CidrBlock in "
            "the answer), so rules by address cannot be judged",
        )
    if control.unread:
        return unknown(
            sg,
            f"could not tell: {', '.join(control.unread)} of the cluster's security groups "
            f"were not returned by DescribeSecurityGroups, and the others do not admit {sg} "
            "on TCP 443",
            "aws ec2 describe-security-groups --group-ids "
            + " ".join(shlex.quote(g) for g in control.unread),
        )
    if not config.get("clusterSecurityGroupId"):
        return unknown(
            sg,
            f"could not tell: DescribeCluster gave no clusterSecurityGroupId, and its "
            f"other security groups ({', '.join(control.ids)}) do not admit {sg} on TCP "
            "443; the cluster security group itself may",
            f"Check by hand: `aws eks describe-cluster --name {shlex.quote(cluster)} --query "
            "cluster.resourcesVpcConfig.clusterSecurityGroupId`.",
        )
    if config.get("endpointPrivateAccess") is None:
        return unknown(
            sg,
            f"could not tell: no security group of EKS cluster {cluster} admits {sg} on TCP "
            "443, which matters only for the private endpoint, and DescribeCluster gave no "
            "endpointPrivateAccess",
            f"aws ec2 authorize-security-group-ingress --group-id {shlex.quote(control.ids[0])} "
            f"--protocol tcp --port 443 --source-group {shlex.quote(sg)}",
        )
    return failed(
        sg,
        f"No security group of EKS cluster {cluster} ({', '.join(control.ids)}) "
        f"allows TCP 443 from {sg}: kubelets on HyperPod nodes cannot reach the "
        "API server through its private endpoint.",
        f"aws ec2 authorize-security-group-ingress --group-id {shlex.quote(control.ids[0])} "
        f"--protocol tcp --port 443 --source-group {shlex.quote(sg)}",
    )


def _networks_using(
    ctx: CheckContext, sg: str, subnets: dict[str, dict[str, Any]]
) -> tuple[list[ipaddress.IPv4Network], list[str]]:
    """The CIDRs of the subnets the group is used with, and the subnets whose CIDR was not
    read (missing, or no ``CidrBlock``)."""
    nets: list[ipaddress.IPv4Network] = []
    unread: list[str] = []
    for settings in [ctx.spec.vpc_config, *(g.override_vpc for g in ctx.spec.instance_groups)]:
        if settings is None or sg not in settings.security_group_ids:
            continue
        for sid in settings.subnets:
            subnet = subnets.get(sid)
            net = subnet_network(subnet) if subnet else None
            if net is None:
                unread.append(sid)
            else:
                nets.append(net)
    return list(dict.fromkeys(nets)), list(dict.fromkeys(unread))
