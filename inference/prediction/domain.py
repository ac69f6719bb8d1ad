"""Is a composition inside what a composition model has seen? Reasons a person can check.

Three tests, each from the model's training rows (shipped as sparse atomic-fraction vectors in
`resources/models/composition_domain.npz`, thresholds in the model card):
- an element that no training composition contains;
- for alloy models (steels), an element fraction outside the training range;
- the L1 distance between atomic fractions to the nearest training composition (0 = the same
  composition, 2 = no element in common) above the 99th percentile of that distance for
  held-out compositions (a test fold against its training folds).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pathlib import Path

DOMAIN_FILE = "composition_domain.npz"


@dataclass(frozen=True)
class DomainCheck:
    in_domain: bool
    reasons: tuple[str, ...]
    nearest_distance: float | None  # None when the training set is not shipped

    def to_json(self) -> dict:
        out: dict = {"in_domain": self.in_domain, "reasons": list(self.reasons)}
        if self.nearest_distance is not None:
            out["nearest_training_distance"] = round(self.nearest_distance, 4)
        return out


@dataclass(frozen=True)
class TrainingSet:
    symbols: tuple[str, ...]
    columns: tuple[tuple[np.ndarray, np.ndarray], ...]  # per element: (rows, fractions)
    size: int

    def nearest_distance(self, fractions: dict[str, float]) -> float:
        index = {s: i for i, s in enumerate(self.symbols)}
        shared = np.zeros(self.size)
        for el, f in fractions.items():
            i = index.get(el)
            if i is None:
                continue
            rows, values = self.columns[i]
            shared[rows] += np.minimum(values, f)
        return float(2.0 - 2.0 * shared.max()) if self.size else 2.0


def training_set_from_rows(symbols: tuple[str, ...], rows: list[dict[str, float]]) -> TrainingSet:
    index = {s: i for i, s in enumerate(symbols)}
    cols: list[list[tuple[int, float]]] = [[] for _ in symbols]
    for r, fractions in enumerate(rows):
        for el, f in fractions.items():
            cols[index[el]].append((r, f))
    columns = tuple(
        (np.array([r for r, _ in c], dtype=np.int32), np.array([f for _, f in c], dtype=np.float64))
        for c in cols
    )
    return TrainingSet(symbols, columns, len(rows))


def save_training_sets(path: Path, symbols: tuple[str, ...], sets: dict[str, list]) -> None:
    """model id → list of fraction dicts, as CSR arrays (float16 fractions: ±0.05 % rounding)."""
    index = {s: i for i, s in enumerate(symbols)}
    arrays: dict[str, Any] = {"symbols": np.array(symbols)}
    for model_id, rows in sets.items():
        indptr, indices, data = [0], [], []
        for fractions in rows:
            for el, f in fractions.items():
                indices.append(index[el])
                data.append(f)
            indptr.append(len(indices))
        arrays[f"{model_id}__indptr"] = np.array(indptr, dtype=np.int32)
        arrays[f"{model_id}__indices"] = np.array(indices, dtype=np.uint8)
        arrays[f"{model_id}__data"] = np.array(data, dtype=np.float16)
    np.savez_compressed(path, **arrays)


@functools.cache
def load_training_set(path: Path, model_id: str) -> TrainingSet | None:
    if not path.exists():
        return None
    with np.load(path) as data:
        if f"{model_id}__indptr" not in data:
            return None
        symbols = tuple(str(s) for s in data["symbols"])
        indptr = data[f"{model_id}__indptr"]
        indices = data[f"{model_id}__indices"].astype(np.int64)
        values = data[f"{model_id}__data"].astype(np.float64)
    rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr))
    order = np.argsort(indices, kind="stable")
    counts = np.bincount(indices, minlength=len(symbols))
    starts = np.concatenate([[0], np.cumsum(counts)])
    columns = tuple(
        (rows[order[starts[i] : starts[i + 1]]], values[order[starts[i] : starts[i + 1]]])
        for i in range(len(symbols))
    )
    return TrainingSet(symbols, columns, len(indptr) - 1)


def check_domain(
    fractions: dict[str, float], domain: dict, training: TrainingSet | None
) -> DomainCheck:
    """`domain` is the card's `extra.domain` (elements, fraction_ranges, distance_threshold)."""
    reasons = []
    seen = set(domain.get("elements", ()))
    n = domain.get("training_rows", 0)
    unseen = [el for el in fractions if seen and el not in seen]
    if unseen:
        reasons.append(
            f"{', '.join(unseen)} {'is' if len(unseen) == 1 else 'are'} in none of the "
            f"{n} training compositions"
        )
    for el, (low, high) in domain.get("fraction_ranges", {}).items():
        f = fractions.get(el, 0.0)
        # Trace elements may be absent; a major one below its range, or any above it, is out.
        if f < low - 0.005 or f > 1.05 * high + 0.0005:
            reasons.append(
                f"{el} {100 * f:.3g} at% is outside the training range "
                f"({100 * low:.3g}–{100 * high:.3g} at%)"
            )
    distance = training.nearest_distance(fractions) if training is not None else None
    threshold = domain.get("distance_threshold")
    if distance is not None and threshold is not None and distance > threshold and not unseen:
        reasons.append(
            f"the nearest training composition is {distance:.2f} away in atomic fractions "
            f"(99 % of held-out compositions are within {threshold:.2f})"
        )
    return DomainCheck(not reasons, tuple(reasons), distance)
