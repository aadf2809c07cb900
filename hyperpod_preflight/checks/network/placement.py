"""Placement: every group of an EFA instance type stays in one Availability Zone (compared by
AZ id).
"""

from __future__ import annotations

import shlex

from ...analysis.network import (
    EgressPath,
    egress_paths,
)
from ...registry import CheckContext, check
from ...results import Outcome, Severity, passed, skipped, unknown, warned
from ...spec import InstanceGroup
from .. import _needs
from ._common import (
    EFA_FAILURE,
    LIFECYCLE_FAILURE,
    cluster_vpc_id,
    efa_support,
)


# -- placement ----------------------------------------------------------------------------
@check(
    "network.efa-single-az",
    "Each group of an EFA instance type stays in one availability zone",
    Severity.CRITICAL,
    needs=lambda spec, plan: [*_needs.subnets(spec), *_needs.instance_types(spec)],
)
def efa_single_az(ctx: CheckContext) -> list[Outcome]:
    """A group of an EFA type inheriting VpcConfig is in one AZ (HyperPod picks one subnet);
    an OverrideVpcConfig whose subnets span several AZs (by AZ id) is a WARN."""
    groups = list(ctx.spec.instance_groups)
    if not groups or not ctx.spec.all_subnets:
        return [skipped("-", "no instance groups with subnets")]
    subnets = ctx.aws.subnets(ctx.spec.all_subnets)
    efa = efa_support(ctx, groups)
    out: list[Outcome] = []
    for group in groups:
        vpc = ctx.spec.vpc_for(group)
        if vpc is None or not vpc.subnets:
            out.append(skipped(group.name, "the group has no subnets"))
            continue
        flags = [efa.get(t) for t in group.ec2_types]
        if flags and all(f is False for f in flags):
            out.append(skipped(group.name, f"{', '.join(group.types)} has no EFA"))
            continue
        if group.override_vpc is None:
            out.append(
                passed(
                    group.name,
                    f"group {group.name} inherits VpcConfig: HyperPod selects one subnet of it "
                    f"and all instance groups inherit its AZ ({MULTI_AZ_DOC})",
                )
            )
            continue
        zones: dict[str, list[str]] = {}
        unplaced: list[str] = []  # not described, or described without a zone id
        for sid in vpc.subnets:
            zone = subnets.get(sid, {}).get("AvailabilityZoneId")
            if zone:
                zones.setdefault(str(zone), []).append(sid)
            else:
                unplaced.append(sid)
        if len(zones) <= 1 and unplaced:
            out.append(
                unknown(
                    group.name,
                    f"could not tell whether group {group.name} stays in one zone: EC2 gives "
                    f"no zone for its subnet(s) {', '.join(unplaced)} (not described)",
                    "Fix the subnet ids (aws ec2 describe-subnets --subnet-ids "
                    + " ".join(shlex.quote(s) for s in unplaced)
                    + "), then run again.",
                    zones=zones,
                    unplaced_subnets=unplaced,
                )
            )
            continue
        if len(zones) <= 1:
            zone = next(iter(zones), "?")
            if any(f is None for f in flags):
                out.append(
                    passed(
                        group.name,
                        f"group {group.name} is in one zone ({zone}) (EFA support unknown)",
                    )
                )
            else:
                out.append(passed(group.name, f"EFA group {group.name} is in one zone ({zone})"))
            continue
        spread = "; ".join(f"{z}: {', '.join(s)}" for z, s in sorted(zones.items()))
        if any(f is None for f in flags):
            out.append(
                unknown(
                    group.name,
                    f"group {group.name} spans zones ({spread}) and whether "
                    f"{', '.join(group.types)} uses EFA could not be read",
                    "Allow ec2:DescribeInstanceTypes, then run again.",
                )
            )
            continue
        out.append(_spread_outcome(group, spread, zones))
    return out


# https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-prerequisites.html
# ("Setting up SageMaker HyperPod clusters across multiple AZs"): "when VpcConfig is provided,
# HyperPod selects a subnet from the provided VpcConfig's subnet list. All instance groups
# inherit the subnet's AZ." Multi-AZ through OverrideVpcConfig is documented and supported;
# "Elastic Fabric Adapter (EFA) traffic cannot cross AZs or VPCs." So a cluster VpcConfig
# listing several zones is no problem, and an override spanning zones is a WARN: no page says
# the cluster then fails, only that EFA traffic cannot cross the zones it lands in.
MULTI_AZ_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-prerequisites.html"
)


def _spread_outcome(group: InstanceGroup, spread: str, zones: dict[str, list[str]]) -> Outcome:
    """An EFA group whose OverrideVpcConfig subnets span several zones: a WARN."""
    return warned(
        group.name,
        f"EFA group {group.name} ({', '.join(group.types)}) has an OverrideVpcConfig whose "
        f"subnets span zones {spread}: EFA traffic cannot cross AZs ({MULTI_AZ_DOC}), so "
        "nodes placed in different zones talk over IP only",
        f"Give {group.name} subnets of one zone only, in "
        "InstanceGroups[].OverrideVpcConfig.Subnets, unless it is meant to span zones.",
        severity=Severity.HIGH,
        zones={z: s for z, s in zones.items()},
    )


__all__ = [
    "EFA_FAILURE",
    "LIFECYCLE_FAILURE",
    "EgressPath",
    "cluster_vpc_id",
    "efa_support",
    "egress_paths",
]
