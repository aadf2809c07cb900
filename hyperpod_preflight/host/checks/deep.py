"""``--deep`` judges: what the GPUs delivered, against the model's published peak
(``host/deep/gpu_peaks.json``), the PCIe link, and the node's other GPUs; clock events under
load; the Xid history. Thresholds are the ``deep-*`` requirement items
(``host/deep/requirements.json``, overridable with ``--require``). Pure: no I/O.

A GPU more than ``deep-node-spread`` below the node's median on a figure FAILs, naming it;
a figure under its share of the published peak WARNs (the items are optional). A model the
table does not know is judged only against the node's other GPUs.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any

from ...registry import HostContext, check
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ...shell import command
from ..bandwidth import pcie_peak_gbps
from ..deep.models import DeepFacts, GpuDeep, XidEvent, clock_event_names
from ..deep.peaks import Peak, lookup
from ..deep.xid import ACTION_RANK, CATALOGUE
from ..models import GpuInfo, HostFacts
from ..profiles import Requirement
from ._common import REPLACE_NODE, facts, judged, profile

DEFAULT_SPREAD = 0.10
DTYPES = ("bf16", "fp16", "fp8")


def _deep(ctx: HostContext) -> DeepFacts | list[Outcome]:
    """The measured facts, or the one SKIP that says why there are none."""
    deep = facts(ctx).deep
    if deep is None:
        return [skipped("deep", "not measured: pass --deep")]
    if deep.reason:
        return [skipped("deep", f"not measured: {deep.reason}")]
    return deep


def _item(ctx: HostContext, key: str) -> Requirement | None:
    return profile(ctx).get(key)


def _spread(ctx: HostContext) -> tuple[float, Requirement | None]:
    item = _item(ctx, "deep-node-spread")
    return (float(item.threshold) if item is not None else DEFAULT_SPREAD), item


def _gpu_info(host: HostFacts, index: int) -> GpuInfo | None:
    return next((g for g in host.gpu.gpus if g.index == index), None)


def _label(host: HostFacts, gpu: GpuDeep) -> str:
    info = _gpu_info(host, gpu.index)
    return info.label if info else f"gpu{gpu.index}"


def node_command(host: HostFacts, action: str) -> str | None:
    """On a HyperPod node: the exact ``aws sagemaker batch-{reboot,replace}-cluster-nodes``
    command for this node (the instance id a placeholder when the file does not list it)."""
    found = host.resource_config
    if found is None or not found.cluster_name:
        return None
    verb = {"reboot-node": "reboot", "replace-node": "replace"}.get(action)
    if verb is None:
        return None
    start = command(
        "aws", "sagemaker", f"batch-{verb}-cluster-nodes", "--cluster-name", found.cluster_name
    )
    if not found.instance_id:
        return f"{start} --node-ids <this node's instance id>"
    return f"{start} {command('--node-ids', found.instance_id)}"


def _replace_hint(host: HostFacts) -> str:
    return node_command(host, "replace-node") or REPLACE_NODE


@dataclass
class Figure:
    """One measured figure of one resource, with what it is compared with."""

    resource: str
    value: float | None
    peak: float | None = None
    peak_label: str = ""
    error: str | None = None
    skip: str | None = None
    group: str = ""  # figures are compared with the median of their group


def _judge(
    figures: list[Figure],
    *,
    what: str,
    unit: str,
    share_item: Requirement | None,
    spread: float,
    spread_item: Requirement | None,
    slow_fix: str,
    low_fix: str,
) -> list[Outcome]:
    groups: dict[str, list[float]] = {}
    for fig in figures:
        if fig.value is not None:
            groups.setdefault(fig.group, []).append(fig.value)
    medians = {g: statistics.median(v) for g, v in groups.items() if len(v) >= 2}
    out: list[Outcome] = []
    for fig in figures:
        if fig.value is None:
            if fig.error:
                out.append(unknown(fig.resource, f"{what}: could not measure: {fig.error}"))
            else:
                out.append(skipped(fig.resource, f"{what}: not measured: {fig.skip or '?'}"))
            continue
        details: dict[str, Any] = {"value": fig.value, "unit": unit}
        text = f"{what} {fig.value:g} {unit}"
        if fig.peak:
            details["peak"] = fig.peak
            text += f" = {fig.value / fig.peak:.0%} of {fig.peak_label} ({fig.peak:g} {unit})"
        median = medians.get(fig.group)
        if median is not None:
            details["node_median"] = median
        if median is not None and fig.value < (1 - spread) * median:
            message = (
                f"{text}: {1 - fig.value / median:.0%} below the node's median "
                f"({median:g} {unit}; more than {spread:.0%} is a fault)"
            )
            if spread_item is not None:
                out.append(judged(spread_item, fig.resource, message, slow_fix, **details))
            else:
                out.append(failed(fig.resource, message, slow_fix, **details))
            continue
        share = float(share_item.threshold) if share_item is not None else None
        if share is not None and fig.peak and fig.value < share * fig.peak:
            assert share_item is not None
            message = f"{text}: under {share:.0%} of the peak"
            out.append(judged(share_item, fig.resource, message, low_fix, **details))
            continue
        if not fig.peak and fig.peak_label:
            text += f" ({fig.peak_label})"
        out.append(passed(fig.resource, text, **details))
    return out


def _model_peak(gpu: GpuDeep) -> tuple[Peak | None, str]:
    peak = lookup(gpu.name)
    if peak is None:
        return None, f"no published peak for {gpu.name or 'this model'}: node comparison only"
    return peak, ""


def _slow_gpu_fix(host: HostFacts) -> str:
    return (
        "look at this GPU's clocks, temperature and power (nvidia-smi -q -d "
        "PERFORMANCE,TEMPERATURE,POWER; host.deep-clock-events), reset it (sudo nvidia-smi -r "
        f"-i N) and measure again; if it stays slow: {_replace_hint(host)}"
    )


@check(
    "host.deep-matmul", "Dense matmul throughput per GPU (--deep)", Severity.HIGH, needs_aws=False
)
def deep_matmul(ctx: HostContext) -> list[Outcome]:
    """With --deep, bf16/fp16/fp8 matmul TFLOP/s vs the dense peak and the node's other GPUs."""
    deep = _deep(ctx)
    if isinstance(deep, list):
        return deep
    host = facts(ctx)
    spread, spread_item = _spread(ctx)
    figures: list[Figure] = []
    for gpu in deep.gpus:
        peak, note = _model_peak(gpu)
        for dtype in DTYPES:
            value = gpu.matmul_tflops.get(dtype)
            key = f"matmul-{dtype}"
            error = gpu.errors.get(key) or gpu.errors.get("matmul")
            skip = gpu.skipped.get(key) or gpu.skipped.get("all")
            if value is None and not error and not skip:
                continue
            top = peak.tflops.get(dtype) if peak else None
            figures.append(
                Figure(
                    resource=f"{_label(host, gpu)} {dtype}",
                    value=value,
                    peak=top,
                    peak_label=f"the {peak.model} dense {dtype} peak" if peak and top else note,
                    error=error,
                    skip=skip,
                    group=dtype,
                )
            )
    if not figures:
        return [skipped("deep", "no matmul was measured")]
    size = next((g.matmul_size for g in deep.gpus if g.matmul_size), None)
    return _judge(
        figures,
        what=f"{size}³ matmul" if size else "matmul",
        unit="TFLOP/s",
        share_item=_item(ctx, "deep-matmul-share"),
        spread=spread,
        spread_item=spread_item,
        slow_fix=_slow_gpu_fix(host),
        low_fix="look for clock events (host.deep-clock-events), another process on the GPU "
        "(nvidia-smi), and an application clock or power limit set below default "
        "(nvidia-smi -q -d CLOCK,POWER)",
    )


@check(
    "host.deep-memory-bandwidth",
    "Device memory bandwidth per GPU (--deep)",
    Severity.HIGH,
    needs_aws=False,
)
def deep_memory_bandwidth(ctx: HostContext) -> list[Outcome]:
    """With --deep, device-to-device copy GB/s (read + written) vs the HBM peak and the node."""
    deep = _deep(ctx)
    if isinstance(deep, list):
        return deep
    host = facts(ctx)
    spread, spread_item = _spread(ctx)
    figures = []
    for gpu in deep.gpus:
        peak, note = _model_peak(gpu)
        top = peak.memory_gbps if peak else None
        figures.append(
            Figure(
                resource=_label(host, gpu),
                value=gpu.d2d_gbps,
                peak=top,
                peak_label=f"the {peak.model} memory bandwidth" if peak and top else note,
                error=gpu.errors.get("d2d"),
                skip=gpu.skipped.get("d2d") or gpu.skipped.get("all"),
            )
        )
    return _judge(
        figures,
        what="device-to-device copy (bytes read + written)",
        unit="GB/s",
        share_item=_item(ctx, "deep-memory-share"),
        spread=spread,
        spread_item=spread_item,
        slow_fix=_slow_gpu_fix(host),
        low_fix="look for another process on the GPU (nvidia-smi) and a memory clock set "
        "below default (nvidia-smi -q -d CLOCK)",
    )


def _link_peak(info: GpuInfo | None) -> tuple[float | None, str]:
    if info is None:
        return None, ""
    gen = info.pcie_gen_max or info.pcie_gen_current
    width = info.pcie_width_max or info.pcie_width_current
    peak = pcie_peak_gbps(gen, width)
    return peak, (f"the PCIe Gen{gen} x{width} peak" if peak else "")


@check(
    "host.deep-host-bandwidth",
    "Pinned host-to-device and device-to-host bandwidth (--deep)",
    Severity.MEDIUM,
    needs_aws=False,
)
def deep_host_bandwidth(ctx: HostContext) -> list[Outcome]:
    """With --deep, pinned H2D and D2H GB/s vs the PCIe gen x width peak and the node."""
    deep = _deep(ctx)
    if isinstance(deep, list):
        return deep
    host = facts(ctx)
    spread, spread_item = _spread(ctx)
    figures = []
    for gpu in deep.gpus:
        peak, label = _link_peak(_gpu_info(host, gpu.index))
        numa = f", NUMA node {gpu.numa_node}" if gpu.numa_node is not None else ""
        for direction, value in (("h2d", gpu.h2d_gbps), ("d2h", gpu.d2h_gbps)):
            figures.append(
                Figure(
                    resource=f"{_label(host, gpu)} {direction}{numa}",
                    value=value,
                    peak=peak,
                    peak_label=label,
                    error=gpu.errors.get("host-copies"),
                    skip=gpu.skipped.get("host-copies") or gpu.skipped.get("all"),
                    group=direction,
                )
            )
    return _judge(
        figures,
        what="pinned copy",
        unit="GB/s",
        share_item=_item(ctx, "deep-host-share"),
        spread=spread,
        spread_item=spread_item,
        slow_fix="check the GPU's PCIe link (host.pcie-link; nvidia-smi -q -d PCIE), the NUMA "
        "placement (nvidia-smi topo -m) and IOMMU passthrough (iommu=pt); if the slot stays "
        f"slow: {_replace_hint(host)}",
        low_fix="check NUMA placement (run pinned to the GPU's NUMA node: numactl "
        "--cpunodebind=N --membind=N) and IOMMU passthrough (iommu=pt)",
    )


@check(
    "host.deep-clock-events",
    "No hardware or thermal slowdown under load (--deep)",
    Severity.HIGH,
    needs_aws=False,
)
def deep_clock_events(ctx: HostContext) -> list[Outcome]:
    """With --deep, NVML clock-event reasons sampled under load show no HW/thermal slowdown."""
    deep = _deep(ctx)
    if isinstance(deep, list):
        return deep
    host = facts(ctx)
    item = _item(ctx, "deep-clock-events")
    bad_names = {str(n) for n in (item.threshold if item is not None else [])}
    out: list[Outcome] = []
    for gpu in deep.gpus:
        label = _label(host, gpu)
        if gpu.clock_event_mask is None:
            why = gpu.skipped.get("clock-events") or gpu.skipped.get("all")
            out.append(unknown(label, f"clock events not sampled: {why or 'NVML gave no reading'}"))
            continue
        names = clock_event_names(gpu.clock_event_mask)
        bad = [n for n in names if n in bad_names]
        clock = f", SM clock up to {gpu.sm_clock_max_mhz} MHz" if gpu.sm_clock_max_mhz else ""
        details: dict[str, Any] = {
            "mask": hex(gpu.clock_event_mask),
            "events": names,
            "samples": gpu.clock_event_samples,
            "sm_clock_max_mhz": gpu.sm_clock_max_mhz,
        }
        seen = f"{gpu.clock_event_samples} samples under load{clock}"
        if bad and item is not None:
            out.append(
                judged(
                    item,
                    label,
                    f"{', '.join(bad)} seen under load ({seen})",
                    "check the GPU's cooling and power (nvidia-smi -q -d "
                    "TEMPERATURE,POWER,PERFORMANCE; the chassis fans and inlet temperature); "
                    f"if it repeats on an idle, cool node: {_replace_hint(host)}",
                    **details,
                )
            )
            continue
        other = [n for n in names if n not in bad_names]
        note = f"; seen: {', '.join(other)} (not a fault)" if other else ""
        out.append(passed(label, f"no hardware or thermal slowdown ({seen}){note}", **details))
    return out


@check(
    "host.deep-p2p", "Peer-to-peer bandwidth per GPU pair (--deep)", Severity.HIGH, needs_aws=False
)
def deep_p2p(ctx: HostContext) -> list[Outcome]:
    """With --deep, each GPU pair's copy GB/s (NVLink or PCIe, named) vs its link and the node."""
    deep = _deep(ctx)
    if isinstance(deep, list):
        return deep
    if deep.pairs_skipped or not deep.pairs:
        return [skipped("pairs", f"not measured: {deep.pairs_skipped or 'no pair'}")]
    host = facts(ctx)
    spread, spread_item = _spread(ctx)
    by_index = {g.index: g for g in deep.gpus}
    figures = []
    no_peer: list[Outcome] = []
    for pair in deep.pairs:
        resource = f"gpu{pair.a}-gpu{pair.b} {pair.link}"
        peak: float | None = None
        label = ""
        if pair.link == "NVLink":
            model = lookup(by_index[pair.a].name) if pair.a in by_index else None
            peak = model.nvlink_gbps if model else None
            label = f"the {model.model} NVLink peak, one direction" if model and peak else ""
        elif pair.link.startswith("PCIe"):
            peaks = [_link_peak(_gpu_info(host, i)) for i in (pair.a, pair.b)]
            known = [p for p in peaks if p[0]]
            if known:
                peak, label = min(known)
        figures.append(
            Figure(
                resource=resource,
                value=pair.gbps,
                peak=peak,
                peak_label=label,
                error=pair.error,
                group=pair.link,
            )
        )
        if pair.peer_access is False:
            no_peer.append(
                warned(
                    resource,
                    "CUDA peer access is not available: copies between these GPUs go through "
                    "host memory",
                    "check the IOMMU/ACS settings (iommu=pt) and nvidia-smi topo -p2p r",
                )
            )
    out = _judge(
        figures,
        what="peer-to-peer copy (lower direction)",
        unit="GB/s",
        share_item=_item(ctx, "deep-p2p-share"),
        spread=spread,
        spread_item=spread_item,
        slow_fix="check both GPUs' NVLinks (host.nvlink; nvidia-smi nvlink -s) and the fabric "
        f"manager (host.fabric-manager); if one link stays slow: {_replace_hint(host)}",
        low_fix="check the NVLinks (nvidia-smi nvlink -s), the fabric manager and, for PCIe, "
        "ACS/IOMMU settings (nvidia-smi topo -p2p r)",
    )
    return out + no_peer


@check("host.deep-nccl", "NCCL all-reduce bus bandwidth (--deep)", Severity.HIGH, needs_aws=False)
def deep_nccl(ctx: HostContext) -> list[Outcome]:
    """With --deep, an all-reduce over all local GPUs reaches its share of the slowest link."""
    deep = _deep(ctx)
    if isinstance(deep, list):
        return deep
    if deep.nccl is None:
        return [skipped("all-reduce", f"not measured: {deep.nccl_skipped or 'not run'}")]
    result = deep.nccl
    resource = f"all-reduce ({result.gpus} GPUs)"
    if result.busbw_gbps is None:
        return [
            unknown(
                resource,
                f"could not measure: {result.error}",
                "run it alone to see NCCL's own message: NCCL_DEBUG=WARN python -m "
                "hyperpod_preflight.host.deep.nccl_worker (see bench/deep_run.py)",
            )
        ]
    host = facts(ctx)
    links = {p.link for p in deep.pairs}
    peak: float | None = None
    label = ""
    if links == {"NVLink"}:
        models = [lookup(g.name) for g in deep.gpus]
        values = [m.nvlink_gbps for m in models if m and m.nvlink_gbps]
        if values and len(values) == len(models):
            peak, label = min(values), "the NVLink peak, one direction"
    elif links and all(link.startswith("PCIe") for link in links):
        known = [p for g in deep.gpus if (p := _link_peak(_gpu_info(host, g.index)))[0]]
        if known:
            peak, label = min(known)
    version = f", NCCL {result.nccl_version}" if result.nccl_version else ""
    text = (
        f"bus bandwidth {result.busbw_gbps:g} GB/s (algorithm {result.algbw_gbps:g} GB/s, "
        f"{result.nbytes // (1024 * 1024)} MiB × {result.iterations}{version})"
    )
    details: dict[str, Any] = {"busbw_gbps": result.busbw_gbps, "peak_gbps": peak}
    item = _item(ctx, "deep-nccl-share")
    if peak:
        text += f" = {result.busbw_gbps / peak:.0%} of {label} ({peak:g} GB/s)"
        if item is not None and result.busbw_gbps < float(item.threshold) * peak:
            return [
                judged(
                    item,
                    resource,
                    f"{text}: under {float(item.threshold):.0%} of it",
                    "check host.deep-p2p for the slow pair, the NVLinks and fabric manager; "
                    "NCCL_DEBUG=INFO shows the transport NCCL chose (P2P/NVLS vs SHM)",
                    **details,
                )
            ]
    else:
        text += f" (links: {', '.join(sorted(links)) or 'unknown'}; no peak to compare with)"
    return [passed(resource, text, **details)]


def _xid_fix(host: HostFacts, action: str, events: list[XidEvent], gpu: GpuInfo | None) -> str:
    if action == "reset-gpu":
        target = f" -i {gpu.index}" if gpu is not None else ""
        return f"stop the GPU's processes, then reset it: sudo nvidia-smi -r{target}"
    if action == "reboot-node":
        return node_command(host, "reboot-node") or "reboot the node (sudo reboot)"
    if action == "replace-node":
        return _replace_hint(host)
    return f"look the Xid up in NVIDIA's catalogue: {CATALOGUE}"


@check(
    "host.deep-xid",
    "No Xid error needing action since boot (--deep)",
    Severity.HIGH,
    needs_aws=False,
)
def deep_xid(ctx: HostContext) -> list[Outcome]:
    """With --deep, the kernel log holds no Xid whose catalogue action is a reset or worse."""
    deep = facts(ctx).deep
    if deep is None or deep.xid is None:
        return [skipped("xid", "not read: pass --deep")]
    host = facts(ctx)
    xid = deep.xid
    if xid.source is None:
        return [
            unknown(
                "kernel log",
                f"could not read the kernel log: {xid.error}",
                "run as root (sudo hp-preflight host --deep) so /dev/kmsg can be read",
            )
        ]
    if not xid.events:
        return [
            passed(
                "kernel log",
                f"no NVIDIA Xid event in the kernel log ({xid.source}: this boot, as far "
                "as the ring buffer reaches)",
            )
        ]
    item = _item(ctx, "deep-xid")
    fail_at = ACTION_RANK.get(str(item.threshold), 2) if item is not None else 2
    by_bus: dict[str | None, list[XidEvent]] = {}
    for event in xid.events:
        by_bus.setdefault(event.pci_bus_id, []).append(event)
    out: list[Outcome] = []
    for bus, events in by_bus.items():
        gpu = next((g for g in host.gpu.gpus if g.pci_bus_id == bus), None)
        resource = gpu.label if gpu else f"PCI {bus or '?'}"
        worst = max(events, key=lambda e: ACTION_RANK.get(e.action, 1))
        listed = "; ".join(
            f"Xid {e.xid} ×{e.count} ({e.name or 'not in the table'} → {e.action}): {e.text[:120]}"
            for e in sorted(events, key=lambda e: -ACTION_RANK.get(e.action, 1))
        )
        message = f"{listed} [{xid.source}; actions from {CATALOGUE}]"
        details: dict[str, Any] = {
            "xids": [asdict(e) for e in events],
            "action": worst.action,
        }
        rank = ACTION_RANK.get(worst.action, 1)
        fix = _xid_fix(host, worst.action, events, gpu)
        if worst.action != "unknown" and rank >= fail_at and item is not None:
            out.append(judged(item, resource, message, fix, **details))
        elif rank > 0 or worst.action == "unknown":
            out.append(warned(resource, message, fix, **details))
        else:
            out.append(passed(resource, f"only Xids that need no action: {message}", **details))
    return out
