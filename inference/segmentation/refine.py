"""The click policy around the SAM decoder: which candidate to show, what to feed back, where to
look closer. No Qt; `clicks.ClickSession` applies it, with `click_policy` choosing the first
click's answer under `DEFAULT`. `benchmarks/sam_accuracy.py` measures each rule on NASA
MicroNet (SEM).

- One click is ambiguous and SAM's predicted IoU is a poor judge of its three answers on
  micrographs. The *stability* of a mask (how little it moves when the logit threshold moves)
  picks the right one more often: 1-click mIoU 0.830 → 0.859 on Super1, 0.137 → 0.148 on EBC1.
- A later click corrects the mask the user sees: its low-res logits go back to the decoder as
  `mask_input` (SAM's iterative protocol), so the click edits it. NoC@85 2.96 → 2.75 on Super1.
- Small objects (first mask under a quarter of the image) are segmented again in a window half
  the image wide, embedded on its own: SAM at twice the resolution, for one encoder run on the
  first click (~0.7 s on 2 CPU cores). Super1 NoC 2.76 → 2.48 and 1-click mIoU 0.859 → 0.870;
  EBC1 cracks 0.068 → 0.106. Smaller windows help cracks more but lose the context that
  precipitates need.
- `masks.postprocess` (keep the clicked part, fill holes, drop islands) moved no score by more than
  0.001 and keeping only the clicked part cut EBC1 oxide bands apart, so `DEFAULT` skips it.
- A second decoder pass on the first click (the shown logits back as `mask_input` with the same
  click, or the shown mask's bounding box as a box prompt, kept only when it agrees with the first)
  moved the pane's 1-click IoU by at most +0.002 on train and val and costs a decoder run, so
  `DEFAULT` makes none (`benchmarks/click_refinements.py`). What helped is `click_policy`'s cut of
  large masks at -2 logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.segmentation.sam import MaskCandidate

from inference.segmentation.click_policy import ClickPolicy


@dataclass(frozen=True)
class RefinePolicy:
    """What MatLens does around the decoder. `RAW` is plain SAM, `DEFAULT` the measured best."""

    # first click: "policy" (`click_policy`: SAM's masks and the local-contrast region),
    # "stability" (SAM's most stable mask) or "score" (SAM's predicted IoU)
    select: str = "policy"
    clicks: ClickPolicy = ClickPolicy()  # the thresholds of "policy"
    stability_offset: float = 2.0  # logit margin of `stability_score` (1 to 4 score alike)
    mask_input: bool = True  # later clicks refine the shown mask's logits
    # zoom when the first mask spans less than this x the longest side; only in sessions
    # given the `image` (the pane and the CLI give none: a zoom costs an encoder run)
    zoom_below: float = 0.25
    zoom_window: float = 0.5  # the zoom window's side, x the image's longest side
    keep_clicked: bool = False  # postprocess: keep only parts holding a positive click
    fill_holes_px: int = 0  # postprocess: fill enclosed holes up to this area
    min_island_px: int = 0  # postprocess: drop parts smaller than this without a click

    @property
    def cleans(self) -> bool:
        return self.keep_clicked or self.fill_holes_px > 0 or self.min_island_px > 0


RAW = RefinePolicy(select="score", mask_input=False, zoom_below=0.0)
DEFAULT = RefinePolicy()


def stability_score(logits: np.ndarray, offset: float = 2.0) -> float:
    """IoU of the mask thresholded at +offset and at -offset, as SAM's automatic generator
    scores masks: an outline that follows an edge in the image hardly moves."""
    outer = int(np.count_nonzero(logits > -offset))
    return int(np.count_nonzero(logits > offset)) / outer if outer else 0.0


def choose_candidate(
    candidates: Sequence[MaskCandidate], policy: RefinePolicy = DEFAULT
) -> MaskCandidate:
    """The candidate to show first for a one-click prompt by SAM's own measures ("policy" is
    `ClickSession`'s: here it falls back to stability)."""
    if policy.select == "score":
        return max(candidates, key=lambda c: c.score)
    return max(candidates, key=lambda c: stability_score(c.logits_lowres, policy.stability_offset))
