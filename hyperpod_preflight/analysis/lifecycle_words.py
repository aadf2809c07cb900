"""What one command does, from its words: the files it runs or reads, makes, or downloads.

The words come from a parser (tree-sitter-bash for shell, ``ast`` for a Python ``subprocess``
argument list), already expanded where the script's own literals allow it; a word that
depends on the run is :data:`UNKNOWN_WORD`. Everything here is plain string work on single
words: no regular expression runs over a script's text.
"""

from __future__ import annotations

import ipaddress
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

SCRIPT_DIR = "@SCRIPT_DIR@"
"""Stands for ``$(dirname "$0")`` and its spellings: the directory of the running script."""
SELF = "@SELF@"
"""Stands for ``$0`` / ``${BASH_SOURCE[0]}``: the running script."""
UNKNOWN_WORD = "$?unknown"
"""A word whose value depends on the run (a variable, a command's output)."""

_SHELLS = {"bash", "sh", "dash", "zsh", "ksh"}
_PP_FLAGS = {"-pp", "--provisioning-parameters", "--provisioning_parameters"}
_PATH_SPECIALS = set("$`*?[{~")
_PKG = {"apt-get", "apt", "yum", "dnf", "zypper"}
_CONDA = {"conda", "mamba", "micromamba"}


class RefKind(StrEnum):
    RUN = "run"  # bash x.sh / sh x.sh / ./x.sh
    SOURCE = "source"  # source x / . x
    PYTHON = "python"  # python3 x.py
    DATA = "data"  # -pp params.json, open("x.json")


@dataclass(frozen=True)
class Fetch:
    """A download on ``line``; ``certain`` when a literal public URL or index is named."""

    line: int
    tool: str
    certain: bool
    detail: str


def plain_path(word: str, *, allow_dot: bool = False) -> bool:
    """A relative path the lint can look up: no expansion, globbing or home directory."""
    if not word or word == "-" or word.startswith(("/", "~", "-")):
        return False
    if word in {".", ".."} and not allow_dot:
        return False
    rest = word[len(SCRIPT_DIR) :] if word.startswith(SCRIPT_DIR) else word
    if not _PATH_SPECIALS.isdisjoint(rest) or "\x00" in rest:
        return False
    return word.startswith(SCRIPT_DIR) or "=" not in word


def is_python(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    if not base.startswith("python"):
        return False
    version = base[len("python") :]
    return version == "" or (version.replace(".", "").isdigit() and not version.startswith("."))


def _skip_options(words: list[str], i: int, with_arg: set[str]) -> int:
    while i < len(words) and words[i].startswith("-") and words[i] != "-":
        if words[i] == "--":
            return i + 1
        i += 2 if words[i] in with_arg else 1
    return i


_WRAPPERS: dict[str, set[str]] = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"},
    "env": {"-u", "-C", "-S"},
    "exec": {"-a"},
    "nohup": set(),
    "command": set(),
    "builtin": set(),
    "nice": {"-n"},
    "stdbuf": set(),
    "time": set(),
}


def effective_words(words: list[str]) -> list[str]:
    """The command after leading assignments and wrappers (sudo, env, nohup, timeout …)."""
    i = 0
    while i < len(words):
        w = words[i]
        if w in _WRAPPERS:
            i = _skip_options(words, i + 1, _WRAPPERS[w])
        elif w == "timeout":
            i = _skip_options(words, i + 1, {"-k", "-s", "--signal", "--kill-after"}) + 1
        elif w == "env" or (i > 0 and words[0] == "env" and "=" in w and not w.startswith("-")):
            i += 1
        else:
            break
    return words[i:]


def _shell_script_arg(args: list[str]) -> int | None:
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return i + 1 if i + 1 < len(args) else None
        if a.startswith(("-", "+")) and len(a) > 1:
            if not a.startswith("--") and ("c" in a[1:] or "s" in a[1:]):
                return None  # -c 'inline' / -s (stdin)
            i += 2 if a in {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"} else 1
            continue
        return i
    return None


def _python_script_arg(args: list[str]) -> int | None:
    i = 0
    while i < len(args):
        a = args[i]
        if a in {"-m", "-c"} or (a.startswith("-") and not a.startswith("--") and "c" in a[1:]):
            return None
        if a.startswith("-") and a != "-":
            i += 2 if a in {"-W", "-X", "--check-hash-based-pycs"} else 1
            continue
        return i if a != "-" else None
    return None


def references_of(words: list[str]) -> list[tuple[int, str, RefKind, bool]]:
    """(word index, path, kind, executed directly) for what one command runs or reads."""
    if not words:
        return []
    cmd, args = words[0], words[1:]
    out: list[tuple[int, str, RefKind, bool]] = []
    index: int | None = None
    kind, direct = RefKind.RUN, False
    if cmd in _SHELLS:
        index = _shell_script_arg(args)
    elif cmd in {"source", "."}:
        index, kind = (0 if args else None), RefKind.SOURCE
    elif is_python(cmd):
        index, kind = _python_script_arg(args), RefKind.PYTHON
    elif "/" in cmd and plain_path(cmd):
        out.append((0, cmd, RefKind.RUN, True))
    if index is not None and plain_path(args[index]):
        out.append((index + 1, args[index], kind, direct))
    for i, a in enumerate(args):
        if a in _PP_FLAGS and i + 1 < len(args) and plain_path(args[i + 1]):
            out.append((i + 2, args[i + 1], RefKind.DATA, False))
        elif "=" in a and a.split("=", 1)[0] in _PP_FLAGS and plain_path(a.split("=", 1)[1]):
            out.append((i + 1, a.split("=", 1)[1], RefKind.DATA, False))
    return out


def is_errexit(words: list[str]) -> bool:
    if not words or words[0] != "set":
        return False
    args = words[1:]
    for i, a in enumerate(args):
        if a.startswith("-") and not a.startswith("--") and a[1:].isalpha() and "e" in a[1:]:
            return True
        if a == "-o" and i + 1 < len(args) and args[i + 1] == "errexit":
            return True
    return False


# -- downloads -------------------------------------------------------------------------------------
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


def is_url(word: str) -> bool:
    return word[:8].lower().startswith(("http://", "https://", "ftp://"))


def public_urls(words: Iterable[str]) -> list[str]:
    out = []
    for word in words:
        if not is_url(word):
            continue
        try:
            host = urlsplit(word).hostname or ""
        except ValueError:
            continue
        if is_public_host(host):
            out.append(word)
    return out


def _git_host(url: str) -> str:
    if url.startswith("git@"):
        return url[4:].split(":", 1)[0]
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _is_pip(cmd: str) -> bool:
    return cmd.startswith("pip") and (cmd[3:] == "" or cmd[3:].replace(".", "").isdigit())


def fetch_of(words: list[str], line: int) -> Fetch | None:
    """The download one command makes, if it plainly makes one."""
    if not words:
        return None
    cmd, args = words[0].rsplit("/", 1)[-1], words[1:]
    variable = any(a == UNKNOWN_WORD or "$" in a for a in args)
    if cmd in {"curl", "wget"}:
        urls = [a for a in args if is_url(a)]
        public = public_urls(urls)
        if public:
            return Fetch(line, cmd, True, public[0])
        if not urls and variable:
            return Fetch(line, cmd, False, "a URL held in a variable")
        return None
    if cmd == "git" and args[:1] == ["clone"]:
        urls = [a for a in args[1:] if a.startswith(("https://", "http://", "git://", "ssh://"))]
        urls += [a for a in args[1:] if a.startswith("git@")]
        if any(is_public_host(_git_host(u)) for u in urls):
            return Fetch(line, "git clone", True, urls[0])
        if not urls and variable:
            return Fetch(line, "git clone", False, "a repository URL held in a variable")
        return None
    pip_args: list[str] | None = None
    if _is_pip(cmd) and args[:1] == ["install"]:
        pip_args = args[1:]
    elif is_python(cmd) and args[:3] == ["-m", "pip", "install"]:
        pip_args = args[3:]
    if pip_args is not None:
        return _pip_fetch(pip_args, line)
    if cmd in _PKG and not {"install", "update", "upgrade"}.isdisjoint(args):
        return Fetch(line, cmd, False, "package repositories, unless a mirror is configured")
    if cmd in _CONDA and not {"install", "create"}.isdisjoint(args):
        return Fetch(line, cmd, False, "conda channels, unless a mirror is configured")
    return None


def _pip_fetch(args: list[str], line: int) -> Fetch | None:
    index_flags = {"--no-index", "--index-url", "-i", "--find-links", "-f"}
    if any(a in index_flags or a.split("=", 1)[0] in index_flags for a in args):
        return None
    packages = [a for a in args if not a.startswith("-")]
    local = [a for a in packages if a.startswith((".", "/")) or a.endswith((".whl", ".tar.gz"))]
    if packages and len(local) == len(packages):
        return None
    if not packages and "-r" not in args and "--requirement" not in args:
        return None
    return Fetch(line, "pip install", True, "the Python Package Index")


# -- files a command makes -------------------------------------------------------------------------
Made = tuple[str, str, str]  # (path, how, "file" | "dir" | "unpacked")


def _positional(args: list[str], with_arg: set[str]) -> list[str]:
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out.extend(args[i + 1 :])
            break
        if a.startswith("-") and a != "-":
            i += 2 if a in with_arg else 1
            continue
        out.append(a)
        i += 1
    return out


def _url_name(url: str) -> str | None:
    try:
        name = posixpath.basename(urlsplit(url).path)
    except ValueError:
        return None
    return name or None


def _option(args: list[str], names: set[str]) -> str | None:
    """The value of the last ``-x V`` / ``--x=V`` / ``-xV`` among ``names``."""
    found = None
    for i, a in enumerate(args):
        if a in names and i + 1 < len(args):
            found = args[i + 1]
        elif a.startswith("--") and a.split("=", 1)[0] in names and "=" in a:
            found = a.split("=", 1)[1]
        else:
            short = [n for n in names if len(n) == 2 and a.startswith(n) and len(a) > 2]
            if short and not a.startswith("--"):
                found = a[2:]
    return found


def _download_target(cmd: str, args: list[str]) -> str | None:
    if cmd == "curl":
        out = _option(args, {"-o", "--output"})
        if out is None and ("-O" in args or "--remote-name" in args):
            urls = [a for a in args if is_url(a)]
            out = _url_name(urls[0]) if urls else None
        folder = _option(args, {"--output-dir"})
    else:
        out = _option(args, {"-O", "--output-document"})
        if out is None:
            urls = [a for a in args if is_url(a)]
            out = _url_name(urls[0]) if urls else None
        folder = _option(args, {"-P", "--directory-prefix"})
    if out is None or out == "-":
        return None
    return posixpath.join(folder, out) if folder else out


def _extracts(cmd: str, args: list[str]) -> str | None:
    """The directory an archive is unpacked into ("." for the current one), if it unpacks."""
    if cmd == "unzip":
        return _option(args, {"-d"}) or "."
    if cmd in {"tar", "bsdtar"}:
        first = args[0] if args else ""
        extract = any(
            a in {"--extract", "--get"}
            or (a.startswith("-") and not a.startswith("--") and "x" in a)
            for a in args
        ) or (first[:1].isalpha() and "x" in first)
        return (_option(args, {"-C", "--directory"}) or ".") if extract else None
    if cmd in {"7z", "7za"} and args[:1] in (["x"], ["e"]):
        return _option(args, {"-o"}) or "."
    if cmd == "cpio" or (cmd in {"gunzip", "bunzip2", "xz", "unxz"}):
        return "."
    return None


def made_by(words: list[str], line: int) -> list[Made]:
    """The files and directories one command makes (relative to where it runs)."""
    if not words:
        return []
    cmd, args = words[0].rsplit("/", 1)[-1], words[1:]
    how = f"made by {cmd} on line {line}"
    if cmd in {"curl", "wget"}:
        target = _download_target(cmd, args)
        return [(target, how, "file")] if target else []
    where = _extracts(cmd, args)
    if where is not None:
        return [(where, f"may come from what {cmd} unpacks on line {line}", "unpacked")]
    if cmd == "git" and args[:1] == ["clone"]:
        with_arg = {"-b", "--branch", "--depth", "-c", "--config", "-o", "--origin", "-j"}
        rest = _positional(args[1:], with_arg | {"--reference", "--filter", "--template", "-u"})
        if len(rest) >= 2:
            return [(rest[1], f"cloned by git on line {line}", "dir")]
        name = _url_name(rest[0]) if rest and rest[0] != UNKNOWN_WORD else None
        if name:
            return [(name.removesuffix(".git"), f"cloned by git on line {line}", "dir")]
        return [(".", f"may come from what git clones on line {line}", "unpacked")]
    if cmd == "mkdir":
        return [(p, how, "dir") for p in _positional(args, {"-m", "--mode"})]
    if cmd in {"touch", "tee"}:
        return [(p, how, "file") for p in _positional(args, {"-d", "-r", "-t"})]
    if cmd in {"cp", "mv", "install", "ln", "rsync"}:
        return _copies(cmd, args, how)
    if cmd == "aws" and args[:1] == ["s3"] and args[1:2] in (["cp"], ["sync"], ["mv"]):
        rest = _positional(args[2:], {"--exclude", "--include", "--region", "--profile"})
        if len(rest) == 2 and not rest[1].startswith("s3://"):
            tree = args[1] == "sync" or "--recursive" in args
            return [(rest[1], how, "dir" if tree else "file"), *_into(rest, how)]
    if is_python(cmd) and args[:2] == ["-m", "venv"] and len(args) > 2:
        return [(args[-1], how, "dir")]
    return []


def _copies(cmd: str, args: list[str], how: str) -> list[Made]:
    rest = _positional(args, {"-t", "--target-directory", "-m", "-o", "-g", "-S", "-e"})
    if len(rest) < 2:
        return []
    recursive = cmd in {"rsync"} or any(
        a in {"--recursive", "--archive"}
        or (a.startswith("-") and not a.startswith("--") and not set("rRa").isdisjoint(a))
        for a in args
    )
    return [(rest[-1], how, "dir" if recursive else "file"), *_into(rest, how)]


def _into(rest: list[str], how: str) -> list[Made]:
    """``cp a b dir/``: each source lands in the destination directory under its own name."""
    dest = rest[-1]
    return [
        (posixpath.join(dest, posixpath.basename(s.rstrip("/"))), how, "file") for s in rest[:-1]
    ]
