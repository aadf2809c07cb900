"""What checks of every area share (no check is registered here)."""

from __future__ import annotations

from typing import Any

from ..errors import FactUnavailable
from ..models import Outcome, unknown


def could_not_tell(resource: str, exc: FactUnavailable, about: str = "", **details: Any) -> Outcome:
    """UNKNOWN for a read that failed: "could not tell[ <about>]: <why>", the read's own
    remediation, and the IAM action it needed in the details (then ``details``)."""
    question = f" {about}" if about else ""
    return unknown(
        resource,
        f"could not tell{question}: {exc.describe()}",
        exc.remediation,
        action=exc.action,
        **details,
    )
