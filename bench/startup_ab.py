"""Start-up A/B: the commands of issue 18 that make no AWS call, timed for two checkouts in one
run, alternating, so that load on the machine hits both alike.

    python bench/startup_ab.py --before /tmp/before [--after .] [--reps 9]

``--before`` is another checkout of the project (e.g. ``git archive <commit> | tar -x -C
/tmp/before``), ``--after`` this one. Each command runs as a fresh ``python -m
hyperpod_preflight.cli`` with ``PYTHONPATH`` at the checkout, ``.pyc`` files compiled first
(``PYTHONDONTWRITEBYTECODE`` is dropped for the children), fake credentials and no network
use. Prints, per command and checkout, the median wall time and the median CPU (user + sys of
the child, from ``getrusage(RUSAGE_CHILDREN)`` deltas) and the least CPU of any run (the
figure least disturbed by other load), the after/before ratios, and the
modules a run imported (boto3, botocore, pydantic: yes/no; the number of check modules), and
the floors under them: ``python -c pass``, ``import click``, click with pydantic and one model
class, and that with yaml and ``botocore.model``/``validate`` (what the CreateCluster
validation imports).

Commands: ``check --config examples/slurm-p5-cluster.json --offline``, ``lifecycle lint
lifecycle/slurm``, ``--help`` and ``host`` (on a machine without GPUs the host checks say
UNKNOWN/SKIP: this measures its import and run cost, not a GPU node's reads).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS: dict[str, list[str]] = {
    "check --offline": ["check", "--config", "examples/slurm-p5-cluster.json", "--offline"],
    "lifecycle lint": ["lifecycle", "lint", "lifecycle/slurm"],
    "--help": ["--help"],
    "host": ["host"],
}
PROBE = (
    "import sys\n"
    "import hyperpod_preflight.cli as cli\n"
    "try:\n"  # main(argv) returns through SystemExit (the entry point leaves with os._exit)
    "    cli.main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "mods = sys.modules\n"
    "checks = [m for m in mods if m.startswith('hyperpod_preflight.checks.')]\n"
    "names = ('boto3', 'botocore', 'pydantic', 'tabulate', 'yaml')\n"
    "shown = ' '.join(f'{n}={n in mods}' for n in names)\n"
    "sys.stderr.write(f'\\nIMPORTED {shown} check_modules={len(checks)}\\n')\n"
)


# What any command pays before its own code: the floors the targets sit on.
FLOORS: dict[str, str] = {
    "python -c pass": "pass",
    "import click": "import click",
    "click + pydantic + one model class": (
        "import click\nfrom pydantic import BaseModel\nclass A(BaseModel):\n    x: int\n"
    ),
    "... + yaml + botocore.model/validate": (
        "import click, yaml\nfrom pydantic import BaseModel\nclass A(BaseModel):\n    x: int\n"
        "import botocore.model, botocore.validate\n"
    ),
}


def _env(checkout: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }
    env.update(
        PYTHONPATH=str(checkout),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # fake
        AWS_DEFAULT_REGION="us-west-2",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def _once(checkout: Path, args: list[str], code: str | None = None) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    argv = ["-c", code] if code is not None else ["-m", "hyperpod_preflight.cli", *args]
    subprocess.run(
        [sys.executable, *argv],
        cwd=checkout,  # `python -m`/`-c` put the working directory first on sys.path
        env=_env(checkout),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _imported(checkout: Path, args: list[str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=checkout,  # `python -m`/`-c` put the working directory first on sys.path
        env=_env(checkout),
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [x for x in done.stderr.splitlines() if x.startswith("IMPORTED ")]
    return lines[-1].removeprefix("IMPORTED ") if lines else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=REPO)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--only", nargs="*", default=list(COMMANDS))
    args = parser.parse_args()
    sides = {"before": args.before.resolve(), "after": args.after.resolve()}
    for checkout in sides.values():
        compileall.compile_dir(str(checkout / "hyperpod_preflight"), quiet=1)
    floors: dict[str, list[tuple[float, float]]] = {}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.reps):
        for name, code in FLOORS.items():
            floors.setdefault(name, []).append(_once(sides["after"], [], code))
        for name in args.only:
            for side, checkout in sides.items():
                results.setdefault((name, side), []).append(_once(checkout, COMMANDS[name]))
    load = os.getloadavg()
    print(
        f"{args.reps} runs each, alternating; load average {load[0]:.1f} {load[1]:.1f} "
        f"{load[2]:.1f} on {os.cpu_count()} cores; Python {sys.version.split()[0]}"
    )
    for name, runs in floors.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        least = min(c for _, c in runs)
        print(f"floor, {name}: wall {wall:.3f} s, CPU {cpu:.3f} s (least {least:.3f})")
    print(
        "| command | wall before (s) | wall after (s) | CPU before (s) | CPU after (s) "
        "| CPU after/before | least CPU before (s) | least CPU after (s) | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.only:
        wb = statistics.median(w for w, _ in results[(name, "before")])
        wa = statistics.median(w for w, _ in results[(name, "after")])
        cb = statistics.median(c for _, c in results[(name, "before")])
        ca = statistics.median(c for _, c in results[(name, "after")])
        lb = min(c for _, c in results[(name, "before")])
        la = min(c for _, c in results[(name, "after")])
        print(
            f"| `{name}` | {wb:.3f} | {wa:.3f} | {cb:.3f} | {ca:.3f} | {ca / cb:.2f} "
            f"| {lb:.3f} | {la:.3f} | {la / lb:.2f} |"
        )
    for name in args.only:
        for side, checkout in sides.items():
            print(f"{side:6s} {name}: {_imported(checkout, COMMANDS[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
