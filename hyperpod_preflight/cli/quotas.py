"""`hp-preflight quotas`: the quota headroom of a config, and safe quota-increase requests.

    hp-preflight quotas --config cluster.json            # table; exit 1 when a quota is short
    hp-preflight quotas request --config cluster.json    # the plan, a dry run
    hp-preflight quotas request --config cluster.json --headroom 2 --yes --wait

Exit codes: 0 ok; 1 a SageMaker quota is short (``quotas``) or a request failed, was
refused or is still open at the ``--wait-timeout`` (``request``); 2 bad input; 3 could not run.
``quotas`` counts as ``check`` does: a short quota is a FAIL, a value that could not be read
is UNKNOWN, the advisory findings keep their status, and ``--fail-on`` (default ``fail``)
sets the lowest status that makes the exit code 1. So a run where nothing could be read
exits 0 but says ``INCOMPLETE`` (exit 1 with ``--fail-on unknown``), like ``check``.
Raised errors become one line and the exit code in :func:`hyperpod_preflight.cli.main`.

A caller may hand in ready objects through the click context object
(``{"spec": …, "plan": …, "facts": …}``), which is how a provisioning script or a test
reuses one AWS session.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from ..api import cluster_spec
from ..results import jsonable
from .build import (
    aws_from,
    aws_options,
    cluster_from,
    cluster_options,
    config_file_option,
    no_cache_option,
    project,
)
from .options import (
    EXIT_FINDINGS,
    EXIT_OK,
    Decorator,
    given_options,
    option_flag,
    output_options,
    write_output,
)
from .outputs import OpenOutputs, open_outputs, output_plan
from .outputs import output_options as report_output_options
from .values import Seconds

if TYPE_CHECKING:
    from ..facts.aws import AwsFacts
    from ..planner import ClusterPlan
    from ..quota_requests import QuotaRequestPlan, QuotaRequestResult
    from ..results import Finding, Status
    from ..spec import ClusterSpec

ADVISORY_CHECKS = ("quotas.network-interfaces", "quotas.elastic-ips", "quotas.ec2-vcpus")


def _quota_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = config_file_option(fn)
    return no_cache_option(aws_options(cluster_options(output_options("table", "json")(fn))))


def _headroom_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`quotas` itself: every report format, several per run."""
    formats = ("table", "json", "markdown", "junit", "sarif")
    fn = config_file_option(fn)
    return no_cache_option(aws_options(cluster_options(report_output_options(*formats)(fn))))


def _seconds_option(name: str, most: float, default: float, help_text: str) -> Decorator:
    """A duration in seconds, stored as ``<name>_s``."""
    dest = f"{name.lstrip('-').replace('-', '_')}_s"
    return click.option(
        name,
        dest,
        type=Seconds(0, most),
        default=default,
        show_default=True,
        help=help_text,
    )


@click.group("quotas", invoke_without_command=True)
@_headroom_options
@click.option(
    "--fail-on",
    type=click.Choice(["fail", "warn", "unknown"]),
    default="fail",
    show_default=True,
    help="Lowest status that makes the exit code 1, as for `check` (a short quota is a "
    "FAIL, an unreadable one UNKNOWN).",
)
@click.pass_context
def quotas(ctx: click.Context, /, **params: Any) -> int:
    """Quota headroom for a config: per quota the applied value, what existing HyperPod
    clusters use, what this config needs and the deficit (exit 1 when one is short).

    \b
      hp-preflight quotas --config cluster.json
      hp-preflight quotas request --config cluster.json --yes
    """
    if ctx.invoked_subcommand is not None:
        given = [option_flag(ctx, name) for name in given_options(ctx)]
        if given:
            raise click.UsageError(
                f"{', '.join(given)} given before `{ctx.invoked_subcommand}`: put them after "
                f"`quotas {ctx.invoked_subcommand}` (--fail-on is `quotas`' own; `request` "
                "has its own exit codes)",
                ctx=ctx,
            )
        return EXIT_OK
    outputs = open_outputs(output_plan(params))  # a bad path: exit 2 before any AWS call
    try:
        spec, plan, facts = _inputs(ctx, params)
    except BaseException:
        outputs.close()
        raise
    return show_quotas(spec, plan, facts, fail_on=params["fail_on"], extra=outputs)


@quotas.command("request")
@_quota_options
@click.option(
    "--headroom",
    type=click.IntRange(0, 100000),
    default=0,
    show_default=True,
    help="Instances to ask for beyond in use + needed.",
)
@click.option("--yes", is_flag=True, help="Submit the requests (without it: a dry run).")
@click.option("--wait", is_flag=True, help="With --yes: poll until each request is resolved.")
@_seconds_option("--wait-timeout", 86400, 900, "Seconds --wait polls before giving up.")
@_seconds_option("--poll", 3600, 15, "Seconds between --wait polls.")
@click.pass_context
def request_cmd(ctx: click.Context, /, **params: Any) -> int:
    """Plan the SageMaker quota increases this config needs and, with --yes, submit them.

    Never submits while a request for the same quota is open; prints each request and
    support-case id.
    """
    if params["wait"] and not params["yes"]:
        raise click.UsageError("--wait follows submitted requests: add --yes", ctx=ctx)
    for name, flag in (("wait_timeout_s", "--wait-timeout"), ("poll_s", "--poll")):
        if not params["wait"] and ctx.get_parameter_source(name) is not ParameterSource.DEFAULT:
            raise click.UsageError(f"{flag} applies to --wait only: add --wait", ctx=ctx)
    spec, plan, facts = _inputs(ctx, params)
    return request_quotas(
        spec,
        plan,
        facts,
        headroom=params["headroom"],
        yes=params["yes"],
        wait=params["wait"],
        poll_s=params["poll_s"],
        timeout_s=params["wait_timeout_s"],
        output=params["output"],
        output_file=params["output_file"],
    )


# -- inputs ---------------------------------------------------------------------------------
def _inputs(
    ctx: click.Context, params: dict[str, Any]
) -> tuple[ClusterSpec, ClusterPlan, AwsFacts]:
    """(spec, plan, facts): handed in through ``ctx.obj``, else built from the options."""
    obj = ctx.find_object(dict) or {}
    spec = obj.get("spec") or cluster_spec(cluster_from(params))
    facts = obj.get("facts")
    if facts is None:
        from ..facts.aws import AwsFacts

        aws = aws_from(params, project(params))
        facts = AwsFacts(
            profile=aws.profile,
            region=aws.region,
            retry_mode=aws.retry_mode,
            max_attempts=aws.max_attempts or 10,
            quota_code_cache=aws.quota_code_cache,
        )
        facts.verify_identity()
    plan = obj.get("plan")
    if plan is None:
        plan = _plan(spec, facts, params["ip_headroom"])
    return spec, plan, facts


def _plan(spec: ClusterSpec, facts: AwsFacts, ip_headroom: int) -> ClusterPlan:
    """The plan, sized with EC2's own instance-type figures when readable (the same
    planning as `hp-preflight check`)."""
    from ..preflight import plan_with_live_types

    plan, _notes = plan_with_live_types(spec, facts, ip_headroom)
    return plan


# -- `quotas` -------------------------------------------------------------------------------
def show_quotas(
    spec: ClusterSpec,
    plan: ClusterPlan,
    facts: AwsFacts,
    *,
    output: str = "table",
    output_file: str | None = None,
    fail_on: str = "fail",
    extra: OpenOutputs | None = None,
) -> int:
    """Write the quota table of ``spec`` (to ``extra``'s destinations when given, else as
    ``output`` to ``output_file``); its exit code, counted as `check` counts (see the module
    docstring)."""
    from ..quota_requests import plan_quota_requests
    from ..registry import CheckContext, get
    from ..runner import Selection, run_checks

    rows = plan_quota_requests(spec, plan, facts, include_history=False)
    ctx = CheckContext(spec=spec, plan=plan, facts=facts)
    # the advisory checks as any run judges them: their declared facts gathered, then judged
    advisory = run_checks([get(cid) for cid in ADVISORY_CHECKS], ctx, Selection())
    tally = QuotaTally.of(rows, advisory, fail_on)
    code = EXIT_FINDINGS if tally.failing else EXIT_OK
    summary = tally.summary()
    outputs = open_outputs(output_plan({"output": output, "output_files": _files(output_file)}))
    if extra is not None:
        outputs = extra
    for dest in outputs.plan.destinations:
        if dest.fmt == "json":
            text = _quotas_json(spec, facts, rows, advisory, tally)
        elif dest.fmt == "table":
            text = _quotas_table(spec, facts, rows, advisory, summary)
        else:
            text = _quotas_rendered(spec, facts, rows, advisory, tally, dest.fmt)
        outputs.write(dest, text, summary=summary if dest is outputs.plan.main else "")
    outputs.close()
    return code


def _files(output_file: str | None) -> tuple[str, ...]:
    return (output_file,) if output_file else ()


def _quotas_json(
    spec: ClusterSpec,
    facts: AwsFacts,
    rows: Sequence[QuotaRequestPlan],
    advisory: Sequence[Finding],
    tally: QuotaTally,
) -> str:
    document = {
        "cluster": spec.name,
        "region": facts.region,
        "quotas": [_row_json(r) for r in rows],
        "advisory": [jsonable(f) for f in advisory],
        "short": sum(1 for r in rows if (r.deficit or 0) > 0),
        "unknown": tally.unknown_quotas,
        "complete": tally.complete,
        "fail_on": tally.fail_on,
        "api_calls": facts.call_count,
    }
    return json.dumps(document, indent=2) + "\n"


def _quotas_rendered(
    spec: ClusterSpec,
    facts: AwsFacts,
    rows: Sequence[QuotaRequestPlan],
    advisory: Sequence[Finding],
    tally: QuotaTally,
    fmt: str,
) -> str:
    """Markdown, JUnit or SARIF: the quotas as a report."""
    from ..quota_report import quota_report
    from ..render import render_report
    from ..results import Status, Summary

    statuses = list(tally.statuses)
    summary = Summary(
        total=len(statuses),
        by_status={s.value: statuses.count(s) for s in Status},
        exit_code=int(tally.failing),
        fail_on=tally.fail_on,
        complete=tally.complete,
        unknown_checks=int(not tally.complete),
    )
    report = quota_report(
        rows,
        advisory,
        target=spec.name,
        region=facts.region,
        command=f"{_request_hint(spec)} --yes",
        summary=summary,
    )
    return render_report(report, fmt)


def _quotas_table(
    spec: ClusterSpec,
    facts: AwsFacts,
    rows: Sequence[QuotaRequestPlan],
    advisory: Sequence[Finding],
    summary: str,
) -> str:
    from tabulate import tabulate

    short = [r for r in rows if (r.deficit or 0) > 0]
    lines = [f"SageMaker HyperPod quotas for {spec.name} in {facts.region}"]
    table = [
        [
            r.quota_name,
            r.quota_code or "?",
            _value(r),
            _num(r.in_use) if r.kind in ("instance-type", "total") else "-",
            f"{r.needed}" + (" GB" if r.unit == "GB" else ""),
            _deficit(r),
        ]
        for r in rows
    ]
    headers = ["QUOTA", "CODE", "APPLIED VALUE", "IN USE", "THIS CONFIG NEEDS", "DEFICIT"]
    lines.append(tabulate(table, headers=headers, tablefmt="simple"))
    lines += [f"  ? {r.quota_name}: {r.reason}" for r in rows if r.action == "unknown"]
    if advisory:
        lines.append("\nAdvisory (network interfaces, NAT gateway Elastic IPs, EC2 vCPUs)")
        lines.append(
            tabulate(
                [[f.status.value, f.resource, f.message] for f in advisory],
                headers=["STATUS", "QUOTA", "DETAIL"],
                tablefmt="simple",
                maxcolwidths=[None, 34, 90],
            )
        )
    if short:
        lines.append(
            f"\n{len(short)} quota(s) short. Request them: "
            f"{_request_hint(spec)} (add --yes to submit)"
        )
    lines.append(f"\n{summary}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class QuotaTally:
    """The statuses of a `quotas` run as `check` would count them: each SageMaker quota is
    FAIL (short), UNKNOWN (a value could not be read) or PASS; advisory findings keep theirs."""

    statuses: tuple[Status, ...]
    short: int
    unknown_quotas: int
    advisory: Counter[Status]
    fail_on: str

    @classmethod
    def of(
        cls, rows: Sequence[QuotaRequestPlan], advisory: Sequence[Finding], fail_on: str
    ) -> QuotaTally:
        from ..results import Status

        quota_statuses = [
            Status.UNKNOWN if r.deficit is None else (Status.FAIL if r.deficit > 0 else Status.PASS)
            for r in rows
        ]
        advisory_statuses = [f.status for f in advisory]
        return cls(
            statuses=(*quota_statuses, *advisory_statuses),
            short=quota_statuses.count(Status.FAIL),
            unknown_quotas=quota_statuses.count(Status.UNKNOWN),
            advisory=Counter(advisory_statuses),
            fail_on=fail_on,
        )

    @property
    def failing(self) -> bool:
        from ..runner import FAIL_LEVELS

        return any(s in FAIL_LEVELS[self.fail_on] for s in self.statuses)

    @property
    def complete(self) -> bool:
        from ..results import Status

        return Status.UNKNOWN not in self.statuses

    def summary(self) -> str:
        """One line, worded like `check`'s: FAILED / INCOMPLETE / OK and the fail-on level."""
        from ..results import Status

        clean = not self.short and self.complete
        parts = ["no quota short" if clean else f"{self.short} quota(s) short"]
        parts += [
            f"{self.advisory[s]} advisory {s.value}"
            for s in (Status.FAIL, Status.WARN)
            if self.advisory[s]
        ]
        counted = f"{', '.join(parts)} (fail-on {self.fail_on})"
        unknown = self.unknown_quotas + self.advisory[Status.UNKNOWN]
        incomplete = f"INCOMPLETE: {unknown} quota(s) could not be judged" if unknown else ""
        if self.failing:
            return f"FAILED: {counted}" + (f"; {incomplete}" if incomplete else "")
        if incomplete:  # not a clean bill of health, whatever the exit code
            return f"{incomplete}: {counted}"
        return f"OK: {counted}"


def _row_json(r: QuotaRequestPlan) -> dict[str, Any]:
    data: dict[str, Any] = r.model_dump(mode="json")
    data["deficit"] = r.deficit
    return data


def _num(value: float | int | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _value(r: QuotaRequestPlan) -> str:
    if r.current_value is None:
        return "?"
    return f"{_num(r.current_value)}" + (" (default)" if r.value_source == "default" else "")


def _deficit(r: QuotaRequestPlan) -> str:
    if r.deficit is None:
        return "?"
    return str(r.deficit) if r.deficit else "0"


def _request_hint(spec: ClusterSpec) -> str:
    from ..planner import request_hint

    return request_hint(spec)


# -- `quotas request` ------------------------------------------------------------------------
def request_quotas(
    spec: ClusterSpec,
    plan: ClusterPlan,
    facts: AwsFacts,
    *,
    headroom: int = 0,
    yes: bool = False,
    wait: bool = False,
    timeout_s: float = 900,
    poll_s: float = 15,
    output: str = "table",
    output_file: str | None = None,
) -> int:
    """Write the request plan; with ``yes`` submit it (and with ``wait`` follow it)."""
    from ..quota_requests import plan_quota_requests, submit_quota_requests

    plans = plan_quota_requests(spec, plan, facts, headroom=headroom)
    to_submit = [p for p in plans if p.action == "submit"]
    results = (
        submit_quota_requests(plans, facts, wait=wait, timeout_s=timeout_s, poll_s=poll_s)
        if yes
        else []
    )
    failed = [
        r
        for r in results
        if r.action in ("failed", "unconfirmed")
        or r.timed_out
        or r.poll_failed
        or (r.resolved and r.status not in ("APPROVED", None))
    ]
    unknown = [p for p in plans if p.action == "unknown"]
    # like `quotas`: a dry run that could not judge everything is INCOMPLETE, not a failure;
    # with --yes a quota left unjudged is a request not made
    code = EXIT_FINDINGS if failed or (unknown and yes) else EXIT_OK
    summary = f"{len(to_submit)} request(s) " + ("submitted" if yes else "planned (dry run)")
    if unknown and not yes:
        summary = f"INCOMPLETE: {len(unknown)} quota(s) could not be judged; {summary}"
    if output == "json":
        document = {
            "cluster": spec.name,
            "region": facts.region,
            "dry_run": not yes,
            "plan": [_row_json(p) for p in plans],
            "commands": [p.command(facts.region) for p in to_submit],
            "results": [r.model_dump(mode="json") for r in results],
        }
        write_output(json.dumps(document, indent=2) + "\n", output_file, summary=summary)
        return code

    text = _request_text(spec, facts, plans, results, to_submit, unknown, headroom, yes)
    write_output(text, output_file, summary=summary)
    return code


def _request_text(
    spec: ClusterSpec,
    facts: AwsFacts,
    plans: Sequence[QuotaRequestPlan],
    results: Sequence[QuotaRequestResult],
    to_submit: Sequence[QuotaRequestPlan],
    unknown: Sequence[QuotaRequestPlan],
    headroom: int,
    yes: bool,
) -> str:
    """The request plan as a table, then what a dry run would submit or what was submitted."""
    from tabulate import tabulate

    lines = [
        f"Quota request plan for {spec.name} in {facts.region} "
        f"(desired = in use + needed + headroom {headroom})",
        tabulate(
            [
                [
                    p.quota_name,
                    p.quota_code or "?",
                    _value(p),
                    _num(p.in_use),
                    p.needed,
                    p.desired_value,
                    p.action,
                    p.reason,
                ]
                for p in plans
            ],
            headers=["QUOTA", "CODE", "CURRENT", "IN USE", "NEEDS", "DESIRED", "ACTION", "NOTE"],
            tablefmt="simple",
            maxcolwidths=[None, None, None, None, None, None, None, 60],
        ),
    ]
    if not yes:
        if to_submit:
            again = f"{_request_hint(spec)} --yes" + (f" --headroom {headroom}" if headroom else "")
            lines.append(f"\ndry run: nothing submitted. To submit: {again}")
            lines.append("or one by one:")
            lines += [f"  {p.command(facts.region)}" for p in to_submit]
        elif unknown:
            lines.append(
                f"\ndry run: {len(unknown)} quota(s) could not be judged (see the notes "
                "above); nothing else to submit."
            )
        else:
            lines.append("\ndry run: nothing to submit.")
        return "\n".join(lines) + "\n"
    lines.append("")
    for r in results:
        if r.action == "skipped":
            continue
        ids = f"request {r.request_id or '-'}, case {r.case_id or '-'}"
        state = f"{r.status or '-'}" + (" (timed out waiting)" if r.timed_out else "")
        if r.poll_failed:
            state += " (last known: the poll failed)"
        lines.append(f"{r.action}: {r.quota_name} → {r.desired_value}: {ids}, status {state}")
        if (
            r.action in ("failed", "already-requested", "unconfirmed")
            or r.poll_failed
            or (r.action == "submitted" and "although the call failed" in r.message)
        ):
            lines.append(f"  {r.message}")
    if unknown:
        lines.append(
            f"{len(unknown)} quota(s) could not be judged, so nothing was submitted for them: "
            "see the notes above, fix what they say and run again."
        )
    elif not any(r.action != "skipped" for r in results):
        lines.append("nothing to submit: every quota covers this config.")
    return "\n".join(lines) + "\n"
