"""Lint each lifecycle prefix the config names, reading S3 through the facts layer."""

from __future__ import annotations

from ...analysis.lifecycle import DEFAULT_MAX_BYTES, LintReport, lint
from ...analysis.lifecycle_models import EgressInfo, LintFinding, LintLevel
from ...analysis.provisioning import check_provisioning_parameters
from ...analysis.s3_lifecycle import (
    PROVISIONING_PARAMETERS,
    LifecyclePrefix,
    lifecycle_prefixes,
    needs_provisioning_parameters,
)
from ...errors import FactUnavailable
from ...models import Outcome, Severity, Status, passed, skipped, unknown
from ...registry import CheckContext, check
from .._common import read_egress_paths

PROVISIONING_RULES = frozenset({"provisioning-field", "provisioning-groups", "provisioning-fsx"})
# Findings that a file is not in the prefix: provable only from a complete listing.
ABSENCE_RULES = frozenset({"missing-entry", "missing-reference"})


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

    groups = {g.name: g.slurm_node_type for g in ctx.spec.instance_groups if not g.restricted}
    report = lint(
        where.entries,
        listing.sizes,
        fetch,
        egress=_egress(ctx),
        run_tool=ctx.options.get("run_tool"),
        instance_groups=groups,
        region=ctx.aws.region,
        check_provisioning=needs_provisioning_parameters(ctx.spec),
        source_uri=where.uri,  # fixes name the real destination, not <SourceS3Uri>
    )
    if not listing.truncated:
        return report
    findings = tuple(_unlisted(f, len(listing.sizes)) for f in report.findings)
    return report.model_copy(update={"findings": findings})


def _unlisted(f: LintFinding, listed: int) -> LintFinding:
    """A 'not in the prefix' finding of a listing that stopped early: UNKNOWN, not FAIL."""
    if f.rule not in ABSENCE_RULES or f.level not in (LintLevel.FAIL, LintLevel.WARN):
        return f
    return f.model_copy(
        update={
            "level": LintLevel.UNKNOWN,
            "message": f"could not tell: the listing of the prefix stopped after {listed} "
            f"objects, so this may be a file it did not reach: {f.message}",
        }
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
            out.append(skipped(where.uri, "the groups carry SlurmConfig (or EKS): no file"))
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


@check(
    "lifecycle.scripts",
    "Lifecycle scripts run on a node as written (line endings, syntax, files, secrets)",
    Severity.CRITICAL,
    reads=("ec2.egress", "s3.lifecycle-prefix"),
)
def scripts(ctx: CheckContext) -> list[Outcome]:
    """The entry scripts and every file they reach lint clean: CRLF, syntax, missing files."""
    return _judge(ctx, provisioning=False)


@check(
    "lifecycle.provisioning-parameters",
    "provisioning_parameters.json is valid and names exactly the config's groups (Slurm)",
    Severity.CRITICAL,
    reads=("s3.lifecycle-prefix",),
)
def provisioning_parameters(ctx: CheckContext) -> list[Outcome]:
    """The Slurm provisioning_parameters.json parses and matches the config's groups."""
    return _judge(ctx, provisioning=True)
