"""``SlurmConfig`` against the lifecycle ``provisioning_parameters.json`` (area ``slurm``):
when both exist, every instance group has the same Slurm role in each (controller, login,
worker) and every worker group's partition is one of its ``SlurmConfig.PartitionNames``.

The comparison of groups and roles is :func:`~hyperpod_preflight.analysis.provisioning.
cross_check`'s; this check adds the partitions and reports per instance group.
"""

from __future__ import annotations

from ...analysis.lifecycle_models import LintLevel
from ...analysis.provisioning import cross_check
from ...models import Outcome, Severity, failed, passed, skipped, warned
from ...registry import CheckContext, check
from ._common import provisioning_parameters


@check(
    "slurm.provisioning-parameters",
    "SlurmConfig node types and partitions agree with provisioning_parameters.json",
    Severity.HIGH,
    needs_aws=False,
)
def provisioning_agrees(ctx: CheckContext) -> list[Outcome]:
    """SlurmConfig node types and partitions agree with provisioning_parameters.json."""
    if ctx.spec.orchestrator != "slurm":
        return [skipped("-", "not a Slurm cluster")]
    params, file = provisioning_parameters(ctx)
    if params is None:
        given = ctx.options.get("provisioning_parameters")
        why = (
            f"{file} was not found or does not parse (hp-preflight lifecycle lint says why)"
            if given
            else "no provisioning_parameters.json given (pass --lifecycle-dir)"
        )
        return [skipped("-", why)]
    groups = ctx.spec.instance_groups
    if not any(g.slurm_node_type or g.partition_names for g in groups):
        return [skipped("-", "no instance group has a SlurmConfig to compare with")]
    node_types = {g.name: g.slurm_node_type for g in groups}
    problems: dict[str, list[tuple[LintLevel, str, str]]] = {}
    for finding in cross_check(
        params, node_types, file=file, region=ctx.facts.region if ctx.facts else None
    ):
        if finding.level not in (LintLevel.FAIL, LintLevel.WARN):
            continue
        named = [g.name for g in groups if f'"{g.name}"' in finding.message]
        for name in named or ["-"]:
            problems.setdefault(name, []).append(
                (finding.level, f"{file} {finding.message}", finding.remediation)
            )
    by_name = {g.name: g for g in groups}
    for worker in params.worker_groups:
        group = by_name.get(worker.instance_group_name)
        if group is None or not group.partition_names:
            continue
        if worker.partition_name not in group.partition_names:
            problems.setdefault(group.name, []).append(
                (
                    LintLevel.FAIL,
                    f'{file} puts "{group.name}" in partition "{worker.partition_name}", its '
                    f"SlurmConfig.PartitionNames in the config are "
                    f"{', '.join(group.partition_names)}",
                    f'use one name in both: set "partition_name": "{group.partition_names[0]}" '
                    f'in {file}, or add "{worker.partition_name}" to the group\'s '
                    "SlurmConfig.PartitionNames",
                )
            )
    out: list[Outcome] = []
    for name in [*(g.name for g in groups), "-"]:
        found = problems.get(name)
        if not found:
            if name != "-":
                out.append(passed(name, f"{name}: its Slurm role agrees with {file}"))
            continue
        message = f"{name}: " + "; ".join(m for _, m, _ in found)
        fix = "; ".join(dict.fromkeys(r for _, _, r in found if r))
        if any(level is LintLevel.FAIL for level, _, _ in found):
            out.append(failed(name, message, fix))
        else:
            out.append(warned(name, message, fix))
    return out
