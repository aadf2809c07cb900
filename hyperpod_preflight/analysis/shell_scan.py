"""A shallow reading of shell scripts: the commands on each line, what they run or read.

This is not a shell parser. It reads what a lifecycle script plainly says (``bash x.sh``,
``./x.sh``, ``source x``, ``python3 x.py -pp params.json``, ``curl https://...``) and stays
silent on what it cannot read plainly (variables, ``eval``, quoting it cannot split). Callers
treat what it finds as evidence for a finding, never its absence as proof.

Comments, here-document bodies and line continuations are handled; a line whose quoting does
not close is split on blanks instead.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

SCRIPT_DIR = "@SCRIPT_DIR@"
"""Stands for ``$(dirname "$0")`` and its spellings: the directory of the running script."""

_SCRIPT_DIR_FORMS = re.compile(
    r"""\$\(\s*(?:cd\s+)?["']?\$\(\s*dirname\s+(?:--\s+)?["']?\$(?:0|\{0\}|\{BASH_SOURCE\[0\]\}|\{BASH_SOURCE\})["']?\s*\)["']?(?:\s*(?:&&|;)\s*pwd(?:\s+-P)?)?\s*\)"""
    r"""|\$\(\s*dirname\s+(?:--\s+)?["']?\$(?:0|\{0\}|\{BASH_SOURCE\[0\]\}|\{BASH_SOURCE\})["']?\s*\)""",
)
_HEREDOC = re.compile(r"(?<!<)<<(-?)\s*(['\"]?)([A-Za-z_][\w-]*)\2")
_OPERATOR_CHARS = set(";&|()")
_REDIRECT_CHARS = set("<>&")
_KEYWORDS = {"if", "then", "do", "else", "elif", "while", "until", "!", "{", "}", "time"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*(?:\[[^\]]*\])?\+?=")
_SHELLS = {"bash", "sh", "dash", "zsh", "ksh"}
_PYTHON = re.compile(r"^(?:.*/)?python(?:\d+(?:\.\d+)?)?$")
_PP_FLAGS = {"-pp", "--provisioning-parameters", "--provisioning_parameters"}
_UNKNOWN_PRODUCERS = {"tar", "unzip", "7z", "rsync", "cpio", "bsdtar", "gunzip"}
_URL = re.compile(r"(?i)\b(?:https?|ftp)://[^\s'\"`)<>]+")
_GIT_URL = re.compile(r"^(?:https?://|git://|ssh://|git@)")


class RefKind(StrEnum):
    RUN = "run"  # bash x.sh / sh x.sh / ./x.sh
    SOURCE = "source"  # source x / . x
    PYTHON = "python"  # python3 x.py
    DATA = "data"  # -pp params.json


@dataclass(frozen=True)
class Reference:
    """A file the script names by a relative path, on ``line``, and how it uses it."""

    target: str
    kind: RefKind
    line: int
    direct: bool = False  # executed as a program (./x.sh), so its shebang matters


@dataclass(frozen=True)
class Fetch:
    """A download on ``line``; ``certain`` when a literal public URL or index is named."""

    line: int
    tool: str
    certain: bool
    detail: str


@dataclass(frozen=True)
class Command:
    line: int
    words: tuple[str, ...]  # after keywords, assignments and wrappers (sudo, env …)


@dataclass
class ShellScan:
    commands: list[Command] = field(default_factory=list)
    code: list[tuple[int, str]] = field(default_factory=list)  # comment-free logical lines
    references: list[Reference] = field(default_factory=list)
    fetches: list[Fetch] = field(default_factory=list)
    redirect_targets: set[str] = field(default_factory=set)
    uncertain_from: int | None = None  # first `cd` or archive extraction: paths shift after
    errexit_line: int | None = None
    sets_proxy: bool = False


def strip_comment(line: str) -> str:
    """``line`` without a trailing ``# comment`` (a ``#`` that starts a word, outside quotes)."""
    quote = ""
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c == "\\":
            i += 2
            continue
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace() or line[i - 1] in ";&|()"):
            return line[:i]
        i += 1
    return line


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first physical line number, code) for each logical line outside here-documents."""
    out: list[tuple[int, str]] = []
    pending: list[tuple[bool, str]] = []  # here-documents still to skip: (strip tabs, word)
    buffer = ""
    start = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        if pending:
            strip_tabs, word = pending[0]
            if (raw.lstrip("\t") if strip_tabs else raw).rstrip("\r") == word:
                pending.pop(0)
            continue
        code = strip_comment(raw.rstrip("\r"))
        if not buffer:
            start = number
        if code.endswith("\\") and not code.endswith("\\\\"):
            buffer += code[:-1] + " "
            continue
        logical = buffer + code
        buffer = ""
        pending.extend((m.group(1) == "-", m.group(3)) for m in _HEREDOC.finditer(logical))
        if logical.strip():
            out.append((start, logical))
    if buffer.strip():
        out.append((start, buffer))
    return out


def _tokens(code: str) -> list[str]:
    lexer = shlex.shlex(code, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: split on blanks and operators, strip quotes
        return [t.strip("'\"") for t in re.findall(r"[;&|()<>]+|[^\s;&|()<>]+", code)]


def _commands(code: str) -> tuple[list[list[str]], list[str]]:
    """Split one logical line into commands (lists of words) and its redirection targets."""
    commands: list[list[str]] = [[]]
    targets: list[str] = []
    tokens = _tokens(code)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        punct = bool(token) and set(token) <= _OPERATOR_CHARS | _REDIRECT_CHARS
        if punct and ("<" in token or ">" in token) and not set(token) & set("();|"):
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            if following and not set(following) <= _OPERATOR_CHARS | _REDIRECT_CHARS:
                if ">" in token and not (token.endswith("&") and following.isdigit()):
                    targets.append(following)
                i += 1
        elif punct:
            commands.append([])
        else:
            commands[-1].append(token)
        i += 1
    return [c for c in commands if c], targets


def _skip_options(words: list[str], i: int, with_arg: set[str]) -> int:
    while i < len(words) and words[i].startswith("-") and words[i] != "-":
        if words[i] == "--":
            return i + 1
        i += 2 if words[i] in with_arg else 1
    return i


def effective_words(words: list[str]) -> list[str]:
    """The command after leading keywords, assignments and wrappers (sudo, env, nohup …)."""
    i = 0
    while i < len(words):
        w = words[i]
        if w in _KEYWORDS or _ASSIGNMENT.match(w):
            i += 1
        elif w == "sudo":
            i = _skip_options(words, i + 1, {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"})
        elif w == "env":
            i = _skip_options(words, i + 1, {"-u", "-C", "-S"})
        elif w in {"exec", "nohup", "command", "builtin"}:
            i = _skip_options(words, i + 1, {"-a"})
        elif w == "nice":
            i = _skip_options(words, i + 1, {"-n"})
        elif w == "timeout":
            i = _skip_options(words, i + 1, {"-k", "-s", "--signal", "--kill-after"}) + 1
        elif w == "stdbuf":
            i = _skip_options(words, i + 1, set())
        else:
            break
    return words[i:]


def _plain_path(word: str) -> bool:
    """A relative path the lint can look up: no expansion, globbing or home directory."""
    if not word or word == "-" or word.startswith(("/", "~", "-")):
        return False
    if word.startswith(SCRIPT_DIR):
        return not re.search(r"[$`*?\[{~]", word[len(SCRIPT_DIR) :])
    return not re.search(r"[$`*?\[{~=]", word)


def _shell_script_arg(args: list[str]) -> str | None:
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return args[i + 1] if i + 1 < len(args) else None
        if a.startswith(("-", "+")) and len(a) > 1:
            if not a.startswith("--") and ("c" in a[1:] or "s" in a[1:]):
                return None  # -c 'inline' / -s (stdin)
            i += 2 if a in {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"} else 1
            continue
        return a
    return None


def _python_script_arg(args: list[str]) -> str | None:
    i = 0
    while i < len(args):
        a = args[i]
        if a in {"-m", "-c"} or (a.startswith("-") and not a.startswith("--") and "c" in a[1:]):
            return None
        if a.startswith("-") and a != "-":
            i += 2 if a in {"-W", "-X", "--check-hash-based-pycs"} else 1
            continue
        return a if a != "-" else None
    return None


def _pp_args(args: list[str]) -> list[str]:
    out = []
    for i, a in enumerate(args):
        if a in _PP_FLAGS and i + 1 < len(args):
            out.append(args[i + 1])
        elif "=" in a and a.split("=", 1)[0] in _PP_FLAGS:
            out.append(a.split("=", 1)[1])
    return out


def references_of(words: list[str], line: int) -> list[Reference]:
    """What one command runs, sources or reads by a relative path."""
    if not words:
        return []
    cmd, args = words[0], words[1:]
    refs: list[Reference] = []
    script: str | None = None
    kind = RefKind.RUN
    direct = False
    if cmd in _SHELLS:
        script = _shell_script_arg(args)
    elif cmd in {"source", "."}:
        script, kind = (args[0] if args else None), RefKind.SOURCE
    elif _PYTHON.match(cmd):
        script, kind = _python_script_arg(args), RefKind.PYTHON
    elif "/" in cmd and _plain_path(cmd):
        script, direct = cmd, True
    if script is not None and _plain_path(script):
        refs.append(Reference(script, kind, line, direct))
    refs.extend(Reference(p, RefKind.DATA, line) for p in _pp_args(args) if _plain_path(p))
    return refs


def is_public_host(host: str) -> bool:
    """True for a host on the internet; False for private, link-local and AWS names."""
    host = host.lower().strip("[]")
    if not host or "$" in host:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return not (
            host == "localhost"
            or host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".internal", ".local"))
            or "." not in host
        )
    return ip.is_global


def _public_urls(text: str) -> list[str]:
    out = []
    for url in _URL.findall(text):
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            continue
        if is_public_host(host):
            out.append(url)
    return out


def _git_host(url: str) -> str:
    if url.startswith("git@"):
        return url[4:].split(":", 1)[0]
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def fetch_of(words: list[str], line: int) -> Fetch | None:
    """The download one command makes, if it plainly makes one."""
    if not words:
        return None
    cmd, args = words[0].rsplit("/", 1)[-1], words[1:]
    if cmd in {"curl", "wget"}:
        urls = [a for a in args if _URL.match(a)]
        public = _public_urls(" ".join(urls))
        if public:
            return Fetch(line, cmd, True, public[0])
        if not urls and any("$" in a for a in args):
            return Fetch(line, cmd, False, "a URL held in a variable")
        return None
    if cmd == "git" and args[:1] == ["clone"]:
        urls = [a for a in args[1:] if _GIT_URL.match(a)]
        if any(is_public_host(_git_host(u)) for u in urls):
            return Fetch(line, "git clone", True, next(u for u in urls))
        if not urls and any("$" in a for a in args):
            return Fetch(line, "git clone", False, "a repository URL held in a variable")
        return None
    pip_args: list[str] | None = None
    if re.fullmatch(r"pip(?:\d+(?:\.\d+)?)?", cmd) and args[:1] == ["install"]:
        pip_args = args[1:]
    elif _PYTHON.match(cmd) and args[:3] == ["-m", "pip", "install"]:
        pip_args = args[3:]
    if pip_args is not None:
        return _pip_fetch(pip_args, line)
    if cmd in {"apt-get", "apt", "yum", "dnf", "zypper"} and (
        {"install", "update", "upgrade"} & set(args)
    ):
        return Fetch(line, cmd, False, "package repositories, unless a mirror is configured")
    if cmd in {"conda", "mamba", "micromamba"} and {"install", "create"} & set(args):
        return Fetch(line, cmd, False, "conda channels, unless a mirror is configured")
    return None


def _pip_fetch(args: list[str], line: int) -> Fetch | None:
    joined = " ".join(args)
    if re.search(r"(?:^|\s)(?:--no-index|--index-url|-i|--find-links|-f)(?:[\s=]|$)", joined):
        return None
    packages = [a for a in args if not a.startswith("-")]
    local = [a for a in packages if a.startswith((".", "/")) or a.endswith((".whl", ".tar.gz"))]
    if packages and len(local) == len(packages):
        return None
    if not packages and "-r" not in args and "--requirement" not in args:
        return None
    return Fetch(line, "pip install", True, "the Python Package Index")


def _errexit(words: list[str]) -> bool:
    if not words or words[0] != "set":
        return False
    args = words[1:]
    for i, a in enumerate(args):
        if re.fullmatch(r"-[A-Za-z]*e[A-Za-z]*", a):
            return True
        if a == "-o" and i + 1 < len(args) and args[i + 1] == "errexit":
            return True
    return False


_PROXY = re.compile(
    r"(?i)(?:\b(?:https?|all)_proxy\s*=|\bPIP_INDEX_URL\s*=|pip3?\s+config\s+set\s+global\.index-url"
    r"|--proxy[\s=])"
)


def scan_shell(text: str) -> ShellScan:
    """Commands, references, downloads and ``set -e`` of one shell script."""
    scan = ShellScan()
    first = text.split("\n", 1)[0]
    if first.startswith("#!") and re.search(r"\s-[A-Za-z]*e", first):
        scan.errexit_line = 1
    dir_vars: set[str] = set()
    for line, code in logical_lines(text):
        scan.code.append((line, code))
        if _PROXY.search(code):
            scan.sets_proxy = True
        code = _SCRIPT_DIR_FORMS.sub(SCRIPT_DIR, code)
        for var in dir_vars:
            code = re.sub(r"\$(?:\{" + var + r"\}|" + var + r"(?!\w))", SCRIPT_DIR, code)
        commands, targets = _commands(code)
        scan.redirect_targets.update(targets)
        for raw in commands:
            for w in raw:
                m = re.fullmatch(r"([A-Za-z_]\w*)=" + re.escape(SCRIPT_DIR) + "/?", w)
                if m:
                    dir_vars.add(m.group(1))
            words = effective_words(raw)
            if not words:
                continue
            scan.commands.append(Command(line, tuple(words)))
            name = words[0]
            moves = name in {"cd", "pushd"} and words[1:2] != [SCRIPT_DIR]
            shifts = moves or name in _UNKNOWN_PRODUCERS or _copies_tree(words)
            if shifts and scan.uncertain_from is None:
                scan.uncertain_from = line
            if scan.errexit_line is None and _errexit(words):
                scan.errexit_line = line
            scan.references.extend(references_of(words, line))
            fetch = fetch_of(words, line)
            if fetch is not None:
                scan.fetches.append(fetch)
    return scan


def _copies_tree(words: list[str]) -> bool:
    """Commands that create files whose names the script does not spell out."""
    name, args = words[0], words[1:]
    if name == "git" and args[:1] == ["clone"]:
        return True
    if name == "aws" and args[:1] == ["s3"] and (args[1:2] == ["sync"] or "--recursive" in args):
        return True
    return name in {"cp", "mv"} and any(
        re.fullmatch(r"-[A-Za-z]*[rRa][A-Za-z]*", a) or a in {"--recursive", "--archive"}
        for a in args
    )


_PY_FETCH = re.compile(
    r"(?:\bcurl\b|\bwget\b|\bgit\b[\"',\s]+clone\b|\burlopen\(|\burlretrieve\(|\brequests\.(?:get|post)\("
    r"|\bpip3?\b[\"',\s]+install\b)"
)


def python_fetches(text: str) -> list[Fetch]:
    """Downloads a Python script plainly makes: a fetching call and a public URL on one line."""
    out = []
    for number, raw in enumerate(text.split("\n"), start=1):
        code = raw.split("#", 1)[0] if raw.lstrip().startswith("#") else raw
        m = _PY_FETCH.search(code)
        if not m:
            continue
        public = _public_urls(code)
        if public:
            tool = re.sub(r"[\"',\s(]+", " ", m.group()).strip()
            out.append(Fetch(number, tool, True, public[0]))
        elif re.search(r"\bpip3?\b[\"',\s]+install\b", code):
            out.append(Fetch(number, "pip install", False, "the Python Package Index"))
    return out


def mentions(code: list[tuple[int, str]], name: str) -> int:
    """How often ``name`` appears as a word (or part of a path or URL) in the code lines."""
    pattern = re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])")
    return sum(len(pattern.findall(line)) for _, line in code)
