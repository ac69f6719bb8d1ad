"""Whether SAM's smaller answer to a click is a fragment of a larger one, read from the image
along their outlines.

On Super1 the one decision that costs most is SAM's smaller mask (part of a large tertiary
precipitate) shown where a larger candidate is the whole precipitate. The smaller mask is
nested in the larger, so where they differ, the smaller's outline runs *inside* the larger
one. If it runs along a real edge there (a boundary between two touching particles), the
smaller mask is an object of its own; if the grey level hardly changes across it (inside ≈
outside), it cuts through one object, and the larger mask is the whole.

So, on a crop around both masks (each cut to its 8-connected part holding the click):

1. the gradient magnitude of the grey image (mean of the channels, Gaussian σ = 1 px, Sobel),
   taken at the outline pixels only;
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

from inference.segmentation.local_contrast import grey_level
from inference.segmentation.masks import EIGHT, components

MARGIN = 8  # px around the masks: the σ = 1 Gaussian and Sobel see the same pixels as on
# the whole image
INSIDE_PX = 2  # the stretch is farther than this from the larger mask's outline
_SIGMA = 1.0


def _kernels() -> tuple[np.ndarray, np.ndarray]:
    """Sobel after a Gaussian (σ = 1, 4σ wide as scipy's), as one 11-tap derivative and one
    11-tap smoothing kernel: the gradient is needed at outline pixels only, so it is taken
    there instead of filtering a crop that can be most of a 1024² frame."""
    k = np.arange(-4, 5, dtype=np.float64)
    gauss = np.exp(-0.5 * (k / _SIGMA) ** 2)
    gauss /= gauss.sum()
    return np.convolve([-1.0, 0.0, 1.0], gauss), np.convolve([1.0, 2.0, 1.0], gauss)


_DERIVATIVE, _SMOOTHING = _kernels()
_REACH = len(_DERIVATIVE) // 2


@dataclass(frozen=True)
class OutlineContrast:
    """How the smaller mask's outline inside the larger compares with the larger's outline."""

    stretch_px: int  # pixels of the smaller's outline inside the larger
    ratio: float  # median gradient on the stretch / median gradient on the larger's outline


def outline_contrast(
    pixels: np.ndarray, small: np.ndarray, large: np.ndarray, click: tuple[int, int]
) -> OutlineContrast | None:
    """`small` and `large` (bool, the shape of `pixels`, the image there, HxW or HxWxC) seen
    at the pixel `click` (row, col). `pixels` should hold both masks with `MARGIN` px to spare,
    except where it meets the image border. None where the smaller mask has no outline inside
    the larger or the larger has none."""
    small, large = _clicked_part(small, click), _clicked_part(large, click)
    large_outline = _outline(large)
    small_outline = _outline(small)
    # farther than INSIDE_PX from the larger's outline and from everything outside it (the
    # array's edge does not count: the mask runs off the image there)
    clear = np.pad(large & ~large_outline, INSIDE_PX, constant_values=True)
    rows, cols = np.nonzero(small_outline)
    side = 2 * INSIDE_PX + 1
    inside = np.lib.stride_tricks.sliding_window_view(clear, (side, side))[rows, cols]
    keep = inside.all(axis=(1, 2))
    stretch = (rows[keep], cols[keep])
    if not keep.any() or not large_outline.any():
        return None
    grey = np.pad(grey_level(pixels), _REACH, mode="symmetric")  # scipy's "reflect"
    edge_rows, edge_cols = np.nonzero(large_outline)
    edge = float(np.median(_gradient(grey, (edge_rows, edge_cols))))
    if edge <= 0:
        return None
    inner = float(np.median(_gradient(grey, stretch)))
    return OutlineContrast(int(np.count_nonzero(keep)), inner / edge)


def _gradient(padded: np.ndarray, at: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The gradient magnitude of the σ = 1 smoothed grey level at pixels `at` of the grey
    image padded by `_REACH`."""
    side = 2 * _REACH + 1
    patches = np.lib.stride_tricks.sliding_window_view(padded, (side, side))[at]
    along_rows = np.einsum("nab,a,b->n", patches, _DERIVATIVE, _SMOOTHING)
    along_cols = np.einsum("nab,a,b->n", patches, _SMOOTHING, _DERIVATIVE)
    return np.hypot(along_rows, along_cols)


def _outline(mask: np.ndarray) -> np.ndarray:
    """The mask's pixels with a neighbour outside it; beyond the array counts as inside, so a
    mask running off the image has no outline there."""
    h, w = mask.shape
    padded = np.pad(mask, 1, constant_values=True)
    inner = mask.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            inner &= padded[dy : dy + h, dx : dx + w]
    return mask & ~inner


def _clicked_part(mask: np.ndarray, click: tuple[int, int]) -> np.ndarray:
    """The 8-connected part holding the click (the whole mask where the click misses it)."""
    labels, _ = components(mask, EIGHT)
    k = labels[click]
    return labels == k if k else mask
