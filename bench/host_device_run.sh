#!/bin/bash
# Host checks on a real GPU node: host tests under the node's Python, the two issue-4 commands
# (p5 expectations, checkpoint with --measure-bandwidth) and timing of a plain run. Writes to $OUT.
# The node needs pydantic: put its wheels (for the node's Python) in .whl/ at the repository root.
python3 -m pip install -q --no-index --no-deps --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 3
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
python3 -m compileall -q /tmp/site hyperpod_preflight >/dev/null 2>&1
H="python3 -m hyperpod_preflight.cli host"
{
  python3 --version; nvidia-smi -L
  echo "## host tests"; python3 -m pytest -q -o addopts="" -p no:cacheprovider tests/host 2>&1 | tail -3
  echo "## p5 json"; $H --profile hyperpod-node --instance-type ml.p5.48xlarge --output json > $OUT/p5.json; echo "rc=$?"
  python3 -c "
import json; r=json.load(open('$OUT/p5.json'))
print(r['summary'])
for f in r['results']:
    if f['status'] in ('FAIL','WARN','UNKNOWN'): print(f['status'], f['check_id'], f['resource'], '|', f['message'])"
  echo "## checkpoint --measure-bandwidth"; $H --profile checkpoint --measure-bandwidth; echo "rc=$?"
  echo "## timing"; python3 - <<'PY'
import statistics, subprocess, sys, time
def med(cmd, n):
    w = []
    for _ in range(n):
        t = time.perf_counter(); subprocess.run(cmd, capture_output=True); w.append(time.perf_counter() - t)
    return round(statistics.median(w), 3), round(min(w), 3), round(max(w), 3)
py = sys.executable
print("python3 -c pass (median,min,max)", med([py, "-c", "pass"], 9))
print("hp-preflight host, hyperpod-node (median,min,max of 11)", med([py, "-m", "hyperpod_preflight.cli", "host"], 11))
print("hp-preflight host -o json --instance-type ml.p5.48xlarge", med([py, "-m", "hyperpod_preflight.cli", "host", "-o", "json", "--instance-type", "ml.p5.48xlarge"], 11))
PY
  echo "## inventory"; $H inventory | head -40
} > $OUT/final.txt 2>&1
echo done
