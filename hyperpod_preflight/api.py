"""The library's runs: one function per kind of run, each taking one typed, frozen options
object (:mod:`.options`, the same the command line builds) and returning the typed result.

This module is the one place that calls the run entry points (``preflight``, ``audit``,
``capacity_run``, ``sandbox``, ``host``, ``quota_requests``, the lifecycle lint), so that
they can be re-pointed in one place. Nothing here prints or exits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .errors import InputError
from .options import (
    DEFAULT_TIMEOUT_S,
    AuditOptions,
    CapacityOptions,
    CheckOptions,
    ClusterInput,
    DiagnoseOptions,
    HostOptions,
    LintOptions,
    QuotasOptions,
    SandboxOptions,
    Selection,
    ToolsOptions,
)

if TYPE_CHECKING:
    from boto3 import Session

    from .facts.aws import AwsFacts
    from .models import Report
    from .quota_requests import QuotaRequestPlan, QuotaRequestResult
    from .results import RunReport
    from .runner import ProgressCallback
    from .sandbox import SandboxRun
    from .spec import ClusterSpec

LOCAL_AREA = "tools"  # judges this machine, not the account: only on request

__all__ = [
    "cluster_spec",
    "run_audit",
    "run_capacity",
    "run_check",
    "run_check_spec",
    "run_host",
    "run_lifecycle_lint",
    "run_quotas_plan",
    "run_quotas_request",
    "run_sandbox",
    "run_sandbox_build",
    "run_tools",
]


# -- the cluster --------------------------------------------------------------------------------
def cluster_spec(cluster: ClusterInput) -> ClusterSpec:
    """The :class:`~hyperpod_preflight.spec.ClusterSpec` of ``--config`` or of the flags
    (never both); ``--vpc`` may be added to a config. A template or plan must define one
    cluster here (``resource`` picks it); :func:`cluster_specs` takes every one."""
    specs = cluster_specs(cluster)
    if len(specs) > 1:
        names = ", ".join(s.resource or s.name for s in specs)
        raise InputError(
            f"{specs[0].source}: defines {len(specs)} clusters ({names}); pick one with --resource"
        )
    return specs[0]


def cluster_specs(cluster: ClusterInput) -> list[ClusterSpec]:
    """Every cluster ``cluster`` describes: each of a CloudFormation template or a Terraform
    plan (``resource`` keeps one), else the one of a CreateCluster config or of the flags."""
    from .spec import spec_from_flags

    clash = cluster.flags_given()
    if cluster.config is None and (
        cluster.parameters or cluster.parameters_file or cluster.resource
    ):
        raise InputError("--parameter, --parameters-file and --resource need --config FILE")
    if cluster.config is not None:
        if clash:
            raise InputError(
                f"{', '.join(clash)} cannot be combined with --config: the config file "
                "describes the cluster (only --vpc may be added)"
            )
        from .spec import load_specs
        from .spec.documents import parse_parameter, read_parameters_file

        values = read_parameters_file(cluster.parameters_file) if cluster.parameters_file else {}
        values.update(parse_parameter(p) for p in cluster.parameters)
        specs = load_specs(cluster.config, parameters=values, resource=cluster.resource)
        if cluster.vpc:
            return [replace(s, vpc_id=cluster.vpc) for s in specs]
        return specs
    if not clash and not cluster.vpc:
        raise InputError(
            "nothing to check: give --config FILE, or at least --vpc vpc-... "
            "(see hp-preflight --help)"
        )
    return [
        spec_from_flags(
            vpc=cluster.vpc,
            subnets=list(cluster.subnets),
            security_groups=list(cluster.security_groups),
            instance_groups=list(cluster.instance_groups),
            orchestrator=cluster.orchestrator,
            eks_cluster_arn=cluster.eks_cluster_arn,
            execution_role=cluster.execution_role,
            lifecycle_uri=cluster.lifecycle_uri,
            name=cluster.name,
        )
    ]


def merged_reports(reports: list[RunReport]) -> RunReport:
    """One report of the clusters of one template or plan (each finding's location names its
    resource); the report itself when there is one."""
    if len(reports) == 1:
        return reports[0]
    from .runner import summarize

    results = [f for r in reports for f in r.results]
    first = reports[0]
    calls = [r.api_calls for r in reports if r.api_calls is not None]
    return replace(
        first,
        target=", ".join(r.target for r in reports),
        results=results,
        summary=summarize(results, first.summary.fail_on),  # type: ignore[arg-type]
        api_calls=sum(calls) if calls else None,
    )


def _without_local_tools(selection: Selection, with_tools: bool) -> Selection:
    """The workstation is not the account: the ``tools`` area runs only with ``with_tools``
    or when ``--only`` names it."""
    named = any(i == LOCAL_AREA or i.startswith(LOCAL_AREA + ".") for i in selection.only)
    if with_tools or named:
        return selection
    return replace(selection, skip=(*selection.skip, LOCAL_AREA))


def _provisioning_parameters(opts: CheckOptions | SandboxOptions) -> dict[str, object]:
    """``provisioning_parameters.json`` of ``--lifecycle-dir`` as the slurm checks take it
    (bytes read here, so that checks do no I/O); nothing without the option."""
    if opts.lifecycle_dir is None:
        return {}
    path = opts.lifecycle_dir / "provisioning_parameters.json"
    try:
        data: bytes | None = path.read_bytes()[: 1 << 20] if path.is_file() else None
    except OSError:
        data = None
    return {"provisioning_parameters": {"file": str(path), "data": data}}


def _finish(report: RunReport, selection: Selection, started: float | None = None) -> RunReport:
    """``report`` under the project's policy (suppressions, severity threshold), timed from
    ``started`` (the whole run, config reading included)."""
    from .suppressions import apply_suppressions, restate

    if selection.suppressions or selection.severity:
        today = datetime.now(UTC).date()
        results = apply_suppressions(report.results, selection.suppressions, today)
        report = replace(
            report, results=results, summary=restate(report.summary, results, selection)
        )
    if started is not None:
        report = replace(report, duration_s=round(time.perf_counter() - started, 3))
    return report


# -- check ------------------------------------------------------------------------------------
def check_record(opts: CheckOptions, *, progress: ProgressCallback | None = None) -> RunReport:
    """:func:`run_check` as the run's own record (what the command line renders)."""
    started = time.perf_counter()
    reports = [
        check_spec_record(spec, opts, progress=progress) for spec in cluster_specs(opts.cluster)
    ]
    report = merged_reports(reports)
    return replace(report, duration_s=round(time.perf_counter() - started, 3))


def check_spec_record(
    spec: ClusterSpec,
    opts: CheckOptions,
    *,
    session: Session | None = None,
    progress: ProgressCallback | None = None,
) -> RunReport:
    """:func:`run_check_spec` as the run's own record (what the command line renders)."""
    from .preflight import run_cluster_preflight

    sel = _without_local_tools(opts.selection, opts.with_tools)
    report = run_cluster_preflight(
        spec,
        session=session,
        profile=opts.aws.profile,
        region=opts.aws.region,
        retry_mode=opts.aws.retry_mode,
        max_attempts=opts.aws.max_attempts or 10,
        quota_code_cache=opts.aws.quota_code_cache,
        only=sel.only,
        skip=sel.skip,
        ignore=sel.ignore,
        fail_on=sel.fail_on,
        offline=opts.offline,
        ip_headroom=opts.cluster.ip_headroom,
        concurrency=opts.concurrency,
        timeout_s=DEFAULT_TIMEOUT_S if opts.timeout_s is None else opts.timeout_s,
        options={
            "fsx": opts.fsx,
            "kube_context": opts.kube_context,
            **_provisioning_parameters(opts),
        },
        progress=progress,
    )
    return _finish(report, opts.selection)


# -- the sandbox --------------------------------------------------------------------------------
def run_sandbox_build(opts: SandboxOptions) -> SandboxRun:
    """Build the sandbox account for ``opts`` and run the pre-flight there; what was built
    with the report (the CLI prints what was built)."""
    from .sandbox import example_config, parse_defects, require_moto, run_sandbox
    from .sandbox.run import EXAMPLES

    started = time.perf_counter()
    planted = parse_defects(opts.defects)
    if opts.cluster.config is None:
        config, source = example_config(opts.example), f"examples/{EXAMPLES[opts.example]}"
        source += " (bundled)"
    else:
        spec = cluster_spec(opts.cluster)  # validated here: bad input is exit 2 before moto
        config, source = dict(spec.raw), spec.source
    require_moto()
    sel = _without_local_tools(opts.selection, opts.with_tools)
    run = run_sandbox(
        config,
        defects=planted,
        options={"fsx": opts.fsx, **_provisioning_parameters(opts)},
        ip_headroom=opts.cluster.ip_headroom,
        concurrency=opts.concurrency,
        source=f"sandbox:{source}",
        only=sel.only,
        skip=sel.skip,
        ignore=sel.ignore,
        fail_on=sel.fail_on,
        lifecycle_dir=opts.lifecycle_dir,
        timeout_s=opts.timeout_s if opts.timeout_s is not None else DEFAULT_TIMEOUT_S,
        retry_mode=opts.retry_mode,
        max_attempts=opts.max_attempts,
        with_tools=opts.with_tools,
    )
    run.report = _finish(run.report, opts.selection, started)
    return run


def run_sandbox(opts: SandboxOptions) -> Report:
    """The pre-flight on a sandbox account (moto, in this process): no AWS account needed."""
    return _public(run_sandbox_build(opts).report)


# -- diagnose -------------------------------------------------------------------------------
def diagnose_record(
    opts: DiagnoseOptions, *, progress: ProgressCallback | None = None
) -> RunReport:
    """:func:`run_diagnose` as the run's own record (what the command line renders)."""
    from .diagnose import run_diagnosis

    started = time.perf_counter()
    sel = _without_local_tools(opts.selection, False)
    report = run_diagnosis(replace(opts, selection=sel), progress=progress)
    return _finish(report, opts.selection, started)


# -- audit, capacity --------------------------------------------------------------------------
def audit_record(opts: AuditOptions) -> RunReport:
    """:func:`run_audit` as the run's own record (what the command line renders)."""
    from .audit import run_vpc_audit

    started = time.perf_counter()
    report = run_vpc_audit(
        opts.vpc_id,
        instance_types=list(opts.instance_types),
        only=list(opts.selection.only),
        skip=list(opts.selection.skip),
        nodes=opts.nodes,
        orchestrator=opts.orchestrator,
        ip_headroom=opts.ip_headroom,
        fsx=opts.fsx,
        ignore=list(opts.selection.ignore),
        fail_on=opts.selection.fail_on,
        profile=opts.aws.profile,
        region=opts.aws.region,
        retry_mode=opts.aws.retry_mode,
        max_attempts=opts.aws.max_attempts or 10,
        timeout_s=DEFAULT_TIMEOUT_S if opts.timeout_s is None else opts.timeout_s,
    )
    return _finish(report, opts.selection, started)


def capacity_record(
    opts: CapacityOptions, *, progress: ProgressCallback | None = None
) -> RunReport:
    """:func:`run_capacity` as the run's own record (what the command line renders)."""
    from .capacity_run import run_capacity_scan
    from .runs.settings import AwsAccess, CapacityRun, Choice

    started = time.perf_counter()
    regions = opts.regions if opts.regions is None or opts.regions == "all" else list(opts.regions)
    settings = CapacityRun(
        aws=AwsAccess(
            profile=opts.aws.profile,
            region=opts.aws.region,
            retry_mode=opts.aws.retry_mode,
            max_attempts=opts.aws.max_attempts or 10,
            quota_code_cache=False,
        ),
        choice=Choice(
            only=opts.selection.only,
            skip=opts.selection.skip,
            ignore=opts.selection.ignore,
            fail_on=opts.selection.fail_on,
            timeout_s=DEFAULT_TIMEOUT_S if opts.timeout_s is None else opts.timeout_s,
        ),
        regions=regions,
        orchestrator=opts.orchestrator,
        vpc=opts.vpc,
    )
    report = run_capacity_scan(opts.instance_type, opts.count, settings, progress=progress)
    return _finish(report, opts.selection, started)


# -- this machine -------------------------------------------------------------------------------
def tools_record(opts: ToolsOptions) -> RunReport:
    """:func:`run_tools` as the run's own record (what the command line renders)."""
    from .preflight import run_cluster_preflight
    from .spec import ClusterSpec, load_spec

    if opts.config and opts.orchestrator:
        raise InputError("--orchestrator cannot be combined with --config: the config names it")
    if opts.config:
        spec = load_spec(opts.config)
    else:
        spec = ClusterSpec(name="local-tools", orchestrator=opts.orchestrator or "eks")
    report = run_cluster_preflight(
        spec,
        offline=True,
        only=[LOCAL_AREA, *opts.selection.only],
        skip=opts.selection.skip,
        ignore=opts.selection.ignore,
        fail_on=opts.selection.fail_on,
        options={
            "kubernetes_version": opts.kubernetes_version,
            "tool_timeout_s": opts.tool_timeout_s,
        },
    )
    return _finish(report, opts.selection)


def host_record(
    opts: HostOptions, *, deep_progress: Callable[[str], None] | None = None
) -> RunReport:
    """:func:`run_host` as the run's own record (what the command line renders)."""
    from .host.api import run_host_preflight
    from .host.profiles import load_profile, parse_requires

    requires = parse_requires(opts.requires)
    wanted = load_profile(opts.profile).for_check("host.shared-mount")
    if opts.shared_mounts and not wanted and "shared-mount-free-gb" not in requires:
        raise InputError(
            f"--shared-mount: profile {opts.profile} does not judge shared mounts; use "
            "--profile training, or add --require shared-mount-free-gb=GB"
        )
    sel = opts.selection
    report = run_host_preflight(
        profile=opts.profile,
        requires=requires,
        instance_type=opts.instance_type,
        paths=opts.paths,
        shared_mounts=opts.shared_mounts,
        root=opts.root,
        measure_bandwidth=opts.measure_bandwidth,
        dcgm=opts.dcgm,
        dcgm_level=opts.dcgm_level,
        deep=opts.deep,
        deep_seconds=opts.deep_seconds,
        deep_progress=deep_progress,
        imds=opts.imds,
        only=sel.only,
        skip=sel.skip,
        ignore=sel.ignore,
        fail_on=sel.fail_on,
    )
    return _finish(report, sel)


def lint_record(opts: LintOptions) -> RunReport:
    """:func:`run_lifecycle_lint` as the run's own record (what the command line renders)."""
    from .lint_report import lint_paths

    return lint_paths(opts)


# -- quotas -------------------------------------------------------------------------------------
def run_quotas_plan(opts: QuotasOptions) -> list[QuotaRequestPlan]:
    """The quota increases the cluster needs (read-only)."""
    from .preflight import plan_with_live_types
    from .quota_requests import plan_quota_requests

    spec = cluster_spec(opts.cluster)
    facts = _connect(opts)
    cluster_plan, _ = plan_with_live_types(spec, facts, opts.cluster.ip_headroom)
    return plan_quota_requests(spec, cluster_plan, facts, headroom=opts.headroom)


def run_quotas_request(opts: QuotasOptions) -> list[QuotaRequestResult]:
    """Plan the increases and, with ``submit``, submit them (never while one is open)."""
    from .quota_requests import submit_quota_requests

    plans = run_quotas_plan(opts)
    if not opts.submit:
        raise InputError("run_quotas_request: set submit=True (run_quotas_plan is the dry run)")
    facts = _connect(opts)
    return submit_quota_requests(
        plans, facts, wait=opts.wait, timeout_s=opts.wait_timeout_s, poll_s=opts.poll_s
    )


def _connect(opts: QuotasOptions) -> AwsFacts:
    from .preflight import connect

    return connect(
        profile=opts.aws.profile,
        region=opts.aws.region,
        retry_mode=opts.aws.retry_mode,
        max_attempts=opts.aws.max_attempts or 10,
        quota_code_cache=opts.aws.quota_code_cache,
    )


# -- the public functions: each run's report as the public pydantic model ----------------------
# The command line renders the run's own record (the ``*_record`` functions above), so that a
# table never imports pydantic; the library's callers get :class:`~.models.Report`.
def _public(record: RunReport) -> Report:
    from .models import Report

    return Report.of(record)


def run_check(opts: CheckOptions, *, progress: ProgressCallback | None = None) -> Report:
    """The account pre-flight of one cluster (needs AWS credentials unless ``offline``).

    ``progress`` is told, at most once a second, what a long run still waits for."""
    return _public(check_record(opts, progress=progress))


def run_check_spec(
    spec: ClusterSpec,
    opts: CheckOptions,
    *,
    session: Session | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """:func:`run_check` of a spec already read (``opts.cluster`` unused), on ``session``
    when given (else one made from ``opts.aws``)."""
    return _public(check_spec_record(spec, opts, session=session, progress=progress))


def run_diagnose(opts: DiagnoseOptions, *, progress: ProgressCallback | None = None) -> Report:
    """Why a live cluster failed or is degraded: its status, nodes, events and lifecycle logs,
    and the pre-flight of the request it was created from (needs AWS credentials)."""
    return _public(diagnose_record(opts, progress=progress))


def run_audit(opts: AuditOptions) -> Report:
    """The whole-VPC audit: subnets, security groups, placements and the fixes, ranked."""
    return _public(audit_record(opts))


def run_capacity(opts: CapacityOptions, *, progress: ProgressCallback | None = None) -> Report:
    """Regions ranked for ``count`` × ``instance_type``: quota headroom, zones, plans."""
    return _public(capacity_record(opts, progress=progress))


def run_tools(opts: ToolsOptions) -> Report:
    """This machine's command-line tools (aws v2, session-manager-plugin; for EKS kubectl,
    helm, eksctl, hyp); no AWS access."""
    return _public(tools_record(opts))


def run_host(opts: HostOptions, *, deep_progress: Callable[[str], None] | None = None) -> Report:
    """This GPU node (or the tree at ``root``) against a requirement profile."""
    return _public(host_record(opts, deep_progress=deep_progress))


def run_lifecycle_lint(opts: LintOptions) -> Report:
    """Lint local lifecycle folders (or files in one); one finding per lint finding."""
    return _public(lint_record(opts))
