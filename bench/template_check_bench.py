"""Wall time of `hp-preflight check --offline --config TEMPLATE` on a CloudFormation template
(the nested-stack-style test fixture), against the same check of its CreateCluster JSON twin
and against `python -c pass`, each in a fresh interpreter. Prints the medians, the template's
share of the run (template / JSON) and whether the template run stays under 0.5 s, in wall
time and in CPU time (user + system of the run and its children: the honest figure on a
shared machine, where wall time mostly measures the queue for a core).

Run: python bench/template_check_bench.py [-n 15]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "tests" / "spec" / "iac" / "eks-cluster-stack.yaml"
TARGET_S = 0.5
PARAMETERS = [
    "--parameter",
    "SecurityGroupId=sg-0a1b2c3d4e5f60718",
    "--parameter",
    "AWS::AccountId=123456789012",
    "--parameter",
    "AWS::Region=us-west-2",
]


def median_runtime(args: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system of the child) of ``args``."""
    walls, cpus = [], []
    for _ in range(runs + 1):  # the first run writes the bytecode cache, as an install does
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO, env=env
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr!r}")
        walls.append(wall)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls[1:]), statistics.median(cpus[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=15)
    runs = parser.parse_args().runs
    cli = [sys.executable, "-m", "hyperpod_preflight.cli", "check", "--offline"]
    sys.path.insert(0, str(REPO))
    from hyperpod_preflight.spec import load_spec

    twin = load_spec(TEMPLATE, parameters=dict(p.split("=", 1) for p in PARAMETERS[1::2]))
    with tempfile.TemporaryDirectory() as tmp:
        # an installed package has its bytecode: cache it (outside the tree) even where
        # PYTHONDONTWRITEBYTECODE is set
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        json_path = Path(tmp) / "cluster.json"
        json_path.write_text(json.dumps(twin.raw))
        rows = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "check --offline --config <CreateCluster JSON>": [*cli, "--config", str(json_path)],
            "check --offline --config <template.yaml>": [
                *cli, "--config", str(TEMPLATE), *PARAMETERS
            ],
            # the same without the probes of local tools (subprocesses such as `aws --version`)
            "... --skip tools --config <template.yaml>": [
                *cli, "--skip", "tools", "--config", str(TEMPLATE), *PARAMETERS
            ],
        }  # fmt: skip
        times = {name: median_runtime(args, runs, env) for name, args in rows.items()}
    print(f"runs per command: {runs} (medians, fresh interpreter each; CPU = user + system)")
    for name, (wall, cpu) in times.items():
        print(f"{name:47}: wall {wall * 1000:7.1f} ms   CPU {cpu * 1000:7.1f} ms")
    template_wall, template_cpu = times["check --offline --config <template.yaml>"]
    json_wall, json_cpu = times["check --offline --config <CreateCluster JSON>"]
    print(f"{'template / JSON ratio':47}: wall {template_wall / json_wall:7.2f}      "
          f"CPU {template_cpu / json_cpu:7.2f}")  # fmt: skip
    for name in (
        "check --offline --config <template.yaml>",
        "... --skip tools --config <template.yaml>",
    ):
        for what, value in zip(("wall", "CPU"), times[name], strict=True):
            verdict = "under" if value < TARGET_S else "OVER"
            print(f"{name}: {what} time {verdict} the {TARGET_S:.1f} s target")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
