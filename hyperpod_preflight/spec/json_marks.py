"""Where each value of a JSON text starts (0-based line and column), read without PyYAML.

A CreateCluster JSON's locations used to come from PyYAML's ``compose()`` alone, which costs
its import (~10 ms) on every run. :func:`json_nodes` gives the same node tree (the start of
every mapping, sequence and scalar, and each mapping's keys in order, duplicates kept) for the
JSON that PyYAML reads exactly as JSON: only newlines as line breaks, no tabs, no character
YAML does not print, no ``\\/`` or surrogate escape, each key on the line of its ``:`` and
near it. Any other text gives None, and the caller composes it with PyYAML as before (so
every location is the one PyYAML gives; ``tests/spec/test_json_marks.py`` holds the two to
each other).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

# The characters PyYAML (and libyaml) take as printable, less the line breaks other than
# "\n" and the tab: with these alone, a line is "\n"-separated and a column a character count.
# ASCII text (nearly every config) is checked with a small pattern: the whole Unicode class
# costs ~2 ms to compile, so it is compiled only for text that needs it.
_NOT_PLAIN_ASCII = re.compile("[^\n\x20-\x7e]")


@cache
def _not_plain() -> re.Pattern[str]:
    return re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


_RISKY_ESCAPE = re.compile(r"\\/|\\u[dD][89abAB]")
_TOKEN = re.compile(
    r"""(?P<ws>[ \n]+)
    |(?P<str>"(?:[^"\\\x00-\x1f]|\\["\\bfnrt]|\\u[0-9a-fA-F]{4})*")
    |(?P<scalar>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null)
    |(?P<punct>[{}\[\]:,])""",
    re.VERBOSE,
)
# A simple key longer than 1024 characters is no key to YAML: stay well below.
_MAX_KEY_SPAN = 1000

# A node: (kind, line, column, children); kind "map" (children: [(key, node)]), "seq"
# (children: [node]) or "scalar" (children: None).
Node = tuple[str, int, int, Any]


def json_nodes(text: str) -> Node | None:
    """The node tree of ``text``, or None when it is not JSON that PyYAML reads as JSON."""
    not_plain = _NOT_PLAIN_ASCII if text.isascii() else _not_plain()
    if not_plain.search(text) or _RISKY_ESCAPE.search(text):
        return None
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.line = 0
        self.line_start = 0
        self.stack: list[Node] = []
        self.key: list[tuple[str, int, int]] = []  # the pending key of each open mapping
        self.root: Node | None = None

    def parse(self) -> Node | None:
        text, size, pos = self.text, len(self.text), 0
        state = "value"
        match = _TOKEN.match
        while pos < size:
            token = match(text, pos)
            if token is None:
                return None
            kind, start, pos = token.lastgroup, token.start(), token.end()
            if kind == "ws":
                breaks = text.count("\n", start, pos)
                if breaks:
                    self.line += breaks
                    self.line_start = text.rindex("\n", start, pos) + 1
                continue
            state = self._step(state, kind, token.group(), start)
            if state == "":
                return None
        return self.root if state == "end" else None

    def _step(self, state: str, kind: str | None, value: str, start: int) -> str:
        """The state after one token ("" when the text is not JSON)."""
        if state == "colon":
            _, line, at = self.key[-1]
            ok = value == ":" and line == self.line and start - at <= _MAX_KEY_SPAN
            return "value" if ok else ""
        if state in ("key", "key_or_close") and kind == "str":
            self.key.append((json.loads(value), self.line, start))
            return "colon"
        if state in ("key_or_close", "value_or_close", "comma_or_close") and value in "]}":
            return self._close(value)
        if state == "comma_or_close" and value == ",":
            return "key" if self.stack[-1][0] == "map" else "value"
        if state in ("value", "value_or_close") and kind in ("str", "scalar"):
            self._add(("scalar", self.line, start - self.line_start, None))
            return "comma_or_close" if self.stack else "end"
        if state in ("value", "value_or_close") and value in ("{", "["):
            node: Node = ("map" if value == "{" else "seq", self.line, start - self.line_start, [])
            self._add(node)
            self.stack.append(node)
            return "key_or_close" if value == "{" else "value_or_close"
        return ""

    def _add(self, node: Node) -> None:
        if not self.stack:
            self.root = node
        elif self.stack[-1][0] == "map":
            self.stack[-1][3].append((self.key.pop()[0], node))
        else:
            self.stack[-1][3].append(node)

    def _close(self, value: str) -> str:
        if not self.stack or self.stack[-1][0] != ("map" if value == "}" else "seq"):
            return ""
        self.stack.pop()
        return "comma_or_close" if self.stack else "end"
