"""NVIDIA Xid events in the kernel log, and the action each one asks of an operator.

The log is read from ``/dev/kmsg`` (non-blocking: every record still in the ring buffer),
else ``dmesg``, else ``journalctl -k`` (this boot); when none can be read the reason is kept
and the check reports UNKNOWN. Lines look like::

    NVRM: Xid (PCI:0000:10:1c): 63, pid=1896, Row Remapper: New row marked for remapping ...

Each code is classified from NVIDIA's Xid catalogue (its "Resolution Bucket (Immediate
Action)" column: RESTART_APP / IGNORE → none, RESET_GPU and the ECC/NVLink workflows →
reset-gpu, RESTART_BM → reboot-node, CONTACT_SUPPORT on a hardware fault → replace-node):
https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html . Xid 154 carries the
driver's own recovery action in its text (NVML's nvmlDeviceGpuRecoveryAction_t: none, GPU
reset, node reboot, drain P2P), which is used as given.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..commands import CommandResult
from ..nvml import normalize_bus_id
from .models import XidEvent, XidFacts

CATALOGUE = "https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html"
ACTIONS = ("none", "reset-gpu", "reboot-node", "replace-node")
ACTION_RANK = {name: rank for rank, name in enumerate(ACTIONS)}

# code: (short name, operator action), from the catalogue's immediate-action bucket.
XID_ACTIONS: dict[int, tuple[str, str]] = {
    8: ("GPU stopped processing (channel idle timeout)", "none"),
    13: ("graphics engine exception", "none"),
    31: ("GPU memory page fault", "none"),
    32: ("invalid or corrupted push buffer stream", "none"),
    43: ("GPU stopped processing", "none"),
    45: ("preemptive cleanup, due to a previous error", "none"),
    48: ("double-bit ECC error", "reset-gpu"),
    61: ("internal micro-controller breakpoint/warning", "reset-gpu"),
    62: ("internal micro-controller halt", "reset-gpu"),
    63: ("ECC page retirement or row remapping recorded (reset to apply)", "reset-gpu"),
    64: ("ECC page retirement or row remapping recording failure", "replace-node"),
    68: ("video processor exception", "reset-gpu"),
    69: ("graphics engine class error", "reset-gpu"),
    74: ("NVLink error", "reset-gpu"),
    79: ("GPU has fallen off the bus", "reboot-node"),
    92: ("high single-bit ECC error rate", "none"),
    94: ("contained ECC error (the application was stopped)", "none"),
    95: ("uncontained ECC error", "reset-gpu"),
    109: ("context switch timeout", "none"),
    119: ("GSP RPC timeout", "reset-gpu"),
    120: ("GSP error", "reset-gpu"),
    121: ("C2C link error", "reset-gpu"),
    140: ("unrecovered ECC error", "reset-gpu"),
    143: ("GPU initialization failure", "reboot-node"),
    144: ("NVLink error (SAW)", "reset-gpu"),
    145: ("NVLink error (RLW)", "reset-gpu"),
    146: ("NVLink error (TLW)", "reset-gpu"),
    147: ("NVLink error (TREX)", "reset-gpu"),
    148: ("NVLink error (NVLPW)", "reset-gpu"),
    149: ("NVLink error (NETIR)", "reset-gpu"),
    150: ("NVLink error (MSE)", "reset-gpu"),
    154: ("GPU recovery action changed", "none"),
}

_XID_LINE = re.compile(
    r"NVRM: Xid \((?:PCI:)?(?P<bus>[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}"
    r"(?:\.[0-9a-fA-F])?)\): (?P<code>\d+),\s*(?P<text>.*)"
)
_RECOVERY = (
    ("node reboot", "reboot-node"),
    ("system reboot", "reboot-node"),
    ("reboot", "reboot-node"),
    ("drain", "reset-gpu"),
    ("reset", "reset-gpu"),
    ("none", "none"),
)
MAX_RECORDS = 200_000


def _bus(raw: str) -> str | None:
    """``0000:10:1c`` (the kernel prints domain:bus:device) → ``0000:10:1c.0``."""
    found = normalize_bus_id(raw)
    if found is not None and "." not in found.rsplit(":", 1)[-1]:
        found += ".0"
    return found


def classify(code: int, text: str) -> tuple[str, str]:
    """(short name, action) of Xid ``code``; Xid 154 takes its action from its text; a code
    the table does not know is ``unknown``."""
    name, action = XID_ACTIONS.get(code, ("", "unknown"))
    if code == 154:
        target = text.lower().rsplit(" to ", 1)[-1]
        action = next((a for key, a in _RECOVERY if key in target), "unknown")
    return name, action


def parse_xids(lines: list[str]) -> list[XidEvent]:
    """The Xid events in kernel log ``lines``, one per (code, GPU), counted, last text kept."""
    found: dict[tuple[int, str | None], XidEvent] = {}
    for line in lines:
        match = _XID_LINE.search(line)
        if not match:
            continue
        code = int(match["code"])
        bus = _bus(match["bus"])
        text = match["text"].strip()[:300]
        key = (code, bus)
        if key in found:
            event = found[key]
            event.count += 1
            event.text = text
            if code == 154:
                event.name, event.action = classify(code, text)
            continue
        name, action = classify(code, text)
        found[key] = XidEvent(xid=code, pci_bus_id=bus, text=text, action=action, name=name)
    return list(found.values())


def _read_kmsg(path: Path) -> list[str]:
    """Every record of /dev/kmsg (or a file in its format), without blocking."""
    lines: list[str] = []
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        pending = b""
        for _ in range(MAX_RECORDS):
            try:
                chunk = os.read(fd, 8192)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EPIPE:  # a record was overwritten while reading
                    continue
                raise
            if not chunk:
                break
            pending += chunk
            *records, pending = pending.split(b"\n")
            for record in records:
                text = record.decode("utf-8", "replace")
                # "prio,seq,usec,flags;message"; continuation lines start with a space.
                lines.append(text.split(";", 1)[1] if ";" in text[:64] else text)
        if pending:
            lines.append(pending.decode("utf-8", "replace"))
    finally:
        os.close(fd)
    return lines


def read_xids(
    root: Path,
    tools: dict[str, Any],
    run: Callable[..., CommandResult],
) -> XidFacts:
    """Xid events from the first kernel log source that can be read (see the module doc)."""
    reasons: list[str] = []
    kmsg = root / "dev" / "kmsg"
    try:
        lines = _read_kmsg(kmsg)
        return XidFacts(source="/dev/kmsg", events=parse_xids(lines))
    except FileNotFoundError:
        reasons.append("/dev/kmsg: absent")
    except PermissionError:
        reasons.append("/dev/kmsg: permission denied (needs root or CAP_SYSLOG)")
    except OSError as exc:
        reasons.append(f"/dev/kmsg: {exc.strerror or exc}")
    for name, argv, label in (
        ("dmesg", ["--notime"], "dmesg"),
        ("journalctl", ["-k", "-b", "--no-pager", "-q", "-o", "cat"], "journalctl -k"),
    ):
        tool = tools.get(name)
        path = getattr(tool, "path", None)
        if not path:
            reasons.append(f"{label}: not found")
            continue
        result = run([path, *argv], 20.0)
        if result.ok:
            return XidFacts(source=label, events=parse_xids(result.stdout.splitlines()))
        text = (result.error or result.stderr.strip() or f"exit {result.exit_code}").splitlines()
        reasons.append(f"{label}: {(text or ['failed'])[0][:120]}")
    return XidFacts(error="; ".join(reasons))
