"""`hp-preflight check`, also what a bare `hp-preflight` runs: the account pre-flight of a
cluster described by a config or by flags, and the options it takes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click

from .options import (
    AWS_OPTIONS,
    REPORT_FORMATS,
    aws_options,
    build_spec,
    emit_report,
    merge_parent_options,
    output_options,
    pick,
    selection,
    selection_options,
    spec_options,
)


def check_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Every option of `check`: run, output, selection, AWS session and the cluster."""
    fn = click.option(
        "--offline", is_flag=True, help="Run only the checks that need no AWS access."
    )(fn)
    fn = click.option(
        "--sandbox",
        is_flag=True,
        help="Run on a sandbox account built in-process for --config (else the bundled "
        "example); needs the [sandbox] extra.",
    )(fn)
    fn = click.option(
        "--fsx", is_flag=True, help="The cluster mounts FSx for Lustre (checks its SG ports)."
    )(fn)
    fn = click.option(
        "--concurrency",
        type=click.IntRange(1, 64),
        default=16,
        show_default=True,
        help="Checks run at once.",
    )(fn)
    return output_options(*REPORT_FORMATS)(selection_options()(aws_options(spec_options(fn))))


def run_check(params: dict[str, Any]) -> int:
    """Run the cluster pre-flight the options describe; write the report; its exit code."""
    from ..preflight import run_cluster_preflight

    if params.get("sandbox"):
        return _run_on_sandbox(params)
    started = time.perf_counter()
    report = run_cluster_preflight(
        build_spec(**params),
        options={"fsx": params["fsx"]},
        **pick(params, *AWS_OPTIONS, "offline", "ip_headroom", "concurrency"),
        **selection(params),
    )
    # the wall time of the whole run, reading and validating the config included
    report = report.model_copy(update={"duration_s": round(time.perf_counter() - started, 3)})
    return emit_report(report, params["output"], params["output_file"])


def _run_on_sandbox(params: dict[str, Any]) -> int:
    from ..errors import InputError
    from .demo import run_sandbox_check

    clash = [
        flag
        for flag, name in (
            ("--offline", "offline"),
            ("--profile", "profile"),
            ("--region", "region"),
            ("--vpc", "vpc"),
            ("--subnet", "subnets"),
            ("--security-group", "security_groups"),
            ("--instance-group", "instance_groups"),
            ("--eks-cluster-arn", "eks_cluster_arn"),
            ("--execution-role", "execution_role"),
            ("--lifecycle-uri", "lifecycle_uri"),
        )
        if params.get(name)
    ]
    if clash:
        raise InputError(
            f"--sandbox cannot be combined with {', '.join(clash)}: the sandbox builds its own "
            "account for --config (or the bundled example)"
        )
    return run_sandbox_check({**params, "quiet": False})


@click.command("check")
@check_options
@click.pass_context
def check_cmd(ctx: click.Context, /, **params: Any) -> int:
    """Run the account pre-flight of a cluster config (or of flags).

    Options given before `check` (hp-preflight --offline check ...) apply too.
    """
    return run_check(merge_parent_options(ctx, params))
