"""Python lifecycle scripts read as Python (``ast``): what they run, read, make and download.

Judged from the syntax tree, never from the text: ``subprocess.run/call/Popen/check_call/
check_output`` and ``os.system``/``os.popen`` with literal arguments (a list, a name bound to
a literal list earlier, or a shell string with ``shell=True``), their ``cwd=``,
``os.chdir``, ``open()`` (a read is a reference, a write makes the file), the local modules
it imports, and string literals that name a script when passed to another call (a wrapper
such as ``RunScript("./x.sh")``: followed, and reported missing only as a WARN, since the lint
cannot tell that the wrapper runs it). Text in ``print()``, logging calls and f-strings is
never read as a command.

A statement runs whenever the script runs unless it is under an ``if`` (other than
``if __name__ == "__main__"``), inside a ``try`` or an ``except``, in a loop, or in a
function the module never calls; function bodies are walked where they are called.
"""

from __future__ import annotations

import ast
import dataclasses
import posixpath
from dataclasses import dataclass, field

from .lifecycle_words import (
    UNKNOWN_WORD,
    Fetch,
    RefKind,
    effective_words,
    fetch_of,
    made_by,
    public_urls,
    references_of,
)
from .shell_parse import ParseTimeout
from .shell_refs import Cwd, How, MadeFiles, Reference, join_in, reference, start_directory
from .shell_scan import scan_shell

__all__ = ["PythonScan", "scan_python"]

_SUBPROCESS = {"run", "call", "Popen", "check_call", "check_output"}
_OS_SHELL = {"system", "popen"}
_FETCH_CALLS = {"urlopen", "urlretrieve", "get", "post", "put", "request", "download_file"}
_NOT_COMMANDS = {
    "print",
    "debug",
    "info",
    "warning",
    "warn",
    "error",
    "exception",
    "critical",
    "log",
    "write",
    "format",
    "startswith",
    "endswith",
    "replace",
    "join",
    "split",
    "strip",
    "getenv",
    "get",
    "add_argument",
    "exit",
}
_SCRIPT_SUFFIXES = (".sh", ".bash", ".py", ".json")
MAX_SHELL_STRING = 10_000
MAX_STATEMENTS = 20_000  # statements walked per file (a real lifecycle script has hundreds)
_BODIES = ("body", "orelse", "finalbody")


@dataclass
class PythonScan:
    references: list[Reference] = field(default_factory=list)
    fetches: list[Fetch] = field(default_factory=list)
    modules: list[tuple[str, int]] = field(default_factory=list)  # local imports: (name, line)
    stopped_at: int | None = None  # over MAX_STATEMENTS: the line where the walk stopped


def _str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _call_name(func: ast.expr) -> tuple[str | None, str]:
    """(module or object name, attribute) of ``mod.attr(...)``; (None, name) of ``name(...)``."""
    if isinstance(func, ast.Attribute):
        base = func.value
        owner = (
            base.id
            if isinstance(base, ast.Name)
            else base.attr
            if isinstance(base, ast.Attribute)
            else None
        )
        return owner, func.attr
    if isinstance(func, ast.Name):
        return None, func.id
    return None, ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _looks_like_script(value: str) -> bool:
    return (
        value.endswith(_SCRIPT_SUFFIXES)
        and len(value) < 1000
        and not any(c.isspace() for c in value)
        and not value.startswith(("/", "~", "-", "$"))
        and "{" not in value
    )


class _Walker:
    def __init__(self, tree: ast.Module, path: str) -> None:
        self.tree = tree
        self.path = path
        self.here = posixpath.dirname(path)
        self.scan = PythonScan()
        self.cwd: Cwd = start_directory(path)
        self.made = MadeFiles()
        self.values: dict[str, list[str] | str] = {}
        self.modules: dict[str, str] = {}  # local alias -> module ("subprocess", "os")
        self.names: dict[str, str] = {}  # from subprocess import run -> run: subprocess.run
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.walked: dict[str, set[bool]] = {}
        self.calling: list[str] = []
        self.statements = 0

    def run(self) -> PythonScan:
        self.collect_functions(self.tree.body)
        self.body(self.tree.body, None)
        for name, node in self.functions.items():
            if name not in self.walked:
                self.walked[name] = {True}
                self.function(name, node, f"in {name}(), which the lint does not see called")
        return self.scan

    def collect_functions(self, statements: list[ast.stmt]) -> None:
        """Every ``def``, found through statement bodies only (a def is a statement: the
        expressions, most of the tree, need not be visited)."""
        stack = [statements]
        while stack:
            for stmt in stack.pop():
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                    self.functions.setdefault(stmt.name, stmt)
                for name in _BODIES:
                    inner = getattr(stmt, name, None)
                    if inner:
                        stack.append(inner)
                for handler in getattr(stmt, "handlers", ()):
                    stack.append(handler.body)
                for case in getattr(stmt, "cases", ()):
                    stack.append(case.body)

    # -- statements ----------------------------------------------------------------------------
    def body(self, statements: list[ast.stmt], cond: str | None) -> None:
        for stmt in statements:
            self.statement(stmt, cond)

    def statement(self, stmt: ast.stmt, cond: str | None) -> None:
        line = stmt.lineno
        self.statements += 1
        if self.statements > MAX_STATEMENTS:
            if self.scan.stopped_at is None:
                self.scan.stopped_at = line
            return
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if isinstance(stmt, ast.ClassDef):
                self.body([s for s in stmt.body if not _is_def(s)], cond)
            return
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            self.imports(stmt)
            return
        if isinstance(stmt, ast.If):
            self.expressions(stmt.test, cond)
            guard = None if _is_main_guard(stmt.test) else f"under the if on line {line}"
            self.body(stmt.body, cond or guard)
            self.body(stmt.orelse, cond or f"in the else of the if on line {line}")
            return
        if isinstance(stmt, ast.Try | ast.TryStar):
            self.body(stmt.body, cond or f"inside the try on line {line}")
            for handler in stmt.handlers:
                self.body(handler.body, cond or f"in an except of the try on line {line}")
            self.body(stmt.orelse, cond or f"inside the try on line {line}")
            self.body(stmt.finalbody, cond)
            return
        if isinstance(stmt, ast.For | ast.AsyncFor | ast.While):
            self.expressions(stmt.iter if not isinstance(stmt, ast.While) else stmt.test, cond)
            self.body(stmt.body + stmt.orelse, cond or f"in the loop on line {line}")
            return
        if isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                self.expressions(item.context_expr, cond)
            self.body(stmt.body, cond)
            return
        if isinstance(stmt, ast.Match):
            self.expressions(stmt.subject, cond)
            for case in stmt.cases:
                self.body(case.body, cond or f"in a case of the match on line {line}")
            return
        self.assignment(stmt, cond)
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self.expressions(child, cond)

    def imports(self, stmt: ast.Import | ast.ImportFrom) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                self.modules[alias.asname or alias.name] = alias.name
                self.scan.modules.append((alias.name, stmt.lineno))
            return
        if stmt.module and not stmt.level:
            self.scan.modules.append((stmt.module, stmt.lineno))
            for alias in stmt.names:
                self.names[alias.asname or alias.name] = f"{stmt.module}.{alias.name}"

    def assignment(self, stmt: ast.stmt, cond: str | None) -> None:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            known = self.values.get(stmt.target.id)
            extra = self.argv(stmt.value)
            if isinstance(known, list) and extra is not None and not cond:
                self.values[stmt.target.id] = known + extra
            elif isinstance(known, list):  # a tail that may or may not be there
                self.values[stmt.target.id] = [*known, UNKNOWN_WORD]
            else:
                self.values.pop(stmt.target.id, None)
            return
        else:
            return
        if not isinstance(target, ast.Name):
            return
        literal: list[str] | str | None = _str(value)
        if literal is None and isinstance(value, ast.List | ast.Tuple):
            literal = self.argv(value)
        known = self.values.get(target.id, literal)
        if literal is None or (cond and known != literal):
            self.values.pop(target.id, None)
        else:
            self.values[target.id] = literal

    def function(
        self, name: str, node: ast.FunctionDef | ast.AsyncFunctionDef, cond: str | None
    ) -> None:
        saved = dict(self.values)
        self.calling.append(name)
        try:
            self.body(node.body, cond)
        finally:
            self.calling.pop()
            self.values = saved

    # -- expressions ---------------------------------------------------------------------------
    def expressions(self, expr: ast.expr, cond: str | None) -> None:
        for node in ast.walk(expr):
            if isinstance(node, ast.Call):
                self.call(node, cond)

    def call(self, call: ast.Call, cond: str | None) -> None:
        owner, name = _call_name(call.func)
        full = (
            self.names.get(name, "")
            if owner is None
            else f"{self.modules.get(owner, owner)}.{name}"
        )
        line = call.lineno
        if owner is None and name in self.functions and name not in self.calling:
            done = self.walked.setdefault(name, set())
            if (cond is not None) not in done:
                done.add(cond is not None)
                self.function(name, self.functions[name], cond)
            return
        if full.startswith("subprocess.") and full.split(".", 1)[1] in _SUBPROCESS:
            self.subprocess(call, cond)
            return
        if full in {f"os.{n}" for n in _OS_SHELL}:
            self.shell_string(_str(call.args[0]) if call.args else None, line, self.cwd, cond)
            return
        if full == "os.chdir":
            target = _str(call.args[0]) if call.args else None
            self.cwd = self.directory(target)
            return
        if owner is None and name == "open":
            self.open(call, cond)
            return
        if name in _FETCH_CALLS:
            urls = public_urls([v for v in (_str(a) for a in call.args[:1]) if v])
            if urls:
                self.scan.fetches.append(Fetch(line, name, True, urls[0]))
        if name not in _NOT_COMMANDS and owner not in {"logging", "logger", "log", "sys"}:
            self.named(call, name, cond)

    def directory(self, target: str | None) -> Cwd:
        if target is None or target.startswith(("/", "~")) or self.cwd is None:
            return None
        dirs = tuple(
            dict.fromkeys(d for d in (join_in(b, target) for b in self.cwd) if d is not None)
        )
        return dirs or None

    def argv(self, node: ast.expr) -> list[str] | None:
        if isinstance(node, ast.Name):
            known = self.values.get(node.id)
            return known if isinstance(known, list) else None
        if not isinstance(node, ast.List | ast.Tuple):
            return None
        words = []
        for element in node.elts:
            value = _str(element)
            if value is None and isinstance(element, ast.Name):
                named = self.values.get(element.id)
                value = named if isinstance(named, str) else None
            words.append(UNKNOWN_WORD if value is None else value)
        return words

    def subprocess(self, call: ast.Call, cond: str | None) -> None:
        first = call.args[0] if call.args else _keyword(call, "args")
        if first is None:
            return
        shell = _keyword(call, "shell")
        cwd_node = _keyword(call, "cwd")
        cwd = self.cwd if cwd_node is None else self.directory(_str(cwd_node))
        if isinstance(shell, ast.Constant) and shell.value is True:
            text = _str(first)
            if text is None and isinstance(first, ast.Name):
                known = self.values.get(first.id)
                text = known if isinstance(known, str) else None
            self.shell_string(text, call.lineno, cwd, cond)
            return
        words = self.argv(first)
        if words is None:
            text = _str(first)
            words = [text] if text is not None else None
        if words:
            self.command(words, call.lineno, cwd, cond)

    def command(self, words: list[str], line: int, cwd: Cwd, cond: str | None) -> None:
        words = effective_words(words)
        where = (self.here, cwd, self.made)
        for _, target, kind, direct in references_of(words):
            ref = reference(target, kind, line, where, How(direct, cond))
            if ref is not None:
                self.scan.references.append(ref)
        fetch = fetch_of(words, line)
        if fetch is not None:
            self.scan.fetches.append(fetch)
        for path, how, made_as in made_by(words, line):
            self.made.add(path, how, made_as, self.here, cwd)

    def shell_string(self, text: str | None, line: int, cwd: Cwd, cond: str | None) -> None:
        if text is None or len(text) > MAX_SHELL_STRING or cwd is None:
            return
        try:
            inner = scan_shell(text, self.path, line - 1, start=cwd)
        except ParseTimeout:
            return
        for ref in inner.references:
            self.scan.references.append(dataclasses.replace(ref, condition=cond or ref.condition))
        self.scan.fetches.extend(inner.fetches)

    def open(self, call: ast.Call, cond: str | None) -> None:
        target = _str(call.args[0]) if call.args else _str(_keyword(call, "file"))
        if target is None:
            return
        mode = _str(call.args[1]) if len(call.args) > 1 else _str(_keyword(call, "mode"))
        if mode is not None and not set("wax").isdisjoint(mode):
            self.made.add(
                target, f"written by open() on line {call.lineno}", "file", self.here, self.cwd
            )
            return
        ref = reference(
            target, RefKind.DATA, call.lineno, (self.here, self.cwd, self.made), How(False, cond)
        )
        if ref is not None:
            self.scan.references.append(ref)

    def named(self, call: ast.Call, name: str, cond: str | None) -> None:
        """Script names passed to another call (a wrapper that runs them): followed, WARN."""
        values = [_str(a) for a in call.args] + [_str(k.value) for k in call.keywords]
        for value in values:
            if value is None or not _looks_like_script(value):
                continue
            kind = (
                RefKind.PYTHON
                if value.endswith(".py")
                else RefKind.DATA
                if value.endswith(".json")
                else RefKind.RUN
            )
            how = How(False, cond, None, f"an argument of {name or 'a call'}()")
            ref = reference(value, kind, call.lineno, (self.here, self.cwd, self.made), how)
            if ref is None:
                continue
            if kind is RefKind.DATA and not ref.made:
                ref = dataclasses.replace(ref, made="named in Python code: it may be written there")
            self.scan.references.append(ref)


def _is_def(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and _str(test.comparators[0]) == "__main__"
    )


def scan_python(tree: ast.Module, path: str) -> PythonScan:
    """What the Python script at ``path`` (prefix-relative) runs, reads and downloads."""
    return _Walker(tree, path).run()
