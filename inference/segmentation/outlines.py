"""Exact outlines of object masks along pixel edges, for the polygon exports (COCO, ImageJ).

Coordinates are pixel corners: (0, 0) is the top-left corner of the first pixel and pixel
(row r, column c) is the unit square [c, c + 1] × [r, r + 1]. This is ImageJ's convention and
the one pycocotools rasterises exactly: a polygon along pixel edges covers exactly the pixels
whose centres lie inside it, with no half-pixel shift and no corner cut.

Each 8-connected part of an object gives one outer ring, and each hole of a part (a
4-connected region of background enclosed by it) one hole ring. Outer rings have a positive
signed (shoelace) area and hole rings a negative one, so the rings fill the object exactly under
both the even-odd and the non-zero winding rule; an island inside a hole is a part of its own.
Rings are closed implicitly (the first vertex is not repeated) and keep only the corners where
the outline turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from scipy import ndimage
from skimage.measure import find_contours

_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True, eq=False)
class Ring:
    """One closed outline: (n, 2) float64 (x, y) pixel-corner coordinates."""

    xy: np.ndarray
    hole: bool

    @property
    def signed_area(self) -> float:
        return _signed_area(self.xy)


def pixel_outlines(mask: np.ndarray, offset: tuple[int, int] = (0, 0)) -> list[Ring]:
    """The rings of a boolean mask placed at `offset` = (y0, x0): each part's outer ring
    followed by its holes, parts by decreasing area."""
    mask = np.asarray(mask, dtype=bool)
    parts = _label(mask, _EIGHT)
    y0, x0 = int(offset[0]), int(offset[1])
    grouped: list[tuple[int, list[Ring]]] = []
    for value, found in enumerate(ndimage.find_objects(parts), start=1):
        if found is None:
            continue
        part = parts[found] == value
        py, px = y0 + found[0].start, x0 + found[1].start
        filled = np.asarray(ndimage.binary_fill_holes(part), dtype=bool)
        rings = [Ring(_oriented(_edge_ring(filled, "high") + (px, py), 1), hole=False)]
        holes = _label(filled & ~part, None)  # background is 4-connected
        for h_value, h_found in enumerate(ndimage.find_objects(holes), start=1):
            if h_found is None:
                continue
            hole = holes[h_found] == h_value
            shift = (px + h_found[1].start, py + h_found[0].start)
            rings.append(Ring(_oriented(_edge_ring(hole, "low") + shift, -1), hole=True))
        grouped.append((int(part.sum()), rings))
    grouped.sort(key=lambda g: -g[0])
    return [ring for _, rings in grouped for ring in rings]


def has_holes(mask: np.ndarray) -> bool:
    """Whether any part of the mask encloses background."""
    mask = np.asarray(mask, dtype=bool)
    return bool((np.asarray(ndimage.binary_fill_holes(mask)) & ~mask).any())


def _label(mask: np.ndarray, structure: np.ndarray | None) -> np.ndarray:
    """Connected regions numbered 1..n (scipy's stubs type the result as int or a tuple)."""
    return cast("tuple[np.ndarray, int]", ndimage.label(mask, structure=structure))[0]


def _edge_ring(region: np.ndarray, connectivity: str) -> np.ndarray:
    """The pixel-edge outline of one connected region as (x, y) corners of its crop.

    Marching squares (level 0.5) puts a vertex at the midpoint of every pixel edge between the
    region and the outside, and consecutive vertices lie in one 2×2 cell of pixel centres,
    whose centre is the pixel corner both edges share. The outline along pixel edges is the
    sequence of those shared corners; a coordinate that is half-integral in either midpoint is
    the corner's, and two integral ones (a straight run) average to it.
    """
    traced = find_contours(np.pad(region, 1).astype(np.uint8), 0.5, fully_connected=connectivity)
    midpoints = max(traced, key=len)[:-1]  # (row, col) in padded pixel-centre coordinates
    following = np.roll(midpoints, -1, axis=0)
    corners = np.empty_like(midpoints)
    for k in range(2):
        here, there = midpoints[:, k], following[:, k]
        corners[:, k] = np.where(
            here % 1 != 0, here, np.where(there % 1 != 0, there, (here + there) / 2)
        )
    corners = _turns_only(corners)
    # padded pixel-centre coordinates -> corner coordinates of the crop: -1 for the pad, +0.5
    # from a pixel's centre to its top-left corner
    return np.column_stack((corners[:, 1] - 0.5, corners[:, 0] - 0.5))


def _turns_only(ring: np.ndarray) -> np.ndarray:
    """Drop the vertices in the middle of straight runs; keep at least a triangle."""
    before = ring - np.roll(ring, 1, axis=0)
    after = np.roll(ring, -1, axis=0) - ring
    cross = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
    dot = (before * after).sum(axis=1)
    keep = (cross != 0) | (dot <= 0)
    return ring[keep] if keep.sum() >= 3 else ring


def _signed_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _oriented(xy: np.ndarray, sign: int) -> np.ndarray:
    return xy if _signed_area(xy) * sign > 0 else xy[::-1].copy()
