"""Where the CPU of one `hp-preflight check --config X --skip tools` goes, against the same
loopback account as ``speed_table.py`` (moto_server + quota answers behind a proxy).

    python bench/profile_check.py [--latency-ms 0] [--top 25]

Runs the check twice as a fresh process (the first run learns the quota codes) and profiles
the second with cProfile in every thread, each on its own CPU clock (``time.thread_time``),
merged; then prints the functions with the most cumulative CPU and a summary by kind
(imports, botocore client creation, service-model loading, answers' parsing, the protocol
guard, signing, the gathering, pydantic model building).
"""

from __future__ import annotations

import argparse
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from critical_path_bench import (
    FAKE_ENV,
    REPO,
    DelayProxy,
    Request,
    build,
    forward_to,
    moto_server,
    quota_backend,
)

PROFILED = """
import cProfile, pstats, sys, threading, time
sys.argv = ["hp-preflight", *sys.argv[2:]]
# Every thread profiled on its own CPU clock (time.thread_time): the reader threads (client
# creation, requests, parsing) and the check threads, not only the main thread.
profiles = []
lock = threading.Lock()
run = threading.Thread.run
def profiled_run(self):
    profile = cProfile.Profile(time.thread_time)
    with lock:
        profiles.append(profile)
    profile.enable()
    try:
        run(self)
    finally:
        profile.disable()
threading.Thread.run = profiled_run
main_profile = cProfile.Profile(time.thread_time)
profiles.append(main_profile)
main_profile.enable()
try:
    from hyperpod_preflight.cli.main import main
    main()
except SystemExit:
    pass
finally:
    main_profile.disable()
    merged = None
    with lock:
        done = list(profiles)
    for profile in done:
        profile.disable()  # a daemon thread still waiting: what it did so far
        profile.create_stats()
        if not profile.stats:
            continue
        if merged is None:
            merged = pstats.Stats(profile)
        else:
            merged.add(profile)
    merged.dump_stats(OUT)
"""

# (label, substring of "file:line(function)") — cumulative CPU of the first match per label
KINDS = [
    ("all imports", "<frozen importlib._bootstrap>:1165(_find_and_load)"),
    ("botocore client creation", "botocore/session.py", "(create_client)"),
    ("botocore service-model loading", "botocore/loaders.py", "(load_service_model)"),
    ("botocore endpoint rule resolution", "botocore/regions.py", "(construct_endpoint)"),
    ("botocore answer parsing", "botocore/parsers.py", "(parse)"),
    ("botocore API calls (serialize, sign, send, parse)", "botocore/client.py", "(_make_api_call)"),
    ("protocol guard", "facts/protocol.py", "(__call__)"),
    ("request signing", "botocore/auth.py", "(add_auth)"),
    ("gathering (needs, follow-ups, views)", "runs/gather.py", "(gather_for)"),
    ("pydantic model classes built", "_model_construction.py", "(__new__)"),
    ("regular expressions compiled", "re/__init__.py", "(_compile)"),
    ("config validation (load_specs)", "spec/load.py", "(load_specs)"),
    ("rendering the report", "hyperpod_preflight/render.py", "(render_report)"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hp-profile-"))
    log: list[Request] = []
    try:
        with moto_server() as moto:
            config, answers = build(moto, work, 1050)
            aws = DelayProxy(forward_to(moto), args.latency_ms / 1000, log)
            sq = DelayProxy(quota_backend(answers), args.latency_ms / 1000, log)
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith("AWS_") and k != "PYTHONDONTWRITEBYTECODE"
            }
            env.update(FAKE_ENV, PYTHONPATH=str(REPO), XDG_CACHE_HOME=str(work / "cache"))
            env.update(AWS_ENDPOINT_URL=aws.url, AWS_ENDPOINT_URL_SERVICE_QUOTAS=sq.url)
            out = work / "check.prof"
            cmd = [sys.executable, "-c", PROFILED.replace("OUT", repr(str(out))), "-"]
            cmd += ["check", "--config", str(config), "--skip", "tools", "-o", "json"]
            for _ in range(2):
                log.clear()
                subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, check=True)
            stats = pstats.Stats(str(out))
            # A pool thread still waiting for work at exit is stopped from the main thread,
            # whose clock then charges its wait to the queue's get: not CPU, left out.
            total = sum(
                v[2]
                for (path, _line, name), v in stats.stats.items()  # type: ignore[attr-defined]
                if "SimpleQueue" not in name
            )
            print(
                f"CPU of the profiled run, every thread on its own clock (cProfile on, so "
                f"inflated): {total:.2f} s"
            )
            print(f"AWS requests of that run: {len(log)}")
            for label, *parts in KINDS:
                cum = [
                    v[3]
                    for (path, line, name), v in stats.stats.items()  # type: ignore[attr-defined]
                    if all(p in f"{path}:{line}({name})" for p in parts)
                ]
                value = max(cum) if cum else 0.0
                print(f"  {label}: {value:.2f} s ({100 * value / total:.0f} %)")
            print()
            stats.sort_stats("cumulative").print_stats(args.top)
            return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
