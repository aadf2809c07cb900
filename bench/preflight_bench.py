"""Account pre-flight under API latency: engine concurrency 16 vs 1, and the API call count
against the size of the account.

Everything runs in-process against moto (``mock_aws``) with fake credentials; a socket
guard refuses any connection or name lookup off loopback, so nothing can reach AWS or the
instance metadata address. A ``before-send`` handler on every client of the run's
``AwsFacts`` sleeps ``--latency-ms`` (50 ms) per HTTP attempt, then lets moto (or the
Service Quotas fake of ``tests/quota_stubs.py``) answer.

The account matches ``examples/slurm-p5-cluster.json``: the healthy HyperPod network of
``tests/aws_world.py`` (VPC with DNS, NAT'd private subnet in usw2-az1, S3 gateway
endpoint, EFA-ready security group), whose ids replace the example's placeholders; two
existing HyperPod clusters (``team-a``, ``team-b``); Service Quotas for sagemaker, ec2 and
vpc that the example fits in.

1. ``network + capacity + quotas`` through ``run_cluster_preflight`` (fresh ``AwsFacts``
   per run, so the memo is cold), at concurrency 16 and 1, ``--reps`` runs each,
   interleaved; prints the medians, their ratio and the calls of one run.
2. Adds ``--noise`` (2,000) unrelated subnets and as many security groups in other VPCs,
   runs once more and compares calls (per operation) and findings (check id, resource,
   status). Exits 1 if the calls grew or the findings changed.

Run: python bench/preflight_bench.py [--quick] [--reps 5] [--latency-ms 50] [--noise 2000]
"""

from __future__ import annotations

import argparse
import importlib
import ipaddress
import json
import os
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
EXAMPLE = REPO / "examples" / "slurm-p5-cluster.json"
REGION = "us-west-2"
SECTIONS = ("network", "capacity", "quotas")

# Unrelated resources live in VPCs 10.100.0.0/16 … (one /28 subnet per 16 addresses).
NOISE_VPCS = 8
NOISE_FIRST_OCTET = 100

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/hp-preflight-bench/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/hp-preflight-bench/credentials",
}

P_VCPU_QUOTA = "L-417A185B"  # Running On-Demand P instances (vCPUs)
P_VCPUS = 1536.0  # 8 x p5.48xlarge

Finding = tuple[str, str, str]  # check_id, resource, status


# -- no traffic off loopback ---------------------------------------------------------------
def fence_environment() -> None:
    """Fake credentials and region, no profile, no endpoint overrides (moto intercepts AWS's
    own host names in-process), no metadata service."""
    for name in list(os.environ):
        if name == "AWS_PROFILE" or name.startswith("AWS_ENDPOINT_URL"):
            del os.environ[name]
    os.environ.update(FAKE_ENV)


def _is_loopback(host: Any) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def guard_sockets() -> None:
    """Refuse every name lookup and connection that is not loopback (or a Unix socket)."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise OSError(f"preflight_bench: refused name lookup of {host!r} (loopback only)")
        return real_getaddrinfo(host, *args, **kwargs)

    def allowed(sock: Any, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise OSError(f"preflight_bench: refused connection to {address!r} (loopback only)")

    def connect(sock: Any, address: Any) -> None:
        allowed(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: Any, address: Any) -> int:
        allowed(sock, address)
        return real_connect_ex(sock, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


# -- injected latency ----------------------------------------------------------------------
class Latency:
    """A ``before-send`` handler: sleeps, counts the request, returns None (so moto or the
    quotas fake still answers). botocore emits ``before-send`` to *every* handler and takes
    the first non-None answer, so this sleeps on every attempt whatever its position."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sent: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, event_name: str = "", **_: Any) -> None:
        service, _sep, operation = event_name.removeprefix("before-send.").partition(".")
        with self._lock:
            self.sent[f"{service}:{operation}"] += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        time.sleep(self.seconds)
        with self._lock:
            self.in_flight -= 1

    @property
    def count(self) -> int:
        return sum(self.sent.values())


# -- the account ---------------------------------------------------------------------------
@dataclass
class Account:
    """The moto account and the pieces each run needs."""

    world: ModuleType  # tests/aws_world.py
    stubs: ModuleType  # tests/quota_stubs.py
    ec2: Any  # a plain client for building (no latency)
    spec: Any  # ClusterSpec of the example on the created ids
    applied: list[dict[str, Any]]
    defaults: list[dict[str, Any]]
    loader: Any  # one botocore data loader shared by every run's session


def test_helpers() -> tuple[ModuleType, ModuleType]:
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    return importlib.import_module("aws_world"), importlib.import_module("quota_stubs")


def example_on(subnet_id: str, group_id: str) -> dict[str, Any]:
    """The example config with its placeholder subnet and security group replaced."""
    config: dict[str, Any] = json.loads(EXAMPLE.read_text())
    config["VpcConfig"] = {"Subnets": [subnet_id], "SecurityGroupIds": [group_id]}
    return config


def quota_values(stubs: ModuleType, spec: Any) -> dict[str, float]:
    """Applied SageMaker quotas under which the example fits beside the existing clusters."""
    values: dict[str, float] = stubs.default_account()
    for instance_type in {t for group in spec.instance_groups for t in group.types}:
        values.setdefault(f"{instance_type} for cluster usage", 4)
    return values


def ec2_vpc_quotas(stubs: ModuleType) -> list[dict[str, Any]]:
    """The tests' EC2/VPC quotas with room for the example's P instances (4 x p5.48xlarge
    are 768 vCPUs; the tests' 384 would make the advisory vCPU check WARN)."""
    return [
        {**q, "Value": P_VCPUS} if q["QuotaCode"] == P_VCPU_QUOTA else q
        for q in stubs.EC2_VPC_QUOTAS
    ]


def build_account() -> Account:
    import boto3
    import botocore.session

    from hyperpod_preflight.spec import load_spec

    world, stubs = test_helpers()
    ec2 = boto3.client("ec2", region_name=REGION)
    net = world.healthy_network(ec2)
    stubs.create_existing_clusters(boto3.client("sagemaker", region_name=REGION))
    spec = load_spec(example_on(net.subnets["a"], net.sgs["efa"]))
    applied, defaults = stubs.sagemaker_quotas(applied=quota_values(stubs, spec))
    return Account(
        world=world,
        stubs=stubs,
        ec2=ec2,
        spec=spec,
        applied=applied + ec2_vpc_quotas(stubs),
        defaults=defaults,
        loader=botocore.session.Session().get_component("data_loader"),
    )


def add_noise(ec2: Any, count: int) -> None:
    """``count`` subnets (/28) and ``count`` security groups spread over ``NOISE_VPCS`` new
    /16 VPCs. moto enforces no VPC, subnet or group count limits (only CIDR associations
    per VPC and rules per group), so nothing needs raising."""
    per_vpc = -(-count // NOISE_VPCS)
    if per_vpc > 4096:
        raise SystemExit(f"--noise {count}: at most {4096 * NOISE_VPCS} subnets fit")
    vpcs = [
        ec2.create_vpc(CidrBlock=f"10.{NOISE_FIRST_OCTET + v}.0.0/16")["Vpc"]["VpcId"]
        for v in range(NOISE_VPCS)
    ]
    zones = ("usw2-az1", "usw2-az2", "usw2-az3")
    for i in range(count):
        v, j = i % NOISE_VPCS, i // NOISE_VPCS
        cidr = f"10.{NOISE_FIRST_OCTET + v}.{j // 16}.{(j % 16) * 16}/28"
        ec2.create_subnet(VpcId=vpcs[v], CidrBlock=cidr, AvailabilityZoneId=zones[i % 3])
        ec2.create_security_group(
            GroupName=f"noise-{i}", Description="unrelated to the cluster", VpcId=vpcs[v]
        )


# -- one pre-flight run --------------------------------------------------------------------
@dataclass
class Run:
    seconds: float
    calls: Counter[str]
    sent: int  # requests that went through the latency handler (attempts, retries included)
    peak_in_flight: int  # most requests sleeping at once
    findings: list[Finding]


def fresh_facts(account: Account, latency: Latency) -> Any:
    """A new ``AwsFacts`` (cold memo, zero counters) on a new boto3 session whose every
    client sleeps through ``latency``; service quotas answered by the fake."""
    import boto3
    import botocore.session

    from hyperpod_preflight.facts import AwsFacts

    core = botocore.session.Session()
    core.register_component("data_loader", account.loader)  # models parsed once per process
    session = boto3.Session(botocore_session=core, region_name=REGION)
    # Clients copy the session's handlers when made, so every client of the run has it.
    session.events.register_first("before-send", latency)
    facts = AwsFacts(session)
    account.stubs.ServiceQuotasFake(account.applied, account.defaults).attach(facts)
    return facts


def preflight(account: Account, concurrency: int, latency_s: float) -> Run:
    from hyperpod_preflight.preflight import run_cluster_preflight

    latency = Latency(latency_s)
    facts = fresh_facts(account, latency)
    started = time.perf_counter()
    report = run_cluster_preflight(
        account.spec, facts=facts, only=list(SECTIONS), concurrency=concurrency
    )
    seconds = time.perf_counter() - started
    findings = sorted((f.check_id, f.resource, f.status.value) for f in report.results)
    return Run(seconds, Counter(facts.calls), latency.count, latency.peak_in_flight, findings)


# -- report --------------------------------------------------------------------------------
def calls_text(calls: Counter[str]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(calls.items()))


def wrap(text: str, indent: str, width: int = 96) -> str:
    lines: list[str] = []
    line = ""
    for word in text.split(", "):
        if line and len(indent) + len(line) + len(word) + 2 > width:
            lines.append(line + ",")
            line = word
        else:
            line = f"{line}, {word}" if line else word
    lines.append(line)
    return ("\n" + indent).join(lines)


def status_text(findings: list[Finding]) -> str:
    counts = Counter(status for _, _, status in findings)
    return ", ".join(f"{s} {n}" for s, n in sorted(counts.items()))


@contextmanager
def moto_account() -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        fence_environment()  # again inside the mock: nothing may have set them meanwhile
        yield


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="runs per concurrency (median)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="sleep per API call")
    parser.add_argument("--noise", type=int, default=2000, help="unrelated subnets and SGs each")
    parser.add_argument("--quick", action="store_true", help="--noise 200 --reps 3")
    args = parser.parse_args()
    if args.quick:
        args.noise, args.reps = 200, 3
    latency_s = args.latency_ms / 1000

    fence_environment()
    guard_sockets()
    bench_started = time.perf_counter()
    with moto_account():
        account = build_account()
        preflight(account, 16, 0.0)  # warm-up: imports, check registry, moto backends

        times: dict[int, list[float]] = {16: [], 1: []}
        runs: dict[int, Run] = {}
        for _ in range(args.reps):  # interleaved, so drift on a shared machine hits both
            for concurrency in (16, 1):
                runs[concurrency] = preflight(account, concurrency, latency_s)
                times[concurrency].append(runs[concurrency].seconds)
        concurrent, sequential = runs[16], runs[1]
        t16, t1 = statistics.median(times[16]), statistics.median(times[1])

        fill_started = time.perf_counter()
        add_noise(account.ec2, args.noise)
        fill_s = time.perf_counter() - fill_started
        after = preflight(account, 16, latency_s)
    total_s = time.perf_counter() - bench_started

    calls = concurrent.calls
    n_calls = sum(calls.values())
    n_after = sum(after.calls.values())
    independent = after.calls == calls  # per operation, not only the total
    same_findings = after.findings == concurrent.findings
    same_across = sequential.findings == concurrent.findings and sequential.calls == calls
    latency_ok = concurrent.sent >= n_calls and sequential.sent >= n_calls

    ms = f"{args.latency_ms:g} ms"
    print(f"preflight bench (moto in-process, {ms} per call, {', '.join(SECTIONS)})")
    print(f"  account: {EXAMPLE.relative_to(REPO)} on a healthy network, 2 existing clusters")
    print(f"  median of {args.reps} runs, fresh AwsFacts each (cold memo), interleaved")
    print(
        f"  concurrency 16: {t16:.2f} s   concurrency 1: {t1:.2f} s   "
        f"ratio {t1 / t16:.1f}x (sequential / concurrent)"
    )
    print(f"  API calls per run: {n_calls} ({wrap(calls_text(calls), '    ')})")
    print(
        f"  latency injected on {concurrent.sent} requests at 16, {sequential.sent} at 1 "
        f"({'every call' if latency_ok else 'NOT every call: timings invalid'}); "
        f"peak in flight {concurrent.peak_in_flight} at 16, {sequential.peak_in_flight} at 1"
    )
    print(
        f"  concurrency 16 = {t16 / latency_s:.1f} call latencies "
        f"(the longest chain of dependent reads, plus CPU)"
    )
    print(
        f"  findings: {len(concurrent.findings)} ({status_text(concurrent.findings)}); "
        f"same calls and findings at concurrency 1: {'yes' if same_across else 'no'}"
    )
    print(
        f"  after +{args.noise} subnets, +{args.noise} SGs in {NOISE_VPCS} other VPCs "
        f"(built in {fill_s:.1f} s): {n_after} calls, {after.seconds:.2f} s"
    )
    if after.calls != calls:
        print(f"    calls after: {wrap(calls_text(after.calls), '      ')}")
    print(f"  call count independent of account size: {'yes' if independent else 'no'}")
    print(f"  findings (check id, resource, status) unchanged: {'yes' if same_findings else 'no'}")
    if not same_findings:
        for f in sorted(set(concurrent.findings) ^ set(after.findings)):
            print(f"    {'before' if f in concurrent.findings else 'after '}: {f}")
    print(f"  bench wall time: {total_s:.1f} s")
    return 0 if independent and same_findings and latency_ok else 1


if __name__ == "__main__":
    sys.exit(main())
