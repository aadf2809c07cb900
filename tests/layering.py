"""The one-way layers of DESIGN.md as data: which layer each module of the package belongs to,
which layers it may import, and what it must never reach even through other modules.

:func:`violations` walks a package tree (the real one, or a synthetic one in a test), reads
every import with ``ast`` (function-level imports included: they run too; ``TYPE_CHECKING``
blocks excluded: they never run), and reports

- a direct import of a layer the table does not allow (``edge``),
- a forbidden module reached through any chain of imports (``reach``: a check that imports
  an analysis helper that imports boto3 reaches boto3),
- ``importlib``/``__import__`` outside :data:`DYNAMIC_IMPORT_PLACE` (``dynamic``): an import
  the walk cannot see is a way around every rule here,
- a check module importing another check module (``check``), except its package's ``_*``
  helpers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = "hyperpod_preflight"

# The one module allowed to import by name at run time (the registry's check packages, the
# CLI's lazy subcommands, optional GPU backends all go through it).
DYNAMIC_IMPORT_PLACE = f"{ROOT}.dynamic"

# Module (or package) → layer; the longest matching prefix wins.
LAYER_OF: dict[str, str] = {
    f"{ROOT}": "api",
    f"{ROOT}.errors": "base",
    f"{ROOT}.models": "base",
    f"{ROOT}.results": "base",
    f"{ROOT}.audit_models": "base",
    f"{ROOT}.fields": "base",
    f"{ROOT}.records": "base",
    f"{ROOT}.workers": "base",
    f"{ROOT}.dynamic": "base",
    f"{ROOT}.catalog": "base",
    f"{ROOT}.cache": "base",
    f"{ROOT}.sagemaker_model": "base",
    f"{ROOT}.spec": "spec",
    f"{ROOT}.planner": "planner",
    f"{ROOT}.analysis": "analysis",
    f"{ROOT}.registry": "registry",
    f"{ROOT}.check_index": "registry",
    f"{ROOT}.docs": "registry",
    f"{ROOT}.checks": "checks",
    f"{ROOT}.facts": "facts",
    f"{ROOT}.host": "host",
    f"{ROOT}.host.checks": "host.checks",
    f"{ROOT}.host.api": "host.run",
    f"{ROOT}.runs": "runs",
    f"{ROOT}.runner": "runs",
    f"{ROOT}.preflight": "runs",
    f"{ROOT}.audit": "runs",
    f"{ROOT}.capacity_run": "runs",
    f"{ROOT}.quota_requests": "runs",
    f"{ROOT}.render": "render",
    f"{ROOT}.render_audit": "render",
    f"{ROOT}.sandbox": "sandbox",
    f"{ROOT}.cli": "cli",
    f"{ROOT}.lifecycle_local": "facts",
    # leaves that hold no logic of a layer: the typed options of every run, safe commands
    f"{ROOT}.options": "base",
    f"{ROOT}.shell": "base",
    f"{ROOT}.project_config": "base",
    f"{ROOT}.suppressions": "base",
    f"{ROOT}.render_table": "render",
    f"{ROOT}.render_sarif": "render",
    f"{ROOT}.render_location": "render",
    # runs of their own kind (a live cluster; a lint report), above facts and analysis
    f"{ROOT}.diagnose": "runs",
    f"{ROOT}.lint_report": "runs",
    f"{ROOT}.sandbox.bundled": "data",  # scripts shipped for the sandbox's S3, never imported
}

_BELOW_CHECKS = {"base", "spec", "planner", "analysis", "registry"}

# Layer → the layers it may import directly (its own always included).
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "spec": {"base"},
    "planner": {"base", "spec"},
    "analysis": {"base", "spec", "planner"},
    "registry": {"base", "spec", "planner"},
    "checks": set(_BELOW_CHECKS),
    "facts": {"base", "spec"},
    "host": {"base", "registry"},
    "host.checks": {"base", "registry", "host"},
    "host.run": {"base", "registry", "host", "host.checks", "runs"},
    "runs": {"base", "spec", "planner", "analysis", "registry", "facts", "host"},
    "render": {"base", "registry"},  # SARIF rules come from the check registry
    "sandbox": {"base", "spec", "planner", "registry", "runs"},
    "cli": {
        "base",
        "spec",
        "planner",
        "analysis",
        "registry",
        "facts",
        "host",
        "host.run",
        "runs",
        "render",
        "sandbox",
        "api",
    },
    # the library's entry points: every kind of run, the sandbox's and the host's included
    "api": {"base", "spec", "planner", "runs", "host.run", "host", "registry", "sandbox"},
    "data": set(),
}

# Edges the table refuses that are known and owned elsewhere (module, target) → why kept.
EXCEPTIONS: dict[tuple[str, str], str] = {
    (f"{ROOT}.facts.iam", f"{ROOT}.analysis.iam_requirements"): (
        "the published AmazonSageMakerClusterInstanceRolePolicy document (data); the IAM "
        "helper owns analysis/iam_*: move it to a data module there"
    ),
    (f"{ROOT}.facts.s3", f"{ROOT}.analysis.s3_lifecycle"): (
        "bucket_region: S3's documented empty-LocationConstraint default; owned by the facts helper"
    ),
}

# Third-party and standard modules each layer may not import directly.
IO_MODULES = ("boto3", "botocore", "kubernetes", "subprocess", "moto", "click")
FORBIDDEN_DIRECT: dict[str, tuple[str, ...]] = {
    "base": (
        "boto3",
        "kubernetes",
        "subprocess",
        "moto",
        "click",
    ),  # sagemaker_model: botocore's loader
    "spec": ("boto3", "kubernetes", "subprocess", "moto", "click"),
    "planner": IO_MODULES,
    "analysis": IO_MODULES,
    "registry": IO_MODULES,
    "checks": IO_MODULES,
    "host.checks": IO_MODULES,
    "facts": ("moto", "click"),
    "runs": ("moto", "click", "subprocess", "kubernetes"),
    "render": IO_MODULES,
    "sandbox": ("click", "subprocess"),
}

# Layer → what it must never reach, through any chain of imports.
NEVER_REACH: dict[str, tuple[str, ...]] = {
    "checks": (
        "boto3",
        "kubernetes",
        "subprocess",
        "moto",
        "click",
        f"{ROOT}.facts",
        f"{ROOT}.cli",
        f"{ROOT}.runs",
        f"{ROOT}.runner",
        f"{ROOT}.sandbox",
    ),
    "host.checks": (
        "boto3",
        "kubernetes",
        "moto",
        "click",
        f"{ROOT}.facts",
        f"{ROOT}.cli",
        f"{ROOT}.runs",
        f"{ROOT}.runner",
        f"{ROOT}.sandbox",
    ),
    "analysis": (
        "boto3",
        "kubernetes",
        "subprocess",
        "moto",
        "click",
        f"{ROOT}.facts",
        f"{ROOT}.checks",
        f"{ROOT}.cli",
        f"{ROOT}.runs",
        f"{ROOT}.runner",
    ),
    "spec": ("boto3", f"{ROOT}.facts", f"{ROOT}.checks", f"{ROOT}.cli", f"{ROOT}.runs"),
    "planner": ("boto3", f"{ROOT}.facts", f"{ROOT}.checks", f"{ROOT}.cli", f"{ROOT}.runs"),
    "facts": (
        f"{ROOT}.checks",
        f"{ROOT}.analysis",
        f"{ROOT}.cli",
        f"{ROOT}.render",
        f"{ROOT}.runs",
        f"{ROOT}.runner",
        f"{ROOT}.sandbox",
    ),
    "runs": (f"{ROOT}.cli", f"{ROOT}.sandbox", "moto", "click"),
    "render": ("boto3", f"{ROOT}.facts", f"{ROOT}.cli", f"{ROOT}.runs"),
    "sandbox": (f"{ROOT}.cli",),
}


@dataclass(frozen=True)
class Violation:
    kind: str  # edge | reach | dynamic | check
    module: str
    target: str
    why: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.module} -> {self.target} ({self.why})"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# Modules whose layer differs from their package's (a package ``__init__`` exporting the
# package's entry point lazily).
EXACT_LAYER: dict[str, str] = {f"{ROOT}.host": "host.run"}


def layer_of(module: str) -> str | None:
    if module in EXACT_LAYER:
        return EXACT_LAYER[module]
    best = None
    for prefix in LAYER_OF:
        if (module == prefix or module.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best)
        ):
            best = prefix
    return LAYER_OF[best] if best is not None else None


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _dynamic(name: str) -> bool:
    """``importlib`` itself or a part of it that imports by name (``resources`` and
    ``metadata`` only read files)."""
    return _under(name, "importlib") and not (
        _under(name, "importlib.resources") or _under(name, "importlib.metadata")
    )


def _function_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for child in node.body:
                for sub in ast.walk(child):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = (
                test.id
                if isinstance(test, ast.Name)
                else test.attr
                if isinstance(test, ast.Attribute)
                else ""
            )
            if name == "TYPE_CHECKING":
                for child in node.body:
                    for sub in ast.walk(child):
                        if hasattr(sub, "lineno"):
                            lines.add(sub.lineno)
    return lines


@dataclass
class _Module:
    name: str
    path: Path
    imports: list[str]  # absolute names, as written (a module or a module's attribute)
    top_imports: list[str]  # those run when the module is imported (not inside functions)
    stems: set[str]  # ``from X import y``'s X: a package there runs only its top level
    dynamic: list[str]  # what importlib/__import__ use was seen
    registers_checks: bool


def _read(path: Path, root: Path) -> _Module:
    tree = ast.parse(path.read_text())
    me = module_name(path, root).split(".")
    package = me if path.name == "__init__.py" else me[:-1]
    skip = _type_checking_lines(tree)
    lazy = _function_lines(tree)
    found: list[str] = []
    top: list[str] = []
    stems: set[str] = set()
    dynamic: list[str] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
            if node.lineno not in lazy:
                top += [a.name for a in node.names]
            dynamic += [a.name for a in node.names if _dynamic(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            found.append(stem)
            stems.add(stem)
            found += [f"{stem}.{a.name}" for a in node.names]
            if node.lineno not in lazy:
                top += [stem, *(f"{stem}.{a.name}" for a in node.names)]
            dynamic += [f"{stem}.{a.name}" for a in node.names if _dynamic(f"{stem}.{a.name}")]
        elif isinstance(node, ast.Name) and node.id == "__import__":
            dynamic.append("__import__")
    text = path.read_text()
    return _Module(
        name=".".join(me),
        path=path,
        imports=found,
        top_imports=top,
        stems=stems,
        dynamic=dynamic,
        registers_checks="@check(" in text,
    )


def _modules(root: Path) -> dict[str, _Module]:
    return {m.name: m for m in (_read(p, root) for p in sorted((root / ROOT).rglob("*.py")))}


def _resolve(name: str, known: dict[str, _Module]) -> str | None:
    """The package module ``name`` denotes (``pkg.mod.attr`` → ``pkg.mod``), or None for
    something outside the package."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def _parents(module: str) -> Iterator[str]:
    """The packages whose ``__init__`` runs when ``module`` is imported (never the root: its
    public API imports lazily, inside functions, and is checked as a layer of its own)."""
    parts = module.split(".")
    for i in range(2, len(parts)):
        yield ".".join(parts[:i])


def _edges(mod: _Module, known: dict[str, _Module], *, top_only: bool = False) -> dict[str, bool]:
    """What importing ``mod`` (``top_only``: only its module-level imports) can run, each
    with whether only its module-level imports run: a package entered as the parent of what
    is imported runs its ``__init__``'s top level, not its lazy exports (``__getattr__``)."""
    out: dict[str, bool] = {}
    for name in mod.top_imports if top_only else mod.imports:
        target = _resolve(name, known)
        if target is None:
            if name and not _under(name, ROOT):
                out[name] = False
            continue
        if target in (mod.name, ROOT) or (mod.name, target) in EXCEPTIONS:
            continue  # the root: ``__version__`` and the lazy public API only
        if name in mod.stems and name == target and known[target].path.name == "__init__.py":
            out.setdefault(target, True)
        else:
            out[target] = False
        for parent in _parents(target):
            if parent in known and parent != mod.name:
                out.setdefault(parent, True)
    return out


def _reach(start: str, known: dict[str, _Module]) -> dict[str, list[str]]:
    """Everything ``start`` reaches, each with one import chain leading there."""
    chains: dict[str, list[str]] = {}
    full: set[str] = set()  # entered with all its imports, not only the top level
    todo: list[tuple[str, bool, list[str]]] = [(start, False, [start])]
    todo += [(p, True, [start, p]) for p in _parents(start) if p in known]
    while todo:
        current, top_only, chain = todo.pop()
        mod = known.get(current)
        if mod is None or current == ROOT:
            continue
        for nxt, nxt_top in _edges(mod, known, top_only=top_only).items():
            if nxt == start or nxt in full or (nxt in chains and nxt_top):
                continue
            chains.setdefault(nxt, [*chain, nxt])
            if not nxt_top:
                full.add(nxt)
            todo.append((nxt, nxt_top, [*chain, nxt]))
    return chains


def violations(root: Path) -> list[Violation]:
    known = _modules(root)
    bad: list[Violation] = []
    for name, mod in known.items():
        layer = layer_of(name)
        if layer == "data":
            continue
        if layer is None:
            bad.append(Violation("edge", name, "-", "module belongs to no layer of LAYER_OF"))
            continue
        if mod.dynamic and name != DYNAMIC_IMPORT_PLACE:
            for d in mod.dynamic:
                bad.append(
                    Violation("dynamic", name, d, f"import by name only in {DYNAMIC_IMPORT_PLACE}")
                )
        allowed = ALLOWED[layer] | {layer}
        for target in sorted(_edges(mod, known)):
            if target in known:
                if target in set(_parents(name)):
                    continue
                tlayer = layer_of(target)
                if tlayer not in allowed:
                    bad.append(Violation("edge", name, target, f"{layer} may not import {tlayer}"))
            elif any(_under(target, f) for f in FORBIDDEN_DIRECT.get(layer, ())):
                bad.append(Violation("edge", name, target, f"{layer} may not import {target}"))
        never = NEVER_REACH.get(layer, ())
        if never:
            for target, chain in sorted(_reach(name, known).items()):
                if any(_under(target, f) for f in never):
                    bad.append(
                        Violation(
                            "reach", name, target, f"{layer} reaches it: {' -> '.join(chain)}"
                        )
                    )
        if layer == "checks" and mod.registers_checks:
            own = name if mod.path.name == "__init__.py" else name.rsplit(".", 1)[0]
            for target in _edges(mod, known):
                other = known.get(target)
                if (
                    other is not None
                    and layer_of(target) == "checks"
                    and other.registers_checks
                    and target != name
                    and not target.startswith(own + "._")
                ):
                    bad.append(Violation("check", name, target, "a check module imports another"))
    return bad
