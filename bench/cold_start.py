"""Cold-start time of the CLI: `hp-preflight --help` and `hp-preflight plan EXAMPLE`.

Each command runs in a fresh interpreter N times; prints the median and the ratio of the two.
Run: python bench/cold_start.py [-n 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "slurm-p5-cluster.json"


def median_runtime(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=15)
    runs = parser.parse_args().runs
    cli = [sys.executable, "-m", "hyperpod_preflight.cli"]
    baseline = median_runtime([sys.executable, "-c", "pass"], runs)
    help_s = median_runtime([*cli, "--help"], runs)
    plan_s = median_runtime([*cli, "plan", str(EXAMPLE)], runs)
    boto = (
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, hyperpod_preflight.cli as c;"
                "c.cli.main(['--help'], standalone_mode=False);"
                "print(*(m in sys.modules for m in ('boto3', 'botocore', 'pydantic')))",
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    print(f"runs per command: {runs} (median wall time, fresh interpreter each)")
    print(f"python -c pass        : {baseline * 1000:7.1f} ms")
    print(f"hp-preflight --help   : {help_s * 1000:7.1f} ms")
    print(f"hp-preflight plan ... : {plan_s * 1000:7.1f} ms")
    print(f"plan / help ratio     : {plan_s / help_s:7.2f}")
    print(f"--help imports boto3, botocore, pydantic: {boto}")


if __name__ == "__main__":
    main()
