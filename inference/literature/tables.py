"""Tables as rows of cells (pdfplumber's table finder), only on pages that mention a table."""

from __future__ import annotations

import logging
from pathlib import Path

from inference.jobs import CancelToken
from inference.literature.model import Box, Table

log = logging.getLogger(__name__)


def find_tables(path: Path, pages: list[int], cancel: CancelToken | None = None) -> list[Table]:
    if not pages:
        return []
    import pdfplumber

    out: list[Table] = []
    try:
        with pdfplumber.open(str(path)) as pdf:
            for index in pages:
                if cancel:
                    cancel.raise_if_cancelled()
                page = pdf.pages[index]
                for table in page.find_tables():
                    rows = [
                        [(cell or "").replace("\n", " ").strip() for cell in row]
                        for row in table.extract()
                    ]
                    rows = [r for r in rows if any(r)]
                    if len(rows) >= 2:
                        out.append(Table(index, Box(*table.bbox), rows))
    except Exception as exc:  # noqa: BLE001 - tables are a bonus; the text still stands
        log.warning("table detection failed on %s: %s", path.name, exc)
    return out
