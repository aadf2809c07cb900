"""`hp-preflight check`: the account pre-flight of one cluster, described by a config or by
flags. It always runs the pre-flight (on AWS, offline, or on the sandbox with ``--sandbox``);
the whole-VPC audit is `hp-preflight audit`. An option the chosen way of running would ignore
is refused (exit 2), never dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..options import CheckOptions, SandboxOptions
from .build import (
    aws_from,
    aws_options,
    cluster_from,
    cluster_options,
    given,
    no_cache_option,
    project,
    refuse,
    selection_from,
    selection_options,
)
from .options import REPORT_FORMATS, _in_order
from .outputs import emit, open_outputs, output_options, output_plan
from .values import Seconds

check_only_options = _in_order(
    click.option("--offline", is_flag=True, help="Run only the checks that need no AWS access."),
    click.option(
        "--sandbox",
        is_flag=True,
        help="Run on a sandbox account built in-process for --config (else the bundled "
        "example); needs the [sandbox] extra.",
    ),
    click.option(
        "--with-tools",
        is_flag=True,
        help="Also judge this machine's tools (aws, session-manager-plugin, kubectl, helm), "
        "as `hp-preflight tools` does; never part of check otherwise.",
    ),
    click.option(
        "--fsx", is_flag=True, help="The cluster mounts FSx for Lustre (checks its SG ports)."
    ),
    click.option(
        "--lifecycle-dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Local copy of the lifecycle scripts: its provisioning_parameters.json is "
        "compared with the config (FSx, Slurm groups and partitions).",
    ),
    click.option(
        "--kube-context",
        metavar="CONTEXT",
        help="kubeconfig context of the EKS cluster: reads the HyperPod Helm chart's "
        "components (read-only; needs hyperpod-preflight[kube]).",
    ),
    click.option(
        "--concurrency",
        type=click.IntRange(1, 64),
        default=16,
        show_default=True,
        help="Checks run at once.",
    ),
    no_cache_option,
    click.option(
        "--timeout",
        "timeout_s",
        type=Seconds(1, 3600),
        default=None,
        metavar="SECONDS",
        help="The whole run's deadline: checks still waiting then are UNKNOWN (timed out); "
        "the report is printed as usual.  [default: 120]",
    ),
)


@click.command("check")
@cluster_options
@check_only_options
@aws_options
@selection_options()
@output_options(*REPORT_FORMATS)
@click.pass_context
def check_cmd(ctx: click.Context, /, **params: Any) -> int:
    """Run the account pre-flight of a cluster config (or of flags).

    \b
      hp-preflight check --config cluster-config.json
      hp-preflight check --config cluster-config.json --json report.json --junit junit.xml
      hp-preflight check --sandbox --config cluster-config.json

    Judges the account and the config. This machine's tools are judged by
    `hp-preflight tools` (or with --with-tools): they never change check's exit code.
    """
    outputs = open_outputs(output_plan(params))  # a bad path: exit 2 before any AWS call
    try:
        if params["sandbox"]:
            return _sandbox(ctx, params, outputs)
        return _account(ctx, params, outputs)
    finally:
        outputs.close()


def _account(ctx: click.Context, params: dict[str, Any], outputs: Any) -> int:
    from ..api import check_record
    from .progress import progress_callback

    if params["offline"]:
        refuse(
            {
                "--profile": params["profile"],
                "--region": params["region"],
                "--max-attempts": params["max_attempts"],
                "--no-cache": params["no_cache"],
                "--retry-mode": given(ctx, "retry_mode"),
            },
            "--offline makes no AWS call",
        )
    proj = project(params)
    opts = CheckOptions(
        cluster=cluster_from(params),
        aws=aws_from(params, proj),
        selection=selection_from(params, proj),
        offline=params["offline"],
        with_tools=params["with_tools"],
        fsx=params["fsx"],
        lifecycle_dir=params["lifecycle_dir"],
        kube_context=params["kube_context"],
        concurrency=params["concurrency"],
        timeout_s=params["timeout_s"],
    )
    quiet = outputs.plan.verbosity < 0
    return emit(check_record(opts, progress=progress_callback(quiet=quiet)), outputs)


def _sandbox(ctx: click.Context, params: dict[str, Any], outputs: Any) -> int:
    from .demo import run_sandbox_and_emit

    refuse(
        {
            "--offline": params["offline"],
            "--profile": params["profile"],
            "--region": params["region"],
            "--kube-context": params["kube_context"],
            **{flag: True for flag in cluster_from(params).flags_given()},
            "--vpc": params["vpc"],
        },
        "cannot be combined with --sandbox: the sandbox builds its own account (in this "
        "process, no AWS call) for --config, or the bundled example",
    )
    proj = project(params)
    cluster = cluster_from(params)
    opts = SandboxOptions(
        cluster=cluster,
        selection=selection_from(params, proj),
        with_tools=params["with_tools"],
        fsx=params["fsx"],
        lifecycle_dir=params["lifecycle_dir"],
        concurrency=params["concurrency"],
        timeout_s=params["timeout_s"],
        retry_mode=params["retry_mode"],
        max_attempts=params["max_attempts"] or 10,
    )
    return run_sandbox_and_emit(opts, outputs, show_account=False)
