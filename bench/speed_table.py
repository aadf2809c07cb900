"""Issue 18's table, measured in one run on this machine: the seed checklist's AWS CLI
commands, `hp-preflight check` at 0 and 50 ms per AWS call, `check --offline`,
`lifecycle lint` of the project's own lifecycle/ and the VPC audit, each as fresh processes.

    python bench/speed_table.py [--reps 5] [--latency-ms 50] [--filler 1050]
        [--only check,audit,...] [--baseline DIR]

Everything stays on 127.0.0.1 (the pieces are those of ``critical_path_bench.py``):
``moto_server`` (a subprocess on a free port) holds the account the sandbox builds for
``examples/slurm-p5-cluster.json`` (VPC, subnets, security group, route tables, NAT, S3
endpoint, execution role, lifecycle bucket and scripts: a careful account); Service Quotas,
which moto_server lacks, is answered by the sandbox's botocore-shaped quota answers on a loopback
server, with ``--filler`` unrelated SageMaker quotas per listing (real AWS lists 1,000+). Both
sit behind a loopback proxy that holds each request the given milliseconds, then forwards it,
and logs it: the AWS requests column is what the proxy counted, the round trips column the
longest chain of requests of one run in which each arrived after the previous was answered
(an upper bound on the depth of dependent calls).

Every command runs as a fresh process with fake credentials, ``AWS_ENDPOINT_URL`` at the proxy
and ``AWS_EC2_METADATA_DISABLED=true``; ``hp-preflight`` from this checkout with its ``.pyc``
files compiled first. Timings are medians of ``--reps`` runs, the modes interleaved so that
load on the machine hits each alike. CPU is user + sys of the child and everything it waited
for (``getrusage(RUSAGE_CHILDREN)`` deltas). `hp-preflight check` runs with the quota codes
already cached (one warm-up run first), as the targets assume.

``--only`` keeps the rows whose key is named (``checklist``, ``check``, ``check-tools``,
``offline``, ``offline-tools``, ``lint``, ``audit``, ``help``, ``python``); ``--baseline DIR``
adds a row for each ``hp-preflight`` row run from another checkout (e.g. ``git archive`` of
the commit before a change, unpacked in DIR), interleaved with this one: before and after in
one run.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from critical_path_bench import (
    FAKE_ENV,
    REGION,
    REPO,
    DelayProxy,
    Request,
    build,
    forward_to,
    longest_chain,
    moto_server,
    quota_backend,
)

CLI = [sys.executable, "-m", "hyperpod_preflight.cli"]
ROW_KEYS = [
    "checklist",
    "check",
    "check-tools",
    "offline",
    "offline-tools",
    "lint",
    "audit",
    "help",
    "python",
]


@dataclass
class Sample:
    wall_s: float
    cpu_s: float
    calls: int
    chain: int
    exit_codes: list[int]


@dataclass
class Row:
    name: str
    samples: dict[int, list[Sample]] = field(default_factory=dict)  # latency ms → runs


def seed_checklist(config: dict[str, Any], vpc_id: str) -> list[list[str]]:
    """The read commands a careful engineer runs before ``aws sagemaker create-cluster``."""
    group = config["InstanceGroups"][0]
    role = group["ExecutionRole"].rsplit("/", 1)[-1]
    bucket, _, prefix = group["LifeCycleConfig"]["SourceS3Uri"].removeprefix("s3://").partition("/")
    subnets = config["VpcConfig"]["Subnets"]
    groups = config["VpcConfig"]["SecurityGroupIds"]
    types = sorted({g["InstanceType"].removeprefix("ml.") for g in config["InstanceGroups"]})
    in_vpc = ["--filters", f"Name=vpc-id,Values={vpc_id}"]
    return [
        ["sts", "get-caller-identity"],
        ["ec2", "describe-vpcs", "--vpc-ids", vpc_id],
        ["ec2", "describe-vpc-attribute", "--vpc-id", vpc_id, "--attribute", "enableDnsSupport"],
        ["ec2", "describe-vpc-attribute", "--vpc-id", vpc_id, "--attribute", "enableDnsHostnames"],
        ["ec2", "describe-subnets", "--subnet-ids", *subnets],
        ["ec2", "describe-security-groups", "--group-ids", *groups],
        ["ec2", "describe-route-tables", *in_vpc],
        ["ec2", "describe-vpc-endpoints", *in_vpc],
        ["ec2", "describe-nat-gateways", "--filter", f"Name=vpc-id,Values={vpc_id}"],
        [
            "ec2",
            "describe-instance-type-offerings",
            "--location-type",
            "availability-zone",
            "--filters",
            f"Name=instance-type,Values={','.join(types)}",
        ],
        ["ec2", "describe-availability-zones"],
        ["iam", "get-role", "--role-name", role],
        ["iam", "list-attached-role-policies", "--role-name", role],
        ["iam", "list-role-policies", "--role-name", role],
        ["s3api", "head-bucket", "--bucket", bucket],
        ["s3api", "get-bucket-location", "--bucket", bucket],
        ["s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix],
        ["service-quotas", "list-service-quotas", "--service-code", "sagemaker"],
        ["sagemaker", "list-clusters"],
    ]


def measure(
    commands: list[list[str]],
    env: dict[str, str],
    log: list[Request],
    *,
    ok: tuple[int, ...],
    cwd: str | Path = REPO,
) -> Sample:
    """Run ``commands`` one after the other (fresh processes); one sample for them all."""
    log.clear()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    codes = []
    for cmd in commands:
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
        if proc.returncode not in ok:
            raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-1500:]}")
        codes.append(proc.returncode)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    requests = list(log)
    return Sample(wall, cpu, len(requests), len(longest_chain(requests)), codes)


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="runs per command and latency")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--filler", type=int, default=1050, help="unrelated SageMaker quotas")
    parser.add_argument("--only", default="", help="row keys, comma-separated (see above)")
    parser.add_argument("--baseline", type=Path, help="another checkout, run beside this one")
    args = parser.parse_args()
    only = {k.strip() for k in args.only.split(",") if k.strip()}
    unknown = only - set(ROW_KEYS)
    if unknown:
        raise SystemExit(f"--only: unknown row keys {sorted(unknown)}; known: {ROW_KEYS}")
    aws = shutil.which("aws") or ""
    if not aws and (not only or "checklist" in only):
        raise SystemExit("the aws CLI is not on PATH")
    if aws and shutil.which("pyenv"):  # the real script, not pyenv's bash shim (its own start-up)
        found = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True)
        aws = found.stdout.strip() if found.returncode == 0 else aws
    compileall.compile_dir(str(REPO / "hyperpod_preflight"), quiet=1)
    if args.baseline is not None:
        compileall.compile_dir(str(args.baseline / "hyperpod_preflight"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="hp-speed-"))
    log: list[Request] = []
    try:
        with moto_server() as moto:
            config_path, answers = build(moto, work, args.filler)
            config = json.loads(config_path.read_text())
            vpc_id = _vpc_of(moto, config["VpcConfig"]["Subnets"][0])
            proxies = {
                latency: (
                    DelayProxy(forward_to(moto), latency / 1000, log),
                    DelayProxy(quota_backend(answers), latency / 1000, log),
                )
                for latency in (args.latency_ms, 0.0)
            }
            base = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith("AWS_")
                and k.lower() not in ("http_proxy", "https_proxy")
                and k != "PYTHONDONTWRITEBYTECODE"
            }
            base.update(FAKE_ENV, PYTHONPATH=str(REPO), XDG_CACHE_HOME=str(work / "cache"))

            def env_for(latency: float, src: str) -> dict[str, str]:
                aws_proxy, sq_proxy = proxies[latency]
                return {
                    **base,
                    "PYTHONPATH": src,
                    "XDG_CACHE_HOME": str(work / ("cache" if src == str(REPO) else "cache-base")),
                    "AWS_ENDPOINT_URL": aws_proxy.url,
                    "AWS_ENDPOINT_URL_SERVICE_QUOTAS": sq_proxy.url,
                }

            cfg = str(config_path)
            checklist = seed_checklist(config, vpc_id)
            keyed: list[tuple[str, str, list[list[str]], tuple[int, ...]]] = [
                (
                    "checklist",
                    f"the seed checklist's AWS CLI commands ({len(checklist)})",
                    [[aws, *c, "--output", "json"] for c in checklist],
                    (0,),
                ),
                (
                    "check",
                    "`hp-preflight check --config X`",
                    [[*CLI, "check", "--config", cfg]],
                    (0, 1),
                ),
                (
                    "check-tools",
                    "`hp-preflight check --config X --skip tools`",
                    [[*CLI, "check", "--config", cfg, "--skip", "tools"]],
                    (0, 1),
                ),
                (
                    "offline",
                    "`hp-preflight check --config X --offline`",
                    [[*CLI, "check", "--config", cfg, "--offline"]],
                    (0, 1),
                ),
                (
                    "offline-tools",
                    "`hp-preflight check --config X --offline --skip tools`",
                    [[*CLI, "check", "--config", cfg, "--offline", "--skip", "tools"]],
                    (0, 1),
                ),
                (
                    "lint",
                    "`hp-preflight lifecycle lint lifecycle/slurm`",
                    [[*CLI, "lifecycle", "lint", str(REPO / "lifecycle" / "slurm")]],
                    (0, 1),
                ),
                (
                    "audit",
                    f"`hp-preflight --vpc {vpc_id}` (audit)",
                    [[*CLI, "--region", REGION, "--vpc", vpc_id]],
                    (0, 1),
                ),
                ("help", "`hp-preflight --help`", [[*CLI, "--help"]], (0,)),
                ("python", "`python -c pass`", [[sys.executable, "-c", "pass"]], (0,)),
            ]
            assert [k for k, *_ in keyed] == ROW_KEYS
            rows: list[tuple[str, list[list[str]], tuple[int, ...], str]] = []
            for key, name, commands, ok in keyed:
                if only and key not in only:
                    continue
                if args.baseline is not None and commands[0][:3] == CLI:
                    rows.append((f"{name} (baseline)", commands, ok, str(args.baseline)))
                rows.append((name, commands, ok, str(REPO)))
            # warm-up: learns the quota codes, fills the model cache and the OS page cache
            for latency in proxies:
                for _name, commands, ok, src in rows:
                    measure(commands, env_for(latency, src), log, ok=ok, cwd=src)
            results: dict[str, Row] = {name: Row(name) for name, _, _, _ in rows}
            for _ in range(args.reps):  # interleaved
                for latency in proxies:
                    for name, commands, ok, src in rows:
                        sample = measure(commands, env_for(latency, src), log, ok=ok, cwd=src)
                        results[name].samples.setdefault(int(latency), []).append(sample)
            _print(results, args, aws)
            return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _vpc_of(moto: str, subnet_id: str) -> str:
    import boto3

    ec2 = boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=moto,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return str(ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["VpcId"])


def _print(results: dict[str, Row], args: argparse.Namespace, aws: str) -> None:
    slow, fast = int(args.latency_ms), 0
    load = os.getloadavg()
    version = (
        subprocess.run([aws, "--version"], capture_output=True, text=True).stdout.strip()
        if aws
        else "not run"
    )
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load[0]:.1f} {load[1]:.1f}; "
        f"medians of {args.reps}; aws = {aws or '-'} ({version})"
    )
    print()
    print(
        f"| command | {slow} ms/call wall (s) | {fast} ms/call wall (s) | "
        f"CPU user+sys at {slow} ms (s) | AWS requests | round trips (critical path) |"
    )
    print("|---|---|---|---|---|---|")
    get: Callable[[list[Sample], str], float] = lambda runs, attr: _median(  # noqa: E731
        [getattr(s, attr) for s in runs]
    )
    for row in results.values():
        a, b = row.samples[slow], row.samples[fast]
        print(
            f"| {row.name} | {get(a, 'wall_s'):.2f} | {get(b, 'wall_s'):.2f} | "
            f"{get(a, 'cpu_s'):.2f} | {get(a, 'calls'):.0f} | {get(a, 'chain'):.0f} |"
        )
    checklist = next((r for r in results.values() if r.name.startswith("the seed")), None)
    tool = results.get("`hp-preflight check --config X --skip tools`")
    if checklist is not None and tool is not None:
        ratio = get(checklist.samples[slow], "wall_s") / get(tool.samples[slow], "wall_s")
        print()
        print(
            f"seed checklist / `check --config X --skip tools` at {slow} ms: {ratio:.1f}x "
            f"(target: at least 7x)"
        )
    print(
        "Service Quotas is answered by the sandbox's quota answers (moto_server lacks it); "
        "nothing is skipped for want of an API."
    )


if __name__ == "__main__":
    raise SystemExit(main())
