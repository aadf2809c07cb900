"""The cluster's security groups: they exist in the VPC, allow all traffic to and from
themselves (the EFA health check), open egress, group and rule counts, FSx for Lustre ports.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ...analysis.network import (
    ANYWHERE_V4,
    ANYWHERE_V6,
    covers,
)
from ...errors import FactUnavailable
from ...models import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...registry import CheckContext, check
from ._common import (
    DEFAULT_RULES_PER_DIRECTION,
    EFA_FAILURE,
    FSX_LUSTRE_PORTS,
    LIFECYCLE_FAILURE,
    MAX_SGS_PER_VPC_CONFIG,
    RULE_COUNT_MARGIN,
    RULES_PER_SG_QUOTA,
    _groups_using,
    _no_sgs,
    _no_vpc_config,
    _vpc_settings,
    cluster_vpc_id,
    existing_groups,
)


# -- security groups ----------------------------------------------------------------------
@check(
    "network.sg-exists",
    "Each security group exists and is in the cluster's VPC",
    Severity.CRITICAL,
    reads=("ec2.security-groups",),
)
def sg_exists(ctx: CheckContext) -> list[Outcome]:
    """Each security group exists and is in the cluster's VPC; missing or elsewhere is a FAIL."""
    sg_ids = ctx.spec.all_security_groups
    if not sg_ids:
        return [_no_sgs(ctx)]
    groups = ctx.aws.security_groups(sg_ids)
    vpc_id = cluster_vpc_id(ctx)
    out: list[Outcome] = []
    for sg_id in sg_ids:
        group = groups.get(sg_id)
        if group is None:
            out.append(
                failed(
                    sg_id,
                    f"The security group '{sg_id}' does not exist in {ctx.aws.region}.",
                    "Fix the id in the config, or create the group: `aws ec2 "
                    f"create-security-group --vpc-id {vpc_id or '<vpc-id>'} --group-name "
                    "<name> --description <text>`.",
                )
            )
        elif not group.get("VpcId"):
            out.append(
                unknown(
                    sg_id,
                    f"could not tell: DescribeSecurityGroups gave no VpcId for {sg_id}",
                    f"Check it with `aws ec2 describe-security-groups --group-ids {sg_id}`, "
                    "then run again.",
                )
            )
        elif vpc_id and group.get("VpcId") != vpc_id:
            out.append(
                failed(
                    sg_id,
                    f"The security group does not belong to the VPC: {sg_id} is in "
                    f"{group.get('VpcId')}, the cluster's subnets are in {vpc_id}.",
                    f"Use security groups of {vpc_id}: `aws ec2 describe-security-groups "
                    f"--filters Name=vpc-id,Values={vpc_id}`.",
                    vpc_id=group.get("VpcId"),
                )
            )
        else:
            out.append(
                passed(
                    sg_id,
                    f"security group {sg_id} ({group.get('GroupName', '')}) exists in "
                    f"{group.get('VpcId')}",
                )
            )
    return out


def _is_self_pair(pair: dict[str, Any], sg_id: str) -> bool:
    return pair.get("GroupId") == sg_id


def _self_all_traffic(permissions: Iterable[dict[str, Any]], sg_id: str) -> bool:
    """A rule of protocol -1 (all traffic) with the group itself among its pairs: every
    permission and every pair is looked at, not only the first."""
    return any(
        str(p.get("IpProtocol")) == "-1"
        and any(_is_self_pair(pair, sg_id) for pair in p.get("UserIdGroupPairs", []))
        for p in permissions
    )


def _near_misses(permissions: Iterable[dict[str, Any]], sg_id: str) -> list[str]:
    """Self rules that do not count: a protocol or port range instead of all traffic."""
    found = []
    for p in permissions:
        if str(p.get("IpProtocol")) == "-1":
            continue
        if any(_is_self_pair(pair, sg_id) for pair in p.get("UserIdGroupPairs", [])):
            ports = (
                f"{p.get('FromPort')}-{p.get('ToPort')}" if p.get("FromPort") is not None else "all"
            )
            found.append(f"{p.get('IpProtocol')} {ports}")
    return found


def _self_rule_check(ctx: CheckContext, direction: str) -> list[Outcome]:
    key = "IpPermissions" if direction == "ingress" else "IpPermissionsEgress"
    word = "inbound traffic from" if direction == "ingress" else "outbound traffic to"
    out: list[Outcome] = []
    for sg_id, group in existing_groups(ctx, out):
        permissions = group.get(key, [])
        if _self_all_traffic(permissions, sg_id):
            out.append(passed(sg_id, f"{sg_id} allows all {word} itself"))
            continue
        near = _near_misses(permissions, sg_id)
        hint = (
            f" (its self rules cover only {', '.join(near)}: EFA needs protocol -1, all "
            "traffic; port ranges do not count)"
            if near
            else ""
        )
        out.append(
            failed(
                sg_id,
                f'{sg_id} does not allow all {word} itself{hint}. Expect: "{EFA_FAILURE}"',
                f"aws ec2 authorize-security-group-{direction} --group-id {sg_id} "
                f"--ip-permissions 'IpProtocol=-1,UserIdGroupPairs=[{{GroupId={sg_id}}}]'",
                groups=_groups_using(ctx, sg=sg_id),
            )
        )
    return out


@check(
    "network.sg-efa-self-ingress",
    "Each security group allows all inbound traffic from itself (EFA)",
    Severity.CRITICAL,
    reads=("ec2.security-groups",),
)
def sg_efa_self_ingress(ctx: CheckContext) -> list[Outcome]:
    """Each group has an all-traffic inbound rule from itself (any rule, any pair)."""
    return _self_rule_check(ctx, "ingress")


@check(
    "network.sg-efa-self-egress",
    "Each security group allows all outbound traffic to itself (EFA)",
    Severity.CRITICAL,
    reads=("ec2.security-groups",),
)
def sg_efa_self_egress(ctx: CheckContext) -> list[Outcome]:
    """Each group has an all-traffic outbound rule to itself (any rule, any pair)."""
    return _self_rule_check(ctx, "egress")


def _rule_entries(permissions: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every (kind, value) entry of a direction: each CIDR, prefix list and group pair is
    one rule as AWS counts them."""
    entries = []
    for p in permissions:
        entries += [("v4", r.get("CidrIp", "")) for r in p.get("IpRanges", [])]
        entries += [("v6", r.get("CidrIpv6", "")) for r in p.get("Ipv6Ranges", [])]
        entries += [("pl", r.get("PrefixListId", "")) for r in p.get("PrefixListIds", [])]
        entries += [("sg", r.get("GroupId", "")) for r in p.get("UserIdGroupPairs", [])]
    return entries


@check(
    "network.sg-egress-open-only",
    "Outbound rules are not only 0.0.0.0/0",
    Severity.MEDIUM,
    reads=("ec2.security-groups",),
)
def sg_egress_open_only(ctx: CheckContext) -> list[Outcome]:
    """Outbound rules are not only 0.0.0.0/0, which can fail the EFA health check (WARN)."""
    out: list[Outcome] = []
    for sg_id, group in existing_groups(ctx, out):
        entries = _rule_entries(group.get("IpPermissionsEgress", []))
        if entries and all(value in (ANYWHERE_V4, ANYWHERE_V6) for _, value in entries):
            out.append(
                warned(
                    sg_id,
                    f"the only outbound rule of {sg_id} is to 0.0.0.0/0; HyperPod's docs warn "
                    f'this can make the EFA health checks fail ("{EFA_FAILURE}")',
                    f"Add an all-traffic rule to the group itself: aws ec2 "
                    f"authorize-security-group-egress --group-id {sg_id} --ip-permissions "
                    f"'IpProtocol=-1,UserIdGroupPairs=[{{GroupId={sg_id}}}]'",
                )
            )
        else:
            out.append(
                passed(
                    sg_id, f"{sg_id} has outbound rules other than 0.0.0.0/0 ({len(entries)} rules)"
                )
            )
    return out


@check(
    "network.sg-count",
    "At most 5 security groups per VpcConfig",
    Severity.CRITICAL,
    needs_aws=False,
)
def sg_count(ctx: CheckContext) -> list[Outcome]:
    """A VpcConfig names at most 5 security groups (the CreateCluster limit)."""
    settings = _vpc_settings(ctx)
    if not settings:
        return [_no_vpc_config(ctx)]
    out: list[Outcome] = []
    for where, vpc in settings:
        count = len(vpc.security_group_ids)
        if count > MAX_SGS_PER_VPC_CONFIG:
            out.append(
                failed(
                    where,
                    f"{where} lists {count} security groups; HyperPod accepts at most "
                    f"{MAX_SGS_PER_VPC_CONFIG} (a network interface holds at most 5 by default)",
                    f"Merge rules into fewer groups and list at most {MAX_SGS_PER_VPC_CONFIG} in "
                    f"{where}.SecurityGroupIds.",
                    count=count,
                )
            )
        elif count == 0 and vpc.subnets:
            out.append(
                failed(
                    where,
                    f"{where} lists subnets but no security group (1 to 5 are required)",
                    f"Add the cluster's security group to {where}.SecurityGroupIds.",
                    count=count,
                )
            )
        else:
            out.append(passed(where, f"{where} lists {count} security group(s)", count=count))
    return out


@dataclass(frozen=True)
class RuleLimit:
    """The rules-per-direction limit a group is judged against, and where it came from."""

    value: int
    source: str  # "applied", "default" (Service Quotas) or "fallback" (could not be read)
    note: str = ""

    @property
    def described(self) -> str:
        if self.source == "applied":
            return f"the account's quota of {self.value}"
        if self.source == "default":
            return f"the AWS default quota of {self.value} (no applied value)"
        return f"the default limit of {self.value} (the account's quota could not be read)"


def rules_per_group_limit(ctx: CheckContext) -> RuleLimit:
    """The account's "Inbound or outbound rules per security group" (applied, else AWS
    default), or the documented default of 60 with the reason when it cannot be read: an
    advisory check never fails for want of the quota."""

    service, code = RULES_PER_SG_QUOTA
    try:
        quota = ctx.aws.quota_by_code(service, code)
    except FactUnavailable as exc:
        return RuleLimit(DEFAULT_RULES_PER_DIRECTION, "fallback", exc.describe())
    if quota is None:
        return RuleLimit(
            DEFAULT_RULES_PER_DIRECTION, "fallback", f"Service Quotas has no {service} quota {code}"
        )
    if quota.value is None:
        return RuleLimit(
            DEFAULT_RULES_PER_DIRECTION,
            "fallback",
            f"Service Quotas gave no value for {service} quota {code} ({quota.error or '?'})",
        )
    return RuleLimit(int(quota.value), quota.source)


@check(
    "network.sg-rule-count",
    "Security groups are not near the rules-per-direction quota (IPv4 and IPv6 each)",
    Severity.INFO,
    reads=("ec2.security-groups", "vpc.rules-per-group-quota"),
)
def sg_rule_count(ctx: CheckContext) -> list[Outcome]:
    """Each group's rules per direction (IPv4, IPv6) stay under the account's quota."""
    if not ctx.spec.all_security_groups:
        return [_no_sgs(ctx)]
    limit = rules_per_group_limit(ctx)
    fallback = f" ({limit.note}: judged against the default)" if limit.note else ""
    figures: dict[str, Any] = {"limit": limit.value, "limit_source": limit.source}
    out: list[Outcome] = []
    for sg_id, group in existing_groups(ctx, out):
        counts = {}
        for direction, key in (("inbound", "IpPermissions"), ("outbound", "IpPermissionsEgress")):
            entries = _rule_entries(group.get(key, []))
            # The quota applies to IPv4 and IPv6 rules separately; group and prefix-list
            # references count toward both.
            v4 = sum(1 for kind, _ in entries if kind != "v6")
            v6 = sum(1 for kind, _ in entries if kind != "v4")
            counts[direction] = max(v4, v6)
        worst = max(counts, key=lambda d: counts[d])
        if counts[worst] >= limit.value - RULE_COUNT_MARGIN:
            raise_it = (
                "raise the quota 'Inbound or outbound rules per security group' (service code "
                f"vpc, {RULES_PER_SG_QUOTA[1]}) in Service Quotas: aws service-quotas "
                "request-service-quota-increase --service-code vpc --quota-code "
                f"{RULES_PER_SG_QUOTA[1]} --desired-value <value> --region {ctx.aws.region}"
            )
            already = "; ignore this if it is already raised" if limit.source == "fallback" else ""
            out.append(
                warned(
                    sg_id,
                    f"{sg_id} has {counts[worst]} {worst} rules, near {limit.described} per "
                    f"direction (IPv4 and IPv6 rules count separately){fallback}: adding rules "
                    "(such as the EFA self rules) may fail",
                    f"Consolidate rules (prefix lists, group references), or {raise_it}{already}.",
                    severity=Severity.INFO,
                    **counts,
                    **figures,
                )
            )
        else:
            out.append(
                passed(
                    sg_id,
                    f"{sg_id}: {counts['inbound']} inbound, {counts['outbound']} outbound rules, "
                    f"within {limit.described} per direction{fallback}",
                    **counts,
                    **figures,
                )
            )
    return out


def _allows_port(
    permissions: Iterable[dict[str, Any]],
    sg_id: str,
    port: int,
    subnet_cidrs: list[ipaddress.IPv4Network],
) -> bool:
    """TCP ``port`` allowed within the cluster: from/to the group itself, or from/to an IPv4
    block holding every cluster subnet (a rule for some other network does not count)."""
    for p in permissions:
        protocol = str(p.get("IpProtocol"))
        if protocol == "-1":
            pass
        elif protocol in ("tcp", "6"):
            low, high = p.get("FromPort"), p.get("ToPort")
            if low is None or high is None or not (int(low) <= port <= int(high)):
                continue
        else:
            continue
        if any(_is_self_pair(pair, sg_id) for pair in p.get("UserIdGroupPairs", [])):
            return True
        if any(covers(r.get("CidrIp", ""), subnet_cidrs) for r in p.get("IpRanges", [])):
            return True
    return False


@check(
    "network.sg-fsx-lustre",
    "Security groups allow FSx for Lustre traffic (TCP 988, 1018-1023) within the group",
    Severity.HIGH,
    reads=("ec2.security-groups",),
)
def sg_fsx_lustre(ctx: CheckContext) -> list[Outcome]:
    """With --fsx, the groups admit TCP 988 and 1018-1023 from the cluster."""
    if not ctx.spec.all_security_groups:
        return [_no_sgs(ctx)]
    if not ctx.options.get("fsx"):
        return [skipped("-", "the config does not say it uses FSx for Lustre (pass --fsx)")]
    subnet_cidrs = [
        ipaddress.IPv4Network(str(subnet["CidrBlock"]), strict=False)
        for subnet in (ctx.aws.subnets(ctx.spec.all_subnets).values())
        if subnet.get("CidrBlock")
    ]
    out: list[Outcome] = []
    for sg_id, group in existing_groups(ctx, out):
        gaps = []
        for direction, key in (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress")):
            closed = [
                p
                for p in FSX_LUSTRE_PORTS
                if not _allows_port(group.get(key, []), sg_id, p, subnet_cidrs)
            ]
            if closed:
                gaps.append((direction, closed))
        if not gaps:
            out.append(passed(sg_id, f"{sg_id} allows TCP 988 and 1018-1023 within the group"))
            continue
        fixes = "; ".join(
            f"aws ec2 authorize-security-group-{d} --group-id {sg_id} --ip-permissions "
            f"'IpProtocol=tcp,FromPort=988,ToPort=988,UserIdGroupPairs=[{{GroupId={sg_id}}}]' "
            f"'IpProtocol=tcp,FromPort=1018,ToPort=1023,UserIdGroupPairs=[{{GroupId={sg_id}}}]'"
            for d, _ in gaps
        )
        out.append(
            failed(
                sg_id,
                f"{sg_id} blocks FSx for Lustre ports within the group: "
                + "; ".join(f"{d} {', '.join(map(str, ports))}" for d, ports in gaps)
                + "; the Lustre mount in the lifecycle scripts will hang. "
                + f'Expect: "{LIFECYCLE_FAILURE}"',
                fixes,
            )
        )
    return out
