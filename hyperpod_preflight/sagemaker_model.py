"""The installed botocore's SageMaker service model: the one authority on what CreateCluster
accepts and which instance types HyperPod knows (``ClusterInstanceType``).

It is read with botocore's own data loader, never through a botocore or boto3 ``Session``: a
session reads the user's AWS config files, and commands that need no AWS (``plan``, config
validation) must work with a broken ``~/.aws/config`` or an unknown ``AWS_PROFILE``. Only
``AWS_DATA_PATH`` (extra model directories, an environment variable) is honoured, as botocore
itself does.

A leaf module: both :mod:`.spec` and :mod:`.catalog` import it, so neither imports the other
to reach the model. botocore is imported on first use: ``hp-preflight --help`` must not pay.

Only ``CreateCluster`` and the shapes it reaches are used here, and decoding the whole
SageMaker model (megabytes of JSON) is most of an offline check's time: that part of the
model, cut from botocore's own description, is kept in the per-user cache under a key of the
botocore version and the model file's path, size and modification time, so a new or patched
model is read again. Without a writable cache the whole model is read each time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

OPERATIONS = ("CreateCluster",)


@cache
def sagemaker_service_model() -> Any:
    """botocore's SageMaker ``ServiceModel``, ``CreateCluster`` and its shapes (loaded once per
    process)."""
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    loader = create_loader(os.environ.get("AWS_DATA_PATH"))
    cached = _cache_file(loader)
    if cached is not None:
        try:
            description = json.loads(cached.read_text(encoding="utf-8"))
            return ServiceModel(description, service_name="sagemaker")
        except (OSError, ValueError):
            pass
    description = _subset(loader.load_service_model("sagemaker", "service-2"))
    if cached is not None:
        _write(cached, description)
    return ServiceModel(description, service_name="sagemaker")


def _cache_file(loader: Any) -> Path | None:
    """Where the cut model of the file botocore would read is cached; None when unknown."""
    import botocore

    from .cache import cache_dir

    try:
        version = loader.determine_latest_version("sagemaker", "service-2")
        for base in loader.search_paths:
            for name in ("service-2.json", "service-2.json.gz"):
                source = Path(base) / "sagemaker" / version / name
                if source.is_file():
                    stat = source.stat()
                    key = f"{botocore.__version__}|{source}|{stat.st_mtime_ns}|{stat.st_size}"
                    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
                    return cache_dir() / f"sagemaker-create-cluster-{digest}.json"
    except Exception:
        return None
    return None


def _subset(description: dict[str, Any]) -> dict[str, Any]:
    """``description`` with only :data:`OPERATIONS` and the shapes they reach."""
    shapes = description["shapes"]
    operations = {name: description["operations"][name] for name in OPERATIONS}
    pending = [
        ref["shape"]
        for op in operations.values()
        for ref in (op.get("input"), op.get("output"), *op.get("errors", ()))
        if ref
    ]
    kept: dict[str, Any] = {}
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        shape = kept[name] = shapes[name]
        refs = [m for m in shape.get("members", {}).values()]
        refs += [shape[k] for k in ("member", "key", "value") if k in shape]
        pending += [ref["shape"] for ref in refs]
    return {**description, "operations": operations, "shapes": kept}


def _write(path: Path, description: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp"
        ) as fh:
            json.dump(description, fh)
        os.replace(fh.name, path)
    except OSError:
        pass  # read-only home: the whole model is read next time too
