"""Shell scripts read with a real parser (tree-sitter-bash): what each command runs or reads.

The script is parsed into a syntax tree and walked in the order it runs. The walk keeps what
a reader of the script would: the directory each command runs in (``cd``, ``pushd``,
``popd``, ``$(dirname "$0")``), the variables assigned a literal earlier
(``PP=params.json`` then ``-pp $PP``), the files the script makes itself (``curl -o``,
``wget -O``, ``git clone``, ``mkdir``, redirections, ``cp``; ``unzip`` and ``tar -x`` make
files whose names it cannot see) and whether a command runs whenever the script runs or only
under a condition (``if``, ``||``, ``case``, a loop, a function nobody calls, a test before
``&&``, or after a conditional ``exit 0``). Function bodies are walked where they are called.

What it cannot read plainly (a variable read at run time, ``eval``) gives no reference:
callers treat what it finds as evidence, never its absence as proof. Words parsed by the
grammar are never re-read with regular expressions.

Parsing within a time budget lives in :mod:`.shell_parse`; where a named file lies in the
prefix, and what the script made itself, in :mod:`.shell_refs` (the Python scan shares both).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

import tree_sitter

from .lifecycle_words import (
    SCRIPT_DIR,
    SELF,
    UNKNOWN_WORD,
    Fetch,
    RefKind,
    effective_words,
    fetch_of,
    is_errexit,
    is_public_host,
    made_by,
    plain_path,
    references_of,
)
from .shell_parse import MAX_QUERY_DEPTH, ParseTimeout, parse_shell
from .shell_refs import Cwd, How, MadeFiles, Reference, join_in, reference, start_directory

__all__ = [
    "MAX_STATEMENTS",
    "SCRIPT_DIR",
    "Fetch",
    "ParseTimeout",
    "RefKind",
    "Reference",
    "ShellScan",
    "is_public_host",
    "join_in",
    "parse_shell",
    "scan_shell",
]

MAX_DEPTH = 400  # syntax-tree depth walked; deeper nesting is not followed
MAX_STATEMENTS = 20_000  # statements walked per script (a real one has a few hundred)
MAX_CONTAINER_NODES = 300_000
_CONTAINERS = {
    "program",
    "compound_statement",
    "if_statement",
    "elif_clause",
    "else_clause",
    "while_statement",
    "for_statement",
    "c_style_for_statement",
    "do_group",
    "case_statement",
    "case_item",
    "subshell",
    "function_definition",
    "redirected_statement",
    "list",
    "negated_command",
    "ERROR",
}
_FUNCTION_HINT = re.compile(rb"\(\s{0,64}\)|function")
_SHELLS = {"bash", "sh", "dash", "zsh", "ksh"}
_TESTS = {"test", "[", "[["}
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "pip_index_url"}


@dataclass
class ShellScan:
    references: list[Reference] = field(default_factory=list)
    fetches: list[Fetch] = field(default_factory=list)
    errexit_line: int | None = None
    sets_proxy: bool = False
    too_deep: bool = False
    stopped_at: int | None = None  # over MAX_STATEMENTS: the line where the walk stopped


def _line(node: tree_sitter.Node) -> int:
    return node.start_point[0] + 1


def _unescape(word: str) -> str:
    if "\\" not in word:
        return word
    out, i = [], 0
    while i < len(word):
        if word[i] == "\\" and i + 1 < len(word):
            i += 1
        out.append(word[i])
        i += 1
    return "".join(out)


@dataclass
class _State:
    cwd: Cwd
    variables: dict[str, str]
    stack: list[Cwd]

    def copy(self) -> _State:
        return _State(self.cwd, dict(self.variables), list(self.stack))


class _Walker:
    """One walk of one script's syntax tree."""

    def __init__(self, source: bytes, path: str, line_offset: int = 0) -> None:
        self.source = source
        self.path = path
        self.here = posixpath.dirname(path)
        self.offset = line_offset
        self.scan = ShellScan()
        self.state = _State(start_directory(path), {}, [])
        self.made = MadeFiles()
        self.functions: dict[str, tree_sitter.Node] = {}
        self.walked: dict[str, set[bool]] = {}
        self.calling: list[str] = []
        self.stopped: str | None = None  # a conditional exit 0 seen: what follows may not run
        self.statements = 0

    def text(self, node: tree_sitter.Node) -> str:
        """A node's source (sliced here: ``node.text`` re-reads a tree parsed from chunks)."""
        return self.source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def is_test(self, node: tree_sitter.Node) -> bool:
        node = _unwrap(node)
        if node.type == "negated_command":
            return any(self.is_test(c) for c in node.named_children)
        if node.type == "test_command":
            return True
        if node.type == "command":
            name = node.child_by_field_name("name")
            return name is not None and self.text(name) in _TESTS
        return False

    # -- entry ---------------------------------------------------------------------------------
    def run(self, root: tree_sitter.Node) -> ShellScan:
        self.collect_functions(root)
        self.block(root.children, None, 0)
        for name, node in self.functions.items():
            if name not in self.walked:
                why = f"in function {name}(), which this script does not call"
                self.walked[name] = {True}
                self.function_body(name, node, why, 0)
        return self.scan

    def collect_functions(self, root: tree_sitter.Node) -> None:
        """Every function definition, found through the statements that can hold one (down
        to :data:`MAX_QUERY_DEPTH`, at most :data:`MAX_CONTAINER_NODES` nodes looked at)."""
        if _FUNCTION_HINT.search(self.source) is None:
            return  # no '()' and no 'function' keyword: no definition to look for
        found, stack, seen = [], [(root, 0)], 0
        while stack:
            node, depth = stack.pop()
            if node.type == "function_definition":
                found.append(node)
            if depth >= MAX_QUERY_DEPTH:
                self.scan.too_deep = True
                continue
            for child in node.children:
                seen += 1
                if child.type in _CONTAINERS:
                    stack.append((child, depth + 1))
            if seen > MAX_CONTAINER_NODES:
                self.scan.too_deep = True  # the functions of this junk are not all known
                break
        for node in sorted(found, key=lambda n: n.start_byte):
            name = node.child_by_field_name("name")
            if name is not None:
                self.functions.setdefault(self.text(name), node)

    # -- statements ----------------------------------------------------------------------------
    def block(self, nodes: list[tree_sitter.Node], cond: str | None, depth: int) -> None:
        for node in nodes:
            if node.is_named:
                self.statement(node, cond, depth)

    def effective(self, cond: str | None) -> str | None:
        return cond or self.stopped

    def statement(self, node: tree_sitter.Node, cond: str | None, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.scan.too_deep = True
            return
        self.statements += 1
        if self.statements > MAX_STATEMENTS:
            if self.scan.stopped_at is None:
                self.scan.stopped_at = _line(node) + self.offset
            return
        t, d = node.type, depth + 1
        if t == "command":
            self.command(node, cond, d)
        elif t == "variable_assignment":
            self.assign(node, cond, d)
        elif t == "declaration_command":
            for child in node.named_children:
                if child.type == "variable_assignment":
                    self.assign(child, cond, d)
        elif t == "redirected_statement":
            self.redirected(node, cond, d)
        elif t == "list":
            self.and_or(node, cond, d)
        elif t == "pipeline":
            for child in node.named_children:
                self.isolated([child], cond, d)
        elif t in {"subshell", "command_substitution", "process_substitution"}:
            self.isolated(node.named_children, cond, d)
        elif t == "if_statement":
            self.if_statement(node, cond, d)
        elif t in {"while_statement", "for_statement", "c_style_for_statement"}:
            self.loop(node, cond, d)
        elif t == "case_statement":
            self.case(node, cond, d)
        elif t == "function_definition":
            return  # walked where it is called
        elif t in {"compound_statement", "program", "negated_command", "do_group", "ERROR"}:
            self.block(node.children, cond, d)
        else:
            self.nested(node, cond, d)

    def nested(self, node: tree_sitter.Node, cond: str | None, depth: int) -> None:
        """Commands inside words: ``$(...)`` and ``<(...)`` run where the word is expanded."""
        if depth > MAX_DEPTH:
            self.scan.too_deep = True
            return
        for child in node.named_children:
            if child.type in {"command_substitution", "process_substitution"}:
                self.isolated(child.named_children, cond, depth + 1)
            elif child.child_count:
                self.nested(child, cond, depth + 1)

    def isolated(self, nodes: list[tree_sitter.Node], cond: str | None, depth: int) -> None:
        """A subshell: directory and variable changes inside do not reach the script."""
        saved, stopped = self.state.copy(), self.stopped
        self.block(nodes, cond, depth)
        self.state, self.stopped = saved, stopped

    def guarded(self, nodes: list[tree_sitter.Node], why: str, depth: int) -> None:
        """Statements that may not run: a directory change inside leaves the directory unknown."""
        before = self.state.cwd
        self.block(nodes, why, depth)
        if self.state.cwd != before:
            self.state.cwd = None

    def if_statement(self, node: tree_sitter.Node, cond: str | None, depth: int) -> None:
        guard = f"under the if on line {_line(node) + self.offset}"
        in_body = False
        body: list[tree_sitter.Node] = []
        for child in node.children:
            if child.type == "then":
                in_body = True
            elif not in_body:
                if child.is_named:
                    self.statement(child, cond, depth)
            elif child.type in {"elif_clause", "else_clause"}:
                body.extend(c for c in child.children if c.is_named)
            elif child.is_named:
                body.append(child)
        self.guarded(body, cond or guard, depth)

    def loop(self, node: tree_sitter.Node, cond: str | None, depth: int) -> None:
        for i, child in enumerate(node.children):
            if node.field_name_for_child(i) == "condition" and child.is_named:
                self.statement(child, cond, depth)
            elif node.field_name_for_child(i) == "value":
                self.nested(child, cond, depth)
        body = node.child_by_field_name("body")
        if body is not None:
            why = cond or f"in the loop on line {_line(node) + self.offset}"
            self.guarded(body.children, why, depth)

    def case(self, node: tree_sitter.Node, cond: str | None, depth: int) -> None:
        why = cond or f"in a branch of the case on line {_line(node) + self.offset}"
        items = [c for c in node.named_children if c.type == "case_item"]
        for item in items:
            self.guarded([c for c in item.named_children if _is_statement(c)], why, depth)

    def and_or(self, node: tree_sitter.Node, cond: str | None, depth: int) -> None:
        parts = node.children
        if len(parts) != 3:
            self.block(parts, cond, depth)
            return
        left, op, right = parts
        self.statement(left, cond, depth)
        line = _line(op) + self.offset
        if op.type == "||":
            why: str | None = f"after '||' on line {line}, when the command before it fails"
        elif self.is_test(left):
            why = f"after the test on line {line}"
        else:
            why = None
        if why is None:
            self.statement(right, cond, depth)
        else:
            self.guarded([right], cond or why, depth)

    def redirected(self, node: tree_sitter.Node, cond: str | None, depth: int) -> None:
        body = node.child_by_field_name("body")
        if body is not None:
            self.statement(body, cond, depth)
        for redirect in node.children_by_field_name("redirect"):
            self.redirect(redirect, cond, depth)

    def redirect(self, node: tree_sitter.Node, cond: str | None, depth: int) -> None:
        if node.type == "heredoc_redirect":
            for inner in node.children_by_field_name("redirect"):
                self.redirect(inner, cond, depth)
            return
        op = next((c.type for c in node.children if not c.is_named), "")
        dest = node.child_by_field_name("destination")
        if dest is None:
            return
        self.nested(node, cond, depth)
        if ">" in op and dest.type != "number":
            value = self.value(dest)
            if value is not None:
                how = f"written by the redirection on line {_line(node) + self.offset}"
                self.made.add(value, how, "file", self.here, self.state.cwd)

    # -- words ---------------------------------------------------------------------------------
    def value(self, node: tree_sitter.Node) -> str | None:
        """The literal a word stands for, or None when it depends on the run."""
        t = node.type
        if t in {"word", "number"}:
            return _unescape(self.text(node))
        if t == "raw_string":
            return self.text(node)[1:-1]
        if t == "string":
            return self.string(node)
        if t == "concatenation":
            parts = [self.value(c) for c in node.children]
            return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
        if t in {"simple_expansion", "expansion"}:
            return self.expansion(node)
        if t == "command_substitution":
            return self.substitution(node)
        return None

    def string(self, node: tree_sitter.Node) -> str | None:
        out: list[str] = []
        pos = node.start_byte + 1
        for child in node.named_children:
            out.append(self.source[pos : child.start_byte].decode("utf-8", errors="replace"))
            if child.type == "string_content":
                out.append(_unescape(self.text(child)))
            else:
                part = self.value(child)
                if part is None:
                    return None
                out.append(part)
            pos = child.end_byte
        out.append(self.source[pos : max(pos, node.end_byte - 1)].decode("utf-8", "replace"))
        return "".join(out)

    def expansion(self, node: tree_sitter.Node) -> str | None:
        names = [
            c for c in node.named_children if c.type in {"variable_name", "special_variable_name"}
        ]
        sub = [c for c in node.named_children if c.type == "subscript"]
        if sub:
            inner = sub[0].child_by_field_name("name")
            index = sub[0].child_by_field_name("index")
            if inner is not None and self.text(inner) == "BASH_SOURCE" and index is not None:
                return SELF if self.text(index) == "0" else None
            return None
        if len(names) != 1 or len(node.named_children) != 1:
            return None  # ${X:-default}, ${#X}, ${X/a/b}: depends on the run
        name = self.text(names[0])
        if name in {"0", "BASH_SOURCE"}:
            return SELF
        return self.state.variables.get(name)

    def substitution(self, node: tree_sitter.Node) -> str | None:
        inner = [c for c in node.named_children if _is_statement(c)]
        if len(inner) != 1:
            return None
        stmt = _unwrap(inner[0])
        if stmt.type == "command":
            words = self.words(stmt)
            if len(words) >= 2 and words[0] == "dirname":
                arg = [w for w in words[1:] if w != "--"]
                return SCRIPT_DIR if arg == [SELF] else None
            if len(words) >= 2 and words[0] in {"realpath", "readlink"} and words[-1] == SELF:
                return SELF
            return None
        if stmt.type == "list" and len(stmt.children) == 3 and stmt.children[1].type == "&&":
            left, right = _unwrap(stmt.children[0]), _unwrap(stmt.children[2])
            if left.type == right.type == "command" and self.words(right)[:1] == ["pwd"]:
                words = self.words(left)
                if words[:1] == ["cd"]:
                    args = [w for w in words[1:] if not w.startswith("-")]
                    if len(args) == 1 and args[0].startswith(SCRIPT_DIR):
                        return args[0]
        return None

    def words(self, command: tree_sitter.Node) -> list[str]:
        out = []
        name = command.child_by_field_name("name")
        if name is not None:
            first = name.named_children[0] if name.named_children else name
            out.append(self.value(first) or UNKNOWN_WORD)
        for arg in command.children_by_field_name("argument"):
            v = self.value(arg)
            out.append(UNKNOWN_WORD if v is None else v)
        return out

    # -- assignments ---------------------------------------------------------------------------
    def assign(self, node: tree_sitter.Node, cond: str | None, depth: int) -> None:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        if name_node is None:
            return
        name = self.text(name_node)
        if name.lower() in _PROXY_VARS:
            self.scan.sets_proxy = True
        if value_node is not None:
            self.nested(node, cond, depth)
        value = "" if value_node is None else self.value(value_node)
        known = self.state.variables.get(name)
        if value is None or (self.effective(cond) and known != value):
            self.state.variables.pop(name, None)
        else:
            self.state.variables[name] = value

    # -- commands ------------------------------------------------------------------------------
    def command(self, node: tree_sitter.Node, cond: str | None, depth: int) -> None:
        self.nested(node, cond, depth)
        for child in node.named_children:
            if child.type == "variable_assignment":
                name = child.child_by_field_name("name")
                if name is not None and self.text(name).lower() in _PROXY_VARS:
                    self.scan.sets_proxy = True
        raw = self.words(node)
        words = effective_words(raw)
        if not words:
            return
        line = _line(node) + self.offset
        why = self.effective(cond)
        program = words[0]
        if program in self.functions and program not in self.calling:
            self.call(program, why, depth)
            return
        if self.scan.errexit_line is None and is_errexit(words):
            self.scan.errexit_line = line
        success = words[1:2] in ([], ["0"]) or UNKNOWN_WORD in words[1:2]
        if program in {"cd", "pushd", "popd"}:
            self.change_directory(words)
        elif program in {"exit", "return"} and why and not self.calling and success:
            self.stopped = self.stopped or f"when the script does not stop on line {line}"
        if "--proxy" in words or words[:4] == ["pip", "config", "set", "global.index-url"]:
            self.scan.sets_proxy = True
        args = node.children_by_field_name("argument")
        self.add_references(words, raw, args, line, why)
        fetch = fetch_of(words, line)
        if fetch is not None:
            self.scan.fetches.append(fetch)
        self.inline_shell(words, line, why)
        for path, how, kind in made_by(words, line):
            self.made.add(path, how, kind, self.here, self.state.cwd)

    def call(self, name: str, why: str | None, depth: int) -> None:
        done = self.walked.setdefault(name, set())
        if (why is not None) in done:
            return
        done.add(why is not None)
        self.function_body(name, self.functions[name], why, depth)

    def function_body(self, name: str, node: tree_sitter.Node, why: str | None, depth: int) -> None:
        body = node.child_by_field_name("body")
        if body is None:
            return
        self.calling.append(name)
        try:
            if body.type == "subshell":
                self.isolated(body.named_children, why, depth + 1)
            else:
                self.block(body.children, why, depth + 1)
        finally:
            self.calling.pop()

    def change_directory(self, words: list[str]) -> None:
        name, args = words[0], [w for w in words[1:] if not w.startswith("-") or w == "-"]
        if name == "popd":
            self.state.cwd = self.state.stack.pop() if self.state.stack else None
            return
        if name == "pushd":
            self.state.stack.append(self.state.cwd)
        self.state.cwd = self.directory(args[0] if args else "~")

    def directory(self, target: str) -> Cwd:
        if target.startswith(SCRIPT_DIR):
            found = join_in(self.here, target[len(SCRIPT_DIR) :].lstrip("/"))
            return None if found is None else (found,)
        if not plain_path(target) or self.state.cwd is None:
            return None  # absolute, home, a variable: not a directory of the prefix
        dirs = [join_in(base, target) for base in self.state.cwd]
        kept = tuple(dict.fromkeys(d for d in dirs if d is not None))
        return kept or None

    def inline_shell(self, words: list[str], line: int, why: str | None) -> None:
        if words[0] not in _SHELLS or len(words) < 3 or words[1] != "-c":
            return
        if words[2] == UNKNOWN_WORD or len(words[2]) > 10_000:
            return
        inner = _Walker(words[2].encode(), self.path, line - 1)
        inner.state = self.state.copy()
        inner.made = self.made
        try:
            tree = parse_shell(inner.source)
        except ParseTimeout:
            return
        inner.collect_functions(tree.root_node)
        inner.block(tree.root_node.children, why, 1)
        self.scan.references.extend(inner.scan.references)
        self.scan.fetches.extend(inner.scan.fetches)

    # -- references and made files -------------------------------------------------------------
    def add_references(
        self,
        words: list[str],
        raw: list[str],
        args: list[tree_sitter.Node],
        line: int,
        why: str | None,
    ) -> None:
        shift = len(raw) - len(words)
        for index, target, kind, direct in references_of(words):
            node_index = index + shift - 1  # raw[0] is the command name, not an argument
            via = None
            if 0 <= node_index < len(args) and "$" in self.text(args[node_index]):
                via = self.text(args[node_index])[:200]
            where = (self.here, self.state.cwd, self.made)
            ref = reference(target, kind, line, where, How(direct, why, via))
            if ref is not None:
                self.scan.references.append(ref)


def _is_statement(node: tree_sitter.Node) -> bool:
    return node.is_named and node.type not in {
        "word",
        "string",
        "raw_string",
        "concatenation",
        "extglob_pattern",
        "simple_expansion",
        "expansion",
        "number",
        "comment",
    }


def _unwrap(node: tree_sitter.Node) -> tree_sitter.Node:
    while node.type == "redirected_statement":
        body = node.child_by_field_name("body")
        if body is None:
            break
        node = body
    return node


def scan_shell(
    text: str | bytes,
    path: str = "script.sh",
    line_offset: int = 0,
    start: tuple[str, ...] | None = None,
    tree: tree_sitter.Tree | None = None,
) -> ShellScan:
    """References, downloads, ``set -e`` and proxy settings of one shell script at ``path``
    (prefix-relative); ``start``: the directories it may start in (default: the prefix root
    or its own folder); ``tree``: ``text`` already parsed (it is parsed here otherwise)."""
    source = text.encode("utf-8", errors="replace") if isinstance(text, str) else text
    first = source.split(b"\n", 1)[0]
    walker = _Walker(source, path, line_offset)
    if start is not None:
        walker.state.cwd = start
    if first.startswith(b"#!") and any(
        w.startswith(b"-") and not w.startswith(b"--") and b"e" in w for w in first.split()[1:]
    ):
        walker.scan.errexit_line = 1
    return walker.run((tree or parse_shell(source)).root_node)
