"""Tables as rows of cells (pdfplumber's table finder, only on pages that mention a table), and
the property values their cells hold.

A value cell is read when its column header names a property with a unit ("Tc (K)",
"Band gap (eV)", "σ (S cm−1)", "a / Å") and its row label names a material; a table with the
materials along the top and the properties down the side is read the same way, transposed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from inference.literature.materials import find_materials
from inference.literature.model import Box, Table
from inference.literature.properties import header_property
from inference.literature.quantities import Quantity, find_quantities, normalise, unit_dimension

if TYPE_CHECKING:
    from pathlib import Path

    from inference.jobs import CancelToken

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
                found = [_ruled(index, t) for t in page.find_tables()]
                if not any(found):  # journal style: horizontal rules only, no cell borders
                    found = [_between_rules(page, index, band) for band in _rule_bands(page)]
                out += [t for t in found if t is not None]
    except Exception as exc:  # noqa: BLE001 - tables are a bonus; the text still stands
        log.warning("table detection failed on %s: %s", path.name, exc)
    return out


def _ruled(index: int, table) -> Table | None:
    """A table whose every cell has borders (pdfplumber's line strategy)."""
    rows, cells = [], []
    for texts, row in zip(table.extract(), table.rows, strict=True):
        texts = [(cell or "").replace("\n", " ").strip() for cell in texts]
        if any(texts):
            rows.append(texts)
            cells.append([Box(*c) if c else None for c in row.cells])
    return Table(index, Box(*table.bbox), rows, cells) if len(rows) >= 2 else None


def _rule_bands(page) -> list[tuple[float, float, float, float]]:
    """Boxes spanned by two or more horizontal rules of the same width (top, mid, bottom rule)."""
    rules = [
        (e["x0"], e["x1"], e["top"])
        for e in list(page.lines) + list(page.rects)
        if e["bottom"] - e["top"] < 2 and e["x1"] - e["x0"] > 60
    ]
    groups: list[list[tuple[float, float, float]]] = []
    for rule in sorted(rules, key=lambda r: r[2]):
        for g in groups:
            last = g[-1]
            if (
                abs(last[0] - rule[0]) < 3
                and abs(last[1] - rule[1]) < 3
                and rule[2] - last[2] < 300
            ):
                g.append(rule)
                break
        else:
            groups.append([rule])
    return [
        (min(r[0] for r in g), g[0][2] - 1, max(r[1] for r in g), g[-1][2] + 1)
        for g in groups
        if len(g) >= 2 and g[-1][2] - g[0][2] > 20
    ]


def _between_rules(page, index: int, band) -> Table | None:
    """Rows and columns from the words' alignment inside a band of rules."""
    region = page.crop(band)
    settings = {"vertical_strategy": "text", "horizontal_strategy": "text"}
    grid = next(iter(region.find_tables(settings)), None)
    if grid is None:
        return None
    lines = [row.bbox for row in grid.rows]
    lefts = sorted({round(c[0], 1) for row in grid.rows for c in row.cells if c})
    if len(lefts) < 2:
        return None
    edges = [*lefts[1:], band[2] + 1]  # a column runs to the next one's left edge
    rows: list[list[str]] = []
    cells: list[list[Box | None]] = []
    all_words = region.extract_words()
    for top, bottom in sorted({(b[1], b[3]) for b in lines}):
        words = [w for w in all_words if top <= (w["top"] + w["bottom"]) / 2 <= bottom]
        if not words:
            continue
        texts = [[] for _ in lefts]
        for w in sorted(words, key=lambda w: w["x0"]):
            j = next(j for j, edge in enumerate(edges) if w["x0"] < edge - 1)
            texts[j].append(w["text"])
        rows.append([" ".join(t) for t in texts])
        cells.append([Box(x, top, e, bottom) for x, e in zip(lefts, edges, strict=True)])
    if len(rows) < 2:
        return None
    return Table(index, Box(*band), rows, cells)


@dataclass(frozen=True)
class TableValue:
    """One property value read from a table cell (`quantity` spans the whole cell text)."""

    page: int  # 0-based
    property: str
    quantity: Quantity
    cell: str
    header: str  # the header naming the property and unit, e.g. "Tc (K)"
    label: str  # the row (or column) label, e.g. "EuFBiS2" or "x = 0.1"
    material: str | None  # the formula or name the label gives, if any
    cell_box: Box | None
    label_box: Box | None


_HEADER = re.compile(r"^(?P<name>.*?\S)\s*(?:[(\[](?P<unit>[^()\[\]]+)[)\]]|/\s*(?P<unit2>.+))$")
_ESD = re.compile(r"(\d+)\.(\d+)\((\d{1,2})\)")  # crystallographic "4.0512(3)"


def _header(text: str) -> tuple[str, str] | None:
    """(property, unit) a header cell names, or None."""
    m = _HEADER.match(" ".join(normalise(text).split()))
    if not m:
        return None
    unit = (m.group("unit") or m.group("unit2")).strip()
    dimension = unit_dimension(unit)
    prop = header_property(m.group("name"), dimension) if dimension else None
    return (prop, " ".join(unit.replace("·", " ").replace("⋅", " ").split())) if prop else None


def _esd(m: re.Match) -> str:
    digits = len(m.group(2))
    return f"{m.group(1)}.{m.group(2)} ± {int(m.group(3)) / 10**digits:.{digits}f}"


def _cell_quantities(cell: str, unit: str, dimension: str) -> list[Quantity]:
    """The values a cell holds, in the header's unit unless the cell gives its own."""
    text = _ESD.sub(_esd, " ".join(normalise(cell).split()))
    if not re.search(r"\d", text):
        return []  # "–", "n/a"
    found = [q for q in find_quantities(text) if q.dimension == dimension]
    if not found and not re.search(r"[A-Za-z]{3,}", text):  # words: a note, not a value
        found = find_quantities(f"{text} {unit}")
        found = [q for q in found if q.dimension == dimension and q.start < len(text)]
    return [replace(q, start=0, end=len(cell), text=cell) for q in found[:1]]


def _label_material(label: str) -> str | None:
    for m in find_materials(label):
        if m.role == "sample":
            return m.name or m.formula
    return None


def _read(rows, boxes, page: int) -> list[TableValue]:
    headers = {j: h for j, text in enumerate(rows[0]) if j and (h := _header(text))}
    if not headers:
        return []
    out: list[TableValue] = []
    for i, row in enumerate(rows[1:], start=1):
        label = row[0]
        if not label:
            continue
        material = _label_material(label)
        for j, (prop, unit) in headers.items():
            if j >= len(row) or not row[j]:
                continue
            dimension = unit_dimension(unit) or ""
            for q in _cell_quantities(row[j], unit, dimension):
                box = boxes[i][j] if i < len(boxes) and j < len(boxes[i]) else None
                label_box = boxes[i][0] if i < len(boxes) and boxes[i] else None
                out.append(
                    TableValue(page, prop, q, row[j], rows[0][j], label, material, box, label_box)
                )
    return out


def _transpose(grid: list[list]) -> list[list]:
    width = max(len(r) for r in grid)
    return [[r[j] if j < len(r) else None for r in grid] for j in range(width)]


def table_values(table: Table) -> list[TableValue]:
    """Property values in a table: property headers along the top, or else down the side."""
    rows = table.rows
    boxes = table.cells or [[None] * len(r) for r in rows]
    found = _read(rows, boxes, table.page)
    if found:
        return found
    cols = [[c or "" for c in col] for col in _transpose(rows)]
    return _read(cols, _transpose(boxes), table.page)
