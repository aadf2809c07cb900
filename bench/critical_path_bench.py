"""`hp-preflight check` of the example over HTTP with 50 ms per AWS call: cold vs cached
quota codes vs concurrency 1, and the round trips on each run's critical path.

    python bench/critical_path_bench.py [--reps 5] [--latency-ms 50] [--filler 1050]

Everything stays on 127.0.0.1: ``moto_server`` (a subprocess on a free port) holds an account
built for ``examples/slurm-p5-cluster.json`` by the sandbox (over HTTP, as the e2e tests do);
Service Quotas is answered by the sandbox's quota answers on a small loopback server, with
``--filler`` unrelated SageMaker quotas in each listing (real AWS lists 1,000+: ≈ 11 pages of
100). Both sit behind a loopback proxy that holds every request ``--latency-ms`` before
answering and logs when it arrived and when it was answered. ``hp-preflight check`` runs as a
subprocess (fresh interpreter: start-up, config validation and rendering included) with
``AWS_ENDPOINT_URL`` pointing at the proxy and its own ``XDG_CACHE_HOME``.

Round trips on the critical path: the longest chain of requests of one run in which each
request arrived at the proxy after the previous one was answered (a longest chain of
non-overlapping intervals, by dynamic programming over the proxy log). Requests that overlap
cannot depend on each other, so this is an upper bound on the depth of the run's dependent
calls; two calls the code could have made at once but made one after the other count twice.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
REGION = "us-west-2"
ACCOUNT = "123456789012"
HOP_BY_HOP = {"connection", "transfer-encoding", "keep-alive", "content-length"}
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "NO_PROXY": "127.0.0.1",
}


@dataclass(frozen=True)
class Request:
    arrived: float
    answered: float
    operation: str


Backend = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


class DelayProxy:
    """A loopback HTTP server that waits ``delay_s`` per request, then answers it through
    ``backend``, logging (arrived, answered, operation) into ``log``."""

    def __init__(self, backend: Backend, delay_s: float, log: list[Request]) -> None:
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(delay_s)
                headers = {k: v for k, v in self.headers.items()}
                status, out_headers, data = backend(self.command, self.path, headers, body)
                self.send_response(status)
                for key, value in out_headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                with lock:
                    log.append(Request(arrived, time.monotonic(), _operation(headers, body, self)))

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _operation(headers: dict[str, str], body: bytes, handler: BaseHTTPRequestHandler) -> str:
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    with contextlib.suppress(Exception):
        action = parse_qs(body.decode()).get("Action")
        if action:
            return action[0]
    return f"{handler.command} {urlsplit(handler.path).path[:40]}"


def forward_to(base: str) -> Backend:
    parts = urlsplit(base)

    def backend(
        method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    return backend


def quota_backend(answers: Any) -> Backend:
    def backend(
        method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        target = headers.get("X-Amz-Target") or headers.get("x-amz-target") or ""
        answer = answers.answer("service-quotas", target.rsplit(".", 1)[-1], body)
        if answer is None:
            return 400, {"Content-Type": "application/x-amz-json-1.1"}, b"{}"
        return answer.status, dict(answer.headers), answer.body

    return backend


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **FAKE_ENV, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                break
            time.sleep(0.1)
        else:
            raise TimeoutError("moto_server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def build(moto: str, workdir: Path, filler: int) -> tuple[Path, Any]:
    """The example's account in moto_server, and the Service Quotas answers for it."""
    import boto3

    from hyperpod_preflight.sandbox import example_config
    from hyperpod_preflight.sandbox.answers import Quota, SandboxAnswers
    from hyperpod_preflight.sandbox.blueprint import Blueprint
    from hyperpod_preflight.sandbox.build import build_account
    from hyperpod_preflight.sandbox.run import sandbox_quotas

    os.environ.update({**FAKE_ENV, "AWS_ENDPOINT_URL": moto})
    try:
        made = build_account(boto3.Session(region_name=REGION), example_config(), Blueprint())
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    quotas = sandbox_quotas(made.spec, made.plan, Blueprint())
    half = filler // 2
    # unrelated quotas, in both listings
    noise = [
        Quota(
            "sagemaker",
            f"ml.filler{i:04d}.xlarge for training job usage",
            4,
            f"L-F{i:07d}",
            applied=True,  # ListServiceQuotas returns them too (≈ 11 pages each on AWS)
        )
        for i in range(filler)
    ]
    # the quotas this config needs sit in the middle of both listings, as on real AWS
    everything = noise[:half] + quotas + noise[half:]
    answers = SandboxAnswers(region=REGION, account=ACCOUNT, quotas=everything)
    config = workdir / "cluster.json"
    config.write_text(json.dumps(made.config))
    return config, answers


@dataclass
class Run:
    wall_s: float
    report_s: float
    calls: int
    chain: int
    chain_ops: list[str]
    first_call_s: float  # process start → first request arrived
    aws_s: float  # first request arrived → last answered
    after_s: float  # last answer → process exit
    ops: dict[str, int]
    findings: list[tuple[str, str, str]]


def longest_chain(requests: list[Request]) -> list[Request]:
    """Longest chain of requests each arriving after the previous one was answered."""
    ordered = sorted(requests, key=lambda r: r.answered)
    best: list[int] = []
    prev: list[int] = []
    for i, r in enumerate(ordered):
        before = [j for j in range(i) if ordered[j].answered <= r.arrived]
        j = max(before, key=lambda k: best[k], default=-1)
        best.append(1 + (best[j] if j >= 0 else 0))
        prev.append(j)
    if not best:
        return []
    i = max(range(len(best)), key=lambda k: best[k])
    chain = []
    while i >= 0:
        chain.append(ordered[i])
        i = prev[i]
    return chain[::-1]


def run_check(config: Path, env: dict[str, str], log: list[Request], *extra: str) -> Run:
    log.clear()
    cmd = [sys.executable, "-m", "hyperpod_preflight.cli", "check", "--config", str(config)]
    cmd += ["-o", "json", "--skip", "tools", *extra]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    ended = time.monotonic()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"check failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    requests = list(log)
    ops: dict[str, int] = {}
    for r in requests:
        ops[r.operation] = ops.get(r.operation, 0) + 1
    return Run(
        wall_s=ended - started,
        report_s=float(report["duration_s"]),
        calls=len(requests),
        chain=len(longest_chain(requests)),
        chain_ops=[f"{r.operation} @{r.arrived - started:.2f}s" for r in longest_chain(requests)],
        first_call_s=min(r.arrived for r in requests) - started,
        aws_s=max(r.answered for r in requests) - min(r.arrived for r in requests),
        after_s=ended - max(r.answered for r in requests),
        ops=ops,
        findings=sorted((f["check_id"], f["resource"], f["status"]) for f in report["results"]),
    )


def timed(cmd: list[str], reps: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, cwd=REPO)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="runs per mode (median)")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--filler", type=int, default=1050, help="unrelated SageMaker quotas")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hp-bench-"))
    log: list[Request] = []
    try:
        with moto_server() as moto:
            config, answers = build(moto, work, args.filler)
            delay = args.latency_ms / 1000
            aws = DelayProxy(forward_to(moto), delay, log)
            sq = DelayProxy(quota_backend(answers), delay, log)
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith("AWS_")
                and k.lower() not in ("http_proxy", "https_proxy")
                and k != "PYTHONDONTWRITEBYTECODE"  # an installed package has its .pyc files
            }
            env.update(FAKE_ENV)
            env.update(
                AWS_ENDPOINT_URL=aws.url,
                AWS_ENDPOINT_URL_SERVICE_QUOTAS=sq.url,
                PYTHONPATH=str(REPO),
            )

            def cache_env(name: str) -> dict[str, str]:
                return {**env, "XDG_CACHE_HOME": str(work / name)}

            modes: dict[str, list[Run]] = {
                k: [] for k in ("cold", "cached", "cold-c1", "cached-c1")
            }
            run_check(config, cache_env("warm"), log)  # learns the codes (and warms the OS)
            run_check(config, cache_env("warm-c1"), log)
            for i in range(args.reps):  # interleaved: load on the machine hits every mode
                shutil.rmtree(work / f"cold{i}", ignore_errors=True)
                modes["cold"].append(run_check(config, cache_env(f"cold{i}"), log))
                modes["cached"].append(run_check(config, cache_env("warm"), log))
                modes["cached-c1"].append(
                    run_check(config, cache_env("warm-c1"), log, "--concurrency", "1")
                )
                modes["cold-c1"].append(
                    run_check(config, cache_env(f"coldc1{i}"), log, "--concurrency", "1")
                )
            same = len({tuple(r.findings) for runs in modes.values() for r in runs}) == 1
            print(
                f"hp-preflight check examples/slurm-p5-cluster.json (--skip tools) over "
                f"moto_server, {args.latency_ms:g} ms per AWS call, {args.filler} unrelated "
                f"SageMaker quotas per listing; median of {args.reps}; interleaved"
            )
            header = (
                "| mode | wall (s) | report duration_s | AWS calls | round trips on the "
                "critical path | start → 1st call (s) | 1st call → last answer (s) | "
                "last answer → exit (s) |"
            )
            print()
            print(header)
            print("|" + "---|" * 8)
            for name, runs in modes.items():

                def med(attr: str, runs: list[Run] = runs) -> float:
                    return float(statistics.median(getattr(r, attr) for r in runs))

                print(
                    f"| {name} | {med('wall_s'):.2f} | {med('report_s'):.2f} | "
                    f"{med('calls'):.0f} | {med('chain'):.0f} | {med('first_call_s'):.2f} | "
                    f"{med('aws_s'):.2f} | {med('after_s'):.2f} |"
                )
            print()
            sq_ops = {
                op: n
                for op, n in modes["cached"][0].ops.items()
                if "ServiceQuota" in op or "Quotas" in op
            }
            print(f"cached run, Service Quotas calls: {sq_ops}")
            cold_sq = {
                op: n for op, n in modes["cold"][0].ops.items() if "Quotas" in op and "List" in op
            }
            print(f"cold run, quota listing pages: {cold_sq}")
            print(f"same findings in every run: {same}")
            print("critical path of the first cached run:", ", ".join(modes["cached"][0].chain_ops))
            cli = [sys.executable, "-m", "hyperpod_preflight.cli"]
            plain = timed([sys.executable, "-c", "pass"], args.reps, env)
            help_s = timed([*cli, "--help"], args.reps, env)
            plan_s = timed(
                [*cli, "plan", str(REPO / "examples/slurm-p5-cluster.json")], args.reps, env
            )
            line = (
                f"cold start (median of {args.reps}): python -c pass {plain:.2f} s, "
                f"hp-preflight --help {help_s:.2f} s, plan {plan_s:.2f} s"
            )
            aws_cli = shutil.which("aws")
            if aws_cli:
                line += f", aws --version {timed([aws_cli, '--version'], args.reps, env):.2f} s"
            print(line)
            return 0 if same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
