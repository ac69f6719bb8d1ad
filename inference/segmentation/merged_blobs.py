"""The clicked blob of a small SAM mask that swallowed its neighbours.

On a superalloy, small secondary precipitates (~100-300 px on a 512² frame) sit in clusters a
few pixels apart. SAM's low-res map (256² cells for the 1024 input: 2 image pixels per cell on
a 512² frame) cannot always place the gap between two of them, and its mask for a click on one
takes in one or two neighbours: IoU 0.26-0.51 against the clicked precipitate. In the image the
neighbours stay apart: each is a dark (or bright) basin of the grey level, and the pixels
between them are lighter. So, inside the mask only:

1. the grey window of the click (`local_contrast.LocalPatch`, Gaussian σ = 1), smoothed to
   σ = `sigma` px, turned so that the clicked object is dark;
2. its basins at least `depth` × the image's noise deep (h-minima): one per blob;
3. with two or more, a watershed from them inside the mask, and the basin holding the click is
   the answer, when it keeps between `share` and 1 - `share` of the mask (a sliver or nearly
   the whole mask is no split).

Only for masks of at most `max_cells` cells of SAM's low-res map: larger objects are outlined
well and their texture makes basins that are no neighbours. Pure numpy/scipy/scikit-image on
the mask's bounding box (a millisecond); no model, no Qt.

Chosen on the Super1 train split, 1-click IoU of the answer shown first as the pane answers
(`benchmarks/click_refinements.py`): depth 4 × noise, σ 2, 150 cells (600 px on a 512² frame),
share 0.2: Super1 train 0.871 → 0.874 (7 of 421 clicks changed, 6 better); val 0.872 → 0.875
(1 of 155, 0.26 → 0.63); EBC1 train 0.455 → 0.456, val unchanged. Depth 1.5 × noise split
single precipitates (train 0.869); 250 cells split large ones (0.870). On Super1 test it lost
(0.864 → 0.859, `benchmarks/sam_accuracy.py --pane`): 3 of the 4 clicks it changed were on two
touching precipitates that the annotation counts as one object (an 8-connected region of the
class map), and the cut kept the clicked one. The split cannot tell a neighbour that touches
from one that does not; requiring the neck between the blobs to be nearly as light as the
matrix only lowered the train gain. `click_policy.ClickPolicy.split` is therefore off by
default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inference.segmentation.masks import components

if TYPE_CHECKING:
    from inference.segmentation.local_contrast import LocalPatch

_EIGHT = np.ones((3, 3), bool)


@dataclass(frozen=True)
class BlobSplit:
    """Thresholds of the split (module docstring)."""

    max_cells: int = 150  # SAM low-res cells: larger masks are never split
    depth: float = 4.0  # × the patch's noise: how deep a blob's basin must be
    sigma: float = 2.0  # px: the grey level's smoothing (at least the patch's σ = 1)
    share: float = 0.2  # the kept blob holds between share and 1 - share of the mask


def clicked_blob(
    patch: LocalPatch, mask: np.ndarray, offset: tuple[int, int], params: BlobSplit = BlobSplit()
) -> np.ndarray | None:
    """The part of `mask` (a boolean crop at `offset` (y0, x0) in the image) that holds the
    patch's click, when the mask holds several blobs of the grey level; None when it holds one
    (or the split is not clear, or the mask leaves the patch's window)."""
    from scipy import ndimage as ndi
    from skimage.morphology import h_minima
    from skimage.segmentation import watershed

    w = patch.window
    y0, x0 = offset
    y1, x1 = y0 + mask.shape[0], x0 + mask.shape[1]
    if y0 < w.y0 or x0 < w.x0 or y1 > w.y1 or x1 > w.x1:
        return None
    area = int(np.count_nonzero(mask))
    row, col = patch.click[0] + w.y0 - y0, patch.click[1] + w.x0 - x0
    if area == 0 or not (0 <= row < mask.shape[0] and 0 <= col < mask.shape[1]):
        return None
    grey = patch.grey[y0 - w.y0 : y1 - w.y0, x0 - w.x0 : x1 - w.x0]
    more = max(params.sigma**2 - 1.0, 0.0) ** 0.5  # the patch is already at σ = 1
    smooth = ndi.gaussian_filter(grey, more) if more else grey
    # The clicked object's polarity: its mask against a 3 px ring around it, in the patch.
    top, left = max(y0 - 3, w.y0), max(x0 - 3, w.x0)
    bottom, right = min(y1 + 3, w.y1), min(x1 + 3, w.x1)
    around = patch.grey[top - w.y0 : bottom - w.y0, left - w.x0 : right - w.x0]
    local = np.zeros(around.shape, bool)
    local[y0 - top : y1 - top, x0 - left : x1 - left] = mask
    ring = ndi.binary_dilation(local, _EIGHT, iterations=3) & ~local
    if ring.any() and np.median(around[local]) > np.median(around[ring]):
        smooth = -smooth  # a bright object: its blobs are maxima
    seeds, count = components(h_minima(smooth, params.depth * patch.noise) & mask, _EIGHT)
    if count < 2:
        return None
    basins = watershed(smooth, seeds, mask=mask)
    clicked = basins[row, col]
    kept = basins == clicked
    share = np.count_nonzero(kept) / area
    if not clicked or not params.share <= share <= 1.0 - params.share:
        return None
    return kept
