"""`hp-preflight tools`: only the local tool checks (aws, session-manager-plugin, and for EKS
kubectl, helm, eksctl, hyp), with no AWS access. `check` judges the account, not this
machine: it runs these only with `--with-tools`."""

from __future__ import annotations

from typing import Any

import click

from ..options import ToolsOptions
from .build import project, selection_from, selection_options
from .options import REPORT_FORMATS
from .outputs import emit, open_outputs, output_options, output_plan
from .values import KUBERNETES_VERSION, Seconds


@click.command("tools")
@click.option(
    "--config",
    "-c",
    "config",
    metavar="FILE",
    help="CreateCluster config: its orchestrator decides which tools are required.",
)
@click.option(
    "--orchestrator",
    type=click.Choice(["slurm", "eks"]),
    default=None,
    help="Without --config: eks (default) also requires kubectl and helm.",
)
@click.option(
    "--kubernetes-version",
    type=KUBERNETES_VERSION,
    metavar="X.Y",
    help="The EKS cluster's Kubernetes version, to judge kubectl's skew (e.g. 1.31).",
)
@click.option(
    "--tool-timeout",
    type=Seconds(0.1, 120),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds each tool may take to print its version.",
)
@selection_options()
@output_options(*REPORT_FORMATS)
def tools(**params: Any) -> int:
    """Check the command-line tools on this machine (no AWS access).

    hp-preflight tools --orchestrator eks --kubernetes-version 1.31
    """
    from ..api import tools_record

    outputs = open_outputs(output_plan(params))
    opts = ToolsOptions(
        config=params["config"],
        orchestrator=params["orchestrator"],
        kubernetes_version=params["kubernetes_version"],
        selection=selection_from(params, project(params)),
        tool_timeout_s=params["tool_timeout"],
    )
    return emit(tools_record(opts), outputs)
