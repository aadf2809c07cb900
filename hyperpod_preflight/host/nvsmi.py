"""GPU facts from ``nvidia-smi`` when NVML (nvidia-ml-py) is not importable.

Three parsers, each tested on real captures: the ``--query-gpu`` CSV (with or without
header and units), the ``-q -x`` XML (used when the CSV query fails, e.g. a field unknown to
an old driver), and ``nvlink -s`` (per-link state). ``[N/A]`` and ``[Not Supported]`` mark a
field as not supported.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .commands import CommandResult
from .models import GpuFacts, GpuInfo
from .nvml import normalize_bus_id

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

QUERY_FIELDS = (
    "index",
    "name",
    "uuid",
    "pci.bus_id",
    "driver_version",
    "compute_cap",
    "memory.total",
    "pcie.link.gen.current",
    "pcie.link.gen.max",
    "pcie.link.width.current",
    "pcie.link.width.max",
    "persistence_mode",
    "mig.mode.current",
    "ecc.mode.current",
    "ecc.mode.pending",
    "ecc.errors.uncorrected.volatile.total",
    "ecc.errors.uncorrected.aggregate.total",
    "retired_pages.pending",
)
QUERY_ARGS = ("--query-gpu=" + ",".join(QUERY_FIELDS), "--format=csv,nounits")
XML_ARGS = ("-q", "-x")
NVLINK_ARGS = ("nvlink", "-s")

# CSV column → (GpuInfo field, kind)
_CSV_MAP: dict[str, tuple[str, str]] = {
    "name": ("name", "str"),
    "uuid": ("uuid", "str"),
    "pci.bus_id": ("pci_bus_id", "bus"),
    "compute_cap": ("compute_capability", "version"),
    "memory.total": ("memory_total_mib", "int"),
    "pcie.link.gen.current": ("pcie_gen_current", "int"),
    "pcie.link.gen.max": ("pcie_gen_max", "int"),
    "pcie.link.width.current": ("pcie_width_current", "int"),
    "pcie.link.width.max": ("pcie_width_max", "int"),
    "persistence_mode": ("persistence_mode", "bool"),
    "mig.mode.current": ("mig_enabled", "bool"),
    "ecc.mode.current": ("ecc_enabled", "bool"),
    "ecc.mode.pending": ("ecc_pending_enabled", "bool"),
    "ecc.errors.uncorrected.volatile.total": ("ecc_uncorrected_volatile", "int"),
    "ecc.errors.uncorrected.aggregate.total": ("ecc_uncorrected_aggregate", "int"),
    "retired_pages.pending": ("retired_pages_pending", "bool"),
}
_NOT_SUPPORTED = {"[n/a]", "n/a", "[not supported]", "not supported", "[unknown error]", ""}


def _column(header: str) -> str:
    """``memory.total [MiB]`` → ``memory.total``."""
    return re.sub(r"\s*\[.*?\]\s*$", "", header.strip())


def _convert(value: str, kind: str) -> object:
    text = value.strip()
    if kind == "str":
        return text
    if kind == "bus":
        return normalize_bus_id(text)
    if kind == "version":
        if not re.fullmatch(r"\d+\.\d+", text):
            raise ValueError(text)
        return text
    if kind == "bool":
        low = text.lower()
        if low in ("enabled", "yes", "on", "1", "true"):
            return True
        if low in ("disabled", "no", "off", "0", "false"):
            return False
        raise ValueError(text)
    match = re.match(r"^(-?\d+)", text)
    if not match:
        raise ValueError(text)
    return int(match.group(1))


MAX_FIELD = 1024  # no reading of the query is longer; a longer field is an error of its GPU


def _csv_rows(text: str) -> Iterator[list[str]]:
    """The CSV rows of ``text``, one per line (nvidia-smi never breaks a field across lines),
    each parsed on its own: a field over Python's csv size limit, or a stray quote, costs
    only its own line (split at commas) instead of the whole read."""
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            yield next(csv.reader([line], skipinitialspace=True), [])
        except csv.Error:
            yield [field.strip() for field in line.split(",")]


def parse_query_csv(text: str, fields: tuple[str, ...] = QUERY_FIELDS) -> GpuFacts:
    """Parse ``nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]`` output."""
    rows = [r for r in _csv_rows(text) if r]
    if not rows:
        return GpuFacts(source="nvidia-smi", gpus=[])
    header = [_column(h) for h in rows[0]]
    if "index" in header or "name" in header:
        columns, data = header, rows[1:]
    else:
        columns, data = list(fields), rows
    facts = GpuFacts(source="nvidia-smi")
    for position, row in enumerate(data):
        if len(row) < len(columns):
            continue  # not a row of this query (a warning line, or another format)
        values = {col: row[i].strip() for i, col in enumerate(columns) if i < len(row)}
        try:
            index = int(values.get("index", position))
        except ValueError:
            index = position
        gpu = GpuInfo(index=index)
        for column, (attr, kind) in _CSV_MAP.items():
            if column not in values:
                continue
            raw = values[column]
            if len(raw) > MAX_FIELD:
                gpu.errors[attr] = f"a value of {len(raw)} characters: not a reading"
                continue
            if raw.lower() in _NOT_SUPPORTED:
                gpu.not_supported.append(attr)
                continue
            try:
                setattr(gpu, attr, _convert(raw, kind))
            except ValueError:
                gpu.errors[attr] = f"unexpected value {raw!r}"
        for attr in ("remap_pending", "remap_failure", "fabric_state", "nvlink_active"):
            gpu.errors.setdefault(attr, "not in nvidia-smi's CSV query (NVML reads it)")
        driver = values.get("driver_version")
        if driver and driver.lower() not in _NOT_SUPPORTED:
            facts.driver_version = driver
        facts.gpus.append(gpu)
    if data and not facts.gpus:
        # Lines came back but none is a row of the query: garbage, not "no GPU".
        first = ",".join(data[0])[:120]
        return GpuFacts(
            source="none", error=f"nvidia-smi --query-gpu: unexpected output ({first!r})"
        )
    return facts


def _xml_text(node: ET.Element | None, path: str) -> str | None:
    if node is None:
        return None
    found = node.find(path)
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return None if text.lower() in _NOT_SUPPORTED else text


def _xml_set(gpu: GpuInfo, attr: str, raw: str | None, kind: str) -> None:
    if raw is None:
        gpu.not_supported.append(attr)
        return
    try:
        setattr(gpu, attr, _convert(raw, kind))
    except ValueError:
        gpu.errors[attr] = f"unexpected value {raw!r}"


def parse_query_xml(text: str) -> GpuFacts:
    """Parse ``nvidia-smi -q -x`` (the nvsmi_device DTD, v12/v13)."""
    import xml.etree.ElementTree as ET  # only when the CSV query failed

    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return GpuFacts(source="none", error=f"nvidia-smi -q -x: unreadable XML ({exc})")
    facts = GpuFacts(
        source="nvidia-smi-xml",
        driver_version=_xml_text(root, "driver_version"),
        cuda_driver_version=_xml_text(root, "cuda_version"),
    )
    for index, node in enumerate(root.findall("gpu")):
        gpu = GpuInfo(index=index)
        gpu.name = _xml_text(node, "product_name")
        gpu.uuid = _xml_text(node, "uuid")
        gpu.pci_bus_id = normalize_bus_id(_xml_text(node, "pci/pci_bus_id") or node.get("id"))
        gpu.errors["compute_capability"] = "not in nvidia-smi -q output"
        mem = _xml_text(node, "fb_memory_usage/total")
        _xml_set(gpu, "memory_total_mib", mem, "int")
        _xml_set(gpu, "persistence_mode", _xml_text(node, "persistence_mode"), "bool")
        _xml_set(gpu, "mig_enabled", _xml_text(node, "mig_mode/current_mig"), "bool")
        _xml_set(gpu, "ecc_enabled", _xml_text(node, "ecc_mode/current_ecc"), "bool")
        _xml_set(gpu, "ecc_pending_enabled", _xml_text(node, "ecc_mode/pending_ecc"), "bool")
        link = "pci/pci_gpu_link_info"
        _xml_set(
            gpu, "pcie_gen_current", _xml_text(node, f"{link}/pcie_gen/current_link_gen"), "int"
        )
        _xml_set(gpu, "pcie_gen_max", _xml_text(node, f"{link}/pcie_gen/max_link_gen"), "int")
        _xml_set(
            gpu,
            "pcie_width_current",
            _xml_text(node, f"{link}/link_widths/current_link_width"),
            "int",
        )
        _xml_set(
            gpu, "pcie_width_max", _xml_text(node, f"{link}/link_widths/max_link_width"), "int"
        )
        _ecc_counts(node, gpu)
        _xml_set(
            gpu,
            "retired_pages_pending",
            _xml_text(node, "retired_pages/pending_retirement"),
            "bool",
        )
        rows = node.find("remapped_rows")
        _xml_set(gpu, "remap_pending", _xml_text(rows, "remapped_row_pending"), "bool")
        _xml_set(gpu, "remap_failure", _xml_text(rows, "remapped_row_failure"), "bool")
        _xml_set(gpu, "remapped_rows_uncorrectable", _xml_text(rows, "remapped_row_unc"), "int")
        _xml_set(gpu, "remapped_rows_correctable", _xml_text(rows, "remapped_row_corr"), "int")
        state = _xml_text(node, "fabric/state")
        if state is None:
            gpu.not_supported.append("fabric_state")
        else:
            gpu.fabric_state = state.lower().replace(" ", "-")
            status = _xml_text(node, "fabric/status")
            gpu.fabric_status_ok = status.lower() == "success" if status else None
        gpu.errors.setdefault("nvlink_active", "not in nvidia-smi -q output")
        facts.gpus.append(gpu)
    return facts


def _ecc_counts(node: ET.Element, gpu: GpuInfo) -> None:
    """Uncorrectable ECC totals: DRAM + SRAM (driver ≥ 550 layout) or the older
    ``double_bit/total`` layout."""
    for scope, attr in (
        ("volatile", "ecc_uncorrected_volatile"),
        ("aggregate", "ecc_uncorrected_aggregate"),
    ):
        base = node.find(f"ecc_errors/{scope}")
        if base is None:
            gpu.not_supported.append(attr)
            continue
        names = (
            "dram_uncorrectable",
            "sram_uncorrectable_parity",
            "sram_uncorrectable_secded",
            "sram_uncorrectable",
            "double_bit/total",
        )
        values = [_xml_text(base, n) for n in names]
        numbers = [int(v) for v in values if v is not None and v.isdigit()]
        if numbers:
            setattr(gpu, attr, sum(numbers))
        else:
            gpu.not_supported.append(attr)


def parse_nvlink_status(text: str) -> dict[int, list[bool]]:
    """``nvidia-smi nvlink -s``: GPU index → state of each link (``<inactive>`` is down)."""
    links: dict[int, list[bool]] = {}
    current: int | None = None
    for line in text.splitlines():
        gpu = re.match(r"^GPU\s+(\d+):", line)
        if gpu:
            current = int(gpu.group(1))
            links[current] = []
            continue
        link = re.match(r"^\s*Link\s+(\d+):\s*(.*)$", line)
        if link and current is not None:
            state = link.group(2).strip().lower()
            links[current].append(not ("inactive" in state or "down" in state))
    return links


Runner = Callable[[list[str]], CommandResult]


def read_nvidia_smi(binary: str, run: Runner, *, want_nvlink: bool = False) -> GpuFacts:
    """GPU facts through ``binary`` (nvidia-smi): the CSV query, else the XML."""
    result = run([binary, *QUERY_ARGS])
    if result.ok:
        facts = parse_query_csv(result.stdout)
    else:
        xml = run([binary, *XML_ARGS])
        if not xml.ok:
            message = (result.stdout + result.stderr).strip().splitlines()
            reason = result.error or (message[0] if message else f"exit {result.exit_code}")
            return GpuFacts(source="none", error=f"nvidia-smi: {reason}")
        facts = parse_query_xml(xml.stdout)
    if want_nvlink and facts.gpus:
        status = run([binary, *NVLINK_ARGS])
        if status.ok:
            states = parse_nvlink_status(status.stdout)
            for gpu in facts.gpus:
                gpu.errors.pop("nvlink_active", None)
                found = states.get(gpu.index)
                if found:
                    gpu.nvlink_active = found
                else:
                    gpu.not_supported.append("nvlink_active")
    return facts
