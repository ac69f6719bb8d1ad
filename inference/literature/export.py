"""Records to CSV or JSON files (the pane's Export button and `matlens extract --csv`)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path

from inference.literature.extract import Extraction, PropertyRecord

CSV_COLUMNS = (
    "material",
    "property",
    "value",
    "unit",
    "value_si",
    "unit_si",
    "modifier",
    "low",
    "high",
    "uncertainty",
    "conditions",
    "page",
    "sentence",
    "source",  # text | table
)


def record_row(r: PropertyRecord) -> dict:
    row = {k: getattr(r, k) for k in CSV_COLUMNS if k != "conditions"}
    row["conditions"] = "; ".join(f"{k}={v}" for k, v in r.conditions.items())
    return row


def write_csv(records: Iterable[PropertyRecord], path: Path) -> Path:
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in records:
            writer.writerow(record_row(r))
    return path


def write_json(extraction: Extraction, path: Path, records=None) -> Path:
    """The `matlens extract --json` document; `records` narrows it to a filtered subset."""
    data = extraction.to_json()
    if records is not None:
        keep = {(r.start, r.end, r.property) for r in records}
        data["records"] = [
            d
            for d, r in zip(data["records"], extraction.records, strict=True)
            if (r.start, r.end, r.property) in keep
        ]
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return Path(path)
