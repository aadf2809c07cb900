"""Static facts about the hardware behind HyperPod instance types, and the names HyperPod accepts.

The table below is the offline fallback used to size a cluster (IP addresses per node, EFA
interfaces, vCPUs) without AWS credentials. At run time the same figures come from
``ec2:DescribeInstanceTypes`` through :func:`from_ec2_description`, which always wins: the
HyperPod type list grows with every botocore release and no static table stays complete.

Which names are valid HyperPod types is never decided here: it is the ``ClusterInstanceType``
enum of the installed botocore (:func:`hyperpod_instance_types`).

Figures: the Amazon EC2 instance type specification pages (the ``source`` of each row),
cross-checked against ``describe-instance-types`` output. Accelerator memory is per
accelerator, as ``GpuInfo.Gpus[].MemoryInfo`` reports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from .errors import InputError
from .sagemaker_model import sagemaker_service_model

AcceleratorKind = Literal["nvidia", "neuron", "other", "none"]

DOCS_ACCELERATED = "https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html"
DOCS_GENERAL = "https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html"
DOCS_COMPUTE = "https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html"
DOCS_MEMORY = "https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html"
DOCS_STORAGE = "https://docs.aws.amazon.com/ec2/latest/instancetypes/so.html"
FROM_EC2_API = "ec2:DescribeInstanceTypes"

# Families whose multi-GPU sizes connect their GPUs through NVSwitch (and so need
# nvidia-fabricmanager on the node). Not reported by the EC2 API.
NVSWITCH_FAMILIES = frozenset(
    {"p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300", "p6e-gb200"}
)


@dataclass(frozen=True, kw_only=True)
class InstanceTypeInfo:
    """What sizing and checks need to know about one EC2 instance type."""

    name: str
    """EC2 name, without the `ml.` prefix."""
    vcpus: int
    default_cores: int
    valid_threads_per_core: tuple[int, ...] = ()
    """Empty when the CPU options of the type cannot be changed."""
    accelerator: AcceleratorKind = "none"
    accelerator_name: str | None = None
    accelerator_count: int = 0
    accelerator_memory_gib: float | None = None
    """Per accelerator."""
    efa_interfaces: int = 0
    """Maximum EFA interfaces; 0: no EFA."""
    network_cards: int = 1
    ipv4_per_eni: int
    max_enis: int
    memory_gib: float
    nvswitch: bool = False
    source: str
    """Where the figures come from (a docs page or the EC2 API)."""

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def efa_supported(self) -> bool:
        return self.efa_interfaces > 0

    @property
    def default_threads_per_core(self) -> int:
        return max(1, self.vcpus // max(1, self.default_cores))


def _source_for(family: str) -> str:
    if family.startswith(("p", "g", "trn", "inf", "dl")):
        return DOCS_ACCELERATED
    if family.startswith(("m", "t")):
        return DOCS_GENERAL
    if family.startswith("c"):
        return DOCS_COMPUTE
    if family.startswith(("r", "x", "u", "z")):
        return DOCS_MEMORY
    return DOCS_STORAGE


# name, vCPUs, default cores, valid threads per core, memory GiB, accelerator kind,
# accelerator name, accelerators, GiB per accelerator, max EFA interfaces, network cards,
# IPv4 addresses per ENI, max ENIs.
# Not listed on purpose: p6e-gb200.36xlarge (its network-card and ENI layout differs from the
# other EFA types and we could not confirm the figures); it is sized from the EC2 API at run
# time. g5: describe-instance-types lists no ValidThreadsPerCore (CPU options not changeable).
# trn2: 96 GiB of HBM per Trainium2 chip (the EC2 API has reported the per-instance total per
# device for trn2; we keep the per-chip figure).
_Row = tuple[
    str, int, int, tuple[int, ...], float, AcceleratorKind, str | None, int, float | None,
    int, int, int, int,
]  # fmt: skip
_ROWS: tuple[_Row, ...] = (
    ("c5.large", 2, 1, (1, 2), 4, "none", None, 0, None, 0, 1, 10, 3),
    ("c5.xlarge", 4, 2, (1, 2), 8, "none", None, 0, None, 0, 1, 15, 4),
    ("c5.2xlarge", 8, 4, (1, 2), 16, "none", None, 0, None, 0, 1, 15, 4),
    ("c5.4xlarge", 16, 8, (1, 2), 32, "none", None, 0, None, 0, 1, 30, 8),
    ("c5.9xlarge", 36, 18, (1, 2), 72, "none", None, 0, None, 0, 1, 30, 8),
    ("c5.12xlarge", 48, 24, (1, 2), 96, "none", None, 0, None, 0, 1, 30, 8),
    ("c5.18xlarge", 72, 36, (1, 2), 144, "none", None, 0, None, 0, 1, 50, 15),
    ("c5.24xlarge", 96, 48, (1, 2), 192, "none", None, 0, None, 0, 1, 50, 15),
    ("c5n.large", 2, 1, (1, 2), 5.25, "none", None, 0, None, 0, 1, 10, 3),
    ("c5n.2xlarge", 8, 4, (1, 2), 21, "none", None, 0, None, 0, 1, 15, 4),
    ("c5n.4xlarge", 16, 8, (1, 2), 42, "none", None, 0, None, 0, 1, 30, 8),
    ("c5n.9xlarge", 36, 18, (1, 2), 96, "none", None, 0, None, 1, 1, 30, 8),
    ("c5n.18xlarge", 72, 36, (1, 2), 192, "none", None, 0, None, 1, 1, 50, 15),
    ("c6i.large", 2, 1, (1, 2), 4, "none", None, 0, None, 0, 1, 10, 3),
    ("c6i.xlarge", 4, 2, (1, 2), 8, "none", None, 0, None, 0, 1, 15, 4),
    ("c6i.2xlarge", 8, 4, (1, 2), 16, "none", None, 0, None, 0, 1, 15, 4),
    ("c6i.4xlarge", 16, 8, (1, 2), 32, "none", None, 0, None, 0, 1, 30, 8),
    ("c6i.8xlarge", 32, 16, (1, 2), 64, "none", None, 0, None, 0, 1, 30, 8),
    ("c6i.12xlarge", 48, 24, (1, 2), 96, "none", None, 0, None, 0, 1, 30, 8),
    ("c6i.16xlarge", 64, 32, (1, 2), 128, "none", None, 0, None, 0, 1, 50, 15),
    ("c6i.24xlarge", 96, 48, (1, 2), 192, "none", None, 0, None, 0, 1, 50, 15),
    ("c6i.32xlarge", 128, 64, (1, 2), 256, "none", None, 0, None, 1, 1, 50, 15),
    ("g5.xlarge", 4, 2, (), 16, "nvidia", "A10G", 1, 22.35, 0, 1, 15, 4),
    ("g5.2xlarge", 8, 4, (), 32, "nvidia", "A10G", 1, 22.35, 0, 1, 15, 4),
    ("g5.4xlarge", 16, 8, (), 64, "nvidia", "A10G", 1, 22.35, 0, 1, 30, 8),
    ("g5.8xlarge", 32, 16, (), 128, "nvidia", "A10G", 1, 22.35, 1, 1, 30, 8),
    ("g5.12xlarge", 48, 24, (), 192, "nvidia", "A10G", 4, 22.35, 1, 1, 50, 15),
    ("g5.16xlarge", 64, 32, (), 256, "nvidia", "A10G", 1, 22.35, 1, 1, 30, 8),
    ("g5.24xlarge", 96, 48, (), 384, "nvidia", "A10G", 4, 22.35, 1, 1, 50, 15),
    ("g5.48xlarge", 192, 96, (), 768, "nvidia", "A10G", 8, 22.35, 1, 1, 50, 7),
    ("g6.xlarge", 4, 2, (1, 2), 16, "nvidia", "L4", 1, 22.35, 0, 1, 15, 4),
    ("g6.2xlarge", 8, 4, (1, 2), 32, "nvidia", "L4", 1, 22.35, 0, 1, 15, 4),
    ("g6.4xlarge", 16, 8, (1, 2), 64, "nvidia", "L4", 1, 22.35, 0, 1, 30, 8),
    ("g6.8xlarge", 32, 16, (1, 2), 128, "nvidia", "L4", 1, 22.35, 1, 1, 30, 8),
    ("g6.12xlarge", 48, 24, (1, 2), 192, "nvidia", "L4", 4, 22.35, 1, 1, 30, 8),
    ("g6.16xlarge", 64, 32, (1, 2), 256, "nvidia", "L4", 1, 22.35, 1, 1, 50, 15),
    ("g6.24xlarge", 96, 48, (1, 2), 384, "nvidia", "L4", 4, 22.35, 1, 1, 50, 15),
    ("g6.48xlarge", 192, 96, (1, 2), 768, "nvidia", "L4", 8, 22.35, 1, 1, 50, 15),
    ("g6e.xlarge", 4, 2, (1, 2), 32, "nvidia", "L40S", 1, 44.7, 0, 1, 15, 4),
    ("g6e.2xlarge", 8, 4, (1, 2), 64, "nvidia", "L40S", 1, 44.7, 0, 1, 15, 4),
    ("g6e.4xlarge", 16, 8, (1, 2), 128, "nvidia", "L40S", 1, 44.7, 0, 1, 30, 8),
    ("g6e.8xlarge", 32, 16, (1, 2), 256, "nvidia", "L40S", 1, 44.7, 1, 1, 30, 8),
    ("g6e.12xlarge", 48, 24, (1, 2), 384, "nvidia", "L40S", 4, 44.7, 1, 1, 30, 10),
    ("g6e.16xlarge", 64, 32, (1, 2), 512, "nvidia", "L40S", 1, 44.7, 1, 1, 50, 15),
    ("g6e.24xlarge", 96, 48, (1, 2), 768, "nvidia", "L40S", 4, 44.7, 2, 2, 50, 20),
    ("g6e.48xlarge", 192, 96, (1, 2), 1536, "nvidia", "L40S", 8, 44.7, 4, 4, 50, 40),
    ("g7e.2xlarge", 8, 4, (1, 2), 64, "nvidia", "RTX PRO Server 6000", 1, 96.0, 0, 1, 64, 4),
    ("g7e.4xlarge", 16, 8, (1, 2), 128, "nvidia", "RTX PRO Server 6000", 1, 96.0, 0, 1, 64, 8),
    ("g7e.8xlarge", 32, 16, (1, 2), 256, "nvidia", "RTX PRO Server 6000", 1, 96.0, 1, 1, 64, 8),
    ("g7e.12xlarge", 48, 24, (1, 2), 512, "nvidia", "RTX PRO Server 6000", 2, 96.0, 1, 1, 64, 10),
    ("g7e.24xlarge", 96, 48, (1, 2), 1024, "nvidia", "RTX PRO Server 6000", 4, 96.0, 2, 2, 64, 20),
    ("g7e.48xlarge", 192, 96, (1, 2), 2048, "nvidia", "RTX PRO Server 6000", 8, 96.0, 4, 4, 64, 40),
    ("gr6.4xlarge", 16, 8, (1, 2), 128, "nvidia", "L4", 1, 22.35, 0, 1, 30, 8),
    ("gr6.8xlarge", 32, 16, (1, 2), 256, "nvidia", "L4", 1, 22.35, 1, 1, 30, 8),
    ("i3en.large", 2, 1, (1, 2), 16, "none", None, 0, None, 0, 1, 10, 3),
    ("i3en.xlarge", 4, 2, (1, 2), 32, "none", None, 0, None, 0, 1, 15, 4),
    ("i3en.2xlarge", 8, 4, (1, 2), 64, "none", None, 0, None, 0, 1, 15, 4),
    ("i3en.3xlarge", 12, 6, (1, 2), 96, "none", None, 0, None, 0, 1, 15, 4),
    ("i3en.6xlarge", 24, 12, (1, 2), 192, "none", None, 0, None, 0, 1, 30, 8),
    ("i3en.12xlarge", 48, 24, (1, 2), 384, "none", None, 0, None, 1, 1, 30, 8),
    ("i3en.24xlarge", 96, 48, (1, 2), 768, "none", None, 0, None, 1, 1, 50, 15),
    ("m5.large", 2, 1, (1, 2), 8, "none", None, 0, None, 0, 1, 10, 3),
    ("m5.xlarge", 4, 2, (1, 2), 16, "none", None, 0, None, 0, 1, 15, 4),
    ("m5.2xlarge", 8, 4, (1, 2), 32, "none", None, 0, None, 0, 1, 15, 4),
    ("m5.4xlarge", 16, 8, (1, 2), 64, "none", None, 0, None, 0, 1, 30, 8),
    ("m5.8xlarge", 32, 16, (1, 2), 128, "none", None, 0, None, 0, 1, 30, 8),
    ("m5.12xlarge", 48, 24, (1, 2), 192, "none", None, 0, None, 0, 1, 30, 8),
    ("m5.16xlarge", 64, 32, (1, 2), 256, "none", None, 0, None, 0, 1, 50, 15),
    ("m5.24xlarge", 96, 48, (1, 2), 384, "none", None, 0, None, 0, 1, 50, 15),
    ("m6i.large", 2, 1, (1, 2), 8, "none", None, 0, None, 0, 1, 10, 3),
    ("m6i.xlarge", 4, 2, (1, 2), 16, "none", None, 0, None, 0, 1, 15, 4),
    ("m6i.2xlarge", 8, 4, (1, 2), 32, "none", None, 0, None, 0, 1, 15, 4),
    ("m6i.4xlarge", 16, 8, (1, 2), 64, "none", None, 0, None, 0, 1, 30, 8),
    ("m6i.8xlarge", 32, 16, (1, 2), 128, "none", None, 0, None, 0, 1, 30, 8),
    ("m6i.12xlarge", 48, 24, (1, 2), 192, "none", None, 0, None, 0, 1, 30, 8),
    ("m6i.16xlarge", 64, 32, (1, 2), 256, "none", None, 0, None, 0, 1, 50, 15),
    ("m6i.24xlarge", 96, 48, (1, 2), 384, "none", None, 0, None, 0, 1, 50, 15),
    ("m6i.32xlarge", 128, 64, (1, 2), 512, "none", None, 0, None, 1, 1, 50, 15),
    ("m7i.large", 2, 1, (1, 2), 8, "none", None, 0, None, 0, 1, 10, 3),
    ("m7i.xlarge", 4, 2, (1, 2), 16, "none", None, 0, None, 0, 1, 15, 4),
    ("m7i.2xlarge", 8, 4, (1, 2), 32, "none", None, 0, None, 0, 1, 15, 4),
    ("m7i.4xlarge", 16, 8, (1, 2), 64, "none", None, 0, None, 0, 1, 30, 8),
    ("m7i.8xlarge", 32, 16, (1, 2), 128, "none", None, 0, None, 0, 1, 30, 8),
    ("m7i.12xlarge", 48, 24, (1, 2), 192, "none", None, 0, None, 0, 1, 30, 8),
    ("m7i.16xlarge", 64, 32, (1, 2), 256, "none", None, 0, None, 0, 1, 50, 15),
    ("m7i.24xlarge", 96, 48, (1, 2), 384, "none", None, 0, None, 0, 1, 50, 15),
    ("m7i.48xlarge", 192, 96, (1, 2), 768, "none", None, 0, None, 1, 1, 50, 15),
    ("p4d.24xlarge", 96, 48, (1, 2), 1152, "nvidia", "A100", 8, 40.0, 4, 4, 50, 60),
    ("p4de.24xlarge", 96, 48, (1, 2), 1152, "nvidia", "A100", 8, 80.0, 4, 4, 50, 60),
    ("p5.4xlarge", 16, 8, (1, 2), 256, "nvidia", "H100", 1, 80.0, 1, 1, 30, 4),
    ("p5.48xlarge", 192, 96, (1, 2), 2048, "nvidia", "H100", 8, 80.0, 32, 32, 50, 64),
    ("p5e.48xlarge", 192, 96, (1, 2), 2048, "nvidia", "H200", 8, 141.0, 32, 32, 50, 64),
    ("p5en.48xlarge", 192, 96, (1, 2), 2048, "nvidia", "H200", 8, 141.0, 16, 16, 50, 64),
    ("p6-b200.48xlarge", 192, 96, (1, 2), 2048, "nvidia", "B200", 8, 179.06, 8, 8, 50, 32),
    ("p6-b300.48xlarge", 192, 96, (1, 2), 4096, "nvidia", "B300", 8, 268.59, 16, 17, 50, 68),
    ("r5d.16xlarge", 64, 32, (1, 2), 512, "none", None, 0, None, 0, 1, 50, 15),
    ("r6i.large", 2, 1, (1, 2), 16, "none", None, 0, None, 0, 1, 10, 3),
    ("r6i.xlarge", 4, 2, (1, 2), 32, "none", None, 0, None, 0, 1, 15, 4),
    ("r6i.2xlarge", 8, 4, (1, 2), 64, "none", None, 0, None, 0, 1, 15, 4),
    ("r6i.4xlarge", 16, 8, (1, 2), 128, "none", None, 0, None, 0, 1, 30, 8),
    ("r6i.8xlarge", 32, 16, (1, 2), 256, "none", None, 0, None, 0, 1, 30, 8),
    ("r6i.12xlarge", 48, 24, (1, 2), 384, "none", None, 0, None, 0, 1, 30, 8),
    ("r6i.16xlarge", 64, 32, (1, 2), 512, "none", None, 0, None, 0, 1, 50, 15),
    ("r6i.24xlarge", 96, 48, (1, 2), 768, "none", None, 0, None, 0, 1, 50, 15),
    ("r6i.32xlarge", 128, 64, (1, 2), 1024, "none", None, 0, None, 1, 1, 50, 15),
    ("r7i.large", 2, 1, (1, 2), 16, "none", None, 0, None, 0, 1, 10, 3),
    ("r7i.xlarge", 4, 2, (1, 2), 32, "none", None, 0, None, 0, 1, 15, 4),
    ("r7i.2xlarge", 8, 4, (1, 2), 64, "none", None, 0, None, 0, 1, 15, 4),
    ("r7i.4xlarge", 16, 8, (1, 2), 128, "none", None, 0, None, 0, 1, 30, 8),
    ("r7i.8xlarge", 32, 16, (1, 2), 256, "none", None, 0, None, 0, 1, 30, 8),
    ("r7i.12xlarge", 48, 24, (1, 2), 384, "none", None, 0, None, 0, 1, 30, 8),
    ("r7i.16xlarge", 64, 32, (1, 2), 512, "none", None, 0, None, 0, 1, 50, 15),
    ("r7i.24xlarge", 96, 48, (1, 2), 768, "none", None, 0, None, 0, 1, 50, 15),
    ("r7i.48xlarge", 192, 96, (1, 2), 1536, "none", None, 0, None, 1, 1, 50, 15),
    ("t3.medium", 2, 1, (1, 2), 4, "none", None, 0, None, 0, 1, 6, 3),
    ("t3.large", 2, 1, (1, 2), 8, "none", None, 0, None, 0, 1, 12, 3),
    ("t3.xlarge", 4, 2, (1, 2), 16, "none", None, 0, None, 0, 1, 15, 4),
    ("t3.2xlarge", 8, 4, (1, 2), 32, "none", None, 0, None, 0, 1, 15, 4),
    ("trn1.32xlarge", 128, 64, (1, 2), 512, "neuron", "Trainium", 16, 32.0, 8, 8, 50, 40),
    ("trn1n.32xlarge", 128, 64, (1, 2), 512, "neuron", "Trainium", 16, 32.0, 16, 16, 50, 80),
    ("trn2.3xlarge", 12, 6, (1, 2), 128, "neuron", "Trainium2", 1, 96.0, 1, 1, 15, 2),
    ("trn2.48xlarge", 192, 96, (1, 2), 2048, "neuron", "Trainium2", 16, 96.0, 16, 16, 50, 32),
)


def _info(row: _Row) -> InstanceTypeInfo:
    (
        name,
        vcpus,
        cores,
        threads,
        mem,
        kind,
        acc_name,
        acc_count,
        acc_mem,
        efa,
        cards,
        ipv4,
        enis,
    ) = row
    family = name.split(".", 1)[0]
    return InstanceTypeInfo(
        name=name,
        vcpus=vcpus,
        default_cores=cores,
        valid_threads_per_core=tuple(threads),
        accelerator=kind,
        accelerator_name=acc_name,
        accelerator_count=acc_count,
        accelerator_memory_gib=None if acc_mem is None else float(acc_mem),
        efa_interfaces=efa,
        network_cards=cards,
        ipv4_per_eni=ipv4,
        max_enis=enis,
        memory_gib=float(mem),
        nvswitch=_has_nvswitch(family, kind, acc_count),
        source=_source_for(family),
    )


class _Catalog(Mapping[str, InstanceTypeInfo]):
    """EC2 name → :class:`InstanceTypeInfo` of :data:`_ROWS`, each row made into one the first
    time it is asked for (a run sizes a few types: making all ~130 costs ~9 ms at import)."""

    def __init__(self, rows: tuple[_Row, ...]) -> None:
        self._rows = {row[0]: row for row in rows}
        self._made: dict[str, InstanceTypeInfo] = {}

    def __getitem__(self, name: str) -> InstanceTypeInfo:
        info = self._made.get(name)
        if info is None:
            info = self._made[name] = _info(self._rows[name])
        return info

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def _has_nvswitch(family: str, kind: str, accelerator_count: int) -> bool:
    return kind == "nvidia" and family in NVSWITCH_FAMILIES and accelerator_count >= 4


CATALOG: Mapping[str, InstanceTypeInfo] = _Catalog(_ROWS)


def _ec2_name(instance_type: str) -> str:
    return instance_type[3:] if instance_type.startswith("ml.") else instance_type


def lookup(instance_type: str) -> InstanceTypeInfo | None:
    """The static row of ``instance_type`` (``ml.`` prefixed or not); None when not listed."""
    return CATALOG.get(_ec2_name(instance_type))


@lru_cache(maxsize=1)
def hyperpod_instance_types() -> tuple[str, ...]:
    """Every ``ml.`` type the installed botocore's ``ClusterInstanceType`` enum accepts."""
    return tuple(sagemaker_service_model().shape_for("ClusterInstanceType").enum)


def closest_instance_types(instance_type: str, n: int = 3) -> list[str]:
    """The valid HyperPod names closest to ``instance_type`` (for "did you mean")."""
    valid = hyperpod_instance_types()
    import difflib

    candidate = instance_type if instance_type.startswith("ml.") else f"ml.{instance_type}"
    return difflib.get_close_matches(candidate, valid, n=n, cutoff=0.6)


def is_hyperpod_instance_type(instance_type: str) -> bool:
    """True for a name in botocore's enum, given with or without the ``ml.`` prefix."""
    return f"ml.{_ec2_name(instance_type)}" in hyperpod_instance_types()


def describe_invalid_type(instance_type: str) -> str:
    """One line saying why ``instance_type`` is not a HyperPod type, with the closest names."""
    close = closest_instance_types(instance_type)
    hint = f"; closest: {', '.join(close)}" if close else ""
    return f"{instance_type!r} is not a valid ClusterInstanceType{hint}"


def validate_instance_type(instance_type: str) -> None:
    """Raise :class:`InputError` unless ``instance_type`` is a HyperPod type (``ml.`` optional)."""
    if not isinstance(instance_type, str) or not is_hyperpod_instance_type(instance_type):
        raise InputError(describe_invalid_type(str(instance_type)))


def from_ec2_description(description: Mapping[str, Any]) -> InstanceTypeInfo:
    """Build an :class:`InstanceTypeInfo` from one ``describe_instance_types`` entry
    (``InstanceTypes[]``). Raises ValueError when the entry lacks what sizing needs."""
    try:
        name = str(description["InstanceType"])
        vcpu = description["VCpuInfo"]
        vcpus = int(vcpu["DefaultVCpus"])
        network = description["NetworkInfo"]
        ipv4_per_eni = int(network["Ipv4AddressesPerInterface"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"instance type description lacks a needed field: {exc}") from exc
    cores = int(vcpu.get("DefaultCores") or vcpus)
    threads = tuple(int(t) for t in vcpu.get("ValidThreadsPerCore") or ())
    cards = int(network.get("MaximumNetworkCards") or len(network.get("NetworkCards") or ()) or 1)
    efa = int((network.get("EfaInfo") or {}).get("MaximumEfaInterfaces") or 0)
    if not efa and network.get("EfaSupported"):
        efa = 1
    memory_gib = float((description.get("MemoryInfo") or {}).get("SizeInMiB", 0)) / 1024

    kind: AcceleratorKind = "none"
    acc_name: str | None = None
    acc_count = 0
    acc_mem: float | None = None
    gpus = (description.get("GpuInfo") or {}).get("Gpus") or []
    neurons = (description.get("NeuronInfo") or {}).get("NeuronDevices") or []
    if gpus:
        gpu = gpus[0]
        kind = "nvidia" if str(gpu.get("Manufacturer", "")).upper() == "NVIDIA" else "other"
        acc_name = gpu.get("Name")
        acc_count = sum(int(g.get("Count") or 0) for g in gpus)
        mib = (gpu.get("MemoryInfo") or {}).get("SizeInMiB")
        acc_mem = round(float(mib) / 1024, 2) if mib else None
    elif neurons:
        device = neurons[0]
        kind = "neuron"
        acc_name = device.get("Name")
        acc_count = sum(int(d.get("Count") or 0) for d in neurons)
        mib = (device.get("MemoryInfo") or {}).get("SizeInMiB")
        acc_mem = round(float(mib) / 1024, 2) if mib else None

    family = name.split(".", 1)[0]
    return InstanceTypeInfo(
        name=name,
        vcpus=vcpus,
        default_cores=cores,
        valid_threads_per_core=threads,
        accelerator=kind,
        accelerator_name=acc_name,
        accelerator_count=acc_count,
        accelerator_memory_gib=acc_mem,
        efa_interfaces=efa,
        network_cards=cards,
        ipv4_per_eni=ipv4_per_eni,
        max_enis=int(network.get("MaximumNetworkInterfaces") or cards),
        memory_gib=round(memory_gib, 2),
        nvswitch=_has_nvswitch(family, kind, acc_count),
        source=FROM_EC2_API,
    )
