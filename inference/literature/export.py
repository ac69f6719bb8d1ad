"""Records to CSV or JSON files (the pane's Export button and `matlens extract --csv`).

Both are generated from `inference.literature.schema`: a CSV column per `PropertyRecord` field,
and the JSON records are the same fields (`schema.to_json`).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

from inference.literature.schema import PropertyRecord, csv_columns, csv_row, to_json

if TYPE_CHECKING:
    from collections.abc import Iterable

    from inference.literature.extract import Extraction

CSV_COLUMNS = csv_columns(PropertyRecord)


def write_csv(records: Iterable[PropertyRecord], path: Path) -> Path:
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in records:
            writer.writerow(csv_row(r))
    return path


def write_json(extraction: Extraction, path: Path, records=None) -> Path:
    """The `matlens extract --json` document; `records` narrows it to a filtered subset."""
    data = extraction.to_json()
    if records is not None:
        data["records"] = [to_json(r) for r in records]
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return Path(path)
