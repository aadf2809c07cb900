"""The one-way layers of DESIGN.md, enforced: an AST walk over the package's imports, and
fresh interpreters proving the commands that need no AWS never import boto3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from layering import layer_of, module_name, violations

PACKAGE = REPO / "hyperpod_preflight"


def _violations(repo: Path = REPO) -> list[str]:
    return [str(v) for v in violations(repo)]


def test_imports_only_point_down_the_layers() -> None:
    """No known debt is allowed: every module of the package keeps to the table."""
    assert _violations() == []


def test_every_module_has_a_layer() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        assert layer_of(module_name(path, REPO)) is not None, path


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "hyperpod_preflight" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            init = root / parent / "__init__.py"
            if parent != Path(".") and not init.exists():
                init.write_text("")
        path.write_text(text)
    return root


# A small clean tree: each case below adds one violation to it.
_CLEAN = {
    "errors.py": "class InputError(Exception): ...\n",
    "registry.py": "from .errors import InputError\n",
    "analysis/network.py": "from ..errors import InputError\n",
    "checks/network/vpc.py": "from ...registry import InputError\n@check(1)\ndef x(): ...\n",
    "checks/network/_common.py": "A = 1\n",
    "checks/network/egress.py": "from ._common import A\n@check(1)\ndef g(): ...\n",
    "facts/core.py": "import boto3\nfrom ..errors import InputError\n",
    "host/checks/gpu.py": "from ...registry import InputError\n",
    "runner.py": "from .facts.core import InputError\nfrom .registry import InputError\n",
    "sandbox/run.py": "import moto\nfrom ..runner import InputError\n",
    "cli/check.py": "import click\nfrom ..runner import InputError\nfrom ..sandbox.run import x\n",
    "dynamic.py": "import importlib\n",
}

# The six kinds of violation issue 17 found the old test let pass, each as one file.
_SIX = {
    "dynamic import": (
        "checks/network/sneaky.py",
        "import importlib\nm = importlib.import_module('boto3')\n",
        "dynamic: hyperpod_preflight.checks.network.sneaky -> importlib",
    ),
    "__import__": (
        "analysis/sneaky.py",
        "m = __import__('boto3')\n",
        "dynamic: hyperpod_preflight.analysis.sneaky -> __import__",
    ),
    "check imports cli": (
        "checks/network/vpc.py",
        "from ...cli.check import x\n@check(1)\ndef x(): ...\n",
        "edge: hyperpod_preflight.checks.network.vpc -> hyperpod_preflight.cli.check",
    ),
    "analysis imports runner": (
        "analysis/network.py",
        "def f():\n    from ..runner import InputError\n",
        "edge: hyperpod_preflight.analysis.network -> hyperpod_preflight.runner",
    ),
    "host/checks imports boto3": (
        "host/checks/gpu.py",
        "import boto3\n",
        "edge: hyperpod_preflight.host.checks.gpu -> boto3",
    ),
    "facts imports checks": (
        "facts/core.py",
        "import boto3\nfrom ..checks.network import vpc\n",
        "edge: hyperpod_preflight.facts.core -> hyperpod_preflight.checks.network.vpc",
    ),
    "runner imports sandbox": (
        "runner.py",
        "from .registry import InputError\nfrom .sandbox.run import x\n",
        "edge: hyperpod_preflight.runner -> hyperpod_preflight.sandbox.run",
    ),
}


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    assert _violations(_tree(tmp_path, _CLEAN)) == []


@pytest.mark.parametrize("case", sorted(_SIX))
def test_each_kind_of_violation_is_caught(tmp_path: Path, case: str) -> None:
    rel, text, expected = _SIX[case]
    found = _violations(_tree(tmp_path, {**_CLEAN, rel: text}))
    assert any(v.startswith(expected) for v in found), found


def test_imports_are_followed_transitively(tmp_path: Path) -> None:
    """A check importing a clean-looking analysis helper that imports boto3 reaches boto3."""
    found = _violations(
        _tree(
            tmp_path,
            {
                **_CLEAN,
                "analysis/helper.py": "import boto3\n",
                "checks/network/vpc.py": (
                    "from ...analysis.helper import x\n@check(1)\ndef x(): ...\n"
                ),
            },
        )
    )
    chain = (
        "reach: hyperpod_preflight.checks.network.vpc -> boto3 (checks reaches it: "
        "hyperpod_preflight.checks.network.vpc -> hyperpod_preflight.analysis.helper -> boto3)"
    )
    assert chain in found


def test_type_checking_imports_and_lazy_package_exports_do_not_count(tmp_path: Path) -> None:
    found = _violations(
        _tree(
            tmp_path,
            {
                **_CLEAN,
                "checks/network/vpc.py": (
                    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                    "    from ...facts.core import InputError\n@check(1)\ndef x(): ...\n"
                ),
            },
        )
    )
    assert found == []


def test_a_check_module_may_not_import_another(tmp_path: Path) -> None:
    found = _violations(
        _tree(
            tmp_path,
            {**_CLEAN, "checks/quotas.py": "from .network.vpc import x\n@check(1)\ndef f(): ...\n"},
        )
    )
    assert (
        "check: hyperpod_preflight.checks.quotas -> hyperpod_preflight.checks.network.vpc "
        "(a check module imports another)"
    ) in found
    assert not any("egress" in v for v in found)  # a package's own _common is fine


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
