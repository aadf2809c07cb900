"""``hp-preflight diagnose``: explain a failed or degraded cluster with the pre-flight checks.

The cluster's ``DescribeCluster`` answer is turned back into the CreateCluster request it was
made from (:mod:`.spec.from_cluster`), and that spec runs through the same pre-flight as
``check`` with kind ``diagnose``: every account check, plus the ``cluster.*`` checks of what
only a live cluster has (status and failure message, nodes per group, recent events, the
failed instances' lifecycle logs). So a failed cluster's missing S3 endpoint, bad role or
CRLF script is named with its fix exactly as before creation.

Reads are read-only and bounded (:mod:`.facts.cluster`); the report's ``api_calls`` counts
them.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from .errors import InputError
from .options import DEFAULT_TIMEOUT_S, DiagnoseOptions
from .results import RunReport
from .runner import ProgressCallback

if TYPE_CHECKING:
    from boto3 import Session

    from .facts.aws import AwsFacts

# DescribeCluster's ClusterName: a name or a cluster ARN (botocore's model pattern).
_NAME_OR_ARN = re.compile(
    r"^(arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:cluster/[a-z0-9]{12})$"
    r"|^([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})$"
)


def validate_cluster_name(value: str) -> str:
    """``value`` if it is a cluster name or ARN DescribeCluster accepts, else InputError."""
    if not _NAME_OR_ARN.match(value or ""):
        shown = value if len(value) <= 80 else value[:79] + "…"
        raise InputError(
            f"--cluster {shown!r}: not a HyperPod cluster name (1-63 letters, digits, hyphens) "
            "or cluster ARN"
        )
    return value


def run_diagnosis(
    opts: DiagnoseOptions,
    *,
    session: Session | None = None,
    facts: AwsFacts | None = None,
    progress: ProgressCallback | None = None,
) -> RunReport:
    """Read the cluster, rebuild its spec and run the ``diagnose`` checks on it.

    Raises InputError (exit 2) for a malformed name and for a cluster that does not exist,
    CannotRunError (exit 3) when AWS cannot be used or the cluster cannot be read at all.
    """
    from .errors import CannotRunError, FactUnavailable
    from .preflight import connect, run_cluster_preflight
    from .spec import load_spec
    from .spec.from_cluster import create_request_of

    name = validate_cluster_name(opts.cluster)
    if facts is None:
        facts = connect(
            session,
            profile=opts.aws.profile,
            region=opts.aws.region,
            retry_mode=opts.aws.retry_mode,
            max_attempts=opts.aws.max_attempts or 10,
        )
    try:
        described = facts.describe_cluster(name)
    except FactUnavailable as exc:
        raise CannotRunError(f"cannot read cluster {name!r}: {exc}") from exc
    if described is None:
        raise InputError(f"--cluster {name!r}: no such cluster in {facts.region}")
    config = create_request_of(described)
    spec = load_spec(config)
    spec = replace(spec, source=f"cluster:{described.get('ClusterArn', name)}")
    report = run_cluster_preflight(
        spec,
        facts=facts,
        only=opts.selection.only,
        skip=opts.selection.skip,
        ignore=opts.selection.ignore,
        fail_on=opts.selection.fail_on,
        timeout_s=DEFAULT_TIMEOUT_S if opts.timeout_s is None else opts.timeout_s,
        options={"diagnosed_cluster": spec.name},
        progress=progress,
        kind="diagnose",
    )
    return link_causes(report)


# Where the likely causes are named (once for the cluster, once per distinct log error).
LINKED = ("cluster.status", "cluster.lifecycle-logs")


def link_causes(report: RunReport) -> RunReport:
    """Name, on each ``cluster.*`` finding that shows a known symptom, the pre-flight checks
    of this very report that FAIL among those the symptom table lists: the likely cause."""
    from .analysis.cluster_health import symptoms
    from .results import Status

    failing: dict[str, list[str]] = {}
    for finding in report.results:
        if finding.status is Status.FAIL and not finding.check_id.startswith("cluster."):
            failing.setdefault(finding.check_id, []).append(finding.resource)
    table = {s.symptom_id: s for s in symptoms()}
    results = []
    for finding in report.results:
        shown = finding.details.get("symptoms") if finding.check_id in LINKED else None
        causes = sorted(
            {c for sid in shown or () if sid in table for c in table[sid].checks if c in failing}
        )
        if causes:
            named = ", ".join(f"{c} ({', '.join(failing[c][:2])})" for c in causes)
            finding = replace(
                finding,
                message=f"{finding.message} The pre-flight below FAILs: {named}.",
                details={**finding.details, "likely_causes": causes},
            )
        results.append(finding)
    return replace(report, results=results)
