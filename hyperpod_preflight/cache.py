"""The per-user state of hp-preflight on this machine: ``$XDG_CACHE_HOME/hyperpod-preflight/``
(else ``~/.cache/hyperpod-preflight/``). It holds lock files that serialize quota requests
per account and region, and the quota codes learned from Service Quotas' listings
(``quota-codes.json``); never an AWS value that a judgement would trust. It also holds keyed
copies of what is costly to work out again (:func:`read_keyed`/:func:`write_keyed`: botocore's
decoded data files, a config's validation), each stored with the key it is valid for.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import marshal
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from .errors import CannotRunError


def cache_dir() -> Path:
    """The folder (not created here)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hyperpod-preflight"


@contextlib.contextmanager
def exclusive_lock(name: str) -> Iterator[Path]:
    """Hold an exclusive ``flock`` on ``<cache_dir>/<name>.lock`` (blocking until any other
    holder on this machine lets go; released when the block ends or the process dies).
    Raises CannotRunError (one line naming the file) when the folder cannot be written."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    path = cache_dir() / f"{safe}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a+b")  # noqa: SIM115  (the with below closes it)
    except OSError as exc:
        raise CannotRunError(
            f"cannot create the lock file {path}: {exc.strerror or exc}; point XDG_CACHE_HOME "
            "at a folder you can write"
        ) from exc
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield path
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# -- keyed copies --------------------------------------------------------------------------
# A ``marshal`` file holding (key, data): read back only under the very key it was written
# with, so a copy made for another input, version or format is never used.


def read_keyed(path: Path, key: Any) -> Any:
    """The data :func:`write_keyed` stored at ``path`` under ``key``; None when the file is
    missing or unreadable, or was written under another key."""
    try:
        with open(path, "rb") as fh:
            stored_key, data = marshal.loads(fh.read())  # (load(fh) reads in small bits)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return data if stored_key == key else None


def write_keyed(path: Path, key: Any, data: Any) -> None:
    """Store ``data`` under ``key`` at ``path`` (written whole, then renamed into place); an
    unwritable folder, or data marshal cannot hold, just means no copy."""
    try:
        payload = marshal.dumps((key, data))
    except ValueError:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass


# -- quota codes --------------------------------------------------------------------------
# ``quota-codes.json``: {"version": 1, "services": {service: {normalized quota name:
# {"code": "L-…", "learned": "YYYY-MM-DD"}}}}. Codes only, never a value: a later run reads
# the value fresh by code, and a code that no longer answers or names another quota sends it
# back to the listings. Entries older than QUOTA_CODE_MAX_AGE_DAYS are learned again.
QUOTA_CODES_FILE = "quota-codes.json"
QUOTA_CODES_VERSION = 1
QUOTA_CODE_MAX_AGE_DAYS = 90
_CODE_RE = re.compile(r"^[A-Za-z0-9-]{1,128}$")


def quota_codes_path() -> Path:
    return cache_dir() / QUOTA_CODES_FILE


def load_quota_codes(service: str, *, today: date | None = None) -> dict[str, str]:
    """The cached codes of ``service`` (normalized quota name → code), fresh ones only.

    A missing, unreadable or malformed file (or entry) is treated as empty, never an error:
    the run then pages the listings and writes the file anew."""
    now = today or date.today()
    entries = _read_services().get(service)
    if not isinstance(entries, dict):
        return {}
    codes: dict[str, str] = {}
    for name, entry in entries.items():
        if not isinstance(name, str) or not isinstance(entry, dict):
            continue
        code, learned = entry.get("code"), entry.get("learned")
        if not isinstance(code, str) or not _CODE_RE.match(code) or not isinstance(learned, str):
            continue
        try:
            age = (now - date.fromisoformat(learned)).days
        except ValueError:
            continue
        if 0 <= age <= QUOTA_CODE_MAX_AGE_DAYS:
            codes[name] = code
    return codes


def save_quota_codes(
    service: str,
    learned: Mapping[str, str],
    *,
    forget: Iterable[str] = (),
    today: date | None = None,
) -> bool:
    """Merge ``learned`` (normalized name → code, stamped today) into the file and drop the
    names in ``forget``; written atomically (a temporary file renamed over it). False when
    the folder cannot be written (the cache is an optimisation: nothing else changes)."""
    stamp = (today or date.today()).isoformat()
    services = _read_services()
    entries = services.get(service)
    mine: dict[str, Any] = dict(entries) if isinstance(entries, dict) else {}
    for name in forget:
        mine.pop(name, None)
    for name, code in learned.items():
        mine[name] = {"code": code, "learned": stamp}
    services[service] = mine
    document = {"version": QUOTA_CODES_VERSION, "services": services}
    path = quota_codes_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=f".{QUOTA_CODES_FILE}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(document, fh, indent=1, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return False
    return True


def clear_quota_codes() -> Path | None:
    """Delete the quota-code cache; the path removed, or None when there was none. Lock
    files stay: a running ``quotas request`` may hold one. Raises CannotRunError when the
    file cannot be deleted."""
    path = quota_codes_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CannotRunError(f"cannot delete {path}: {exc.strerror or exc}") from exc
    return path


def _read_services() -> dict[str, Any]:
    try:
        document = json.loads(quota_codes_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("version") != QUOTA_CODES_VERSION:
        return {}
    services = document.get("services")
    return dict(services) if isinstance(services, dict) else {}
