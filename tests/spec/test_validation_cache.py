"""A config's validation kept in the user cache (spec/validation_cache.py): a repeated config
is judged without botocore, to the same problems; a changed config, botocore model, code or
Python never uses a stale entry."""

from __future__ import annotations

import json
import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore
import pytest
from conftest import EXAMPLES, REPO

from hyperpod_preflight import sagemaker_model
from hyperpod_preflight.spec import Problem, load_spec
from hyperpod_preflight.spec.validation_cache import judgement_key

SLURM = EXAMPLES / "slurm-p5-cluster.json"
_POISON = ((), (("ClusterName", "poisoned"),), ())


def _bad_config(tmp_path: Path) -> Path:
    config = json.loads(SLURM.read_text())
    config["InstanceGroups"][0]["InstanceType"] = "p5.48xlarge"
    config["Bogus"] = 1
    del config["ClusterName"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def _entries() -> list[Path]:
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "hyperpod-preflight" / "config-problems"
    return sorted(folder.glob("*.marshal"))


def _load_in_child(config: Path, package_root: Path = REPO) -> dict[str, Any]:
    """Load ``config`` in a fresh interpreter: its problems, notices and whether botocore's
    validator was imported."""
    code = (
        "import json, sys\n"
        "from hyperpod_preflight.spec import load_spec\n"
        f"spec = load_spec({str(config)!r})\n"
        "print(json.dumps({'problems': [[p.path, p.message] for p in spec.problems],\n"
        "  'notices': list(spec.notices), 'botocore': 'botocore' in sys.modules,\n"
        "  'validated': 'botocore.validate' in sys.modules}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    out = subprocess.run(  # (from the package's folder: ``-c`` puts the working one first)
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=package_root,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("kind", ["valid", "with problems", "yaml"])
def test_a_repeated_config_is_judged_without_botocore_to_the_same_problems(
    tmp_path: Path, kind: str
) -> None:
    import yaml

    bad = kind == "with problems"
    config = _bad_config(tmp_path) if bad else SLURM
    if kind == "yaml":  # a CreateCluster config in YAML (--cli-input-yaml)
        config = tmp_path / "cluster.yaml"
        config.write_text(yaml.safe_dump(json.loads(SLURM.read_text())))
    first = _load_in_child(config)
    assert first["validated"]
    assert len(_entries()) == 1
    second = _load_in_child(config)
    assert not second["validated"]
    if not bad:
        assert not second["botocore"]  # not even imported
    assert (second["problems"], second["notices"]) == (first["problems"], first["notices"])
    assert bool(first["problems"]) == bad


def test_a_changed_config_is_judged_again(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    shutil.copy(SLURM, config)
    assert _load_in_child(config)["problems"] == []
    # The same file with one value changed: a new judgement (one slot per source file).
    bad = _bad_config(tmp_path).read_text()
    config.write_text(bad)
    again = _load_in_child(config)
    assert again["validated"]
    assert any("Bogus" in message for _, message in again["problems"])
    assert len(_entries()) == 1


def test_the_same_values_of_other_types_or_order_are_other_configs() -> None:
    config = json.loads(SLURM.read_text())
    key = judgement_key(config)
    assert key is not None
    reordered = dict(reversed(list(config.items())))
    counted = json.loads(json.dumps(config))
    counted["InstanceGroups"][0]["InstanceCount"] = float(
        config["InstanceGroups"][0]["InstanceCount"]
    )
    flagged = json.loads(json.dumps(config))
    flagged["InstanceGroups"][0]["InstanceCount"] = True
    keys = [judgement_key(c) for c in (reordered, counted, flagged)]
    assert len({str(k) for k in [key, *keys]}) == 4
    assert judgement_key(json.loads(SLURM.read_text())) == key


def test_the_key_names_the_installed_botocore_model_the_code_and_python() -> None:
    key = judgement_key(json.loads(SLURM.read_text()))
    assert key is not None
    _format, python, model, _dateutil, code, _config = key
    assert python == sys.version_info[:2]
    assert model == sagemaker_model.model_cache_key()
    assert model["botocore"] == botocore.__version__ == sagemaker_model.botocore_version()
    assert isinstance(code, str) and len(code) == 64


@pytest.mark.parametrize("part", [1, 2, 3, 4], ids=["python", "model", "dateutil", "code"])
def test_an_entry_of_another_botocore_code_or_python_is_never_used(part: int) -> None:
    """An entry whose key differs in one part only, with poisoned problems: not used, and
    replaced by a fresh judgement."""
    load_spec(SLURM)
    [entry] = _entries()
    key, _data = marshal.loads(entry.read_bytes())
    changed = list(key)
    changed[part] = {"botocore": "0.0.0"} if part == 2 else ("other",)
    entry.write_bytes(marshal.dumps((tuple(changed), _POISON)))
    assert load_spec(SLURM).problems == ()
    stored_key, _ = marshal.loads(entry.read_bytes())
    assert stored_key == key  # rewritten under the key of now
    # The very same entry under the key of now is used: the poison shows.
    entry.write_bytes(marshal.dumps((key, _POISON)))
    assert load_spec(SLURM).problems == (Problem("ClusterName", "poisoned"),)


def test_changed_validating_code_is_judged_again(tmp_path: Path) -> None:
    copy = tmp_path / "checkout"
    shutil.copytree(
        REPO / "hyperpod_preflight",
        copy / "hyperpod_preflight",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    assert _load_in_child(SLURM, copy)["validated"]
    assert not _load_in_child(SLURM, copy)["validated"]
    forms = copy / "hyperpod_preflight" / "spec" / "forms.py"
    forms.write_text(forms.read_text() + "\n# changed\n")
    assert _load_in_child(SLURM, copy)["validated"]


def test_models_that_may_change_any_time_are_never_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / "models"))
    sagemaker_model.sagemaker_service_model.cache_clear()
    try:
        assert judgement_key(json.loads(SLURM.read_text())) is None
        load_spec(SLURM)
        assert _entries() == []
    finally:
        sagemaker_model.sagemaker_service_model.cache_clear()


def test_a_config_marshal_cannot_hold_exactly_is_never_kept(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    config = json.loads(SLURM.read_text())
    config["InstanceGroups"][0]["AutoPatchConfig"] = {
        "PatchingStrategy": "WhenIdle",
        "PatchSchedule": {"NextPatchDate": datetime(2030, 1, 1, tzinfo=UTC)},
    }
    assert judgement_key(config) is None
    load_spec(config)
    assert _entries() == []


def test_an_unwritable_cache_judges_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    bad = _bad_config(tmp_path)
    assert load_spec(bad).problems == load_spec(bad).problems != ()


def test_a_repeated_offline_check_never_imports_botocore(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import hyperpod_preflight.cli as cli\n"
        "try:\n"  # main(argv) exits by SystemExit (as the process's entry it leaves at once)
        "    cli.main(['check', '--config', sys.argv[1], '--offline'])\n"
        "except SystemExit as exc:\n"
        "    sys.stderr.write(f'EXIT {exc.code} botocore={\"botocore\" in sys.modules}\\n')\n"
    )
    ends = []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", code, str(SLURM)], capture_output=True, text=True, cwd=REPO
        )
        ends.append(out.stderr.strip().splitlines()[-1])
    assert ends == ["EXIT 0 botocore=True", "EXIT 0 botocore=False"]


def test_a_dict_of_a_library_caller_is_never_kept() -> None:
    """(The sandbox builds its config as a dict: its runs leave the user cache alone.)"""
    load_spec(json.loads(SLURM.read_text()))
    assert _entries() == []


def test_nothing_is_kept_within_judgements_not_kept() -> None:
    from hyperpod_preflight.spec.validation_cache import judgements_not_kept

    with judgements_not_kept():
        load_spec(SLURM)
    assert _entries() == []
    load_spec(SLURM)
    assert len(_entries()) == 1
