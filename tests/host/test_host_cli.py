"""`hp-preflight host` as a user meets it: exit codes, one-line errors, JSON that parses,
list-profiles, inventory YAML, and the fleet aggregate with its outliers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from host_fixture_trees import (
    FakeNvml,
    Node,
    build_tree,
    capture,
    eight_gpu_dump,
    fake_nvidia_smi,
    script,
)

from hyperpod_preflight.cli import main
from hyperpod_preflight.cli.host import host
from hyperpod_preflight.host import run_host_preflight
from hyperpod_preflight.host.inventory import build_inventory, inventory_yaml
from hyperpod_preflight.host.nvsmi import parse_query_xml
from hyperpod_preflight.models import Report


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def gpu_tree(tmp_path: Path, name: str = "node", **node: Any) -> Path:
    """A two-H200 node whose nvidia-smi prints the real captures (the CLI path: NVML is not
    used for a --root tree)."""
    defaults: dict[str, Any] = {"gpus": 2}
    defaults.update(node)
    root = build_tree(tmp_path / name, Node(**defaults))
    fake_nvidia_smi(root, "h200x2")
    script(root, "/usr/bin/systemctl", "echo active")
    return root


def test_passing_node_exits_0_and_json_parses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = gpu_tree(tmp_path)
    code, out, err = run_main(
        [
            "host",
            "--root",
            str(root),
            "--require",
            "gpu-count=2",
            "--require",
            "efa-count=0",
            "--path",
            "/",
            "--require",
            "disk-free-gb=0",
            "--skip",
            "host.row-remap",
            "--output",
            "json",
        ],
        capsys,
    )
    report = json.loads(out)
    assert code == 0, [r for r in report["results"] if r["status"] == "FAIL"]
    assert report["kind"] == "host" and report["summary"]["exit_code"] == 0
    assert report["facts"]["gpu"]["source"] == "nvidia-smi"
    assert "Traceback" not in err


def test_failing_node_exits_1_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = gpu_tree(tmp_path)
    code, out, _ = run_main(
        ["host", "--root", str(root), "--instance-type", "ml.p5e.48xlarge"], capsys
    )
    assert code == 1
    assert "2 GPUs visible to the driver, ml.p5e.48xlarge has 8" in out
    assert "fix: " in out


def test_fail_on_unknown_and_ignore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = gpu_tree(tmp_path)
    base = ["host", "--root", str(root), "--only", "host.gpu-count,host.row-remap"]
    code, _, _ = run_main([*base, "--require", "gpu-count=2"], capsys)
    assert code == 0  # row-remap is UNKNOWN through the CSV fallback
    code, _, _ = run_main([*base, "--require", "gpu-count=2", "--fail-on", "unknown"], capsys)
    assert code == 1
    code, out, _ = run_main(
        [*base, "--require", "gpu-count=4", "--ignore", "host.gpu-count"], capsys
    )
    assert code == 0 and "ignored" in out


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--root", "/nonexistent/tree"], "not a directory"),
        (["--profile", "nope"], "unknown profile 'nope'"),
        (["--require", "driver-min"], "expected KEY=VALUE"),
        (["--require", "cpu-cores-min=many"], "expected a whole number"),
        (["--only", "host.nvlnk"], "did you mean host.nvlink"),
        (["--path", "relative/dir"], "absolute path"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    args: list[str], expect: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(["host", *args], capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("hp-preflight: error:"), err
    assert expect in err and "Traceback" not in err


def test_group_alone_under_click_runner(tmp_path: Path) -> None:
    """The group works without the top-level CLI too (same exit codes, no traceback)."""
    runner = CliRunner()
    result = runner.invoke(host, ["--root", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not a directory" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    root = gpu_tree(tmp_path)
    result = runner.invoke(
        host, ["--root", str(root), "--instance-type", "ml.p5.48xlarge", "-o", "junit"]
    )
    assert result.exit_code == 1 and result.output.lstrip().startswith("<?xml")


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = gpu_tree(tmp_path)
    target = tmp_path / "reports" / "node-a.json"
    _, out, err = run_main(
        ["host", "--root", str(root), "-o", "json", "--output-file", str(target)], capsys
    )
    assert json.loads(target.read_text())["kind"] == "host"
    assert out == "" and str(target) in err


def test_list_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["host", "list-profiles"], capsys)
    assert code == 0
    for name in ("hyperpod-node", "workstation", "checkpoint", "training"):
        assert f"{name}:" in out
    assert "h2d-min-gbps" in out and "--require KEY=VALUE" in out
    code, out, _ = run_main(["host", "list-profiles", "-o", "json"], capsys)
    names = [p["name"] for p in json.loads(out)]
    assert names == ["checkpoint", "hyperpod-node", "training", "workstation"]


# ------------------------------------------------------------------ inventory


def test_inventory_yaml_from_the_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    root = gpu_tree(tmp_path)
    # An older driver refusing a field of the CSV query: the XML path is taken.
    script(
        root,
        "/usr/bin/nvidia-smi",
        "\n".join(
            [
                'case "$*" in',
                "  *--query-gpu*) echo 'Field \"ecc.mode.pending\" is not valid.'; exit 2;;",
                f"  *) cat '{tmp_path}/q.xml';;",
                "esac",
            ]
        ),
    )
    (tmp_path / "q.xml").write_text(capture("h200x2", "nvsmi_q.xml"))
    target = tmp_path / "output" / "gpu_inventory.yaml"
    code, _, err = run_main(
        ["host", "inventory", "--root", str(root), "--output-file", str(target)], capsys
    )
    assert code == 0 and "2 GPU(s) listed" in err
    doc = yaml.safe_load(target.read_text())
    first = doc["gpus"][0]
    assert first == {
        "index": 0,
        "name": "NVIDIA H200",
        "uuid": "GPU-e46090ea-e70c-cc9c-fda4-170e5a55fb95",
        "pci_address": "0000:00:06.0",
        "vendor_id": "0x10de",
        "device_id": "0x2330",
        "iommu_group": 10,
        "driver": "nvidia",
        "memory_mib": 143771,
        "numa_node": 0,
    }
    passthrough = doc["passthrough"]
    assert passthrough["vfio_pci_ids"] == "10de:2330"
    assert passthrough["kernel_cmdline"] == "intel_iommu=on iommu=pt vfio-pci.ids=10de:2330"
    assert passthrough["devices"][1]["libvirt_hostdev"] == [
        "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' "
        "bus='0x00' slot='0x07' function='0x0'/></source></hostdev>"
    ]
    assert passthrough["warnings"] == []


def test_inventory_lists_gpus_the_driver_cannot_see_and_warns_without_iommu(
    tmp_path: Path,
) -> None:
    root = build_tree(tmp_path, Node(gpus=2, iommu=False))
    report = run_host_preflight(root=str(root), nvml=None)
    from hyperpod_preflight.host.models import HostFacts, validated

    facts = validated(HostFacts, report.facts)
    found = build_inventory(facts)
    assert [(g.index, g.pci_address) for g in found.gpus] == [
        (None, "0000:00:06.0"),
        (None, "0000:00:07.0"),
    ]
    text = inventory_yaml(found, "GenuineIntel", "0.1.0")
    assert "the IOMMU is off" in text
    # The modprobe.d file is a literal block, ready to paste, and round-trips.
    assert "modprobe_d_vfio_conf: |" in text
    import yaml

    conf = yaml.safe_load(text)["passthrough"]["modprobe_d_vfio_conf"]
    assert (
        conf.startswith("options vfio-pci ids=10de:") and "\nsoftdep nvidia pre: vfio-pci" in conf
    )


def test_inventory_without_gpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = build_tree(tmp_path, Node(gpus=0))
    code, out, err = run_main(["host", "inventory", "--root", str(root)], capsys)
    assert code == 0 and "gpus: []" in out and "no NVIDIA GPU found" in err


def test_xml_inventory_join_uses_bus_ids() -> None:
    facts = parse_query_xml(capture("h100", "nvsmi_q.xml"))
    assert facts.gpus[0].pci_bus_id == "0000:00:06.0"


# ------------------------------------------------------------------ aggregate


def _report(tmp_path: Path, name: str, dump: dict[str, Any], **node: Any) -> Path:
    defaults: dict[str, Any] = {
        "gpus": len(dump["gpus"]),
        "gpu_first": 0x10,
        "efa": 32,
        "hostname": name,
    }
    defaults.update(node)
    root = build_tree(tmp_path / name, Node(**defaults))
    script(root, "/usr/bin/systemctl", "echo active")
    report = run_host_preflight(
        root=str(root),
        nvml=FakeNvml(
            dump, nvlinks={i: [True] * 18 for i in range(8)}, fabric={i: (3, 0) for i in range(8)}
        ),
        instance_type="ml.p5e.48xlarge",
        paths=["/"],
        requires={"disk-free-gb": "0"},
    )
    path = tmp_path / "reports" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(Report.of(report).model_dump_json())
    return path


def test_aggregate_puts_failing_nodes_first_and_names_outliers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = eight_gpu_dump()
    _report(tmp_path, "node-a", good)
    _report(tmp_path, "node-b", good)
    seven = eight_gpu_dump()
    seven["gpus"] = seven["gpus"][:7]
    _report(tmp_path, "node-c", seven)
    slow = eight_gpu_dump()
    slow["gpus"][3]["pcie_width_cur"] = 8
    _report(tmp_path, "node-d", slow)
    old = eight_gpu_dump()
    old["driver"] = "570.133.20"
    _report(tmp_path, "node-e", old)

    code, out, _ = run_main(["host", "aggregate", str(tmp_path / "reports")], capsys)
    assert code == 1
    lines = out.splitlines()
    order = [line.split()[0] for line in lines[2:7]]
    assert order[:2] == ["node-c", "node-d"]  # failing nodes first
    assert order[2] == "node-e"  # then the outlier that passed
    assert "7 GPUs (others have up to 8)" in out
    assert "gpu3 PCIe Gen5 x8 (max Gen5 x16)" in out
    assert "driver 570.133.20 (most nodes: 580.159.04)" in out
    assert "gpu-count" in lines[0] and "pcie-link" in lines[0]
    assert "5 nodes: 2 failing, 3 with outliers" in out

    code, out, _ = run_main(["host", "aggregate", str(tmp_path / "reports"), "-o", "json"], capsys)
    view = json.loads(out)
    assert view["exit_code"] == 1 and view["nodes"][0]["node"] == "node-c"


def test_aggregate_of_healthy_nodes_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _report(tmp_path, "node-a", eight_gpu_dump())
    b = _report(tmp_path, "node-b", eight_gpu_dump())
    code, out, _ = run_main(["host", "aggregate", str(a), str(b)], capsys)
    assert code == 0 and "2 nodes: 0 failing, 0 with outliers" in out


@pytest.mark.parametrize(
    ("content", "expect"),
    [("{not json", "not a hp-preflight JSON report"), ('{"kind": "cluster"}', "not a host report")],
)
def test_aggregate_bad_input_exits_2(
    tmp_path: Path, content: str, expect: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, _, err = run_main(["host", "aggregate", str(bad)], capsys)
    warning, error = err.strip().splitlines()
    assert code == 2 and expect in warning and warning.startswith("hp-preflight: warning:")
    assert "no readable host report" in error
    code, _, err = run_main(["host", "aggregate", str(tmp_path / "none")], capsys)
    assert code == 2 and "no such file or folder" in err


def test_aggregate_skips_unreadable_and_foreign_files_with_one_warning_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _report(tmp_path, "node-a", eight_gpu_dump())
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "cluster.json").write_text('{"kind": "cluster"}')
    code, out, err = run_main(
        [
            "host",
            "aggregate",
            str(good),
            str(tmp_path / "broken.json"),
            str(tmp_path / "cluster.json"),
        ],
        capsys,
    )
    warnings = err.strip().splitlines()
    assert code == 0 and "1 nodes: 0 failing" in out
    assert len(warnings) == 2 and all(
        w.startswith("hp-preflight: warning: skipped") for w in warnings
    )
    assert "broken.json" in warnings[0] and "not a host report" in warnings[1]


def test_aggregate_reads_the_report_written_on_the_real_h100(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSON `hp-preflight host --instance-type ml.p5.48xlarge -o json` wrote on the H100
    node, next to a healthy eight-GPU node: the H100 comes first, named with its findings."""
    real = Path(__file__).resolve().parent / "fixtures" / "h100" / "hp_preflight_host_p5.json"
    healthy = _report(tmp_path, "node-a", eight_gpu_dump())
    code, out, _ = run_main(["host", "aggregate", str(real), str(healthy)], capsys)
    assert code == 1
    first = out.splitlines()[2]
    assert first.startswith("vm ") and "3 FAIL" in first
    assert "1 GPUs (others have up to 8)" in first
    assert "driver" not in first.split("GPUs (others")[1]  # same driver: no outlier


# A GPU node often has no boto3/botocore (the `host` command needs neither): run the command
# in a fresh interpreter where importing them fails.
_NO_BOTOCORE = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("botocore", "boto3"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, _Block())
from hyperpod_preflight.cli import main
main(sys.argv[1:])
"""


def test_host_with_an_instance_type_runs_without_botocore(tmp_path: Path) -> None:
    """On a real GPU node without botocore, `--instance-type` crashed (exit 3, "No module
    named 'botocore'") once the option was validated against botocore's model."""
    import subprocess
    import sys

    root = gpu_tree(tmp_path)
    argv = ["host", "--root", str(root), "--instance-type", "ml.p5e.48xlarge", "-o", "json"]
    done = subprocess.run(
        [sys.executable, "-c", _NO_BOTOCORE, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "botocore" not in done.stderr
    report = json.loads(done.stdout)
    assert any("ml.p5e.48xlarge has 8" in f["message"] for f in report["results"])
