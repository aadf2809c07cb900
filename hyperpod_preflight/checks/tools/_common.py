"""The shared judgement of one local tool (no check is registered here): found on PATH, its
version read from its own output, and at least the minimum."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...analysis.tool_versions import TOOLS, ToolSpec, Version, dotted
from ...planner import ClusterPlan
from ...records import ToolRun
from ...registry import CheckContext, Need, NeedsFn, need
from ...results import Outcome, passed, skipped, unknown, warned
from ...results import failed as failed_outcome
from ...spec import ClusterSpec


def tool_needs(name: str) -> NeedsFn:
    """The needs of the check of tool ``name``: its one run, unless the config does not
    use it (an EKS tool on a Slurm config)."""

    def needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Need]:
        tool = TOOLS[name]
        if tool.needed_by == "eks" and spec.orchestrator != "eks":
            return []
        return [need("tool_run", name, tool.args)]

    return needs


def not_needed(ctx: CheckContext, spec: ToolSpec) -> Outcome | None:
    if spec.needed_by == "eks" and ctx.spec.orchestrator != "eks":
        return skipped(spec.name, f"{spec.name} is for EKS clusters; this config is Slurm")
    return None


def read(ctx: CheckContext, name: str) -> tuple[ToolSpec, ToolRun, Version | None, Outcome | None]:
    """The tool's spec, its run, its parsed version, and the outcome when the judgement
    already ends here (missing, not runnable, version unreadable)."""
    spec = TOOLS[name]
    skip = not_needed(ctx, spec)
    if skip is not None:
        return spec, ToolRun(name, None), None, skip
    run = ctx.aws.tool_run(name, spec.args)
    if not run.found:
        why = f"{name} is not installed (not on PATH); it is used for {spec.purpose}"
        hint = f"Install it: {spec.install}"
        if spec.required:
            return spec, run, None, failed_outcome(name, why, hint)
        return spec, run, None, warned(name, why, hint)
    if run.error:
        return spec, run, None, unknown(name, f"could not tell: {run.path} {run.error}")
    version = spec.parse(run.output)
    if version is None:
        first = run.output.splitlines()[0][:120] if run.output else "no output"
        return (
            spec,
            run,
            None,
            unknown(
                name,
                f"could not tell the version of {name} at {run.path} (said: {first!r})",
                f"Check by hand: {name} {' '.join(spec.args)}",
                output=run.output[:500],
            ),
        )
    return spec, run, version, None


def judge_minimum(spec: ToolSpec, run: ToolRun, version: Version) -> Outcome:
    shown = dotted(version)
    if spec.minimum is None or version >= spec.minimum:
        return passed(spec.name, f"{spec.name} {shown} at {run.path}", version=shown)
    return warned(
        spec.name,
        f"{spec.name} {shown} is older than {dotted(spec.minimum)}, needed for {spec.purpose}",
        f"Update it: {spec.install}",
        version=shown,
    )


@dataclass(frozen=True)
class MajorFloor:
    """The first major version that does the job, and what an older one is told: its verdict
    (``warned`` or ``failed``), what it is (after "<tool> <version> ") and the fix (before
    ": <install hint>")."""

    major: int
    verdict: Callable[..., Outcome]
    what: str
    fix: str


def judge_tool(ctx: CheckContext, name: str, floor: MajorFloor | None = None) -> list[Outcome]:
    """The one outcome of a local tool: missing, unreadable, below ``floor``'s major, else
    judged against its minimum version."""
    spec, run, version, done = read(ctx, name)
    if done is not None:
        return [done]
    assert version is not None
    if floor is not None and version[0] < floor.major:
        shown = dotted(version)
        return [
            floor.verdict(
                name, f"{name} {shown} {floor.what}", f"{floor.fix}: {spec.install}", version=shown
            )
        ]
    return [judge_minimum(spec, run, version)]
