"""Masks cut to their bounding box, and what every segmentation step does with them: compare
(IoU), keep the best of overlapping ones (NMS), move them between frames, and clean them.

No model here: `automatic` makes `AutoMask`s, `stitching` joins them across tiles, `microstructure`
paints them into a map, and the click session cleans its masks with `postprocess`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

import numpy as np

from inference.segmentation.annotations import CroppedMask
from inference.segmentation.geometry import Point, Rect

if TYPE_CHECKING:
    from collections.abc import Sequence

EIGHT = np.ones((3, 3), bool)  # 8-connected neighbourhood


@dataclass(frozen=True, eq=False)
class AutoMask(CroppedMask):
    """One automatic mask: boolean, cropped to its bounding box at `offset` = (y0, x0)."""

    mask: np.ndarray
    offset: tuple[int, int]
    score: float  # SAM's predicted IoU
    stability: float
    point: tuple[float, float]  # the grid point (x, y) that produced it, image pixels


class Masked(Protocol):
    """Anything with a cropped boolean mask, its offset (y0, x0) and a score."""

    @property
    def mask(self) -> np.ndarray: ...

    @property
    def offset(self) -> tuple[int, int]: ...

    @property
    def score(self) -> float: ...


M = TypeVar("M", bound=Masked)


def components(mask: np.ndarray, structure: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Connected components of a boolean image: (int32 labels 1..count, count). 4-connected
    unless `structure` says otherwise (`EIGHT` for 8-connected)."""
    from scipy import ndimage as ndi

    labels, count = cast("tuple[np.ndarray, int]", ndi.label(mask, structure))
    return labels, int(count)


def rect_of(mask: Masked) -> Rect:
    """The pixels the mask's crop covers (x0, y0, x1, y1)."""
    return Rect.of_crop(mask.offset, mask.mask.shape)


def tight(mask: np.ndarray) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The mask cut to its true pixels and the (y0, x0) of the cut; None when it is empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], (int(rows[0]), int(cols[0]))


def inside(mask: Masked, rect: Rect) -> np.ndarray:
    """The part of the mask's crop inside `rect` (may be empty)."""
    y0, x0 = mask.offset
    h, w = mask.mask.shape
    r0, c0 = max(rect.y0 - y0, 0), max(rect.x0 - x0, 0)
    r1, c1 = min(rect.y1 - y0, h), min(rect.x1 - x0, w)
    return mask.mask[r0:r1, c0:c1] if r0 < r1 and c0 < c1 else mask.mask[:0, :0]


def mask_iou(a: Masked, b: Masked, area_a: int | None = None, area_b: int | None = None) -> float:
    """Intersection over union of two cropped masks (areas passed in when already counted)."""
    both = rect_of(a).intersection(rect_of(b))
    if both is None:
        return 0.0
    area_a = int(np.count_nonzero(a.mask)) if area_a is None else area_a
    area_b = int(np.count_nonzero(b.mask)) if area_b is None else area_b
    inter = int(np.count_nonzero(inside(a, both) & inside(b, both)))
    return inter / float(area_a + area_b - inter)


def non_max_suppression(masks: Sequence[M], iou_thresh: float) -> list[M]:
    """Greedy NMS by mask IoU, best score first (ties keep their order): no two masks that are
    kept overlap by more than `iou_thresh`. Boxes and the area ratio (IoU ≤ small/large) reject
    most pairs before any pixel is compared."""
    order = sorted(range(len(masks)), key=lambda i: -masks[i].score)
    areas = [int(np.count_nonzero(m.mask)) for m in masks]
    kept: list[int] = []
    boxes = np.empty((len(masks), 4), np.int64)  # x0, y0, x1, y1 of the kept masks
    for i in order:
        m, area = masks[i], areas[i]
        if area == 0:
            continue
        r = rect_of(m)
        n = len(kept)
        if n:
            k = boxes[:n]
            near = (k[:, 0] < r.x1) & (k[:, 2] > r.x0) & (k[:, 1] < r.y1) & (k[:, 3] > r.y0)
            kept_areas = np.array([areas[j] for j in kept])
            near &= np.minimum(kept_areas, area) > iou_thresh * np.maximum(kept_areas, area)
            if any(
                mask_iou(m, masks[kept[j]], area, areas[kept[j]]) > iou_thresh
                for j in np.flatnonzero(near)
            ):
                continue
        boxes[n] = r
        kept.append(i)
    return [masks[i] for i in kept]


def shift(mask: AutoMask, dy: int, dx: int) -> AutoMask:
    """The same mask moved by (dy, dx): tile coordinates → image coordinates."""
    (y0, x0), (x, y) = mask.offset, mask.point
    return replace(mask, offset=(y0 + dy, x0 + dx), point=(x + dx, y + dy))


def postprocess(
    mask: np.ndarray,
    points: Sequence[Point] = (),
    *,
    keep_clicked: bool = True,
    fill_holes_px: int = 0,
    min_island_px: int = 0,
) -> np.ndarray:
    """A cleaned copy of a boolean mask (or of a crop of one, with `points` in its frame).
    Parts holding a positive click are always kept; nothing is emptied."""
    from scipy import ndimage as ndi

    mask = np.asarray(mask, bool)
    if not mask.any():
        return mask
    h, w = mask.shape
    if keep_clicked or min_island_px:
        labels, count = components(mask, EIGHT)
        clicked = [
            labels[int(y), int(x)] for x, y, lab in points if lab == 1 and 0 <= y < h and 0 <= x < w
        ]
        clicked = [k for k in clicked if k]
        keep = np.ones(count + 1, bool)
        if keep_clicked and clicked:
            keep[:] = False
        if min_island_px:
            keep &= np.bincount(labels.ravel(), minlength=count + 1) >= min_island_px
        keep[clicked] = True
        keep[0] = False
        if keep[1:].any():
            mask = keep[labels]
    if fill_holes_px:
        holes = ndi.binary_fill_holes(mask) & ~mask
        if holes.any():
            labels, _ = components(holes)
            fill = np.bincount(labels.ravel()) <= fill_holes_px
            fill[0] = False
            mask = mask | fill[labels]
    return mask
