"""Phase segmentation by example: a few clicks or strokes per class → every pixel classified.

Like ilastik or Fiji's Trainable Weka Segmentation, but on SAM features. Many microstructure
phases are textures, not objects, and one click cannot outline them; a classifier trained on the
clicked pixels can. Two steps, so the GUI can update the map live:

    features = compute_features(model, rgb)          # once per image (~1 s on 2 cores)
    result = classify(features, examples, params)    # after every new example (~0.2-0.3 s)

`classify`, step by step, with the macro IoU each step gave on the val splits in
`benchmarks/phases_by_example.py` (NASA MicroNet, 3 clicks per class at the interior-most
point of each class's 3 largest regions; Super1 / EBC1; the classic filter forest 0.355 / 0.317):
1. A random forest on SAM PCA + filter features (`features.py`), trained on a disk of `radius`
   px around each click and on the painted strokes: 0.384 / 0.305.
2. Each click also grows into SAM's smallest mask for it (`phase_examples.py`): 0.507 / 0.505.
   This is what beats the classic recipe: a click on a precipitate teaches the precipitate.
3. The forest's class probabilities are averaged within superpixels, so boundaries follow image
   edges and the rings that per-pixel classifiers leave around objects go: 0.525 / 0.533.
   Probabilities are then upsampled bilinearly to the image and the most likely class wins.
4. Classes weigh equally in the forest, however many pixels their examples hold: 0.533 / 0.543.
What did not help: the working grid at full resolution up to 1024 px instead of 512 (EBC1 train
0.531 either way with superpixels scaled to match, at 3× the feature time), and choosing the
pipeline per image by cross-validation on the clicks (`PhaseParams.choose`; val 0.536 / 0.455):
left-out clicks sit deep inside their regions, where even the classic recipe is right, so the
cross-validation cannot see the boundary and false-positive errors that separate pipelines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

import numpy as np

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation.annotations import AnnotatedObject, objects_from_labels
from inference.segmentation.features import PhaseFeatures, compute_features, lerp
from inference.segmentation.phase_examples import (
    ExamplePixels,
    PhaseExample,
    example_pixels,
    merge_examples,
    read_examples,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.segmentation.sam import SamModel

__all__ = [
    "PIPELINES",
    "PhaseExample",
    "PhaseParams",
    "Pipeline",
    "PhaseResult",
    "classify",
    "read_examples",
    "segment_phases",
    "to_objects",
]

_PREDICT_CHUNK = 1 << 16  # grid pixels per predict_proba call (cancel is checked between)
_ROW_BLOCK = 1 << 21  # image pixels per block when upsampling probabilities


@dataclass(frozen=True)
class Pipeline:
    """One way to turn examples into a map: which features the forest sees (their name prefix:
    "" all, "filter" the classic filters, "sam" SAM's), whether clicks grow into SAM masks,
    and whether probabilities are averaged within superpixels."""

    name: str
    features: str = ""
    sam_examples: bool = True
    snap: bool = True


# The candidates that cross-validation chooses among, in order of preference on a tie. The last
# is the classic recipe (filters, clicks only, every pixel on its own), so a user's examples can
# always fall back to what ilastik or Trainable Weka would give.
PIPELINES = (
    Pipeline("SAM + filters"),
    Pipeline("filters, SAM-grown clicks", features="filter"),
    Pipeline("classic filters", features="filter", sam_examples=False, snap=False),
)


@dataclass(frozen=True)
class PhaseParams:
    """How examples become a phase map. The defaults are the benchmark's best.

    `features`, `sam_examples` and `snap` define the pipeline. With `choose`, each update
    instead picks one of `PIPELINES` by cross-validation on the user's own clicks (off by
    default: on the train splits it chose worse than the fixed default, see the module
    docstring)."""

    radius: float = 2.0  # image px around each clicked point taken as examples
    sam_examples: bool = True  # grow each click into SAM's mask for it (step 2)
    mask_samples: int = 100  # training pixels per class drawn from those masks
    snap: bool = True  # average within superpixels (step 3)
    trees: int = 32  # random-forest size: 64 scored the same and predicts at half the speed
    seed: int = 0
    features: str = ""  # name prefix of the features used without `choose`
    choose: bool = False  # pick the pipeline per image by cross-validation on the clicks
    balance: bool = True  # weigh classes equally, however many pixels their examples hold
    cv_trees: int = 8  # forest size inside the cross-validation

    def pipelines(self) -> tuple[Pipeline, ...]:
        if self.choose:
            return PIPELINES
        return (Pipeline("as set", self.features, self.sam_examples, self.snap),)


@dataclass(frozen=True, eq=False)
class PhaseResult:
    """labels: uint8 image, value k+1 is `classes[k]`; every pixel is classified, except a
    microscope's data bar, which `workflows.without_data_bar` sets to 0 (no phase).
    probability: float32 image, the winning class's probability (low where it hesitates)."""

    labels: np.ndarray
    classes: tuple[str, ...]
    probability: np.ndarray | None = None
    pipeline: str = ""  # the `Pipeline.name` that made it
    scores: tuple[tuple[str, float], ...] = ()  # cross-validated score of each candidate
    examples_note: str = ""  # one line about examples left out of training (a data bar's)

    def fractions(self) -> dict[str, float]:
        """Area fraction of each class, in class order, over the classified pixels: the
        specimen, when a data bar was left out."""
        counts = np.bincount(self.labels.ravel(), minlength=len(self.classes) + 1)
        total = max(int(self.labels.size - counts[0]), 1)
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
    merged = merge_examples(examples, features.image_shape)
    candidates = _distinct(features, params.pipelines())
    grows = any(p.sam_examples for p in candidates)
    pixels = example_pixels(
        features, merged, params.radius, params.mask_samples if grows else 0, params.seed, cancel
    )
    scores: tuple[tuple[str, float], ...] = ()
    chosen = candidates[0]
    if len(candidates) > 1:
        scores = cross_validate(features, pixels, len(merged), candidates, params, cancel)
        chosen = candidates[int(np.argmax([score for _, score in scores]))]
    forest = _forest(features, pixels, chosen, params, params.trees)
    columns = _columns(features, chosen.features)
    flat = features.values.reshape(-1, features.values.shape[-1])
    probability = np.zeros((flat.shape[0], len(merged)), np.float32)
    predict = _predicted_pixels(features) if chosen.snap else np.arange(flat.shape[0])
    for start in range(0, predict.size, _PREDICT_CHUNK):
        if cancel is not None:
            cancel.raise_if_cancelled()
        chunk = predict[start : start + _PREDICT_CHUNK]
        probability[np.ix_(chunk, forest.classes_)] = forest.predict_proba(flat[chunk][:, columns])
    grid = probability.reshape(*features.grid_shape, len(merged))
    if chosen.snap:
        grid = _region_mean(grid, features.regions, predict)
    if cancel is not None:
        cancel.raise_if_cancelled()
    labels, confidence = _upsample_argmax(grid, features.stride, features.image_shape)
    return PhaseResult(labels, tuple(c.name for c in merged), confidence, chosen.name, scores)


def _columns(features: PhaseFeatures, prefix: str) -> np.ndarray:
    return np.array([i for i, n in enumerate(features.names) if n.startswith(prefix)], np.intp)


def _distinct(features: PhaseFeatures, pipelines: tuple[Pipeline, ...]) -> tuple[Pipeline, ...]:
    """The pipelines that differ on these features: without a SAM embedding, "all features"
    are the filters and no click grows into a mask."""
    out, seen = [], set()
    has_sam = features.model is not None and features.embedding is not None
    for p in pipelines:
        columns = tuple(_columns(features, p.features))
        if not columns:
            continue
        key = (columns, p.sam_examples and has_sam, p.snap)
        if key not in seen:
            seen.add(key)
            out.append(p)
    if not out:
        raise ValueError(f"no feature is named like {pipelines[0].features!r}")
    return tuple(out)


def _forest(
    features: PhaseFeatures,
    pixels: ExamplePixels,
    pipeline: Pipeline,
    params: PhaseParams,
    trees: int,
    keep: np.ndarray | None = None,
):
    """A random forest trained on the pipeline's training pixels (those in `keep`)."""
    from sklearn.ensemble import RandomForestClassifier

    from inference.runtime.sessions import cpu_threads

    use = np.ones(pixels.index.size, bool) if keep is None else keep.copy()
    if not pipeline.sam_examples:
        use &= ~pixels.grown
    index, target = pixels.select(use)
    flat = features.values.reshape(-1, features.values.shape[-1])
    return RandomForestClassifier(
        n_estimators=trees,
        n_jobs=cpu_threads(),
        random_state=params.seed,
        class_weight="balanced" if params.balance else None,
    ).fit(flat[index][:, _columns(features, pipeline.features)], target)


CV_FOLDS = 3  # click j of each class is left out in fold j mod CV_FOLDS
CV_MARGIN = 8.0  # grid px around a left-out click from which no training pixel is taken


def cross_validate(
    features: PhaseFeatures,
    pixels: ExamplePixels,
    n_classes: int,
    pipelines: tuple[Pipeline, ...],
    params: PhaseParams = PhaseParams(),
    cancel: CancelToken | None = None,
) -> tuple[tuple[str, float], ...]:
    """Each pipeline's balanced accuracy on clicks it did not learn from: fold j leaves out
    click j (mod CV_FOLDS) of every class with two clicks or more, with everything that click
    taught (its disk and SAM-mask pixels) and every training pixel in its SAM mask or within
    CV_MARGIN grid px of it; the left-out clicks' disks are then predicted as the pipeline
    would (averaged within their superpixels when it snaps). A pipeline's score is the mean
    over classes of the share of their left-out pixels it got right. With too few clicks to
    leave one out, every pipeline scores 0 and the first is used."""
    clicks = pixels.clicks
    order = np.zeros(len(clicks), np.intp)
    counts = np.zeros(n_classes, np.intp)
    for i, (_, _, k) in enumerate(clicks):
        order[i] = counts[k]
        counts[k] += 1
    testable = counts[clicks[:, 2]] >= 2 if len(clicks) else np.zeros(0, bool)
    folds = min(CV_FOLDS, int(counts.max(initial=0)))
    if not testable.any() or folds < 2:
        return tuple((p.name, 0.0) for p in pipelines)
    gh, gw = features.grid_shape
    rows, cols = np.divmod(pixels.index, gw)
    hits = np.zeros((len(pipelines), n_classes))
    tried = np.zeros(n_classes)
    for fold in range(folds):
        held = np.flatnonzero(testable & (order % folds == fold))
        if held.size == 0:
            continue
        out = np.isin(pixels.click, held)
        for c in held:
            r, q, _ = clicks[c]
            out |= (rows - r) ** 2 + (cols - q) ** 2 <= CV_MARGIN**2
            if pixels.masks[c] is not None:
                out |= pixels.masks[c].ravel()[pixels.index]
        test = np.isin(pixels.click, held) & ~pixels.grown
        index, target = pixels.select(test)
        if index.size == 0:
            continue
        tried += np.bincount(target, minlength=n_classes)
        for j, pipeline in enumerate(pipelines):
            if cancel is not None:
                cancel.raise_if_cancelled()
            keep = ~out
            if not pipeline.sam_examples:
                keep &= ~pixels.grown
            if np.unique(pixels.target[keep]).size < 2:
                continue
            forest = _forest(features, pixels, pipeline, params, params.cv_trees, keep)
            guess = _predict_at(features, forest, pipeline, index, n_classes)
            hits[j] += np.bincount(target[guess == target], minlength=n_classes)
    seen = tried > 0
    scores = (hits[:, seen] / tried[seen]).mean(axis=1)
    return tuple((p.name, float(v)) for p, v in zip(pipelines, scores, strict=True))


def _predict_at(
    features: PhaseFeatures, forest, pipeline: Pipeline, index: np.ndarray, n_classes: int
) -> np.ndarray:
    """The class the pipeline gives grid pixels `index`: the forest's, or with snapping the
    most likely class of the mean over their superpixels' predicted pixels."""
    flat = features.values.reshape(-1, features.values.shape[-1])
    columns = _columns(features, pipeline.features)
    if not pipeline.snap:
        sample, where = index, np.arange(index.size)
    else:
        regions, where = np.unique(features.regions.ravel()[index], return_inverse=True)
        members = [features.region_samples(r) for r in regions]
        sample = np.concatenate(members)
        owner = np.repeat(np.arange(regions.size), [m.size for m in members])
    probability = np.zeros((sample.size, n_classes), np.float32)
    probability[:, forest.classes_] = forest.predict_proba(flat[sample][:, columns])
    if pipeline.snap:
        means = np.stack(
            [
                np.bincount(owner, probability[:, k], minlength=regions.size)
                for k in range(n_classes)
            ],
            axis=1,
        )
        return means.argmax(axis=1)[where]
    return probability.argmax(axis=1)[where]


def _predicted_pixels(features: PhaseFeatures) -> np.ndarray:
    """With snapping, only some grid pixels need a prediction (see `snap_samples`)."""
    return features.snap_samples


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
    a block of rows at a time so an image-sized probability stack never exists. An image
    pixel's four bilinear neighbours lie within the 3×3 grid pixels around the one it falls
    in; where those agree on the winner (most of the image), that class wins there too
    (bilinear weights are non-negative), so every class's probability is interpolated only
    near the grid's class boundaries."""
    winner = grid.argmax(axis=-1)
    best = grid.max(axis=-1)
    if stride == 1:
        return (winner + 1).astype(np.uint8), best
    gh, gw = winner.shape
    padded = np.pad(winner, 1, mode="edge")
    boundary = np.zeros(winner.shape, bool)
    for dy in range(3):
        for dx in range(3):
            boundary |= padded[dy : dy + gh, dx : dx + gw] != winner
    h, w = shape
    labels = np.empty(shape, np.uint8)
    confidence = np.empty(shape, np.float32)
    cols = (np.arange(w) + 0.5) / stride - 0.5
    step = max(stride, _ROW_BLOCK // w // stride * stride)
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        g0, g1 = y0 // stride, -(-y1 // stride)
        near = np.repeat(np.repeat(winner[g0:g1], stride, 0), stride, 1)[: y1 - y0, :w]
        labels[y0:y1] = near + 1
        rows = (np.arange(y0, y1) + 0.5) / stride - 0.5
        confidence[y0:y1] = lerp(lerp(best, rows, axis=0), cols, axis=1)
        edge = np.repeat(np.repeat(boundary[g0:g1], stride, 0), stride, 1)[: y1 - y0, :w]
        ys, xs = np.nonzero(edge)
        if ys.size:
            mixed = _bilinear_at(grid, (ys + y0 + 0.5) / stride - 0.5, (xs + 0.5) / stride - 0.5)
            labels[ys + y0, xs] = mixed.argmax(axis=-1) + 1
            confidence[ys + y0, xs] = mixed.max(axis=-1)
    return labels, confidence


def _bilinear_at(grid: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """[n, K] bilinear values of `grid` [gh, gw, K] at fractional (rows, cols), clamped."""
    out = np.zeros((rows.size, grid.shape[-1]), np.float32)
    parts = []
    for coords, n in ((rows, grid.shape[0]), (cols, grid.shape[1])):
        c = np.clip(coords, 0.0, n - 1)
        lo = np.floor(c).astype(np.intp)
        parts.append((lo, np.minimum(lo + 1, n - 1), (c - lo).astype(np.float32)))
    (r0, r1, fr), (c0, c1, fc) = parts
    for r, wr in ((r0, 1 - fr), (r1, fr)):
        for c, wc in ((c0, 1 - fc), (c1, fc)):
            out += (wr * wc)[:, None] * grid[r, c]
    return out


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
    from scipy import ndimage as ndi

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
        regions, count = cast("tuple[np.ndarray, int]", ndi.label(mask, eight))
        if min_area > 1 and count:
            small = np.bincount(regions.ravel(), minlength=count + 1) < min_area
            small[0] = False
            regions[small[regions]] = 0
            regions, _ = cast("tuple[np.ndarray, int]", ndi.label(regions > 0, eight))
        objects += objects_from_labels(regions, name, first_id + len(objects), source="phases")
    return objects
