"""What the instance types of each group allow: ThreadsPerCore, EFA within one zone, and
whether each type can be sized at all (IPs, ENIs, EFA)."""

from __future__ import annotations

from collections import defaultdict

from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...spec import (
    ClusterSpec,
)
from ._common import no_groups, type_info


# -- config.threads-per-core --------------------------------------------------------------------
@check(
    "config.threads-per-core",
    "ThreadsPerCore is valid for the instance type",
    Severity.HIGH,
    needs_aws=False,
)
def check_threads_per_core(ctx: CheckContext) -> list[Outcome]:
    """ThreadsPerCore is valid for the group's instance type."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return no_groups()
    plan = ctx.plan
    outcomes = []
    for group in spec.instance_groups:
        threads = group.threads_per_core
        if threads is None:
            outcomes.append(passed(group.name, "ThreadsPerCore not set: the type's default"))
            continue
        path = f"{group.json_path}.ThreadsPerCore"
        verdict: Outcome = passed(group.name, f"ThreadsPerCore {threads} is valid")
        for ec2_type in group.ec2_types:
            info = type_info(plan, ec2_type)
            if info is None:
                verdict = unknown(
                    group.name,
                    f"ml.{ec2_type} is not sized offline: cannot tell which ThreadsPerCore it "
                    "supports",
                    "Run with AWS credentials so ec2:DescribeInstanceTypes tells.",
                )
                break
            valid = info.valid_threads_per_core
            if valid and threads not in valid:
                verdict = failed(
                    group.name,
                    f"ml.{ec2_type} supports ThreadsPerCore {', '.join(map(str, valid))}, "
                    f"not {threads}",
                    f"Set {path} to {valid[0]}, or remove it.",
                    valid=list(valid),
                )
                break
            if not valid and threads != info.default_threads_per_core:
                verdict = warned(
                    group.name,
                    f"ml.{ec2_type} does not let its CPU options change (EC2 lists no valid "
                    f"threads per core); ThreadsPerCore {threads} may be refused",
                    f"Remove {path}: the type runs {info.default_threads_per_core} thread(s) "
                    "per core.",
                )
        outcomes.append(verdict)
    return outcomes


# -- config.efa-single-subnet-az ----------------------------------------------------------------
@check(
    "config.efa-single-subnet-az",
    "EFA instance groups are not spread over several subnets",
    Severity.HIGH,
    needs_aws=False,
)
def check_efa_single_subnet_az(ctx: CheckContext) -> list[Outcome]:
    """A group of an EFA type lists one subnet, so its nodes stay in one AZ."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return no_groups()
    plan = ctx.plan
    outcomes: list[Outcome] = []
    for group in spec.instance_groups:
        vpc = spec.vpc_for(group)
        subnets = vpc.subnets if vpc else ()
        if not subnets:
            outcomes.append(skipped(group.name, "no subnets configured for this group"))
            continue
        if len(subnets) == 1:
            outcomes.append(passed(group.name, f"one subnet ({subnets[0]})"))
            continue
        infos = [type_info(plan, t) for t in group.ec2_types]
        if not infos or any(i is None for i in infos):
            outcomes.append(
                unknown(
                    group.name,
                    f"{len(subnets)} subnets, and the type is not sized offline: cannot tell "
                    "whether it uses EFA",
                    "Run with AWS credentials so ec2:DescribeInstanceTypes tells.",
                )
            )
            continue
        if not any(i.efa_supported for i in infos if i is not None):
            outcomes.append(skipped(group.name, "the instance type has no EFA"))
            continue
        if group.count <= 1:
            outcomes.append(passed(group.name, "at most one node: EFA spans no zones"))
            continue
        where = (
            f"{group.json_path}.OverrideVpcConfig.Subnets" if group.override_vpc else
            "VpcConfig.Subnets"
        )  # fmt: skip
        outcomes.append(
            warned(
                group.name,
                f"EFA group of {group.count} nodes over {len(subnets)} subnets: all its nodes "
                "must be in one Availability Zone (EFA traffic does not cross zones); the "
                "network checks verify the subnets' zones",
                f"List subnets of one Availability Zone only in {where} (e.g. only "
                f"{subnets[0]}), or give the group an OverrideVpcConfig with one subnet.",
                subnets=list(subnets),
            )
        )
    return outcomes


# -- config.instance-types-sized ----------------------------------------------------------------
@check(
    "config.instance-types-sized",
    "Instance types can be sized (IPs, ENIs, EFA)",
    Severity.LOW,
    needs_aws=False,
)
def check_instance_types_sized(ctx: CheckContext) -> list[Outcome]:
    """Every instance type can be sized from EC2 or the catalog (IPs, ENIs, EFA)."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return no_groups()
    plan = ctx.plan
    users: dict[str, list[str]] = defaultdict(list)
    for group in spec.instance_groups:
        for ec2_type in group.ec2_types:
            users[ec2_type].append(group.name)
    outcomes = []
    for ec2_type, groups in users.items():
        info = plan.type_info.get(ec2_type)
        if info is not None:
            outcomes.append(passed(f"ml.{ec2_type}", f"sized from {info.source}"))
            continue
        outcomes.append(
            warned(
                f"ml.{ec2_type}",
                f"ml.{ec2_type} cannot be sized offline (not in the built-in catalog): IPs per "
                f"node, ENIs and EFA of {', '.join(dict.fromkeys(groups))} are unknown",
                "Run without --offline, with AWS credentials allowing "
                "ec2:DescribeInstanceTypes, so its figures come from EC2.",
            )
        )
    return outcomes
