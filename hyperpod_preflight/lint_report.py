"""The lifecycle lint of local folders as a :class:`~hyperpod_preflight.models.Report` of kind
``lint``, so that every output format (table, JSON, Markdown, JUnit, SARIF) renders it.

One finding per lint finding (``lifecycle.lint.<rule>`` on ``file:line``); a folder with no
finding is one PASS. The lint itself is :func:`hyperpod_preflight.analysis.lifecycle.lint`.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import __version__
from .errors import InputError
from .options import LintOptions
from .results import Finding, RunReport, Severity, Status, Summary

DEFAULT_ENTRIES = ("on_create.sh",)
_SEVERITY = {Status.FAIL: Severity.HIGH, Status.WARN: Severity.MEDIUM}


def lint_roots(
    paths: tuple[Path, ...], entries: tuple[str, ...]
) -> list[tuple[Path, tuple[str, ...]]]:
    """Folders to lint: a folder as given; a file's folder, with that file as its entry when it
    is an entry script by name (pre-commit passes the changed files)."""
    found: dict[Path, list[str]] = {}
    for path in paths:
        if path.is_dir():
            found.setdefault(path, []).extend(entries)
        elif path.is_file():
            names = found.setdefault(path.parent, list(entries))
            if path.name.startswith("on_") and path.suffix == ".sh" and path.name not in names:
                names.append(path.name)
        else:
            raise InputError(f"{path}: no such file or folder")
    return [(root, tuple(dict.fromkeys(names))) for root, names in found.items()]


def default_entries(listing: dict[str, int]) -> tuple[str, ...]:
    """``on_create.sh`` if there, else every top-level ``on_*.sh``."""
    if "on_create.sh" in listing:
        return DEFAULT_ENTRIES
    return tuple(
        sorted(p for p in listing if "/" not in p and p.startswith("on_") and p.endswith(".sh"))
    )


def _findings(root: Path, opts: LintOptions, entries: tuple[str, ...]) -> list[Finding]:
    from .analysis.lifecycle import lint
    from .lifecycle_local import default_run_tool, local_source

    listing, fetch = local_source(root)
    chosen = entries or default_entries(listing)
    if not chosen:
        raise InputError(f"{root}: no entry script (no on_create.sh, no on_*.sh; pass --entry)")
    missing = [e for e in chosen if e not in listing]
    if missing:
        raise InputError(f"{root}: no {', '.join(missing)} in this folder")
    found = lint(chosen, listing, fetch, run_tool=default_run_tool if opts.run_tools else None)
    out = []
    for f in found.findings:
        status = f.level.status
        out.append(
            Finding(
                check_id=f"lifecycle.lint.{f.rule}",
                area="lifecycle",
                status=status,
                severity=_SEVERITY.get(status, Severity.LOW),
                resource=f"{root / f.file}" + (f":{f.line}" if f.line else ""),
                message=f.message,
                remediation=f.remediation,
                details={"rule": f.rule, "file": f.file, "line": f.line},
            )
        )
    if not out:
        out.append(
            Finding(
                check_id="lifecycle.lint",
                area="lifecycle",
                status=Status.PASS,
                severity=Severity.LOW,
                resource=str(root),
                message=f"{len(found.reached)} file(s) reached from {', '.join(chosen)}: "
                "no finding",
            )
        )
    return out


def lint_paths(opts: LintOptions) -> RunReport:
    """Lint every folder ``opts.paths`` names; one report."""
    started = time.perf_counter()
    results: list[Finding] = []
    for root, entries in lint_roots(opts.paths, opts.entries):
        results += _findings(root, opts, entries or opts.entries)
    failing = {Status.FAIL} | ({Status.WARN} if opts.fail_on == "warn" else set())
    unknown = {f.check_id for f in results if f.status is Status.UNKNOWN}
    summary = Summary(
        total=len(results),
        by_status={s.value: sum(f.status is s for f in results) for s in Status},
        exit_code=int(any(f.status in failing for f in results)),
        fail_on=opts.fail_on,
        complete=not unknown,
        unknown_checks=len(unknown),
    )
    return RunReport(
        tool_version=__version__,
        kind="lint",
        target=", ".join(str(p) for p in opts.paths),
        duration_s=round(time.perf_counter() - started, 3),
        results=results,
        summary=summary,
    )
