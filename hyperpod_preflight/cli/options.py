"""What every `hp-preflight` command shares: the exit codes, the option decorators (output
format and ``--output-file``, check selection, AWS session, the cluster described by flags or
a config), the spec built from those options, and the one writer of rendered output.

Only click and the project's error classes are imported here, so ``hp-preflight --help``
stays fast; what renders or builds anything heavy is imported inside the function that uses
it.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
from click.core import ParameterSource

from ..errors import InputError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 1, 2, 3
REPORT_FORMATS = ("table", "json", "markdown", "junit", "sarif")

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _in_order(*options: Decorator) -> Decorator:
    """One decorator applying ``options`` so that ``--help`` lists them in this order."""

    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


class Seconds(click.FloatRange):
    """A :class:`click.FloatRange` that refuses NaN: every comparison with NaN is False, so
    a plain range lets ``nan`` through (a deadline or wait of NaN seconds)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if isinstance(number, float) and math.isnan(number):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return number


# -- output -----------------------------------------------------------------------------------
def output_file_option(help_text: str = "Write the output here (else stdout).") -> Decorator:
    return click.option("--output-file", metavar="FILE", help=help_text)


def output_options(*formats: str) -> Decorator:
    """``--output/-o`` (one of ``formats``, the first is the default) and ``--output-file``."""
    return _in_order(
        click.option(
            "--output",
            "-o",
            type=click.Choice(formats),
            default=formats[0],
            show_default=True,
            help="Output format.",
        ),
        output_file_option(),
    )


def use_color(output_file: str | None) -> bool:
    return (
        output_file is None
        and "NO_COLOR" not in os.environ
        and sys.stdout.isatty()
        and os.environ.get("TERM") != "dumb"
    )


def write_output(text: str, output_file: str | None, *, summary: str = "") -> None:
    """Write rendered output to ``output_file`` (its folder made) or stdout.

    With a file, stdout stays free for pipes: the one-line ``summary`` goes to stderr.
    """
    if output_file:
        try:
            directory = os.path.dirname(output_file)
            if directory:
                os.makedirs(directory, exist_ok=True)
            with open(output_file, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InputError(f"--output-file {output_file}: {exc.strerror or exc}") from exc
        if summary:
            click.echo(f"{summary} → {output_file}", err=True)
        return
    try:
        click.echo(text, nl=False)
    except BrokenPipeError:  # the reader went away (`| head`): not an error of this run
        discard_stdout()


def discard_stdout() -> None:
    """Point stdout at the null device once its reader has gone, so that nothing written
    later (nor the flush at exit) fails again; the run keeps its own exit code."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file behind stdout (a test's capture)
        pass


def emit_report(report: Any, output: str, output_file: str | None) -> int:
    """Render a check report as ``output``, write it, and return its exit code."""
    from ..render import render_report, summary_line

    text = render_report(report, output, color=use_color(output_file))
    write_output(text, output_file, summary=summary_line(report))
    return int(report.summary.exit_code)


# -- check selection --------------------------------------------------------------------------
fail_on_option = click.option(
    "--fail-on",
    type=click.Choice(["fail", "warn", "unknown"]),
    default="fail",
    show_default=True,
    help="Lowest status that makes the exit code 1.",
)


def selection_options(only_help: str = "Run only these check ids or areas.") -> Decorator:
    """``--only``, ``--skip``, ``--ignore`` and ``--fail-on``."""
    return _in_order(
        click.option("--only", multiple=True, metavar="IDS", help=only_help),
        click.option("--skip", multiple=True, metavar="IDS", help="Do not run these."),
        click.option(
            "--ignore",
            multiple=True,
            metavar="IDS|all",
            help="Report these FAILs as WARN (marked ignored); still shown.",
        ),
        fail_on_option,
    )


def split_ids(values: Sequence[str]) -> list[str]:
    """``("a,b", "c")`` → ``["a", "b", "c"]``: ids may be repeated or comma-separated."""
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def pick(params: dict[str, Any], *names: str) -> dict[str, Any]:
    """The options ``names`` of ``params``, to pass on as keyword arguments."""
    return {name: params[name] for name in names}


def selection(params: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the selection options, as the run functions take them."""
    return {
        "only": split_ids(params["only"]),
        "skip": split_ids(params["skip"]),
        "ignore": split_ids(params["ignore"]),
        "fail_on": params["fail_on"],
    }


# -- AWS session --------------------------------------------------------------------------------
AWS_OPTIONS = ("profile", "region", "retry_mode", "max_attempts")
aws_options: Decorator = _in_order(
    click.option("--profile", help="AWS named profile (else the usual resolution)."),
    click.option("--region", help="AWS region (else AWS_REGION or the profile's)."),
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
        default=10,
        show_default=True,
        help="Attempts per AWS call, first one included (rides out throttling).",
    ),
)


no_cache_option: Decorator = click.option(
    "--no-cache",
    is_flag=True,
    help="Neither read nor learn Service Quotas codes in the per-user cache "
    "($XDG_CACHE_HOME/hyperpod-preflight/quota-codes.json): page the quota listings.",
)


def ip_headroom_option(help_text: str) -> Decorator:
    return click.option(
        "--ip-headroom",
        type=click.IntRange(0, 1000),
        default=1,
        show_default=True,
        help=help_text,
    )


# -- the cluster: --config FILE or flags ------------------------------------------------------
spec_options: Decorator = _in_order(
    click.option(
        "--config",
        "-c",
        "config",
        metavar="FILE",
        help="CreateCluster JSON (as for `aws sagemaker create-cluster "
        "--cli-input-json`), a CloudFormation template (JSON/YAML) or a Terraform plan "
        "(terraform show -json); '-' reads stdin.",
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
    click.option("--vpc", help="VPC id (vpc-...). Enough on its own for VPC checks."),
    click.option("--subnet", "subnets", multiple=True, help="Subnet id; repeatable."),
    click.option("--security-group", "security_groups", multiple=True, help="SG id; repeatable."),
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


def build_specs(
    *,
    config: str | None,
    parameters: Sequence[str] = (),
    parameters_file: str | None = None,
    resource: str | None = None,
    **flags: Any,
) -> list[Any]:
    """Every ClusterSpec the options describe: each cluster of a CloudFormation template or a
    Terraform plan (``--resource`` keeps one), else the one of a CreateCluster JSON or flags."""
    if config is None:
        if parameters or parameters_file or resource:
            raise InputError("--parameter, --parameters-file and --resource need --config FILE")
        return [build_spec(config=None, **flags)]
    from ..spec import load_specs
    from ..spec.documents import parse_parameter, read_parameters_file

    build_spec(config=config, **flags, check_only=True)  # the flags --config refuses
    values = read_parameters_file(parameters_file) if parameters_file else {}
    values.update(parse_parameter(p) for p in parameters)
    specs = load_specs(config, parameters=values, resource=resource)
    vpc = flags.get("vpc")
    return [s.model_copy(update={"vpc_id": vpc}) for s in specs] if vpc else specs


def build_spec(
    *,
    config: str | None,
    vpc: str | None,
    subnets: Sequence[str],
    security_groups: Sequence[str],
    instance_groups: Sequence[str],
    orchestrator: str | None,
    eks_cluster_arn: str | None,
    execution_role: str | None,
    lifecycle_uri: str | None,
    cluster_name: str | None,
    check_only: bool = False,
    **_: Any,
) -> Any:
    """A ClusterSpec from --config or from the flags (never both); ``check_only``: only
    refuse flags given with --config."""
    from ..spec import load_spec, spec_from_flags

    cluster_flags = {
        "--subnet": subnets,
        "--security-group": security_groups,
        "--instance-group": instance_groups,
        "--orchestrator": orchestrator,
        "--eks-cluster-arn": eks_cluster_arn,
        "--execution-role": execution_role,
        "--lifecycle-uri": lifecycle_uri,
        "--name": cluster_name,
    }
    if config is not None:
        clash = [name for name, value in cluster_flags.items() if value]
        if clash:
            raise InputError(
                f"{', '.join(clash)} cannot be combined with --config: the config file "
                "describes the cluster (only --vpc may be added)"
            )
        if check_only:
            return None
        spec = load_spec(config)
        if vpc:
            spec = spec.model_copy(update={"vpc_id": vpc})
        return spec
    if not any(cluster_flags.values()) and not vpc:
        raise InputError(
            "nothing to check: give --config FILE, or at least --vpc vpc-... "
            "(see hp-preflight --help)"
        )
    return spec_from_flags(
        vpc=vpc,
        subnets=list(subnets),
        security_groups=list(security_groups),
        instance_groups=list(instance_groups),
        orchestrator=orchestrator,
        eks_cluster_arn=eks_cluster_arn,
        execution_role=execution_role,
        lifecycle_uri=lifecycle_uri,
        name=cluster_name,
    )


# -- options given on a parent group ----------------------------------------------------------
def given_options(ctx: click.Context) -> list[str]:
    """The names of ``ctx``'s parameters that the command line (not a default) set."""
    defaults = (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None)
    return [name for name in ctx.params if ctx.get_parameter_source(name) not in defaults]


def option_flag(ctx: click.Context, name: str) -> str:
    """How the user spells parameter ``name`` of ``ctx``'s command (``--output``)."""
    for param in ctx.command.params:
        if param.name == name:
            return max(param.opts, key=len)
    return name


def merge_parent_options(ctx: click.Context, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` of ``ctx``'s command, with the options its parent group was given filling
    those left at their defaults here. An option given on both sides with two different
    values is refused (exit 2) rather than one of them silently dropped."""
    parent = ctx.parent
    if parent is None:
        return dict(params)
    merged = dict(parent.params)
    mine = set(given_options(ctx))
    for name in given_options(parent):
        if name in mine and params.get(name) != parent.params[name]:
            flag = option_flag(parent, name)
            raise click.UsageError(
                f"{flag} is given before and after `{ctx.info_name}` with different values: "
                "give it once",
                ctx=ctx,
            )
    for key, value in params.items():
        if key not in merged or key in mine:
            merged[key] = value
    return merged
