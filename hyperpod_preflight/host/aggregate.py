"""Fleet view: many JSON host reports → one table of nodes × checks, failing nodes first,
and the outliers a per-node run cannot see (fewer GPUs than the others, a degraded PCIe link,
a driver that differs from the rest)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ..errors import InputError
from ..models import Report, Status

_RANK = {Status.FAIL: 4, Status.WARN: 3, Status.UNKNOWN: 2, Status.PASS: 1, Status.SKIP: 0}
_CELL = {
    Status.FAIL: "FAIL",
    Status.WARN: "WARN",
    Status.UNKNOWN: "UNKN",
    Status.PASS: "ok",
    Status.SKIP: "-",
}


class NodeRow(BaseModel):
    node: str
    source: str
    failed: bool
    counts: dict[str, int]
    gpus: int | None = None
    driver: str | None = None
    checks: dict[str, Status] = Field(default_factory=dict)
    outliers: list[str] = Field(default_factory=list)


class FleetView(BaseModel):
    nodes: list[NodeRow]
    checks: list[str]

    @property
    def exit_code(self) -> int:
        return 1 if any(n.failed or n.outliers for n in self.nodes) else 0


def _report_files(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{raw}: no such file or folder")
    if not files:
        raise InputError(f"no JSON report found in {', '.join(paths)}")
    return files


def load_reports(
    paths: Sequence[str], warn: Callable[[str], None] | None = None
) -> list[tuple[Path, Report]]:
    """Host reports from files and folders (``*.json``, recursively).

    A file that cannot be read, is not a report, or is not a host report is skipped with one
    ``warn`` line (without ``warn``, it is an InputError); none left is an InputError."""
    loaded = []
    for path in _report_files(paths):
        try:
            loaded.append((path, _host_report(path)))
        except InputError as exc:
            if warn is None:
                raise
            warn(f"skipped {exc}")
    if not loaded:
        raise InputError(f"no readable host report in {', '.join(paths)}")
    return loaded


def _host_report(path: Path) -> Report:
    try:
        report = Report.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise InputError(f"{path}: not a hp-preflight JSON report ({first})") from exc
    if report.kind != "host":
        raise InputError(f"{path}: a {report.kind!r} report, not a host report")
    return report


def _gpus(facts: dict[str, Any]) -> list[dict[str, Any]]:
    gpu = facts.get("gpu") or {}
    return [g for g in gpu.get("gpus") or [] if isinstance(g, dict)]


def _degraded_links(facts: dict[str, Any]) -> list[str]:
    found = []
    for g in _gpus(facts):
        values = [
            g.get(k)
            for k in ("pcie_gen_current", "pcie_gen_max", "pcie_width_current", "pcie_width_max")
        ]
        numbers = [v for v in values if isinstance(v, int)]
        if len(numbers) != 4:
            continue
        gen, gen_max, width, width_max = numbers
        if width < width_max or gen < gen_max:
            found.append(
                f"gpu{g.get('index')} PCIe Gen{gen} x{width} (max Gen{gen_max} x{width_max})"
            )
    return found


def build_fleet_view(reports: Sequence[tuple[Path, Report]]) -> FleetView:
    rows: list[NodeRow] = []
    names: Counter[str] = Counter()
    checks: set[str] = set()
    for path, report in reports:
        name = report.target or path.stem
        names[name] += 1
        if names[name] > 1:
            name = f"{name} ({path.name})"
        cells: dict[str, Status] = {}
        for finding in report.results:
            checks.add(finding.check_id)
            current = cells.get(finding.check_id)
            if current is None or _RANK[finding.status] > _RANK[current]:
                cells[finding.check_id] = finding.status
        gpu = report.facts.get("gpu") or {}
        readable = gpu.get("source") not in (None, "none")
        rows.append(
            NodeRow(
                node=name,
                source=str(path),
                failed=report.summary.exit_code == 1,
                counts={k: v for k, v in report.summary.by_status.items() if v},
                gpus=len(_gpus(report.facts)) if readable else 0,
                driver=gpu.get("driver_version"),
                checks=cells,
                outliers=_degraded_links(report.facts),
            )
        )
    if len(rows) > 1:
        most = max((r.gpus or 0) for r in rows)
        drivers = Counter(r.driver for r in rows if r.driver)
        common = drivers.most_common(1)[0][0] if drivers else None
        for row in rows:
            if (row.gpus or 0) < most:
                row.outliers.insert(0, f"{row.gpus} GPUs (others have up to {most})")
            if common and row.driver and row.driver != common and drivers[common] > 1:
                row.outliers.append(f"driver {row.driver} (most nodes: {common})")
    rows.sort(key=lambda r: (not r.failed, not r.outliers, r.node))
    return FleetView(nodes=rows, checks=sorted(checks))


def _short(check_id: str) -> str:
    return check_id.removeprefix("host.")


def render_fleet_view(view: FleetView, fmt: str, *, all_checks: bool = False) -> str:
    if fmt == "json":
        payload = {
            "exit_code": view.exit_code,
            "nodes": [r.model_dump(mode="json") for r in view.nodes],
            "checks": view.checks,
        }
        return json.dumps(payload, indent=2) + "\n"
    from tabulate import tabulate

    shown = [
        c
        for c in view.checks
        if all_checks
        or any(r.checks.get(c) in (Status.FAIL, Status.WARN, Status.UNKNOWN) for r in view.nodes)
    ]
    headers = ["NODE", "RESULT", "GPUS", "DRIVER", *(_short(c) for c in shown), "OUTLIERS"]
    rows = []
    for r in view.nodes:
        result = " ".join(
            f"{v} {k}" for k, v in r.counts.items() if k in ("FAIL", "WARN", "UNKNOWN")
        )
        rows.append(
            [
                r.node,
                result or "ok",
                r.gpus,
                r.driver or "-",
                *(_CELL[r.checks[c]] if c in r.checks else "" for c in shown),
                "; ".join(r.outliers) or "-",
            ]
        )
    table = tabulate(rows, headers=headers, tablefmt="github" if fmt == "markdown" else "simple")
    failing = sum(1 for r in view.nodes if r.failed)
    odd = sum(1 for r in view.nodes if r.outliers)
    hidden = len(view.checks) - len(shown)
    note = f"; {hidden} checks passed or were skipped on every node" if hidden else ""
    summary = f"{len(view.nodes)} nodes: {failing} failing, {odd} with outliers{note}"
    return f"{table}\n\n{summary}\n"
