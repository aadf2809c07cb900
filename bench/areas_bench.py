"""The account pre-flight of every area on the sandbox account, under API latency: per area
and all together, the calls one run makes and the wall time at concurrency 16 vs 1.

The account is the sandbox's (``hyperpod_preflight.sandbox``: moto in-process, a careful
user's preparation of ``examples/slurm-p5-cluster.json``, Service Quotas and the IAM policy
simulator answered by the sandbox's own data). A ``before-send`` handler on the run's session
sleeps ``--latency-ms`` (50 ms) before every request is answered. Nothing leaves the process:
moto intercepts every request and the environment carries fake credentials.

Run: python bench/areas_bench.py [--reps 3] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
AREAS = ("network", "capacity", "quotas", "iam", "s3", "lifecycle", "slurm", "config")


class Latency:
    """Sleep before each request; count requests by operation."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls: Counter[str] = Counter()

    def __call__(self, event_name: str = "", **_: Any) -> None:
        parts = event_name.split(".")
        if len(parts) >= 3:
            self.calls[f"{parts[1]}:{parts[2]}"] += 1
        time.sleep(self.seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()

    import boto3
    from moto import mock_aws
    from moto.core.models import botocore_stubber

    from hyperpod_preflight.preflight import run_cluster_preflight
    from hyperpod_preflight.sandbox.answers import SandboxAnswers
    from hyperpod_preflight.sandbox.blueprint import Blueprint
    from hyperpod_preflight.sandbox.build import build_account
    from hyperpod_preflight.sandbox.run import (
        ACCOUNT,
        administrator_session,
        example_config,
        sandbox_environment,
        sandbox_quotas,
    )
    from hyperpod_preflight.spec import load_spec

    started = time.perf_counter()
    with sandbox_environment(), mock_aws():
        blueprint = Blueprint()
        session = administrator_session(boto3.Session(region_name=blueprint.region))
        build = build_account(session, example_config(), blueprint)
        SandboxAnswers(
            region=blueprint.region,
            account=ACCOUNT,
            quotas=sandbox_quotas(build.spec, build.plan, blueprint),
            eks_clusters=build.eks_clusters,
        ).attach(session, replacing=botocore_stubber)
        latency = Latency(args.latency_ms / 1000)
        session.events.register_first("before-send", latency)
        spec = load_spec(build.config)
        print(
            f"areas bench (sandbox account, moto in-process, {args.latency_ms:.0f} ms per "
            f"request; built in {time.perf_counter() - started:.1f} s); median of {args.reps}"
        )

        def run(only: tuple[str, ...], concurrency: int) -> tuple[float, int, Any]:
            latency.calls.clear()
            t0 = time.perf_counter()
            report = run_cluster_preflight(
                spec, session=session, only=only, concurrency=concurrency
            )
            return time.perf_counter() - t0, sum(latency.calls.values()), report

        rows = []
        for label, only in [*((a, (a,)) for a in AREAS), ("all of them", AREAS)]:
            fast = [run(only, 16) for _ in range(args.reps)]
            slow = [run(only, 1) for _ in range(args.reps)]
            t16 = statistics.median(r[0] for r in fast)
            t1 = statistics.median(r[0] for r in slow)
            calls = fast[-1][1]
            statuses = Counter(f.status.value for f in fast[-1][2].results)
            rows.append((label, calls, t16, t1, statuses))
            same = {
                tuple(sorted((f.check_id, f.resource, f.status.value) for f in r[2].results))
                for r in fast + slow
            }
            if len(same) != 1:
                print(f"  {label}: findings differ between runs or concurrency levels")
                return 1
        print(f"  {'area':12} {'calls':>5} {'conc. 16':>9} {'conc. 1':>8} {'ratio':>6}  findings")
        for label, calls, t16, t1, statuses in rows:
            text = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
            print(f"  {label:12} {calls:5d} {t16:8.2f}s {t1:7.2f}s {t1 / t16:5.1f}x  {text}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
