"""A config's validation kept in the user cache, so that a config judged before (a pre-commit
hook runs the same one over and over) is judged again without botocore.

Validation (:mod:`.schema`) imports ``botocore.model`` and ``botocore.validate`` (with
``botocore.utils``: urllib3, http.client, email, ssl, dateutil; ≈50 ms of CPU) and walks the
model. Its outcome (the oversized parts, the problems, the notices) depends only on

- the parsed config, types and key order included (hashed from ``marshal`` format 2, which
  writes every value by its exact type and never by identity);
- the installed botocore's SageMaker model: the key of the kept part
  (:func:`~hyperpod_preflight.sagemaker_model.model_cache_key`: botocore's version, the model
  file's path, size and modification time), and dateutil, whose parser reads the dates;
- the validating code: the text of the modules in :data:`_CODE`;
- the Python version (``re``, ``difflib``) and this module's :data:`_FORMAT`.

The outcome is stored under a key of all of these, one file per source (a later config of the
same file replaces the earlier one), and read back only under the very same key (see
:func:`~hyperpod_preflight.cache.read_keyed`). Nothing is kept for a config ``marshal`` cannot
hold exactly (a YAML date, a subclass), or when the model may change at any time
(``AWS_DATA_PATH``, ``~/.aws/models``): those are judged every time.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from ..cache import cache_dir, read_keyed, write_keyed
from ..dynamic import module_file
from ..sagemaker_model import model_cache_key
from .problems import Problem

# Bump when what is stored changes shape.
_FORMAT = 1
# The modules whose code decides a config's problems (relative to the package).
_CODE = (
    "spec/schema.py",
    "spec/forms.py",
    "spec/problems.py",
    "spec/validation_cache.py",
    "catalog.py",
    "sagemaker_model.py",
)
_FOLDER = "config-problems"

Judgement = tuple[list[Problem], list[Problem], list[str]]
_KEEPING: ContextVar[bool] = ContextVar("hp_preflight_keeping_judgements", default=True)


@contextmanager
def judgements_not_kept() -> Iterator[None]:
    """Within it, no judgement is stored (a kept one is still read): a sandbox run leaves
    the user cache as it found it."""
    token = _KEEPING.set(False)
    try:
        yield
    finally:
        _KEEPING.reset(token)


def cached_judgement(
    config: Any, slot: str, judge: Callable[[Any], Judgement], *, store: bool = True
) -> Judgement:
    """``judge(config)``, read from the cache when this config was judged before under the
    same model, code and Python; else judged, and stored when ``store`` (``slot``: the
    source's name)."""
    key = judgement_key(config)
    if key is None:
        return judge(config)
    path = cache_dir() / _FOLDER / f"{hashlib.sha256(slot.encode()).hexdigest()[:32]}.marshal"
    found = _decoded(read_keyed(path, key))
    if found is not None:
        return found
    judged = judge(config)
    if store and _KEEPING.get():
        write_keyed(path, key, _encoded(judged))
    return judged


def judgement_key(config: Any) -> tuple[Any, ...] | None:
    """What a stored judgement of ``config`` must have been made under; None when none is
    kept (see the module's docstring)."""
    model = model_cache_key()
    code = _code_digest()
    if model is None or code is None:
        return None
    try:
        config_digest = hashlib.sha256(marshal.dumps(config, 2)).hexdigest()
    except ValueError:  # a value marshal cannot hold exactly (or nested too deeply)
        return None
    python = (sys.version_info[0], sys.version_info[1])
    return (_FORMAT, python, model, _dateutil_stamp(), code, config_digest)


@cache
def _code_digest() -> str | None:
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in _CODE:
        try:
            digest.update((package / name).read_bytes())
        except OSError:
            return None
    return digest.hexdigest()


@cache
def _dateutil_stamp() -> tuple[str, int, int] | None:
    """The file of dateutil's version (path, size, modification time), found, not imported."""
    module = sys.modules.get("dateutil")
    init = getattr(module, "__file__", None) or module_file("dateutil")
    if init is None:
        return None
    path = Path(init).parent / "_version.py"
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path), stat.st_size, stat.st_mtime_ns)


def _encoded(judged: Judgement) -> tuple[Any, ...]:
    oversized, problems, notices = judged
    return (
        tuple((p.path, p.message) for p in oversized),
        tuple((p.path, p.message) for p in problems),
        tuple(notices),
    )


def _decoded(stored: Any) -> Judgement | None:
    try:
        oversized, problems, notices = stored
        return (
            [Problem(path, message) for path, message in oversized],
            [Problem(path, message) for path, message in problems],
            [str(n) for n in notices],
        )
    except (TypeError, ValueError):
        return None
