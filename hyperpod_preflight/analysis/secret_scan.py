"""Secrets written into lifecycle files, found and masked where a file is read.

Every node of the cluster downloads the lifecycle prefix, and anyone who can read the bucket
can read it, so a credential there is leaked. :func:`scan_secrets` runs once on the raw bytes
of a file, before anything else reads them, and returns the bytes with every secret masked
(same length, same lines): nothing after it (the parsers, the tools, any message or fix) can
print a secret.

- A credential of a known format is a FAIL: an AWS access key id with a secret access key,
  a private key block, a GitHub, GitLab, Slack or Hugging Face token. An access key id alone
  is a WARN.
- A literal password assigned in a script is a WARN (read it from Secrets Manager instead),
  judged in the file's language: a shell assignment or ``--password=`` argument (parsed with
  tree-sitter-bash), a Python assignment, keyword or dict entry (``ast``), a JSON member.
  A pattern (``grep -o '"password":"[^"]*"'``), a value read at run time or a placeholder is
  never one.

Every regular expression here has bounded repetition or a literal prefix and no nested
quantifier, so the scan is linear in the size of the file.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import json
import re
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Query, Tree

from .shell_parse import ParseTimeout, nodes_of, parse_shell

_ACCESS_KEY_ID = re.compile(rb"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
# A secret access key: 40 characters of base64's alphabet, standing alone.
_SECRET_CANDIDATE = re.compile(rb"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_KEYED_SECRET = re.compile(
    rb"(?i)aws_secret_access_key[\"']?[ \t]{0,16}[:=]?[ \t]{0,16}[\"']?"
    rb"(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
_PRIVATE_KEY = re.compile(
    rb"-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----"
)
_PRIVATE_KEY_END = re.compile(rb"-----END [A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_TOKENS = (
    (
        "GitHub token",
        b"gh",
        re.compile(rb"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9_])"),
    ),
    (
        "GitHub token",
        b"github_pat_",
        re.compile(rb"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{82}(?!\w)"),
    ),
    (
        "GitLab token",
        b"glpat-",
        re.compile(rb"(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20}(?![A-Za-z0-9_-])"),
    ),
    (
        "Slack token",
        b"xox",
        re.compile(rb"(?<![A-Za-z0-9])xox[abposr]-[0-9]{6,20}-[A-Za-z0-9-]{10,200}"),
    ),
    (
        "Hugging Face token",
        b"hf_",
        re.compile(rb"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34}(?![A-Za-z0-9_])"),
    ),
)
# password = "literal" / password: 'literal' in any text (tool output, other files).
_QUOTED_PASSWORD = re.compile(
    r"(?i)(?:password|passwd)[\"']?[ \t]{0,16}[:=][ \t]{0,16}"
    r"(?P<q>[\"'])(?P<v>[^\"'\n]{1,256})(?P=q)"
)
_BARE_PASSWORD = re.compile(r"(?i)(?:password|passwd)=(?P<v>[^\s\"'$`;&|()<>]{1,256})")
_JSON_STRING = re.compile(rb'"(?:[^"\\\n]|\\.){0,4096}"')
_PATTERN_TOOLS = {"grep", "egrep", "fgrep", "rg", "sed", "awk", "gawk", "jq", "yq", "perl", "cut"}
MASK = ord("X")
_MASK_ALL = bytes([MASK]) * 256
_MASK_KEEP = bytes(c if c in b"\n\r\"'\\" else MASK for c in range(256))
PRIVATE_KEY_SPAN = 65536  # bytes masked after a BEGIN line when no END line follows
MAX_HITS = 100  # secrets reported per file (all of them are masked)


@dataclass(frozen=True)
class SecretHit:
    """A secret found on ``line``: ``what`` says which kind, masked, never the value."""

    line: int
    kind: str  # aws-access-key, aws-access-key-id, private-key, token, password
    what: str
    fail: bool  # a credential of a known format (FAIL); else a WARN


def _is_secret_shaped(value: bytes) -> bool:
    """Base64 noise, not a path or a hex digest: mixed case and at least one digit or sign."""
    return (
        b"EXAMPLE" not in value
        and any(97 <= c <= 122 for c in value)
        and any(65 <= c <= 90 for c in value)
        and any(48 <= c <= 57 or c in b"/+" for c in value)
    )


def placeholder(value: str) -> bool:
    v = value.strip()
    return (
        not v
        or "$" in v
        or "{{" in v
        or "%(" in v
        or (v.startswith("<") and v.endswith(">"))
        or set(v) <= {"*", "x", "X", "."}
    )


def mask_key_id(key_id: str) -> str:
    return key_id[:4] + "*" * (len(key_id) - 4)


class _Masker:
    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)
        self.hits: list[SecretHit] = []
        self._starts: list[int] | None = None

    @property
    def line_starts(self) -> list[int]:
        """The offset of each line's first byte (computed once, when a hit needs it)."""
        if self._starts is None:
            starts, pos = [0], self.data.find(b"\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = self.data.find(b"\n", pos + 1)
            self._starts = starts
        return self._starts

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.line_starts, pos)

    def mask(self, start: int, end: int, *, everything: bool = False) -> None:
        """Mask bytes [start, end) keeping line breaks, quotes and backslashes (all of them
        with ``everything``: inside a JSON string, where an escape must stay valid)."""
        end = min(end, len(self.data))
        if start < end:
            table = _MASK_ALL if everything else _MASK_KEEP
            self.data[start:end] = self.data[start:end].translate(table)

    def hit(self, pos: int, kind: str, what: str, fail: bool) -> None:
        if len(self.hits) < MAX_HITS:
            self.hits.append(SecretHit(self.line(pos), kind, what, fail))


def _credentials(m: _Masker) -> None:
    """Known credential formats. Each pattern runs only when its literal prefix is in the file
    (a substring test in C), and the loose 40-character search only beside a key id."""
    data = bytes(m.data)
    lower = data.lower()
    key_ids = []
    if b"AKIA" in data or b"ASIA" in data:
        key_ids = [k for k in _ACCESS_KEY_ID.finditer(data) if not k.group().endswith(b"EXAMPLE")]
    keyed = []
    if b"aws_secret_access_key" in lower:
        keyed = [k for k in _KEYED_SECRET.finditer(data) if b"EXAMPLE" not in k.group("v")]
    loose = []
    if key_ids or keyed:  # a secret key is looked for (and masked) only beside a key id
        loose = [c for c in _SECRET_CANDIDATE.finditer(data) if _is_secret_shaped(c.group())]
    for k in keyed:
        m.hit(
            k.start("v"),
            "aws-access-key",
            "an AWS secret access key (40 characters, masked) assigned to aws_secret_access_key",
            True,
        )
        m.mask(k.start("v"), k.end("v"))
    loose_line = m.line(loose[0].start()) if loose else 0
    for k in key_ids:
        shown = mask_key_id(k.group().decode())
        if keyed:
            pass
        elif loose:
            m.hit(
                k.start(),
                "aws-access-key",
                f"AWS access key id {shown} with a 40-character "
                f"secret access key (masked) on line {loose_line}",
                True,
            )
        else:
            m.hit(
                k.start(),
                "aws-access-key-id",
                f"AWS access key id {shown} (no secret key found beside it)",
                False,
            )
        m.mask(k.start() + 4, k.end())
    for c in loose:
        m.mask(c.start(), c.end())
    if b"PRIVATE KEY" in data:
        masked_to = 0  # a BEGIN line inside a block already masked starts nothing new
        for k in _PRIVATE_KEY.finditer(data):
            if k.start() < masked_to:
                continue
            m.hit(k.start(), "private-key", "a private key block", True)
            end = _PRIVATE_KEY_END.search(data, k.end(), k.end() + PRIVATE_KEY_SPAN)
            masked_to = end.start() if end else min(len(data), k.end() + PRIVATE_KEY_SPAN)
            m.mask(k.end(), masked_to)
    for name, prefix, pattern in _TOKENS:
        if prefix not in data:
            continue
        for k in pattern.finditer(data):
            m.hit(k.start(), "token", f"a {name} (masked)", True)
            m.mask(k.start() + 4, k.end())


def _password(m: _Masker, start: int, end: int, value: str, *, json_string: bool = False) -> None:
    if placeholder(value):
        return
    m.hit(start, "password", f"a password literal ({len(value)} characters, masked)", False)
    m.mask(start, end, everything=json_string)


def _is_password_name(name: str) -> bool:
    low = name.lower()
    return "password" in low or "passwd" in low


# -- per language ----------------------------------------------------------------------------------
def _node_text(m: _Masker, node: Node) -> str:
    return bytes(m.data[node.start_byte : node.end_byte]).decode("utf-8", "replace")


def _shell_literal(m: _Masker, node: Node) -> str | None:
    text = _node_text(m, node)
    if node.type in {"word", "number"}:
        return text
    if node.type == "raw_string":
        return text[1:-1]
    if node.type == "string" and all(c.type == "string_content" for c in node.named_children):
        return text[1:-1]
    return None


@lru_cache(maxsize=1)
def _password_query() -> Query:
    language = Language(tree_sitter_bash.language())
    return Query(language, "[(variable_assignment) (command) (heredoc_body)] @n")


def _shell_passwords(m: _Masker) -> Tree | ParseTimeout:
    """Password literals of a shell script; the syntax tree it parsed, or the parser's
    timeout (the script was then read with the text pattern)."""
    try:
        tree = parse_shell(bytes(m.data))
    except ParseTimeout as e:
        _text_passwords(m, 0, len(m.data))
        return e  # the lint need not try again
    try:
        nodes = nodes_of(_password_query(), tree.root_node)
    except ParseTimeout:
        _text_passwords(m, 0, len(m.data))
        return tree
    for node in nodes:
        if node.type == "variable_assignment":
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            if name is not None and value is not None and _is_password_name(_node_text(m, name)):
                literal = _shell_literal(m, value)
                if literal is not None:
                    _password(m, value.start_byte, value.end_byte, literal)
        elif node.type == "command":
            _shell_arguments(m, node)
        elif node.type == "heredoc_body":
            _text_passwords(m, node.start_byte, node.end_byte)
    return tree


def _shell_arguments(m: _Masker, command: Node) -> None:
    name = command.child_by_field_name("name")
    tool = _node_text(m, name).rsplit("/", 1)[-1] if name else ""
    if tool in _PATTERN_TOOLS:
        return
    args = command.children_by_field_name("argument")
    for i, arg in enumerate(args):
        literal = _shell_literal(m, arg)
        if literal is None or not literal.startswith("--") or not _is_password_name(literal):
            continue
        flag, _, value = literal.partition("=")
        if _:
            _password(m, arg.start_byte + len(flag) + 1, arg.end_byte, value)
        elif i + 1 < len(args):
            following = _shell_literal(m, args[i + 1])
            if following is not None:
                _password(m, args[i + 1].start_byte, args[i + 1].end_byte, following)


PYTHON_PARSE_BYTES = 256 * 1024
"""Python files up to this size are parsed (once, here; the lint reuses the tree). Building
``ast`` objects costs about 1.5 s of CPU per MiB of dense code: a larger file is compiled for
its syntax only, its passwords are read with the text pattern, and the lint says that the
files it runs were not followed."""


# CPython 3.11 converts between its C syntax tree and ``ast`` objects with a recursion
# counter that is not thread-safe: two threads in ``ast.parse`` or ``compile(<ast>)`` at once
# raise "SystemError: AST constructor recursion depth mismatch" (seen in the lint, whose
# scripts are read on several threads). ``warnings.catch_warnings`` is not thread-safe either.
# Every conversion, and its warnings filter, is made under this lock.
PYTHON_AST_LOCK = threading.Lock()


def parse_python(data: bytes) -> ast.Module | SyntaxError | ValueError | RecursionError:
    """The module's syntax tree, or why ``ast.parse`` refused it."""
    try:
        with PYTHON_AST_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(data)
    except (SyntaxError, ValueError, RecursionError) as e:
        return e
    except MemoryError as e:
        return RecursionError(str(e))


def _python_passwords(m: _Masker) -> ast.Module | SyntaxError | ValueError | RecursionError:
    """Password literals of a Python file, judged on its syntax tree; the tree (password
    constants masked in it too), or why it did not parse."""
    tree = parse_python(bytes(m.data))
    if not isinstance(tree, ast.Module) or b"passw" not in bytes(m.data).lower():
        return tree
    offsets = m.line_starts
    for name, value in _python_assignments(tree):
        if not _is_password_name(name) or value.end_lineno is None:
            continue
        if not isinstance(value.value, str) or value.end_col_offset is None:
            continue
        start = offsets[value.lineno - 1] + value.col_offset
        end = offsets[value.end_lineno - 1] + value.end_col_offset
        span = bytes(m.data[start:end])
        quote = min((i for i in (span.find(b'"'), span.find(b"'")) if i >= 0), default=-1)
        if quote >= 0 and not placeholder(value.value):  # the letters of a prefix (r"") stay
            _password(m, start + quote + 1, end - 1, value.value)
            value.value = "X" * len(value.value)  # nothing reading the tree sees it either
    return tree


def _python_assignments(tree: ast.Module) -> Iterator[tuple[str, ast.Constant]]:
    for node in ast.walk(tree):
        pairs: list[tuple[ast.expr | None, ast.expr | None]] = []
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.AnnAssign):
            pairs = [(node.target, node.value)]
        elif isinstance(node, ast.Dict):
            pairs = list(zip(node.keys, node.values, strict=True))
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg and isinstance(kw.value, ast.Constant):
                    yield kw.arg, kw.value
        for target, value in pairs:
            key = (
                target.id
                if isinstance(target, ast.Name)
                else target.attr
                if isinstance(target, ast.Attribute)
                else target.value
                if isinstance(target, ast.Constant) and isinstance(target.value, str)
                else None
            )
            if key is not None and isinstance(value, ast.Constant):
                yield key, value


def _json_passwords(m: _Masker) -> None:
    data = bytes(m.data)
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        _text_passwords(m, 0, len(data))
        return
    tokens = list(_JSON_STRING.finditer(data))
    for key, value in itertools.pairwise(tokens):
        between = data[key.end() : value.start()].strip()
        if between != b":" or not _is_password_name(key.group().decode("utf-8", "replace")):
            continue
        literal = value.group()[1:-1].decode("utf-8", "replace")
        _password(m, value.start() + 1, value.end() - 1, literal, json_string=True)


def _text_passwords(m: _Masker, start: int, end: int) -> None:
    text = bytes(m.data[start:end]).decode("latin-1")
    for k in _QUOTED_PASSWORD.finditer(text):
        _password(m, start + k.start("v"), start + k.end("v"), k.group("v"))


@dataclass
class SecretScan:
    """The secrets of one file, the file masked, and the syntax tree parsed on the way (of
    the masked file: the lint reuses it rather than parsing twice)."""

    hits: list[SecretHit]
    data: bytes
    shell_tree: Tree | ParseTimeout | None = None
    python_tree: ast.Module | SyntaxError | ValueError | RecursionError | None = None


def scan_file(data: bytes, kind: str) -> SecretScan:
    """Secrets in ``data`` (a file of ``kind``: shell, python, json or other), ``data`` with
    each of them masked, and the tree parsed to judge passwords (shell: only when the file
    names one; Python: whenever it is at most :data:`PYTHON_PARSE_BYTES`)."""
    m = _Masker(data)
    _credentials(m)
    named = b"passw" in data.lower()
    shell_tree: Tree | ParseTimeout | None = None
    python_tree: ast.Module | SyntaxError | ValueError | RecursionError | None = None
    if kind == "python" and len(data) <= PYTHON_PARSE_BYTES:
        python_tree = _python_passwords(m)
    elif not named:
        pass  # no password can be named: nothing to parse
    elif kind == "shell":
        shell_tree = _shell_passwords(m)
    elif kind == "json":
        _json_passwords(m)
    else:
        _text_passwords(m, 0, len(m.data))
    seen: set[tuple[int, str]] = set()
    hits = []
    for hit in sorted(m.hits, key=lambda h: (h.line, h.kind)):
        if (hit.line, hit.kind) not in seen:
            seen.add((hit.line, hit.kind))
            hits.append(hit)
    return SecretScan(hits, bytes(m.data), shell_tree, python_tree)


def scan_secrets(data: bytes, kind: str) -> tuple[list[SecretHit], bytes]:
    """Secrets in ``data`` (a file of ``kind``: shell, python, json or other), and ``data``
    with each of them masked."""
    scan = scan_file(data, kind)
    return scan.hits, scan.data


def redact(text: str) -> str:
    """``text`` (a tool's output, an error) with key ids, secret-shaped strings and password
    values masked."""
    raw = text.encode("utf-8", "surrogateescape")
    raw = _ACCESS_KEY_ID.sub(lambda k: k.group()[:4] + b"*" * 16, raw)
    raw = _SECRET_CANDIDATE.sub(
        lambda k: b"*" * 40 if _is_secret_shaped(k.group()) else k.group(), raw
    )
    text = raw.decode("utf-8", "replace")
    text = _QUOTED_PASSWORD.sub(
        lambda k: k.group()[: k.start("v") - k.start()] + "***" + k.group("q"), text
    )
    return _BARE_PASSWORD.sub(lambda k: k.group()[: k.start("v") - k.start()] + "***", text)
