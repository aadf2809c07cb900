"""`hp-preflight demo` and `check --sandbox`: the account pre-flight on a sandbox account
(moto, in this process) built for a config, with typical mistakes planted on request."""

from __future__ import annotations

import time
from pathlib import Path
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


def _load_config(config: str | None, example: str) -> tuple[dict[str, Any], str]:
    """The config to build for (a path or ``-``, else the bundled example), and its name."""
    if config is None:
        from ..sandbox import example_config
        from ..sandbox.run import EXAMPLES

        return example_config(example), f"examples/{EXAMPLES[example]} (bundled)"
    from ..spec import load_spec

    spec = load_spec(config)  # validated here: a bad config is exit 2 before moto starts
    return dict(spec.raw), spec.source


# Options of `check` that a sandbox run cannot honour (check.py refuses the AWS and the other
# cluster flags itself).
_FROM_CONFIG = "the sandbox builds the account for --config (or the bundled example) alone"
REFUSED = {
    "kube_context": (
        "--kube-context",
        "the sandbox builds no Kubernetes cluster to read the HyperPod Helm chart from; run "
        "`hp-preflight check --config FILE --kube-context CONTEXT` on your account",
    ),
    "orchestrator": ("--orchestrator", _FROM_CONFIG),
    "cluster_name": ("--name", _FROM_CONFIG),
}


def _refuse_what_the_sandbox_cannot_do(params: dict[str, Any]) -> None:
    from ..errors import InputError

    for name, (flag, why) in REFUSED.items():
        if params.get(name):
            raise InputError(f"--sandbox cannot be combined with {flag}: {why}")


def _run_options(params: dict[str, Any]) -> dict[str, Any]:
    """The check options a sandbox run honours: --fsx, the local provisioning_parameters.json
    of --lifecycle-dir, --timeout, --retry-mode and --max-attempts (--no-cache holds by
    itself: the sandbox never reads or writes the quota-code cache)."""
    from .check import lifecycle_dir_options

    honoured: dict[str, Any] = {}
    for name in ("timeout_s", "retry_mode", "max_attempts"):
        if params.get(name) is not None:
            honoured[name] = params[name]
    lifecycle_dir = params.get("lifecycle_dir")
    return {
        "options": {
            "fsx": params.get("fsx", False),
            **lifecycle_dir_options(Path(lifecycle_dir) if lifecycle_dir else None),
        },
        "lifecycle_dir": Path(lifecycle_dir) if lifecycle_dir else None,
        **honoured,
    }


def run_sandbox_check(
    params: dict[str, Any], *, defects: tuple[str, ...] = (), example: str = "slurm"
) -> int:
    """Build the sandbox for ``params['config']`` (or the bundled example), run the
    pre-flight there, write the report; its exit code. Progress lines go to stderr."""
    from ..sandbox import parse_defects, require_moto, run_sandbox

    started = time.perf_counter()
    _refuse_what_the_sandbox_cannot_do(params)
    planted = parse_defects(defects)
    config, source = _load_config(params.get("config"), example)
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
        ip_headroom=params.get("ip_headroom", 1),
        concurrency=params.get("concurrency", 16),
        source=f"sandbox:{source}",
        **_run_options(params),
        **selection(params),
    )
    for note in run.notes:  # what was checked is said even with --quiet
        click.echo(f"sandbox: {note}", err=True)
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
@click.option(
    "--failed-cluster",
    is_flag=True,
    help="Build a cluster whose creation failed (default defects: crlf-script,no-nat) and "
    "run `hp-preflight diagnose` on it.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@click.option("--fsx", is_flag=True, help="The cluster mounts FSx for Lustre (checks SG ports).")
@click.option(
    "--lifecycle-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Your lifecycle scripts: uploaded instead of the bundled ones, and its "
    "provisioning_parameters.json compared with the config.",
)
@output_options(*REPORT_FORMATS)
@selection_options()
def demo(
    defects: tuple[str, ...],
    list_defects: bool,
    example: str,
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
        click.echo(list_defects_text(), nl=False)
        return EXIT_OK
    if failed_cluster:
        return run_failed_cluster_demo(params, defects=defects, example=example)
    return run_sandbox_check(params, defects=defects, example=example)


def run_failed_cluster_demo(
    params: dict[str, Any], *, defects: tuple[str, ...], example: str
) -> int:
    """``demo --failed-cluster``: a failed cluster in the sandbox, then ``diagnose`` on it."""
    from ..sandbox.failed_cluster import DEFAULT_DEFECTS, run_failed_cluster_diagnosis

    started = time.perf_counter()
    config, source = _load_config(params.get("config"), example)
    chosen = defects or DEFAULT_DEFECTS
    if not params.get("quiet"):
        click.echo(
            f"sandbox: building {source} with {', '.join(chosen)} planted, and a cluster whose "
            "creation failed (moto, in this process: nothing leaves this machine); "
            "`hp-preflight diagnose` follows",
            err=True,
        )
    run = run_failed_cluster_diagnosis(config, defects=chosen, **selection(params))
    report = run.report.model_copy(update={"duration_s": round(time.perf_counter() - started, 3)})
    return emit_report(report, params["output"], params["output_file"])
