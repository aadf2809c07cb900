"""``python -m hyperpod_preflight.cli``: the same as the ``hp-preflight`` command."""

from __future__ import annotations

from .main import main

main()
