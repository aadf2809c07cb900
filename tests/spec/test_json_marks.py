"""A CreateCluster JSON's locations without PyYAML (spec/json_marks.py): the same lines and
columns PyYAML's compose() gives, for every JSON the fast reader takes; the rest is left to
PyYAML."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

from hyperpod_preflight.spec.documents import json_locations, yaml_locations
from hyperpod_preflight.spec.json_marks import json_nodes

_KEYS = ["ClusterName", "a", "a.b", "b", "é", "日本", 'x"y', "k\\n", "\u00e9\u0301", "𝄞", "1"]


def _value(rng: random.Random, depth: int) -> object:
    pick = rng.randrange(9 if depth < 4 else 5)
    if pick == 0:
        return rng.choice([0, -1, 12, 3.5, -0.25, 1e21, 10**20])
    if pick == 1:
        return rng.choice([True, False, None])
    if pick in (2, 3, 4):
        return rng.choice(["", "x", "ml.p5.48xlarge", "a b\tc", 'q"q', "é€𝄞", "\u0000\u001f"])
    if pick in (5, 6):
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(_KEYS): _value(rng, depth + 1) for _ in range(rng.randrange(4))}


def _texts() -> list[str]:
    rng = random.Random(18)
    texts = []
    for path in sorted([*EXAMPLES.rglob("*.json"), *(REPO / "tests").rglob("*.json")]):
        try:
            texts.append(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError:
            continue  # a fixture of what is not UTF-8
    for _ in range(300):
        doc = _value(rng, 0)
        indent = rng.choice([None, 0, 1, 2, 4])
        separators = rng.choice([None, (",", ":"), (" , ", " : ")])
        texts.append(
            json.dumps(doc, indent=indent, separators=separators, ensure_ascii=rng.random() < 0.5)
        )
    texts += [
        '{"a": 1, "a": {"b": 2}, "a": [3]}',  # a repeated key: the first one's values win
        '{"a.b": 1, "a": {"b": 2}}',
        '\n\n   {"ClusterName" :"x"}\n\n',
        "[]",
        "{}",
        '"text"',
        "-0.5e+3",
    ]
    return texts


def test_the_same_locations_as_pyyaml() -> None:
    read = 0
    for text in _texts():
        expected = yaml_locations(text, "c.json")
        if json_nodes(text) is not None:
            read += 1
            assert json_locations(text, "c.json") == expected, text
        else:
            assert json_locations(text, "c.json") == expected, text
    assert read > 250  # the fast reader takes nearly all of them


@pytest.mark.parametrize(
    "text",
    [
        '{\t"a": 1}',  # a tab: libyaml and PyYAML differ on it
        '{"a": 1}\r\n',  # a line break other than "\n"
        '{"a": "x\u2028y"}',
        '{"a": "x\x85y"}',
        '{"a": "\x7f"}',  # not printable to YAML
        '{"a": "\ufeff"}',
        '{"a": "x\\/y"}',  # YAML's escapes differ from JSON's here
        '{"a": "\\ud83d\\ude00"}',
        '{"a"\n: 1}',  # a key on another line than its colon
        '{"' + "k" * 1100 + '": 1}',  # a key too long to be a simple key
        '{"a": 1,}',  # not JSON at all
        '{"a": 1} x',
        "{a: 1}",
        '{"a": [1, 2}',
        '{"a": 01}',
        "",
    ],
)
def test_what_is_left_to_pyyaml(text: str) -> None:
    assert json_nodes(text) is None
    assert json_locations(text, "c.json") == yaml_locations(text, "c.json")


def test_a_create_cluster_json_is_read_without_pyyaml() -> None:
    config = EXAMPLES / "slurm-p5-cluster.json"
    code = (
        "import sys\n"
        "from hyperpod_preflight.spec import load_spec\n"
        f"spec = load_spec({str(config)!r})\n"
        "assert spec.locations['ClusterName'].line is not None\n"
        "print('yaml' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "False"


def test_locations_of_an_example(tmp_path: Path) -> None:
    text = '{\n  "ClusterName": "c",\n  "InstanceGroups": [\n    {"InstanceCount": 2}\n  ]\n}\n'
    found = json_locations(text, "c.json")
    assert (found["ClusterName"].line, found["ClusterName"].column) == (2, 18)
    group = found["InstanceGroups[0].InstanceCount"]
    assert (group.line, group.column) == (4, 23)
    assert (found[""].line, found[""].column) == (1, 1)
