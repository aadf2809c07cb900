#!/usr/bin/env python3
"""``hp-preflight host --deep --output json`` on a GPU node, timed: wall time per step, every
figure against what the hardware should give, and whether each budget held.

    python3 bench/deep_run.py                      # budgets 60 s and 20 s
    python3 bench/deep_run.py --budgets 60 --out $OUT

Needs only what ``hp-preflight host`` needs (click, tabulate, PyYAML, pydantic, nvidia-ml-py)
plus torch; boto3 may be absent. Without pydantic importable, ``--wheels DIR`` (default
``.whl`` when it exists) installs the wheels found there into a private folder first.
Run from the repository root: it puts the root on PYTHONPATH for the child.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _ensure_wheels(wheels: Path | None) -> dict[str, str]:
    """The child's environment: the repository (and wheels installed from ``wheels``, when
    pydantic is missing) on PYTHONPATH."""
    paths = [str(REPO)]
    try:
        import pydantic  # noqa: F401
    except ImportError:
        folder = wheels or (REPO / ".whl")
        found = sorted(folder.glob("*.whl")) if folder.is_dir() else []
        if not found:
            sys.exit("pydantic is not importable and no wheels were found (--wheels DIR)")
        target = Path("/tmp/hp-deep-site")
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps"),
                *("--upgrade", "--target", str(target), *map(str, found)),
            ],
            check=True,
        )
        paths.append(str(target))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, int, str, str]:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, proc.returncode, proc.stdout, proc.stderr


def _figures(report: dict[str, object]) -> list[str]:
    facts = report.get("facts") or {}
    assert isinstance(facts, dict)
    deep = facts.get("deep") or {}
    lines = []
    for finding in report.get("results") or []:  # type: ignore[union-attr]
        if str(finding["check_id"]).startswith("host.deep-"):
            lines.append(
                f"  {finding['status']:<7} {finding['check_id']:<27} {finding['resource']}: "
                f"{finding['message']}"
            )
    if isinstance(deep, dict):
        lines.append(
            f"  backend {deep.get('backend')} {deep.get('backend_version')}, "
            f"xid source {(deep.get('xid') or {}).get('source')}"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="60,20", help="comma-separated --deep-seconds")
    parser.add_argument("--wheels", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "")) or None)
    args = parser.parse_args()
    env = _ensure_wheels(args.wheels)
    python = sys.executable
    base = [python, "-m", "hyperpod_preflight.cli", "host"]
    summary: dict[str, object] = {"python": sys.version.split()[0], "runs": []}

    plain = [_run([*base, "--output", "json"], env)[0] for _ in range(5)]
    summary["plain_host_median_s"] = round(statistics.median(plain), 3)
    print(f"hp-preflight host (no --deep): median {statistics.median(plain):.2f} s of 5")

    for budget in [float(b) for b in args.budgets.split(",") if b.strip()]:
        argv = [*base, "--deep", "--deep-seconds", f"{budget:g}", "--output", "json"]
        wall, code, stdout, stderr = _run(argv, env)
        print(f"\n## --deep --deep-seconds {budget:g}: exit {code}, wall {wall:.1f} s")
        try:
            report = json.loads(stdout)
        except ValueError:
            print(f"no JSON report; stderr:\n{stderr[-3000:]}")
            summary["runs"].append({"budget_s": budget, "exit": code, "error": stderr[-2000:]})  # type: ignore[union-attr]
            continue
        deep = report["facts"].get("deep") or {}
        steps = deep.get("steps") or []
        for step in steps:
            note = f"  ({step['note']})" if step.get("note") else ""
            print(f"  {step['seconds']:7.2f} s  {step['status']:<8} {step['name']}{note}")
        measured = deep.get("elapsed_s")
        held = "n/a: nothing measured" if measured is None else str(measured <= budget + 5)
        if deep.get("reason"):
            print(f"  not measured: {deep['reason']}")
        print(
            f"  measurements {measured} s of a {budget:g} s budget; the whole command "
            f"{wall:.1f} s (budget held: {held})"
        )
        print("\n".join(_figures(report)))
        summary["runs"].append(  # type: ignore[union-attr]
            {
                "budget_s": budget,
                "exit": code,
                "wall_s": round(wall, 2),
                "measured_s": measured,
                "steps": steps,
                "gpus": deep.get("gpus"),
                "pairs": deep.get("pairs"),
                "nccl": deep.get("nccl"),
                "xid": deep.get("xid"),
                "reason": deep.get("reason"),
            }
        )
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"deep-{budget:g}s.json").write_text(stdout)
    if args.out:
        (args.out / "deep_run_summary.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
