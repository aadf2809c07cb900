"""`hp-preflight check`, also what a bare `hp-preflight` runs: the account pre-flight of a
cluster described by a config or by flags, and the options it takes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import InputError
from .options import (
    AWS_OPTIONS,
    REPORT_FORMATS,
    Seconds,
    aws_options,
    build_spec,
    emit_report,
    merge_parent_options,
    no_cache_option,
    output_options,
    pick,
    selection,
    selection_options,
    spec_options,
    split_ids,
    write_output,
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
        "--lifecycle-dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Local copy of the lifecycle scripts: its provisioning_parameters.json is "
        "compared with the config (FSx, Slurm groups and partitions).",
    )(fn)
    fn = click.option(
        "--suggest-config",
        is_flag=True,
        help="VPC audit: print only a VpcConfig (and OverrideVpcConfig per group) to paste.",
    )(fn)
    fn = click.option(
        "--nodes",
        type=click.IntRange(1, 6758),
        default=4,
        show_default=True,
        help="VPC audit: nodes of each --instance-type to place.",
    )(fn)
    fn = click.option(
        "--instance-type",
        "audit_types",
        multiple=True,
        metavar="ml.TYPE",
        help="VPC audit: instance type to size and place; repeatable (default: p5, p5en, "
        "p4d, g5, trn1).",
    )(fn)
    fn = click.option(
        "--kube-context",
        metavar="CONTEXT",
        help="kubeconfig context of the EKS cluster: reads the HyperPod Helm chart's "
        "components (read-only; needs hyperpod-preflight[kube]).",
    )(fn)
    fn = click.option(
        "--quiet",
        "-q",
        is_flag=True,
        help="No progress line on stderr while the run waits (shown only on a terminal).",
    )(fn)
    fn = click.option(
        "--concurrency",
        type=click.IntRange(1, 64),
        default=16,
        show_default=True,
        help="Checks run at once.",
    )(fn)
    fn = no_cache_option(fn)
    fn = click.option(
        "--timeout",
        "timeout_s",
        type=Seconds(1, 3600),
        default=120,
        show_default=True,
        metavar="SECONDS",
        help="Run deadline: checks still waiting then are UNKNOWN (timed out); the report "
        "is printed as usual.",
    )(fn)
    return output_options(*REPORT_FORMATS)(selection_options()(aws_options(spec_options(fn))))


def run_check(params: dict[str, Any]) -> int:
    """Run the cluster pre-flight the options describe; write the report; its exit code."""
    if is_vpc_audit(params):
        return run_audit(params)
    if params.get("audit_types") or params.get("suggest_config"):
        raise InputError(
            "--instance-type, --nodes and --suggest-config belong to the VPC audit "
            "(hp-preflight --vpc vpc-... without --config or cluster flags)"
        )
    from ..preflight import run_cluster_preflight

    if params.get("sandbox"):
        return _run_on_sandbox(params)
    from .progress import progress_callback

    started = time.perf_counter()
    report = run_cluster_preflight(
        build_spec(**params),
        options={
            "fsx": params["fsx"],
            "kube_context": params["kube_context"],
            **lifecycle_dir_options(params.get("lifecycle_dir")),
        },
        **pick(params, *AWS_OPTIONS, "offline", "ip_headroom", "concurrency", "timeout_s"),
        **selection(params),
        progress=progress_callback(quiet=params.get("quiet", False)),
        quota_code_cache=not params.get("no_cache"),
    )
    # the wall time of the whole run, reading and validating the config included
    report = report.model_copy(update={"duration_s": round(time.perf_counter() - started, 3)})
    return emit_report(report, params["output"], params["output_file"])


def lifecycle_dir_options(directory: Path | None) -> dict[str, Any]:
    """``provisioning_parameters.json`` of ``--lifecycle-dir`` as the slurm checks take it
    (bytes read here, so that checks do no I/O); nothing without the option."""
    if directory is None:
        return {}
    path = directory / "provisioning_parameters.json"
    try:
        data: bytes | None = path.read_bytes()[: 1 << 20] if path.is_file() else None
    except OSError:
        data = None
    return {"provisioning_parameters": {"file": str(path), "data": data}}


CLUSTER_FLAGS = (
    "config",
    "subnets",
    "security_groups",
    "instance_groups",
    "eks_cluster_arn",
    "execution_role",
    "lifecycle_uri",
    "cluster_name",
)


def is_vpc_audit(params: dict[str, Any]) -> bool:
    """``--vpc`` alone (no config, no cluster flags): the whole-VPC audit."""
    return bool(params.get("vpc")) and not any(params.get(name) for name in CLUSTER_FLAGS)


def run_audit(params: dict[str, Any]) -> int:
    """The whole-VPC audit; with ``--suggest-config`` only the config snippet is written."""
    import json

    from ..audit import run_vpc_audit
    from ..spec.forms import VPC_ID_RE

    vpc_id = str(params["vpc"])
    if not VPC_ID_RE.fullmatch(vpc_id):
        raise InputError(f"--vpc {vpc_id!r}: not a VPC id (vpc-0123456789abcdef0)")
    for itype in params["audit_types"]:
        validate_instance_type(itype)
    report = run_vpc_audit(
        vpc_id,
        instance_types=split_ids(params["audit_types"]),
        nodes=params["nodes"],
        orchestrator=params["orchestrator"],
        ip_headroom=params["ip_headroom"],
        fsx=params["fsx"],
        offline=bool(params.get("offline")),
        only=split_ids(params["only"]),
        skip=split_ids(params["skip"]),
        ignore=split_ids(params["ignore"]),
        fail_on=params["fail_on"],
        **pick(params, *AWS_OPTIONS, "timeout_s"),
    )
    if params["suggest_config"]:
        audit = report.vpc_audit
        if audit is None or audit.suggested_config is None:
            raise InputError(
                f"--suggest-config: nothing fits VPC {vpc_id} (from --vpc) yet; run without "
                "--suggest-config to see what to fix first"
            )
        write_output(json.dumps(audit.suggested_config, indent=2) + "\n", params["output_file"])
        return int(report.summary.exit_code)
    return emit_report(report, params["output"], params["output_file"])


def validate_instance_type(itype: str) -> None:
    from ..catalog import describe_invalid_type, is_hyperpod_instance_type

    for one in split_ids([itype]):
        if not is_hyperpod_instance_type(one):
            raise InputError(f"--instance-type: {describe_invalid_type(one)}")


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
    return run_sandbox_check(params)


@click.command("check")
@check_options
@click.pass_context
def check_cmd(ctx: click.Context, /, **params: Any) -> int:
    """Run the account pre-flight of a cluster config (or of flags).

    Options given before `check` (hp-preflight --offline check ...) apply too.
    """
    return run_check(merge_parent_options(ctx, params))
