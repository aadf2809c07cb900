#!/bin/bash
# Host checks on a real GPU node: host tests under the node's Python, the p5 expectations, a
# checkpoint run with --measure-bandwidth, and start-up timing of `host` A/B: this checkout
# against an older one unpacked in .before/ (e.g. `git archive <commit> hyperpod_preflight
# pyproject.toml | tar -x -C .before`), interleaved (REPS, default 11; QUICK=1 skips the bandwidth
# run). Writes $OUT/final.txt and $OUT/p5.json.
# The node's Python lacks pydantic, boto3, pytest, …: put their wheels (for that Python) in
# .whl/ at the repository root (both ignored by git; carry them: carry=[".whl", ".before"]).
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 3
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
python3 -m compileall -q /tmp/site hyperpod_preflight .before >/dev/null 2>&1
H="python3 -m hyperpod_preflight.cli host"
{
  python3 --version; nvidia-smi -L; nproc
  echo "## host tests"; python3 -m pytest -q -o addopts="" -p no:cacheprovider -p no:randomly tests/host 2>&1 | tail -15
  echo "## p5 json"; $H --profile hyperpod-node --instance-type ml.p5.48xlarge --output json > $OUT/p5.json; echo "rc=$?"
  python3 -c "
import json; r=json.load(open('$OUT/p5.json'))
print(r['summary'])
for f in r['results']:
    if f['status'] in ('FAIL','WARN','UNKNOWN'): print(f['status'], f['check_id'], f['resource'], '|', f['message'][:160])"
  if [ -z "$QUICK" ]; then echo "## checkpoint --measure-bandwidth"; $H --profile checkpoint --measure-bandwidth | tail -8; echo "rc=$?"; fi
  echo "## timing (A/B interleaved; wall and CPU of the child)"; python3 - <<'PY'
import os, resource, statistics, subprocess, sys, time
site = "/tmp/site"
trees = {"after": os.getcwd()}
if os.path.isdir(".before/hyperpod_preflight"):
    trees["before"] = os.path.abspath(".before")
cmds = {
    "python3 -c pass": ["-c", "pass"],
    "host": ["-m", "hyperpod_preflight.cli", "host"],
    "host --instance-type ml.p5.48xlarge": ["-m", "hyperpod_preflight.cli", "host", "--instance-type", "ml.p5.48xlarge"],
    "host -o json": ["-m", "hyperpod_preflight.cli", "host", "-o", "json"],
}
probe = "import sys, hyperpod_preflight.cli as c\ntry: c.main(['host'])\nexcept SystemExit: pass\nsys.stderr.write('PYDANTIC=%s\\n' % ('pydantic' in sys.modules))"
for tree, path in trees.items():
    env = {**os.environ, "PYTHONPATH": f"{site}:{path}"}
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=path)
    print(tree, r.stderr.strip().splitlines()[-1])
res = {}
for _ in range(int(os.environ.get('REPS', '11'))):
    for name, args in cmds.items():
        for tree, path in trees.items():
            env = {**os.environ, "PYTHONPATH": f"{site}:{path}"}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run([sys.executable, *args], capture_output=True, env=env, cwd=path)
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            res.setdefault((name, tree), []).append((wall, cpu))
print("| command | tree | wall median (s) | wall min (s) | CPU median (s) |")
print("|---|---|---|---|---|")
for (name, tree), xs in res.items():
    w = [x[0] for x in xs]; c = [x[1] for x in xs]
    print(f"| `{name}` | {tree} | {statistics.median(w):.3f} | {min(w):.3f} | {statistics.median(c):.3f} |")
PY
  echo "## inventory"; $H inventory | head -30
} > $OUT/final.txt 2>&1
cat $OUT/final.txt | tail -60
