"""Rasterising polygons as ImageJ does, to compare ROIs read back with roifile to the masks.

Coordinates are ImageJ's: (0, 0) is the top-left corner of the first pixel; a pixel belongs
to a ring when its centre (c + 0.5, r + 0.5) lies inside it. `window` = (x0, y0, x1, y1) is the
part of the image to draw, so a large image costs only the object's box.
"""

from __future__ import annotations

import numpy as np
from skimage.draw import polygon


def fill_rings(rings: list[np.ndarray] | np.ndarray, window, rule: str) -> np.ndarray:
    """Pixels whose centres lie inside the rings (pixel-corner coordinates, as ImageJ), under
    the even-odd or the non-zero winding rule, in `window` = (x0, y0, x1, y1); any polygon.
    One ring may come as its (n, 2) array (roifile's `coordinates(multi=True)` is typed so)."""
    if isinstance(rings, np.ndarray):
        rings = [rings]
    x0, y0, x1, y1 = window
    total = np.zeros((y1 - y0, x1 - x0), np.int32)
    for xy in rings:
        xy = np.asarray(xy, float)
        rr, cc = polygon(xy[:, 1] - 0.5 - y0, xy[:, 0] - 0.5 - x0, total.shape)
        if rule == "even-odd":
            total[rr, cc] ^= 1
        else:
            x, y = xy[:, 0], xy[:, 1]
            total[rr, cc] += 1 if np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) > 0 else -1
    return total != 0


def fill_rectilinear(rings: list[np.ndarray] | np.ndarray, window, rule: str) -> np.ndarray:
    """`fill_rings` for rings of horizontal and vertical edges only (asserted), by scanlines:
    a vertical edge at x = X from y = a to b crosses the centres of rows a..b-1, and every pixel
    centre right of it, so the winding number is a running sum along each row. Fast for an
    oxide layer with thousands of vertices and hundreds of holes."""
    if isinstance(rings, np.ndarray):  # one ring
        rings = [rings]
    x0, y0, x1, y1 = window
    crossings = np.zeros((y1 - y0, x1 - x0 + 1), np.int32)
    for xy in rings:
        xy = np.asarray(xy, float)
        nxt = np.roll(xy, -1, axis=0)
        assert ((xy[:, 0] == nxt[:, 0]) | (xy[:, 1] == nxt[:, 1])).all(), "a slanted edge"
        assert np.array_equal(xy, np.round(xy)), "a vertex off the pixel corners"
        vertical = (xy[:, 0] == nxt[:, 0]) & (xy[:, 1] != nxt[:, 1])
        for (x, ya), (_, yb) in zip(xy[vertical], nxt[vertical], strict=True):
            lo, hi = int(min(ya, yb)) - y0, int(max(ya, yb)) - y0
            crossings[lo:hi, int(x) - x0] += 1 if yb > ya else -1
    winding = np.cumsum(crossings, axis=1)[:, :-1]
    return (winding % 2 == 1) if rule == "even-odd" else (winding != 0)
