"""The bash syntax tree (tree-sitter-bash), parsed and queried within a time budget.

Junk input can make tree-sitter's error recovery and its query engine slow; this module owns
the limits that keep one script from holding up a run: a CPU-time budget for parsing and a
depth probe before querying. The walk (:mod:`.shell_scan`) and the secret scan
(:mod:`.secret_scan`) both parse through here.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache

import tree_sitter
import tree_sitter_bash

__all__ = [
    "MAX_QUERY_DEPTH",
    "MAX_SPINE",
    "PARSE_BUDGET_S",
    "QUERY_ERROR_BYTES",
    "ParseTimeout",
    "nodes_of",
    "parse_shell",
    "too_deep_to_query",
]

MAX_QUERY_DEPTH = 48  # function definitions (and password assignments) looked for down to here


@lru_cache(maxsize=1)
def _language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_bash.language())


# A tree-sitter Parser is not thread-safe: two threads parsing with one parser crashed the
# process (SIGSEGV) when the lint read scripts on several threads. One parser per thread.
_PER_THREAD = threading.local()


def _parser() -> tree_sitter.Parser:
    parser: tree_sitter.Parser | None = getattr(_PER_THREAD, "parser", None)
    if parser is None:
        parser = tree_sitter.Parser(_language())
        _PER_THREAD.parser = parser
    return parser


PARSE_BUDGET_S = 0.5  # tree-sitter's error recovery can be slow on junk: give up, say so


class ParseTimeout(Exception):
    """The shell parser ran past :data:`PARSE_BUDGET_S`."""


def parse_shell(source: bytes, budget_s: float = PARSE_BUDGET_S) -> tree_sitter.Tree:
    """The syntax tree of ``source``; :class:`ParseTimeout` past ``budget_s`` seconds of this
    thread's CPU time (not wall time: the answer must not depend on the machine's load)."""
    deadline = time.thread_time() + budget_s

    def read(offset: int, _point: tuple[int, int]) -> bytes:
        return source[offset : offset + 65536]

    def late(_offset: int, _has_error: bool) -> bool:
        return time.thread_time() > deadline

    try:
        tree = _parser().parse(read, progress_callback=late)
    except ValueError:  # cancelled by the progress callback
        tree = None
    if tree is None:
        raise ParseTimeout(f"the shell parser gave up after {budget_s} s")
    return tree


MAX_SPINE = 1000
"""Nesting depth past which a tree is not queried: tree-sitter's query engine takes time that
grows with the square of the depth, whatever the start depth (a cancelling progress callback
crashes py-tree-sitter 0.26, so the depth is probed first)."""


QUERY_ERROR_BYTES = 64 * 1024
"""A tree with a syntax error over this size is not queried either: on error trees (``$(``
repeated and never closed) the engine is as slow whatever the visible depth."""


def too_deep_to_query(root: tree_sitter.Node) -> bool:
    """Whether the chain of largest children from ``root`` is more than :data:`MAX_SPINE`
    deep (deep junk, ``$($($(``… or a long ``a && b && …`` chain, is one such chain), or the
    tree is a large one with a syntax error."""
    if root.has_error and root.end_byte > QUERY_ERROR_BYTES:
        return True
    node, depth = root, 0
    while node.child_count:
        depth += 1
        if depth > MAX_SPINE:
            return True
        node = max(node.children, key=lambda c: c.end_byte - c.start_byte)
    return False


def nodes_of(query: tree_sitter.Query, root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The nodes a one-capture query finds (in C, not by walking the tree in Python);
    :class:`ParseTimeout` for a tree too deep to query in time (:func:`too_deep_to_query`)."""
    if too_deep_to_query(root):
        raise ParseTimeout(f"the syntax tree is nested more than {MAX_SPINE} deep")
    cursor = tree_sitter.QueryCursor(query)
    cursor.set_max_start_depth(MAX_QUERY_DEPTH)
    captures = cursor.captures(root)
    return [n for nodes in captures.values() for n in nodes]
