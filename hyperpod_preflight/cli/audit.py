"""`hp-preflight audit --vpc vpc-…`: the whole-VPC audit (every subnet and security group,
where N × each instance type fits, what to fix first). `hp-preflight --vpc vpc-…` with no
command is its shortcut and takes the same options."""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import InputError
from ..options import AuditOptions
from .build import (
    aws_from,
    aws_options,
    instance_types_option,
    project,
    selection_from,
    selection_options,
)
from .options import REPORT_FORMATS, _in_order, ip_headroom_option
from .outputs import emit, open_outputs, output_options, output_plan
from .values import VPC_ID, Seconds

audit_options = _in_order(
    click.option("--vpc", type=VPC_ID, help="The VPC to audit (vpc-...)."),
    instance_types_option,
    click.option(
        "--nodes",
        type=click.IntRange(1, 6758),
        default=4,
        show_default=True,
        help="Nodes of each --instance-type to place.",
    ),
    click.option("--orchestrator", type=click.Choice(["slurm", "eks"]), default=None),
    ip_headroom_option("Spare nodes per group to keep addresses for (node replacement)."),
    click.option("--fsx", is_flag=True, help="The cluster mounts FSx for Lustre."),
    click.option(
        "--timeout",
        "timeout_s",
        type=Seconds(1, 3600),
        default=None,
        metavar="SECONDS",
        help="The whole run's deadline: reads still waiting then are UNKNOWN (timed out), "
        "and the process ends.  [default: 120]",
    ),
    click.option(
        "--suggest-config",
        is_flag=True,
        help="Print only a VpcConfig (and OverrideVpcConfig per group) to paste.",
    ),
    aws_options,
    selection_options(),
    output_options(*REPORT_FORMATS),
)


def run_audit(params: dict[str, Any]) -> int:
    """The audit the options describe; with ``--suggest-config`` only the config snippet."""
    from ..api import audit_record as audit

    if not params.get("vpc"):
        raise InputError("the VPC audit needs --vpc vpc-... (a cluster config: `check --config`)")
    outputs = open_outputs(output_plan(params))
    try:
        proj = project(params)
        opts = AuditOptions(
            vpc_id=params["vpc"],
            aws=aws_from(params, proj),
            selection=selection_from(params, proj),
            instance_types=tuple(params["instance_types"]),
            nodes=params["nodes"],
            orchestrator=params["orchestrator"],
            ip_headroom=params["ip_headroom"],
            fsx=params["fsx"],
            timeout_s=params["timeout_s"],
        )
        report = audit(opts)
        if not params["suggest_config"]:
            return emit(report, outputs)
        found = report.vpc_audit
        if found is None or found.suggested_config is None:
            raise InputError(
                f"--suggest-config: nothing fits VPC {opts.vpc_id} (from --vpc) yet; run "
                "without --suggest-config to see what to fix first"
            )
        outputs.write(outputs.plan.main, json.dumps(found.suggested_config, indent=2) + "\n")
        return int(report.summary.exit_code)
    finally:
        outputs.close()


@click.command("audit")
@audit_options
def audit_cmd(**params: Any) -> int:
    """Audit a whole VPC as a home for a HyperPod cluster.

    \b
      hp-preflight audit --region us-west-2 --vpc vpc-0abc1234
      hp-preflight audit --vpc vpc-0abc1234 --instance-type ml.p5.48xlarge --nodes 16

    `hp-preflight --vpc vpc-...` (no command) is the same.
    """
    return run_audit(params)
