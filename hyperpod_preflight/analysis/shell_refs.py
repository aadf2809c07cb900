"""Files a lifecycle script names, placed in the prefix: what the shell and Python scans report.

A script runs from a directory that is not always known exactly (the prefix root where
HyperPod copies it, or its own folder), so a name resolves to candidate prefix paths.
:class:`MadeFiles` remembers what the script made itself before a line, so a reference to
it is not reported as missing.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from .lifecycle_words import SCRIPT_DIR, RefKind, plain_path

__all__ = [
    "MAX_PATH",
    "Cwd",
    "How",
    "MadeFiles",
    "Reference",
    "join_in",
    "locate",
    "reference",
    "start_directory",
]


@dataclass(frozen=True)
class Reference:
    """A file a script runs or reads by a relative name, on ``line``.

    ``candidates`` are the prefix paths it may name (the directory it runs in is not always
    known exactly: a script started from the prefix root or from its own folder).
    """

    target: str  # as the script names it, variables resolved
    kind: RefKind
    line: int
    candidates: tuple[str, ...] = ()
    direct: bool = False  # executed as a program (./x.sh): its '#!' line matters
    condition: str | None = None  # why it may not run; None when it runs whenever the script does
    made: str | None = None  # the script makes it itself before this line (how)
    maybe_made: str | None = None  # it may come from an archive or tree the script unpacks
    outside: bool = False  # it names a file outside the prefix
    named_only: str | None = None  # only named (Python: an argument of this call)
    via: str | None = None  # the variable it came through, as written


MAX_PATH = 1024  # longer paths are not looked up (and cannot grow without bound)


def join_in(base: str, rel: str) -> str | None:
    """``rel`` from prefix directory ``base`` ("" is the root); None when it leaves the prefix
    (or is longer than any key the lint looks up)."""
    if len(base) + len(rel) > MAX_PATH:
        return None
    p = posixpath.normpath(posixpath.join(base, rel) if base else rel)
    if p == ".":
        return ""
    if p == ".." or p.startswith(("../", "/")):
        return None
    return p


Cwd = tuple[str, ...] | None  # candidate prefix directories; None: outside it, or not known


@dataclass
class MadeFiles:
    """What a script made itself so far: files, directories, and unpacked trees."""

    files: dict[str, str] = field(default_factory=dict)
    dirs: dict[str, str] = field(default_factory=dict)
    unpacked: dict[str, str] = field(default_factory=dict)  # names unknown: archives, trees

    def why(self, path: str) -> tuple[str | None, str | None]:
        """(how it was made, how it may have been made) for one prefix path."""
        if path in self.files:
            return self.files[path], None
        for table, sure in ((self.dirs, True), (self.unpacked, False)):
            for d, how in table.items():
                if d == "" or path == d or path.startswith(d + "/"):
                    return (how, None) if sure else (None, how)
        return None, None

    def add(self, value: str, how: str, kind: str, here: str, cwd: Cwd) -> None:
        """Record ``value`` (as the script names it, from ``cwd``) as made; kind: file, dir,
        unpacked."""
        if value.startswith(SCRIPT_DIR):
            bases: tuple[str, ...] = (here,)
            value = value[len(SCRIPT_DIR) :].lstrip("/") or "."
        elif cwd is None or not plain_path(value, allow_dot=True):
            return
        else:
            bases = cwd
        for base in bases:
            path = join_in(base, value)
            if path is None:
                continue
            if kind == "unpacked":
                self.unpacked.setdefault(path, how)
            else:
                self.files.setdefault(path, how)
                if kind == "dir":
                    self.dirs.setdefault(path, how)


def start_directory(path: str) -> tuple[str, ...]:
    """Where a script may run from: the prefix root (HyperPod's copy) or its own folder."""
    return tuple(dict.fromkeys(["", posixpath.dirname(path)]))


def locate(target: str, here: str, cwd: Cwd) -> tuple[str, tuple[str, ...]] | None:
    """(the name as shown, the prefix paths it may be); None when it is not under the prefix
    or runs in a directory that cannot be told."""
    if target.startswith(SCRIPT_DIR):
        rest = target[len(SCRIPT_DIR) :].lstrip("/")
        found = join_in(here, rest)
        return '$(dirname "$0")/' + rest, (found,) if found else ()
    if cwd is None or target.startswith("/"):
        return None
    candidates = [join_in(base, target) for base in cwd]
    return target, tuple(dict.fromkeys(c for c in candidates if c))


@dataclass(frozen=True)
class How:
    """How a reference is used: executed directly, under which condition, through what."""

    direct: bool = False
    condition: str | None = None
    via: str | None = None
    named_only: str | None = None


def reference(
    target: str, kind: RefKind, line: int, where: tuple[str, Cwd, MadeFiles], how: How
) -> Reference | None:
    """A :class:`Reference` for ``target`` named on ``line`` (where: the script's folder,
    the directory it runs in, what it made)."""
    here, cwd, made_files = where
    found = locate(target, here, cwd)
    if found is None:
        return None
    shown, candidates = found
    made = maybe = None
    for c in candidates:
        made, maybe = made_files.why(c)
        if made or maybe:
            break
    return Reference(
        target=shown,
        kind=kind,
        line=line,
        candidates=candidates,
        made=made,
        maybe_made=maybe,
        outside=not candidates,
        direct=how.direct,
        condition=how.condition,
        via=how.via,
        named_only=how.named_only,
    )
