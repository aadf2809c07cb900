"""The checks of one lifecycle file, each a pure function returning findings.

``lifecycle.lint`` decides which file is reached how (its :class:`Role`) and what it is (its
:class:`Kind`), runs the tools, and calls these; nothing here fetches or follows anything.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
import warnings
from enum import StrEnum

from .lifecycle_fixes import command, quote, shown, upload
from .lifecycle_models import LintFinding, LintLevel, ToolResult
from .lifecycle_words import RefKind
from .secret_scan import PYTHON_AST_LOCK, SecretHit, redact

LIFECYCLE_CONFIG_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ClusterLifeCycleConfig.html"
)
MAX_TOOL_FINDINGS = 25
FULL_COMPILE_BYTES = 256 * 1024  # larger Python files are parsed, not compiled (time bound)
SNIFF_BYTES = 8192
UTF16_32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\xff\xfe", b"\xfe\xff")
UTF8_BOM = b"\xef\xbb\xbf"
_SHELL_NAMES = re.compile(r"(?:^|/|\s)(?:ba|da|k|z)?sh(?:\s|$)")


class Role(StrEnum):
    """How a file was reached."""

    ENTRY = "entry"  # named by LifeCycleConfig
    RUN = "run"  # bash x / sh x
    DIRECT = "direct"  # ./x: executed, so its '#!' line matters
    SOURCE = "source"  # source x / . x
    PYTHON = "python"  # python3 x
    DATA = "data"  # -pp x
    PY_REF = "py-ref"  # a relative name in Python code


class Kind(StrEnum):
    """What a file is taken to be, from how it was reached, its '#!' line and its name."""

    SHELL = "shell"
    PYTHON = "python"
    JSON = "json"
    OTHER = "other"


ROLE_OF = {
    RefKind.RUN: Role.RUN,
    RefKind.SOURCE: Role.SOURCE,
    RefKind.PYTHON: Role.PYTHON,
    RefKind.DATA: Role.DATA,
}


def finding(
    rule: str, level: LintLevel, file: str, line: int | None, message: str, fix: str = ""
) -> LintFinding:
    """One finding; control characters in the message are escaped (a file name may hold them)."""
    return LintFinding(
        rule=rule, level=level, file=file, line=line, message=shown(message, 4000), remediation=fix
    )


def _reupload(path: str) -> str:
    return "upload the file again: " + upload(path)


def shebang_of(text: str) -> str | None:
    first = text.split("\n", 1)[0].rstrip("\r")
    return first[2:].strip() if first.startswith("#!") else None


def is_shell_shebang(shebang: str) -> bool:
    return bool(_SHELL_NAMES.search(shebang)) or shebang.endswith("sh")


def kind_of(path: str, role: Role, shebang: str | None) -> Kind:
    ext = posixpath.splitext(path)[1].lower()
    if role in {Role.RUN, Role.SOURCE}:
        return Kind.SHELL
    if role is Role.PYTHON:
        return Kind.PYTHON
    if role is Role.DATA:
        return Kind.JSON
    if role in {Role.ENTRY, Role.DIRECT} and shebang is not None:
        if "python" in shebang:
            return Kind.PYTHON
        return Kind.SHELL if is_shell_shebang(shebang) else Kind.OTHER
    if ext == ".py":
        return Kind.PYTHON
    if ext == ".json":
        return Kind.JSON
    if ext in {".sh", ".bash"} or role in {Role.ENTRY, Role.DIRECT}:
        return Kind.SHELL
    return Kind.OTHER


def line_of_byte(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def first_line(text: str, limit: int = 200) -> str:
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    return redact(line[:limit])


# -- encodings, binary, empty ----------------------------------------------------------------------
def utf16_finding(path: str) -> LintFinding:
    return finding(
        "bom",
        LintLevel.FAIL,
        path,
        1,
        f"{path} is saved as UTF-16 or UTF-32 (a byte-order mark and NUL bytes): neither bash, "
        "Python nor JSON readers take it",
        f"{command('iconv', '-f', 'UTF-16', '-t', 'UTF-8', path)} > {quote(path + '.utf8')} && "
        f"{command('mv', path + '.utf8', path)}",
    )


def empty_finding(path: str, role: Role) -> LintFinding:
    if role is Role.ENTRY:
        return finding(
            "empty",
            LintLevel.FAIL,
            path,
            None,
            f"entry script {path} is empty: the node is created without any set-up "
            "(an interrupted upload?)",
            _reupload(path),
        )
    if role is Role.DATA or path.endswith(".json"):
        return finding(
            "empty",
            LintLevel.FAIL if role is Role.DATA else LintLevel.WARN,
            path,
            None,
            f"{path} is empty: reading it as JSON fails",
            _reupload(path),
        )
    return finding(
        "empty",
        LintLevel.WARN,
        path,
        None,
        f"{path} is empty: running it does nothing",
        _reupload(path),
    )


def binary_finding(path: str, role: Role, data: bytes) -> LintFinding:
    elf = data.startswith(b"\x7fELF")
    if elf:
        what = "an executable program (ELF)"
    elif data.startswith(b"\x1f\x8b"):
        what = "gzip-compressed"
    else:
        what = "a binary file (NUL bytes)"
    fix = "upload the script itself: check that the upload did not compress it or save it as UTF-16"
    if elf and role is Role.DIRECT:
        return finding("binary", LintLevel.INFO, path, None, f"{path} is {what}: not linted")
    if elf and role is Role.ENTRY:
        return finding(
            "binary",
            LintLevel.UNKNOWN,
            path,
            None,
            f"entry {path} is {what}, not a script: it runs only if HyperPod executes the entry "
            f"directly, which its documentation does not say ({LIFECYCLE_CONFIG_DOC})",
            "make the entry a '#!/bin/bash' script that runs the program",
        )
    if role in {Role.DIRECT, Role.PY_REF}:
        level = LintLevel.UNKNOWN if role is Role.DIRECT else LintLevel.WARN
        return finding("binary", level, path, None, f"{path} is {what}: not linted", fix)
    effect = {
        Role.DATA: "a JSON file is expected: reading it fails",
        Role.PYTHON: "a Python script is expected: python3 refuses NUL bytes",
    }.get(role, "a script is expected: bash fails with 'cannot execute binary file'")
    return finding("binary", LintLevel.FAIL, path, None, f"{path} is {what} where {effect}", fix)


def bom_finding(path: str, kind: Kind) -> LintFinding:
    effect = (
        "Python's json module rejects it ('Unexpected UTF-8 BOM')"
        if kind is Kind.JSON
        else "the kernel does not see the '#!' line behind it, and bash runs the first line as "
        "a command that is not found"
    )
    return finding(
        "bom",
        LintLevel.FAIL,
        path,
        1,
        f"{path} starts with a UTF-8 byte-order mark: {effect}",
        f"sed -i '1s/^\\xEF\\xBB\\xBF//' -- {quote(path)}  (save as UTF-8 without BOM)",
    )


def _iconv(path: str) -> str:
    return (
        f"{command('iconv', '-f', 'LATIN1', '-t', 'UTF-8', path)} > {quote(path + '.utf8')} && "
        f"{command('mv', path + '.utf8', path)}  (if it was saved as Latin-1), or retype the "
        "character"
    )


def invalid_utf8_findings(path: str, kind: Kind, line: int) -> list[LintFinding]:
    if kind in {Kind.OTHER, Kind.PYTHON}:  # Python: compile() says it, with the file's coding
        return []
    shell = kind is Kind.SHELL
    return [
        finding(
            "invalid-utf8",
            LintLevel.WARN if shell else LintLevel.FAIL,
            path,
            line,
            f"{path}:{line} is not valid UTF-8"
            + (
                " (bash passes such bytes through, but they are usually a mangled character)"
                if shell
                else ": JSON must be UTF-8"
            ),
            _iconv(path),
        )
    ]


def secret_findings(path: str, hits: list[SecretHit]) -> list[LintFinding]:
    out = []
    where = quote(path)
    for hit in hits:
        if hit.kind.startswith("aws-access-key"):
            fix = (
                f"delete it from {where} and from the bucket (old object versions too), "
                "deactivate and rotate the key now (aws iam update-access-key --access-key-id "
                "<id> --status Inactive), and grant what the script needs to the instance "
                "group's execution role: nodes get its credentials already"
            )
        elif hit.kind == "password":
            fix = (
                f"delete it from {where} and from the bucket (old object versions too), rotate "
                "it, and read it at run time from AWS Secrets Manager (aws secretsmanager "
                "get-secret-value) or an SSM SecureString parameter"
            )
        else:
            fix = (
                f"delete it from {where} and from the bucket (old object versions too), revoke "
                "it where it was issued, and read it at run time from AWS Secrets Manager"
            )
        out.append(
            finding(
                "secret",
                LintLevel.FAIL if hit.fail else LintLevel.WARN,
                path,
                hit.line,
                f"{path}:{hit.line} holds {hit.what}; every node and anyone who can read the "
                "bucket can read it",
                fix,
            )
        )
    return out


# -- shell -----------------------------------------------------------------------------------------
def crlf_findings(path: str, body: bytes) -> list[LintFinding]:
    count = body.count(b"\r\n")
    if not count:
        return []
    first = line_of_byte(body, body.index(b"\r\n"))
    return [
        finding(
            "crlf",
            LintLevel.FAIL,
            path,
            first,
            f"{path} has Windows (CRLF) line endings on {count} line(s), first on line {first}: "
            "bash reads the carriage return as part of each command and fails with "
            "\"$'\\r': command not found\"",
            f"sed -i 's/\\r$//' -- {quote(path)}  (or: {command('dos2unix', '--', path)}); add "
            "'*.sh text eol=lf' to .gitattributes so it does not come back",
        )
    ]


def no_shebang_finding(path: str, kind: Kind) -> LintFinding:
    return finding(
        "no-shebang",
        LintLevel.WARN,
        path,
        1,
        f"{path} has no '#!' line. AWS documents the entry only as 'the entrypoint script ... "
        "[that] runs during cluster creation', not whether HyperPod starts it with bash or "
        f"executes it directly ({LIFECYCLE_CONFIG_DOC}); executed directly, a file without "
        "'#!' fails with 'Exec format error'",
        "make the first line '#!/bin/bash'"
        if kind is Kind.SHELL
        else "make the first line '#!/usr/bin/env python3'",
    )


def no_errexit_finding(path: str) -> LintFinding:
    return finding(
        "no-errexit",
        LintLevel.INFO,
        path,
        None,
        f"{path} does not stop at the first failing command (no 'set -e'): a failed step goes "
        "unnoticed and the node may come up half configured",
        "add 'set -euo pipefail' after the '#!' line",
    )


def bash_syntax_findings(path: str, result: ToolResult | None) -> tuple[list[LintFinding], bool]:
    """Findings from ``bash -n``, and False when it found a syntax error."""
    if result is None:
        return [
            finding(
                "bash-syntax",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path}: syntax not checked: bash is not available here",
                f"install bash, or run: {command('bash', '-n', '--', path)}",
            )
        ], True
    if result.timed_out or result.returncode < 0:
        why = "did not finish in time" if result.timed_out else "could not run"
        reason = first_line(result.stderr)
        message = f"{path}: bash -n {why}" + (f": {reason}" if reason else "")
        return [finding("bash-syntax", LintLevel.UNKNOWN, path, None, message)], True
    stderr = re.sub(r"(?m)^\S*bash: ", "", result.stderr)
    m = re.search(r"line (\d+)", stderr)
    line = int(m.group(1)) if m else None
    if result.returncode != 0:
        return [
            finding(
                "bash-syntax",
                LintLevel.FAIL,
                path,
                line,
                f"{path} has a syntax error (bash -n): {first_line(stderr)}",
                f"{command('bash', '-n', '--', path)}  shows the error; fix the line it names",
            )
        ], False
    if "warning" in stderr:
        return [
            finding(
                "bash-syntax",
                LintLevel.WARN,
                path,
                line,
                f"{path}: bash -n warns: {first_line(stderr)}",
                command("bash", "-n", "--", path),
            )
        ], True
    return [], True


def shellcheck_argv(shebang: str | None) -> list[str]:
    argv = ["shellcheck", "--format=json1", "--severity=warning", "--exclude=SC1090,SC1091"]
    if shebang is None or not is_shell_shebang(shebang):
        argv.append("--shell=bash")
    return [*argv, "-"]


def shellcheck_comments(stdout: str) -> list[tuple[int, int, str]] | None:
    """(line, code, message) of warnings and errors in ``shellcheck -f json1`` or ``-f gcc``."""
    try:
        doc = json.loads(stdout) if stdout.strip() else {"comments": []}
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("comments"), list):
        out = []
        for c in doc["comments"]:
            if not isinstance(c, dict) or c.get("level") not in ("error", "warning"):
                continue
            try:
                out.append((int(c["line"]), int(c["code"]), str(c["message"])))
            except (KeyError, TypeError, ValueError):
                continue
        return out
    gcc = re.findall(r"^[^:\n]*:(\d+):\d+: (?:error|warning): (.*) \[SC(\d+)\]$", stdout, re.M)
    if gcc:
        return [(int(line), int(code), message) for line, message, code in gcc]
    return None


def shellcheck_findings(path: str, result: ToolResult) -> list[LintFinding]:
    if result.timed_out or result.returncode < 0:
        return []
    comments = shellcheck_comments(result.stdout)
    if comments is None:
        if result.returncode in (0, 1):
            return []
        return [
            finding(
                "shellcheck",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path}: shellcheck failed: {first_line(result.stderr)}",
            )
        ]
    out = [
        finding(
            "shellcheck",
            LintLevel.INFO,  # style and robustness advice: not a failure of the node's set-up
            path,
            line,
            f"{path}:{line} SC{code}: {redact(message)}",
            f"https://www.shellcheck.net/wiki/SC{code}",
        )
        for line, code, message in comments[:MAX_TOOL_FINDINGS]
    ]
    if len(comments) > MAX_TOOL_FINDINGS:
        out.append(
            finding(
                "shellcheck",
                LintLevel.INFO,
                path,
                None,
                f"{path}: {len(comments) - MAX_TOOL_FINDINGS} more shellcheck findings",
                command("shellcheck", "--", path),
            )
        )
    return out


# -- python and json -------------------------------------------------------------------------------
def python_crlf_findings(
    path: str, role: Role, text: str, shebang: str | None
) -> list[LintFinding]:
    """A '#!' line ending in CR breaks a Python file that is executed (python3 x.py is fine)."""
    executed = role in {Role.ENTRY, Role.DIRECT} and shebang is not None
    if not (executed and text.split("\n", 1)[0].endswith("\r")):
        return []
    return [
        finding(
            "crlf",
            LintLevel.FAIL,
            path,
            1,
            f"the '#!' line of {path} ends in a carriage return (CRLF line endings): executing "
            "it fails with \"/usr/bin/env: 'python3\\r': No such file or directory\"",
            f"sed -i 's/\\r$//' -- {quote(path)}  (or: {command('dos2unix', '--', path)})",
        )
    ]


ParsedPython = ast.Module | SyntaxError | ValueError | RecursionError


def compile_python(
    path: str, data: bytes, bad_line: int | None, parsed: ParsedPython | None = None
) -> tuple[ast.Module | None, list[LintFinding]]:
    """Parse and compile (nothing runs); the tree when it compiles, else why not.

    ``parsed``: the tree already parsed from ``data`` (or the parser's error), so that a file
    is parsed once; None for a file too large to build a tree of: it is compiled straight
    from the source (its syntax is checked, no tree comes back).

    This is the Python running the lint: a script using syntax newer than the node's
    ``python3`` still passes here.
    """
    try:
        with PYTHON_AST_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if parsed is None:
                compile(data, path, "exec", dont_inherit=True)
                return None, []
            if not isinstance(parsed, ast.Module):
                raise parsed
            if len(data) <= FULL_COMPILE_BYTES:  # the rest of compile's checks, on usual sizes
                compile(parsed, path, "exec", dont_inherit=True)
        return parsed, []
    except SyntaxError as e:
        msg = str(e.msg)
        if "codec can't decode" in msg or "unicode error" in msg:
            return None, [
                finding(
                    "invalid-utf8",
                    LintLevel.FAIL,
                    path,
                    bad_line or e.lineno or None,
                    f"{path} is not valid UTF-8 and declares no other encoding: Python refuses "
                    "to run it",
                    _iconv(path),
                )
            ]
        return None, [
            finding(
                "python-syntax",
                LintLevel.FAIL,
                path,
                e.lineno or None,
                f"{path} does not compile: {redact(msg)}"
                + (f" (line {e.lineno})" if e.lineno else ""),
                f"{command('python3', '-m', 'py_compile', path)}  shows the error",
            )
        ]
    except ValueError as e:
        return None, [
            finding(
                "python-syntax",
                LintLevel.FAIL,
                path,
                None,
                f"{path} does not compile: {e}",
                command("python3", "-m", "py_compile", path),
            )
        ]
    except (RecursionError, MemoryError):
        return None, [
            finding(
                "python-syntax",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path} is nested too deeply to compile here",
            )
        ]


def json_findings(path: str, text: str) -> list[LintFinding]:
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        return [
            finding(
                "json-syntax",
                LintLevel.FAIL,
                path,
                e.lineno,
                f"{path} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}",
                f"{command('python3', '-m', 'json.tool', path)}  shows the error",
            )
        ]
    except RecursionError:
        return [
            finding("json-syntax", LintLevel.UNKNOWN, path, None, f"{path} is nested too deeply")
        ]
    return []
