"""The `hp-preflight` command line (click). ``main`` is the console entry point
(``hyperpod_preflight.cli:main``); ``cli`` is the click group.

Modules: ``main`` (the group, error handling, exit codes), ``options`` (what every command
shares, the one output writer included), ``check``, ``info`` (list-checks, schema), ``plan``,
``quotas`` and ``host`` (the last two imported only when used).
"""

from __future__ import annotations

from .main import cli, main

__all__ = ["cli", "main"]
