"""botocore's data files (service models, paginators, endpoint rule sets, ``endpoints.json``)
decoded once per botocore version and kept in the user cache directory.

botocore decodes each JSON file it needs on every run, into ordered dicts: EC2's service
model alone is ~3 MB of JSON (≈ 75 ms of CPU here), and a ``check`` reads seven services.
:class:`CachingFileLoader` stands in for the loader's ``file_loader`` in the sessions the
facts layer makes itself (:func:`install`): a file is decoded once, then read back from a
``marshal`` copy in ``$XDG_CACHE_HOME/hyperpod-preflight/botocore-data-<botocore
version>-py<X.Y>/`` (5 to 10 times faster). The copy is keyed by the file's path, size and
modification time and this module's :data:`_FORMAT`; a mismatching, unreadable or missing
copy is decoded from the file again (and rewritten); an unwritable folder just means no copy.
The list of services botocore builds by walking its data folder is kept there too, while the
loader searches only the folders of installed packages.
What the loader returns is the same data (plain dicts, which keep their order, instead of
``OrderedDict``).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

_FORMAT = 1


def cache_folder() -> Path:
    """Where the decoded copies live (one folder per botocore and Python version: marshal's
    format belongs to the Python version)."""
    import botocore

    from ..cache import cache_dir

    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return cache_dir() / f"botocore-data-{botocore.__version__}-py{python}"


class CachingFileLoader:
    """A botocore file loader (``exists``/``load_file``) that keeps decoded copies."""

    def __init__(self, inner: Any, folder: Path | None = None) -> None:
        self.inner = inner
        self.folder = folder if folder is not None else cache_folder()

    def exists(self, file_path: str) -> bool:
        return bool(self.inner.exists(file_path))

    def load_file(self, file_path: str) -> Any:
        found = _source(file_path)
        if found is None:
            return self.inner.load_file(file_path)
        source, stat = found
        key = (_FORMAT, source, stat.st_size, stat.st_mtime_ns)
        copy = self.folder / (hashlib.sha256(source.encode()).hexdigest()[:32] + ".marshal")
        try:
            with open(copy, "rb") as fh:
                stored_key, data = marshal.loads(fh.read())  # (load(fh) reads in small bits)
            if stored_key == key:
                return data
        except (OSError, ValueError, EOFError, TypeError):
            pass
        data = self.inner.load_file(file_path)
        if data is not None:
            _store(copy, key, data)
        return data


def _source(file_path: str) -> tuple[str, os.stat_result] | None:
    """The file botocore's JSON loader would read for ``file_path`` (it tries ``.json``,
    then ``.json.gz``), and its stat; None when neither is there."""
    for suffix in (".json", ".json.gz"):
        path = file_path + suffix
        try:
            return path, os.stat(path)
        except OSError:
            continue
    return None


def _plain(value: Any) -> Any:
    """``value`` with every mapping a plain dict (marshal takes no ``OrderedDict``)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _store(copy: Path, key: tuple[Any, ...], data: Any) -> None:
    try:
        payload = marshal.dumps((key, _plain(data)))
    except ValueError:  # something marshal cannot hold: no copy
        return
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=copy.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, copy)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # not writable: this run decoded the file, the next one will too


def install(session: Any) -> None:
    """Give ``session``'s (a boto3 or botocore session) data loader a
    :class:`CachingFileLoader`; a session whose loader cannot take one is left as it is."""
    botocore_session = getattr(session, "_session", session)
    try:
        loader = botocore_session.get_component("data_loader")
    except Exception:  # not a botocore session: nothing to do
        return
    inner = getattr(loader, "file_loader", None)
    if inner is None or isinstance(inner, CachingFileLoader):
        return
    loader.file_loader = CachingFileLoader(inner)
    _keep_service_listings(loader)


def _keep_service_listings(loader: Any) -> None:
    """botocore lists every service folder (≈ 400, each folder's versions looked into) once
    per kind of file it loads; while the loader searches only the folders installed packages
    ship (botocore's and boto3's ``data``: fixed for their versions), the listing is kept
    beside the copies."""
    try:
        import boto3
        import botocore.loaders

        shipped = {
            os.path.realpath(botocore.loaders.Loader.BUILTIN_DATA_PATH),
            os.path.realpath(os.path.join(os.path.dirname(boto3.__file__), "data")),
        }
        paths = [os.path.realpath(p) for p in loader.search_paths if os.path.isdir(p)]
    except Exception:  # another kind of loader: leave it as it is
        return
    if not paths or not set(paths) <= shipped:
        return  # a folder of the user's (~/.aws/models, AWS_DATA_PATH) may change any time
    original = loader.list_available_services
    folder = cache_folder()
    known: dict[str, Any] = {}
    lock = threading.Lock()

    def list_available_services(type_name: str) -> Any:
        with lock:
            if type_name in known:
                return known[type_name]
        key = (_FORMAT, "services", type_name, tuple(paths), boto3.__version__)
        copy = folder / f"services-{hashlib.sha256(repr(key).encode()).hexdigest()[:16]}.marshal"
        found: Any = None
        try:
            with open(copy, "rb") as fh:
                stored_key, stored = marshal.loads(fh.read())
            if stored_key == key and isinstance(stored, list):
                found = stored
        except (OSError, ValueError, EOFError, TypeError):
            pass
        if found is None:
            found = list(original(type_name))
            _store(copy, key, found)
        with lock:
            known[type_name] = found
        return found

    loader.list_available_services = list_available_services
