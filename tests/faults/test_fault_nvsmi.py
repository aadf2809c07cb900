"""nvidia-smi output with a field over Python's csv size limit: that GPU's field error, the
other readings and GPUs kept, never a crash of `host` (exit 3)."""

from __future__ import annotations

import csv

from hyperpod_preflight.host.nvsmi import QUERY_FIELDS, parse_query_csv


def _row(index: int, name: str) -> str:
    values = {f: "0" for f in QUERY_FIELDS}
    values.update(
        {
            "index": str(index),
            "name": name,
            "uuid": f"GPU-{index:08d}",
            "pci.bus_id": f"00000000:{index + 10:02X}:00.0",
            "compute_cap": "9.0",
            "memory.total": "81559",
            "persistence_mode": "Enabled",
            "mig.mode.current": "Disabled",
            "ecc.mode.current": "Enabled",
            "ecc.mode.pending": "Enabled",
            "retired_pages.pending": "No",
            "driver_version": "550.54.15",
        }
    )
    return ", ".join(values[f] for f in QUERY_FIELDS)


def test_a_field_over_the_csv_limit_is_that_gpus_error() -> None:
    huge = "H" * (csv.field_size_limit() + 10)
    quoted = '"' + "Q" * (csv.field_size_limit() + 10)  # an unterminated quote, too
    text = "\n".join(
        [", ".join(QUERY_FIELDS), _row(0, "NVIDIA H100 80GB HBM3"), _row(1, huge), _row(2, quoted)]
    )
    facts = parse_query_csv(text)
    assert facts.error is None
    gpus = {g.index: g for g in facts.gpus}
    assert sorted(gpus) == [0, 1, 2]
    assert gpus[0].name == "NVIDIA H100 80GB HBM3" and "name" not in gpus[0].errors
    for index in (1, 2):
        assert "not a reading" in gpus[index].errors["name"]
        assert gpus[index].memory_total_mib == 81559  # the rest of the row still counts
    assert all(len(e) < 200 for g in facts.gpus for e in g.errors.values())
