"""The terminal report, read in ten seconds: what needs attention first (FAIL, then WARN, then
UNKNOWN), each with its fix; then one line counting what passed; then the summary.

- Every line fits ``width``: messages and fixes are wrapped at spaces, never inside an id
  (``subnet-0abc…``, ``s3://…``, ARNs); a check id or resource is never broken.
- A long fix shows its first lines beside the problem and is printed whole under "Fixes in
  full", so both the overview and the complete command are there.
- A fix that is a shell command is wrapped with `` \\`` continuations, at spaces outside
  quotes only, so the wrapped command still pastes.
- ``verbosity``: -1 prints only the summary line; 1 also lists every PASS and SKIP.

Pure functions returning strings.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from .render_location import at_location
from .results import Finding, RunReport, Status

_COLORS = {
    Status.PASS: "\033[32m",
    Status.FAIL: "\033[1;31m",
    Status.WARN: "\033[33m",
    Status.UNKNOWN: "\033[35m",
    Status.SKIP: "\033[2m",
}
_RESET = "\033[0m"
ORDER = {Status.FAIL: 0, Status.WARN: 1, Status.UNKNOWN: 2, Status.PASS: 3, Status.SKIP: 4}
INDENT = 6  # "FAIL  " / "WARN  " / the message under it
FIX_LINES = 2  # lines of a fix shown beside its problem; the rest under "Fixes in full"
MIN_WIDTH = 40
# a remediation line that is a command (pasted into a shell) rather than prose
_COMMAND = re.compile(r"^(\$ )?(sudo )?(aws|hp-preflight|kubectl|helm|eksctl) ")
# "; aws …" inside a remediation: one command per line reads (and pastes) better
_NEXT_COMMAND = re.compile(r";\s+(?=(aws|kubectl|helm|eksctl|hp-preflight) )")


@dataclass(frozen=True)
class Style:
    """How a table is drawn: colour, terminal width, how much is listed."""

    color: bool = False
    width: int = 100
    verbosity: int = 0  # -1 summary only, 0 problems + counts, 1 everything


def status_label(status: Status, color: bool) -> str:
    text = f"{status.value:<7}" if status is Status.UNKNOWN else f"{status.value:<4}"
    return f"{_COLORS[status]}{text}{_RESET}" if color else text


def wrap_prose(text: str, width: int, indent: str) -> list[str]:
    """``text`` wrapped at spaces to ``width`` (each line starting with ``indent``); a word is
    only broken when it alone is wider than the line (then nothing else could be done)."""
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        out += textwrap.wrap(
            paragraph,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
            break_long_words=False,
        ) or [indent.rstrip()]
    return [x for line in out for x in fit(line, width)]


def fit(line: str, width: int) -> list[str]:
    """``line`` as it may be shown in ``width`` columns: as is; else without its indent (a
    long id on a line of its own); else, only when the word alone is wider than the whole
    line, cut (nothing else could be done)."""
    if len(line) <= width:
        return [line]
    bare = line.lstrip(" ")
    if len(bare) <= width:
        return [bare]
    return [bare[i : i + width] for i in range(0, len(bare), width)]


def _outside_quotes_spaces(line: str) -> list[int]:
    """Offsets of the spaces of ``line`` that lie outside shell quotes."""
    spaces, quote, escaped = [], "", False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch == " ":
            spaces.append(i)
    return spaces


def wrap_command(line: str, width: int, indent: str) -> list[str]:
    """A shell command wrapped with `` \\`` continuations at spaces outside quotes; a piece
    with no such space stays whole (a command is never broken where it would not paste)."""
    room = width - len(indent) - 2  # " \"
    if len(indent) + len(line) <= width or room < 10:
        return [indent + line]
    out, rest, first = [], line, indent
    while len(rest) > room + 2:
        spaces = [i for i in _outside_quotes_spaces(rest) if i > 0]
        cuts = [i for i in spaces if i <= room] or spaces[:1]  # else: the long word ends a line
        if not cuts:
            break
        out += fit(f"{indent}{rest[: cuts[-1]]} \\", width)
        rest = rest[cuts[-1] + 1 :].lstrip(" ")
        indent = first + "  "
        room = width - len(indent) - 2
    return out + fit(indent + rest, width)


def wrap_fix(text: str, width: int, indent: str) -> list[str]:
    """A remediation wrapped: commands as commands, prose as prose."""
    out: list[str] = []
    for line in _NEXT_COMMAND.sub("\n", text).splitlines():
        stripped = line.strip()
        if _COMMAND.match(stripped):
            out += wrap_command(stripped, width, indent)
        else:
            out += wrap_prose(stripped, width, indent)
    return out


def _head(f: Finding, style: Style) -> list[str]:
    """``STATUS  check.id  resource``, the resource on its own line when both do not fit."""
    label = status_label(f.status, style.color)
    pad = " " * max(2, INDENT - len(f.status.value))
    first = f"{label}{pad}{f.check_id}"
    shown = len(f.status.value) + len(pad) + len(f.check_id)
    resource = "" if f.resource in ("", "-") else f.resource
    if not resource:
        return [first]
    if shown + 2 + len(resource) <= style.width:
        return [f"{first}  {resource}"]
    return [first, " " * INDENT + resource]


def problem_lines(f: Finding, style: Style) -> tuple[list[str], bool]:
    """One problem: its head, its message and (the start of) its fix; whether the fix was cut."""
    indent = " " * INDENT
    lines = _head(f, style) + wrap_prose(f.message + at_location(f), style.width, indent)
    if not f.remediation:
        return lines, False
    fix = wrap_fix(f.remediation, style.width - len("fix: "), indent)
    fix = [
        (indent + "fix: " if i == 0 else indent + "     ") + x[INDENT:] for i, x in enumerate(fix)
    ]
    if len(fix) <= FIX_LINES or style.verbosity > 0:
        return lines + fix, False
    return lines + fix[:FIX_LINES] + [indent + "     … (whole fix under 'Fixes in full')"], True


def _passed_line(findings: list[Finding]) -> str:
    passed = sum(f.status is Status.PASS for f in findings)
    skipped = sum(f.status is Status.SKIP for f in findings)
    parts = [f"{passed} passed"] + ([f"{skipped} not applicable"] if skipped else [])
    return f"{', '.join(parts)} (-v lists them)"


def _listing(findings: Iterable[Finding], style: Style) -> list[str]:
    """Every PASS and SKIP, one short block each (``-v``)."""
    out: list[str] = []
    for f in sorted(findings, key=lambda f: (ORDER[f.status], f.check_id)):
        out += _head(f, style) + wrap_prose(f.message, style.width, " " * INDENT)
    return out


def title(report: RunReport) -> str:
    head = f"hp-preflight {report.kind}"
    for part in (report.target, report.region):
        if part:
            head += f" · {part}"
    if report.account:
        head += f" · account {report.account}"
    return head


def table(report: RunReport, style: Style, summary: str, extra: list[str]) -> str:
    """The whole terminal report; ``extra`` (audit or capacity tables) goes before the
    summary line."""
    if style.verbosity < 0:
        return summary + "\n"  # one line, whatever its length: scripts read it whole
    style = Style(style.color, max(MIN_WIDTH, style.width), style.verbosity)
    problems = sorted(
        (f for f in report.results if f.status in (Status.FAIL, Status.WARN, Status.UNKNOWN)),
        key=lambda f: (ORDER[f.status], -f.severity.rank, f.check_id),
    )
    out = [title(report), ""]
    cut: list[Finding] = []
    for f in problems:
        lines, was_cut = problem_lines(f, style)
        out += lines
        if was_cut:
            cut.append(f)
    rest = [f for f in report.results if f.status in (Status.PASS, Status.SKIP)]
    if problems:
        out.append("")
    out += [*_listing(rest, style), ""] if style.verbosity > 0 else [_passed_line(rest)]
    out += extra
    if cut:
        out += ["", "Fixes in full:"]
        for f in cut:
            out += _head(f, style) + wrap_fix(f.remediation, style.width, " " * INDENT)
    failing = list(dict.fromkeys(f.check_id for f in report.results if f.status is Status.FAIL))
    if failing and report.kind != "lint":  # the lint takes no --ignore
        hint = f"To accept these failures and go on (not recommended): --ignore {','.join(failing)}"
        out += ["", *wrap_prose(hint, style.width, "")]
    out += ["", *wrap_prose(summary, style.width, "")]
    return "\n".join(out) + "\n"
