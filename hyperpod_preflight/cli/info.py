"""`hp-preflight list-checks` and `schema`: what hp-preflight can check, and the JSON Schema
of its report."""

from __future__ import annotations

import click

from .options import EXIT_OK, output_file_option, output_options, write_output


@click.command("list-checks")
@click.option(
    "--kind",
    type=click.Choice(["cluster", "diagnose", "host", "all"]),
    default="all",
    show_default=True,
)
@output_options("table", "json", "markdown")
def list_checks_cmd(kind: str, output: str, output_file: str | None) -> int:
    """Every check: id, area, severity, title."""
    import json

    from tabulate import tabulate

    from ..registry import describe
    from ..results import jsonable

    kinds = ["diagnose", "host"] if kind == "all" else [kind]
    infos = [info for k in kinds for info in describe(k)]
    if output == "json":
        text = json.dumps([jsonable(i) for i in infos], indent=2)
    else:
        rows = [
            [i.check_id, i.area, i.severity.value, "yes" if i.needs_aws else "no", i.title]
            for i in infos
        ]
        fmt = "github" if output == "markdown" else "simple"
        text = tabulate(rows, headers=["ID", "AREA", "SEVERITY", "AWS", "TITLE"], tablefmt=fmt)
    write_output(text + "\n", output_file, summary=f"{len(infos)} checks listed")
    return EXIT_OK


@click.command("schema")
@output_file_option()
def schema_cmd(output_file: str | None) -> int:
    """Print the JSON Schema of the JSON report."""
    from ..render import report_schema

    write_output(report_schema(), output_file, summary="schema written")
    return EXIT_OK
