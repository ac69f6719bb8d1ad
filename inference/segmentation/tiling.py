"""Large micrographs through SAM: native-resolution tiles with overlap, clicks answered in the
tile where they are most central, and segment-everything stitched across the seams.

SAM's encoder sees 1024 px. An 8192 px image shrunk to that loses 8× in each direction, so a
30 px precipitate becomes 4 px and one 16 px feature cell spans 128 image pixels. MatLens
therefore cuts images whose longest side exceeds `TILE_ABOVE` (2048 px) into 1024 px tiles at
native resolution, each embedded on its own through `SamModel.embed` (so the disk cache applies
per tile), plus the whole image shrunk once for context and for objects larger than a tile.
Up to 2048 px the whole-image view loses at most 2× and one encoder run (~0.6 s on two CPU
cores) keeps clicks live; `ClickSession`'s zoom window recovers native resolution there.

Overlap: `OVERLAP` = 256 px between neighbouring tiles. Each point of the image lies in a tile
whose inner edges are at least overlap / 2 = 128 px away (its *core*), so a click has 128 px of
context on every side, and any object up to 256 px across lies whole inside some tile along each
axis. Less overlap (128) saves a third of the tiles (81 vs 121 at 8192²) but lets clicks come
within 64 px of a tile edge, where SAM sees cut objects. Tile features are
stored as float16 (254 MB instead of 508 MB at 8192²; masks match float32 ones, IoU > 0.99).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation._sam_image import as_uint8
from inference.segmentation.sam import ImageEmbedding, SamModel
from inference.segmentation.stitching import Rect, intersection, shift, stitch

if TYPE_CHECKING:
    from inference.segmentation.automatic import AutoMask, AutoParams
    from inference.segmentation.refine import ClickSession, RefinePolicy

TILE = 1024  # the encoder's input side: tiles are embedded at native resolution
OVERLAP = 256  # see the module docstring
TILE_ABOVE = 2048  # images whose longest side exceeds this are tiled


# --- layout -----------------------------------------------------------------------------------


def needs_tiling(shape: Sequence[int], threshold: int = TILE_ABOVE) -> bool:
    """Whether an image of this (height, width, ...) is embedded in tiles."""
    return max(int(shape[0]), int(shape[1])) > threshold


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile starts along one axis: as few tiles as give at least `overlap`, spread evenly so the
    last one ends at the image's edge."""
    if length <= tile:
        return [0]
    n = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (n - 1)) for i in range(n)]


def _cuts(starts: list[int], side: int, length: int) -> list[int]:
    """Core boundaries along one axis: the middle of each overlap, where the next tile becomes
    the more central one."""
    inner = [(starts[i + 1] + starts[i] + side) // 2 for i in range(len(starts) - 1)]
    return [0, *inner, length]


@dataclass(frozen=True)
class Tile:
    """A window of the image at native resolution, and its core: the part of the image where
    this tile is the most central one (the cores tile the image without overlap)."""

    index: int
    window: Rect
    core: Rect

    @property
    def y0(self) -> int:
        return self.window[0]

    @property
    def x0(self) -> int:
        return self.window[1]

    @property
    def shape(self) -> tuple[int, int]:
        y0, x0, y1, x1 = self.window
        return y1 - y0, x1 - x0

    @property
    def slices(self) -> tuple[slice, slice]:
        y0, x0, y1, x1 = self.window
        return slice(y0, y1), slice(x0, x1)

    def holds(self, rect: Rect) -> bool:
        """Whether `rect` lies inside the window."""
        y0, x0, y1, x1 = self.window
        return y0 <= rect[0] and x0 <= rect[1] and rect[2] <= y1 and rect[3] <= x1


@dataclass(frozen=True)
class TileLayout:
    """Tiles covering an image, row by row, with at least `overlap` px between neighbours."""

    shape: tuple[int, int]
    tile: int
    overlap: int
    tiles: tuple[Tile, ...]
    row_cuts: tuple[int, ...]
    col_cuts: tuple[int, ...]

    @classmethod
    def for_image(
        cls, shape: Sequence[int], tile: int = TILE, overlap: int = OVERLAP
    ) -> TileLayout:
        h, w = int(shape[0]), int(shape[1])
        if not 0 <= overlap < tile:
            raise MatLensError(f"Tile overlap must be 0 to {tile - 1} px, not {overlap}.")
        if min(h, w) < 1:
            raise MatLensError(f"An image of {w}×{h} px has nothing to tile.")
        rows, cols = _starts(h, tile, overlap), _starts(w, tile, overlap)
        th, tw = min(tile, h), min(tile, w)
        row_cuts, col_cuts = _cuts(rows, th, h), _cuts(cols, tw, w)
        tiles = tuple(
            Tile(
                r * len(cols) + c,
                (y0, x0, y0 + th, x0 + tw),
                (row_cuts[r], col_cuts[c], row_cuts[r + 1], col_cuts[c + 1]),
            )
            for r, y0 in enumerate(rows)
            for c, x0 in enumerate(cols)
        )
        return cls((h, w), tile, overlap, tiles, tuple(row_cuts), tuple(col_cuts))

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, columns) of tiles."""
        return len(self.row_cuts) - 1, len(self.col_cuts) - 1

    def tile_at(self, x: float, y: float) -> Tile:
        """The tile in which image point (x, y) is most central."""
        h, w = self.shape
        r = int(np.searchsorted(self.row_cuts, min(max(y, 0), h - 1), side="right")) - 1
        c = int(np.searchsorted(self.col_cuts, min(max(x, 0), w - 1), side="right")) - 1
        return self.tiles[r * self.grid[1] + c]

    def tile_for(self, rect: Rect) -> Tile | None:
        """The tile most central to `rect` if one holds it whole, else None."""
        best = self.tile_at((rect[1] + rect[3]) / 2, (rect[0] + rect[2]) / 2)
        if best.holds(rect):
            return best
        holding = [t for t in self.tiles if t.holds(rect)]
        return holding[0] if holding else None

    def inner_edges(self, tile: Tile) -> tuple[bool, bool, bool, bool]:
        """Which of the tile's sides (top, left, bottom, right) lie inside the image, where an
        object can be cut."""
        y0, x0, y1, x1 = tile.window
        return y0 > 0, x0 > 0, y1 < self.shape[0], x1 < self.shape[1]

    def cut_sides(self, tile: Tile, rect: Rect) -> tuple[bool, bool, bool, bool]:
        """Sides (top, left, bottom, right) of the tile where something covering `rect` (image
        pixels) reaches an edge inside the image, so it may go on in the next tile."""
        inner = self.inner_edges(tile)
        y0, x0, y1, x1 = tile.window
        reach = (rect[0] <= y0, rect[1] <= x0, rect[2] >= y1, rect[3] >= x1)
        return tuple(i and r for i, r in zip(inner, reach, strict=True))  # type: ignore[return-value]

    def neighbours(self) -> list[tuple[Tile, Tile, Rect]]:
        """Pairs of tiles whose windows overlap, with the overlap."""
        pairs = []
        for i, a in enumerate(self.tiles):
            for b in self.tiles[i + 1 :]:
                common = intersection(a.window, b.window)
                if common is not None:
                    pairs.append((a, b, common))
        return pairs


# --- embedding --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _StoredTile:
    features: np.ndarray  # float16 or float32, EMBEDDING_SHAPE
    original_size: tuple[int, int]
    input_size: tuple[int, int]
    image_hash: str
    from_cache: bool


@dataclass(frozen=True, eq=False)
class TiledEmbedding:
    """A large image's SAM embeddings: one per tile of `layout`, and `whole`, the image shrunk
    to the encoder's input (for context and objects larger than a tile)."""

    layout: TileLayout
    whole: ImageEmbedding
    _tiles: tuple[_StoredTile, ...]

    @property
    def model_id(self) -> str:
        return self.whole.model_id

    @property
    def shape(self) -> tuple[int, int]:
        return self.layout.shape

    @property
    def nbytes(self) -> int:
        """Memory held by the features (tiles and whole image)."""
        return self.whole.features.nbytes + sum(t.features.nbytes for t in self._tiles)

    def embedding(self, tile: Tile | int) -> ImageEmbedding:
        """Tile `tile`'s embedding as the decoder takes it (float32, tile coordinates)."""
        stored = self._tiles[tile if isinstance(tile, int) else tile.index]
        return ImageEmbedding(
            stored.features.astype(np.float32),
            stored.original_size,
            stored.input_size,
            self.whole.model_id,
            stored.image_hash,
            stored.from_cache,
        )


def _part(progress: ProgressCallback, start: float, span: float) -> ProgressCallback:
    """A progress callback for one step of a longer job."""
    return lambda fraction, message="": progress(start + span * fraction, message)


def embed_tiled(
    model: SamModel,
    rgb: np.ndarray,
    layout: TileLayout | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    half: bool = True,
) -> TiledEmbedding:
    """Embed the whole image, then each tile (from the disk cache where it was done before).
    `half` stores tile features as float16. Progress is reported per tile; `cancel` is honoured
    between tiles and inside the encoder call."""
    pixels = as_uint8(rgb)
    layout = layout or TileLayout.for_image(pixels.shape[:2])
    if tuple(pixels.shape[:2]) != layout.shape:
        raise MatLensError(f"The tile layout is for {layout.shape}, the image is {pixels.shape}.")
    n = len(layout.tiles)
    step = 1.0 / (n + 1)
    whole = model.embed(pixels, _part(progress, 0.0, step), cancel)
    stored = []
    for tile in layout.tiles:
        if cancel is not None:
            cancel.raise_if_cancelled()
        start = step * (tile.index + 1)
        progress(start, f"embedding tile {tile.index + 1} of {n}")
        emb = model.embed(pixels[tile.slices], no_progress, cancel)
        features = emb.features.astype(np.float16) if half else emb.features
        stored.append(
            _StoredTile(features, emb.original_size, emb.input_size, emb.image_hash, emb.from_cache)
        )
    progress(1.0, f"{n} tiles embedded")
    return TiledEmbedding(layout, whole, tuple(stored))


def click_session(
    model: SamModel,
    rgb: np.ndarray,
    policy: RefinePolicy | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    threshold: int = TILE_ABOVE,
    zoom: bool = False,
) -> ClickSession:
    """A ClickSession for an image of any size: in tiles above `threshold`, else on the whole
    image as before (`zoom` passes the image so small objects get a zoom window, +0.6 s)."""
    from inference.segmentation.refine import DEFAULT, ClickSession

    policy = policy or DEFAULT
    if needs_tiling(rgb.shape, threshold):
        tiles = embed_tiled(model, rgb, progress=progress, cancel=cancel)
        return ClickSession(model, tiles, policy=policy)
    embedding = model.embed(rgb, progress, cancel)
    return ClickSession(model, embedding, rgb if zoom else None, policy)


# --- segment everything on tiles --------------------------------------------------------------


def segment_everything_tiled(
    model: SamModel,
    rgb: np.ndarray,
    params: AutoParams | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    tile: int = TILE,
    overlap: int = OVERLAP,
    tiles: TiledEmbedding | None = None,
) -> list[AutoMask]:
    """Segment everything in each tile, then stitch the masks across the seams (image
    coordinates). Reuses `tiles` when the image was embedded already; otherwise each tile is
    embedded, segmented and let go, so memory holds one tile's features at a time."""
    from inference.segmentation.automatic import AutoParams, non_max_suppression
    from inference.segmentation.automatic import segment_everything as segment_one

    params = params or AutoParams()
    pixels = as_uint8(rgb)
    layout = (
        tiles.layout if tiles is not None else TileLayout.for_image(pixels.shape[:2], tile, overlap)
    )
    if layout.shape != tuple(pixels.shape[:2]):
        raise MatLensError(f"The tiles are for {layout.shape}, the image is {pixels.shape[:2]}.")
    n = len(layout.tiles)
    per_tile = []
    for t in layout.tiles:
        if cancel is not None:
            cancel.raise_if_cancelled()
        start, span = 0.95 * t.index / n, 0.95 / n
        progress(start, f"segmenting tile {t.index + 1} of {n}")
        if tiles is not None:
            embedding = tiles.embedding(t)
        else:
            embedding = model.embed(pixels[t.slices], no_progress, cancel)
        masks = segment_one(model, embedding, params, _part(progress, start, span), cancel)
        per_tile.append([shift(m, t.y0, t.x0) for m in masks])
    progress(0.95, "stitching the tiles")
    stitched = stitch(layout, per_tile)
    out = non_max_suppression(stitched, params.nms_iou_thresh)
    progress(1.0, f"{len(out)} objects")
    return out


def segment_image(
    model: SamModel,
    rgb: np.ndarray,
    params: AutoParams | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    threshold: int = TILE_ABOVE,
) -> list[AutoMask]:
    """Segment everything in an image of any size: in tiles above `threshold`, else at once."""
    from inference.segmentation.automatic import AutoParams, segment_everything

    params = params or AutoParams()
    if needs_tiling(rgb.shape, threshold):
        return segment_everything_tiled(model, rgb, params, progress, cancel)
    embedding = model.embed(rgb, _part(progress, 0.0, 0.2), cancel)
    return segment_everything(model, embedding, params, _part(progress, 0.2, 0.8), cancel)
