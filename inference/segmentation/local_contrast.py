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

from inference.segmentation.masks import tight

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
    grey = ndi.gaussian_filter(grey_level(image[window.slices]), 1.0)
    detail = grey - ndi.gaussian_filter(grey, 2.0)
    # Both medians partition their array in place instead of a copy: `detail` is not used
    # again, and the order of its values does not change the spread around its median.
    centre = np.median(detail, overwrite_input=True)
    noise = 1.4826 * float(np.median(np.abs(detail - centre), overwrite_input=True))
    click = (min(max(int(y), 0), image.shape[0] - 1) - window.y0,
             min(max(int(x), 0), image.shape[1] - 1) - window.x0)  # fmt: skip
    return LocalPatch(grey, window, click, noise)


def grey_level(pixels: np.ndarray) -> np.ndarray:
    """The mean of the channels as float32. A grey micrograph stored as RGB (equal channels, the
    usual case) is its first channel: the same numbers (the mean of three equal 8-bit values is
    exact in float32) without averaging three float planes."""
    if pixels.ndim == 2:
        return pixels.astype(np.float32)
    first = pixels[..., 0]
    if pixels.dtype == np.uint8 and all(
        np.array_equal(first, pixels[..., k]) for k in range(1, pixels.shape[2])
    ):
        return first.astype(np.float32)
    return np.asarray(pixels, np.float32).mean(axis=2)


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


@dataclass(frozen=True)
class ClickContrast:
    """How the clicked pixel stands out: known before the region is traced (a few hundred
    microseconds), so that the policy can decide whether the region's shape matters."""

    polarity: str  # "dark" or "bright"
    value: float  # the click's top-hat contrast (> 0)
    snr: float  # value over the patch's noise


def click_contrast(
    patch: LocalPatch, params: ContrastParams = ContrastParams()
) -> ClickContrast | None:
    """Which way the click stands out and by how much, or None where it has no local contrast
    at all, or where `level` asks for more than the click's own (then there is no region)."""
    from scipy import ndimage as ndi

    grey, size = patch.grey, (params.size, params.size)
    r, c = patch.click
    # From a small piece around the click: a closing reaches 2 × the half square, so the
    # values next to the click are those of the whole window.
    reach = params.size + 2
    top, left = max(r - reach, 0), max(c - reach, 0)
    piece = grey[top : r + reach + 1, left : c + reach + 1]
    around = (slice(max(r - 1, 0) - top, r + 2 - top), slice(max(c - 1, 0) - left, c + 2 - left))
    dark_at = float((ndi.grey_closing(piece, size=size) - piece)[around].max())
    bright_at = float((piece - ndi.grey_opening(piece, size=size))[around].max())
    polarity, value = ("dark", dark_at) if dark_at >= bright_at else ("bright", bright_at)
    if value <= 0 or params.level > 1:
        return None
    return ClickContrast(polarity, value, value / max(patch.noise, 1e-6))


# Half-sides of the crops around the click that the region is traced in first (most regions
# reach less than 32 px from the click: the median on the MicroNet val clicks is 19 px);
# None is the whole window.
_CROPS = (32, None)


def trace_region(
    patch: LocalPatch, contrast: ClickContrast, params: ContrastParams = ContrastParams()
) -> ContrastRegion:
    """The region of the click's contrast (module docstring, step 3).

    It is traced in a crop around the click first. The top-hat of a pixel depends only on the
    grey values within `size` of it (2 × the half square) and, at the window's sides, on the
    same border rule, so inside the crop, `size` px away from the sides that cut the window,
    the top-hat is the whole window's to the bit. A part that stays there with the ring of
    pixels around it is therefore a part of the whole window too, and when the parts the click
    may take are all such, the region is the whole window's; otherwise the whole window is
    traced.
    """
    from scipy import ndimage as ndi

    grey, size = patch.grey, (params.size, params.size)
    r, c = patch.click
    height, width = grey.shape
    margin = params.size
    for half in _CROPS:
        if half is None:
            rows, cols = slice(0, height), slice(0, width)
        else:
            rows = slice(max(r - half - margin, 0), min(r + half + margin + 1, height))
            cols = slice(max(c - half - margin, 0), min(c + half + margin + 1, width))
        crop = grey[rows, cols]
        if contrast.polarity == "dark":
            top_hat = ndi.grey_closing(crop, size=size) - crop
        else:
            top_hat = crop - ndi.grey_opening(crop, size=size)
        labels = np.zeros(crop.shape, np.int32)
        ndi.label(top_hat >= params.level * contrast.value, _EIGHT, output=labels)
        y, x = r - rows.start, c - cols.start
        label = int(labels[y, x])
        candidates = [label]
        if label == 0:  # the click sits beside the line's crest: take the part next to it
            near = labels[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2]
            near = near[near > 0]  # never empty: a pixel there has the click's full contrast
            label = int(np.bincount(near).argmax())  # a tie goes to the first part
            candidates = [int(k) for k in np.unique(near)]
        if half is not None:
            boxes = ndi.find_objects(labels, max_label=max(candidates))
            # the rows and columns whose top-hat is the whole window's; one more beyond a
            # side of the window, where the ring around a part has no pixel to check
            h, w = crop.shape
            limits = (
                -1 if rows.start == 0 else margin,
                h + 1 if rows.stop == height else h - margin,
                -1 if cols.start == 0 else margin,
                w + 1 if cols.stop == width else w - margin,
            )
            if not all(_kept_inside(boxes[k - 1], limits) for k in candidates):
                continue
        cut = tight(labels == label)
        assert cut is not None
        mask, (y0, x0) = cut
        window = patch.window
        offset = (window.y0 + rows.start + y0, window.x0 + cols.start + x0)
        return ContrastRegion(mask, offset, contrast.polarity, contrast.snr, elongation(mask))
    raise AssertionError("the whole window always gives the region")


def _kept_inside(box: tuple[slice, slice], limits: tuple[int, int, int, int]) -> bool:
    """Whether the part in `box` and the ring of pixels around it lie in rows
    limits[0]:limits[1] and columns limits[2]:limits[3] of the crop."""
    top, bottom, left, right = limits
    rows, cols = box
    return (
        rows.start - 1 >= top
        and rows.stop + 1 <= bottom
        and cols.start - 1 >= left
        and cols.stop + 1 <= right
    )


def contrast_region(
    patch: LocalPatch, params: ContrastParams = ContrastParams()
) -> ContrastRegion | None:
    """The region grown from the click (module docstring), or None where the click has no
    local contrast at all."""
    contrast = click_contrast(patch, params)
    return None if contrast is None else trace_region(patch, contrast, params)


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
