"""`hp-preflight capacity`: where N × an instance type can run now, across regions: quota
headroom, offered zones and training-plan offerings, ranked."""

from __future__ import annotations

from typing import Any

import click

from ..errors import InputError
from .options import (
    AWS_OPTIONS,
    REPORT_FORMATS,
    aws_options,
    emit_report,
    fail_on_option,
    output_options,
    pick,
)


@click.command("capacity")
@click.option(
    "--instance-type", "instance_type", required=True, metavar="ml.TYPE", help="e.g. ml.p5.48xlarge"
)
@click.option("--count", type=click.IntRange(1, 6758), required=True, help="Nodes wanted.")
@click.option(
    "--regions",
    metavar="R1,R2|all",
    help="Regions to compare (default: --region's); 'all': every region botocore lists.",
)
@click.option("--orchestrator", type=click.Choice(["slurm", "eks"]), default="slurm")
@click.option("--vpc", help="Also say whether a subnet of this VPC (in --region) has room.")
@fail_on_option
@aws_options
@output_options(*REPORT_FORMATS)
def capacity(**params: Any) -> int:
    """Rank regions for COUNT x TYPE: ready now, needs a quota request, needs a reservation.

    hp-preflight capacity --instance-type ml.p5.48xlarge --count 16 --regions all
    """
    from ..capacity_run import run_capacity_scan
    from ..catalog import describe_invalid_type, is_hyperpod_instance_type

    if not is_hyperpod_instance_type(params["instance_type"]):
        raise InputError(f"--instance-type: {describe_invalid_type(params['instance_type'])}")
    regions = params["regions"]
    chosen: list[str] | str | None = None
    if regions:
        chosen = "all" if regions.strip() == "all" else [r for r in regions.split(",") if r.strip()]
    report = run_capacity_scan(
        params["instance_type"],
        params["count"],
        regions=chosen,
        orchestrator=params["orchestrator"],
        vpc=params["vpc"],
        fail_on=params["fail_on"],
        **pick(params, *AWS_OPTIONS),
    )
    return emit_report(report, params["output"], params["output_file"])
