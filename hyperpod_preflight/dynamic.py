"""The one place that imports modules by name at run time.

Everything else imports statically, so the layering test (``tests/test_layers.py``) can see
every edge; an import it cannot see would be a way around its rules. The names imported here
are all listed in code (the registry's check packages, the CLI's lazy subcommands, optional
GPU backends), never taken from input.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def import_module(name: str) -> ModuleType:
    """``importlib.import_module(name)``."""
    return importlib.import_module(name)


def import_submodules(package: str) -> list[str]:
    """Import ``package`` and every module under it (the registry's check packages, whose
    ``__init__`` imports none of its modules); their names."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=f"{package}."):
        importlib.import_module(info.name)
        names.append(info.name)
    return names


def first_importable(*names: str) -> tuple[str | None, ModuleType | None, list[str]]:
    """The first of ``names`` that imports (an optional backend such as torch or cupy), and
    why each one before it did not (``ImportError``, or a broken install raising at import)."""
    errors: list[str] = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            errors.append(f"{name}: {type(exc).__name__}")
            continue
        return name, module, errors
    return None, None, errors


def module_file(name: str) -> str | None:
    """The file ``import name`` would run (a package's ``__init__.py``), found without importing
    it (``importlib.util.find_spec``; ``name`` is a top-level module); None when there is none.
    Cache keys use it: botocore's version and dateutil's files, read without their imports."""
    from importlib.util import find_spec

    spec = find_spec(name)
    return spec.origin if spec is not None and spec.has_location else None
