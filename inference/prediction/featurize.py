"""Composition → feature vector: fraction-weighted element descriptors (mat2vec + Magpie).

mat2vec (200-d word embeddings) gives the weighted mean; Magpie's 22 properties give weighted
mean, mean absolute deviation, min and max. The tables come from crabnet's data files at
training time and ship as `resources/models/composition_elements.npz` for run time.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.errors import MatLensError

TABLES_FILE = "composition_elements.npz"
_FORMULA_OK = re.compile(r"^[A-Za-z0-9().\[\]{}\s·*-]+$")


@dataclass(frozen=True)
class ElementTables:
    symbols: tuple[str, ...]
    mat2vec: np.ndarray  # [E, 200]; NaN rows where the element is missing
    magpie: np.ndarray  # [E, 22]

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.symbols)}

    @property
    def n_features(self) -> int:
        return self.mat2vec.shape[1] + 4 * self.magpie.shape[1]


def load_tables(path: Path | None = None) -> ElementTables:
    if path is None:
        from inference.runtime.paths import resources_dir

        path = resources_dir() / "models" / TABLES_FILE
    data = np.load(path)
    return ElementTables(tuple(str(s) for s in data["symbols"]), data["mat2vec"], data["magpie"])


@functools.cache
def default_tables() -> ElementTables:
    return load_tables()


def parse_formula(text: str) -> dict[str, float]:
    """Element → atomic fraction, or a one-line error for a malformed formula."""
    from pymatgen.core import Composition

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
    return {str(el): float(f) for el, f in comp.fractional_composition.get_el_amt_dict().items()}


def featurize(fractions: dict[str, float], tables: ElementTables) -> np.ndarray:
    """The feature vector of one composition (raises for elements without descriptors)."""
    idx = []
    for el in fractions:
        i = tables.index.get(el)
        if i is None or np.isnan(tables.mat2vec[i]).any() or np.isnan(tables.magpie[i]).any():
            raise MatLensError(
                f"no descriptors for element {el}; the composition models cover H–Bk"
            )
        idx.append(i)
    w = np.array(list(fractions.values()), dtype=np.float64)
    w = w / w.sum()
    m2v = tables.mat2vec[idx].astype(np.float64)
    mag = tables.magpie[idx].astype(np.float64)
    mean = w @ mag
    dev = w @ np.abs(mag - mean)
    return np.concatenate([w @ m2v, mean, dev, mag.min(axis=0), mag.max(axis=0)]).astype(np.float32)


def featurize_many(formulas: list[str], tables: ElementTables) -> np.ndarray:
    return np.stack([featurize(parse_formula(f), tables) for f in formulas])
