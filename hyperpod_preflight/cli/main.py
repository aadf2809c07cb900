"""The `hp-preflight` group and its console entry point: which subcommands exist (``quotas``
and ``host`` imported only when used), the bare invocation that runs ``check``, and how an
error becomes one line on stderr and a documented exit code.

Exit codes (a public interface, see README):
  0  every check passed (below the --fail-on level)
  1  findings at or above the --fail-on level
  2  bad usage or input (one line says what and where)
  3  could not run at all (no credentials, endpoint unreachable, no region)
An error is one line on stderr; with ``--output json`` also one JSON document
(``{"schema_version", "error": {"exit_code", "kind", "message"}, "results": []}``) where the
report would have gone. With no command, ``hp-preflight --vpc vpc-…`` is the VPC audit
(``hp-preflight audit``); options written before a command name are refused (exit 2).

Start-up is kept fast: only click is imported to parse the command line; pydantic, tabulate,
botocore and boto3 are imported by the command that needs them.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from .. import __version__
from ..dynamic import import_module
from ..errors import InputError, PreflightError
from .audit import audit_cmd, audit_options, run_audit
from .check import check_cmd
from .info import list_checks_cmd, schema_cmd
from .options import (
    EXIT_CANNOT_RUN,
    EXIT_OK,
    EXIT_USAGE,
    discard_stdout,
    given_options,
    option_flag,
    write_output,
)
from .plan import plan_cmd

EXIT_INTERRUPTED = 130

# Subcommands living in other modules, imported only when used (name → (target, help)).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "quotas": (
        "hyperpod_preflight.cli.quotas:quotas",
        "Quota headroom for a config, and safe quota-increase requests.",
    ),
    "lifecycle": (
        "hyperpod_preflight.cli.lifecycle:lifecycle",
        "Lint lifecycle scripts (CRLF, syntax, missing files, secrets) before uploading them.",
    ),
    "tools": (
        "hyperpod_preflight.cli.tools:tools",
        "Check the local tools: aws v2, session-manager-plugin, kubectl, helm (no AWS).",
    ),
    "host": (
        "hyperpod_preflight.cli.host:host",
        "Check this GPU node (driver, GPUs, EFA, PCIe, resources); inventory; fleets.",
    ),
    "capacity": (
        "hyperpod_preflight.cli.capacity:capacity",
        "Rank regions for N x an instance type: quota headroom, zones, training plans.",
    ),
    "diagnose": (
        "hyperpod_preflight.cli.diagnose:diagnose",
        "Explain a failed or degraded cluster: its nodes, events, logs and the pre-flight.",
    ),
    "demo": (
        "hyperpod_preflight.cli.demo:demo",
        "The pre-flight on a sandbox account built in-process (moto); --defects plants mistakes.",
    ),
    "cache": (
        "hyperpod_preflight.cli.cache:cache",
        "Clear the per-user cache of Service Quotas codes (hp-preflight cache clear).",
    ),
}


class PreflightGroup(click.Group):
    """A group whose bare invocation runs `check`, with lazily imported subcommands."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, attr = LAZY_COMMANDS[cmd_name][0].split(":")
            command: click.Command = getattr(import_module(module_name), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS:
                rows.append((name, LAZY_COMMANDS[name][1]))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=80)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=PreflightGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="hp-preflight")
@audit_options
@click.pass_context
def cli(ctx: click.Context, /, **params: Any) -> int:
    """Find what would make a SageMaker HyperPod cluster fail, before you create it.

    \b
      hp-preflight check --config cluster-config.json   # the account pre-flight
      hp-preflight --region us-west-2 --vpc vpc-0abc1234 # the VPC audit (= audit --vpc)

    Exit codes: 0 passed, 1 findings at the --fail-on level, 2 bad usage or input,
    3 could not run (no credentials, endpoint unreachable), 130 interrupted.
    """
    given = given_options(ctx)
    if ctx.invoked_subcommand is None:
        if not params.get("vpc"):
            raise click.UsageError(
                "nothing to do: `hp-preflight check --config FILE` runs the pre-flight, "
                "`hp-preflight --vpc vpc-...` the VPC audit",
                ctx=ctx,
            )
        return run_audit(params)
    if given:
        flags = ", ".join(option_flag(ctx, name) for name in given)
        raise click.UsageError(
            f"{flags} given before `{ctx.invoked_subcommand}`: put them after "
            f"`{ctx.invoked_subcommand}` (before a command, options belong to the VPC audit)",
            ctx=ctx,
        )
    return EXIT_OK


for _command in (check_cmd, audit_cmd, plan_cmd, list_checks_cmd, schema_cmd):
    cli.add_command(_command)


# -- errors -------------------------------------------------------------------------------------
ERROR_KINDS = {EXIT_USAGE: "input", EXIT_CANNOT_RUN: "cannot-run", EXIT_INTERRUPTED: "interrupted"}


def error_exit_code(
    exc: BaseException, *, output: str | None = None, output_file: str | None = None
) -> int:
    """Say on one line of stderr what ended the run; the exit code it stands for.

    With ``output`` json the same is also written as one JSON document where the report
    would have gone, so that every run of ``--output json`` can be parsed. Shared by
    :func:`main` and by groups that also run on their own (``host``). Re-raises an
    unexpected exception when ``HP_PREFLIGHT_DEBUG`` is set.
    """
    kind = None
    if isinstance(exc, click.UsageError):
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        message, code = f"{where}{exc.format_message()} (see --help)", EXIT_USAGE
    elif isinstance(exc, click.ClickException):
        message, code = exc.format_message(), EXIT_USAGE
    elif isinstance(exc, click.Abort | KeyboardInterrupt):
        message, code = "interrupted", EXIT_INTERRUPTED
    elif isinstance(exc, PreflightError):
        message, code = str(exc), exc.exit_code
    elif isinstance(exc, Exception):  # never a traceback for a user; HP_PREFLIGHT_DEBUG shows it
        if os.environ.get("HP_PREFLIGHT_DEBUG"):
            raise exc
        message = (
            f"internal error: {type(exc).__name__}: {exc} (set HP_PREFLIGHT_DEBUG=1 for "
            "details and please report it)"
        )
        code, kind = EXIT_CANNOT_RUN, "internal"
    else:
        raise exc
    message = " ".join(message.split("\n"))
    click.echo(f"hp-preflight: error: {message}", err=True)
    if output == "json":
        _write_error_document(code, kind or ERROR_KINDS.get(code, "error"), message, output_file)
    return code


def _write_error_document(code: int, kind: str, message: str, output_file: str | None) -> None:
    """The JSON report of a run that ended in an error: no results, and why."""
    import json

    from ..results import SCHEMA_VERSION

    document = {
        "schema_version": SCHEMA_VERSION,
        "error": {"exit_code": code, "kind": kind, "message": message},
        "results": [],
    }
    text = json.dumps(document, indent=2) + "\n"
    try:
        write_output(text, output_file)
    except InputError:  # the file is what failed: stdout still gets the document
        write_output(text, None)


def requested_output(args: Sequence[str]) -> tuple[str | None, str | None]:
    """``--output`` and ``--output-file`` as the command line gives them (the last of each),
    read from the words themselves so that they are known even when parsing failed."""
    found: dict[str, str | None] = {"--output": None, "--output-file": None}
    json_file: str | None = None
    words = iter(args)
    for word in words:
        if word == "--":
            break
        name, equals, value = word.partition("=")
        if name == "-o" or (word.startswith("-o") and not word.startswith("--")):
            name, value, equals = "--output", word[2:], "=" if len(word) > 2 else ""
        if name in found:
            found[name] = value if equals else next(words, None)
        elif name == "--json":
            json_file = value if equals else next(words, None)
    output_file = found["--output-file"]
    if output_file and output_file.startswith("json="):
        return "json", output_file.removeprefix("json=")
    if json_file and found["--output"] != "json":
        return "json", json_file
    return found["--output"], output_file


def _debug_logging() -> None:
    """With HP_PREFLIGHT_DEBUG set, the library's log (a check's internal error with its
    traceback) goes to stderr; otherwise the report's ``internal_error`` findings say it."""
    if os.environ.get("HP_PREFLIGHT_DEBUG"):
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("botocore").setLevel(logging.WARNING)
        logging.getLogger("urllib3").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console entry point: one line on stderr and a documented exit code, never a traceback.
    Called as the process's entry (no ``argv``), it leaves through :func:`leave`."""
    try:
        _main(argv)
    except SystemExit as done:
        if argv is None and isinstance(done.code, int | None):
            leave(done.code or 0)
        raise


def leave(code: int) -> NoReturn:
    """End the process with ``code`` once its output is flushed and its exit handlers have
    run, without tearing the interpreter down: freeing every module and object a run loaded
    (botocore's models and clients, pydantic's schemas) costs ~0.1 s of CPU and nothing else
    needs it. A process with a non-daemon thread still running exits the usual way (that
    thread is waited for)."""
    main_thread = threading.main_thread()
    if any(t.is_alive() and not t.daemon and t is not main_thread for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()  # what a normal exit runs: logging, weakref.finalize, ...
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader has gone: the run keeps its own exit code
            if stream is sys.stdout:
                discard_stdout()
        except (OSError, ValueError):  # closed, or no file behind it
            pass
    os._exit(code)


def _main(argv: Sequence[str] | None) -> NoReturn:
    args = list(argv) if argv is not None else sys.argv[1:]
    _debug_logging()
    try:
        rv = cli.main(args=args, prog_name="hp-preflight", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.format_message())
        sys.exit(EXIT_USAGE)
    except BrokenPipeError:  # a write outside write_output met a closed stdout
        discard_stdout()
        sys.exit(EXIT_OK)
    except (Exception, KeyboardInterrupt) as exc:
        output, output_file = requested_output(args)
        sys.exit(error_exit_code(exc, output=output, output_file=output_file))
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)
