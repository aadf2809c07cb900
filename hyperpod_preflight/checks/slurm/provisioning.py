"""``SlurmConfig`` against the lifecycle ``provisioning_parameters.json`` (area ``slurm``):
when both exist, every instance group has the same Slurm role in each (controller, login,
worker) and every worker group's partition is one of its ``SlurmConfig.PartitionNames``.

The file judged is the one the nodes read, in the lifecycle prefix in S3; a local copy
given with ``--lifecycle-dir`` stands in only when no prefix holds one, and a local copy
that differs from the uploaded one is a WARN naming the fields that differ (the nodes read
the uploaded one).

The comparison of groups and roles is :func:`~hyperpod_preflight.analysis.provisioning.
cross_check`'s; this check adds the partitions and reports per instance group.
"""

from __future__ import annotations

import shlex

from ...analysis.lifecycle_models import LintLevel
from ...analysis.provisioning import cross_check, differing_fields
from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, skipped, warned
from ._common import (
    ParamsCopy,
    ParamsSources,
    parameter_sources,
    parameters_needs,
    unread_parameters,
)

Problems = dict[str, list[tuple[LintLevel, str, str]]]


@check(
    "slurm.provisioning-parameters",
    "SlurmConfig node types and partitions agree with provisioning_parameters.json",
    Severity.HIGH,
    needs_aws=False,
    needs=parameters_needs,
)
def provisioning_agrees(ctx: CheckContext) -> list[Outcome]:
    """SlurmConfig node types and partitions agree with provisioning_parameters.json."""
    if ctx.spec.orchestrator != "slurm":
        return [skipped("-", "not a Slurm cluster")]
    sources = parameter_sources(ctx)
    out = [*unread_parameters(sources), *_local_differs(sources)]
    in_use = sources.in_use
    if not in_use:
        if not out:
            out.append(skipped("-", _nothing_read(ctx, sources)))
        return out
    parsed = [c for c in in_use if c.params is not None]
    if not parsed:
        files = ", ".join(c.file for c in in_use)
        why = f"{files} does not parse (hp-preflight lifecycle lint says why)"
        return [*out, skipped("-", why)]
    groups = ctx.spec.instance_groups
    if not any(g.slurm_node_type or g.partition_names for g in groups):
        return [*out, skipped("-", "no instance group has a SlurmConfig to compare with")]
    problems: Problems = {}
    for copy in parsed:
        _role_problems(ctx, copy, problems)
        _partition_problems(ctx, copy, problems)
    return out + _per_group(ctx, problems, ", ".join(c.file for c in parsed))


def _nothing_read(ctx: CheckContext, sources: ParamsSources) -> str:
    if sources.local_given:
        return "the --lifecycle-dir holds no readable provisioning_parameters.json"
    if ctx.offline:
        return "no provisioning_parameters.json read offline (pass --lifecycle-dir)"
    return "no lifecycle prefix holds a provisioning_parameters.json"


def _local_differs(sources: ParamsSources) -> list[Outcome]:
    """WARN per uploaded copy that the local copy differs from, naming the fields."""
    local = sources.local
    if local is None:
        return []
    out: list[Outcome] = []
    for copy in sources.uploaded:
        if copy.data == local.data:
            continue
        fields = differing_fields(local.data, copy.data)
        if fields == []:  # the same values, written differently
            continue
        what = (
            f"in {', '.join(fields)}"
            if fields
            else "(one of the two is not a JSON object, so only their bytes were compared)"
        )
        out.append(
            warned(
                copy.file,
                f"the local {local.file} differs from the uploaded {copy.file} {what}: the "
                "nodes read the uploaded copy, so the local one is not what the cluster gets",
                f"Upload the local copy if it is the one you mean: aws s3 cp "
                f"{shlex.quote(local.file)} {shlex.quote(copy.file)}",
                differing_fields=fields,
                local_file=local.file,
            )
        )
    return out


def _role_problems(ctx: CheckContext, copy: ParamsCopy, problems: Problems) -> None:
    assert copy.params is not None
    groups = ctx.spec.instance_groups
    node_types = {g.name: g.slurm_node_type for g in groups}
    region = ctx.facts.region if ctx.facts else None
    for finding in cross_check(copy.params, node_types, file=copy.file, region=region):
        if finding.level not in (LintLevel.FAIL, LintLevel.WARN):
            continue
        named = [g.name for g in groups if f'"{g.name}"' in finding.message]
        for name in named or ["-"]:
            problems.setdefault(name, []).append(
                (finding.level, f"{copy.file} {finding.message}", finding.remediation)
            )


def _partition_problems(ctx: CheckContext, copy: ParamsCopy, problems: Problems) -> None:
    assert copy.params is not None
    by_name = {g.name: g for g in ctx.spec.instance_groups}
    for worker in copy.params.worker_groups:
        group = by_name.get(worker.instance_group_name)
        if group is None or not group.partition_names:
            continue
        if worker.partition_name not in group.partition_names:
            problems.setdefault(group.name, []).append(
                (
                    LintLevel.FAIL,
                    f'{copy.file} puts "{group.name}" in partition "{worker.partition_name}", '
                    f"its SlurmConfig.PartitionNames in the config are "
                    f"{', '.join(group.partition_names)}",
                    f'use one name in both: set "partition_name": "{group.partition_names[0]}" '
                    f'in {copy.file}, or add "{worker.partition_name}" to the group\'s '
                    "SlurmConfig.PartitionNames",
                )
            )


def _per_group(ctx: CheckContext, problems: Problems, files: str) -> list[Outcome]:
    out: list[Outcome] = []
    for name in [*(g.name for g in ctx.spec.instance_groups), "-"]:
        found = problems.get(name)
        if not found:
            if name != "-":
                out.append(passed(name, f"{name}: its Slurm role agrees with {files}"))
            continue
        message = f"{name}: " + "; ".join(m for _, m, _ in found)
        fix = "; ".join(dict.fromkeys(r for _, _, r in found if r))
        if any(level is LintLevel.FAIL for level, _, _ in found):
            out.append(failed(name, message, fix))
        else:
            out.append(warned(name, message, fix))
    return out
