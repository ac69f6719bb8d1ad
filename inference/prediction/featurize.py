"""Composition → feature vector: fraction-weighted element descriptors (mat2vec + Magpie).

mat2vec (200-d word embeddings) gives the weighted mean; Magpie's 22 properties give weighted
mean, mean absolute deviation, min and max; the "fractions" block is the raw 118-element
atomic-fraction vector (ElemNet-style), which lets a network learn per-element corrections that
smooth descriptors average away. The "oliynyk" block gives Oliynyk's 44 element properties
(radii, electronegativities, valence-shell counts, ...) as weighted mean, mean absolute
deviation, min and max; that table has gaps, so each statistic is over the elements that have
the property, NaN where none has it (only the boosted trees read it: they route NaN). A model
card names the blocks its network was trained on (`extra.features`), so older models keep their
288-wide input; new blocks go last, so a model's input is a prefix of a wider one. The tables
come from crabnet's data files at training time and ship as
`resources/models/composition_elements.npz`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError

if TYPE_CHECKING:
    from pathlib import Path

TABLES_FILE = "composition_elements.npz"
BASE_BLOCKS: tuple[str, ...] = ("mat2vec", "magpie")  # what models without `features` used
BLOCKS = ("mat2vec", "magpie", "fractions")
TREE_BLOCKS = (*BLOCKS, "oliynyk")  # the band-gap trees' input
ALL_BLOCKS = TREE_BLOCKS
_FORMULA_OK = re.compile(r"^[A-Za-z0-9().\[\]{}\s·*-]+$")


@dataclass(frozen=True)
class ElementTables:
    symbols: tuple[str, ...]
    mat2vec: np.ndarray  # [E, 200]; NaN rows where the element is missing
    magpie: np.ndarray  # [E, 22]
    oliynyk: np.ndarray | None = None  # [E, 44]; NaN where an element lacks a property

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.symbols)}

    @property
    def n_features(self) -> int:
        return self.width(BASE_BLOCKS)

    def width(self, blocks: tuple[str, ...]) -> int:
        sizes = {
            "mat2vec": self.mat2vec.shape[1],
            "magpie": 4 * self.magpie.shape[1],
            "fractions": len(self.symbols),
            "oliynyk": 4 * (self.oliynyk.shape[1] if self.oliynyk is not None else 0),
        }
        return sum(sizes[b] for b in blocks)


def load_tables(path: Path | None = None) -> ElementTables:
    if path is None:
        from inference.runtime.paths import resources_dir

        path = resources_dir() / "models" / TABLES_FILE
    data = np.load(path)
    oliynyk = data["oliynyk"] if "oliynyk" in data.files else None
    return ElementTables(
        tuple(str(s) for s in data["symbols"]), data["mat2vec"], data["magpie"], oliynyk
    )


@functools.cache
def default_tables() -> ElementTables:
    return load_tables()


def parse_formula(text: str) -> dict[str, float]:
    """Element → atomic fraction, or a one-line error for a malformed formula."""
    from pymatgen.core import Composition, Element

    text = text.strip()
    if not text or not _FORMULA_OK.match(text):
        raise MatLensError(f"'{text}' is not a chemical formula (e.g. Fe2O3, Al0.5CoCrFeNi)")
    try:
        comp = Composition(text)
    except (ValueError, KeyError, AttributeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MatLensError(f"'{text}' is not a valid formula: {first}") from None
    if comp.num_atoms <= 0:
        raise MatLensError(f"'{text}' has no atoms")
    symbols = [getattr(el, "symbol", str(el)) for el in comp.elements]
    unknown = [s for s in symbols if not Element.is_valid_symbol(s)]
    if unknown:
        raise MatLensError(f"'{text}': {', '.join(unknown)} is not a chemical element")
    return {str(el): float(f) for el, f in comp.fractional_composition.get_el_amt_dict().items()}


def covered_rows(fractions: dict[str, float], tables: ElementTables) -> list[int]:
    """Each element's row in the descriptor tables; one line for an element they do not cover
    (past Bk), so that a batch can refuse that composition alone."""
    idx = []
    for el in fractions:
        i = tables.index.get(el)
        if i is None or np.isnan(tables.mat2vec[i]).any() or np.isnan(tables.magpie[i]).any():
            raise MatLensError(
                f"no descriptors for element {el}; the composition models cover H–Bk"
            )
        idx.append(i)
    return idx


def featurize(
    fractions: dict[str, float], tables: ElementTables, blocks: tuple[str, ...] = BASE_BLOCKS
) -> np.ndarray:
    """The feature vector of one composition (raises for elements without descriptors)."""
    unknown = set(blocks) - set(ALL_BLOCKS)
    if unknown:
        raise ValueError(f"unknown feature blocks {sorted(unknown)}; known: {ALL_BLOCKS}")
    idx = covered_rows(fractions, tables)
    w = np.array(list(fractions.values()), dtype=np.float64)
    w = w / w.sum()
    m2v = tables.mat2vec[idx].astype(np.float64)
    mag = tables.magpie[idx].astype(np.float64)
    mean = w @ mag
    parts = {
        "mat2vec": lambda: w @ m2v,
        "magpie": lambda: np.concatenate(
            [mean, w @ np.abs(mag - mean), mag.min(axis=0), mag.max(axis=0)]
        ),
        "fractions": lambda: np.bincount(idx, weights=w, minlength=len(tables.symbols)),
        "oliynyk": lambda: _nan_statistics(tables.oliynyk, idx, w),
    }
    return np.concatenate([parts[b]() for b in blocks]).astype(np.float32)


def _nan_statistics(table: np.ndarray | None, idx: list[int], w: np.ndarray) -> np.ndarray:
    """Weighted mean, mean absolute deviation, min and max per column, over the elements that
    have a value (weights renormalised); NaN where none has."""
    if table is None:
        raise MatLensError("the element tables lack the Oliynyk block: run `make models`")
    values = table[idx].astype(np.float64)
    present = ~np.isnan(values)
    weights = np.where(present, w[:, None], 0.0)
    total = weights.sum(axis=0)
    some = total > 0
    filled = np.where(present, values, 0.0)
    mean = np.full(values.shape[1], np.nan)
    mean[some] = (weights * filled).sum(axis=0)[some] / total[some]
    dev = np.full(values.shape[1], np.nan)
    dev[some] = (weights * np.abs(filled - np.nan_to_num(mean))).sum(axis=0)[some] / total[some]
    low = np.where(present, values, np.inf).min(axis=0)
    high = np.where(present, values, -np.inf).max(axis=0)
    low[~some] = np.nan
    high[~some] = np.nan
    return np.concatenate([mean, dev, low, high])


def featurize_many(
    formulas: list[str], tables: ElementTables, blocks: tuple[str, ...] = BASE_BLOCKS
) -> np.ndarray:
    return np.stack([featurize(parse_formula(f), tables, blocks) for f in formulas])
