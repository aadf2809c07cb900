"""The host records (host/models.py, host/deep/models.py, profiles, peaks, expectations) are
plain dataclasses: a host run builds and judges them without importing pydantic, and the
report's ``facts`` are what pydantic wrote when they were models. Held here on the real
captures (fixtures/h100 from an H100 node, fixtures/h200x2 from a 2×H200 node, the report
written on the H100, the recorded H200 --deep figures) and on the fixture trees: every record
holds values of exactly its declared types (what pydantic's validation guaranteed), and
``results.jsonable`` of it equals pydantic's own dump (``TypeAdapter(T).dump_python(x,
mode="json")``), text for text."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from host_fixture_trees import (
    FIXTURES,
    FakeNvml,
    Node,
    build_tree,
    capture,
    command_output,
    eight_gpu_dump,
    fake_nvidia_smi,
    nvml_from_capture,
)
from host_record_types import type_errors
from pydantic import TypeAdapter

from hyperpod_preflight.host import run_host_preflight
from hyperpod_preflight.host.deep.models import DeepFacts
from hyperpod_preflight.host.deep.peaks import Peak, table
from hyperpod_preflight.host.facts import CollectOptions, collect_host_facts
from hyperpod_preflight.host.instance_types import Expectation, expectation
from hyperpod_preflight.host.models import GpuFacts, HostFacts, validated
from hyperpod_preflight.host.nvml import read_nvml
from hyperpod_preflight.host.nvsmi import parse_query_csv, parse_query_xml
from hyperpod_preflight.host.profiles import (
    Profile,
    Requirement,
    deep_requirements,
    load_profile,
    profile_names,
)
from hyperpod_preflight.results import jsonable

NODES = ("h100", "h200x2")


def same_as_pydantic(kind: type[Any], record: Any) -> None:
    """``record`` is well typed, and jsonable writes it as pydantic does."""
    assert type_errors(record) == []
    ours = json.dumps(jsonable(record))
    assert ours == json.dumps(TypeAdapter(kind).dump_python(record, mode="json"))


@pytest.mark.parametrize("node", NODES)
def test_gpu_facts_of_each_capture_are_dumped_as_pydantic_did(node: str) -> None:
    for facts in (
        read_nvml(nvml_from_capture(node)),
        parse_query_csv(command_output(node, "nvsmi_csv.txt")),
        parse_query_xml(capture(node, "nvsmi_q.xml")),
    ):
        assert facts.gpus, facts.error
        same_as_pydantic(GpuFacts, facts)


def holds(dumped: Any, written: Any) -> bool:
    """``dumped`` has every value of ``written`` (objects may have more keys), same types."""
    if isinstance(written, dict):
        return isinstance(dumped, dict) and all(
            k in dumped and holds(dumped[k], v) for k, v in written.items()
        )
    if isinstance(written, list):
        return (
            isinstance(dumped, list)
            and len(dumped) == len(written)
            and all(holds(d, w) for d, w in zip(dumped, written, strict=True))
        )
    return type(dumped) is type(written) and dumped == written


def _tree_facts(tmp_path: Path, node: str, **shape: Any) -> HostFacts:
    root = build_tree(tmp_path / node, Node(**shape))
    fake_nvidia_smi(root, node)
    profile = load_profile("hyperpod-node")
    return collect_host_facts(profile, CollectOptions(root=str(root), nvml=None))


@pytest.mark.parametrize(
    ("node", "shape"),
    [("h100", {"gpus": 1}), ("h200x2", {"gpus": 2, "efa": 2}), ("h200x2", {"gpus": 0})],
)
def test_host_facts_of_fixture_trees_are_dumped_as_pydantic_did(
    tmp_path: Path, node: str, shape: dict[str, Any]
) -> None:
    facts = _tree_facts(tmp_path, node, **shape)
    same_as_pydantic(HostFacts, facts)
    assert facts.summary() == jsonable(facts)


def test_the_report_written_on_the_h100_parses_and_dumps_back_to_its_facts() -> None:
    report = json.loads((FIXTURES / "h100" / "hp_preflight_host_p5.json").read_text())
    facts = validated(HostFacts, report["facts"])
    same_as_pydantic(HostFacts, facts)
    # what the report was written with (it predates a few fields), unchanged
    written = {k: v for k, v in report["facts"].items() if k in facts.summary()}
    assert holds(facts.summary(), written)
    assert len(written) == len(report["facts"]) - 3  # profile, overrides, expectation
    assert validated(HostFacts, facts.summary()) == facts


def test_the_recorded_deep_figures_parse_and_dump_back() -> None:
    data = json.loads((FIXTURES / "h200" / "deep.json").read_text())
    deep = validated(DeepFacts, data)
    same_as_pydantic(DeepFacts, deep)
    assert holds(jsonable(deep), {k: v for k, v in data.items() if not k.startswith("_")})
    assert validated(DeepFacts, jsonable(deep)) == deep


def test_a_whole_budget_is_a_float_in_the_report_as_pydantic_made_it() -> None:
    deep = DeepFacts(budget_s=40)
    assert type(deep.budget_s) is float
    assert json.dumps(jsonable(deep)) == json.dumps(
        TypeAdapter(DeepFacts).dump_python(validated(DeepFacts, {"budget_s": 40}), mode="json")
    )


def test_a_library_run_report_facts_are_dumped_as_pydantic_did(tmp_path: Path) -> None:
    root = build_tree(tmp_path, Node(gpus=2, efa=2))
    report = run_host_preflight(
        root=str(root),
        nvml=FakeNvml(eight_gpu_dump(), nvlinks={i: [True] * 18 for i in range(8)}),
        instance_type="ml.p5e.48xlarge",
        deep=True,
        deep_seconds=30,
    )
    facts = validated(HostFacts, report.facts)
    same_as_pydantic(HostFacts, facts)
    assert {k: report.facts[k] for k in jsonable(facts)} == jsonable(facts)
    expect = expectation("ml.p5e.48xlarge")
    assert expect is not None and report.facts["expectation"] == asdict(expect)
    assert report.facts["expectation"] == TypeAdapter(Expectation).dump_python(expect)


def _packaged(folder: str, name: str) -> Any:
    files = resources.files("hyperpod_preflight.host").joinpath(folder)
    return json.loads(files.joinpath(name).read_text(encoding="utf-8"))


def test_packaged_profiles_are_read_as_pydantic_read_them() -> None:
    for name in profile_names():
        expected = TypeAdapter(Profile).validate_python(_packaged("profiles", f"{name}.json"))
        assert load_profile(name) == expected
        same_as_pydantic(Profile, load_profile(name))
    items = _packaged("deep", "requirements.json")["requirements"]
    assert list(deep_requirements()) == [
        TypeAdapter(Requirement).validate_python(item) for item in items
    ]


def test_the_peak_table_is_read_as_pydantic_read_it() -> None:
    data = _packaged("deep", "gpu_peaks.json")
    entries = [{**e, "source": data["sources"][e["source"]]} for e in data["models"]]
    assert table() == [TypeAdapter(Peak).validate_python(e) for e in entries]
    for peak in table():
        same_as_pydantic(Peak, peak)  # 2000 GB/s is 2000.0, as pydantic made it


_NO_PYDANTIC = """
import json, sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pydantic":
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, Absent())
from hyperpod_preflight.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    print(json.dumps({"code": exc.code, "pydantic": "pydantic" in sys.modules}), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        # not --instance-type: the catalog it reads is a pydantic model (not host/'s)
        ["host", "--root", "{root}"],
        ["host", "--root", "{root}", "--deep", "--deep-seconds", "3", "-o", "markdown"],
        ["host", "list-profiles", "-o", "json"],
        ["host", "inventory", "--root", "{root}"],
    ],
)
def test_the_host_commands_run_where_pydantic_is_not_installed(
    tmp_path: Path, args: list[str]
) -> None:
    root = build_tree(tmp_path, Node(gpus=2, efa=2))
    fake_nvidia_smi(root, "h200x2")
    argv = [a.replace("{root}", str(root)) for a in args]
    proc = subprocess.run(
        [sys.executable, "-c", _NO_PYDANTIC, *argv], capture_output=True, text=True, timeout=120
    )
    end = json.loads(proc.stderr.strip().splitlines()[-1])
    assert end == {"code": end["code"], "pydantic": False}, proc.stderr
    assert end["code"] in (0, 1), proc.stderr
    assert proc.stdout.strip()
