"""The deadline ends the process (issue 21): ``check --timeout 10`` against a silent IAM, a
silent Service Quotas, a silent EC2, and the VPC audit against a silent EC2, each a real
``hp-preflight`` process whose other endpoints are a ``moto_server`` on loopback. A silent
endpoint accepts the connection and never answers (botocore would wait 30 s per attempt).

With EC2 silent, the IAM and S3 checks still end with verdicts: reads are queued per
service, and a check waits only for its own reads.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLES

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
import test_e2e_moto_server
from test_e2e_moto_server import SCRIPT

moto_server = test_e2e_moto_server.moto_server  # the fixture, shared

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="hp-preflight is not installed")

CONFIG = EXAMPLES / "slurm-p5-cluster.json"
RUN_FLAGS = ("--region", "us-west-2", "--timeout", "10", "-o", "json")
ENDPOINT_VARIABLE = {
    "iam": "AWS_ENDPOINT_URL_IAM",
    "service-quotas": "AWS_ENDPOINT_URL_SERVICE_QUOTAS",
    "ec2": "AWS_ENDPOINT_URL_EC2",
}


@pytest.fixture(scope="module")
def silent() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    for conn in held:
        conn.close()
    server.close()


# Runs the CLI in a fresh interpreter, noting when the run starts (the deadline counts from
# there, not from the interpreter's start-up) and when the process exits.
PROBE = """
import atexit, sys, time
import hyperpod_preflight.runs.pipeline as pipeline
marks = {}
real = pipeline.run
def run(*args, **kwargs):
    marks["start"] = time.monotonic()
    return real(*args, **kwargs)
pipeline.run = run
atexit.register(lambda: print("EXIT", time.monotonic() - marks.get("start", 0.0), file=sys.stderr))
from hyperpod_preflight.cli import main
main(sys.argv[1:])
"""


def _run(args: list[str], moto: str, silent_url: str, service: str) -> tuple[float, int, dict]:
    """(seconds from the run's start to the process's exit, exit code, the JSON report)."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto,
        ENDPOINT_VARIABLE[service]: silent_url,
        "AWS_DEFAULT_REGION": "us-west-2",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args, *RUN_FLAGS],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    exits = [line for line in done.stderr.splitlines() if line.startswith("EXIT ")]
    took = float(exits[-1].split()[1])
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    return took, done.returncode, report


def _timed_out(report: dict, area: str) -> list[str]:
    return [
        r["check_id"]
        for r in report["results"]
        if r["area"] == area and "timed out" in r["message"]
    ]


@pytest.mark.parametrize("service", ["iam", "service-quotas", "ec2"])
def test_check_exits_within_a_second_of_the_deadline(
    moto_server: str,
    silent: str,
    service: str,
) -> None:
    took, code, report = _run(["check", "--config", str(CONFIG)], moto_server, silent, service)
    print(f"check --timeout 10, {service} silent: exit {code}, {took:.2f} s from run start to exit")
    assert code in (0, 1), report
    assert took <= 11, f"{service} silent: the process exited {took:.1f} s after the run began"
    if service == "ec2":  # the other services' checks are judged, not starved
        for area in ("iam", "s3"):
            assert _timed_out(report, area) == [], area
        # (the SageMaker quota checks wait on moto_server's own ListServiceQuotas for
        # sagemaker here, which does not answer within 10 s: not on EC2)


def test_vpc_audit_exits_within_a_second_of_the_deadline(
    moto_server: str,
    silent: str,
) -> None:
    took, code, report = _run(["--vpc", "vpc-0123456789abcdef0"], moto_server, silent, "ec2")
    print(f"--vpc audit --timeout 10, ec2 silent: exit {code}, {took:.2f} s from run start to exit")
    assert took <= 11, f"the audit's process exited {took:.1f} s after the run began"
    assert report["kind"] == "vpc"
    assert all("timed out" in r["message"] for r in report["results"])
