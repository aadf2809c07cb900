"""`hp-preflight capacity` across regions under API latency: all regions at once vs one by
one.

In-process against moto with fake credentials and the socket guard of
``preflight_bench.py`` (nothing leaves loopback). Each of ``--regions`` (4) gets its own
``AwsFacts``; Service Quotas is the fake of ``tests/quota_stubs.py`` (the p5 quota among
250 unrelated SageMaker quotas, so the listings take 3 pages each), training-plan
offerings are answered empty, EC2 by moto. A ``before-send`` handler sleeps
``--latency-ms`` (50) on every request. The scan runs with the region pool at its default
(8 workers) and at 1 (sequential), ``--reps`` times each, interleaved, fresh facts each
time (made before the clock starts: building sessions and clients is CPU work, the same in
both modes, and printed apart); prints the medians and their ratio, the calls per region
and whether both modes gave the same answer.

Run: python bench/capacity_bench.py [--reps 3] [--latency-ms 50] [--regions 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from preflight_bench import Latency, fence_environment, guard_sockets  # noqa: E402

REGIONS = ["us-west-2", "us-east-1", "eu-west-1", "ap-southeast-2", "eu-north-1", "ap-south-1"]
P5 = "ml.p5.48xlarge"


class Offerings:
    """A ``before-call`` handler answering ``SearchTrainingPlanOfferings`` (moto lacks it)
    with ``offerings`` after ``delay_s`` (the latency handler never sees this call)."""

    def __init__(self, offerings: list[dict[str, Any]] | None = None, delay_s: float = 0) -> None:
        self.body = {"TrainingPlanOfferings": list(offerings or [])}
        self.delay_s = delay_s

    def attach(self, client: Any) -> Offerings:
        client.meta.events.register("before-call.sagemaker.SearchTrainingPlanOfferings", self)
        return self

    def __call__(self, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        time.sleep(self.delay_s)
        meta = {"HTTPStatusCode": 200, "RequestId": "bench", "HTTPHeaders": {}}
        return AWSResponse("https://bench.invalid/", 200, {}, None), {
            **self.body,
            "ResponseMetadata": meta,
        }


def facts_factory(latency: Latency, quotas: dict[str, float]) -> Any:
    import boto3
    import botocore.session
    from quota_stubs import ServiceQuotasFake, sagemaker_quotas

    from hyperpod_preflight.facts import AwsFacts

    loader = botocore.session.Session().get_component("data_loader")

    def make(region: str) -> Any:
        core = botocore.session.Session()
        core.register_component("data_loader", loader)
        facts = AwsFacts(boto3.Session(botocore_session=core, region_name=region), region=region)
        applied, defaults = sagemaker_quotas(applied={f"{P5} for cluster usage": quotas[region]})
        ServiceQuotasFake(applied, defaults).attach(facts)
        for service in ("ec2", "sagemaker", "service-quotas"):
            client = facts.client(service)
            client.meta.events.register_first(f"before-send.{service}", latency)
            if service == "sagemaker":
                Offerings(delay_s=latency.seconds).attach(client)
        return facts

    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--regions", type=int, default=4)
    args = parser.parse_args()
    fence_environment()
    guard_sockets()
    from moto import mock_aws

    from hyperpod_preflight.capacity_run import run_capacity_scan

    regions = REGIONS[: args.regions]
    quotas = {r: float(8 * (i + 1)) for i, r in enumerate(regions)}
    times: dict[int, list[float]] = {8: [], 1: []}
    answers: dict[int, list[tuple[str, str]]] = {}
    calls: dict[int, int] = {}
    setup: list[float] = []
    with mock_aws():
        for _ in range(args.reps):
            for workers in (8, 1):
                latency = Latency(args.latency_ms / 1000)
                make = facts_factory(latency, quotas)
                started = time.perf_counter()
                built = {r: make(r) for r in regions}  # sessions and clients: CPU only
                setup.append(time.perf_counter() - started)
                started = time.perf_counter()
                report = run_capacity_scan(
                    P5, 16, regions=regions, facts_for=built.__getitem__, workers=workers
                )
                times[workers].append(time.perf_counter() - started)
                assert report.capacity is not None
                answers[workers] = [(r.region, r.status) for r in report.capacity.regions]
                calls[workers] = int(report.api_calls or 0)
    concurrent, sequential = statistics.median(times[8]), statistics.median(times[1])
    print(f"{len(regions)} regions, {args.latency_ms:.0f} ms per request, {args.reps} runs each")
    print(f"  concurrent (pool of 8): median {concurrent:.2f} s")
    print(f"  sequential (pool of 1): median {sequential:.2f} s")
    print(f"  concurrent / sequential = {concurrent / sequential:.2f}")
    print(
        f"  (not timed above: making {len(regions)} regions' sessions and clients, median "
        f"{statistics.median(setup):.2f} s, CPU-bound and the same in both modes)"
    )
    print(f"  API calls per scan: {calls[8]} ({calls[8] / len(regions):.0f} per region)")
    print(f"  answers: {answers[8]}")
    same = answers[8] == answers[1] and calls[8] == calls[1]
    print(f"  same answers and calls in both modes: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
