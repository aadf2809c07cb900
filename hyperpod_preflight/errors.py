"""Exceptions that end a run, each bound to one documented exit code.

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``; the Python
API lets them propagate so a provisioning script can catch them.
"""

from __future__ import annotations


class PreflightError(Exception):
    """Base class of every error the tool raises on purpose."""

    exit_code = 3


class InputError(PreflightError):
    """Bad usage or input: malformed config, wrong id, unknown instance type (exit 2)."""

    exit_code = 2


class CannotRunError(PreflightError):
    """The run could not start: no credentials, endpoint unreachable, no region (exit 3)."""

    exit_code = 3
