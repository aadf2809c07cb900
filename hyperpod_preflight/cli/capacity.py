"""`hp-preflight capacity`: where N × an instance type can run now, across regions: quota
headroom, offered zones and training-plan offerings, ranked."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import click

from ..errors import InputError
from ..options import CapacityOptions
from .build import aws_from, aws_options, project, selection_from, selection_options
from .options import REPORT_FORMATS, split_ids
from .outputs import emit, open_outputs, output_options, output_plan
from .values import INSTANCE_TYPE, REGION, VPC_ID, Seconds


def _regions(text: str | None) -> tuple[str, ...] | Literal["all"] | None:
    if not text:
        return None
    if text.strip() == "all":
        return "all"
    names = tuple(r.strip() for r in text.split(",") if r.strip())
    for name in names:
        _region(name)
    return names


def _region(name: str) -> None:
    try:
        REGION.convert(name, None, None)
    except click.BadParameter as exc:
        raise InputError(f"--regions: {exc.format_message()}") from exc


@click.command("capacity")
@click.option(
    "--instance-type", "instance_type", required=True, type=INSTANCE_TYPE, metavar="ml.TYPE"
)
@click.option("--count", type=click.IntRange(1, 6758), required=True, help="Nodes wanted.")
@click.option(
    "--regions",
    metavar="R1,R2|all",
    help="Regions to compare (default: --region's); 'all': every region botocore lists.",
)
@click.option("--orchestrator", type=click.Choice(["slurm", "eks"]), default="slurm")
@click.option(
    "--vpc", type=VPC_ID, help="Also say whether a subnet of this VPC (in --region) has room."
)
@click.option(
    "--timeout",
    "timeout_s",
    type=Seconds(1, 3600),
    default=None,
    metavar="SECONDS",
    help="The whole run's deadline: regions still unread then are UNKNOWN (timed out), "
    "and the process ends.  [default: 120]",
)
@aws_options
@selection_options()
@output_options(*REPORT_FORMATS)
def capacity(**params: Any) -> int:
    """Rank regions for COUNT x TYPE: ready now, needs a quota request, needs a reservation.

    hp-preflight capacity --instance-type ml.p5.48xlarge --count 16 --regions all
    """
    from ..api import capacity_record

    outputs = open_outputs(output_plan(params))
    proj = project(params)
    # the project file's skip names cluster checks: only --skip applies to the scan
    chosen = replace(selection_from(params, proj), skip=tuple(split_ids(params["skip"] or ())))
    opts = CapacityOptions(
        instance_type=params["instance_type"],
        count=params["count"],
        aws=aws_from(params, proj),
        selection=chosen,
        regions=_regions(params["regions"]),
        orchestrator="eks" if params["orchestrator"] == "eks" else "slurm",
        vpc=params["vpc"],
        timeout_s=params["timeout_s"],
    )
    return emit(capacity_record(opts), outputs)
