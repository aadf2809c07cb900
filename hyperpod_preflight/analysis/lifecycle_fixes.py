"""Values from lifecycle files made safe to show and to paste.

A file name comes from a script or an S3 key, so it may hold anything: ``;``, ``$()``,
backticks, quotes, newlines. Every value in a suggested command goes through :func:`quote`
(``shlex.quote``, or bash's ``$'...'`` for control characters, so that the command stays on
one line and runs nothing but itself); every value in a message goes through :func:`shown`
(control characters escaped, long values cut).
"""

from __future__ import annotations

import shlex

MAX_SHOWN = 200
SOURCE_URI_PLACEHOLDER = "<SourceS3Uri>"


def _printable(value: str) -> bool:
    return all(c.isprintable() or c == " " for c in value)


def quote(value: str) -> str:
    """``value`` as one shell word that expands to exactly itself."""
    if _printable(value):
        return shlex.quote(value)
    out = []
    for c in value:
        if c == "\\":
            out.append("\\\\")
        elif c == "'":
            out.append("\\'")
        elif c.isprintable() or c == " ":
            out.append(c)
        else:
            code = ord(c)
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
    return "$'" + "".join(out) + "'"


def command(*words: str) -> str:
    """A command line whose every word is quoted."""
    return " ".join(quote(w) for w in words)


def shown(value: str, limit: int = MAX_SHOWN) -> str:
    """``value`` for a message: control characters escaped, cut after ``limit`` characters."""
    if not _printable(value):
        value = value.encode("unicode_escape").decode("ascii")
    return value if len(value) <= limit else value[:limit] + f"… ({len(value):,} characters)"


def upload(path: str, source_uri: str = SOURCE_URI_PLACEHOLDER) -> str:
    """The command that puts the local ``path`` at the same place under the prefix."""
    base = (
        source_uri
        if source_uri.endswith("/") or source_uri == SOURCE_URI_PLACEHOLDER
        else source_uri + "/"
    )
    return command("aws", "s3", "cp", path, base + path)
