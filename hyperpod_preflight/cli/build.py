"""From click's parameters to the library's frozen options (:mod:`hyperpod_preflight.options`),
once per command, with the project config file (:mod:`hyperpod_preflight.project_config`)
filling what the command line left unset. The options these decorators add are shared by
every command that takes them (one spelling, one validator, one help text)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from ..errors import InputError
from ..options import AwsOptions, ClusterInput, Selection
from ..project_config import ProjectConfig, load_project_config
from .options import Decorator, _in_order, ip_headroom_option, split_ids
from .values import INSTANCE_TYPE, REGION, SG_ID, SUBNET_ID, VPC_ID

config_file_option: Decorator = click.option(
    "--config-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="TOML",
    help="Project config (default: .hp-preflight.toml or pyproject.toml [tool.hp-preflight] "
    "found upwards from here).",
)


def selection_options(*, only: bool = True) -> Decorator:
    """``--only``, ``--skip``, ``--ignore``, ``--fail-on``, ``--severity``, ``--config-file``."""
    picks = [
        click.option("--only", multiple=True, metavar="IDS", help="Run only these ids or areas."),
        click.option("--skip", multiple=True, metavar="IDS", help="Do not run these."),
    ]
    return _in_order(
        *(picks if only else []),
        click.option(
            "--ignore",
            multiple=True,
            metavar="IDS|all",
            help="Report these FAILs as WARN (marked ignored); still shown. With a reason: "
            "[[ignore]] in the project config.",
        ),
        click.option(
            "--fail-on",
            type=click.Choice(["fail", "warn", "unknown"]),
            default=None,
            help="Lowest status that makes the exit code 1.  [default: fail]",
        ),
        click.option(
            "--severity",
            type=click.Choice(["info", "low", "medium", "high", "critical"]),
            default=None,
            help="Findings below this severity never make the exit code 1 (still shown).",
        ),
        config_file_option,
    )


def project(params: Mapping[str, Any]) -> ProjectConfig:
    return load_project_config(params.get("config_file"))


def selection_from(params: Mapping[str, Any], proj: ProjectConfig) -> Selection:
    """The selection of the flags; the project file fills what they leave unset."""
    return Selection(
        only=tuple(split_ids(params.get("only") or ())),
        skip=tuple(split_ids(params.get("skip") or ())) or proj.skip,
        ignore=tuple(split_ids(params.get("ignore") or ())),
        fail_on=params.get("fail_on") or proj.fail_on or "fail",
        severity=params.get("severity") or proj.severity,
        suppressions=proj.suppressions,
    )


aws_options: Decorator = _in_order(
    click.option("--profile", help="AWS named profile (else the project config's, else default)."),
    click.option(
        "--region",
        type=REGION,
        help="AWS region (else the project config's, else AWS_REGION, AWS_DEFAULT_REGION "
        "or the profile's, as the AWS CLI v2 resolves it).",
    ),
    click.option(
        "--retry-mode",
        type=click.Choice(["standard", "adaptive"]),
        default="standard",
        show_default=True,
        help="botocore retry mode; adaptive rate-limits client-side under throttling.",
    ),
    click.option(
        "--max-attempts",
        type=click.IntRange(1, 30),
        default=None,
        help="Attempts per AWS call, first one included (rides out throttling).  [default: 10]",
    ),
)

no_cache_option: Decorator = click.option(
    "--no-cache",
    is_flag=True,
    help="Neither read nor learn Service Quotas codes in the per-user cache "
    "($XDG_CACHE_HOME/hyperpod-preflight/quota-codes.json): page the quota listings.",
)


def aws_from(params: Mapping[str, Any], proj: ProjectConfig) -> AwsOptions:
    region = params.get("region") or proj.region or os.environ.get("AWS_REGION") or None
    return AwsOptions(
        profile=params.get("profile") or proj.profile,
        region=region,
        retry_mode=params.get("retry_mode") or "standard",
        max_attempts=params.get("max_attempts"),
        quota_code_cache=not params.get("no_cache", False),
    )


cluster_options: Decorator = _in_order(
    click.option(
        "--config",
        "-c",
        "config",
        metavar="FILE",
        help="CreateCluster config, JSON (--cli-input-json) or YAML (--cli-input-yaml), a "
        "CloudFormation template (JSON/YAML) or a Terraform plan (terraform show -json); "
        "'-' reads stdin.",
    ),
    click.option(
        "--parameter",
        "parameters",
        multiple=True,
        metavar="KEY=VALUE",
        help="A CloudFormation template parameter (repeatable); else its Default.",
    ),
    click.option(
        "--parameters-file",
        metavar="FILE",
        help="Template parameters: the file `aws cloudformation deploy --parameter-overrides` "
        "or `create-stack --parameters` takes.",
    ),
    click.option(
        "--resource",
        metavar="ID",
        help="Check only this AWS::SageMaker::Cluster (logical id) or plan address.",
    ),
    click.option("--vpc", type=VPC_ID, help="VPC id (vpc-...)."),
    click.option("--subnet", "subnets", multiple=True, type=SUBNET_ID, help="Subnet; repeatable."),
    click.option(
        "--security-group", "security_groups", multiple=True, type=SG_ID, help="SG; repeatable."
    ),
    click.option(
        "--instance-group",
        "instance_groups",
        multiple=True,
        metavar="NAME=ml.TYPE:COUNT",
        help="An instance group; repeatable.",
    ),
    click.option("--orchestrator", type=click.Choice(["slurm", "eks"]), default=None),
    click.option("--eks-cluster-arn", help="EKS cluster ARN (with --orchestrator eks)."),
    click.option("--execution-role", help="IAM role ARN for every flag-built group."),
    click.option("--lifecycle-uri", help="s3://bucket/prefix of the lifecycle scripts."),
    click.option("--name", "cluster_name", help="Cluster name for flag-built specs."),
    ip_headroom_option("Spare nodes per group to keep addresses for (node replacement)."),
)


def cluster_from(params: Mapping[str, Any]) -> ClusterInput:
    return ClusterInput(
        config=params.get("config"),
        vpc=params.get("vpc"),
        subnets=tuple(params.get("subnets") or ()),
        security_groups=tuple(params.get("security_groups") or ()),
        instance_groups=tuple(params.get("instance_groups") or ()),
        orchestrator=params.get("orchestrator"),
        eks_cluster_arn=params.get("eks_cluster_arn"),
        execution_role=params.get("execution_role"),
        lifecycle_uri=params.get("lifecycle_uri"),
        name=params.get("cluster_name"),
        ip_headroom=params.get("ip_headroom", 1),
        parameters=tuple(params.get("parameters") or ()),
        parameters_file=params.get("parameters_file"),
        resource=params.get("resource"),
    )


instance_types_option: Decorator = click.option(
    "--instance-type",
    "instance_types",
    multiple=True,
    type=INSTANCE_TYPE,
    metavar="ml.TYPE",
    help="Instance type to size and place; repeatable (default: p5, p5en, p4d, g5, trn1).",
)


def refuse(given: Mapping[str, object], why: str) -> None:
    """Exit 2 naming every option in ``given`` (flag → value) that is set: the mode would
    otherwise ignore it."""
    flags = [flag for flag, value in given.items() if value not in (None, False, (), "")]
    if flags:
        raise InputError(f"{', '.join(flags)}: {why}")


def given(ctx: click.Context, name: str) -> bool:
    """Whether the command line (not a default) set parameter ``name``."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")
