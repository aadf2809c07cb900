"""Checks that measure rather than read (opt-in): pinned host-to-device bandwidth
(``--measure-bandwidth``) and DCGM's quick diagnostic (``--dcgm``)."""

from __future__ import annotations

from typing import Any

from ...registry import HostContext, check
from ...results import Outcome, Severity, failed, passed, skipped, unknown, warned
from ..bandwidth import pcie_peak_gbps
from ._common import REPLACE_NODE, facts, judged, requirement

# Without a threshold in the profile, a copy below this share of the link's peak warns.
LOW_SHARE_OF_PEAK = 0.5


@check("host.h2d-bandwidth", "Host-to-device copy bandwidth", Severity.MEDIUM, needs_aws=False)
def h2d_bandwidth(ctx: HostContext) -> list[Outcome]:
    """With --measure-bandwidth, H2D copies reach the profile's GB/s (FAIL) or half peak (WARN)."""
    host = facts(ctx)
    measured = host.bandwidth
    if measured is None:
        return [skipped("h2d", "not measured: pass --measure-bandwidth")]
    if measured.backend is None or not measured.results:
        return [skipped("h2d", f"not measured: {measured.reason}")]
    req = requirement(ctx, "host.h2d-bandwidth")
    gpus = {g.index: g for g in host.gpu.gpus}
    out: list[Outcome] = []
    for result in measured.results:
        gpu = gpus.get(result.gpu_index)
        label = gpu.label if gpu else f"gpu{result.gpu_index}"
        if result.gbps is None:
            out.append(unknown(label, f"could not measure: {result.error}"))
            continue
        peak = None
        link = ""
        if gpu is not None:
            gen, width = gpu.pcie_gen_current, gpu.pcie_width_current
            peak = pcie_peak_gbps(gen, width)
            link = f"PCIe Gen{gen} x{width}" if peak else ""
        share = f" = {result.gbps / peak:.0%} of the {link} peak ({peak:.1f} GB/s)" if peak else ""
        text = f"{result.gbps:.1f} GB/s pinned host-to-device ({measured.backend}){share}"
        details: dict[str, Any] = {
            "gbps": result.gbps,
            "peak_gbps": round(peak, 1) if peak else None,
        }
        if req is not None:
            minimum = float(req.threshold)
            if result.gbps < minimum:
                out.append(
                    judged(
                        req,
                        label,
                        f"{text}, below {minimum:g} GB/s",
                        "check the link (host.pcie-link), NUMA placement (nvidia-smi "
                        f"topo -m) and IOMMU passthrough (iommu=pt); {REPLACE_NODE}",
                        **details,
                    )
                )
            else:
                out.append(passed(label, f"{text} (>= {minimum:g} GB/s)", **details))
        elif peak and result.gbps < LOW_SHARE_OF_PEAK * peak:
            out.append(
                warned(
                    label,
                    f"{text}: under half the link's peak",
                    "check NUMA placement (nvidia-smi topo -m) and iommu=pt",
                    **details,
                )
            )
        else:
            out.append(passed(label, text, **details))
    return out


@check("host.dcgm", "DCGM diagnostic (dcgmi diag -r 1|2|3)", Severity.HIGH, needs_aws=False)
def dcgm(ctx: HostContext) -> list[Outcome]:
    """With --dcgm[-level N], every `dcgmi diag -r N` test passes; failed FAILs, warned WARNs."""
    result = facts(ctx).dcgm
    if result is None:
        return [skipped("dcgm", "not run: pass --dcgm (or --dcgm-level 1|2|3)")]
    if result.error and "not found" in result.error:
        return [skipped("dcgm", "dcgmi is not installed (datacenter-gpu-manager)")]
    if result.error and not result.tests:
        return [
            unknown(
                "dcgm",
                f"could not tell: dcgmi diag: {result.error}",
                "is nv-hostengine running? sudo systemctl start nvidia-dcgm",
            )
        ]
    out: list[Outcome] = []
    verbose = f"dcgmi diag -r {result.level} -v for details"
    for test in result.tests:
        resource = f"dcgm {test.name}"
        gpus = f" on GPU(s) {', '.join(map(str, test.gpus))}" if test.gpus else ""
        note = f": {'; '.join(test.messages)}" if test.messages else ""
        if test.status == "fail":
            out.append(
                failed(
                    resource,
                    f"{test.category} / {test.name} failed{gpus}{note}",
                    f"{verbose}; {REPLACE_NODE}",
                )
            )
        elif test.status == "warn":
            out.append(warned(resource, f"{test.name} warned{gpus}{note}", verbose))
        elif test.status == "pass":
            out.append(passed(resource, f"{test.name} passed"))
        else:
            out.append(skipped(resource, f"{test.name}: {test.status}{note}"))
    return out
