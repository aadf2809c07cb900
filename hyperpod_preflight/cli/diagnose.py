"""`hp-preflight diagnose --cluster NAME|ARN`: why a cluster failed or is degraded."""

from __future__ import annotations

from typing import Any

import click

from ..options import DiagnoseOptions
from .build import aws_from, aws_options, project, selection_from, selection_options
from .options import REPORT_FORMATS
from .outputs import emit, open_outputs, output_options, output_plan


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
    default=None,
    help="The whole run's deadline in seconds (default 120): reads still waiting then are "
    "UNKNOWN (timed out).",
)
@aws_options
@selection_options()
@output_options(*REPORT_FORMATS)
def diagnose(**params: Any) -> int:
    """Read a live cluster (status, nodes, events, lifecycle logs) and run every pre-flight
    check on the request it was created from: the FAILs name the cause and its fix.

    hp-preflight diagnose --cluster my-cluster --region us-west-2

    Read-only and bounded: at most 5,000 nodes, the 500 most recent events and the lifecycle
    logs of 5 failed instances are read; the summary line prints the call count.
    """
    from ..api import diagnose_record
    from ..diagnose import validate_cluster_name
    from .progress import progress_callback

    cluster = validate_cluster_name(params["cluster"])
    outputs = open_outputs(output_plan(params))
    proj = project(params)
    opts = DiagnoseOptions(
        cluster=cluster,
        aws=aws_from(params, proj),
        selection=selection_from(params, proj),
        timeout_s=params["timeout_s"],
    )
    quiet = outputs.plan.verbosity < 0
    return emit(diagnose_record(opts, progress=progress_callback(quiet=quiet)), outputs)
