"""`hp-preflight demo` and `check --sandbox`: the account pre-flight on a sandbox account
(moto, in this process) built for a config, with typical mistakes planted on request."""

from __future__ import annotations

import time
from typing import Any

import click

from .options import (
    EXIT_OK,
    REPORT_FORMATS,
    emit_report,
    output_options,
    selection,
    selection_options,
)


def list_defects_text() -> str:
    from ..sandbox import DEFECTS

    width = max(len(name) for name in DEFECTS)
    lines = [
        f"{d.name:<{width}}  {d.status:<4}  {d.check_id:<31}  {d.summary}" for d in DEFECTS.values()
    ]
    header = f"{'DEFECT':<{width}}  {'SEES':<4}  {'CHECK':<31}  WHAT IS WRONG"
    return "\n".join([header, *lines]) + "\n"


def _load_config(
    config: str | None, example: str, params: dict[str, Any] | None = None
) -> tuple[dict[str, Any], str]:
    """The config to build for (a path or ``-``, else the bundled example), and its name. A
    CloudFormation template or Terraform plan gives its cluster's CreateCluster config."""
    if config is None:
        from ..sandbox import example_config
        from ..sandbox.run import EXAMPLES

        return example_config(example), f"examples/{EXAMPLES[example]} (bundled)"
    from ..spec import load_spec
    from ..spec.documents import parse_parameter, read_parameters_file

    params = params or {}
    values = (
        read_parameters_file(params["parameters_file"]) if params.get("parameters_file") else {}
    )
    values.update(parse_parameter(p) for p in params.get("parameters") or ())
    # validated here: a bad config is exit 2 before moto starts
    spec = load_spec(config, parameters=values, resource=params.get("resource"))
    return dict(spec.raw), spec.source


def run_sandbox_check(
    params: dict[str, Any], *, defects: tuple[str, ...] = (), example: str = "slurm"
) -> int:
    """Build the sandbox for ``params['config']`` (or the bundled example), run the
    pre-flight there, write the report; its exit code. Progress lines go to stderr."""
    from ..sandbox import parse_defects, require_moto, run_sandbox

    started = time.perf_counter()
    planted = parse_defects(defects)
    config, source = _load_config(params.get("config"), example, params)
    require_moto()
    quiet = params.get("quiet", False)
    if not quiet:
        click.echo(
            f"sandbox: building the account a careful user prepares for {source} "
            "(moto, in this process: nothing leaves this machine)",
            err=True,
        )
        for defect in planted:
            click.echo(
                f"sandbox: planted {defect.name}: {defect.summary} "
                f"(expect {defect.status} {defect.check_id})",
                err=True,
            )
    run = run_sandbox(
        config,
        defects=planted,
        options={"fsx": params.get("fsx", False)},
        ip_headroom=params.get("ip_headroom", 1),
        concurrency=params.get("concurrency", 16),
        source=f"sandbox:{source}",
        **selection(params),
    )
    if not quiet:
        if params.get("show_account"):
            for line in run.created:
                click.echo(f"sandbox:   {line}", err=True)
        click.echo(
            f"sandbox: built {len(run.created)} resources in {run.build_s:.1f} s; "
            "the pre-flight follows",
            err=True,
        )
    report = run.report.model_copy(update={"duration_s": round(time.perf_counter() - started, 3)})
    return emit_report(report, params["output"], params["output_file"])


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
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@click.option("--fsx", is_flag=True, help="The cluster mounts FSx for Lustre (checks SG ports).")
@output_options(*REPORT_FORMATS)
@selection_options()
def demo(defects: tuple[str, ...], list_defects: bool, example: str, **params: Any) -> int:
    """The pre-flight on a sandbox AWS account: no AWS account or credentials needed.

    Builds in this process (moto) the account a careful user prepares for the bundled
    Slurm example (or --example eks, or --config FILE): VPC with DNS, private subnets sized
    by the planner, NAT gateway, S3 gateway endpoint, EFA security group, execution role,
    lifecycle bucket with the reference scripts; then runs every check on it. Clean by
    default (exit 0); --defects plants typical mistakes so you see FAILs and their fixes
    (exit 1). Needs the [sandbox] extra: pip install 'hyperpod-preflight[sandbox]'.
    """
    if list_defects:
        click.echo(list_defects_text(), nl=False)
        return EXIT_OK
    return run_sandbox_check(params, defects=defects, example=example)
