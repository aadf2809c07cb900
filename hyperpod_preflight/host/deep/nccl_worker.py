"""One rank of the NCCL all-reduce of ``--deep``: ``python -m
hyperpod_preflight.host.deep.nccl_worker --rank R --world N --ordinal O --init FILE --out FILE``.

Each GPU gets its own interpreter (started by :mod:`.measure` with ``subprocess``, killed at
the deadline). Rank 0 writes the figures as JSON to ``--out``. Bus bandwidth follows the
nccl-tests convention: algbw × 2(n−1)/n for an all-reduce.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import timedelta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    for name in ("--rank", "--world", "--ordinal", "--nbytes", "--iters", "--timeout"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--init", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")

    import torch
    import torch.distributed as dist

    torch.cuda.set_device(args.ordinal)
    dist.init_process_group(
        "nccl",
        init_method=f"file://{args.init}",
        rank=args.rank,
        world_size=args.world,
        timeout=timedelta(seconds=args.timeout),
    )
    try:
        data = torch.ones(args.nbytes // 4, dtype=torch.float32, device=f"cuda:{args.ordinal}")
        for _ in range(3):
            dist.all_reduce(data)
        torch.cuda.synchronize()
        dist.barrier()
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        wall = time.perf_counter()
        start.record()
        for _ in range(args.iters):
            dist.all_reduce(data)
        end.record()
        end.synchronize()
        seconds = float(start.elapsed_time(end)) / 1000 / args.iters
        wall = time.perf_counter() - wall
        if args.rank == 0:
            algbw = args.nbytes / seconds / 1e9
            version = torch.cuda.nccl.version()
            text = ".".join(map(str, version)) if isinstance(version, tuple) else str(version)
            result = {
                "algbw_gbps": round(algbw, 2),
                "busbw_gbps": round(algbw * 2 * (args.world - 1) / args.world, 2),
                "nccl_version": text,
                "iterations": args.iters,
                "nbytes": args.nbytes,
                "wall_s": round(wall, 3),
            }
            with open(args.out, "w", encoding="utf-8") as fh:
                json.dump(result, fh)
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
