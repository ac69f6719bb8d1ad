"""The classic recipe for segmentation by example (ilastik, Fiji's Trainable Weka Segmentation):
a random forest on full-resolution filter features, trained on 5×5 patches around the clicks.

Features of the grey image (mean of the channels) at σ = 1, 2, 4, 8 px: Gaussian, gradient
magnitude, Laplacian of Gaussian and local standard deviation (in a Gaussian window), 16 in all.
Every pixel of a 5×5 patch centred on a click is a training pixel of the click's class; a
100-tree forest (scikit-learn defaults otherwise) then predicts every pixel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage as ndi

if TYPE_CHECKING:
    from collections.abc import Sequence

SIGMAS = (1.0, 2.0, 4.0, 8.0)
PATCH = 5
TREES = 100


def filter_stack(grey: np.ndarray, sigmas: Sequence[float] = SIGMAS) -> np.ndarray:
    """float32 [h, w, 4·len(sigmas)]: Gaussian, gradient magnitude, LoG, local std per σ."""
    image = grey.astype(np.float32)
    planes = []
    for sigma in sigmas:
        smooth = ndi.gaussian_filter(image, sigma)
        square = ndi.gaussian_filter(image * image, sigma)
        planes += [
            smooth,
            ndi.gaussian_gradient_magnitude(image, sigma),
            ndi.gaussian_laplace(image, sigma),
            np.sqrt(np.maximum(square - smooth * smooth, 0.0)),
        ]
    return np.stack(planes, axis=-1)


def patch_pixels(
    points: Sequence[Sequence[tuple[float, float]]], shape: tuple[int, int], size: int = PATCH
) -> tuple[np.ndarray, np.ndarray]:
    """Flat pixel indices of the size×size patches around each class's clicks, and the class
    numbers (0-based, the index in `points`). A pixel in two classes' patches keeps both."""
    h, w = shape
    half = size // 2
    dy, dx = (a.ravel() for a in np.mgrid[-half : half + 1, -half : half + 1])
    index, target = [], []
    for k, pts in enumerate(points):
        for x, y in pts:
            rows = np.clip(int(y) + dy, 0, h - 1)
            cols = np.clip(int(x) + dx, 0, w - 1)
            flat = np.unique(rows * w + cols)
            index.append(flat)
            target.append(np.full(flat.size, k))
    return np.concatenate(index), np.concatenate(target)


def filter_forest(
    grey: np.ndarray,
    points: Sequence[Sequence[tuple[float, float]]],
    filters: np.ndarray | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> np.ndarray:
    """int16 label image (0-based class numbers, the index in `points`; classes without clicks
    never appear). `filters` may be passed when already computed (`filter_stack(grey)`)."""
    from sklearn.ensemble import RandomForestClassifier

    if filters is None:
        filters = filter_stack(grey)
    flat = filters.reshape(-1, filters.shape[-1])
    index, target = patch_pixels(points, grey.shape)
    forest = RandomForestClassifier(TREES, n_jobs=threads, random_state=seed)
    forest.fit(flat[index], target)
    labels = np.empty(flat.shape[0], np.int16)
    step = 1 << 18
    for start in range(0, flat.shape[0], step):
        labels[start : start + step] = forest.predict(flat[start : start + step])
    return labels.reshape(grey.shape)
