"""`hp-preflight demo` and `check --sandbox`: the account pre-flight on a sandbox account
(moto, in this process) built for a config, with typical mistakes planted on request."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import click

from ..options import SandboxOptions
from .build import cluster_from, given, project, refuse, selection_from, selection_options
from .options import EXIT_OK, REPORT_FORMATS
from .outputs import OpenOutputs, emit, open_outputs, output_options, output_plan, terminal_width


def list_defects_text(fmt: str) -> str:
    from ..sandbox import DEFECTS

    if fmt == "json":
        rows = [
            {"name": d.name, "status": d.status, "check_id": d.check_id, "summary": d.summary}
            for d in DEFECTS.values()
        ]
        return json.dumps(rows, indent=2) + "\n"
    width = max(len(name) for name in DEFECTS)
    lines = [
        f"{d.name:<{width}}  {d.status:<4}  {d.check_id:<31}  {d.summary}" for d in DEFECTS.values()
    ]
    header = f"{'DEFECT':<{width}}  {'SEES':<4}  {'CHECK':<31}  WHAT IS WRONG"
    return "\n".join([header, *lines]) + "\n"


def _say(text: str) -> None:
    """One message on stderr, wrapped to the terminal."""
    for line in textwrap.wrap(text, width=terminal_width(), subsequent_indent="  "):
        click.echo(line, err=True)


def run_sandbox_and_emit(opts: SandboxOptions, outputs: OpenOutputs, *, show_account: bool) -> int:
    """Build the sandbox for ``opts``, run the pre-flight there, write every output; its exit
    code. What is built and planted is said on stderr (unless -q), in as few lines as it takes."""
    from ..api import run_sandbox_build
    from ..sandbox import parse_defects, require_moto

    require_moto()  # without the extra: the install command, and nothing else said
    quiet = outputs.plan.verbosity < 0
    if not quiet:
        source = opts.cluster.config or f"the bundled {opts.example} example"
        planted = ", ".join(d.name for d in parse_defects(opts.defects))
        _say(
            f"sandbox: building in this process (moto; nothing leaves this machine) the "
            f"account for {source}" + (f"; planted {planted}" if planted else "")
        )
    run = run_sandbox_build(opts)
    if show_account and not quiet:
        for line in run.created:
            click.echo(f"sandbox:   {line}", err=True)
    return emit(run.report, outputs, after=None if quiet else _next_step(opts))


def _next_step(opts: SandboxOptions) -> Any:
    def hint() -> None:
        if opts.cluster.config:
            _say(
                "next: the same checks on your account: hp-preflight check --config "
                f"{opts.cluster.config}"
            )
        else:
            _say(
                "next: your own config on the sandbox: hp-preflight check --sandbox --config "
                "cluster.json; then on your account: hp-preflight check --config cluster.json"
            )

    return hint


@click.command("demo")
@click.option(
    "--defects",
    "defects",
    multiple=True,
    metavar="NAME,...",
    help="Plant these typical mistakes (or all); see --list-defects.",
)
@click.option("--list-defects", is_flag=True, help="List the defects that can be planted.")
@click.option(
    "--example",
    type=click.Choice(["slurm", "eks"]),
    default="slurm",
    show_default=True,
    help="Which bundled example config to build the account for.",
)
@click.option(
    "--config", "-c", "config", metavar="FILE", help="Your config instead of the example."
)
@click.option("--show-account", is_flag=True, help="List every resource the sandbox built.")
@click.option("--fsx", is_flag=True, help="The cluster mounts FSx for Lustre (checks SG ports).")
@click.option("--with-tools", is_flag=True, help="Also judge this machine's tools.")
@selection_options()
@output_options(*REPORT_FORMATS)
@click.pass_context
def demo(
    ctx: click.Context,
    /,
    defects: tuple[str, ...],
    list_defects: bool,
    example: str,
    show_account: bool,
    **params: Any,
) -> int:
    """The pre-flight on a sandbox AWS account: no AWS account or credentials needed.

    Builds in this process (moto) the account a careful user prepares for the bundled
    Slurm example (or --example eks, or --config FILE): VPC with DNS, private subnets sized
    by the planner, NAT gateway, S3 gateway endpoint, EFA security group, execution role,
    lifecycle bucket with the reference scripts; then runs every check on it. Clean by
    default (exit 0); --defects plants typical mistakes so you see FAILs and their fixes
    (exit 1). Needs the [sandbox] extra: pip install 'hyperpod-preflight[sandbox]'.
    """
    if list_defects:
        click.echo(list_defects_text(params["output"]), nl=False)
        return EXIT_OK
    from ..sandbox import parse_defects

    refuse(
        {"--example": params["config"] and given(ctx, "example")},
        "cannot be combined with --config: the sandbox is built for your config",
    )
    parse_defects(defects)  # a bad name is exit 2 before any file is opened
    outputs = open_outputs(output_plan(params))
    proj = project(params)
    opts = SandboxOptions(
        cluster=cluster_from({"config": params["config"]}),
        selection=selection_from(params, proj),
        example="eks" if example == "eks" else "slurm",
        defects=defects,
        with_tools=params["with_tools"],
        fsx=params["fsx"],
    )
    return run_sandbox_and_emit(opts, outputs, show_account=show_account)
