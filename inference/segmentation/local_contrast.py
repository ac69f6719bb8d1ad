"""A region grown from a click on the image's local contrast: the magic wand, made to follow
thin lines and small spots, with its tolerance taken from the clicked pixel itself.

SAM's masks for a click on a thin crack are poor (its low-res map has 4 image pixels per cell
on a 1024² image; a crack is 2-4 pixels wide): it answers with the pore the crack passes
through, or with the coating around it. The plain wand leaks along the dark pores. What
separates a crack from its surroundings is its *local* contrast: it is darker than everything
within a few pixels. So, in a window around the click:

1. the grey image (mean of the channels, Gaussian σ = 1 px, as the wand compares);
2. its top-hat with a `size`² square: for a click darker than its neighbourhood, how much
   darker each pixel is than the brightest of its neighbours (the grey closing minus the
   image); for a brighter click the converse. A structure thinner than `size` stands out,
   flat areas and wide objects vanish;
3. the 8-connected part holding the click of the pixels whose contrast is at least `level` ×
   the click's own (the tolerance comes from the clicked pixel, not from a slider).

Pure numpy/scipy on a window (a few ms); no model, no Qt. `click_policy` decides whether the
region or one of SAM's masks is shown first. Parameters chosen on the NASA MicroNet train
splits (`benchmarks/sam_accuracy.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EIGHT = np.ones((3, 3), bool)


@dataclass(frozen=True)
class ContrastParams:
    half_window: int = 96  # px around the click that the region may reach
    size: int = 7  # px: the top-hat's square; lines thinner than this stand out
    level: float = 0.5  # keep pixels with at least this share of the click's contrast


@dataclass(frozen=True)
class Window:
    """Rows y0:y1 and columns x0:x1 of the image around a click."""

    y0: int
    y1: int
    x0: int
    x1: int

    @classmethod
    def around(cls, shape: tuple[int, ...], x: float, y: float, half: int) -> Window:
        h, w = shape[:2]
        cx, cy = min(max(int(x), 0), w - 1), min(max(int(y), 0), h - 1)
        return cls(
            max(cy - half, 0), min(cy + half + 1, h), max(cx - half, 0), min(cx + half + 1, w)
        )

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)


@dataclass(frozen=True, eq=False)
class LocalPatch:
    """The grey window around a click and what the policy measures on it."""

    grey: np.ndarray  # float32, Gaussian σ = 1
    window: Window
    click: tuple[int, int]  # (row, col) in the window
    noise: float  # robust standard deviation of the grey minus its σ = 2 smoothing

    @property
    def clicked_value(self) -> float:
        r, c = self.click
        return float(np.median(self.grey[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]))


def local_patch(image: np.ndarray, x: float, y: float, half: int = 96) -> LocalPatch:
    """The grey window of `image` (HxW or HxWxC) around the click (x, y)."""
    from scipy import ndimage as ndi

    window = Window.around(image.shape, x, y, half)
    pixels = np.asarray(image[window.slices], np.float32)
    if pixels.ndim == 3:
        pixels = pixels.mean(axis=2)
    grey = ndi.gaussian_filter(pixels, 1.0)
    detail = grey - ndi.gaussian_filter(grey, 2.0)
    noise = 1.4826 * float(np.median(np.abs(detail - np.median(detail))))
    click = (min(max(int(y), 0), image.shape[0] - 1) - window.y0,
             min(max(int(x), 0), image.shape[1] - 1) - window.x0)  # fmt: skip
    return LocalPatch(grey, window, click, noise)


@dataclass(frozen=True, eq=False)
class ContrastRegion:
    """The region, cropped to its bounding box at `offset` (y0, x0) in the image."""

    mask: np.ndarray  # bool
    offset: tuple[int, int]
    polarity: str  # "dark" (the click is darker than its neighbourhood) or "bright"
    snr: float  # the click's contrast over the image's noise
    elongation: float  # square root of the ratio of its second moments: 1 for a disc

    @property
    def area(self) -> int:
        return int(np.count_nonzero(self.mask))


def contrast_region(
    patch: LocalPatch, params: ContrastParams = ContrastParams()
) -> ContrastRegion | None:
    """The region grown from the click (module docstring), or None where the click has no
    local contrast at all."""
    from scipy import ndimage as ndi

    grey, size = patch.grey, (params.size, params.size)
    r, c = patch.click
    near = (slice(max(r - 1, 0), r + 2), slice(max(c - 1, 0), c + 2))
    # Which way the click stands out, from a small piece around it (a closing reaches 2 × the
    # half square): then only that top-hat is computed on the whole window.
    reach = params.size + 2
    top, left = max(r - reach, 0), max(c - reach, 0)
    piece = grey[top : r + reach + 1, left : c + reach + 1]
    around = (slice(near[0].start - top, near[0].stop - top),
              slice(near[1].start - left, near[1].stop - left))  # fmt: skip
    dark_at = float((ndi.grey_closing(piece, size=size) - piece)[around].max())
    bright_at = float((piece - ndi.grey_opening(piece, size=size))[around].max())
    if dark_at >= bright_at:
        polarity, value, contrast = "dark", dark_at, ndi.grey_closing(grey, size=size) - grey
    else:
        polarity, value, contrast = "bright", bright_at, grey - ndi.grey_opening(grey, size=size)
    if value <= 0:
        return None
    labels = np.zeros(grey.shape, np.int32)
    ndi.label(contrast >= params.level * value, _EIGHT, output=labels)
    label = labels[r, c]
    if label == 0:  # the click sits beside the line's crest: take the part next to it
        nearby = labels[near][labels[near] > 0]
        if nearby.size == 0:
            return None
        label = int(np.bincount(nearby).argmax())
    region = labels == label
    found = ndi.find_objects(region.astype(np.int8))[0]
    assert found is not None
    mask = region[found]
    w = patch.window
    return ContrastRegion(
        mask,
        (w.y0 + found[0].start, w.x0 + found[1].start),
        polarity,
        value / max(patch.noise, 1e-6),
        elongation(mask),
    )


def elongation(mask: np.ndarray) -> float:
    """sqrt(λ1 / λ2) of the covariance of the mask's pixel positions (each pixel a unit
    square): 1 for a disc or a square, its length over its width for a straight line."""
    rows, cols = np.nonzero(mask)
    if rows.size < 2:
        return 1.0
    cov = np.cov(np.stack([rows, cols]).astype(np.float64)) + np.eye(2) / 12
    small, large = np.linalg.eigvalsh(cov)
    return float(np.sqrt(large / small))


def typicality(patch: LocalPatch, mask: np.ndarray) -> float:
    """How far the clicked pixel lies from the grey values of `mask` (a boolean of the patch's
    window): |clicked − median| / (median absolute deviation + noise). Small when the mask is
    made of what was clicked; large when it holds the click but is made of something else
    (the coating around a crack)."""
    values = patch.grey[mask]
    if values.size == 0:
        return float("inf")
    median = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - median)))
    return abs(patch.clicked_value - median) / (spread + patch.noise + 1e-6)
