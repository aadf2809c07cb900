"""Commands that are safe to paste: every suggested fix is built here from its argv parts.

A finding's fix names resources read from the user's config or from AWS (a subnet id, a
role name, a bucket key); any of them can hold ``;``, ``$(…)``, backticks, quotes or a
newline. :func:`command` quotes every part with :func:`shlex.quote`, so ``shlex.split`` of
the result gives the parts back and pasting it runs nothing but the command itself.
"""

from __future__ import annotations

import json
import shlex
from typing import Any


def command(*argv: object) -> str:
    """One command line from its parts, each quoted for a POSIX shell (``None`` parts are
    left out, so an optional flag can be written inline)."""
    return " ".join(shlex.quote(str(part)) for part in argv if part is not None)


def commands(*lines: str, sep: str = " && ") -> str:
    """Several commands (each built by :func:`command`) joined by ``sep``."""
    return sep.join(lines)


def json_arg(value: Any) -> str:
    """Compact JSON for an argument (quote it by passing it to :func:`command`)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=False)


def arg(value: object) -> str:
    """One value quoted for a POSIX shell, for a command written around placeholders
    (``--cidr-block <cidr>``) that :func:`command` cannot build whole."""
    return shlex.quote(str(value))
