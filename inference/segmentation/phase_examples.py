"""What the user gave as examples of each phase, turned into training pixels on the grid.

A click is the disk of `radius` px around it, and it also grows into SAM's smallest mask for it
(one decoder call, cached on the features per click): a click on a precipitate teaches the whole
precipitate, not 13 pixels of it. A mask is dropped when it covers more than half the image or
reaches another class's example (SAM then took several phases for one object). Painted strokes
are used as they are. Examples in a microscope's data bar are not specimen: `above_data_bar`
leaves them out of training (the user's examples themselves are kept) and says so in one line.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.jobs import CancelToken
    from inference.segmentation.features import PhaseFeatures

MAX_SAM_FRACTION = 0.5  # a click's SAM mask larger than this part of the image is not used
MAX_PAINTED = 5000  # painted pixels per class used for training (a random subset beyond)


@dataclass(frozen=True, eq=False)
class PhaseExample:
    """Examples of one class: clicked points (x, y) in image pixels and/or a painted mask
    (bool, image-sized). Several examples may name the same class; they are merged."""

    class_name: str
    points: tuple[tuple[float, float], ...] = ()
    mask: np.ndarray | None = None


@dataclass(frozen=True)
class ClassExamples:
    """All examples of one class, checked against the image."""

    name: str
    points: tuple[tuple[float, float], ...]
    masks: tuple[np.ndarray, ...]


@dataclass(frozen=True, eq=False)
class TrainingExamples:
    """The examples a classifier trains on, and one line about those left out (a data bar's),
    "" when none was."""

    examples: tuple[PhaseExample, ...]
    note: str = ""


def above_data_bar(
    examples: Sequence[PhaseExample], specimen_rows: int, image_rows: int
) -> TrainingExamples:
    """The examples without their points and painted pixels at or below row `specimen_rows`,
    where a microscope's data bar starts (`image_rows` when there is none: all are kept).
    A class whose every example lies in the bar is refused in one line: it has nothing to learn
    from, and dropping it would silently change the classes of the map."""
    if specimen_rows >= image_rows:
        return TrainingExamples(tuple(examples))
    kept: list[PhaseExample] = []
    points_out = pixels_out = 0
    for ex in examples:
        points = tuple(p for p in ex.points if float(p[1]) < specimen_rows)
        points_out += len(ex.points) - len(points)
        mask = ex.mask
        if mask is not None:
            mask = np.asarray(mask, bool)
            pixels_out += int(np.count_nonzero(mask[specimen_rows:]))
            mask = mask.copy()
            mask[specimen_rows:] = False
        kept.append(PhaseExample(ex.class_name, points, mask))
    for name in dict.fromkeys(str(ex.class_name).strip() for ex in examples):
        given = [ex for ex in examples if str(ex.class_name).strip() == name]
        left = [ex for ex in kept if str(ex.class_name).strip() == name]
        had = any(ex.points or (ex.mask is not None and np.any(ex.mask)) for ex in given)
        has = any(ex.points or (ex.mask is not None and ex.mask.any()) for ex in left)
        if had and not has:
            raise MatLensError(
                f"Every example of '{name}' lies in the data bar, which is not specimen: "
                "click or paint some above it."
            )
    if not points_out and not pixels_out:
        return TrainingExamples(tuple(examples))
    parts = [f"{points_out} point{'s' * (points_out != 1)}"] if points_out else []
    parts += [f"{pixels_out} painted px"] if pixels_out else []
    note = f"Examples in the data bar are left out of training ({', '.join(parts)})."
    return TrainingExamples(tuple(kept), note)


def merge_examples(examples: Sequence[PhaseExample], shape: tuple[int, int]) -> list[ClassExamples]:
    """Examples grouped by class in order of first appearance, checked against the image."""
    h, w = shape
    order: dict[str, tuple[list, list]] = {}
    for ex in examples:
        name = str(ex.class_name).strip()
        if not name:
            raise MatLensError("Every example needs a class name.")
        points, masks = order.setdefault(name, ([], []))
        for point in ex.points:
            x, y = float(point[0]), float(point[1])
            if not (math.isfinite(x) and math.isfinite(y) and 0 <= x < w and 0 <= y < h):
                raise MatLensError(
                    f"The example point ({x:g}, {y:g}) of '{name}' is outside the {w}×{h} image."
                )
            points.append((x, y))
        if ex.mask is not None:
            mask = np.asarray(ex.mask, bool)
            if mask.shape != (h, w):
                raise MatLensError(
                    f"The painted examples of '{name}' are {mask.shape[1]}×{mask.shape[0]}, "
                    f"not {w}×{h} like the image."
                )
            masks.append(mask)
    merged = [ClassExamples(n, tuple(p), tuple(m)) for n, (p, m) in order.items()]
    empty = [c.name for c in merged if not c.points and not any(m.any() for m in c.masks)]
    if empty:
        raise MatLensError(f"The class '{empty[0]}' has no example: click or paint some of it.")
    if len(merged) < 2:
        raise MatLensError("Give examples of at least two classes (each pixel gets one of them).")
    if len(merged) > 255:
        raise MatLensError(f"At most 255 classes, not {len(merged)}.")
    return merged


def _disk(radius: float) -> tuple[np.ndarray, np.ndarray]:
    r = int(math.floor(radius))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    inside = dy * dy + dx * dx <= radius * radius
    return dy[inside], dx[inside]


def _sam_mask(features: PhaseFeatures, x: float, y: float) -> np.ndarray:
    """SAM's smallest mask for a click, on the grid (cached on the features: one decoder call
    per click, however often the map is updated)."""
    key = (round(x, 2), round(y, 2))
    if key not in features.mask_cache:
        assert features.model is not None and features.embedding is not None
        candidates = features.model.predict(features.embedding, [(x, y, 1)], multimask=True)
        smallest = min(candidates, key=lambda c: int(np.count_nonzero(c.logits_lowres > 0)))
        features.mask_cache[key] = features.lowres_to_grid(smallest.logits_lowres) > 0
    return features.mask_cache[key]


@dataclass(frozen=True, eq=False)
class ExamplePixels:
    """The training pixels of some examples on the grid, and where each came from, so that a
    cross-validation can leave one click out with everything it taught."""

    index: np.ndarray  # flat grid indices
    target: np.ndarray  # 0-based class numbers
    click: np.ndarray  # int: the click (row of `clicks`) a pixel comes from; -1: painted
    grown: np.ndarray  # bool: drawn from the click's SAM mask (not its disk)
    clicks: np.ndarray  # int [n, 3]: grid row, grid column and class of each click
    masks: tuple  # per click: its SAM mask on the grid when it was used, else None

    def select(self, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index, target) of the kept pixels, each (pixel, class) pair once, sorted by pixel."""
        pairs = np.unique(np.stack([self.index[keep], self.target[keep]], axis=1), axis=0)
        return pairs[:, 0], pairs[:, 1]


def example_pixels(
    features: PhaseFeatures,
    merged: list[ClassExamples],
    radius: float,
    mask_samples: int,
    seed: int = 0,
    cancel: CancelToken | None = None,
) -> ExamplePixels:
    """Click disks, painted pixels and, when `mask_samples` > 0, that many pixels per class
    drawn from its clicks' SAM masks. Random draws are seeded per click and per class name, so
    the answer depends on the examples, not on the order in which they came."""
    from scipy import ndimage as ndi

    gh, gw = features.grid_shape
    s = features.stride
    dy, dx = _disk(radius / s)
    cells = [
        np.array([[int(y) // s, int(x) // s] for x, y in c.points], np.intp).reshape(-1, 2)
        for c in merged
    ]
    painted = [_painted_grid(features, c.masks) for c in merged]
    use_sam = mask_samples > 0 and features.model is not None and features.embedding is not None
    parts: list[tuple[np.ndarray, int, int, bool]] = []  # (pixels, class, click, grown)
    clicks: list[tuple[int, int, int]] = []
    masks: list[np.ndarray | None] = []
    for k, c in enumerate(merged):
        strokes = painted[k]
        if strokes is not None:
            flat = np.flatnonzero(strokes)
            if flat.size > MAX_PAINTED:
                rng = np.random.default_rng([seed, zlib.crc32(c.name.encode())])
                flat = rng.choice(flat, MAX_PAINTED, replace=False)
            parts.append((flat, k, -1, False))
        others = [j for j in range(len(merged)) if j != k]
        per_click = max(1, mask_samples // max(len(c.points), 1))
        for (x, y), (row, col) in zip(c.points, cells[k], strict=True):
            click = len(clicks)
            clicks.append((int(row), int(col), k))
            rows, cols = np.clip(row + dy, 0, gh - 1), np.clip(col + dx, 0, gw - 1)
            parts.append((np.unique(rows * gw + cols), k, click, False))
            mask = None
            if use_sam:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                mask = _sam_mask(features, x, y)
                if _usable(mask, [cells[j] for j in others], [painted[j] for j in others]):
                    inner = np.flatnonzero(ndi.binary_erosion(mask))
                    if inner.size:
                        rng = np.random.default_rng([seed, int(64 * x), int(64 * y)])
                        pick = rng.choice(inner, min(per_click, inner.size), replace=False)
                        parts.append((pick, k, click, True))
                else:
                    mask = None
            masks.append(mask)
    return ExamplePixels(
        np.concatenate([p[0] for p in parts]).astype(np.intp),
        np.concatenate([np.full(p[0].size, p[1], np.intp) for p in parts]),
        np.concatenate([np.full(p[0].size, p[2], np.intp) for p in parts]),
        np.concatenate([np.full(p[0].size, p[3], bool) for p in parts]),
        np.array(clicks, np.intp).reshape(-1, 3),
        tuple(masks),
    )


def training_pixels(
    features: PhaseFeatures,
    merged: list[ClassExamples],
    radius: float,
    mask_samples: int,
    seed: int = 0,
    cancel: CancelToken | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Flat grid indices of all training pixels and their class numbers (0-based), sorted by
    pixel (see `example_pixels`)."""
    pixels = example_pixels(features, merged, radius, mask_samples, seed, cancel)
    return pixels.select(np.ones(pixels.index.size, bool))


def _painted_grid(features: PhaseFeatures, masks: tuple[np.ndarray, ...]) -> np.ndarray | None:
    """The painted pixels on the grid: sampled at grid centres, or, for strokes so thin that
    they miss every centre, each grid pixel they touch."""
    if not masks:
        return None
    union = np.logical_or.reduce(masks)
    grid = features.to_grid(union)
    if not grid.any() and union.any():
        rows, cols = np.nonzero(union)
        grid[rows // features.stride, cols // features.stride] = True
    return grid


def _usable(mask: np.ndarray, other_cells: list[np.ndarray], other_paint: list) -> bool:
    """A click's SAM mask teaches its class unless it is most of the image or holds another
    class's example (then SAM took a group of phases for one object)."""
    if np.count_nonzero(mask) > MAX_SAM_FRACTION * mask.size:
        return False
    if any(cells.size and mask[cells[:, 0], cells[:, 1]].any() for cells in other_cells):
        return False
    return not any(p is not None and (mask & p).any() for p in other_paint)


_FORMAT = '{"examples": [{"class": "matrix", "points": [[x, y], ...]}, ...]}'


def read_examples(path: str | Path) -> list[PhaseExample]:
    """Examples from a JSON file: {"examples": [{"class": "matrix", "points": [[x, y]]}]}.
    Points are image pixels, x to the right and y down."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MatLensError(f"Examples file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MatLensError(f"Cannot read the examples file {path}: {exc}") from None
    except ValueError as exc:
        raise MatLensError(f"{path.name} is not valid JSON ({exc}); expected {_FORMAT}") from None
    entries = data.get("examples") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise MatLensError(f"{path.name} has no examples; expected {_FORMAT}")
    examples = []
    for i, entry in enumerate(entries, start=1):
        name = entry.get("class") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise MatLensError(f'{path.name}: example {i} has no "class" name.')
        points = entry.get("points", [])
        try:
            parsed = tuple((float(p[0]), float(p[1])) for p in points if len(p) == 2)
            ok = isinstance(points, list) and len(parsed) == len(points)
        except (TypeError, ValueError, KeyError):
            ok = False
        if not ok or not all(math.isfinite(v) for p in parsed for v in p):
            raise MatLensError(
                f'{path.name}: the points of example {i} ("{name}") must be [[x, y], ...].'
            )
        examples.append(PhaseExample(name.strip(), parsed))
    return examples
