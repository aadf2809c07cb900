"""Where a report goes: ``--output`` on the terminal (or ``--output-file PATH``) and any number
of files in other formats in the same run (``--json FILE``, ``--junit FILE``, ``--sarif FILE``,
``--markdown FILE``, or the repeatable ``--output-file FORMAT=PATH``); how much the terminal
shows (``-v``, ``-q``) and whether in colour (``--no-color``, ``NO_COLOR``).

Every file is opened before the run starts (:func:`open_outputs`), so that a path that cannot
be written is exit 2 before any AWS call, never after a long run whose results would be lost.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import click

from ..errors import InputError
from .options import Decorator, _in_order, discard_stdout

FILE_FORMATS = ("json", "junit", "sarif", "markdown", "table")


@dataclass(frozen=True)
class Destination:
    """One place a report goes: a format, and a file (or stdout)."""

    fmt: str
    path: str | None  # None: stdout


@dataclass(frozen=True)
class OutputPlan:
    """Every destination of one run's report, and how the terminal one looks."""

    destinations: tuple[Destination, ...]
    verbosity: int = 0  # -1 (-q) summary only, 0 problems first, 1 (-v) everything
    color: bool | None = None  # None: when stdout is a terminal and NO_COLOR is unset

    @property
    def main(self) -> Destination:
        return self.destinations[0]


def output_options(*formats: str) -> Decorator:
    """``--output/-o`` (the first of ``formats`` is the default), ``--output-file``,
    ``--json/--junit/--sarif/--markdown FILE``, ``-v``, ``-q`` and ``--no-color``."""
    extra = [
        click.option(f"--{fmt}", f"{fmt}_file", metavar="FILE", help=f"Also write {fmt} here.")
        for fmt in ("json", "junit", "sarif", "markdown")
        if fmt in formats
    ]
    return _in_order(
        click.option(
            "--output",
            "-o",
            type=click.Choice(formats),
            default=formats[0],
            show_default=True,
            help="Output format (of stdout, or of --output-file PATH).",
        ),
        click.option(
            "--output-file",
            "output_files",
            multiple=True,
            metavar="[FORMAT=]PATH",
            help="Write the report here: PATH takes --output's format, FORMAT=PATH another "
            "(json, junit, sarif, markdown, table); repeatable.",
        ),
        *extra,
        click.option("--verbose", "-v", is_flag=True, help="List every PASS too."),
        click.option(
            "--quiet", "-q", is_flag=True, help="Print only the summary line; no progress."
        ),
        click.option("--no-color", is_flag=True, help="No colour (also: NO_COLOR set)."),
    )


def output_plan(params: Mapping[str, Any]) -> OutputPlan:
    """The destinations the options name: the main one first (stdout unless a plain
    ``--output-file PATH``), then every other file."""
    main_fmt = str(params["output"])
    main = Destination(main_fmt, None)
    others: list[Destination] = []
    for spec in params.get("output_files") or ():
        fmt, equals, path = str(spec).partition("=")
        if equals and fmt in FILE_FORMATS:
            if fmt not in _choices(params):
                raise InputError(f"--output-file {spec}: this command has no {fmt} output")
            others.append(Destination(fmt, path))
        elif main.path is None:
            main = Destination(main_fmt, str(spec))
        else:
            raise InputError(
                f"--output-file {spec}: a second plain PATH; name its format (json={spec})"
            )
    for fmt in ("json", "junit", "sarif", "markdown"):
        extra = params.get(f"{fmt}_file")
        if extra:
            others.append(Destination(fmt, str(extra)))
    if params.get("verbose") and params.get("quiet"):
        raise InputError("--verbose and --quiet: choose one")
    paths = [d.path for d in (main, *others) if d.path]
    twice = sorted({p for p in paths if paths.count(p) > 1})
    if twice:
        raise InputError(f"{twice[0]}: named as the output of two formats; give each its own")
    if any(d.fmt == "sarif" for d in (main, *others)):
        from ..render import check_format

        check_format("sarif")  # a build without it: exit 2 now, not after the run
    verbosity = -1 if params.get("quiet") else 1 if params.get("verbose") else 0
    color = False if params.get("no_color") else None
    return OutputPlan((main, *others), verbosity, color)


def _choices(params: Mapping[str, Any]) -> tuple[str, ...]:
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        for param in ctx.command.params:
            if param.name == "output" and isinstance(param.type, click.Choice):
                return tuple(str(c) for c in param.type.choices)
    return FILE_FORMATS


class OpenOutputs:
    """The files of an :class:`OutputPlan`, opened (and their folders made) up front."""

    def __init__(self, plan: OutputPlan) -> None:
        self.plan = plan
        self.handles: dict[str, IO[str]] = {}

    def open(self) -> OpenOutputs:
        for dest in self.plan.destinations:
            if dest.path is None or dest.path in self.handles:
                continue
            try:
                folder = os.path.dirname(dest.path)
                if folder:
                    os.makedirs(folder, exist_ok=True)
                self.handles[dest.path] = open(dest.path, "w", encoding="utf-8")  # noqa: SIM115
            except OSError as exc:
                self.close()
                flag = "--output-file" if dest is self.plan.main else f"--{dest.fmt}"
                raise InputError(f"{flag} {dest.path}: {exc.strerror or exc}") from exc
        return self

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()
        self.handles.clear()

    def write(self, dest: Destination, text: str, summary: str = "") -> None:
        if dest.path is None:
            write_stdout(text)
            return
        handle = self.handles[dest.path]
        handle.write(text)
        handle.flush()
        if summary:
            click.echo(f"{summary} → {dest.path}", err=True)


def open_outputs(plan: OutputPlan) -> OpenOutputs:
    """Open every file of ``plan`` now: exit 2 (InputError) if one cannot be written."""
    return OpenOutputs(plan).open()


def write_stdout(text: str) -> None:
    try:
        click.echo(text, nl=False)
    except BrokenPipeError:  # the reader went away (`| head`): not an error of this run
        discard_stdout()


def terminal_width() -> int:
    """The terminal's columns (``COLUMNS`` first, as shells set it), else 100."""
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def use_color(plan: OutputPlan, dest: Destination) -> bool:
    if plan.color is False or dest.path is not None or dest.fmt != "table":
        return False
    return "NO_COLOR" not in os.environ and sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def emit(report: Any, outputs: OpenOutputs, after: Callable[[], None] | None = None) -> int:
    """Render ``report`` into every destination; its exit code. ``after`` runs once the
    terminal output is written (a next-step hint)."""
    from ..render import render_report, summary_line

    plan = outputs.plan
    summary = summary_line(report)
    try:
        for dest in plan.destinations:
            terminal = dest.path is None
            text = render_report(
                report,
                dest.fmt,
                color=use_color(plan, dest),
                width=terminal_width() if terminal else 100,
                verbosity=plan.verbosity if terminal else max(0, plan.verbosity),
            )
            outputs.write(dest, text, summary="" if dest is not plan.main else summary)
        if after is not None:
            after()
    finally:
        outputs.close()
    return int(report.summary.exit_code)
