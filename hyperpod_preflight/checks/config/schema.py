"""config.schema: the config against botocore's own CreateCluster model, one FAIL per
violation at its JSON path (the spec holds the rest, so the other checks still run)."""

from __future__ import annotations

from ...registry import CheckContext, check
from ...results import Outcome, Severity, failed, passed, skipped, warned
from ...spec import (
    ClusterSpec,
    Problem,
    botocore_version,
    judge_config,
)
from ._common import from_flags


# -- config.schema ------------------------------------------------------------------------------
@check(
    "config.schema",
    "Config is valid against botocore's CreateCluster model",
    Severity.CRITICAL,
    needs_aws=False,
)
def check_schema(ctx: CheckContext) -> list[Outcome]:
    """The config passes botocore's CreateCluster model, patterns, enums and maximums included."""
    spec: ClusterSpec = ctx.spec
    version = botocore_version()
    if from_flags(spec):
        return [skipped("config", "built from command-line flags: no config file to validate")]
    resource = spec.source or "config"
    # load_spec keeps what breaks the model in spec.problems (the spec holds the rest); a spec
    # built some other way is validated here.
    problems, notices = (list(spec.problems), list(spec.notices))
    if not problems and spec.source_kind == "create-cluster":
        # the judgement load_spec kept, when there is one (none is kept from here)
        oversized, problems, notices = judge_config(spec.raw, resource, store=False)
        problems = oversized or problems
    outcomes: list[Outcome] = [_schema_failure(p, resource, version) for p in problems]
    if not problems:
        outcomes.append(
            passed(
                resource,
                f"valid against the CreateCluster input model of botocore {version} "
                "(types, required and unknown keys, lengths, ranges, enums, patterns)",
                botocore_version=version,
            )
        )
    for path, reason in spec.unknowns.items():
        outcomes.append(
            skipped(
                path,
                f"known only after deploy ({reason}): validated when it exists",
            )
        )
    for notice in notices:
        outcomes.append(
            warned(
                "ClusterName",
                notice,
                'Add "ClusterName": "<name>" to the config, or pass --cluster-name to '
                "aws sagemaker create-cluster.",
                severity=Severity.LOW,
                path="ClusterName",
            )
        )
    return outcomes


def _schema_failure(problem: Problem, resource: str, version: str) -> Outcome:
    """One FAIL for one violation, named by its JSON path (the resource) and the model's rule."""
    where = problem.path if problem.path is not None else resource
    return failed(
        where or "(top level)",
        f"{problem} (botocore {version}'s CreateCluster model); the checks that need this "
        "value judge the rest of the config without it",
        f"Correct {where or 'the top level of the config'} as the message says; "
        "`aws sagemaker create-cluster --generate-cli-skeleton input` shows the expected shape.",
        path=problem.path,
        rule=problem.message,
        botocore_version=version,
    )
