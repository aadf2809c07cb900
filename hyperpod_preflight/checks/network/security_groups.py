"""The cluster's security groups: they exist in the VPC, allow all traffic to and from
themselves (the EFA health check), open egress, group and rule counts, FSx for Lustre ports.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ...analysis.security_groups import (
    DEFAULT_RULES_PER_DIRECTION,
    PERMISSIONS_KEY,
    RULES_PER_SG_QUOTA,
    closed_fsx_lustre_ports,
    egress_open_only,
    fsx_lustre_rule_command,
    near_rule_limit,
    rule_counts,
    rule_entries,
    self_all_traffic,
    self_rule_command,
    self_rule_near_misses,
)
from ...errors import FactUnavailable
from ...planner import ClusterPlan
from ...registry import CheckContext, Request, check, need
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...shell import arg
from ...spec import ClusterSpec
from .. import _needs
from ._common import (
    EFA_FAILURE,
    LIFECYCLE_FAILURE,
    MAX_SGS_PER_VPC_CONFIG,
    _no_sgs,
    _no_vpc_config,
    _vpc_settings,
    cluster_vpc_id,
    efa_support,
    existing_groups,
)


# -- security groups ----------------------------------------------------------------------
@check(
    "network.sg-exists",
    "Each security group exists and is in the cluster's VPC",
    Severity.CRITICAL,
    needs=lambda spec, plan: [
        *_needs.security_groups(spec),
        need("cluster_vpc_id", spec.all_subnets, spec.vpc_id),
    ],
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
                    f"create-security-group --vpc-id {arg(vpc_id or '<vpc-id>')} --group-name "
                    "<name> --description <text>`.",
                )
            )
        elif not group.get("VpcId"):
            out.append(
                unknown(
                    sg_id,
                    f"could not tell: DescribeSecurityGroups gave no VpcId for {sg_id}",
                    f"Check it with `aws ec2 describe-security-groups --group-ids {arg(sg_id)}`, "
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
                    f"--filters Name=vpc-id,Values={arg(vpc_id)}`.",
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


# https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-prerequisites.html: "For
# HyperPod clusters using Elastic Fabric Adapter (EFA)-enabled instances, configure the security
# group to allow all inbound and outbound traffic to and from the security group itself."
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/create-efa.html: "the EFA must be a member
# of a security group that allows all inbound and outbound traffic to and from the security group
# itself." So the rules are asked of the groups of EFA instances, and one such group per node
# is enough: a controller's or an admin group without them is no FAIL.
EFA_SG_DOC = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/create-efa.html"


def _self_rule_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    return [*_needs.security_groups(spec), *_needs.instance_types(spec)]


WORDS = {"ingress": "inbound traffic from", "egress": "outbound traffic to"}


def _both_self_rules(group: dict[str, Any], sg_id: str) -> bool:
    return all(
        self_all_traffic(group.get(PERMISSIONS_KEY[d], []), sg_id) for d in ("ingress", "egress")
    )


@dataclass
class _Users:
    """The instance groups using one security group, by whether their types have EFA."""

    efa: list[str]  # EFA types, and no other group of theirs has both self rules
    covered: dict[str, str]  # EFA group -> its other security group that has both rules
    unknown: list[str]  # EFA support could not be told
    plain: list[str]  # no EFA (e.g. the controller's ml.t3.medium)


def _users(
    ctx: CheckContext, sg_id: str, described: dict[str, Any], efa: dict[str, bool | None]
) -> _Users:
    users = _Users([], {}, [], [])
    for group in ctx.spec.instance_groups:
        vpc = ctx.spec.vpc_for(group)
        if vpc is None or sg_id not in vpc.security_group_ids:
            continue
        flags = [efa.get(t) for t in group.ec2_types]
        if flags and all(f is False for f in flags):
            users.plain.append(f"{group.name} ({', '.join(group.types)})")
            continue
        ready = [
            other
            for other in vpc.security_group_ids
            if other != sg_id and other in described and _both_self_rules(described[other], other)
        ]
        if ready:
            users.covered[group.name] = ready[0]
        elif any(f is True for f in flags):
            users.efa.append(group.name)
        else:
            users.unknown.append(group.name)
    return users


def _self_rule_check(ctx: CheckContext, direction: str) -> list[Outcome]:
    out: list[Outcome] = []
    described = dict(existing_groups(ctx, out))
    efa: dict[str, bool | None] | None = None  # read once, when a group lacks the rule
    for sg_id, group in described.items():
        permissions = group.get(PERMISSIONS_KEY[direction], [])
        if self_all_traffic(permissions, sg_id):
            out.append(passed(sg_id, f"{sg_id} allows all {WORDS[direction]} itself"))
            continue
        if efa is None:
            efa = efa_support(ctx, ctx.spec.instance_groups)
        users = _users(ctx, sg_id, described, efa)
        out.append(_without_self_rule(sg_id, direction, described, users))
    return out


def _without_self_rule(
    sg_id: str, direction: str, described: dict[str, Any], users: _Users
) -> Outcome:
    """The verdict on ``sg_id``, which lacks the all-traffic rule ``direction`` itself: FAIL
    only where an EFA group has no other group with both rules."""
    word = WORDS[direction]
    if users.efa:
        near = self_rule_near_misses(described[sg_id].get(PERMISSIONS_KEY[direction], []), sg_id)
        hint = (
            f" (its self rules cover only {', '.join(near)}: EFA needs protocol -1, all "
            "traffic; port ranges do not count)"
            if near
            else ""
        )
        return failed(
            sg_id,
            f"{sg_id} does not allow all {word} itself{hint}, nor does another group of "
            f'{", ".join(users.efa)} (EFA). Expect: "{EFA_FAILURE}"',
            self_rule_command(direction, sg_id),
            groups=users.efa,
            docs=EFA_SG_DOC,
        )
    if users.unknown:
        return unknown(
            sg_id,
            f"could not tell whether {sg_id} needs the all-traffic {word} itself rule: "
            f"whether {', '.join(users.unknown)} use EFA could not be read",
            "Allow ec2:DescribeInstanceTypes, then run again.",
            groups=users.unknown,
        )
    if users.covered:
        via = ", ".join(f"{g} through {other}" for g, other in users.covered.items())
        return passed(
            sg_id,
            f"{sg_id} does not allow all {word} itself, but every EFA group using it is in a "
            f"group that allows all traffic to and from itself ({via})",
        )
    if users.plain:
        return skipped(
            sg_id,
            f"{sg_id} is used only by groups without EFA ({'; '.join(users.plain)}): the "
            "self rules are asked for EFA-enabled instances",
        )
    return skipped(sg_id, f"no instance group uses {sg_id}")


@check(
    "network.sg-efa-self-ingress",
    "Each security group of EFA instances allows all inbound traffic from itself",
    Severity.CRITICAL,
    needs=_self_rule_needs,
)
def sg_efa_self_ingress(ctx: CheckContext) -> list[Outcome]:
    """Each group has an all-traffic inbound rule from itself (any rule, any pair), where an
    EFA instance group needs it."""
    return _self_rule_check(ctx, "ingress")


@check(
    "network.sg-efa-self-egress",
    "Each security group of EFA instances allows all outbound traffic to itself",
    Severity.CRITICAL,
    needs=_self_rule_needs,
)
def sg_efa_self_egress(ctx: CheckContext) -> list[Outcome]:
    """Each group has an all-traffic outbound rule to itself (any rule, any pair), where an
    EFA instance group needs it."""
    return _self_rule_check(ctx, "egress")


@check(
    "network.sg-egress-open-only",
    "Outbound rules are not only 0.0.0.0/0",
    Severity.MEDIUM,
    needs=lambda spec, plan: _needs.security_groups(spec),
)
def sg_egress_open_only(ctx: CheckContext) -> list[Outcome]:
    """Outbound rules are not only 0.0.0.0/0, which can fail the EFA health check (WARN)."""
    out: list[Outcome] = []
    for sg_id, group in existing_groups(ctx, out):
        outbound = group.get(PERMISSIONS_KEY["egress"], [])
        if egress_open_only(outbound):
            out.append(
                warned(
                    sg_id,
                    f"the only outbound rule of {sg_id} is to 0.0.0.0/0; HyperPod's docs warn "
                    f'this can make the EFA health checks fail ("{EFA_FAILURE}")',
                    "Add an all-traffic rule to the group itself: "
                    + self_rule_command("egress", sg_id),
                )
            )
        else:
            out.append(
                passed(
                    sg_id,
                    f"{sg_id} does not rely on a lone 0.0.0.0/0 rule for outbound traffic "
                    f"({len(rule_entries(outbound))} rules)",
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
    needs=lambda spec, plan: [
        *_needs.security_groups(spec),
        need("quota_by_code", *RULES_PER_SG_QUOTA),
    ],
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
        counts = rule_counts(group)
        worst = max(counts, key=lambda d: counts[d])
        if near_rule_limit(counts[worst], limit.value):
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


@check(
    "network.sg-fsx-lustre",
    "Security groups allow FSx for Lustre traffic (TCP 988, 1018-1023) within the group",
    Severity.HIGH,
    needs=lambda spec, plan: [*_needs.security_groups(spec), *_needs.subnets(spec)],
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
        for direction, key in PERMISSIONS_KEY.items():
            closed = closed_fsx_lustre_ports(group.get(key, []), sg_id, subnet_cidrs)
            if closed:
                gaps.append((direction, closed))
        if not gaps:
            out.append(passed(sg_id, f"{sg_id} allows TCP 988 and 1018-1023 within the group"))
            continue
        fixes = "; ".join(fsx_lustre_rule_command(d, sg_id) for d, _ in gaps)
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
