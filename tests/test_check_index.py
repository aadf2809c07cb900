"""The static check index (``check_index.py``) that lets a run select and list checks without
importing every check module: it must say exactly what the registry says, and a run must import
only the modules of the checks it judges."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import EXAMPLES, REPO

from hyperpod_preflight import registry
from hyperpod_preflight.check_index import CHECK_INDEX
from hyperpod_preflight.models import Outcome, Severity, passed
from hyperpod_preflight.registry import CheckContext, check, known_checks, load_for

REGENERATE = (
    "hyperpod_preflight/check_index.py is stale (a check was added, removed, moved or retitled): "
    "python -c 'import hyperpod_preflight.registry as r; r.write_index()' && "
    "ruff format hyperpod_preflight/check_index.py"
)


def test_the_index_matches_the_registry() -> None:
    entries = registry.index_entries()
    stale = sorted(k for k in {*entries, *CHECK_INDEX} if entries.get(k) != CHECK_INDEX.get(k))
    assert stale == [], f"{REGENERATE}; differing: {', '.join(stale)}"


def test_known_checks_are_all_checks_with_the_same_info() -> None:
    for kind in ("cluster", "diagnose", "vpc", "host"):
        known = known_checks(kind)
        real = registry.all_checks(kind)
        assert [c.check_id for c in known] == [c.check_id for c in real]
        assert [c.info for c in known] == [c.info for c in real]
        assert [c.declares_needs for c in known] == [c.declares_needs for c in real]
        assert [c.summary for c in known] == [c.summary for c in real]


def test_a_check_registered_outside_the_index_is_known_too() -> None:
    def judge(ctx: CheckContext) -> list[Outcome]:
        return [passed("x", "fine")]

    check("config.test-index-extra", "extra", Severity.LOW, needs_aws=False)(judge)
    try:
        known = {c.check_id: c for c in known_checks("cluster")}
        assert known["config.test-index-extra"].fn is judge
        assert load_for([known["config.test-index-extra"]])[0].fn is judge
    finally:
        registry._REGISTRY.pop("config.test-index-extra")


_PROBE = """
import json, sys
from hyperpod_preflight.registry import known_checks, load_for
before = {m for m in sys.modules if m.startswith("hyperpod_preflight.checks.")}
known = {c.check_id: c for c in known_checks("cluster")}
after_known = {m for m in sys.modules if m.startswith("hyperpod_preflight.checks.")}
(real,) = load_for([known["config.unique-group-names"]])
loaded = sorted(m for m in sys.modules if m.startswith("hyperpod_preflight.checks."))
print(json.dumps([sorted(before), sorted(after_known), loaded, real.fn.__module__]))
"""


def test_listing_imports_no_check_module_and_loading_imports_only_its_own() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    before, after_known, loaded, module = json.loads(out)
    assert before == [] and after_known == []
    assert module == "hyperpod_preflight.checks.config.groups"
    assert all(
        m.startswith("hyperpod_preflight.checks.config")
        or m in ("hyperpod_preflight.checks._common", "hyperpod_preflight.checks._needs")
        for m in loaded
    ), loaded


def test_an_offline_check_imports_no_module_of_a_check_that_needs_aws() -> None:
    probe = (
        "import sys\n"
        "from hyperpod_preflight.cli.main import main\n"
        "try:\n"
        f"    main(['check', '--config', {str(EXAMPLES / 'slurm-p5-cluster.json')!r}, "
        "'--offline', '-o', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(m for m in sys.modules if m.startswith('hyperpod_preflight.checks.')),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
    )
    imported = set(done.stderr.split())
    report = json.loads(done.stdout)
    assert {r["check_id"] for r in report["results"]} == {
        c
        for c, row in CHECK_INDEX.items()
        if c.split(".")[0] not in ("host", "vpc", "cluster", "tools")
    }
    aws_only = {row[0] for row in CHECK_INDEX.values() if row[3]} - {
        row[0] for row in CHECK_INDEX.values() if not row[3]
    }
    for module in ("hyperpod_preflight.checks.quotas", "hyperpod_preflight.checks.capacity"):
        assert module in aws_only
        assert module not in imported
