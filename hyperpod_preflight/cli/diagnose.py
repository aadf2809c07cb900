"""`hp-preflight diagnose --cluster NAME|ARN`: why a cluster failed or is degraded."""

from __future__ import annotations

from typing import Any

import click

from .options import (
    REPORT_FORMATS,
    aws_options,
    emit_report,
    output_options,
    selection,
    selection_options,
)


@click.command("diagnose")
@click.option(
    "--cluster",
    required=True,
    metavar="NAME|ARN",
    help="The HyperPod cluster to explain (name or ARN).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=1, max=86400),
    default=120.0,
    show_default=True,
    help="Run deadline in seconds: reads still waiting then are UNKNOWN (timed out).",
)
@selection_options()
@aws_options
@output_options(*REPORT_FORMATS)
def diagnose(**params: Any) -> int:
    """Read a live cluster (status, nodes, events, lifecycle logs) and run every pre-flight
    check on the request it was created from: the FAILs name the cause and its fix.

    hp-preflight diagnose --cluster my-cluster --region us-west-2

    Read-only and bounded: at most 5,000 nodes, the 500 most recent events and the lifecycle
    logs of 5 failed instances are read; the summary line prints the call count.
    """
    from ..diagnose import DiagnoseOptions, run_diagnosis, validate_cluster_name
    from .progress import progress_callback

    opts = DiagnoseOptions(
        cluster=validate_cluster_name(params["cluster"]),
        region=params["region"],
        profile=params["profile"],
        retry_mode=params["retry_mode"],
        max_attempts=params["max_attempts"],
        timeout_s=params["timeout_s"],
        **selection(params),
    )
    report = run_diagnosis(opts, progress=progress_callback(quiet=False))
    return emit_report(report, params["output"], params["output_file"])
