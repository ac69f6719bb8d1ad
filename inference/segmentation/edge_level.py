"""Where to cut a small SAM answer: the logit level whose outline runs along the image's edge.

SAM's mask is its logits cut at 0, upscaled from a 256² map: on a 512² micrograph one low-res
cell is 2 × 2 pixels, and the cut lands within a pixel or so of the object's edge, a little
inside on one object and a little outside on the next. For an object 6-12 px across (Super1's
secondary precipitates) a pixel of outline is a tenth of its IoU. The image says where the edge
is: the grey level changes fastest there. So the answer is cut at the level, among `levels`
logits around 0, whose outline has the strongest grey-level gradient on average (the mean over
the pixels just inside the outline and over those just outside, σ = `sigma` px), and at 0 when
no level beats it. Only answers of at most `max_px` pixels are cut so: on large ones (coating
bands of EBC1) a strong edge a few pixels away (a crack along the band) pulls the outline
there, and a pixel of outline matters little.

Pure numpy/scipy on a crop around the mask (a few ms); no model, no Qt. `click_policy` (rule 8)
holds the parameters; `clicks.ClickSession` applies it to the answer shown first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.segmentation.local_contrast import grey_level

_CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
MARGIN = 6  # px around the widest mask: its outer outline and the gradient's support


@dataclass(frozen=True)
class EdgeLevels:
    """Rule 8's parameters (see the module docstring)."""

    reach: float = 3.0  # logits tried on either side of 0; 0 turns the rule off
    step: float = 0.5
    sigma: float = 0.7  # px, the Gaussian of the gradient
    max_px: int = 12_000  # larger answers keep the cut at 0

    @property
    def levels(self) -> np.ndarray:
        n = round(self.reach / self.step)
        return np.arange(-n, n + 1) * self.step


def edge_level(
    logits: np.ndarray,
    pixels: np.ndarray,
    click: tuple[int, int],
    params: EdgeLevels = EdgeLevels(),
) -> float:
    """The level to cut at, as logits to *add* before the cut at 0 (0.0: keep SAM's cut).

    `logits`: the answer's upscaled logits on a crop of the image (`MaskMapper.upscale`) that
    holds the mask at every level tried with `MARGIN` px to spare where the image allows;
    `pixels`: the image on the same crop (HxW or HxWxC); `click` (row, col) in the crop: a
    level whose mask leaves the clicked pixel out is not taken."""
    if params.reach <= 0:
        return 0.0
    area = int(np.count_nonzero(logits > 0))
    if area == 0 or area > params.max_px:
        return 0.0
    from scipy import ndimage as ndi

    gradient = ndi.gaussian_gradient_magnitude(grey_level(pixels), params.sigma)
    lowest = ndi.minimum_filter(logits, footprint=_CROSS, mode="nearest")
    highest = ndi.maximum_filter(logits, footprint=_CROSS, mode="nearest")
    at_click = float(logits[click])
    best, best_score = 0.0, _outline_gradient(logits, lowest, highest, gradient, 0.0)
    for cut in params.levels:
        if cut == 0 or at_click <= cut:
            continue
        score = _outline_gradient(logits, lowest, highest, gradient, float(cut))
        if score > best_score:
            best, best_score = float(cut), score
    return -best


def _outline_gradient(
    logits: np.ndarray, lowest: np.ndarray, highest: np.ndarray, gradient: np.ndarray, cut: float
) -> float:
    """The mean gradient on the mask's inner outline (its pixels with a 4-neighbour outside)
    and on its outer one (the pixels outside with a 4-neighbour inside), averaged; -inf where
    the mask at `cut` is empty or fills the crop."""
    inside = logits > cut
    inner = inside & (lowest <= cut)
    outer = ~inside & (highest > cut)
    if not inner.any() or not outer.any():
        return -np.inf
    return 0.5 * (float(gradient[inner].mean()) + float(gradient[outer].mean()))
