"""Masks found tile by tile → one mask per object across the tile seams (`tiling` makes tiles).

Linking. Two neighbouring tiles both see their overlap. A mask of tile A and one of tile B are
pieces of one object when one of them stops at its tile's edge and the other goes on past it
(or both are whole and alike: one object seen twice), and, counted inside the overlap only,
they are each other's best match with IoU ≥ `SEAM_IOU`. Above 0.5 a mask can match at most one
of a tile's disjoint masks; among nested masks that look alike in the overlap (a disc, and SAM's
mask of that disc with a neighbour) the smaller wins. Links are made surest first, and never
between two groups that one tile saw as different objects (it holds a mask in each, unlike).

Fusing. Each pixel of an object is as the tile in which it is most central says (its *core*,
far from the tile's edges where SAM sees half an object), and the union of the pieces where
none of those tiles is central.

Leftovers. An object that stops at a tile edge with nothing seen past it, whose pixels other
masks hold, and whose pixels on that edge go on in another mask, is a piece that found no
partner or a group mask cut in two: it is dropped. Measured on a synthetic 2600² micrograph
(`benchmarks/large_image.py`): every precipitate found in some tile is still found after
stitching, and no fragment is left (3 without stitching).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from inference.segmentation.geometry import Rect
from inference.segmentation.masks import AutoMask, inside, mask_iou, rect_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.segmentation.tiling import Sides, Tile, TileLayout

SEAM_IOU = 0.5  # pieces agree this well inside the overlap of their tiles
COPY_IOU = 0.8  # whole masks of two tiles this alike are one object seen twice
TIE = 0.05  # seam IoUs this close are equally good: the smaller mask wins
COVERED = 0.9  # a cut piece is a duplicate when this much of it lies in a mask going on


def _meets(rects: np.ndarray, rect: Rect) -> np.ndarray:
    """Which rows of an (n, 4) array of rects (x0, y0, x1, y1) overlap `rect`."""
    return (
        (rects[:, 0] < rect.x1)
        & (rects[:, 2] > rect.x0)
        & (rects[:, 1] < rect.y1)
        & (rects[:, 3] > rect.y0)
    )


def _beyond(rect: Rect, window: Rect) -> Sides:
    """Whether `rect` reaches past each side (top, left, bottom, right) of `window`."""
    return rect.y0 < window.y0, rect.x0 < window.x0, rect.y1 > window.y1, rect.x1 > window.x1


def _seam_iou(a: AutoMask, b: AutoMask, common: Rect) -> float:
    """IoU of two masks counted only inside `common`, where both tiles saw the image."""
    a_in, b_in = rect_of(a).intersection(common), rect_of(b).intersection(common)
    if a_in is None or b_in is None:
        return 0.0
    both = a_in.intersection(b_in)
    na, nb = np.count_nonzero(inside(a, a_in)), np.count_nonzero(inside(b, b_in))
    if not na or not nb or both is None:
        return 0.0
    inter = int(np.count_nonzero(inside(a, both) & inside(b, both)))
    return inter / (int(na) + int(nb) - inter)


class _Objects:
    """Pieces grouped into objects (union-find). Two groups are not joined when a tile saw
    them as different objects: it holds a mask in each, and those two masks differ."""

    def __init__(self, masks: list[AutoMask], tile_of: np.ndarray) -> None:
        self.masks, self.tile_of = masks, tile_of
        self.parent = list(range(len(masks)))
        self.members = {i: [i] for i in range(len(masks))}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a == b or self._conflict(self.members[a], self.members[b]):
            return
        self.parent[a] = b
        self.members[b] += self.members.pop(a)

    def _conflict(self, left: list[int], right: list[int]) -> bool:
        return any(
            self.tile_of[p] == self.tile_of[q] and mask_iou(self.masks[p], self.masks[q]) < COPY_IOU
            for p in left
            for q in right
        )


def _best(scores: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Each row's best column: the smallest mask among those within `TIE` of the best IoU. A
    piece of one disc matches the disc and SAM's mask of it with its neighbour equally well in
    the overlap; it belongs to the most specific one (the larger gets its own partner or none)."""
    near = scores >= scores.max(axis=1, keepdims=True) - TIE
    return np.where(near, areas[None, :], np.inf).argmin(axis=1)


def _goes_on(layout: TileLayout, tile: Tile, piece: AutoMask, other: AutoMask) -> bool:
    """`piece` stops at an edge of its tile inside the image and `other` goes on past it."""
    sides = layout.cut_sides(tile, rect_of(piece))
    past = _beyond(rect_of(other), tile.window)
    return any(s and p for s, p in zip(sides, past, strict=True))


def _may_join(layout: TileLayout, a_tile: Tile, a: AutoMask, b_tile: Tile, b: AutoMask) -> bool:
    """Two tiles' masks can be one object if one carries on where the other is cut off, or if
    they are copies. Two whole masks that only agree in the overlap are different objects (a
    disc, and SAM's mask of it with a neighbour that one tile does not see)."""
    if _goes_on(layout, a_tile, a, b) or _goes_on(layout, b_tile, b, a):
        return True
    return mask_iou(a, b) >= COPY_IOU


def _link(layout: TileLayout, masks: list[AutoMask], tile_of: np.ndarray, rects, iou: float):
    """Join pieces of neighbouring tiles that are each other's best match in their overlap,
    the surest matches first."""
    matches = []
    for a_tile, b_tile, common in layout.neighbours():
        near = _meets(rects, common)
        ia = np.flatnonzero(near & (tile_of == a_tile.index))
        ib = np.flatnonzero(near & (tile_of == b_tile.index))
        if not ia.size or not ib.size:
            continue
        scores = np.zeros((ia.size, ib.size))
        for i, k in enumerate(ia):
            for j in np.flatnonzero(_meets(rects[ib], Rect(*rects[k]))):
                a, b = masks[k], masks[ib[j]]
                if _may_join(layout, a_tile, a, b_tile, b):
                    scores[i, j] = _seam_iou(a, b, common)
        areas = np.array([masks[k].area for k in ia]), np.array([masks[k].area for k in ib])
        best_b, best_a = _best(scores, areas[1]), _best(scores.T, areas[0])
        for i, j in enumerate(best_b):
            if best_a[j] == i and scores[i, j] >= iou:
                matches.append((scores[i, j], int(ia[i]), int(ib[j])))
    objects = _Objects(masks, tile_of)
    for _, i, j in sorted(matches, reverse=True):
        objects.join(i, j)
    return objects


def _fuse(group: list[tuple[Tile, AutoMask]]) -> AutoMask | None:
    """One mask from one object's pieces (see the module docstring); None if nothing is left."""
    rects = [rect_of(m) for _, m in group]
    x0, y0 = min(r.x0 for r in rects), min(r.y0 for r in rects)
    x1, y1 = max(r.x1 for r in rects), max(r.y1 for r in rects)
    anyone = np.zeros((y1 - y0, x1 - x0), bool)
    central = np.zeros_like(anyone)
    owned = np.zeros_like(anyone)

    def view(array: np.ndarray, rect: Rect) -> np.ndarray:
        return array[rect.y0 - y0 : rect.y1 - y0, rect.x0 - x0 : rect.x1 - x0]

    for (tile, m), rect in zip(group, rects, strict=True):
        view(anyone, rect)[...] |= m.mask
        core = tile.core.intersection(rect)
        if core is not None:
            view(central, core)[...] |= inside(m, core)
    for tile in {t.index: t for t, _ in group}.values():
        core = tile.core.intersection(Rect(x0, y0, x1, y1))
        if core is not None:
            view(owned, core)[...] = True
    fused = np.where(owned, central, anyone)
    rows, cols = np.flatnonzero(fused.any(axis=1)), np.flatnonzero(fused.any(axis=0))
    if rows.size == 0:
        return None
    areas = np.array([m.area for _, m in group], float)
    weights = areas / areas.sum()
    return replace(
        group[int(areas.argmax())][1],  # the largest piece's prompt point
        mask=fused[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1],
        offset=(y0 + int(rows[0]), x0 + int(cols[0])),
        score=float(weights @ [m.score for _, m in group]),
        stability=float(weights @ [m.stability for _, m in group]),
    )


Cut = tuple[Rect, int]  # a tile's window and its side (0 top, 1 left, 2 bottom, 3 right)


def _cut_off(layout: TileLayout, pieces: list[tuple[Tile, AutoMask]], rect: Rect) -> list[Cut]:
    """Tile edges inside the image where an object (`rect`, made of `pieces`) may go on unseen:
    a piece reaches the edge of its tile, no piece carries the object on past it, and none of
    the tiles that gave a piece sees past it (else the object really ends there)."""
    windows = [t.window for t, _ in pieces]
    cuts = []
    for tile, piece in pieces:
        sides = layout.cut_sides(tile, rect_of(piece))
        on = _beyond(rect, tile.window)
        for s in range(4):
            seen = any(_beyond(w, tile.window)[s] for w in windows)
            if sides[s] and not on[s] and not seen:
                cuts.append((tile.window, s))
    return cuts


def _edge(rect: Rect, window: Rect, side: int) -> Rect:
    """The one-pixel line of `rect` along a side of `window`."""
    return (
        Rect(rect.x0, window.y0, rect.x1, window.y0 + 1),
        Rect(window.x0, rect.y0, window.x0 + 1, rect.y1),
        Rect(rect.x0, window.y1 - 1, rect.x1, window.y1),
        Rect(window.x1 - 1, rect.y0, window.x1, rect.y1),
    )[side]


def _paint(canvas: np.ndarray, at: Rect, mask: AutoMask, other: AutoMask) -> None:
    """OR into `canvas` (covering `at`) the pixels of `mask` that `other` holds too."""
    both = at.intersection(rect_of(other))
    if both is not None:
        view = canvas[both.y0 - at.y0 : both.y1 - at.y0, both.x0 - at.x0 : both.x1 - at.x0]
        view |= inside(other, both) & inside(mask, both)


def _duplicate(mask: AutoMask, cuts: list[Cut], others: Sequence[AutoMask]) -> bool:
    """An object cut off at tile edges, whose pixels other masks hold (COVERED of them) and
    whose pixels on each cut edge mostly belong to masks that go on past it: a piece of an
    object that the next tile saw whole, or SAM's mask of a group whose members were found on
    both sides. An object no other tile saw, or a whole that only its own parts cover, stays."""
    rect = rect_of(mask)
    for window, side in cuts:
        line = _edge(rect, window, side).intersection(rect)
        pixels = int(np.count_nonzero(inside(mask, line))) if line is not None else 0
        if line is None or not pixels:
            continue
        held = np.zeros(line.shape, bool)
        for other in others:
            if _beyond(rect_of(other), window)[side]:
                _paint(held, line, mask, other)
        if np.count_nonzero(held) < 0.5 * pixels:
            return False
    covered = np.zeros_like(mask.mask)
    for other in others:
        _paint(covered, rect, mask, other)
    return bool(np.count_nonzero(covered) >= COVERED * mask.area)


def stitch(
    layout: TileLayout,
    per_tile: Sequence[Sequence[AutoMask]],
    seam_iou: float = SEAM_IOU,
) -> list[AutoMask]:
    """Each tile's masks (image coordinates; `per_tile[i]` belongs to `layout.tiles[i]`) → one
    mask per object, in the order of the pieces."""
    members = [(t, m) for t, masks in zip(layout.tiles, per_tile, strict=True) for m in masks]
    if not members:
        return []
    masks = [m for _, m in members]
    tile_of = np.array([t.index for t, _ in members])
    rects = np.array([rect_of(m) for m in masks]).reshape(-1, 4)
    groups = _link(layout, masks, tile_of, rects, seam_iou)
    components: dict[int, list[int]] = {}
    for k in range(len(members)):
        components.setdefault(groups.find(k), []).append(k)
    objects: list[tuple[AutoMask, list[Cut]]] = []
    for ks in components.values():
        pieces = [members[k] for k in ks]
        mask = pieces[0][1] if len(pieces) == 1 else _fuse(pieces)
        if mask is not None:
            objects.append((mask, _cut_off(layout, pieces, rect_of(mask))))
    out = [m for m, _ in objects]
    out_rects = np.array([rect_of(m) for m in out]).reshape(-1, 4)
    alive = np.ones(len(out), bool)
    for i, (mask, cuts) in enumerate(objects):
        if not cuts:
            continue
        near = np.flatnonzero(_meets(out_rects, rect_of(mask)) & alive)
        if _duplicate(mask, cuts, [out[j] for j in near if j != i]):
            alive[i] = False
    return [m for m, keep in zip(out, alive, strict=True) if keep]
