"""The installed botocore's SageMaker service model: the one authority on what CreateCluster
accepts and which instance types HyperPod knows (``ClusterInstanceType``).

It is read with botocore's own data loader, never through a botocore or boto3 ``Session``: a
session reads the user's AWS config files, and commands that need no AWS (``plan``, config
validation) must work with a broken ``~/.aws/config`` or an unknown ``AWS_PROFILE``. Only
``AWS_DATA_PATH`` (extra model directories, an environment variable) is honoured, as botocore
itself does.

Decoding botocore's whole SageMaker model (several MB of JSON) costs more than the rest of an
offline run, and the project reads one operation of it. So the shapes reachable from
``CreateCluster`` (plus :data:`_KEPT_SHAPES`) are kept in the user cache directory
(``$XDG_CACHE_HOME/hyperpod-preflight/``), keyed by botocore's version, the model file's path,
size and modification time and this module's :data:`_FORMAT`: a new or changed botocore never
uses a stale copy. A shape or operation outside the copy is read from the whole model (loaded
then). Without a writable cache, with ``AWS_DATA_PATH`` or a ``~/.aws/models/sagemaker``
folder (models botocore would prefer), the whole model is read as before.

What needs only a constraint or the member names of a kept shape (:func:`shape_constraint`,
:func:`input_member_names`) reads them from the kept part's JSON, and the key is made with
botocore's version read from its ``__init__.py``: with the kept part (and the validation kept
by :mod:`.spec.validation_cache`) in the cache, an offline run never imports botocore.

A leaf module: both :mod:`.spec` and :mod:`.catalog` import it, so neither imports the other
to reach the model. botocore is imported on first use: ``hp-preflight --help`` must not pay.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .dynamic import module_file

# Bump when the kept part changes: an older copy is then rebuilt.
_FORMAT = 1
_KEPT_OPERATIONS = ("CreateCluster",)
_KEPT_SHAPES = ("ClusterInstanceType", "ClusterInstanceCount")
_SERVICE = "sagemaker"


def model_cache_key() -> dict[str, Any] | None:
    """What the kept part of the model is valid for (botocore's version, the model file's
    path, size and modification time, this module's format); None when the kept part is not
    used (``AWS_DATA_PATH``, ``~/.aws/models``: models that may change at any time)."""
    return _cache_key()


@cache
def sagemaker_service_model() -> Any:
    """botocore's SageMaker ``ServiceModel`` (loaded once per process): the cached part when
    it is valid for the installed botocore, else the whole model."""
    key = _cache_key()
    if key is not None:
        description = _read_cached(key) or _write_cached(key)
        if description is not None:
            return _partial_model(description)
    return full_sagemaker_service_model()


def shape_constraint(shape_name: str, name: str) -> Any:
    """One constraint of a shape of the model (``max``, ``min``, ``pattern``: what botocore
    gives as ``shape.metadata[name]``; None when the shape has none), read from the kept part
    without botocore when the shape is in it."""
    shape = _kept().get("shapes", {}).get(shape_name)
    if isinstance(shape, dict):
        return shape.get(name)
    return sagemaker_service_model().shape_for(shape_name).metadata.get(name)


def input_member_names(operation: str) -> frozenset[str]:
    """The members of an operation's input shape, read from the kept part without botocore
    when the operation is in it."""
    kept = _kept()
    found = kept.get("operations", {}).get(operation)
    if isinstance(found, dict):
        shape = kept.get("shapes", {}).get(found.get("input", {}).get("shape"))
        if isinstance(shape, dict):
            return frozenset(shape.get("members", {}))
    return frozenset(sagemaker_service_model().operation_model(operation).input_shape.members)


def _kept() -> dict[str, Any]:
    """The kept part of the model valid for the installed botocore (empty when it is not
    used)."""
    key = _cache_key()
    return _kept_description(json.dumps(key, sort_keys=True)) if key is not None else {}


@lru_cache(maxsize=4)
def _kept_description(key_text: str) -> dict[str, Any]:
    """The kept part valid for a key (given as JSON text: hashable)."""
    key = json.loads(key_text)
    return _read_cached(key) or _write_cached(key) or {}


def full_sagemaker_service_model() -> Any:
    """The whole SageMaker ``ServiceModel`` as botocore's loader finds it (with the
    ``AWS_DATA_PATH`` of now)."""
    return _full_model(os.environ.get("AWS_DATA_PATH"))


@cache
def _full_model(data_path: str | None) -> Any:
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    loader = create_loader(data_path)
    description = loader.load_service_model(_SERVICE, "service-2")
    return ServiceModel(description, service_name=_SERVICE)


def cached_model_path() -> Path:
    """Where the kept part of the model is stored (one file per botocore version)."""
    from .cache import cache_dir

    return cache_dir() / f"sagemaker-model-{botocore_version()}.json"


_VERSION_LINE = re.compile(r"""^__version__ = ['"]([^'"]+)['"]""", re.MULTILINE)


def _botocore_folder() -> Path:
    """The folder of the botocore package an ``import botocore`` gives (found, not imported)."""
    module = sys.modules.get("botocore")
    origin = getattr(module, "__file__", None)
    if origin is None:
        origin = module_file("botocore")
    if origin is None:
        import botocore

        origin = botocore.__file__
    return Path(str(origin)).parent


@cache
def botocore_version() -> str:
    """``botocore.__version__``, read from the package's ``__init__.py`` (the line that sets
    it): a run that finds everything it needs in the cache never imports botocore."""
    try:
        text = (_botocore_folder() / "__init__.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    found = _VERSION_LINE.search(text)
    if found is not None:
        return found.group(1)
    import botocore

    return str(botocore.__version__)


def _model_file() -> Path | None:
    """The ``service-2`` file botocore's loader reads for SageMaker, when only botocore's own
    data folder can hold it (else None: the cache is not used)."""
    if os.environ.get("AWS_DATA_PATH"):
        return None
    if (Path(os.path.expanduser("~")) / ".aws" / "models" / _SERVICE).exists():
        return None
    folder = _botocore_folder() / "data" / _SERVICE
    try:
        versions = sorted(p.name for p in folder.iterdir() if p.is_dir())
    except OSError:
        return None
    if not versions:
        return None
    for name in ("service-2.json.gz", "service-2.json"):
        path = folder / versions[-1] / name
        if path.is_file():
            return path
    return None


def _cache_key() -> dict[str, Any] | None:
    path = _model_file()
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return {
        "format": _FORMAT,
        "botocore": botocore_version(),
        "file": str(path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "operations": list(_KEPT_OPERATIONS),
        "shapes": list(_KEPT_SHAPES),
    }


def _read_cached(key: dict[str, Any]) -> dict[str, Any] | None:
    try:
        with open(cached_model_path(), encoding="utf-8") as fh:
            stored = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    description = stored.get("description")
    return description if isinstance(description, dict) else None


def _write_cached(key: dict[str, Any]) -> dict[str, Any] | None:
    """Derive the kept part from the whole model and store it; None when the file botocore
    read is not the one the key names (then the cache is not used)."""
    from botocore.loaders import create_loader

    loader = create_loader(None)
    api_version = loader.determine_latest_version(_SERVICE, "service-2")
    full, path = loader.load_data_with_path(f"{_SERVICE}/{api_version}/service-2")
    if not str(key["file"]).startswith(path):
        return None
    description = kept_description(full, _KEPT_OPERATIONS, _KEPT_SHAPES)
    target = cached_model_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".sagemaker-model-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"key": key, "description": description}, fh, separators=(",", ":"))
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # not writable: this run uses the derived part all the same
    return description


def kept_description(
    full: dict[str, Any], operations: Iterable[str], shapes: Iterable[str]
) -> dict[str, Any]:
    """``full`` reduced to ``operations`` and every shape reachable from them or ``shapes``."""
    all_shapes: dict[str, Any] = full["shapes"]
    ops = {name: full["operations"][name] for name in operations}
    pending = list(shapes)
    for op in ops.values():
        for part in ("input", "output"):
            if isinstance(op.get(part), dict):
                pending.append(op[part]["shape"])
        pending += [e["shape"] for e in op.get("errors", [])]
    kept: dict[str, Any] = {}
    while pending:
        name = pending.pop()
        if name in kept or name not in all_shapes:
            continue
        shape = kept[name] = all_shapes[name]
        refs = [*shape.get("members", {}).values()]
        refs += [shape[k] for k in ("member", "key", "value") if isinstance(shape.get(k), dict)]
        pending += [r["shape"] for r in refs if "shape" in r]
    return {
        "version": full.get("version"),
        "metadata": full["metadata"],
        "operations": ops,
        "shapes": kept,
        "documentation": "",
    }


def _partial_model(description: dict[str, Any]) -> Any:
    from botocore.model import NoShapeFoundError, OperationNotFoundError, ServiceModel

    class PartialServiceModel(ServiceModel):  # type: ignore[misc]
        """The kept part; anything outside it comes from the whole model (only made without
        ``AWS_DATA_PATH``: see :func:`_model_file`)."""

        def shape_for(self, shape_name: str, member_traits: Any = None) -> Any:
            try:
                return super().shape_for(shape_name, member_traits)
            except NoShapeFoundError:
                return _full_model(None).shape_for(shape_name, member_traits)

        def operation_model(self, operation_name: str) -> Any:
            try:
                return super().operation_model(operation_name)
            except OperationNotFoundError:
                return _full_model(None).operation_model(operation_name)

    return PartialServiceModel(description, service_name=_SERVICE)
