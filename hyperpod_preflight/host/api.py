"""The host pre-flight as a library call: read the node, judge it against a profile, return
the :class:`~hyperpod_preflight.models.Report` (``kind="host"``). Never prints, never exits.

    from hyperpod_preflight.host import run_host_preflight
    report = run_host_preflight(profile="hyperpod-node", instance_type="ml.p5.48xlarge")
    print(report.summary.exit_code)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..registry import HostContext
from ..results import RunReport
from ..runner import FailOn, Selection
from ..runs import pipeline
from .facts import AUTO, CollectOptions, collect_host_facts
from .instance_types import IMDS_BASE, expectation
from .profiles import DEFAULT_PROFILE, add_deep_requirements, apply_overrides, load_profile

DEEP_CHECKS = (
    "host.deep-matmul",
    "host.deep-memory-bandwidth",
    "host.deep-host-bandwidth",
    "host.deep-clock-events",
    "host.deep-p2p",
    "host.deep-nccl",
    "host.deep-xid",
)


def run_host_preflight(
    *,
    profile: str = DEFAULT_PROFILE,
    instance_type: str | None = None,
    requires: Mapping[str, str] | None = None,
    paths: Sequence[str] = (),
    shared_mounts: Sequence[str] = (),
    measure_bandwidth: bool = False,
    dcgm: bool = False,
    dcgm_level: int | None = None,
    deep: bool = False,
    deep_seconds: float = 60.0,
    deep_progress: Callable[[str], None] | None = None,
    imds: bool = False,
    root: str = "/",
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: FailOn = "fail",
    nvml: Any = AUTO,
    imds_url: str = IMDS_BASE,
) -> RunReport:
    """Check this node (or the tree at ``root``) against ``profile``.

    ``deep`` adds the bounded GPU measurements and the Xid history (``host.deep-*``) within
    ``deep_seconds``; ``dcgm_level`` runs ``dcgmi diag -r N`` (``dcgm=True`` is level 1).

    Raises :class:`InputError` for an unknown profile, requirement or check id, or a root
    that is not a directory.
    """
    _check_inputs(root, [*paths, *shared_mounts], dcgm_level, deep_seconds)
    dcgm = dcgm or dcgm_level is not None
    base = load_profile(profile)
    if deep:
        base = add_deep_requirements(base)
    chosen = apply_overrides(base, dict(requires or {}))
    # Run the checks the profile names (and the opt-in measurements asked for); --only
    # may still name any host check.
    wanted = {item.check for item in chosen.requirements}
    if measure_bandwidth:
        wanted.add("host.h2d-bandwidth")
    if dcgm:
        wanted.add("host.dcgm")
    if deep:
        wanted.update(DEEP_CHECKS)
    selection = Selection(
        only=list(only) or sorted(wanted),
        skip=list(skip),
        ignore=list(ignore),
        fail_on=fail_on,
        concurrency=4,
    )
    options = CollectOptions(
        root=root,
        instance_type=instance_type,
        paths=list(paths),
        shared_mounts=list(shared_mounts),
        measure_bandwidth=measure_bandwidth,
        dcgm=dcgm,
        dcgm_level=dcgm_level or 1,
        deep=deep,
        deep_seconds=deep_seconds,
        deep_progress=deep_progress,
        imds=imds,
        imds_url=imds_url,
        nvml=nvml,
    )
    # Ids are validated (the pipeline's one select) before the machine is read: a typo
    # should not cost a GPU probe.
    return pipeline.run(
        "host",
        selection,
        lambda checks, deadline: _prepare_host(chosen, options, paths, shared_mounts),
    )


def _check_inputs(
    root: str, paths: Sequence[str], dcgm_level: int | None, deep_seconds: float
) -> None:
    """Bad input is exit 2 before the machine is read."""
    if not Path(root).is_dir():
        raise InputError(f"--root {root}: not a directory")
    for path in paths:
        if not path.startswith("/"):
            raise InputError(f"{path!r}: give an absolute path")
    if dcgm_level is not None and dcgm_level not in (1, 2, 3):
        raise InputError(f"--dcgm-level {dcgm_level}: choose 1, 2 or 3")
    if deep_seconds <= 0:
        raise InputError(f"--deep-seconds {deep_seconds:g}: give a positive number of seconds")


def _prepare_host(
    chosen: Any, options: CollectOptions, paths: Sequence[str], shared_mounts: Sequence[str]
) -> pipeline.Prepared:
    """Read the node, then the context its checks judge."""
    facts = collect_host_facts(chosen, options)
    measure_bandwidth, dcgm, deep = options.measure_bandwidth, options.dcgm, options.deep
    expect = expectation(facts.instance_type) if facts.instance_type else None
    ctx = HostContext(
        host=facts,
        options={
            "profile": chosen,
            "expect": expect,
            "paths": list(paths),
            "shared_mounts": list(shared_mounts),
            "measure_bandwidth": measure_bandwidth,
            "dcgm": dcgm,
            "deep": deep,
        },
    )
    summary: dict[str, Any] = {
        "profile": chosen.name,
        "overrides": {r.id: r.threshold for r in chosen.requirements if r.overridden},
        "expectation": asdict(expect) if expect else None,
        **facts.summary(),
    }
    return pipeline.Prepared(ctx, target=facts.hostname or "localhost", facts_summary=summary)
