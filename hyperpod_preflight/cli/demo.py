"""`hp-preflight demo` and `check --sandbox`: the account pre-flight on a sandbox account
(moto, in this process) built for a config, with typical mistakes planted on request."""

from __future__ import annotations

import json
import textwrap
import time
from dataclasses import replace
from pathlib import Path
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
    """One message on stderr, wrapped to the terminal between words: a path or a command is
    never cut inside, so it can still be copied whole."""
    for line in textwrap.wrap(
        text,
        width=terminal_width(),
        subsequent_indent="  ",
        break_long_words=False,
        break_on_hyphens=False,
    ):
        click.echo(line, err=True)


def run_sandbox_and_emit(opts: SandboxOptions, outputs: OpenOutputs, *, show_account: bool) -> int:
    """Build the sandbox for ``opts``, run the pre-flight there, write every output; its exit
    code. What is built and planted is said on stderr (unless -q), in as few lines as it takes."""
    from ..api import run_sandbox_build
    from ..sandbox import parse_defects, require_moto
    from ..spec.validation_cache import judgements_not_kept

    require_moto()  # without the extra: the install command, and nothing else said
    quiet = outputs.plan.verbosity < 0
    if not quiet:
        source = opts.cluster.config or f"the bundled {opts.example} example"
        planted = ", ".join(d.name for d in parse_defects(opts.defects))
        _say(
            f"sandbox: building in this process (moto; nothing leaves this machine) the "
            f"account for {source}" + (f"; planted {planted}" if planted else "")
        )
    with judgements_not_kept():  # the sandbox leaves the user cache alone
        run = run_sandbox_build(opts)
    if opts.cluster.config:  # whose scripts were checked is said even with -q
        for note in run.notes:
            _say(f"sandbox: {note}")
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
@click.option(
    "--lifecycle-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Your lifecycle scripts: uploaded instead of the bundled ones, and its "
    "provisioning_parameters.json compared with the config.",
)
@click.option(
    "--failed-cluster",
    is_flag=True,
    help="Build a cluster whose creation failed (default defects: crlf-script,no-nat) and "
    "run `hp-preflight diagnose` on it.",
)
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
    failed_cluster: bool,
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
    if failed_cluster:
        return run_failed_cluster_demo(params, outputs, defects=defects, example=example)
    opts = SandboxOptions(
        cluster=cluster_from({"config": params["config"]}),
        selection=selection_from(params, proj),
        example="eks" if example == "eks" else "slurm",
        defects=defects,
        with_tools=params["with_tools"],
        fsx=params["fsx"],
        lifecycle_dir=params["lifecycle_dir"],
    )
    return run_sandbox_and_emit(opts, outputs, show_account=show_account)


def run_failed_cluster_demo(
    params: dict[str, Any], outputs: OpenOutputs, *, defects: tuple[str, ...], example: str
) -> int:
    """``demo --failed-cluster``: a failed cluster in the sandbox, then ``diagnose`` on it."""
    from ..sandbox import example_config
    from ..sandbox.failed_cluster import DEFAULT_DEFECTS, run_failed_cluster_diagnosis
    from ..spec import load_spec

    started = time.perf_counter()
    if params["config"]:
        config = dict(load_spec(params["config"]).raw)
    else:
        config = example_config("eks" if example == "eks" else "slurm")
    chosen = defects or DEFAULT_DEFECTS
    if outputs.plan.verbosity >= 0:
        _say(
            f"sandbox: building the account with {', '.join(chosen)} planted, and a cluster "
            "whose creation failed (moto, in this process: nothing leaves this machine); "
            "`hp-preflight diagnose` follows"
        )
    sel = selection_from(params, project(params))
    run = run_failed_cluster_diagnosis(
        config, defects=chosen, only=sel.only, skip=sel.skip, ignore=sel.ignore, fail_on=sel.fail_on
    )
    report = replace(run.report, duration_s=round(time.perf_counter() - started, 3))
    return emit(report, outputs)
