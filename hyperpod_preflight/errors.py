"""Exceptions that end a run, each bound to one documented exit code.

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``; the Python
API lets them propagate so a provisioning script can catch them.
"""

from __future__ import annotations

import re
from typing import Literal

POLICY_HINT = "policies/hp-preflight-readonly.json"
Reason = Literal["denied", "throttled", "absent", "error", "unreachable", "protocol"]
_TAG = re.compile(r"<[^>]*>")
_HIDDEN = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def one_line(text: str, limit: int = 200) -> str:
    """``text`` as one short line: markup of an HTML page dropped, whitespace (newlines
    included) collapsed, cut to ``limit`` characters with an ellipsis."""
    if "<" in text and ">" in text:
        from html import unescape

        text = unescape(_TAG.sub(" ", _HIDDEN.sub(" ", text)))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


# An error is one line: past this, its middle is cut (a 100 KB --subnet value is not echoed).
MAX_ERROR_CHARS = 600


def clip(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` whole when it fits ``limit``; else its start and end around what was cut, so
    both what was given and why it is wrong stay readable."""
    if len(text) <= limit:
        return text
    keep = max(1, (limit - 40) // 2)
    return f"{text[:keep]}…[{len(text) - 2 * keep} characters cut]…{text[-keep:]}"


def shown(value: object, limit: int = 80) -> str:
    """A user's value for a message: quoted (``repr``), cut to ``limit`` characters with its
    length told when longer."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


class PreflightError(Exception):
    """Base class of every error the tool raises on purpose; its message is cut to
    :data:`MAX_ERROR_CHARS`."""

    exit_code = 3

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(clip(str(message)), *args)


class InputError(PreflightError):
    """Bad usage or input: malformed config, wrong id, unknown instance type (exit 2)."""

    exit_code = 2


class CannotRunError(PreflightError):
    """The run could not start: no credentials, endpoint unreachable, no region (exit 3)."""

    exit_code = 3


class FactUnavailable(Exception):
    """A read that could not be made. Checks let it propagate (the runner reports UNKNOWN)
    or catch it to report UNKNOWN on one resource."""

    def __init__(
        self, action: str, reason: Reason, detail: str = "", *, attempts: int | None = None
    ) -> None:
        self.action = action
        self.reason = reason
        self.detail = detail
        # How many times the call was sent (None: not known); 1 for a call never resent.
        self.attempts = attempts
        super().__init__(self.describe())

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        if self.attempts == 1:
            throttled = f"{self.action} was throttled on its only attempt (sent once, not retried)"
        elif self.attempts:
            throttled = f"{self.action} still throttled after {self.attempts} attempts"
        else:
            throttled = f"{self.action} still throttled after retries"
        what = {
            "denied": f"access denied to {self.action}",
            "throttled": throttled,
            "absent": f"{self.action} is not available in this endpoint or region",
            "error": f"{self.action} failed",
            "unreachable": f"could not reach the endpoint for {self.action}",
            "protocol": self.action,
        }[self.reason]
        detail = one_line(self.detail, 240)
        return f"{what}: {detail}" if detail else what

    @property
    def remediation(self) -> str:
        if self.reason == "denied":
            return (
                f"Allow {self.action} for the identity running hp-preflight "
                f"(see {POLICY_HINT}), then run again."
            )
        if self.reason == "throttled":
            return "Run again later, or with --retry-mode adaptive --max-attempts 20."
        if self.reason == "protocol":
            return (
                "Check the proxy settings (HTTPS_PROXY, NO_PROXY) and AWS_ENDPOINT_URL*: "
                "something between this machine and AWS answered instead of AWS."
            )
        return ""
