"""The ``--deep`` measurements, bounded in time and memory.

Through torch (imported here, lazily: only ``--deep`` pays for it), else cupy for the
per-GPU copies and an fp16 matmul, else nothing (the reason says ``pip install torch``).

Per GPU, concurrently (one thread per GPU, so the whole node is under load while NVML's
clock-event reasons are sampled): dense matmul TFLOP/s (bf16, fp16, and fp8 through
``torch._scaled_mm`` on compute capability ≥ 8.9), and device-to-device copy bandwidth
(bytes read + written). Then, one GPU at a time: pinned host-to-device and device-to-host
copies. Across GPUs: peer-to-peer copies for each pair (both directions, the lower kept),
and an NCCL all-reduce over every local GPU (one interpreter per GPU, killed at the deadline).

Each figure is the median of timed repeats after warm-ups, timed with CUDA events. Memory
stays bounded (a few GiB per GPU, plain device allocations, never managed memory) and every
step first asks the time budget whether it may start.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...dynamic import first_importable
from ..models import GpuInfo, PciDevice
from .models import DeepFacts, GpuDeep, NcclDeep, PairDeep, StepTime

GIB = 1024**3
MIB = 1024**2
MATMUL_N = 8192
COPY_BYTES = 1 * GIB  # device-to-device: 2 GiB resident (source and destination)
HOST_BYTES = 256 * MIB
PEER_BYTES = 256 * MIB
NCCL_BYTES = 256 * MIB
NCCL_ITERS = 20
MIN_STEP_S = 0.5
NCCL_MIN_S = 10.0
NCCL_MAX_S = 60.0

Progress = Callable[[str], None]


class Budget:
    """The time left of ``--deep-seconds``."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.perf_counter) -> None:
        self.seconds = seconds
        self.clock = clock
        self.start = clock()

    def elapsed(self) -> float:
        return self.clock() - self.start

    def remaining(self) -> float:
        return self.seconds - self.elapsed()

    def share(self, fraction: float, cap: float) -> float:
        """A step's load time: ``fraction`` of the whole budget, at most ``cap`` s."""
        return max(MIN_STEP_S / 2, min(cap, self.seconds * fraction, self.remaining()))


class Recorder:
    """Per-step wall times (bench/deep_run.py prints them) and progress lines."""

    def __init__(self, facts: DeepFacts, progress: Progress) -> None:
        self.facts = facts
        self.progress = progress

    @contextlib.contextmanager
    def step(self, name: str) -> Any:
        started = time.perf_counter()
        self.progress(f"{name} …")
        record = StepTime(name=name, seconds=0.0, status="ran")
        try:
            yield record
        except Exception as exc:
            record.status, record.note = "failed", f"{type(exc).__name__}: {exc}"[:300]
            raise
        finally:
            record.seconds = round(time.perf_counter() - started, 3)
            self.facts.steps.append(record)
            note = f" ({record.note})" if record.note else ""
            self.progress(f"{name}: {record.status} in {record.seconds:.1f} s{note}")

    def skipped(self, name: str, why: str) -> None:
        self.facts.steps.append(StepTime(name=name, seconds=0.0, status="skipped", note=why))
        self.progress(f"{name}: skipped ({why})")


# ---------------------------------------------------------------- NVML sampling and topology


class ClockSampler:
    """ORs NVML's clock-event reasons of each GPU every ``interval`` s while running."""

    def __init__(self, nvml: Any, indexes: list[int], interval: float = 0.05) -> None:
        self.nvml = nvml
        self.interval = interval
        self.masks: dict[int, int] = {}
        self.samples: dict[int, int] = {}
        self.sm_max: dict[int, int] = {}
        self.handles: dict[int, Any] = {}
        self.reason_fn: Callable[[Any], int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if nvml is None:
            return
        name = next(
            (
                n
                for n in (
                    "nvmlDeviceGetCurrentClocksEventReasons",
                    "nvmlDeviceGetCurrentClocksThrottleReasons",
                )
                if hasattr(nvml, n)
            ),
            None,
        )
        if name is None:
            return
        self.reason_fn = getattr(nvml, name)
        for index in indexes:
            with contextlib.suppress(Exception):
                self.handles[index] = nvml.nvmlDeviceGetHandleByIndex(index)

    def _sample(self) -> None:
        assert self.reason_fn is not None
        sm = getattr(self.nvml, "NVML_CLOCK_SM", 1)
        for index, handle in self.handles.items():
            with contextlib.suppress(Exception):
                mask = int(self.reason_fn(handle))
                self.masks[index] = self.masks.get(index, 0) | (mask & ~0x1)  # idle: between steps
                self.samples[index] = self.samples.get(index, 0) + 1
            with contextlib.suppress(Exception):
                clock = int(self.nvml.nvmlDeviceGetClockInfo(handle, sm))
                self.sm_max[index] = max(self.sm_max.get(index, 0), clock)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> ClockSampler:
        if self.reason_fn is not None and self.handles:
            self._thread = threading.Thread(target=self._run, name="clock-events", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._sample()  # the state right at the end of the load


_ANCESTOR = {
    0: "same board",
    10: "PCIe (same switch)",
    20: "PCIe (several switches)",
    30: "PCIe (same host bridge)",
    40: "PCIe (across host bridges)",
    50: "PCIe (across CPU sockets)",
}


def link_type(nvml: Any, a: int, b: int) -> str:
    """How GPUs ``a`` and ``b`` (NVML indexes) reach each other: NVLink, or the PCIe path."""
    if nvml is None:
        return "unknown"
    try:
        ha, hb = nvml.nvmlDeviceGetHandleByIndex(a), nvml.nvmlDeviceGetHandleByIndex(b)
    except Exception:
        return "unknown"
    nvlink_index = getattr(nvml, "NVML_P2P_CAPS_INDEX_NVLINK", 3)
    with contextlib.suppress(Exception):
        if nvml.nvmlDeviceGetP2PStatus(ha, hb, nvlink_index) == getattr(
            nvml, "NVML_P2P_STATUS_OK", 0
        ):
            return "NVLink"
    with contextlib.suppress(Exception):
        level = int(nvml.nvmlDeviceGetTopologyCommonAncestor(ha, hb))
        return _ANCESTOR.get(level, f"PCIe (topology level {level})")
    return "unknown"


# ---------------------------------------------------------------- torch


def _median_ms(torch: Any, fn: Callable[[], Any], warmups: int, seconds: float) -> float:
    """Median milliseconds of one ``fn()``: warm-ups, then timed repeats (each a batch of
    calls timed with CUDA events) until ``seconds`` of load (3 repeats at least)."""
    for _ in range(warmups):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    single = max(float(start.elapsed_time(end)), 0.001)
    batch = max(1, min(50, int(20 / single)))  # about 20 ms per timed repeat
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < 3 or (time.perf_counter() < deadline and len(times) < 500):
        start.record()
        for _ in range(batch):
            fn()
        end.record()
        end.synchronize()
        times.append(float(start.elapsed_time(end)) / batch)
    return statistics.median(times)


def _matmul_fns(torch: Any, device: str, n: int, cc: tuple[int, int]) -> dict[str, Any]:
    """dtype → a zero-argument function making one n×n×n product (allocations made here)."""
    fns: dict[str, Any] = {}
    for label, dtype in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        out = torch.empty(n, n, device=device, dtype=dtype)
        fns[label] = (lambda a=a, b=b, out=out: torch.matmul(a, b, out=out), (a, b, out))
    fp8 = getattr(torch, "float8_e4m3fn", None)
    if fp8 is not None and hasattr(torch, "_scaled_mm") and cc >= (8, 9):
        a8 = torch.randn(n, n, device=device).to(fp8)
        b8 = torch.randn(n, n, device=device).to(fp8).t()  # column-major, as _scaled_mm wants
        one = torch.ones((), device=device, dtype=torch.float32)

        def scaled() -> Any:
            return torch._scaled_mm(a8, b8, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)

        fns["fp8"] = (scaled, (a8, b8, one))
    return fns


def _torch_gpu(torch: Any, gpu: GpuDeep, budget: Budget, cc: tuple[int, int]) -> None:
    """Matmul and device-to-device copy on one GPU (run in its own thread)."""
    assert gpu.cuda_ordinal is not None
    device = f"cuda:{gpu.cuda_ordinal}"
    with torch.cuda.device(gpu.cuda_ordinal):
        free, _total = torch.cuda.mem_get_info(gpu.cuda_ordinal)
        n = MATMUL_N if free > 6 * GIB else 4096
        copy_bytes = COPY_BYTES if free > 6 * GIB else 256 * MIB
        gpu.matmul_size = n
        try:
            fns = _matmul_fns(torch, device, n, cc)
        except Exception as exc:  # out of memory: a GPU in use
            gpu.errors["matmul"] = f"{type(exc).__name__}: {exc}"[:300]
            fns = {}
        if "fp8" not in fns and not gpu.errors:
            gpu.skipped["matmul-fp8"] = (
                f"compute capability {cc[0]}.{cc[1]} has no fp8 tensor cores"
                if cc < (8, 9)
                else "this torch has no torch._scaled_mm / float8_e4m3fn"
            )
        shares = {"bf16": (0.12, 6.0), "fp16": (0.05, 2.0), "fp8": (0.05, 2.0)}
        for label, (fn, _keep) in fns.items():
            if budget.remaining() < MIN_STEP_S:
                gpu.skipped[f"matmul-{label}"] = "time budget spent"
                continue
            fraction, cap = shares[label]
            try:
                ms = _median_ms(torch, fn, 3, budget.share(fraction, cap))
                gpu.matmul_tflops[label] = round(2 * n**3 / (ms / 1000) / 1e12, 1)
            except Exception as exc:
                gpu.errors[f"matmul-{label}"] = f"{type(exc).__name__}: {exc}"[:300]
        del fns
        torch.cuda.empty_cache()
        if budget.remaining() < MIN_STEP_S:
            gpu.skipped["d2d"] = "time budget spent"
            return
        try:
            src = torch.empty(copy_bytes, dtype=torch.uint8, device=device)
            dst = torch.empty_like(src)
            ms = _median_ms(torch, functools.partial(dst.copy_, src), 3, budget.share(0.03, 1.5))
            gpu.d2d_gbps = round(2 * copy_bytes / (ms / 1000) / 1e9, 1)
            del src, dst
        except Exception as exc:
            gpu.errors["d2d"] = f"{type(exc).__name__}: {exc}"[:300]
        torch.cuda.empty_cache()


def _torch_host(torch: Any, gpu: GpuDeep) -> None:
    """Pinned host-to-device and device-to-host bandwidth of one GPU."""
    assert gpu.cuda_ordinal is not None
    with torch.cuda.device(gpu.cuda_ordinal):
        host = torch.empty(HOST_BYTES, dtype=torch.uint8, pin_memory=True)
        dev = torch.empty(HOST_BYTES, dtype=torch.uint8, device=f"cuda:{gpu.cuda_ordinal}")
        ms = _median_ms(torch, functools.partial(dev.copy_, host, non_blocking=True), 2, 0.3)
        gpu.h2d_gbps = round(HOST_BYTES / (ms / 1000) / 1e9, 1)
        ms = _median_ms(torch, functools.partial(host.copy_, dev, non_blocking=True), 2, 0.3)
        gpu.d2h_gbps = round(HOST_BYTES / (ms / 1000) / 1e9, 1)
        del host, dev
        torch.cuda.empty_cache()


def _peer_gbps(torch: Any, src_ordinal: int, dst_ordinal: int) -> float:
    src = torch.empty(PEER_BYTES, dtype=torch.uint8, device=f"cuda:{src_ordinal}")
    dst = torch.empty(PEER_BYTES, dtype=torch.uint8, device=f"cuda:{dst_ordinal}")
    times = []
    for i in range(7):
        torch.cuda.synchronize(src_ordinal)
        torch.cuda.synchronize(dst_ordinal)
        started = time.perf_counter()
        dst.copy_(src)
        torch.cuda.synchronize(src_ordinal)
        torch.cuda.synchronize(dst_ordinal)
        if i >= 2:  # two warm-ups
            times.append(time.perf_counter() - started)
    del src, dst
    return PEER_BYTES / statistics.median(times) / 1e9


def _torch_pairs(torch: Any, gpus: list[GpuDeep], nvml: Any, budget: Budget, rec: Recorder) -> None:
    for i, a in enumerate(gpus):
        for b in gpus[i + 1 :]:
            pair = PairDeep(a=a.index, b=b.index, link=link_type(nvml, a.index, b.index))
            rec.facts.pairs.append(pair)
            if a.cuda_ordinal is None or b.cuda_ordinal is None:
                pair.error = "not visible to CUDA here"
                continue
            if budget.remaining() < MIN_STEP_S:
                pair.error = "time budget spent"
                continue
            try:
                pair.peer_access = bool(
                    torch.cuda.can_device_access_peer(a.cuda_ordinal, b.cuda_ordinal)
                )
                pair.gbps_ab = round(_peer_gbps(torch, a.cuda_ordinal, b.cuda_ordinal), 1)
                pair.gbps_ba = round(_peer_gbps(torch, b.cuda_ordinal, a.cuda_ordinal), 1)
                pair.gbps = min(pair.gbps_ab, pair.gbps_ba)
            except Exception as exc:
                pair.error = f"{type(exc).__name__}: {exc}"[:300]


def run_nccl(ordinals: list[int], budget: Budget, python: str = sys.executable) -> NcclDeep:
    """All-reduce over ``ordinals``, one interpreter per GPU; killed past the budget."""
    world = len(ordinals)
    result = NcclDeep(gpus=world, nbytes=NCCL_BYTES, iterations=NCCL_ITERS)
    limit = min(NCCL_MAX_S, budget.remaining())
    package_root = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
    with tempfile.TemporaryDirectory(prefix="hp-preflight-nccl-") as tmp:
        out = Path(tmp) / "result.json"
        procs = []
        for rank, ordinal in enumerate(ordinals):
            argv = [
                python,
                "-m",
                "hyperpod_preflight.host.deep.nccl_worker",
                *("--rank", str(rank), "--world", str(world), "--ordinal", str(ordinal)),
                *("--nbytes", str(NCCL_BYTES), "--iters", str(NCCL_ITERS)),
                *("--timeout", str(int(limit) + 5), "--init", f"{tmp}/rendezvous"),
                *("--out", str(out)),
            ]
            procs.append(
                subprocess.Popen(
                    argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
                )
            )
        deadline = time.perf_counter() + limit
        errors: list[str] = []
        for rank, proc in enumerate(procs):
            try:
                _out, err = proc.communicate(timeout=max(0.1, deadline - time.perf_counter()))
            except subprocess.TimeoutExpired:
                for other in procs:
                    if other.poll() is None:
                        other.kill()
                for other in procs:
                    with contextlib.suppress(Exception):
                        other.communicate(timeout=5)
                result.error = f"did not finish within {limit:.0f} s (--deep-seconds)"
                return result
            if proc.returncode != 0:
                last = [line for line in (err or "").strip().splitlines() if line.strip()]
                errors.append(f"rank {rank} exited {proc.returncode}: {(last or ['?'])[-1]}")
        if errors:
            result.error = "; ".join(errors)[:500]
            return result
        try:
            data = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            result.error = f"rank 0 wrote no result ({exc})"
            return result
    result.algbw_gbps = data.get("algbw_gbps")
    result.busbw_gbps = data.get("busbw_gbps")
    result.nccl_version = data.get("nccl_version")
    return result


def _torch_ordinals(torch: Any) -> dict[str, int]:
    """PCI bus id → CUDA ordinal (CUDA_VISIBLE_DEVICES may renumber devices)."""
    from ..bandwidth import _torch_ordinals as ordinals

    return ordinals(torch)


def _measure_torch(
    torch: Any, facts: DeepFacts, nvml: Any, budget: Budget, rec: Recorder, nccl: bool
) -> None:
    ordinals = _torch_ordinals(torch)
    for gpu in facts.gpus:
        gpu.cuda_ordinal = ordinals.get(gpu.pci_bus_id or "") if ordinals else gpu.index
        if gpu.cuda_ordinal is None:
            gpu.skipped["all"] = "not visible to CUDA here (CUDA_VISIBLE_DEVICES?)"
    visible = [g for g in facts.gpus if g.cuda_ordinal is not None]
    capabilities = {
        g.index: tuple(torch.cuda.get_device_capability(g.cuda_ordinal)) for g in visible
    }
    with rec.step("compute (matmul, device copy; all GPUs at once)"):
        with ClockSampler(nvml, [g.index for g in visible]) as sampler:
            threads = [
                threading.Thread(
                    target=_torch_gpu,
                    args=(torch, g, budget, capabilities[g.index]),
                    name=f"gpu{g.index}",
                )
                for g in visible
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        for g in visible:
            if g.index in sampler.masks:
                g.clock_event_mask = sampler.masks[g.index]
                g.clock_event_samples = sampler.samples.get(g.index, 0)
            g.sm_clock_max_mhz = sampler.sm_max.get(g.index)
            if nvml is None:
                g.skipped["clock-events"] = "NVML not available (pip install nvidia-ml-py)"
    for g in visible:
        if budget.remaining() < MIN_STEP_S:
            g.skipped["host-copies"] = "time budget spent"
            rec.skipped(f"gpu{g.index} host copies", "time budget spent")
            continue
        try:
            with rec.step(f"gpu{g.index} host copies (pinned H2D, D2H)"):
                _torch_host(torch, g)
        except Exception as exc:
            g.errors["host-copies"] = f"{type(exc).__name__}: {exc}"[:300]
    if len(visible) < 2:
        facts.pairs_skipped = f"{len(visible)} GPU visible: no pair to measure"
        facts.nccl_skipped = facts.pairs_skipped
        return
    with rec.step(f"peer-to-peer ({len(visible) * (len(visible) - 1) // 2} pairs)"):
        _torch_pairs(torch, visible, nvml, budget, rec)
    if not nccl:
        facts.nccl_skipped = "not asked for"
    elif budget.remaining() < NCCL_MIN_S:
        facts.nccl_skipped = (
            f"time budget spent ({budget.remaining():.0f} s left; needs {NCCL_MIN_S:.0f} s)"
        )
        rec.skipped("nccl all-reduce", facts.nccl_skipped)
    else:
        with rec.step(f"nccl all-reduce ({len(visible)} GPUs)") as step:
            facts.nccl = run_nccl(
                [g.cuda_ordinal for g in visible if g.cuda_ordinal is not None], budget
            )
            if facts.nccl.error:
                step.status, step.note = "failed", facts.nccl.error[:200]


# ---------------------------------------------------------------- cupy fallback


def _measure_cupy(cupy: Any, facts: DeepFacts, budget: Budget, rec: Recorder) -> None:
    """fp16 matmul and the copies through cupy (no bf16, fp8, pairs or NCCL)."""
    import numpy

    for gpu in facts.gpus:
        gpu.cuda_ordinal = gpu.index
        gpu.skipped["matmul-bf16"] = gpu.skipped["matmul-fp8"] = "cupy: install torch"
        if budget.remaining() < MIN_STEP_S:
            gpu.skipped["all"] = "time budget spent"
            continue
        with rec.step(f"gpu{gpu.index} (cupy)"), cupy.cuda.Device(gpu.index):
            try:
                n = 4096
                a = cupy.random.rand(n, n, dtype=cupy.float32).astype(cupy.float16)
                b = cupy.random.rand(n, n, dtype=cupy.float32).astype(cupy.float16)
                ms = _cupy_ms(cupy, functools.partial(cupy.matmul, a, b), budget.share(0.05, 2))
                gpu.matmul_tflops["fp16"] = round(2 * n**3 / (ms / 1000) / 1e12, 1)
                gpu.matmul_size = n
                del a, b
                src = cupy.empty(256 * MIB, dtype=cupy.uint8)
                dst = cupy.empty_like(src)
                ms = _cupy_ms(cupy, functools.partial(dst.__setitem__, slice(None), src), 0.5)
                gpu.d2d_gbps = round(2 * src.nbytes / (ms / 1000) / 1e9, 1)
                pinned = cupy.cuda.alloc_pinned_memory(HOST_BYTES)
                host = numpy.frombuffer(pinned, dtype=numpy.uint8, count=HOST_BYTES)
                dev = cupy.empty(HOST_BYTES, dtype=cupy.uint8)
                ms = _cupy_ms(cupy, functools.partial(dev.set, host), 0.3)
                gpu.h2d_gbps = round(HOST_BYTES / (ms / 1000) / 1e9, 1)
                ms = _cupy_ms(cupy, functools.partial(dev.get, out=host), 0.3)
                gpu.d2h_gbps = round(HOST_BYTES / (ms / 1000) / 1e9, 1)
            except Exception as exc:
                gpu.errors["cupy"] = f"{type(exc).__name__}: {exc}"[:300]
    facts.pairs_skipped = facts.nccl_skipped = "needs torch (pip install torch)"


def _cupy_ms(cupy: Any, fn: Callable[[], Any], seconds: float) -> float:
    for _ in range(2):
        fn()
    cupy.cuda.Device().synchronize()
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < 3 or (time.perf_counter() < deadline and len(times) < 200):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(float(cupy.cuda.get_elapsed_time(start, end)))
    return statistics.median(times)


# ---------------------------------------------------------------- entry point


def _import_backend() -> tuple[str | None, Any, list[str]]:
    return first_importable("torch", "cupy")


def run_deep(
    gpus: list[GpuInfo],
    pci: list[PciDevice],
    *,
    budget_s: float = 60.0,
    nvml: Any = None,
    progress: Progress | None = None,
    nccl: bool = True,
) -> DeepFacts:
    """Measure every GPU in ``gpus`` within ``budget_s`` seconds (see the module doc)."""
    facts = DeepFacts(budget_s=budget_s)
    budget = Budget(budget_s)
    rec = Recorder(facts, progress or (lambda _line: None))
    numa = {d.address: d.numa_node for d in pci}
    facts.gpus = [
        GpuDeep(
            index=g.index,
            pci_bus_id=g.pci_bus_id,
            name=g.name,
            numa_node=numa.get(g.pci_bus_id or ""),
        )
        for g in gpus
    ]
    if not gpus:
        facts.reason = "no GPU to measure"
        return facts
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")  # number CUDA devices like NVML
    with rec.step("import torch/cupy and start CUDA"):
        name, module, errors = _import_backend()
        if name == "torch" and not module.cuda.is_available():
            facts.backend, facts.backend_version = "torch", str(module.__version__)
            facts.reason = "torch is installed but sees no CUDA device"
            name = None
        elif name is not None:
            facts.backend = name
            facts.backend_version = str(getattr(module, "__version__", "")) or None
            if name == "torch":
                module.cuda.init()
    if facts.backend is None and facts.reason is None:
        facts.reason = (
            "neither torch nor cupy is importable (" + ", ".join(errors) + "); "
            "install torch (pip install torch) to run the deep measurements"
        )
    if facts.reason is None:
        if nvml is not None:
            try:
                nvml.nvmlInit()
            except Exception:
                nvml = None
        try:
            if facts.backend == "torch":
                _measure_torch(module, facts, nvml, budget, rec, nccl)
            else:
                _measure_cupy(module, facts, budget, rec)
        finally:
            if nvml is not None:
                with contextlib.suppress(Exception):
                    nvml.nvmlShutdown()
    facts.elapsed_s = round(budget.elapsed(), 3)
    return facts
