"""``hp-preflight host --deep``: measure what a node's GPUs deliver, not only how they are
configured.

- :mod:`.measure` runs the bounded measurements (torch, else cupy; imported lazily, only when
  ``--deep`` is given) and returns :class:`.models.DeepFacts`;
- :mod:`.nccl_worker` is the per-GPU process of the NCCL all-reduce;
- :mod:`.xid` reads and classifies the NVIDIA Xid events of the kernel log;
- :mod:`.peaks` is the published-peak table (``gpu_peaks.json``, with its sources).

The judging lives with the other host checks (``host/checks/deep.py``); nothing here judges.
"""
