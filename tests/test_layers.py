"""The one-way layers of DESIGN.md, enforced: an AST walk over the package's imports, and
fresh interpreters proving the commands that need no AWS never import boto3."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

PACKAGE = REPO / "hyperpod_preflight"


def _module_name(path: Path, repo: Path = REPO) -> str:
    rel = path.relative_to(repo).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, repo: Path = REPO) -> list[str]:
    """Absolute names of every module ``path`` imports (TYPE_CHECKING blocks included)."""
    tree = ast.parse(path.read_text())
    me = _module_name(path, repo).split(".")
    package = me if path.name == "__init__.py" else me[:-1]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            found.append(stem)
            found += [f"{stem}.{a.name}" for a in node.names]
    return found


def _registers_checks(path: Path) -> bool:
    return "@check(" in path.read_text()


def _violations(repo: Path = REPO) -> list[str]:
    bad: list[str] = []
    for path in sorted((repo / "hyperpod_preflight").rglob("*.py")):
        name = _module_name(path, repo)
        imported = _imports(path, repo)

        def hits(*prefixes: str, names: list[str] = imported) -> list[str]:
            return sorted(
                {i for i in names if any(i == p or i.startswith(p + ".") for p in prefixes)}
            )

        if name.startswith("hyperpod_preflight.checks"):
            for i in hits("hyperpod_preflight.facts", "boto3", "botocore"):
                bad.append(f"{name} imports {i} (checks read through ctx.aws only)")
            if _registers_checks(path):
                own = name.rsplit(".", 1)[0] if path.name != "__init__.py" else name
                for i in hits("hyperpod_preflight.checks"):
                    target = i
                    target_path = repo / (target.replace(".", "/") + ".py")
                    if (
                        target_path.exists()
                        and target_path != path
                        and _registers_checks(target_path)
                        and not target.startswith(own + "._")
                    ):
                        bad.append(f"{name} imports check module {i}")
        if name.startswith("hyperpod_preflight.analysis"):
            for i in hits(
                "hyperpod_preflight.facts", "hyperpod_preflight.checks", "boto3", "botocore"
            ):
                bad.append(f"{name} imports {i} (analysis is pure)")
        if name in ("hyperpod_preflight.planner",) or name.startswith("hyperpod_preflight.spec"):
            for i in hits("hyperpod_preflight.facts", "hyperpod_preflight.checks", "boto3"):
                bad.append(f"{name} imports {i}")
        if name.startswith("hyperpod_preflight.facts"):
            for i in hits("hyperpod_preflight.cli", "hyperpod_preflight.render"):
                bad.append(f"{name} imports {i} (facts never depend on the CLI)")
    return bad


def test_imports_only_point_down_the_layers() -> None:
    assert _violations() == []


def test_the_import_rule_names_each_kind_of_violation(tmp_path: Path) -> None:
    pkg = tmp_path / "hyperpod_preflight"
    (pkg / "checks" / "network").mkdir(parents=True)
    (pkg / "analysis").mkdir()
    (pkg / "facts").mkdir()
    (pkg / "checks" / "quotas.py").write_text(
        "from ..facts.core import classify\nfrom .network.vpc import x\n@check(1)\ndef f(): ...\n"
    )
    (pkg / "checks" / "network" / "vpc.py").write_text("@check(1)\ndef x(): ...\n")
    (pkg / "checks" / "network" / "_common.py").write_text("A = 1\n")
    (pkg / "checks" / "network" / "egress.py").write_text(
        "from ._common import A\n@check(1)\ndef g(): ...\n"
    )
    (pkg / "analysis" / "iam.py").write_text("import boto3\n")
    (pkg / "facts" / "core.py").write_text("from ..render import render\n")
    (pkg / "planner.py").write_text("from .facts import AwsFacts\n")
    found = _violations(tmp_path)
    hp = "hyperpod_preflight"
    assert f"{hp}.checks.quotas imports {hp}.facts.core (checks read through ctx.aws only)" in found
    assert f"{hp}.checks.quotas imports check module {hp}.checks.network.vpc" in found
    assert not any("egress" in v for v in found)  # a package's own _common is fine
    assert any(v.startswith("hyperpod_preflight.analysis.iam imports boto3") for v in found)
    assert any(
        v.startswith("hyperpod_preflight.facts.core imports hyperpod_preflight.render")
        for v in found
    )
    assert any(
        v.startswith("hyperpod_preflight.planner imports hyperpod_preflight.facts") for v in found
    )


_PROBE = """
import sys
from hyperpod_preflight.cli import main
try:
    main({argv!r}[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
import json
print(json.dumps({{"boto3": "boto3" in sys.modules, "code": code}}), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["hp-preflight", "list-checks"],
        ["hp-preflight", "plan", str(EXAMPLES / "slurm-p5-cluster.json")],
        ["hp-preflight", "check", "--offline", "--config", str(EXAMPLES / "slurm-p5-cluster.json")],
    ],
    ids=["list-checks", "plan", "check-offline"],
)
def test_commands_that_need_no_aws_never_import_boto3(argv: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    last = proc.stderr.strip().splitlines()[-1]
    result = json.loads(last)
    assert result["code"] in (0, 1), proc.stderr
    assert result["boto3"] is False, f"{argv[1]} imported boto3"
