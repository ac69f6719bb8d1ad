"""Segment everything in an image of any size: at once up to `tiling.TILE_ABOVE` px, above it in
native-resolution tiles whose masks are stitched across the seams (`stitching`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation._sam_image import as_uint8
from inference.segmentation.automatic import AutoParams, segment_everything
from inference.segmentation.masks import AutoMask, non_max_suppression, shift
from inference.segmentation.stitching import stitch
from inference.segmentation.tiling import (
    OVERLAP,
    TILE,
    TILE_ABOVE,
    TiledEmbedding,
    TileLayout,
    needs_tiling,
    progress_part,
)

if TYPE_CHECKING:
    import numpy as np

    from inference.segmentation.sam import SamModel


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
        masks = segment_everything(
            model, embedding, params, progress_part(progress, start, span), cancel, pixels[t.slices]
        )
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
    params = params or AutoParams()
    if needs_tiling(rgb.shape, threshold):
        return segment_everything_tiled(model, rgb, params, progress, cancel)
    embedding = model.embed(rgb, progress_part(progress, 0.0, 0.2), cancel)
    return segment_everything(
        model, embedding, params, progress_part(progress, 0.2, 0.8), cancel, rgb
    )
