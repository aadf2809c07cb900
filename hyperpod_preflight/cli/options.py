"""What every `hp-preflight` command shares at the lowest level: the exit codes, the plain
``--output``/``--output-file`` of commands that print one thing (plan, schema, inventory),
the one writer of such output, and how an option given on a group is spelled. The options of
commands that report findings are in :mod:`.build` (selection, AWS, the cluster) and
:mod:`.outputs` (several outputs per run).

Only click and the project's error classes are imported here, so ``hp-preflight --help``
stays fast; what renders or builds anything heavy is imported inside the function that uses
it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
from click.core import ParameterSource

from ..errors import InputError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 1, 2, 3
REPORT_FORMATS = ("table", "json", "markdown", "junit", "sarif")

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _in_order(*options: Decorator) -> Decorator:
    """One decorator applying ``options`` so that ``--help`` lists them in this order."""

    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


# -- output -----------------------------------------------------------------------------------
def output_file_option(help_text: str = "Write the output here (else stdout).") -> Decorator:
    return click.option("--output-file", metavar="FILE", help=help_text)


def output_options(*formats: str) -> Decorator:
    """``--output/-o`` (one of ``formats``, the first is the default) and ``--output-file``."""
    return _in_order(
        click.option(
            "--output",
            "-o",
            type=click.Choice(formats),
            default=formats[0],
            show_default=True,
            help="Output format.",
        ),
        output_file_option(),
    )


def write_output(text: str, output_file: str | None, *, summary: str = "") -> None:
    """Write rendered output to ``output_file`` (its folder made) or stdout.

    With a file, stdout stays free for pipes: the one-line ``summary`` goes to stderr.
    """
    if output_file:
        try:
            directory = os.path.dirname(output_file)
            if directory:
                os.makedirs(directory, exist_ok=True)
            with open(output_file, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InputError(f"--output-file {output_file}: {exc.strerror or exc}") from exc
        if summary:
            click.echo(f"{summary} → {output_file}", err=True)
        return
    try:
        click.echo(text, nl=False)
    except BrokenPipeError:  # the reader went away (`| head`): not an error of this run
        discard_stdout()


def discard_stdout() -> None:
    """Point stdout at the null device once its reader has gone, so that nothing written
    later (nor the flush at exit) fails again; the run keeps its own exit code."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file behind stdout (a test's capture)
        pass


# -- check selection --------------------------------------------------------------------------
def split_ids(values: Sequence[str]) -> list[str]:
    """``("a,b", "c")`` → ``["a", "b", "c"]``: ids may be repeated or comma-separated."""
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def ip_headroom_option(help_text: str) -> Decorator:
    return click.option(
        "--ip-headroom",
        type=click.IntRange(0, 1000),
        default=1,
        show_default=True,
        help=help_text,
    )


# -- options given on a parent group ----------------------------------------------------------


# -- options given on a parent group ----------------------------------------------------------
def given_options(ctx: click.Context) -> list[str]:
    """The names of ``ctx``'s parameters that the command line (not a default) set."""
    defaults = (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None)
    return [name for name in ctx.params if ctx.get_parameter_source(name) not in defaults]


def option_flag(ctx: click.Context, name: str) -> str:
    """How the user spells parameter ``name`` of ``ctx``'s command (``--output``)."""
    for param in ctx.command.params:
        if param.name == name:
            return max(param.opts, key=len)
    return name
