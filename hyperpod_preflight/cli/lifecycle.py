"""`hp-preflight lifecycle lint PATH`: lint a local lifecycle-script folder (what `aws s3
sync` would upload to the cluster's `SourceS3Uri`) with the same pure lint the account
pre-flight uses; also the entry of the pre-commit hook (`.pre-commit-hooks.yaml`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import InputError
from .options import EXIT_FINDINGS, EXIT_OK, output_options, write_output

DEFAULT_ENTRIES = ("on_create.sh",)


@click.group("lifecycle")
def lifecycle() -> None:
    """Lifecycle scripts: lint them before they reach S3."""


@lifecycle.command("lint")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--entry",
    "entries",
    multiple=True,
    help="Entry script (OnCreate / OnInitComplete) relative to PATH; default on_create.sh, "
    "else every on_*.sh found.",
)
@click.option("--no-tools", is_flag=True, help="Do not run bash -n or shellcheck.")
@click.option(
    "--fail-on",
    type=click.Choice(["fail", "warn"]),
    default="fail",
    show_default=True,
    help="Lowest level that makes the exit code 1.",
)
@output_options("table", "json")
def lint_cmd(
    paths: tuple[str, ...],
    entries: tuple[str, ...],
    no_tools: bool,
    fail_on: str,
    output: str,
    output_file: str | None,
) -> int:
    """Lint each PATH: a lifecycle folder, or files inside one (as pre-commit passes them)."""
    from ..analysis.lifecycle import lint
    from ..lifecycle_local import default_run_tool, local_source

    lines: list[str] = []
    documents: list[dict[str, object]] = []
    failing = False
    for root, wanted in _expand(_roots(paths, entries)):
        listing, fetch = local_source(root)
        chosen = wanted or _default_entries(listing)
        if not chosen:
            raise InputError(f"{root}: no entry script (pass --entry NAME)")
        missing = [e for e in chosen if e not in listing]
        if missing:
            raise InputError(f"{root}: no {', '.join(missing)} in this folder")
        report = lint(chosen, listing, fetch, run_tool=None if no_tools else default_run_tool)
        levels = {"FAIL"} | ({"WARN"} if fail_on == "warn" else set())
        failing |= any(f.level.value in levels for f in report.findings)
        documents.append({"path": str(root), **report.model_dump(mode="json")})
        for f in report.findings:
            where = f"{root / f.file}" + (f":{f.line}" if f.line else "")
            fix = f" (fix: {f.remediation})" if f.remediation else ""
            lines.append(f"{f.level.value:7} {where} [{f.rule}] {f.message}{fix}")
        if not report.findings:
            lines.append(f"PASS    {root}: {len(report.reached)} file(s) reached, no finding")
    text = json.dumps({"results": documents}, indent=2) if output == "json" else "\n".join(lines)
    write_output(text + "\n", output_file, summary="lint written")
    return EXIT_FINDINGS if failing else EXIT_OK


def _roots(paths: tuple[str, ...], entries: tuple[str, ...]) -> list[tuple[Path, tuple[str, ...]]]:
    """Folders to lint: a folder as given; a file's folder, with that file as its entry when it
    is an entry script by name (pre-commit passes the changed files)."""
    found: dict[Path, list[str]] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.setdefault(path, []).extend(entries)
        elif path.is_file():
            folder = path.parent
            names = found.setdefault(folder, list(entries))
            if path.name.startswith("on_") and path.suffix == ".sh" and path.name not in names:
                names.append(path.name)
        else:
            raise InputError(f"{raw}: no such file or folder")
    return [(root, tuple(dict.fromkeys(names))) for root, names in found.items()]


def _expand(roots: list[tuple[Path, tuple[str, ...]]]) -> list[tuple[Path, tuple[str, ...]]]:
    """A folder given without ``--entry`` and without an entry script of its own, that holds
    lifecycle folders (``on_create.sh``, the documented default, one or two levels down, as
    this project's ``lifecycle/slurm`` and ``lifecycle/eks``): each of those folders."""
    out: list[tuple[Path, tuple[str, ...]]] = []
    for root, wanted in roots:
        has_entry = any(root.glob("on_*.sh"))
        found = (
            []
            if wanted or has_entry
            else sorted(
                p.parent
                for pattern in ("*/on_create.sh", "*/*/on_create.sh")
                for p in root.glob(pattern)
            )
        )
        if found:
            out.extend((folder, ()) for folder in found)
        else:
            out.append((root, wanted))
    return out


def _default_entries(listing: dict[str, int]) -> tuple[str, ...]:
    if "on_create.sh" in listing:
        return DEFAULT_ENTRIES
    return tuple(
        sorted(p for p in listing if "/" not in p and p.startswith("on_") and p.endswith(".sh"))
    )
