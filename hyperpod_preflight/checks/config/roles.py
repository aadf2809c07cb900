"""The execution roles named by the config: IAM role ARNs of the cluster's partition."""

from __future__ import annotations

from collections import defaultdict

from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, skipped
from ...spec import (
    ROLE_ARN_RE,
    ClusterSpec,
    InstanceGroup,
)
from ._common import from_flags, no_groups, partition_of


# -- config.execution-role-arn ------------------------------------------------------------------
@check(
    "config.execution-role-arn",
    "Execution roles are IAM role ARNs of the cluster's partition",
    Severity.CRITICAL,
    needs_aws=False,
)
def check_execution_role_arn(ctx: CheckContext) -> list[Outcome]:
    """Every ExecutionRole is an IAM role ARN in the cluster's partition."""
    spec: ClusterSpec = ctx.spec
    if not spec.instance_groups:
        return no_groups()
    well_formed = [
        g.execution_role
        for g in spec.instance_groups
        if g.execution_role and ROLE_ARN_RE.fullmatch(g.execution_role)
    ]
    reference = partition_of(spec.eks_cluster_arn) or (
        partition_of(well_formed[0]) if well_formed else None
    )
    reference_of = "the EKS cluster ARN" if partition_of(spec.eks_cluster_arn) else "the first role"
    outcomes: list[Outcome] = []
    by_role: dict[str, list[InstanceGroup]] = defaultdict(list)
    for group in spec.instance_groups:
        if group.execution_role is None:
            if from_flags(spec):
                outcomes.append(skipped(group.name, "no --execution-role given"))
            else:
                outcomes.append(
                    failed(
                        group.name,
                        "no ExecutionRole",
                        f"Set {group.json_path}.ExecutionRole to the role ARN the nodes assume, "
                        'e.g. "arn:aws:iam::123456789012:role/sagemaker-hyperpod-exec".',
                    )
                )
            continue
        by_role[group.execution_role].append(group)
    for role, groups in by_role.items():
        paths = ", ".join(f"{g.json_path}.ExecutionRole" for g in groups)
        match = ROLE_ARN_RE.fullmatch(role)
        if not match:
            outcomes.append(
                failed(
                    role,
                    f"{role!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                    f"Set {paths} to the role's ARN as `aws iam get-role --role-name NAME "
                    "--query Role.Arn` prints it.",
                )
            )
        elif reference and match["partition"] != reference:
            outcomes.append(
                failed(
                    role,
                    f"role is in partition {match['partition']} but {reference_of} is in "
                    f"{reference}",
                    f"Use a role of partition {reference} in {paths}.",
                )
            )
        else:
            outcomes.append(
                passed(
                    role,
                    f"a well-formed role ARN: role {match['name']} in account "
                    f"{match['account']} (used by {', '.join(g.name for g in groups)}; whether it "
                    "exists and what it may do is read by the iam checks, not here)",
                )
            )
    return outcomes
