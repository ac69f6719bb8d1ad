"""Search the shipped property tables: element filters and property ranges, offline.

    query_materials(MaterialsQuery(all_of=("Ca", "Ti", "O"), ranges={"band_gap": (2, None)}))

gives every value that matches, one row per table row (a composition with several Materials
Project polymorphs has several rows), with its source. A composition matches when it holds all
of `all_of`, at least one of `any_of` and none of `none_of`, and, for each property range, at
least one of its values of that property lies in the range; the rows shown are those values.
The same function serves the pane's "Materials data" search and `matlens data query`.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inference.errors import MatLensError
from inference.prediction.materials_store import DATASET_BY_NAME, open_store

if TYPE_CHECKING:
    from pathlib import Path

PROPERTIES = {
    "band_gap": "eV",
    "formation_energy": "eV/atom",
    "bulk_modulus": "GPa",
    "shear_modulus": "GPa",
    "yield_strength": "MPa",
    "is_metal": "",
}


@dataclass(frozen=True)
class MaterialsQuery:
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    method: str = ""  # "", "experiment" or "DFT": which tables
    limit: int = 2000


@dataclass(frozen=True)
class MaterialRow:
    formula: str  # the composition, reduced ("CaTiO3")
    table_formula: str  # as written in the table ("Ca4Ti4O12": the cell of that entry)
    prop: str
    value: float
    unit: str
    method: str  # "experiment" or "DFT, PBE (GGA/GGA+U)"
    dataset: str
    source: str
    # what Prediction says of the same row: corrected (a known error of the table), or doubtful
    # (DFT contradicts it), then its number is not shown (`value` None in JSON and CSV)
    note: str = ""
    doubtful: bool = False

    @property
    def shown(self) -> str:
        return "not shown" if self.doubtful else f"{self.value:.4g}"

    def to_json(self) -> dict:
        return {
            "formula": self.formula,
            "table_formula": self.table_formula,
            "property": self.prop,
            "value": None if self.doubtful else round(self.value, 6),
            "unit": self.unit,
            "method": self.method,
            "dataset": self.dataset,
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True)
class QueryResult:
    rows: tuple[MaterialRow, ...]
    total: int  # rows matching before the limit
    compounds: int  # distinct compositions among them
    seconds: float

    def to_json(self) -> dict:
        return {
            "total": self.total,
            "shown": len(self.rows),
            "compositions": self.compounds,
            "seconds": round(self.seconds, 4),
            "rows": [r.to_json() for r in self.rows],
        }


ELEMENTS = frozenset(
    [
        "H",
        "He",
        "Li",
        "Be",
        "B",
        "C",
        "N",
        "O",
        "F",
        "Ne",
        "Na",
        "Mg",
        "Al",
        "Si",
        "P",
        "S",
        "Cl",
        "Ar",
        "K",
        "Ca",
        "Sc",
        "Ti",
        "V",
        "Cr",
        "Mn",
        "Fe",
        "Co",
        "Ni",
        "Cu",
        "Zn",
        "Ga",
        "Ge",
        "As",
        "Se",
        "Br",
        "Kr",
        "Rb",
        "Sr",
        "Y",
        "Zr",
        "Nb",
        "Mo",
        "Tc",
        "Ru",
        "Rh",
        "Pd",
        "Ag",
        "Cd",
        "In",
        "Sn",
        "Sb",
        "Te",
        "I",
        "Xe",
        "Cs",
        "Ba",
        "La",
        "Ce",
        "Pr",
        "Nd",
        "Pm",
        "Sm",
        "Eu",
        "Gd",
        "Tb",
        "Dy",
        "Ho",
        "Er",
        "Tm",
        "Yb",
        "Lu",
        "Hf",
        "Ta",
        "W",
        "Re",
        "Os",
        "Ir",
        "Pt",
        "Au",
        "Hg",
        "Tl",
        "Pb",
        "Bi",
        "Po",
        "At",
        "Rn",
        "Fr",
        "Ra",
        "Ac",
        "Th",
        "Pa",
        "U",
        "Np",
        "Pu",
        "Am",
        "Cm",
        "Bk",
        "Cf",
        "Es",
        "Fm",
        "Md",
        "No",
        "Lr",
        "Rf",
        "Db",
        "Sg",
        "Bh",
        "Hs",
        "Mt",
        "Ds",
        "Rg",
        "Cn",
        "Nh",
        "Fl",
        "Mc",
        "Lv",
        "Ts",
        "Og",
    ]
)


def _elements(values) -> tuple[str, ...]:
    out = []
    for v in values:
        symbol = v.strip()
        if not symbol:
            continue
        symbol = symbol[:1].upper() + symbol[1:].lower()
        if symbol not in ELEMENTS:
            raise MatLensError(f"'{v.strip()}' is not a chemical element symbol")
        out.append(symbol)
    return tuple(dict.fromkeys(out))


def parse_elements(text: str) -> tuple[str, ...]:
    """'Ca, Ti O' → ('Ca', 'Ti', 'O'), with a one-line error for a non-element."""
    return _elements(text.replace(",", " ").split())


def query_materials(query: MaterialsQuery, progress=None) -> QueryResult:
    """The rows matching `query`; `progress` hears of a first-use unpack of the store."""
    all_of, any_of, none_of = (_elements(q) for q in (query.all_of, query.any_of, query.none_of))
    clash = set(all_of) & set(none_of)
    if clash:
        raise MatLensError(f"{', '.join(sorted(clash))} is both required and excluded")
    for prop, (lo, hi) in query.ranges.items():
        if prop not in PROPERTIES:
            raise MatLensError(f"unknown property '{prop}'; known: {', '.join(PROPERTIES)}")
        if lo is not None and hi is not None and lo > hi:
            raise MatLensError(f"{prop}: the minimum {lo:g} is above the maximum {hi:g}")
    datasets = [
        d.name
        for d in DATASET_BY_NAME.values()
        if not query.method or d.method.lower().startswith(query.method.lower())
    ]
    if not datasets:
        raise MatLensError(f"no table is of the kind '{query.method}' (experiment or DFT)")
    ds_marks = ",".join("?" * len(datasets))
    db = open_store(progress)
    start = time.perf_counter()  # the search itself, not a first-use unpack
    try:
        # The matching compositions as one compound SELECT (INTERSECT / EXCEPT over the element
        # and property indexes), run inside SQLite: no Python sets, and the GIL stays free for
        # the GUI thread while the search runs.
        parts: list[str] = []
        id_params: list[object] = []
        for el in all_of:
            parts.append("SELECT compound_id FROM compound_elements WHERE element = ?")
            id_params.append(el)
        if any_of:
            marks = ",".join("?" * len(any_of))
            parts.append(f"SELECT compound_id FROM compound_elements WHERE element IN ({marks})")
            id_params.extend(any_of)
        entry_filters, entry_params = [], []
        for prop, (lo, hi) in query.ranges.items():
            cond, cp = _range_condition("e", prop, lo, hi)
            parts.append(
                f"SELECT compound_id FROM entries e WHERE {cond} AND e.dataset IN ({ds_marks})"
            )
            id_params.extend([*cp, *datasets])
            entry_filters.append(f"({cond})")
            entry_params.extend(cp)
        id_sql = " INTERSECT ".join(parts)
        if none_of:
            marks = ",".join("?" * len(none_of))
            id_sql = (id_sql or "SELECT id FROM compounds") + (
                f" EXCEPT SELECT compound_id FROM compound_elements WHERE element IN ({marks})"
            )
            id_params.extend(none_of)
        sql = (
            "SELECT c.formula, e.formula, e.property, e.value, e.dataset, e.compound_id "
            "FROM entries e "
            f"JOIN compounds c ON c.id = e.compound_id WHERE e.dataset IN ({ds_marks})"
        )
        params: list[object] = [*datasets]
        if id_sql:
            sql += f" AND e.compound_id IN ({id_sql})"
            params.extend(id_params)
        if entry_filters:
            sql += " AND (" + " OR ".join(entry_filters) + ")"
            params += entry_params
        total, compounds = db.execute(
            sql.replace(
                "c.formula, e.formula, e.property, e.value, e.dataset, e.compound_id",
                "COUNT(*), COUNT(DISTINCT e.compound_id)",
            ),
            params,
        ).fetchone()
        found_rows = db.execute(
            sql + " ORDER BY c.n_elements, c.formula, e.property, e.dataset, e.value LIMIT ?",
            [*params, max(0, int(query.limit))],
        ).fetchall()
        pbe_gaps = _pbe_gaps(db, {r[5] for r in found_rows if r[4] in EXPERIMENT_TABLES})
    finally:
        db.close()
    rows = []
    for formula, table_formula, prop, value, dataset, compound in found_rows:
        ds = DATASET_BY_NAME[dataset]
        row = MaterialRow(
            formula, table_formula, prop, value, ds.unit, ds.method, dataset, ds.source
        )
        row = _as_prediction_shows(row, pbe_gaps.get(compound, []))
        lo, hi = query.ranges.get(prop, (None, None))
        outside = (
            row.doubtful
            or (lo is not None and row.value < lo)
            or (hi is not None and row.value > hi)
        )
        if (lo is not None or hi is not None) and outside:
            total -= 1  # its corrected value is not what was asked for (AlAs: 0 eV was 2.16)
            continue
        rows.append(row)
    if len(rows) == total:  # every row is here: count what is left after the corrections
        compounds = len({r.formula for r in rows})
    return QueryResult(tuple(rows), total, compounds, time.perf_counter() - start)


EXPERIMENT_TABLES = ("expt_gap", "expt_is_metal")


def _pbe_gaps(db, compounds: set[int]) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    if not compounds:
        return out
    marks = ",".join("?" * len(compounds))
    for compound, value in db.execute(
        f"SELECT compound_id, value FROM entries WHERE dataset = 'mp_gap' "
        f"AND compound_id IN ({marks})",
        list(compounds),
    ):
        out.setdefault(compound, []).append(value)
    return out


def _as_prediction_shows(row: MaterialRow, pbe_gaps: list[float]) -> MaterialRow:
    """The row as the Prediction tab shows the same table value: corrected where the table is
    known to be wrong, withheld where DFT contradicts it (the search listed AlAs as a metal
    with a 0 eV gap from experiment, which Predict shows corrected to 2.16 eV)."""
    from dataclasses import replace

    from inference.prediction.table_errors import contradicted_by_dft, table_error

    if row.dataset not in EXPERIMENT_TABLES:
        return row
    doubt = contradicted_by_dft(row.dataset, [row.value], pbe_gaps)
    if doubt is not None:
        return replace(row, note=doubt, doubtful=True)
    wrong = table_error(row.dataset, row.formula)
    if wrong is not None and row.value == wrong.table_value:
        said = "a metal" if row.prop == "is_metal" else f"{wrong.table_value:g} {row.unit}"
        note = f"corrected: the table lists {said}, a known error of that table ({row.source})"
        return replace(row, value=wrong.value, source=wrong.source, note=note)
    return row


def _range_condition(alias: str, prop: str, lo, hi) -> tuple[str, list]:
    cond = f"{alias}.property = ?"
    params: list[object] = [prop]
    if lo is not None:
        cond += f" AND {alias}.value >= ?"
        params.append(float(lo))
    if hi is not None:
        cond += f" AND {alias}.value <= ?"
        params.append(float(hi))
    return cond, params


CSV_COLUMNS = [
    "formula",
    "table_formula",
    "property",
    "value",
    "unit",
    "method",
    "dataset",
    "source",
    "note",
]


def rows_to_csv(rows, path: Path) -> None:
    """UTF-8 with BOM (Excel), one row per value, units in their own column."""
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            j = r.to_json()
            writer.writerow([j[c] for c in CSV_COLUMNS])
