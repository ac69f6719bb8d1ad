"""Phase segmentation by example: a few clicks or strokes per class → every pixel classified.

Like ilastik or Fiji's Trainable Weka Segmentation, but on SAM features. Many microstructure
phases are textures, not objects, and one click cannot outline them; a classifier trained on the
clicked pixels can. Two steps, so the GUI can update the map live:

    features = compute_features(model, rgb)          # once per image (~1 s on 2 cores)
    result = classify(features, examples, params)    # after every new example (~0.2-0.3 s)

`classify`, step by step, with the macro IoU each step gave in `benchmarks/phases_by_example.py`
(NASA MicroNet, 3 clicks per class, 5 seeds; Super1 / EBC1):
1. A random forest on SAM PCA + filter features (`features.py`), trained on a disk of `radius`
   px around each click and on the painted strokes: 0.512 / 0.352 (filters alone 0.489 / 0.342).
2. Each click also grows into SAM's smallest mask for it (`phase_examples.py`): 0.582 / 0.382.
3. The forest's class probabilities are averaged within superpixels, so boundaries follow image
   edges and the rings that per-pixel classifiers leave around objects go: 0.614 / 0.390.
   Probabilities are then upsampled bilinearly to the image and the most likely class wins.
The baseline, a 100-tree forest on the same filters at full resolution, scored 0.489 / 0.313.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import ndimage as ndi

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation.annotations import AnnotatedObject, objects_from_labels
from inference.segmentation.features import PhaseFeatures, compute_features, lerp
from inference.segmentation.phase_examples import (
    PhaseExample,
    merge_examples,
    read_examples,
    training_pixels,
)
from inference.segmentation.sam import SamModel

__all__ = [
    "PhaseExample",
    "PhaseParams",
    "PhaseResult",
    "classify",
    "read_examples",
    "segment_phases",
    "to_objects",
]

_PREDICT_CHUNK = 1 << 16  # grid pixels per predict_proba call (cancel is checked between)
_ROW_BLOCK = 1 << 21  # image pixels per block when upsampling probabilities


@dataclass(frozen=True)
class PhaseParams:
    """How examples become a phase map. The defaults are the benchmark's best."""

    radius: float = 2.0  # image px around each clicked point taken as examples
    sam_examples: bool = True  # grow each click into SAM's mask for it (step 2)
    mask_samples: int = 100  # training pixels per class drawn from those masks
    snap: bool = True  # average within superpixels (step 3)
    trees: int = 32  # random-forest size: 64 scored the same and predicts at half the speed
    seed: int = 0


@dataclass(frozen=True, eq=False)
class PhaseResult:
    """labels: uint8 image, value k+1 is `classes[k]` (every pixel is classified, so no 0).
    probability: float32 image, the winning class's probability (low where it hesitates)."""

    labels: np.ndarray
    classes: tuple[str, ...]
    probability: np.ndarray | None = None

    def fractions(self) -> dict[str, float]:
        """Area fraction of each class, in class order."""
        counts = np.bincount(self.labels.ravel(), minlength=len(self.classes) + 1)
        total = max(int(self.labels.size), 1)
        return {name: int(counts[k + 1]) / total for k, name in enumerate(self.classes)}


# --- classification ----------------------------------------------------------------------------


def classify(
    features: PhaseFeatures,
    examples: Sequence[PhaseExample],
    params: PhaseParams = PhaseParams(),
    cancel: CancelToken | None = None,
) -> PhaseResult:
    """The per-update step: train on the examples, classify every pixel. Cheap enough to run
    after each click (the once-per-image work is in `compute_features`)."""
    from sklearn.ensemble import RandomForestClassifier

    from inference.runtime.sessions import cpu_threads

    merged = merge_examples(examples, features.image_shape)
    mask_samples = params.mask_samples if params.sam_examples else 0
    index, target = training_pixels(
        features, merged, params.radius, mask_samples, params.seed, cancel
    )
    flat = features.values.reshape(-1, features.values.shape[-1])
    forest = RandomForestClassifier(
        n_estimators=params.trees, n_jobs=cpu_threads(), random_state=params.seed
    ).fit(flat[index], target)
    probability = np.zeros((flat.shape[0], len(merged)), np.float32)
    predict = _predicted_pixels(features) if params.snap else np.arange(flat.shape[0])
    for start in range(0, predict.size, _PREDICT_CHUNK):
        if cancel is not None:
            cancel.raise_if_cancelled()
        chunk = predict[start : start + _PREDICT_CHUNK]
        probability[np.ix_(chunk, forest.classes_)] = forest.predict_proba(flat[chunk])
    grid = probability.reshape(*features.grid_shape, len(merged))
    if params.snap:
        grid = _region_mean(grid, features.regions, predict)
    if cancel is not None:
        cancel.raise_if_cancelled()
    labels, confidence = _upsample_argmax(grid, features.stride, features.image_shape)
    return PhaseResult(labels, tuple(c.name for c in merged), confidence)


def _predicted_pixels(features: PhaseFeatures) -> np.ndarray:
    """With snapping, only every other grid pixel in each direction needs a prediction (each
    region's mean comes from its samples), plus one pixel of each region so none is left out."""
    gh, gw = features.grid_shape
    lattice = (np.arange(0, gh, 2)[:, None] * gw + np.arange(0, gw, 2)[None, :]).ravel()
    _, first = np.unique(features.regions.ravel(), return_index=True)
    return np.union1d(lattice, first)


def _region_mean(grid: np.ndarray, regions: np.ndarray, sampled: np.ndarray) -> np.ndarray:
    """Each pixel gets the mean class probability of the sampled pixels of its region."""
    ids = regions.ravel()[sampled]
    n = int(regions.max()) + 1
    count = np.bincount(ids, minlength=n).astype(np.float32)
    values = grid.reshape(-1, grid.shape[-1])[sampled]
    means = np.stack(
        [np.bincount(ids, values[:, k], minlength=n) for k in range(grid.shape[-1])], axis=-1
    ).astype(np.float32)
    means /= np.maximum(count, 1.0)[:, None]
    return means[regions]


def _upsample_argmax(
    grid: np.ndarray, stride: int, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear class probabilities at every image pixel → (uint8 labels k+1, confidence),
    a block of rows at a time so an image-sized probability stack never exists."""
    if stride == 1:
        return (grid.argmax(axis=-1) + 1).astype(np.uint8), grid.max(axis=-1)
    h, w = shape
    labels = np.empty(shape, np.uint8)
    confidence = np.empty(shape, np.float32)
    cols = (np.arange(w) + 0.5) / stride - 0.5
    step = max(1, _ROW_BLOCK // (w * grid.shape[-1]))
    for r0 in range(0, h, step):
        rows = (np.arange(r0, min(h, r0 + step)) + 0.5) / stride - 0.5
        block = lerp(lerp(grid, rows, axis=0), cols, axis=1)
        labels[r0 : r0 + rows.size] = block.argmax(axis=-1) + 1
        confidence[r0 : r0 + rows.size] = block.max(axis=-1)
    return labels, confidence


def segment_phases(
    model: SamModel | None,
    rgb: np.ndarray,
    examples: Sequence[PhaseExample],
    params: PhaseParams = PhaseParams(),
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PhaseResult:
    """Both steps at once, for the CLI and batch runs."""
    merge_examples(examples, tuple(np.shape(rgb)[:2]))  # bad examples fail before the model runs
    features = compute_features(model, rgb, None, lambda f, m="": progress(0.8 * f, m), cancel)
    progress(0.8, "classifying pixels")
    result = classify(features, examples, params, cancel)
    progress(1.0, "phase map ready")
    return result


def to_objects(
    result: PhaseResult,
    first_id: int,
    per: Literal["class", "region"] = "class",
    min_area: int = 1,
) -> list[AnnotatedObject]:
    """The phase map as editable objects named after the classes. `per="class"` (default):
    one object per class holding all its pixels, so phase fractions and class edits are one
    object each. `per="region"`: one object per 8-connected region of at least `min_area`
    pixels, for counting and sizing particles. Classes without pixels give no object."""
    objects: list[AnnotatedObject] = []
    eight = np.ones((3, 3), bool)
    for k, name in enumerate(result.classes, start=1):
        mask = result.labels == k
        if not mask.any():
            continue
        if per == "class":
            objects.append(
                AnnotatedObject.from_full_mask(mask, first_id + len(objects), name, source="phases")
            )
            continue
        regions, count = ndi.label(mask, eight)
        if min_area > 1 and count:
            small = np.bincount(regions.ravel(), minlength=count + 1) < min_area
            small[0] = False
            regions[small[regions]] = 0
            regions, _ = ndi.label(regions > 0, eight)
        objects += objects_from_labels(regions, name, first_id + len(objects), source="phases")
    return objects
