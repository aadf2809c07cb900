"""How many GPUs or EFA devices a node should have, and where that figure came from: the
profile's threshold (a number: at least that many) or the instance type's expectation (the
threshold ``instance-type``: exactly the type's count). Pure: host.gpu-count and
host.efa-devices judge what they read against it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..instance_types import Expectation
from ..models import HostFacts

Device = Literal["gpus", "efa"]


@dataclass(frozen=True)
class ExpectedCount:
    """The count a node should have; ``want`` is None when it cannot be told (see
    ``why_unknown``)."""

    source: Literal["profile", "instance-type"]
    want: int | None = None
    instance_type: str = ""
    accelerator: str = "nvidia"
    why_unknown: str = ""

    @property
    def from_instance_type(self) -> bool:
        """True: the instance type's exact count; False: the profile's minimum."""
        return self.source == "instance-type"

    @property
    def label(self) -> str:
        """``ml.p5.48xlarge has 8`` or ``expected at least 8``, as findings quote it."""
        if self.from_instance_type:
            return f"{self.instance_type} has {self.want}"
        return f"expected at least {self.want}"


def unknown_type_reason(host: HostFacts) -> str:
    """Why the expected counts are unknown: the type is not in the table, or where it was
    looked for (naming the resource config's problem when the file exists)."""
    if host.instance_type:
        return f"instance type {host.instance_type} is not in hp-preflight's table"
    config = host.resource_config
    if config is not None and config.error:
        return f"the instance type is unknown (no --instance-type; {config.path}: {config.error})"
    return (
        "the instance type is unknown (no --instance-type, no /opt/ml/config/resource_config.json)"
    )


def expected_count(
    threshold: Any, device: Device, expect: Expectation | None, host: HostFacts
) -> ExpectedCount:
    """The ``device`` count a profile threshold asks of this node: ``instance-type`` takes
    ``expect`` (the type's promise), a number is a minimum, anything else cannot be told."""
    if threshold == "instance-type":
        if expect is None:
            return ExpectedCount("instance-type", why_unknown=unknown_type_reason(host))
        return ExpectedCount(
            "instance-type",
            want=expect.gpus if device == "gpus" else expect.efa_devices,
            instance_type=expect.instance_type,
            accelerator=expect.accelerator,
        )
    try:
        return ExpectedCount("profile", want=int(threshold))
    except (TypeError, ValueError):
        return ExpectedCount("profile", why_unknown=f"threshold {threshold!r} is not a number")
