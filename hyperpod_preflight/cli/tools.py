"""`hp-preflight tools`: only the local tool checks (aws, session-manager-plugin, and for EKS
kubectl, helm, eksctl, hyp), with no AWS access. `check` runs the same checks unless
`--skip tools`."""

from __future__ import annotations

from typing import Any

import click

from .options import REPORT_FORMATS, Seconds, emit_report, fail_on_option, output_options


@click.command("tools")
@click.option(
    "--config",
    "-c",
    "config",
    metavar="FILE",
    help="CreateCluster JSON: its orchestrator decides which tools are required.",
)
@click.option(
    "--orchestrator",
    type=click.Choice(["slurm", "eks"]),
    default=None,
    help="Without --config: eks (default) also requires kubectl and helm.",
)
@click.option(
    "--kubernetes-version",
    metavar="X.Y",
    help="The EKS cluster's Kubernetes version, to judge kubectl's skew (e.g. 1.31).",
)
@click.option(
    "--timeout",
    type=Seconds(0.1, 120),
    default=10.0,
    show_default=True,
    help="Seconds each tool may take to print its version.",
)
@fail_on_option
@output_options(*REPORT_FORMATS)
def tools(**params: Any) -> int:
    """Check the command-line tools on this machine (no AWS access).

    hp-preflight tools --orchestrator eks --kubernetes-version 1.31
    """
    from ..errors import InputError
    from ..preflight import run_cluster_preflight
    from ..spec import ClusterSpec, load_spec

    if params["config"] and params["orchestrator"]:
        raise InputError("--orchestrator cannot be combined with --config: the config names it")
    if params["config"]:
        spec = load_spec(params["config"])
    else:
        spec = ClusterSpec(name="local-tools", orchestrator=params["orchestrator"] or "eks")
    report = run_cluster_preflight(
        spec,
        offline=True,
        only=["tools"],
        fail_on=params["fail_on"],
        options={
            "kubernetes_version": params["kubernetes_version"],
            "tool_timeout_s": params["timeout"],
        },
    )
    return emit_report(report, params["output"], params["output_file"])
