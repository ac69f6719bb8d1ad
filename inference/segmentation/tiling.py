"""Large micrographs through SAM: the layout of native-resolution tiles with overlap, and the
tiles' embeddings. Clicks on tiles are answered by `clicks.ClickSession`; segment-everything on
tiles, stitched across the seams, is `everything.segment_everything_tiled`.

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation._sam_image import as_uint8
from inference.segmentation.geometry import Rect
from inference.segmentation.sam import ImageEmbedding, SamModel

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

TILE = 1024  # the encoder's input side: tiles are embedded at native resolution
OVERLAP = 256  # see the module docstring
TILE_ABOVE = 2048  # images whose longest side exceeds this are tiled

Sides = tuple[bool, bool, bool, bool]  # top, left, bottom, right


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
        return self.window.y0

    @property
    def x0(self) -> int:
        return self.window.x0

    @property
    def shape(self) -> tuple[int, int]:
        return self.window.shape

    @property
    def slices(self) -> tuple[slice, slice]:
        return self.window.slices

    def holds(self, rect: Rect) -> bool:
        """Whether `rect` lies inside the window."""
        return self.window.holds(rect)


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
                Rect(x0, y0, x0 + tw, y0 + th),
                Rect(col_cuts[c], row_cuts[r], col_cuts[c + 1], row_cuts[r + 1]),
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
        best = self.tile_at((rect.x0 + rect.x1) / 2, (rect.y0 + rect.y1) / 2)
        if best.holds(rect):
            return best
        holding = [t for t in self.tiles if t.holds(rect)]
        return holding[0] if holding else None

    def inner_edges(self, tile: Tile) -> Sides:
        """Which of the tile's sides (top, left, bottom, right) lie inside the image, where an
        object can be cut."""
        win = tile.window
        return win.y0 > 0, win.x0 > 0, win.y1 < self.shape[0], win.x1 < self.shape[1]

    def cut_sides(self, tile: Tile, rect: Rect) -> Sides:
        """Sides (top, left, bottom, right) of the tile where something covering `rect` (image
        pixels) reaches an edge inside the image, so it may go on in the next tile."""
        top, left, bottom, right = self.inner_edges(tile)
        win = tile.window
        return (
            top and rect.y0 <= win.y0,
            left and rect.x0 <= win.x0,
            bottom and rect.y1 >= win.y1,
            right and rect.x1 >= win.x1,
        )

    def neighbours(self) -> list[tuple[Tile, Tile, Rect]]:
        """Pairs of tiles whose windows overlap, with the overlap."""
        pairs = []
        for i, a in enumerate(self.tiles):
            for b in self.tiles[i + 1 :]:
                common = a.window.intersection(b.window)
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
    to the encoder's input (for context and objects larger than a tile).

    Tiles are embedded up front (the pane: every click is then instant) or, with `encode_tile`,
    on first use (the CLI: a few clicks on a 16000² image need a few of its 441 tiles). Either
    way a tile's embedding is the encoder's answer for the same pixels, so the masks agree.
    """

    layout: TileLayout
    whole: ImageEmbedding
    _tiles: tuple[_StoredTile | None, ...]
    encode_tile: Callable[[Tile], _StoredTile] | None = None
    _lazy: dict[int, _StoredTile] = field(default_factory=dict)

    @property
    def model_id(self) -> str:
        return self.whole.model_id

    @property
    def shape(self) -> tuple[int, int]:
        return self.layout.shape

    @property
    def nbytes(self) -> int:
        """Memory held by the features (tiles and whole image)."""
        stored = [t for t in self._tiles if t is not None] + list(self._lazy.values())
        return self.whole.features.nbytes + sum(t.features.nbytes for t in stored)

    @property
    def embedded(self) -> int:
        """How many tiles hold an embedding now."""
        return sum(t is not None for t in self._tiles) + len(self._lazy)

    def holds(self, tile: Tile | int) -> bool:
        """Whether the tile's embedding is here already (`embedding` would not run the encoder)."""
        index = tile if isinstance(tile, int) else tile.index
        return self._tiles[index] is not None or index in self._lazy

    def embedding(self, tile: Tile | int) -> ImageEmbedding:
        """Tile `tile`'s embedding as the decoder takes it (float32, tile coordinates)."""
        index = tile if isinstance(tile, int) else tile.index
        stored = self._tiles[index] or self._lazy.get(index)
        if stored is None:
            if self.encode_tile is None:
                raise MatLensError(f"tile {index + 1} of this image was never embedded")
            stored = self._lazy[index] = self.encode_tile(self.layout.tiles[index])
        return ImageEmbedding(
            stored.features.astype(np.float32),
            stored.original_size,
            stored.input_size,
            self.whole.model_id,
            stored.image_hash,
            stored.from_cache,
        )


def progress_part(progress: ProgressCallback, start: float, span: float) -> ProgressCallback:
    """A progress callback for one step of a longer job."""

    def report(fraction: float, message: str = "") -> None:
        progress(start + span * fraction, message)

    return report


def embed_tiled(
    model: SamModel,
    rgb: np.ndarray,
    layout: TileLayout | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    half: bool = True,
    lazy: bool = False,
) -> TiledEmbedding:
    """Embed the whole image, then each tile (from the disk cache where it was done before).
    `half` stores tile features as float16. Progress is reported per tile; `cancel` is honoured
    between tiles and inside the encoder call. `lazy` embeds only the whole image now and each
    tile when it is first asked for."""
    pixels = as_uint8(rgb)
    layout = layout or TileLayout.for_image(pixels.shape[:2])
    if tuple(pixels.shape[:2]) != layout.shape:
        raise MatLensError(f"The tile layout is for {layout.shape}, the image is {pixels.shape}.")
    n = len(layout.tiles)
    if lazy:
        whole = model.embed(pixels, progress, cancel)
        return TiledEmbedding(layout, whole, (None,) * n, lambda t: _embed_tile(model, pixels, t))
    step = 1.0 / (n + 1)
    whole = model.embed(pixels, progress_part(progress, 0.0, step), cancel)
    stored = []
    for tile in layout.tiles:
        if cancel is not None:
            cancel.raise_if_cancelled()
        start = step * (tile.index + 1)
        progress(start, f"embedding tile {tile.index + 1} of {n}")
        stored.append(_embed_tile(model, pixels, tile, cancel, half))
    progress(1.0, f"{n} tiles embedded")
    return TiledEmbedding(layout, whole, tuple(stored))


def _embed_tile(
    model: SamModel,
    pixels: np.ndarray,
    tile: Tile,
    cancel: CancelToken | None = None,
    half: bool = True,
) -> _StoredTile:
    emb = model.embed(pixels[tile.slices], no_progress, cancel)
    features = emb.features.astype(np.float16) if half else emb.features
    return _StoredTile(features, emb.original_size, emb.input_size, emb.image_hash, emb.from_cache)
