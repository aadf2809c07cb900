"""`hp-preflight plan CONFIG`: what a config needs (instances, IPs per node and subnet, subnet
sizes, ENIs), computed offline."""

from __future__ import annotations

import click

from .options import EXIT_OK, ip_headroom_option, output_options, write_output


@click.command("plan")
@click.argument("config", metavar="CONFIG")
@ip_headroom_option("Spare nodes per group to keep addresses for.")
@output_options("table", "markdown", "json")
def plan_cmd(config: str, ip_headroom: int, output: str, output_file: str | None) -> int:
    """What CONFIG needs: instances, IPs per node and subnet, subnet sizes, ENIs (offline)."""
    from ..planner import build_plan
    from ..render import render_plan
    from ..spec import load_spec

    plan = build_plan(load_spec(config), ip_headroom=ip_headroom)
    write_output(render_plan(plan, output), output_file, summary="plan written")
    return EXIT_OK
