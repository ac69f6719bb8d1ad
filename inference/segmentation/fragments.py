"""Whether SAM's smaller answer to a click is a fragment of a larger one, read from the image
along their outlines.

On Super1 the one decision that costs most is SAM's smaller mask (part of a large tertiary
precipitate) shown where a larger candidate is the whole precipitate. The smaller mask is
nested in the larger, so where they differ, the smaller's outline runs *inside* the larger
one. If it runs along a real edge there (a boundary between two touching particles), the
smaller mask is an object of its own; if the grey level hardly changes across it (inside ≈
outside), it cuts through one object, and the larger mask is the whole.

So, on a crop around both masks (each cut to its 8-connected part holding the click):

1. the gradient magnitude of the grey image (mean of the channels, Gaussian σ = 1 px, Sobel);
2. the *stretch*: the pixels of the smaller mask's outline farther than 2 px from the
   larger's outline (inside it);
3. the ratio of the median gradient on the stretch to the median gradient on the larger
   mask's outline: near 1 where the stretch is an edge as strong as the larger's own, near 0
   where it crosses the inside of one object.

Outline pixels on the image border are not counted (no edge is seen there). Pure numpy/scipy
on a crop (a few ms); no model, no Qt. `click_policy` decides what the ratio means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from inference.segmentation.local_contrast import _grey
from inference.segmentation.masks import components

_EIGHT = np.ones((3, 3), bool)
MARGIN = 8  # px around the masks: the σ = 1 Gaussian and Sobel see the same pixels as on
# the whole image
INSIDE_PX = 2  # the stretch is farther than this from the larger mask's outline


@dataclass(frozen=True)
class OutlineContrast:
    """How the smaller mask's outline inside the larger compares with the larger's outline."""

    stretch_px: int  # pixels of the smaller's outline inside the larger
    ratio: float  # median gradient on the stretch / median gradient on the larger's outline


def outline_contrast(
    grey_window: np.ndarray, small: np.ndarray, large: np.ndarray, click: tuple[int, int]
) -> OutlineContrast | None:
    """`small` and `large` (bool, the shape of `grey_window`, which is the image's pixels
    there, HxW or HxWxC) seen at the pixel `click` (row, col) of the window. The window should
    hold both masks with `MARGIN` px to spare, except where it meets the image border.
    None where the smaller mask has no outline inside the larger or the larger has none."""
    small, large = _clicked_part(small, click), _clicked_part(large, click)
    large_outline = _outline(large)
    small_outline = _outline(small)
    near = np.asarray(ndi.binary_dilation(large_outline | ~large, _EIGHT, INSIDE_PX), bool)
    stretch = small_outline & ~near
    if not stretch.any() or not large_outline.any():
        return None
    grey = ndi.gaussian_filter(_grey(grey_window), 1.0)
    gradient = np.hypot(ndi.sobel(grey, 0), ndi.sobel(grey, 1))
    edge = float(np.median(gradient[large_outline]))
    if edge <= 0:
        return None
    inner = float(np.median(gradient[stretch]))
    return OutlineContrast(int(np.count_nonzero(stretch)), inner / edge)


def _outline(mask: np.ndarray) -> np.ndarray:
    """The mask's pixels with a neighbour outside it; beyond the array counts as inside, so a
    mask running off the image has no outline there."""
    return mask & ~np.asarray(ndi.binary_erosion(mask, _EIGHT, border_value=1), bool)


def _clicked_part(mask: np.ndarray, click: tuple[int, int]) -> np.ndarray:
    """The 8-connected part holding the click (the whole mask where the click misses it)."""
    labels, _ = components(mask, _EIGHT)
    k = labels[click]
    return labels == k if k else mask
