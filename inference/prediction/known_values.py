"""Known values first: what the shipped tables say about a composition, before any model.

A composition is matched on its normalised key (element fractions), so "Ti1O2" finds TiO2. Each
property gives one `KnownValue` per table: one row, or, where Materials Project lists several
polymorphs, their range and one value: the lowest formation energy (the most stable polymorph,
the one a composition's formation energy means) and the median of the other properties, whose
rows cannot be tied to the polymorph that is stable. The nearest known compositions (smallest L1
distance between element fractions, among compositions that share the query's rarest element)
are listed too, so a person sees what the models lean on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inference.prediction import handbook_gaps
from inference.prediction.materials_store import DATASET_BY_NAME, composition_key, open_store
from inference.prediction.polymorphs import polymorphs_of
from inference.prediction.table_errors import contradicted_by_dft, table_error

if TYPE_CHECKING:
    import sqlite3

    from inference.jobs import CancelToken

# The order a person reads: experiment before DFT, the gap before the rest.
_ORDER = [
    "expt_gap",
    "expt_is_metal",
    "mp_gap",
    "mp_e_form",
    "elasticity_log10(K_VRH)",
    "elasticity_log10(G_VRH)",
    "steels_yield",
]

# A composition's formation energy is that of its most stable polymorph (Si: 0, by definition of
# an element; the median of its 33 Materials Project rows is +0.18). Against the 2135
# experimental formation enthalpies shipped with pymatgen, the lowest row is also the closer
# one: mean error 0.138 eV/atom against the median's 0.164 on the 898 compositions with several
# rows.
_LOWEST_IS_THE_VALUE = frozenset({"mp_e_form"})


@dataclass(frozen=True)
class KnownValue:
    prop: str
    label: str
    value: float  # the one value, or the lowest or median of several (`summary`)
    low: float
    high: float
    count: int  # rows in the table (polymorphs)
    unit: str
    method: str  # "experiment" or "DFT, PBE (GGA/GGA+U)"
    dataset: str
    source: str
    note: str = ""  # e.g. that the table's own row was wrong and what it said
    doubtful: bool = False  # the row contradicts DFT (table_errors): its number is not shown
    summary: str = "median"  # what `value` is of several rows: "median" or "lowest"

    @property
    def text(self) -> str:
        if self.doubtful:
            return "not shown"
        if self.prop == "is_metal":
            return "metal" if self.value > 0.5 else "not a metal"
        if self.count == 1:
            return _fmt(self.value)
        return f"{_fmt(self.value)} ({self.summary_text}: {_fmt(self.low)} to {_fmt(self.high)})"

    @property
    def summary_text(self) -> str:
        """What the one value is of several table rows, in words ("" for one row)."""
        if self.count == 1:
            return ""
        if self.summary == "lowest":
            return f"lowest of {self.count} polymorphs: the most stable"
        return f"median of {self.count} polymorphs"

    def to_json(self) -> dict:
        out = {
            "property": self.prop,
            "label": self.label,
            "value": None if self.doubtful else round(self.value, 6),
            "unit": self.unit,
            "method": self.method,
            "dataset": self.dataset,
            "source": self.source,
            "entries": self.count,
        }
        if self.note:
            out["note"] = self.note
        if self.doubtful:
            out.update(doubtful=True, table_value=round(self.value, 6))
        if self.count > 1 and not self.doubtful:
            out.update(
                value_of_entries=self.summary, min=round(self.low, 6), max=round(self.high, 6)
            )
        return out


@dataclass(frozen=True)
class NearbyComposition:
    formula: str
    distance: float  # L1 distance between atomic-fraction vectors (0 same, 2 disjoint)
    values: tuple[KnownValue, ...]

    def to_json(self) -> dict:
        return {
            "formula": self.formula,
            "distance": round(self.distance, 4),
            "known": [v.to_json() for v in self.values],
        }


@dataclass(frozen=True)
class KnownReport:
    formula: str
    values: tuple[KnownValue, ...]
    nearest: tuple[NearbyComposition, ...]

    def to_json(self) -> dict:
        return {
            "known": [v.to_json() for v in self.values],
            "nearest_known": [n.to_json() for n in self.nearest],
        }


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def _values(db: sqlite3.Connection, compound_id: int) -> tuple[KnownValue, ...]:
    (formula,) = db.execute("SELECT formula FROM compounds WHERE id = ?", (compound_id,)).fetchone()
    rows = db.execute(
        "SELECT dataset, value FROM entries WHERE compound_id = ?", (compound_id,)
    ).fetchall()
    by_dataset: dict[str, list[float]] = {}
    for dataset, value in rows:
        by_dataset.setdefault(dataset, []).append(value)
    out = []
    for dataset in sorted(by_dataset, key=_ORDER.index):
        v = np.array(by_dataset[dataset])
        ds = DATASET_BY_NAME[dataset]
        doubt = contradicted_by_dft(dataset, list(v), by_dataset.get("mp_gap", []))
        if doubt is not None:
            value = float(v[0])
            out.append(
                KnownValue(
                    ds.prop,
                    ds.label,
                    value,
                    value,
                    value,
                    len(v),
                    ds.unit,
                    ds.method,
                    dataset,
                    ds.source,
                    note=doubt,
                    doubtful=True,
                )
            )
            continue
        wrong = table_error(dataset, formula) if len(v) == 1 else None
        if wrong is not None and float(v[0]) == wrong.table_value:
            said = "a metal" if ds.prop == "is_metal" else f"{_fmt(wrong.table_value)} {ds.unit}"
            out.append(
                KnownValue(
                    ds.prop,
                    ds.label,
                    wrong.value,
                    wrong.value,
                    wrong.value,
                    1,
                    ds.unit,
                    ds.method,
                    dataset,
                    wrong.source,
                    note=f"corrected: the table lists {said}, a known error of that table "
                    f"({ds.source})",
                )
            )
            continue
        lowest = dataset in _LOWEST_IS_THE_VALUE
        out.append(
            KnownValue(
                ds.prop,
                ds.label,
                float(v.min() if lowest else np.median(v)),
                float(v.min()),
                float(v.max()),
                len(v),
                ds.unit,
                ds.method,
                dataset,
                ds.source,
                summary="lowest" if lowest else "median",
            )
        )
    return tuple(out)


def known_values(fractions: dict[str, float], n_nearest: int = 5) -> KnownReport:
    """The table values of this composition and of its nearest known neighbours."""
    return known_values_of([fractions], n_nearest)[0]


def known_values_of(
    compositions: list[dict[str, float]], n_nearest: int = 5, cancel: CancelToken | None = None
) -> list[KnownReport]:
    """`known_values` of each composition, over one connection; a composition listed twice is
    looked up once. With `n_nearest=0` no neighbours are searched (that search scores every
    compound sharing an element, about 0.35 s a formula; the lookup itself takes about 1 ms)."""
    db = open_store()
    seen: dict[str, KnownReport] = {}
    try:
        for fractions in compositions:
            if cancel is not None:
                cancel.raise_if_cancelled()
            key = composition_key(fractions)
            if key not in seen:
                hit = db.execute(
                    "SELECT id, formula FROM compounds WHERE key = ?", (key,)
                ).fetchone()
                values = (
                    _handbook_values(fractions)
                    + _polymorph_values(fractions)
                    + (_values(db, hit[0]) if hit else ())
                )
                formula = hit[1] if hit else ""
                nearest = (
                    _nearest(db, fractions, exclude=hit[0] if hit else None, n=n_nearest)
                    if n_nearest > 0
                    else ()
                )
                seen[key] = KnownReport(formula, values, nearest)
    finally:
        db.close()
    return [seen[composition_key(fractions)] for fractions in compositions]


def _handbook_values(fractions: dict[str, float]) -> tuple[KnownValue, ...]:
    """Room-temperature handbook gaps, first: for these compositions the experimental table has
    no row (`handbook_gaps`)."""
    return tuple(
        KnownValue(
            "band_gap",
            f"band gap ({g.structure})" if g.structure else "band gap",
            g.gap,
            g.gap,
            g.gap,
            1,
            "eV",
            handbook_gaps.METHOD,
            handbook_gaps.DATASET,
            g.source,
            note=handbook_gaps.NOTE,
        )
        for g in handbook_gaps.handbook_gaps_of(fractions)
    )


def _polymorph_values(fractions: dict[str, float]) -> tuple[KnownValue, ...]:
    """Experimental gaps of each named polymorph (diamond, graphite), first: the tables' rows
    for such a formula mix polymorphs without naming them."""
    return tuple(
        KnownValue(
            "band_gap",
            f"band gap ({p.name})",
            p.gap,
            p.gap,
            p.gap,
            1,
            "eV",
            "experiment",
            "polymorphs",
            p.source,
        )
        for p in polymorphs_of(fractions)
    )


def _nearest(db, fractions: dict[str, float], exclude: int | None, n: int):
    counts = {
        el: db.execute(
            "SELECT COUNT(*) FROM compound_elements WHERE element = ?", (el,)
        ).fetchone()[0]
        for el in fractions
    }
    present = [el for el in fractions if counts[el]]
    if not present:
        return ()
    # The rarest element narrows the candidates (Ti: 4k compounds, not O's 50k); its main
    # partner is kept too, so an alloy finds alloys of its base metal.
    rarest = min(present, key=lambda el: counts[el])
    main = max(fractions, key=lambda el: fractions[el])
    els = sorted({rarest, main} & set(present))
    marks = ",".join("?" * len(els))
    candidates = db.execute(
        "SELECT c.id, c.formula, c.fractions FROM compounds c WHERE c.id IN "
        f"(SELECT compound_id FROM compound_elements WHERE element IN ({marks}))",
        els,
    ).fetchall()
    scored = []
    for cid, formula, frac_json in candidates:
        if cid == exclude:
            continue
        other = json.loads(frac_json)
        shared = sum(min(f, other.get(el, 0.0)) for el, f in fractions.items())
        scored.append((2.0 - 2.0 * shared, formula, cid))
    scored.sort()
    return tuple(NearbyComposition(f, d, _values(db, cid)) for d, f, cid in scored[:n])
