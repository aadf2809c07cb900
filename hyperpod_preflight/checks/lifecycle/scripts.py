"""Lint each lifecycle prefix the config names, reading S3 through the facts layer."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field, replace
from typing import Any

from ...analysis.lifecycle import DEFAULT_MAX_BYTES, LintReport, lint, normalize_path
from ...analysis.lifecycle_models import EgressInfo, LintFinding, LintLevel, ToolResult
from ...analysis.provisioning import check_provisioning_parameters
from ...analysis.s3_lifecycle import (
    PROVISIONING_PARAMETERS,
    LifecyclePrefix,
    lifecycle_prefixes,
    needs_provisioning_parameters,
)
from ...errors import FactUnavailable
from ...planner import ClusterPlan
from ...registry import CheckContext, Need, Request, Then, UndeclaredRead, check, need
from ...results import Outcome, Severity, Status, passed, skipped, unknown
from ...spec import ClusterSpec
from .. import _needs
from .._common import read_egress_paths

PROVISIONING_RULES = frozenset({"provisioning-field", "provisioning-groups", "provisioning-fsx"})
# Findings that a file is not in the prefix: provable only from a complete listing.
ABSENCE_RULES = frozenset({"missing-entry", "missing-reference"})
# Read with the listing (see ``prefetched``): the languages the lint reads, bounded.
PREFETCH_SUFFIXES = (".sh", ".bash", ".py", ".json")
PREFETCH_MAX_FILES = 64
PREFETCH_MAX_BYTES = 8 * 1024 * 1024


def _egress(ctx: CheckContext) -> EgressInfo | None:
    """Whether the cluster's subnets reach the internet, from network's egress analysis;
    None when it cannot be told (the lint then never FAILs a download)."""
    subnet_ids = tuple(ctx.spec.all_subnets)
    if not subnet_ids:  # no VpcConfig: nodes use the HyperPod service VPC, with internet
        return EgressInfo()
    try:
        paths = read_egress_paths(ctx, subnet_ids)
    except FactUnavailable:
        return None
    if any(sid not in paths for sid in subnet_ids):
        return None
    return EgressInfo(
        subnets_without_internet=tuple(s for s in subnet_ids if not paths[s].reaches_internet)
    )


def lint_prefix(ctx: CheckContext, where: LifecyclePrefix) -> LintReport:
    """List the prefix once; fetch only what the entries reach (FactUnavailable if the
    listing cannot be read: an empty listing would be a false 'missing entry')."""
    listing = ctx.aws.prefix_listing(where.bucket, where.prefix)

    def fetch(path: str) -> bytes | None:
        return ctx.aws.object_head_bytes(where.bucket, where.prefix + path, DEFAULT_MAX_BYTES)

    undeclared: list[UndeclaredRead] = []

    def run_tool(argv: list[str], stdin: bytes) -> ToolResult | None:
        """``bash -n`` / ``shellcheck`` as this machine answered them (gathered facts)."""
        try:
            return ctx.aws.lint_tool(tuple(argv), stdin)
        except UndeclaredRead as exc:  # the lint would say "could not run": a defect instead
            undeclared.append(exc)
            raise

    groups = {g.name: g.slurm_node_type for g in ctx.spec.instance_groups if not g.restricted}
    report = lint(
        where.entries,
        listing.sizes,
        fetch,
        egress=_egress(ctx),
        run_tool=run_tool,
        instance_groups=groups,
        region=ctx.aws.region,
        check_provisioning=needs_provisioning_parameters(ctx.spec),
        source_uri=where.uri,  # fixes name the real destination, not <SourceS3Uri>
    )
    if undeclared:
        raise undeclared[0]
    if not listing.truncated:
        return report
    findings = tuple(_unlisted(f, len(listing.sizes)) for f in report.findings)
    return replace(report, findings=findings)


def _unlisted(f: LintFinding, listed: int) -> LintFinding:
    """A 'not in the prefix' finding of a listing that stopped early: UNKNOWN, not FAIL."""
    if f.rule not in ABSENCE_RULES or f.level not in (LintLevel.FAIL, LintLevel.WARN):
        return f
    return replace(
        f,
        level=LintLevel.UNKNOWN,
        message=f"could not tell: the listing of the prefix stopped after {listed} "
        f"objects, so this may be a file it did not reach: {f.message}",
    )


def _outcome(where: LifecyclePrefix, f: LintFinding, seen: set[str]) -> Outcome:
    """One lint finding as an outcome on ``s3://bucket/prefix/file:line`` (the rule is added
    when one place holds several findings: one outcome per resource)."""
    resource = f"{where.uri}{f.file}" + (f":{f.line}" if f.line else "")
    if resource in seen:
        resource = f"{resource} ({f.rule})"
    seen.add(resource)
    status = Status.PASS if f.level is LintLevel.INFO else f.status
    return Outcome(
        status=status,
        resource=resource,
        message=f"[{f.rule}] {f.message}",
        remediation=f.remediation,
        details={"rule": f.rule, "file": f.file, "line": f.line, "prefix": where.uri},
        severity=Severity.INFO if f.level is LintLevel.INFO else None,
    )


def _judge(ctx: CheckContext, provisioning: bool) -> list[Outcome]:
    found = lifecycle_prefixes(ctx.spec)
    if not found:
        return [skipped("-", "no group names an s3:// SourceS3Uri with an entry script")]
    out: list[Outcome] = []
    for where in found:
        if provisioning and not needs_provisioning_parameters(ctx.spec):
            out.append(
                skipped(
                    where.uri,
                    "no provisioning_parameters.json is needed: the instance groups carry "
                    "SlurmConfig (or the cluster is EKS)",
                )
            )
            continue
        try:
            report = lint_prefix(ctx, where)
        except FactUnavailable as exc:
            out.append(
                unknown(
                    where.uri,
                    f"could not tell: the lifecycle prefix could not be read: {exc.describe()}",
                    exc.remediation,
                    action=exc.action,
                )
            )
            continue
        mine = [f for f in report.findings if (f.rule in PROVISIONING_RULES) == provisioning]
        if provisioning and not report.provisioning_files:
            direct = _provisioning_direct(ctx, where)
            if isinstance(direct, Outcome):
                out.append(direct)
                continue
            mine = direct
        seen: set[str] = set()
        out += [_outcome(where, f, seen) for f in mine]
        if not any(f.level is not LintLevel.INFO for f in mine):
            what = (
                f"{', '.join(report.provisioning_files) or 'provisioning parameters'} agree with "
                "the config's groups"
                if provisioning
                else f"{len(report.reached)} file(s) reached from {', '.join(where.entries)}: "
                "no problem found"
            )
            out.append(passed(where.uri, what, fetched=list(report.fetched)))
    return out


def _provisioning_direct(ctx: CheckContext, where: LifecyclePrefix) -> list[LintFinding] | Outcome:
    """The entry scripts pass no ``-pp`` file: judge ``provisioning_parameters.json`` of the
    prefix itself (the reference layout's), or say that there is none to judge."""
    listing = ctx.aws.prefix_listing(where.bucket, where.prefix)
    if PROVISIONING_PARAMETERS not in listing.sizes:
        return skipped(
            where.uri,
            f"no {PROVISIONING_PARAMETERS} under the prefix and none passed with -pp "
            "(s3.lifecycle-objects says whether the config needs one)",
        )
    data = ctx.aws.object_head_bytes(
        where.bucket, where.prefix + PROVISIONING_PARAMETERS, DEFAULT_MAX_BYTES
    )
    groups = {g.name: g.slurm_node_type for g in ctx.spec.instance_groups if not g.restricted}
    checked = check_provisioning_parameters(
        data, file=PROVISIONING_PARAMETERS, instance_groups=groups, region=ctx.aws.region
    )
    return list(checked.findings)


def prefetched(entries: tuple[str, ...], sizes: dict[str, int]) -> list[str]:
    """The files of a listing read as soon as it is in, before the lint names them: the
    entry scripts, then every file in a language the lint reads (``PREFETCH_SUFFIXES``),
    ``provisioning_parameters.json`` first, shallower paths before deeper ones; none over the
    lint's size limit, at most ``PREFETCH_MAX_FILES`` files and ``PREFETCH_MAX_BYTES`` bytes.

    A lifecycle prefix is a small folder whose scripts nearly all run (the reference layout's
    ``lifecycle_script.py`` runs most of the others), so reading them at once turns the chain
    listing → entry → what it runs → what that runs … into listing → files: one round trip
    instead of one per level. What this leaves out (a larger prefix, a file of another kind)
    is still read once a script names it."""
    first = [p for p in (normalize_path(e) for e in entries) if p is not None]
    ranked = sorted(
        (p for p in sizes if p.endswith(PREFETCH_SUFFIXES)),
        key=lambda p: (p != PROVISIONING_PARAMETERS, p.count("/"), p),
    )
    chosen: list[str] = []
    total = 0
    for path in dict.fromkeys([*first, *ranked]):
        size = sizes.get(path)
        if size is None or size > DEFAULT_MAX_BYTES or total + size > PREFETCH_MAX_BYTES:
            continue
        chosen.append(path)
        total += size
        if len(chosen) == PREFETCH_MAX_FILES:
            break
    return chosen


def _prefix_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """Each prefix's listing, then its small scripts at once (:func:`prefetched`), then the
    files the lint reaches that were not among them, level by level, until nothing new is
    reached (the lint is pure, so a dry run over what was fetched so far names the next
    files)."""
    found = lifecycle_prefixes(spec)
    if not found:
        return []
    listings = [need("prefix_listing", w.bucket, w.prefix) for w in found]
    return [*listings, Then(lambda ctx: _prefetch(ctx, found))]


def _prefetch(ctx: CheckContext, found: list[LifecyclePrefix]) -> list[Request]:
    """The listed files of :func:`prefetched`, then the dry runs of :func:`_reached`."""
    out: list[Request] = []
    for where in found:
        try:
            listing = ctx.aws.prefix_listing(where.bucket, where.prefix)
        except FactUnavailable:
            continue
        out += [
            need("object_head_bytes", where.bucket, where.prefix + path, DEFAULT_MAX_BYTES)
            for path in prefetched(where.entries, listing.sizes)
        ]
    return [*out, Then(lambda c: _reached(c, found))]


def _reached(ctx: CheckContext, found: list[LifecyclePrefix]) -> list[Request]:
    """The files and tool runs (``bash -n``, then ``shellcheck`` of what parsed) that a dry
    run of the lint over what was gathered so far asks for and that were not asked yet."""
    wanted: list[Need] = []
    for where in found:
        try:
            listing = ctx.aws.prefix_listing(where.bucket, where.prefix)
        except FactUnavailable:
            continue
        wanted += _dry_run(ctx, where, listing)
    return [*wanted, Then(lambda c: _reached(c, found))] if wanted else []


@dataclass(frozen=True)
class _DryRun:
    """One dry run of the lint: what it was given, what it read and got, what it asked for."""

    given: tuple[Any, ...]
    reads: tuple[tuple[Need, str, Any], ...]  # in order: the read, how it answered, its value
    wanted: tuple[Need, ...]


@dataclass
class _DryRuns:
    """The dry runs made of one listing, one at a time."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    made: list[_DryRun] = field(default_factory=list)


# The dry runs made of a run's listing (by the listing object's id, dropped with it): the
# lint is pure, so a dry run given the same things whose reads give the same answers asks for
# the same files. Both lifecycle checks and both gatherings of a run (primed, then real) walk
# the same rounds: each round's lint runs once.
_DRY_RUNS: dict[int, _DryRuns] = {}
_DRY_LOCK = threading.Lock()


def _made_of(listing: Any) -> _DryRuns:
    key = id(listing)
    with _DRY_LOCK:
        made = _DRY_RUNS.get(key)
        if made is None:
            made = _DRY_RUNS[key] = _DryRuns()
            weakref.finalize(listing, _DRY_RUNS.pop, key, None)
        return made


def _answered(ctx: CheckContext, asked: Need) -> tuple[str, Any]:
    """What the view gives for ``asked``: how it answered, and the value (the read's own
    object: the same object again for the same read of a run)."""
    try:
        value = getattr(ctx.aws, asked.reader)(*asked.args)
    except UndeclaredRead:
        return "undeclared", None
    except FactUnavailable:
        return "unavailable", None
    return "answered", value


def _same(ctx: CheckContext, made: _DryRun) -> bool:
    """Every read of ``made`` answers as it did, with the very same value."""
    for asked, how, value in made.reads:
        now, got = _answered(ctx, asked)
        if now != how or got is not value:
            return False
    return True


def _dry_run(ctx: CheckContext, where: LifecyclePrefix, listing: Any) -> list[Need]:
    """The reads a lint of ``where`` asks for that were not declared: a dry run over what
    was gathered so far, or the same dry run made before (see ``_DRY_RUNS``)."""
    groups = {g.name: g.slurm_node_type for g in ctx.spec.instance_groups if not g.restricted}
    given = (where, tuple(groups.items()), ctx.aws.region, needs_provisioning_parameters(ctx.spec))
    runs = _made_of(listing)
    with runs.lock:
        for made in runs.made:
            if made.given == given and _same(ctx, made):
                return list(made.wanted)
        made = _lint_dry(ctx, where, listing, given)
        runs.made.append(made)
    return list(made.wanted)


def _lint_dry(
    ctx: CheckContext, where: LifecyclePrefix, listing: Any, given: tuple[Any, ...]
) -> _DryRun:
    """A dry run of the lint over what the view holds: what it read, what it asks for."""
    groups = dict(given[1])
    reads: list[tuple[Need, str, Any]] = []
    wanted: list[Need] = []

    def read(asked: Need) -> tuple[str, Any]:
        how, value = _answered(ctx, asked)
        reads.append((asked, how, value))
        if how == "undeclared":
            wanted.append(asked)
        return how, value

    def run_tool(argv: list[str], stdin: bytes) -> ToolResult | None:
        how, result = read(need("lint_tool", tuple(argv), stdin))
        if how == "undeclared":
            # not run yet: as a syntax error, so that shellcheck is asked only of a script
            # that bash parsed (the next round, once bash -n has answered)
            return ToolResult(returncode=2, stderr="not run yet")
        return result if how == "answered" else None

    def fetch(path: str) -> bytes | None:
        how, data = read(
            need("object_head_bytes", where.bucket, where.prefix + path, DEFAULT_MAX_BYTES)
        )
        return data if how == "answered" else None

    lint(
        where.entries,
        listing.sizes,
        fetch,
        run_tool=run_tool,
        instance_groups=groups,
        region=given[2],
        check_provisioning=given[3],
    )
    if PROVISIONING_PARAMETERS in listing.sizes:
        fetch(PROVISIONING_PARAMETERS)
    return _DryRun(given=given, reads=tuple(reads), wanted=tuple(wanted))


@check(
    "lifecycle.scripts",
    "Lifecycle scripts run on a node as written (line endings, syntax, files, secrets)",
    Severity.CRITICAL,
    needs=lambda spec, plan: [*_needs.egress(spec), *_prefix_needs(spec, plan)],
)
def scripts(ctx: CheckContext) -> list[Outcome]:
    """The entry scripts and every file they reach lint clean: CRLF, syntax, missing files."""
    return _judge(ctx, provisioning=False)


@check(
    "lifecycle.provisioning-parameters",
    "provisioning_parameters.json is valid and names exactly the config's groups (Slurm)",
    Severity.CRITICAL,
    needs=lambda spec, plan: [*_needs.egress(spec), *_prefix_needs(spec, plan)],
)
def provisioning_parameters(ctx: CheckContext) -> list[Outcome]:
    """The Slurm provisioning_parameters.json parses and matches the config's groups."""
    return _judge(ctx, provisioning=True)
