"""lifecycle.scripts and lifecycle.provisioning-parameters on S3 prefixes (moto): the prefix is
listed once, only reached files are fetched (ranged), findings name the object and line."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_world import REGION, by_resource, denied, new_facts, run
from conftest import moto_env

import hyperpod_preflight.checks.lifecycle  # noqa: F401  (registers the checks)
from hyperpod_preflight.lifecycle_local import default_run_tool
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup

ROLE = "arn:aws:iam::123456789012:role/hyperpod-exec"
CLEAN = (
    b"#!/bin/bash\nset -euo pipefail\nbash ./setup.sh\n"
    b"python3 helper.py -pp provisioning_parameters.json\n"
)
SETUP = b"#!/bin/bash\nset -e\necho ready\n"
HELPER = b"import sys\nprint(sys.argv)\n"


def _params(*workers: str) -> bytes:
    return json.dumps(
        {
            "version": "1.0.0",
            "workload_manager": "slurm",
            "controller_group": "controller",
            "worker_groups": [{"instance_group_name": w, "partition_name": "gpu"} for w in workers],
        }
    ).encode()


def _prefix(s3: Any, bucket: str, **files: bytes) -> None:
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for name, body in files.items():
        s3.put_object(Bucket=bucket, Key=f"lc/{name.replace('__', '.')}", Body=body)


@pytest.fixture(scope="module")
def w() -> Iterator[SimpleNamespace]:
    with moto_env():
        s3 = boto3.client("s3", region_name=REGION)
        _prefix(
            s3,
            "sagemaker-clean",
            on_create__sh=CLEAN,
            setup__sh=SETUP,
            helper__py=HELPER,
            provisioning_parameters__json=_params("workers"),
            unrelated__bin=b"\x00" * 1024,
        )
        _prefix(
            s3,
            "sagemaker-crlf",
            on_create__sh=b"#!/bin/bash\r\nbash ./absent.sh\r\n",
            provisioning_parameters__json=_params("workers", "ghosts"),
        )
        _prefix(s3, "sagemaker-big", on_create__sh=b"#" * (50 * 1024 * 1024))
        yield SimpleNamespace(s3=s3)


@pytest.fixture
def facts(w: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return new_facts()


def spec(bucket: str) -> ClusterSpec:
    def group(name: str, count: int) -> InstanceGroup:
        return InstanceGroup(
            name=name,
            instance_type="ml.p5.48xlarge",
            count=count,
            execution_role=ROLE,
            lifecycle_source_s3_uri=f"s3://{bucket}/lc/",
            lifecycle_on_create="on_create.sh",
        )

    return ClusterSpec(name="c", instance_groups=(group("controller", 1), group("workers", 2)))


def test_a_clean_prefix_passes_and_fetches_only_what_the_entry_reaches(facts: Any) -> None:
    found = run("lifecycle.scripts", spec("sagemaker-clean"), facts, run_tool=default_run_tool)
    assert [f.status.value for f in found if f.status.value != "PASS"] == [], found
    (summary,) = [f for f in found if f.resource == "s3://sagemaker-clean/lc/"]
    assert "unrelated.bin" not in summary.details["fetched"]
    assert facts.calls["s3:ListObjectsV2"] == 1
    assert facts.calls["s3:GetObject"] == len(summary.details["fetched"]) <= 4
    params = run("lifecycle.provisioning-parameters", spec("sagemaker-clean"), facts)
    assert [f.status.value for f in params] == ["PASS"]


def test_crlf_a_missing_script_and_a_ghost_group_fail_naming_object_and_line(facts: Any) -> None:
    found = by_resource(run("lifecycle.scripts", spec("sagemaker-crlf"), facts))
    crlf = found["s3://sagemaker-crlf/lc/on_create.sh:1"]
    assert crlf.status.value == "FAIL" and "[crlf]" in crlf.message
    assert "sed -i" in crlf.remediation or "dos2unix" in crlf.remediation
    missing = found["s3://sagemaker-crlf/lc/on_create.sh:2"]
    assert missing.status.value == "FAIL" and "absent.sh" in missing.message
    # the upload fix names the prefix the config gives, not a placeholder
    assert "aws s3 cp absent.sh s3://sagemaker-crlf/lc/absent.sh" in missing.remediation
    assert "SourceS3Uri" not in missing.remediation
    params = run("lifecycle.provisioning-parameters", spec("sagemaker-crlf"), facts)
    assert any(f.status.value == "FAIL" and "ghosts" in f.message for f in params), params


def test_a_50_mb_entry_is_not_downloaded(facts: Any) -> None:
    found = run("lifecycle.scripts", spec("sagemaker-big"), facts)
    assert any("too-large" in f.message for f in found), found
    assert facts.calls.get("s3:GetObject", 0) == 0


def test_an_unreadable_listing_is_unknown_not_missing_files(facts: Any) -> None:
    denied("ListObjectsV2").attach(facts.client("s3"))
    (finding,) = run("lifecycle.scripts", spec("sagemaker-clean"), facts)
    assert finding.status.value == "UNKNOWN"
    assert "s3:ListBucket" in finding.message


def test_a_file_past_a_stopped_listing_is_unknown_not_missing(
    w: SimpleNamespace, facts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1000 keys sort before on_create.sh: the listing stops after its first page.
    import hyperpod_preflight.facts.s3 as s3_facts

    monkeypatch.setattr(s3_facts, "MAX_LISTED_OBJECTS", 1000)
    _prefix(w.s3, "sagemaker-crowded", on_create__sh=CLEAN)
    for n in range(1000):
        w.s3.put_object(Bucket="sagemaker-crowded", Key=f"lc/a{n:04d}", Body=b"")
    found = run("lifecycle.scripts", spec("sagemaker-crowded"), facts)
    assert [f.status.value for f in found] == ["UNKNOWN"], found
    assert "on_create.sh" in found[0].message and "1000" in found[0].message


def test_an_entry_script_whose_name_starts_with_a_dot_is_found(
    w: SimpleNamespace, facts: Any
) -> None:
    w.s3.create_bucket(
        Bucket="sagemaker-dotted", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    w.s3.put_object(Bucket="sagemaker-dotted", Key="lc/.on_create.sh", Body=SETUP)
    group = InstanceGroup(
        name="workers",
        instance_type="ml.p5.48xlarge",
        count=1,
        execution_role=ROLE,
        lifecycle_source_s3_uri="s3://sagemaker-dotted/lc/",
        lifecycle_on_create="./.on_create.sh",
    )
    dotted = ClusterSpec(name="c", instance_groups=(group,))
    found = run("lifecycle.scripts", dotted, facts, run_tool=default_run_tool)
    assert {f.status.value for f in found} == {"PASS"}, found
    assert facts.calls["s3:GetObject"] == 1  # gathered the key the lint reads, once


def test_a_listed_object_without_its_size_is_unknown_not_missing(facts: Any) -> None:
    """Object.Size is optional in botocore's model: an entry listed without it is there,
    so the prefix is UNKNOWN, never a 'missing entry' FAIL."""
    from aws_world import validated
    from iam_stubs import _reply

    def listing(params: dict[str, Any], model: Any, **_: Any) -> Any:
        if model.name != "ListObjectsV2":
            return None
        body = {"IsTruncated": False, "KeyCount": 1, "Contents": [{"Key": "lc/on_create.sh"}]}
        return _reply(200, validated("s3", model.name, body))

    facts.client("s3").meta.events.register("before-call", listing)
    found = run("lifecycle.scripts", spec("sagemaker-clean"), facts)
    assert [f.status.value for f in found] == ["UNKNOWN"], found
    assert "s3:ListBucket" in found[0].message and "Size" in found[0].message


def test_the_lints_tools_are_facts_gathered_once_never_run_by_a_judge(facts: Any) -> None:
    """``bash -n`` and ``shellcheck`` are read like any fact (``lint_tool``, declared by the
    checks' needs and gathered before judging): the two lifecycle checks of a run share one
    run of each tool per script, shellcheck only of a script that bash parsed; a judge given
    a runner of its own never calls it."""
    from hyperpod_preflight.planner import build_plan
    from hyperpod_preflight.records import ToolResult
    from hyperpod_preflight.registry import CheckContext, get
    from hyperpod_preflight.runner import Selection, run_checks

    runs: list[tuple[str, bytes]] = []

    def counting(argv: list[str], stdin: bytes) -> ToolResult:
        runs.append((argv[0], stdin))
        broken = b"ready" in stdin  # setup.sh: bash says it does not parse
        return ToolResult(returncode=2 if broken and argv[0] == "bash" else 0, stderr="x")

    cluster = spec("sagemaker-clean")
    ctx = CheckContext(spec=cluster, plan=build_plan(cluster), facts=facts)
    ctx.options["run_tool"] = counting
    checks = [get("lifecycle.scripts"), get("lifecycle.provisioning-parameters")]
    found = run_checks(checks, ctx, Selection())
    assert sorted(r[0] for r in runs) == ["bash", "bash", "shellcheck"], runs
    assert len(set(runs)) == len(runs)  # each (tool, script) once for both checks
    assert ("shellcheck", SETUP) not in runs  # setup.sh did not parse
    assert any(f.status.value == "FAIL" and "setup.sh" in f.resource for f in found)
    assert not [f for f in found if f.internal_error]


def test_the_scripts_of_a_prefix_are_read_in_one_round_with_the_listing_answered(
    w: SimpleNamespace, facts: Any
) -> None:
    """listing → every small script at once (not listing → entry → what it runs → what that
    runs): the follow-up of the listing names all four files of a chain three levels deep;
    a script nothing runs is read too (its cost: one GET), a README is not; each file is
    read once, and the findings are those of the reached files."""
    from hyperpod_preflight.planner import build_plan
    from hyperpod_preflight.registry import CheckContext, Then, get
    from hyperpod_preflight.runs.gather import FactSources, Gatherer

    _prefix(
        w.s3,
        "sagemaker-deep",
        on_create__sh=b"#!/bin/bash\nset -e\nbash ./a.sh\n",
        a__sh=b"#!/bin/bash\nset -e\nbash ./b.sh\n",
        b__sh=b"#!/bin/bash\nset -e\npython3 c.py\n",
        c__py=b"print('ok')\n",
        unused__sh=b"#!/bin/bash\necho never run\n",
        README__md=b"# notes\n",
    )
    cluster = spec("sagemaker-deep")
    ctx = CheckContext(spec=cluster, plan=build_plan(cluster), facts=facts)
    gatherer = Gatherer(FactSources(aws=facts))
    first = list(get("lifecycle.scripts").needs(cluster, ctx.plan))
    listing = next(n for n in first if getattr(n, "reader", "") == "prefix_listing")
    gatherer.read(listing).result()
    (follow,) = [r for r in first if isinstance(r, Then)][-1:]
    view = gatherer.view("lifecycle.scripts", {listing.key})
    second = list(follow.follow(dataclasses.replace(ctx, facts=view)))
    keys = {n.args[1] for n in second if getattr(n, "reader", "") == "object_head_bytes"}
    assert keys == {f"lc/{f}" for f in ("on_create.sh", "a.sh", "b.sh", "c.py", "unused.sh")}

    found = run("lifecycle.scripts", cluster, facts, run_tool=default_run_tool)
    (summary,) = [f for f in found if f.resource == "s3://sagemaker-deep/lc/"]
    assert sorted(summary.details["fetched"]) == ["a.sh", "b.sh", "c.py", "on_create.sh"]
    assert facts.calls["s3:GetObject"] == 5  # the four reached, and unused.sh


def test_what_is_read_with_the_listing_is_bounded() -> None:
    """Entries first, then provisioning_parameters.json, then the shallower scripts; no file
    over the lint's limit, at most PREFETCH_MAX_FILES files and PREFETCH_MAX_BYTES bytes."""
    from hyperpod_preflight.analysis.lifecycle import DEFAULT_MAX_BYTES
    from hyperpod_preflight.checks.lifecycle.scripts import (
        PREFETCH_MAX_BYTES,
        PREFETCH_MAX_FILES,
        prefetched,
    )

    sizes = {f"utils/s{i:03d}.sh": 100 for i in range(200)}
    sizes |= {"z.py": 10, "provisioning_parameters.json": 10, "start.sh": 50 * 1024 * 1024}
    sizes |= {"notes.md": 10, "on_create.sh": 10}
    chosen = prefetched(("./on_create.sh", "start.sh"), sizes)
    assert chosen[:3] == ["on_create.sh", "provisioning_parameters.json", "z.py"]
    assert len(chosen) == PREFETCH_MAX_FILES and "start.sh" not in chosen
    assert "notes.md" not in chosen
    big = {f"s{i:02d}.sh": DEFAULT_MAX_BYTES for i in range(20)}
    assert len(prefetched(("s00.sh",), big)) == PREFETCH_MAX_BYTES // DEFAULT_MAX_BYTES


def test_each_round_of_the_dry_runs_lints_once_for_both_checks(
    facts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both lifecycle checks and both gatherings of a run (primed, then real) walk the same
    rounds of dry runs (the files, then bash -n, then shellcheck): the lint runs once per
    round, plus once per judge; the findings are those of separate runs."""
    from hyperpod_preflight.checks.lifecycle import scripts as module
    from hyperpod_preflight.planner import build_plan
    from hyperpod_preflight.registry import CheckContext, get
    from hyperpod_preflight.runner import Selection, gatherer_for, run_checks

    linted: list[str] = []
    real_lint = module.lint

    def counted(*args: Any, **kwargs: Any) -> Any:
        linted.append("judge" if "egress" in kwargs else "dry")
        return real_lint(*args, **kwargs)

    monkeypatch.setattr(module, "lint", counted)
    cluster = spec("sagemaker-clean")
    ctx = CheckContext(spec=cluster, plan=build_plan(cluster), facts=facts)
    ctx.options["run_tool"] = default_run_tool
    checks = [get("lifecycle.scripts"), get("lifecycle.provisioning-parameters")]
    gatherer = gatherer_for(ctx)
    gatherer.prime(checks, ctx)
    found = run_checks(checks, ctx, Selection(), gatherer=gatherer)
    assert linted.count("judge") == 2
    assert 1 <= linted.count("dry") <= 3, linted  # the files; bash -n; shellcheck
    alone = [f for c in checks for f in run(c.check_id, cluster, facts, run_tool=default_run_tool)]
    assert sorted((f.resource, f.status.value) for f in found) == sorted(
        (f.resource, f.status.value) for f in alone
    )
