"""The `hp-preflight` command line.

Exit codes (a public interface, see README):
  0  every check passed (below the --fail-on level)
  1  findings at or above the --fail-on level
  2  bad usage or input (one line says what and where)
  3  could not run at all (no credentials, endpoint unreachable, no region)

Start-up is kept fast: only click is imported to parse the command line; pydantic, tabulate,
botocore and boto3 are imported by the command that needs them.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import click

from . import __version__
from .errors import InputError, PreflightError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 1, 2, 3
OUTPUTS = ("table", "json", "markdown", "junit")

# Subcommands living in other modules, imported only when used (name → (target, help)).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "quotas": (
        "hyperpod_preflight.quotas_cli:quotas",
        "Quota headroom for a config, and safe quota-increase requests.",
    ),
    "host": (
        "hyperpod_preflight.host.cli:host",
        "Check this GPU node (driver, GPUs, EFA, PCIe, resources); inventory; fleets.",
    ),
}


class PreflightGroup(click.Group):
    """A group whose bare invocation runs `check`, with lazily imported subcommands."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, attr = LAZY_COMMANDS[cmd_name][0].split(":")
            command: click.Command = getattr(importlib.import_module(module_name), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS:
                rows.append((name, LAZY_COMMANDS[name][1]))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=80)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def split_ids(values: Sequence[str]) -> list[str]:
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def aws_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(
        [
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
        ]
    ):
        fn = opt(fn)
    return fn


def spec_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(
        [
            click.option(
                "--config",
                "-c",
                "config",
                metavar="FILE",
                help="CreateCluster JSON (as for `aws sagemaker create-cluster "
                "--cli-input-json`); '-' reads stdin.",
            ),
            click.option("--vpc", help="VPC id (vpc-...). Enough on its own for VPC checks."),
            click.option("--subnet", "subnets", multiple=True, help="Subnet id; repeatable."),
            click.option(
                "--security-group", "security_groups", multiple=True, help="SG id; repeatable."
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
            click.option(
                "--ip-headroom",
                type=click.IntRange(0, 1000),
                default=1,
                show_default=True,
                help="Spare nodes per group to keep addresses for (node replacement).",
            ),
        ]
    ):
        fn = opt(fn)
    return fn


def output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(
        [
            click.option(
                "--output",
                "-o",
                type=click.Choice(OUTPUTS),
                default="table",
                show_default=True,
            ),
            click.option("--output-file", metavar="FILE", help="Write the report here."),
        ]
    ):
        fn = opt(fn)
    return fn


def selection_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(
        [
            click.option(
                "--only", multiple=True, metavar="IDS", help="Run only these check ids or areas."
            ),
            click.option("--skip", multiple=True, metavar="IDS", help="Do not run these."),
            click.option(
                "--ignore",
                multiple=True,
                metavar="IDS|all",
                help="Report these FAILs as WARN (marked ignored); still shown.",
            ),
            click.option(
                "--fail-on",
                type=click.Choice(["fail", "warn", "unknown"]),
                default="fail",
                show_default=True,
                help="Lowest status that makes the exit code 1.",
            ),
        ]
    ):
        fn = opt(fn)
    return fn


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
    **_: Any,
) -> Any:
    """A ClusterSpec from --config or from the flags (never both)."""
    from .spec import load_spec, spec_from_flags

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


def emit(text: str, output_file: str | None, *, summary: str = "") -> None:
    """Write a rendered report to ``output_file`` or stdout."""
    if output_file:
        try:
            directory = os.path.dirname(output_file)
            if directory:
                os.makedirs(directory, exist_ok=True)
            with open(output_file, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InputError(f"--output-file {output_file}: {exc.strerror or exc}") from exc
        if summary:  # stdout stays free for pipes; the summary is a diagnostic
            click.echo(f"{summary} → {output_file}", err=True)
        return
    click.echo(text, nl=False)


def use_color(output_file: str | None) -> bool:
    return (
        output_file is None
        and "NO_COLOR" not in os.environ
        and sys.stdout.isatty()
        and os.environ.get("TERM") != "dumb"
    )


def render_and_emit(report: Any, output: str, output_file: str | None) -> int:
    from .render import render_report, summary_line

    text = render_report(report, output, color=use_color(output_file))
    emit(text, output_file, summary=summary_line(report))
    return int(report.summary.exit_code)


def run_check_command(params: dict[str, Any]) -> int:
    from .preflight import run_cluster_preflight

    spec = build_spec(**params)
    report = run_cluster_preflight(
        spec,
        profile=params["profile"],
        region=params["region"],
        only=split_ids(params["only"]),
        skip=split_ids(params["skip"]),
        ignore=split_ids(params["ignore"]),
        fail_on=params["fail_on"],
        offline=params["offline"],
        ip_headroom=params["ip_headroom"],
        concurrency=params["concurrency"],
        retry_mode=params["retry_mode"],
        max_attempts=params["max_attempts"],
        options={"fsx": params["fsx"]},
    )
    return render_and_emit(report, params["output"], params["output_file"])


def check_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--offline", is_flag=True, help="Run only the checks that need no AWS access."
    )(fn)
    fn = click.option(
        "--fsx", is_flag=True, help="The cluster mounts FSx for Lustre (checks its SG ports)."
    )(fn)
    fn = click.option(
        "--concurrency",
        type=click.IntRange(1, 64),
        default=16,
        show_default=True,
        help="Checks run at once.",
    )(fn)
    return output_options(selection_options(aws_options(spec_options(fn))))


@click.group(
    cls=PreflightGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="hp-preflight")
@check_options
@click.pass_context
def cli(ctx: click.Context, /, **params: Any) -> int:
    """Find what would make a SageMaker HyperPod cluster fail, before you create it.

    With no command, runs `check`:

      hp-preflight --region us-west-2 --vpc vpc-0abc1234

      hp-preflight check --config cluster-config.json

    Exit codes: 0 passed, 1 findings at the --fail-on level, 2 bad usage or input,
    3 could not run (no credentials, endpoint unreachable).
    """
    if ctx.invoked_subcommand is None:
        return run_check_command(params)
    return EXIT_OK


@cli.command("check")
@check_options
def check_cmd(**params: Any) -> int:
    """Run the account pre-flight of a cluster config (or of flags)."""
    return run_check_command(params)


@cli.command("plan")
@click.argument("config", metavar="CONFIG")
@click.option(
    "--ip-headroom",
    type=click.IntRange(0, 1000),
    default=1,
    show_default=True,
    help="Spare nodes per group to keep addresses for.",
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "markdown", "json"]),
    default="table",
    show_default=True,
)
@click.option("--output-file", metavar="FILE")
def plan_cmd(config: str, ip_headroom: int, output: str, output_file: str | None) -> int:
    """What CONFIG needs: instances, IPs per node and subnet, subnet sizes, ENIs (offline)."""
    from .planner import build_plan
    from .render import render_plan
    from .spec import load_spec

    plan = build_plan(load_spec(config), ip_headroom=ip_headroom)
    emit(render_plan(plan, output), output_file, summary="plan written")
    return EXIT_OK


@cli.command("list-checks")
@click.option(
    "--kind", type=click.Choice(["cluster", "host", "all"]), default="all", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
)
def list_checks_cmd(kind: str, output: str) -> int:
    """Every check: id, area, severity, title."""
    import json

    from tabulate import tabulate

    from .registry import describe

    kinds = ["cluster", "host"] if kind == "all" else [kind]
    infos = [info for k in kinds for info in describe(k)]
    if output == "json":
        click.echo(json.dumps([i.model_dump(mode="json") for i in infos], indent=2))
        return EXIT_OK
    rows = [
        [i.check_id, i.area, i.severity.value, "no" if not i.needs_aws else "yes", i.title]
        for i in infos
    ]
    fmt = "github" if output == "markdown" else "simple"
    click.echo(tabulate(rows, headers=["ID", "AREA", "SEVERITY", "AWS", "TITLE"], tablefmt=fmt))
    return EXIT_OK


@cli.command("schema")
def schema_cmd() -> int:
    """Print the JSON Schema of the JSON report."""
    from .render import report_schema

    click.echo(report_schema(), nl=False)
    return EXIT_OK


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"hp-preflight: error: {message}", err=True)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console entry point: one line on stderr and a documented exit code, never a traceback."""
    try:
        rv = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="hp-preflight",
            standalone_mode=False,
        )
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.format_message())
        sys.exit(EXIT_USAGE)
    except click.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        _fail(f"{where}{exc.format_message()} (see --help)", EXIT_USAGE)
    except click.FileError as exc:
        _fail(exc.format_message(), EXIT_USAGE)
    except click.Abort:
        _fail("aborted", 130)
    except PreflightError as exc:
        _fail(str(exc).replace("\n", " "), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except Exception as exc:  # never a traceback for a user; HP_PREFLIGHT_DEBUG=1 shows it
        if os.environ.get("HP_PREFLIGHT_DEBUG"):
            raise
        _fail(
            f"internal error: {type(exc).__name__}: {exc} (set HP_PREFLIGHT_DEBUG=1 for "
            "details and please report it)",
            EXIT_CANNOT_RUN,
        )
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)


if __name__ == "__main__":
    main()
