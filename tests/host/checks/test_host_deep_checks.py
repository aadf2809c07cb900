"""host.deep-* checks of hyperpod_preflight/host/checks/deep.py: the judges, on figures
recorded on a real H200 (fixtures/h200/deep.json) and on made-up slow, throttling and Xid
nodes (CI has no GPU)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from host_check_support import FakeNvml, eight_gpu_dump, nvml_from_capture

from hyperpod_preflight.host.checks import deep as checks
from hyperpod_preflight.host.deep.models import (
    DeepFacts,
    GpuDeep,
    NcclDeep,
    PairDeep,
    XidEvent,
    XidFacts,
)
from hyperpod_preflight.host.deep.peaks import lookup
from hyperpod_preflight.host.models import HostFacts, ResourceConfigFacts, validated
from hyperpod_preflight.host.nvml import read_nvml
from hyperpod_preflight.host.profiles import add_deep_requirements, apply_overrides, load_profile
from hyperpod_preflight.models import Outcome, Status
from hyperpod_preflight.registry import HostContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def recorded_h200() -> DeepFacts:
    return validated(DeepFacts, json.loads((FIXTURES / "h200" / "deep.json").read_text()))


def eight_h200(**changes: dict[str, Any]) -> tuple[HostFacts, DeepFacts]:
    """8 H200s (the captured one, repeated) each with the recorded figures; ``changes``
    maps ``gpuN`` to fields to overwrite on that GPU."""
    host = HostFacts(gpu=read_nvml(FakeNvml(eight_gpu_dump())))
    template = recorded_h200().gpus[0]
    deep = DeepFacts(backend="torch")
    for info in host.gpu.gpus:
        gpu = replace(copy.deepcopy(template), index=info.index, pci_bus_id=info.pci_bus_id)
        for key, value in changes.get(f"gpu{info.index}", {}).items():
            setattr(gpu, key, value)
        deep.gpus.append(gpu)
    host.deep = deep
    return host, deep


def ctx(host: HostFacts, **requires: str) -> HostContext:
    profile = add_deep_requirements(load_profile("hyperpod-node"))
    profile = apply_overrides(profile, {k.replace("_", "-"): v for k, v in requires.items()})
    return HostContext(host=host, options={"profile": profile})


def by_resource(outcomes: list[Outcome]) -> dict[str, Outcome]:
    return {o.resource: o for o in outcomes}


def single_h200() -> HostFacts:
    host = HostFacts(gpu=read_nvml(nvml_from_capture("h200x2")))
    host.gpu.gpus = host.gpu.gpus[:1]
    host.deep = recorded_h200()
    return host


def test_the_peak_table_knows_the_fleet_models_and_cites_nvidia() -> None:
    for name, model, bf16 in (
        ("NVIDIA H200", "H200", 989.5),
        ("NVIDIA H100 80GB HBM3", "H100 SXM", 989.5),
        ("NVIDIA A100-SXM4-80GB", "A100 SXM 80GB", 312.0),
        ("NVIDIA L40S", "L40S", 362.05),
        ("NVIDIA B200", "B200", 2250.0),
    ):
        peak = lookup(name)
        assert peak is not None and peak.model == model and peak.tflops["bf16"] == bf16
        assert peak.source.startswith("https://www.nvidia.com/")
    h200, h100 = lookup("NVIDIA H200"), lookup("NVIDIA H100 80GB HBM3")
    assert h200 is not None and h200.memory_gbps == 4800
    assert h100 is not None and h100.memory_gbps == 3350
    a10g = lookup("NVIDIA A10G")
    assert a10g is not None and a10g.tflops["bf16"] is None and "no data sheet" in a10g.source
    assert lookup("NVIDIA Z9000") is None


def test_recorded_h200_figures_pass_as_shares_of_the_published_peaks() -> None:
    host = single_h200()
    context = ctx(host)
    matmul = by_resource(checks.deep_matmul(context))
    bf16 = matmul["gpu0 (0000:00:06.0) bf16"]
    assert bf16.status is Status.PASS
    assert "777 TFLOP/s = 79% of the H200 dense bf16 peak (989.5 TFLOP/s)" in bf16.message
    assert "8192³" in bf16.message
    assert "73% of the H200 dense fp8 peak" in matmul["gpu0 (0000:00:06.0) fp8"].message
    (memory,) = checks.deep_memory_bandwidth(context)
    assert memory.status is Status.PASS
    assert "4250 GB/s = 89% of the H200 memory bandwidth (4800 GB/s)" in memory.message
    copies = by_resource(checks.deep_host_bandwidth(context))
    h2d = copies["gpu0 (0000:00:06.0) h2d, NUMA node 0"]
    assert h2d.status is Status.PASS and "55.4 GB/s = 88% of the PCIe Gen5 x16 peak" in h2d.message
    assert copies["gpu0 (0000:00:06.0) d2h, NUMA node 0"].status is Status.PASS
    (clocks,) = checks.deep_clock_events(context)
    assert clocks.status is Status.PASS and "SM clock up to 1980 MHz" in clocks.message
    (pairs,) = checks.deep_p2p(context)
    assert pairs.status is Status.SKIP and "1 GPU visible" in pairs.message
    (nccl,) = checks.deep_nccl(context)
    assert nccl.status is Status.SKIP


def test_a_gpu_more_than_ten_percent_below_the_node_median_fails_by_name() -> None:
    host, _ = eight_h200(gpu3={"matmul_tflops": {"bf16": 650.0, "fp16": 801.0, "fp8": 1453.0}})
    results = by_resource(checks.deep_matmul(ctx(host)))
    slow = results["gpu3 (0000:00:13.0) bf16"]
    assert slow.status is Status.FAIL
    assert "16% below the node's median (777 TFLOP/s" in slow.message
    assert "nvidia-smi -r" in slow.remediation
    others = [o for r, o in results.items() if r != "gpu3 (0000:00:13.0) bf16"]
    assert all(o.status is Status.PASS for o in others)
    # 9% below is within the spread; the spread itself is data (--require).
    host, _ = eight_h200(gpu3={"d2d_gbps": 3870.0})
    assert (
        by_resource(checks.deep_memory_bandwidth(ctx(host)))["gpu3 (0000:00:13.0)"].status
        is Status.PASS
    )
    tight = by_resource(checks.deep_memory_bandwidth(ctx(host, deep_node_spread="0.05")))
    assert tight["gpu3 (0000:00:13.0)"].status is Status.FAIL


def test_slow_gpu_on_a_hyperpod_node_names_the_replace_command() -> None:
    host, _ = eight_h200(gpu5={"h2d_gbps": 20.0})
    host.resource_config = ResourceConfigFacts(
        path="/opt/ml/config/resource_config.json",
        found=True,
        cluster_name="ml-cluster",
        instance_id="i-0bbb",
    )
    slow = by_resource(checks.deep_host_bandwidth(ctx(host)))[
        "gpu5 (0000:00:15.0) h2d, NUMA node 0"
    ]
    assert slow.status is Status.FAIL
    assert (
        "aws sagemaker batch-replace-cluster-nodes --cluster-name ml-cluster --node-ids i-0bbb"
        in slow.remediation
    )


def test_every_gpu_under_its_share_of_the_peak_warns_and_the_share_is_data() -> None:
    low = {"matmul_tflops": {"bf16": 500.0}}
    host, _ = eight_h200(**{f"gpu{i}": low for i in range(8)})
    results = checks.deep_matmul(ctx(host))
    assert {o.status for o in results} == {Status.WARN}
    assert "51% of the H200 dense bf16 peak" in results[0].message
    assert "under 60% of the peak (optional)" in results[0].message
    strict = by_resource(checks.deep_matmul(ctx(single_h200(), deep_matmul_share="0.85")))
    assert strict["gpu0 (0000:00:06.0) bf16"].status is Status.WARN
    assert "under 85% of the peak" in strict["gpu0 (0000:00:06.0) bf16"].message


def test_an_unknown_model_is_judged_only_against_the_other_gpus() -> None:
    host, deep = eight_h200(gpu1={"matmul_tflops": {"bf16": 500.0}})
    for gpu in deep.gpus:
        gpu.name = "NVIDIA Z9000"
    results = by_resource(checks.deep_matmul(ctx(host)))
    assert results["gpu1 (0000:00:11.0) bf16"].status is Status.FAIL
    fine = results["gpu0 (0000:00:10.0) bf16"]
    assert fine.status is Status.PASS
    assert "no published peak for NVIDIA Z9000: node comparison only" in fine.message


def test_measurement_errors_are_unknown_and_budget_skips_are_skips() -> None:
    host, _ = eight_h200(
        gpu2={"d2d_gbps": None, "errors": {"d2d": "OutOfMemoryError: CUDA out of memory"}},
        gpu4={"d2d_gbps": None, "skipped": {"d2d": "time budget spent"}},
    )
    results = by_resource(checks.deep_memory_bandwidth(ctx(host)))
    assert results["gpu2 (0000:00:12.0)"].status is Status.UNKNOWN
    assert "out of memory" in results["gpu2 (0000:00:12.0)"].message
    assert results["gpu4 (0000:00:14.0)"].status is Status.SKIP
    assert "time budget spent" in results["gpu4 (0000:00:14.0)"].message


def test_hardware_or_thermal_slowdown_under_load_fails_naming_it() -> None:
    host, _ = eight_h200(gpu6={"clock_event_mask": 0x40 | 0x4}, gpu7={"clock_event_mask": 0x4})
    results = by_resource(checks.deep_clock_events(ctx(host)))
    hot = results["gpu6 (0000:00:16.0)"]
    assert hot.status is Status.FAIL and "hw_thermal_slowdown seen under load" in hot.message
    assert "sw_power_cap" not in hot.message.split("seen under load")[0]
    capped = results["gpu7 (0000:00:17.0)"]
    assert capped.status is Status.PASS and "sw_power_cap (not a fault)" in capped.message
    host, _ = eight_h200(
        gpu0={"clock_event_mask": None, "skipped": {"clock-events": "NVML not available"}}
    )
    first = checks.deep_clock_events(ctx(host))[0]
    assert first.status is Status.UNKNOWN and "NVML not available" in first.message


def nvlink_pairs(slow: tuple[int, int] | None = None) -> list[PairDeep]:
    pairs = []
    for a in range(8):
        for b in range(a + 1, 8):
            gbps = 120.0 if (a, b) == slow else 385.0
            pairs.append(PairDeep(a=a, b=b, link="NVLink", peer_access=True, gbps=gbps))
    return pairs


def test_p2p_pairs_are_named_by_link_and_a_slow_pair_fails() -> None:
    host, deep = eight_h200()
    deep.pairs = nvlink_pairs(slow=(2, 5))
    results = by_resource(checks.deep_p2p(ctx(host)))
    assert len(results) == 28
    slow = results["gpu2-gpu5 NVLink"]
    assert slow.status is Status.FAIL and "below the node's median (385 GB/s" in slow.message
    ok = results["gpu0-gpu1 NVLink"]
    assert ok.status is Status.PASS
    assert "86% of the H200 NVLink peak, one direction (450 GB/s)" in ok.message


def test_p2p_over_pcie_is_judged_against_the_pcie_link_and_peer_access() -> None:
    host, deep = eight_h200()
    deep.gpus, host.gpu.gpus = deep.gpus[:2], host.gpu.gpus[:2]
    deep.pairs = [
        PairDeep(a=0, b=1, link="PCIe (across CPU sockets)", peer_access=False, gbps=20.0)
    ]
    results = checks.deep_p2p(ctx(host))
    statuses = {(o.resource, o.status) for o in results}
    assert ("gpu0-gpu1 PCIe (across CPU sockets)", Status.WARN) in statuses
    assert any("under 50% of the peak" in o.message for o in results)
    assert any("go through host memory" in o.message for o in results)


def test_nccl_bus_bandwidth_against_the_slowest_link() -> None:
    host, deep = eight_h200()
    deep.pairs = nvlink_pairs()
    deep.nccl = NcclDeep(
        gpus=8, nbytes=256 * 1024 * 1024, iterations=20, algbw_gbps=205.0, busbw_gbps=358.8
    )
    (ok,) = checks.deep_nccl(ctx(host))
    assert ok.status is Status.PASS and "358.8 GB/s" in ok.message and "80% of" in ok.message
    deep.nccl.busbw_gbps = 150.0
    (low,) = checks.deep_nccl(ctx(host))
    assert low.status is Status.WARN and "under 50%" in low.message
    deep.nccl = NcclDeep(gpus=8, error="did not finish within 12 s (--deep-seconds)")
    (slow,) = checks.deep_nccl(ctx(host))
    assert slow.status is Status.UNKNOWN and "did not finish" in slow.message


def test_without_deep_or_without_torch_every_deep_check_skips_plainly() -> None:
    host = HostFacts()
    for fn in (checks.deep_matmul, checks.deep_p2p, checks.deep_nccl, checks.deep_xid):
        (outcome,) = fn(ctx(host))
        assert outcome.status is Status.SKIP and "pass --deep" in outcome.message
    host.deep = DeepFacts(reason="neither torch nor cupy is importable; pip install torch")
    (outcome,) = checks.deep_matmul(ctx(host))
    assert outcome.status is Status.SKIP and "pip install torch" in outcome.message


def xid_host(*events: XidEvent, hyperpod: bool = True) -> HostFacts:
    host, deep = eight_h200()
    deep.xid = XidFacts(source="/dev/kmsg", events=list(events))
    if hyperpod:
        host.resource_config = ResourceConfigFacts(
            path="/opt/ml/config/resource_config.json",
            found=True,
            cluster_name="ml-cluster",
            instance_id="i-0bbb",
        )
    return host


def test_xid_fallen_off_the_bus_on_hyperpod_gives_the_reboot_command() -> None:
    event = XidEvent(
        xid=79, pci_bus_id="0000:00:12.0", text="GPU has fallen off the bus.", action="reboot-node"
    )
    (outcome,) = checks.deep_xid(ctx(xid_host(event)))
    assert outcome.status is Status.FAIL and outcome.resource == "gpu2 (0000:00:12.0)"
    assert outcome.remediation == (
        "aws sagemaker batch-reboot-cluster-nodes --cluster-name ml-cluster --node-ids i-0bbb"
    )
    assert "docs.nvidia.com/deploy/xid-errors" in outcome.message
    (plain,) = checks.deep_xid(ctx(xid_host(event, hyperpod=False)))
    assert plain.status is Status.FAIL and "sudo reboot" in plain.remediation


def test_xid_actions_grade_the_findings() -> None:
    reset = XidEvent(xid=63, pci_bus_id="0000:00:10.0", text="Row Remapper", action="reset-gpu")
    replace = XidEvent(
        xid=64, pci_bus_id="0000:00:11.0", text="Row Remapper", action="replace-node"
    )
    app = XidEvent(xid=13, pci_bus_id="0000:00:13.0", text="Graphics Exception", action="none")
    odd = XidEvent(xid=999, pci_bus_id="0000:00:14.0", text="new", action="unknown")
    results = by_resource(checks.deep_xid(ctx(xid_host(reset, replace, app, odd))))
    assert results["gpu0 (0000:00:10.0)"].status is Status.WARN
    assert "sudo nvidia-smi -r -i 0" in results["gpu0 (0000:00:10.0)"].remediation
    assert results["gpu1 (0000:00:11.0)"].status is Status.FAIL
    assert "batch-replace-cluster-nodes" in results["gpu1 (0000:00:11.0)"].remediation
    assert results["gpu3 (0000:00:13.0)"].status is Status.PASS
    assert results["gpu4 (0000:00:14.0)"].status is Status.WARN
    # The level that fails is data: reset-gpu and worse.
    strict = by_resource(checks.deep_xid(ctx(xid_host(reset), deep_xid="reset-gpu")))
    assert strict["gpu0 (0000:00:10.0)"].status is Status.FAIL


def test_unreadable_kernel_log_is_unknown_with_the_reasons() -> None:
    host, deep = eight_h200()
    deep.xid = XidFacts(
        error="/dev/kmsg: permission denied (needs root or CAP_SYSLOG); dmesg: not found"
    )
    (outcome,) = checks.deep_xid(ctx(host))
    assert outcome.status is Status.UNKNOWN and "permission denied" in outcome.message
    assert "sudo" in outcome.remediation
    deep.xid = XidFacts(source="dmesg")
    (clean,) = checks.deep_xid(ctx(host))
    assert clean.status is Status.PASS and "no NVIDIA Xid event" in clean.message


def test_gpu_deep_names_clock_events() -> None:
    assert GpuDeep(index=0, clock_event_mask=0x48).clock_events == [
        "hw_slowdown",
        "hw_thermal_slowdown",
    ]
