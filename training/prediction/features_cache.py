"""Featurise crabnet's tables once and keep the matrices on disk (development time only).

The 5 folds re-split the same rows, and mp_gap alone has 106k formulas (about a minute of
pymatgen parsing), so every training and selection run reads the cached matrix instead.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from inference.prediction.featurize import BLOCKS, default_tables, featurize_many


def cache_folder() -> Path:
    path = Path(os.environ.get("MATLENS_TRAINING_CACHE", Path.home() / ".cache" / "matlens-train"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def features_for(formulas: list[str], blocks: tuple[str, ...] = BLOCKS) -> np.ndarray:
    """Rows of features for `formulas` (distinct ones featurised once, kept on disk)."""
    distinct = sorted(set(formulas))
    key = hashlib.sha1(("|".join(blocks) + "\n" + "\n".join(distinct)).encode()).hexdigest()[:16]
    path = cache_folder() / f"features_{key}.npy"
    if path.exists():
        matrix = np.load(path)
    else:
        matrix = featurize_many(distinct, default_tables(), blocks)
        np.save(path, matrix)
    row = {f: i for i, f in enumerate(distinct)}
    return matrix[[row[f] for f in formulas]]
