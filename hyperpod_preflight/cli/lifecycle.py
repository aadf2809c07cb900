"""`hp-preflight lifecycle lint PATH`: lint a local lifecycle-script folder (what `aws s3
sync` would upload to the cluster's `SourceS3Uri`) with the same pure lint the account
pre-flight uses; also the entry of the pre-commit hook (`.pre-commit-hooks.yaml`).

The findings are a report like every other (one finding per lint finding, ``details`` holding
its ``rule``, ``file`` and ``line``), so every output format renders them."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import LintOptions
from .options import REPORT_FORMATS
from .outputs import emit, open_outputs, output_options, output_plan


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
@output_options(*REPORT_FORMATS)
def lint_cmd(
    paths: tuple[str, ...], entries: tuple[str, ...], no_tools: bool, fail_on: str, **params: object
) -> int:
    """Lint each PATH: a lifecycle folder, or files inside one (as pre-commit passes them)."""
    from ..api import lint_record

    outputs = open_outputs(output_plan(params))
    opts = LintOptions(
        paths=tuple(Path(p) for p in paths),
        entries=entries,
        run_tools=not no_tools,
        fail_on="warn" if fail_on == "warn" else "fail",
    )
    return emit(lint_record(opts), outputs)
