"""The progress line a long run shows on a terminal: one line on stderr, rewritten in place
at most once a second ("waiting for 3 checks… (longest: network.egress, 12 s)"), erased
when the run is done. The runner only calls back (it never prints); this is the callback.

Nothing is written when stderr is not a terminal (CI logs, pipes, files) or with
``--quiet``, so stdout and captured stderr stay exactly the report and its messages.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..runner import Progress, ProgressCallback


def describe(progress: Progress) -> str:
    """``waiting for N checks… (longest: ID, S s)``."""
    n = progress.waiting
    text = f"waiting for {n} check{'s' if n != 1 else ''}…"
    if progress.longest:
        text += f" (longest: {progress.longest}, {progress.longest_s:.0f} s)"
    return text


def is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or closed
        return False


class ProgressLine:
    """A runner ``progress`` callback drawing one line on ``stream`` (a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._width = 0  # of the line on screen, to blank it when the next one is shorter

    def __call__(self, progress: Progress) -> None:
        if progress.finished:
            if self._width:
                self._write("\r" + " " * self._width + "\r")
                self._width = 0
            return
        text = describe(progress)
        self._write("\r" + text.ljust(self._width))
        self._width = len(text)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: the run goes on regardless
            pass


def progress_callback(*, quiet: bool, stream: TextIO | None = None) -> ProgressCallback | None:
    """The callback a run should get: a :class:`ProgressLine` on stderr when it is a terminal
    and not ``quiet``; else None (the runner then reports nothing)."""
    target = sys.stderr if stream is None else stream
    if quiet or not is_terminal(target):
        return None
    return ProgressLine(target)
