"""Exceptions that end a run, each bound to one documented exit code.

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``; the Python
API lets them propagate so a provisioning script can catch them.
"""

from __future__ import annotations

from typing import Literal

POLICY_HINT = "policies/hp-preflight-readonly.json"
Reason = Literal["denied", "throttled", "absent", "error", "unreachable"]


class PreflightError(Exception):
    """Base class of every error the tool raises on purpose."""

    exit_code = 3


class InputError(PreflightError):
    """Bad usage or input: malformed config, wrong id, unknown instance type (exit 2)."""

    exit_code = 2


class CannotRunError(PreflightError):
    """The run could not start: no credentials, endpoint unreachable, no region (exit 3)."""

    exit_code = 3


class FactUnavailable(Exception):
    """A read that could not be made. Checks let it propagate (the runner reports UNKNOWN)
    or catch it to report UNKNOWN on one resource."""

    def __init__(self, action: str, reason: Reason, detail: str = "") -> None:
        self.action = action
        self.reason = reason
        self.detail = detail
        super().__init__(self.describe())

    def describe(self) -> str:
        what = {
            "denied": f"access denied to {self.action}",
            "throttled": f"{self.action} still throttled after retries",
            "absent": f"{self.action} is not available in this endpoint or region",
            "error": f"{self.action} failed",
            "unreachable": f"could not reach the endpoint for {self.action}",
        }[self.reason]
        return f"{what}: {self.detail}" if self.detail else what

    @property
    def remediation(self) -> str:
        if self.reason == "denied":
            return (
                f"Allow {self.action} for the identity running hp-preflight "
                f"(see {POLICY_HINT}), then run again."
            )
        if self.reason == "throttled":
            return "Run again later, or with --retry-mode adaptive --max-attempts 20."
        return ""
