"""End to end, as a user runs it: ``moto_server`` on loopback (a subprocess), an account built
over HTTP with boto3, and the installed ``hp-preflight`` console script run as a subprocess
with ``AWS_ENDPOINT_URL``.

moto has no Service Quotas for ``sagemaker``: a small HTTP server on another loopback port
answers ``AWS_ENDPOINT_URL_SERVICE_QUOTAS`` with the sandbox's own quota answers (the account's
quotas sized for the config), so the quota checks are judged, not skipped. moto_server lacks
IAM's policy simulator, so ``iam.caller-permissions`` is UNKNOWN there (never FAIL).
Every test is bounded in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import REPO

from hyperpod_preflight.sandbox import example_config, parse_defects
from hyperpod_preflight.sandbox.answers import SandboxAnswers
from hyperpod_preflight.sandbox.blueprint import Blueprint, blueprint_with
from hyperpod_preflight.sandbox.build import build_account
from hyperpod_preflight.sandbox.run import sandbox_quotas

REGION = "us-west-2"
SCRIPT = Path(sys.executable).with_name("hp-preflight")
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="hp-preflight is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class QuotaServer:
    """Service Quotas over HTTP, answered by :class:`SandboxAnswers` (set ``answers``)."""

    def __init__(self) -> None:
        self.answers: SandboxAnswers | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                target = self.headers.get("X-Amz-Target", "")
                operation = target.rsplit(".", 1)[-1]
                answer = (
                    outer.answers.answer("service-quotas", operation, body)
                    if outer.answers
                    else None
                )
                status, headers, data = (
                    (answer.status, answer.headers, answer.body)
                    if answer
                    else (400, {"Content-Type": "application/x-amz-json-1.1"}, b"{}")
                )
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture(scope="module")
def quota_server() -> Iterator[QuotaServer]:
    server = QuotaServer()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def cli_env(endpoint: str, quotas: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "PYTHONPATH": str(REPO),  # this checkout's package, also where another is installed
        }
    )
    if quotas:
        env["AWS_ENDPOINT_URL_SERVICE_QUOTAS"] = quotas
    return env


def hp_preflight(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def prepare(moto: str, quotas: QuotaServer, blueprint: Blueprint, tmp_path: Path) -> Path:
    """A fresh moto_server account built for the Slurm example; the config file naming it."""
    reset = urllib.request.Request(f"{moto}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=30):
        pass
    session = boto3.Session(region_name=REGION)
    saved = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = moto
    try:
        build = build_account(session, example_config(), blueprint)
    finally:
        if saved is not None:
            os.environ["AWS_ENDPOINT_URL"] = saved
    quotas.answers = SandboxAnswers(
        region=REGION,
        account="123456789012",
        quotas=sandbox_quotas(build.spec, build.plan, blueprint),
    )
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(build.config))
    return path


def test_clean_account_over_http_passes(
    moto_server: str, quota_server: QuotaServer, tmp_path: Path
) -> None:
    config = prepare(moto_server, quota_server, Blueprint(), tmp_path)
    proc = hp_preflight(
        ["check", "--config", str(config), "-o", "json"], cli_env(moto_server, quota_server.url)
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
    report = json.loads(proc.stdout)
    assert not [r for r in report["results"] if r["status"] == "FAIL"]
    quota_statuses = {r["status"] for r in report["results"] if r["area"] == "quotas"}
    assert quota_statuses == {"PASS"}  # answered over HTTP, not skipped


@pytest.mark.parametrize(
    "name",
    ["sg-no-self-ingress", "small-subnet", "role-missing-trust", "crlf-script", "quota-too-low"],
)
def test_planted_defect_over_http_fails(
    name: str, moto_server: str, quota_server: QuotaServer, tmp_path: Path
) -> None:
    (defect,) = parse_defects([name])
    config = prepare(moto_server, quota_server, blueprint_with([defect]), tmp_path)
    proc = hp_preflight(
        ["check", "--config", str(config), "-o", "json"], cli_env(moto_server, quota_server.url)
    )
    assert proc.returncode == 1, proc.stderr
    failed = {r["check_id"] for r in json.loads(proc.stdout)["results"] if r["status"] == "FAIL"}
    assert defect.check_id in failed


def one_line_exit_3(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 3, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("hp-preflight: error:"), proc.stderr
    assert proc.stdout == ""


def test_closed_port_is_exit_3_in_one_line_quickly() -> None:
    port = free_port()  # bound, then closed: nothing listens there
    started = time.monotonic()
    proc = hp_preflight(
        ["check", "--config", str(REPO / "examples" / "slurm-p5-cluster.json")],
        cli_env(f"http://127.0.0.1:{port}"),
        timeout=30,
    )
    assert time.monotonic() - started < 15
    one_line_exit_3(proc)
    assert "cannot reach" in proc.stderr


def test_silent_port_is_exit_3_within_the_documented_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # connections complete in the backlog; nobody ever answers
        port = listener.getsockname()[1]
        started = time.monotonic()
        proc = hp_preflight(
            ["check", "--config", str(REPO / "examples" / "slurm-p5-cluster.json")],
            cli_env(f"http://127.0.0.1:{port}"),
            timeout=60,
        )
        took = time.monotonic() - started
    one_line_exit_3(proc)
    # README: 2 attempts x 5 s read timeout plus back-off, about 11 s; allow start-up time
    assert took < 25, took


def test_second_run_reads_quotas_by_cached_code(
    moto_server: str, quota_server: QuotaServer, tmp_path: Path
) -> None:
    """Two `check` runs sharing the per-user cache: the second pages no quota listing and
    finds the same; `--no-cache` pages them again."""
    config = prepare(moto_server, quota_server, Blueprint(), tmp_path)
    env = cli_env(moto_server, quota_server.url)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    args = ["check", "--config", str(config), "-o", "json", "--skip", "tools"]
    answers = quota_server.answers
    assert answers is not None

    def findings() -> tuple[dict[str, int], list[tuple[str, str, str, str]]]:
        answers.seen.clear()
        proc = hp_preflight(args, env)
        assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
        results = json.loads(proc.stdout)["results"]
        seen = dict(answers.seen)
        return seen, sorted(
            (r["check_id"], r["resource"], r["status"], r["message"]) for r in results
        )

    cold_calls, cold = findings()
    assert cold_calls.get("ListServiceQuotas", 0) >= 1
    assert (tmp_path / "cache" / "hyperpod-preflight" / "quota-codes.json").is_file()
    warm_calls, warm = findings()
    assert warm == cold
    assert "ListServiceQuotas" not in warm_calls
    assert "ListAWSDefaultServiceQuotas" not in warm_calls
    assert warm_calls.get("GetServiceQuota", 0) >= 3
    args.append("--no-cache")
    again_calls, again = findings()
    assert again == cold and again_calls.get("ListServiceQuotas", 0) >= 1
