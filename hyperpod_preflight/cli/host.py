"""``hp-preflight host``: check this node; ``list-profiles``, ``inventory``, ``aggregate``.

Exit codes as everywhere: 0 passed, 1 findings at the --fail-on level (for ``aggregate``:
a failing node or an outlier), 2 bad usage or input (one line), 3 could not run. Errors are
one line on stderr, never a traceback, whether the group runs under ``hp-preflight`` or alone.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from ..options import HostOptions
from .build import project, selection_from, selection_options
from .options import (
    EXIT_OK,
    REPORT_FORMATS,
    given_options,
    option_flag,
    output_file_option,
    output_options,
    write_output,
)
from .outputs import emit, open_outputs, output_plan
from .outputs import output_options as report_output_options
from .values import INSTANCE_TYPE, Seconds

F = TypeVar("F", bound=Callable[..., Any])


def _guarded(fn: F) -> F:
    """One line on stderr and the documented exit code for every error, also when the group
    runs without the top-level entry point."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            from .main import error_exit_code

            params = click.get_current_context().params
            files = [f for f in params.get("output_files") or () if "=" not in f]
            output_file = files[0] if files else params.get("output_file")
            output = "json" if params.get("json_file") else params.get("output")
            code = error_exit_code(exc, output=output, output_file=output_file)
            raise click.exceptions.Exit(code) from None

    return cast(F, wrapper)


@click.group(
    "host",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--profile",
    "profile_name",
    default="hyperpod-node",
    show_default=True,
    metavar="NAME",
    help="Requirement profile (see `host list-profiles`).",
)
@click.option(
    "--instance-type",
    type=INSTANCE_TYPE,
    metavar="ml.TYPE",
    help="Expected instance type (else /opt/ml/config/resource_config.json).",
)
@click.option(
    "--require",
    "requires",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a profile threshold (or add a requirement); repeatable.",
)
@click.option(
    "--path",
    "paths",
    multiple=True,
    metavar="DIR",
    help="Check free space here instead of the profile's paths; repeatable.",
)
@click.option(
    "--shared-mount",
    "shared_mounts",
    multiple=True,
    metavar="DIR",
    help="A shared file system that must be mounted (e.g. /fsx); repeatable.",
)
@click.option(
    "--measure-bandwidth",
    is_flag=True,
    help="Measure pinned host-to-device bandwidth (torch or cupy; a few seconds).",
)
@click.option("--dcgm", is_flag=True, help="Run `dcgmi diag -r 1 -j` (about a minute).")
@click.option(
    "--dcgm-level",
    type=click.IntRange(1, 3),
    metavar="1|2|3",
    help="Run `dcgmi diag -r N -j` (2: minutes, 3: 15+ minutes); implies --dcgm.",
)
@click.option(
    "--deep",
    is_flag=True,
    help="Measure the GPUs (matmul, memory, host and peer copies, NCCL all-reduce, clock "
    "events; needs torch) and read the Xid history of the kernel log.",
)
@click.option(
    "--deep-seconds",
    type=Seconds(min=1, min_open=False),
    default=60.0,
    show_default=True,
    metavar="S",
    help="Time budget of --deep; each step checks it before it starts.",
)
@click.option(
    "--imds",
    is_flag=True,
    help="Ask the instance metadata service (169.254.169.254) for the instance type.",
)
@click.option(
    "--root",
    default="/",
    show_default=True,
    metavar="DIR",
    help="Read /proc, /sys, /etc and tools under this tree (tests, captured trees).",
)
@selection_options()
@report_output_options(*REPORT_FORMATS)
@click.pass_context
@_guarded
def host(ctx: click.Context, /, **params: Any) -> None:
    """Check this GPU node against a requirement profile.

    \b
      hp-preflight host --instance-type ml.p5.48xlarge
      hp-preflight host --profile checkpoint --measure-bandwidth
      hp-preflight host --deep --deep-seconds 90
      hp-preflight host --output json --output-file /fsx/preflight/$(hostname).json

    Read-only; needs no root and no network (the metadata service only with --imds).
    """
    if ctx.invoked_subcommand is not None:
        given = [option_flag(ctx, name) for name in given_options(ctx)]
        if given:
            raise click.UsageError(
                f"{', '.join(given)} given before `{ctx.invoked_subcommand}`: put them after "
                f"`host {ctx.invoked_subcommand}`",
                ctx=ctx,
            )
        return
    from ..api import host_record

    outputs = open_outputs(output_plan(params))
    opts = HostOptions(
        profile=params["profile_name"],
        instance_type=params["instance_type"],
        requires=tuple(params["requires"]),
        paths=tuple(params["paths"]),
        shared_mounts=tuple(params["shared_mounts"]),
        measure_bandwidth=params["measure_bandwidth"],
        dcgm=params["dcgm"],
        dcgm_level=params["dcgm_level"],
        deep=params["deep"],
        deep_seconds=params["deep_seconds"],
        imds=params["imds"],
        root=params["root"],
        selection=selection_from(params, project(params)),
    )
    ctx.exit(emit(host_record(opts, deep_progress=_deep_progress()), outputs))


def _deep_progress() -> Callable[[str], None] | None:
    """``--deep`` step lines on stderr when it is a terminal (the library never prints)."""
    if not sys.stderr.isatty():
        return None
    return lambda line: print(f"hp-preflight deep: {line}", file=sys.stderr, flush=True)


@host.command("list-profiles")
@output_options("table", "json", "markdown")
@_guarded
def list_profiles(output: str, output_file: str | None) -> None:
    """Every profile and its requirements (id, level, threshold, what it means)."""
    import json

    from ..host.profiles import load_profile, profile_names
    from ..results import jsonable

    profiles = [load_profile(name) for name in profile_names()]
    summary = f"{len(profiles)} profiles listed"
    if output == "json":
        text = json.dumps([jsonable(p) for p in profiles], indent=2)
        write_output(text + "\n", output_file, summary=summary)
        return
    from tabulate import tabulate

    fmt = "github" if output == "markdown" else "simple"
    blocks = []
    for p in profiles:
        rows = [
            [r.id, r.level, json.dumps(r.threshold), r.check, r.description] for r in p.requirements
        ]
        table = tabulate(
            rows,
            headers=["KEY", "LEVEL", "THRESHOLD", "CHECK", "DESCRIPTION"],
            tablefmt=fmt,
            maxcolwidths=[None, None, None, None, 70],
        )
        blocks.append(f"{p.name}: {p.description}\n\n{table}")
    hint = "Override with --require KEY=VALUE (e.g. --require driver-min=550)."
    write_output("\n\n".join(blocks) + f"\n\n{hint}\n", output_file, summary=summary)


@host.command("inventory")
@output_file_option("Write the YAML here (e.g. output/gpu_inventory.yaml); else stdout.")
@click.option(
    "--root", default="/", show_default=True, metavar="DIR", help="Read the node under this tree."
)
@click.pass_context
@_guarded
def inventory(ctx: click.Context, output_file: str | None, root: str) -> None:
    """Per GPU: index, name, PCI address, vendor/device id, IOMMU group, bound driver,
    memory; and a ready PCIe-passthrough snippet (vfio-pci ids, kernel args, libvirt)."""
    from pathlib import Path

    from .. import __version__
    from ..errors import InputError
    from ..host.facts import CollectOptions, collect_host_facts
    from ..host.inventory import build_inventory, inventory_yaml
    from ..host.profiles import Profile

    if not Path(root).is_dir():
        raise InputError(f"--root {root}: not a directory")
    bare = Profile(name="inventory", description="", requirements=[])
    facts = collect_host_facts(bare, CollectOptions(root=root))
    found = build_inventory(facts)
    text = inventory_yaml(found, facts.cpu.vendor, __version__)
    write_output(text, output_file, summary=f"{len(found.gpus)} GPU(s) listed")
    if not found.gpus:
        why = f" ({facts.gpu.error})" if facts.gpu.error else ""
        click.echo(f"hp-preflight: no NVIDIA GPU found on this host{why}", err=True)
    ctx.exit(EXIT_OK)


@host.command("aggregate")
@click.argument("reports", nargs=-1, required=True, metavar="REPORT...")
@output_options("table", "json", "markdown")
@click.option(
    "--all-checks",
    is_flag=True,
    help="Show every check column, not only those with a finding somewhere.",
)
@click.pass_context
@_guarded
def aggregate(
    ctx: click.Context,
    reports: tuple[str, ...],
    output: str,
    output_file: str | None,
    all_checks: bool,
) -> None:
    """Fleet table from JSON host reports (files or folders): nodes × checks, failing nodes
    first, outliers (fewer GPUs, degraded PCIe, a different driver). Exit 1 when a node
    failed or stands out."""
    from ..host.aggregate import build_fleet_view, load_reports, render_fleet_view

    def warn(line: str) -> None:
        click.echo(f"hp-preflight: warning: {line}", err=True)

    view = build_fleet_view(load_reports(list(reports), warn=warn))
    text = render_fleet_view(view, output, all_checks=all_checks)
    write_output(text, output_file, summary=f"{len(view.nodes)} nodes")
    ctx.exit(view.exit_code)
