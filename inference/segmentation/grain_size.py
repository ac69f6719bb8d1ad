"""ASTM E112 grain size number G from a grain label image, by two methods.

Input: an integer label image of the grains, each grain one value > 0, 0 for grain-boundary
or unlabelled pixels. The grains are assumed to fill the field (a single-phase structure, as
E112 assumes); the test area and the test lines are the whole image.

Planimetric (Jeffries) method, E112 §11 for a rectangular field:
    N_eq = N_inside + ½·N_intercepted + ¼·(field corners lying in a grain)
    N_A  = N_eq / A        (grains per mm² at 1×, A = field area in mm²)
    G    = 3.321928·log10(N_A) − 2.954
"Intercepted" grains touch the image border; a grain holding a corner counts ¼ per corner
instead (E112's "+1" for the four corner grains). A corner pixel on a boundary (0) takes the
nearest grain within a few pixels.

Intercept (Heyn) method, E112 §12: straight test lines in four directions (0°, 45°, 90°, 135°)
at the same perpendicular spacing, so each direction has the same total length (orientation
averaging, as E112 asks for non-equiaxed structures). Along each line the grain-boundary
intersections P are the changes of grain label after dropping boundary pixels (0); a line
ending inside a grain counts that end as half an intercept, so N = P for lines that start and
end in grains. A diagonal step is √2 pixels long and passes through the pixel beside it (a
staircase), so crossing a corner where four grains meet counts two intersections, as on paper.
    ℓ = L_total / P_total  (mm)
    G = −6.643856·log10(ℓ) − 3.288
Both G need a calibration: without one the counts are given in pixels and G is None, with a
message that says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from inference.imaging.calibration import Calibration

MIN_GRAINS = 50  # E112: count at least 50 grains (planimetric) per field
MIN_INTERCEPTS = 50  # E112 asks for 50 or more intersections per field
DIRECTIONS = (0, 45, 90, 135)  # degrees, counter-clockwise from the image x axis, as on screen
NEEDS_CALIBRATION = "ASTM E112 grain size G needs a calibrated image (set the pixel size)"


def g_from_grains_per_mm2(n_a: float) -> float:
    """G from N_A, the number of grains per mm² at 1× (E112 planimetric formula)."""
    return 3.321928 * math.log10(n_a) - 2.954


def g_from_mean_intercept_mm(length_mm: float) -> float:
    """G from the mean lineal intercept length ℓ in mm (E112 intercept formula)."""
    return -6.643856 * math.log10(length_mm) - 3.288


@dataclass(frozen=True)
class PlanimetricCount:
    """Jeffries count on the whole field. `grains_per_mm2` and `g` are None when uncalibrated."""

    n_inside: int
    n_intercepted: int  # touch the border (corner grains excluded)
    n_corners: int  # field corners lying in a grain (each counts ¼)
    n_equivalent: float
    field_area_px: int
    grains_per_px2: float
    field_area_mm2: float | None
    grains_per_mm2: float | None
    g: float | None


@dataclass(frozen=True)
class InterceptCount:
    """Heyn count over the test lines. `*_mm` and `g` are None when uncalibrated."""

    n_lines: int
    directions: tuple[int, ...]
    spacing_px: float  # perpendicular distance between neighbouring lines of one direction
    line_length_px: float
    n_intersections: int
    mean_intercept_px: float  # NaN when no line crosses a boundary
    line_length_mm: float | None
    mean_intercept_mm: float | None
    g: float | None


@dataclass(frozen=True)
class GrainSize:
    """Both E112 estimates and what to tell the user about them (empty when all is well)."""

    planimetric: PlanimetricCount
    intercept: InterceptCount
    notes: tuple[str, ...] = ()

    @property
    def calibrated(self) -> bool:
        return self.planimetric.g is not None


def grain_size(
    labels: np.ndarray, calibration: Calibration, spacing_px: float | None = None
) -> GrainSize:
    """Planimetric and intercept G of one field, with notes on calibration and counts."""
    plan = planimetric(labels, calibration)
    heyn = intercept(labels, calibration, spacing_px)
    notes = []
    if not calibration.calibrated:
        notes.append(NEEDS_CALIBRATION)
    if plan.n_equivalent < MIN_GRAINS:
        notes.append(
            f"only {plan.n_equivalent:g} grains in the field; E112 asks for at least {MIN_GRAINS}"
        )
    if heyn.n_intersections < MIN_INTERCEPTS:
        notes.append(
            f"only {heyn.n_intersections} boundary intersections; "
            f"E112 asks for at least {MIN_INTERCEPTS}"
        )
    return GrainSize(plan, heyn, tuple(notes))


def _mm_per_px(calibration: Calibration) -> float | None:
    return calibration.to("mm").pixel_size if calibration.calibrated else None


# --- planimetric (Jeffries) ---------------------------------------------------------------------
def planimetric(labels: np.ndarray, calibration: Calibration) -> PlanimetricCount:
    """Jeffries' count: grains inside + ½ grains cut by the border + ¼ per corner in a grain."""
    labels = _check(labels)
    h, w = labels.shape
    present = _distinct(labels)
    border = np.unique(np.concatenate((labels[0], labels[-1], labels[:, 0], labels[:, -1])))
    border = border[border > 0]
    corners = [
        _corner_label(labels, r, c) for r, c in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1))
    ]
    corner_labels = {c for c in corners if c > 0}
    n_corners = sum(1 for c in corners if c > 0)
    n_intercepted = int(border.size) - len(corner_labels & {int(b) for b in border})
    n_inside = int(present.size) - int(border.size)
    n_eq = n_inside + 0.5 * n_intercepted + 0.25 * n_corners
    area_px = h * w
    mm = _mm_per_px(calibration)
    area_mm2 = area_px * mm * mm if mm else None
    n_a = n_eq / area_mm2 if area_mm2 else None
    return PlanimetricCount(
        n_inside=n_inside,
        n_intercepted=n_intercepted,
        n_corners=n_corners,
        n_equivalent=float(n_eq),
        field_area_px=area_px,
        grains_per_px2=n_eq / area_px,
        field_area_mm2=area_mm2,
        grains_per_mm2=n_a,
        g=g_from_grains_per_mm2(n_a) if n_a else None,
    )


def _distinct(labels: np.ndarray) -> np.ndarray:
    """The label values > 0 present, in blocks of rows (no image-sized temporary)."""
    top = int(labels.max())
    if top >= 1 << 26:  # sparse huge values: sort instead of a lookup table
        values = np.unique(labels)
        return values[values > 0]
    seen = np.zeros(top + 1, dtype=bool)
    rows = max(1, (1 << 22) // labels.shape[1])
    for start in range(0, labels.shape[0], rows):
        seen[labels[start : start + rows]] = True
    seen[0] = False
    return np.flatnonzero(seen)


def _corner_label(labels: np.ndarray, row: int, col: int, reach: int = 4) -> int:
    """The grain at a corner, or the nearest one within `reach` pixels when it is a boundary."""
    if labels[row, col] > 0:
        return int(labels[row, col])
    h, w = labels.shape
    r0, r1 = (0, min(reach + 1, h)) if row == 0 else (max(h - reach - 1, 0), h)
    c0, c1 = (0, min(reach + 1, w)) if col == 0 else (max(w - reach - 1, 0), w)
    patch = labels[r0:r1, c0:c1]
    rr, cc = np.nonzero(patch)
    if rr.size == 0:
        return 0
    nearest = np.argmin((rr + r0 - row) ** 2 + (cc + c0 - col) ** 2)
    return int(patch[rr[nearest], cc[nearest]])


# --- intercept (Heyn) ---------------------------------------------------------------------------
def intercept(
    labels: np.ndarray,
    calibration: Calibration,
    spacing_px: float | None = None,
    directions: tuple[int, ...] = DIRECTIONS,
) -> InterceptCount:
    """Boundary intersections along test lines; `spacing_px` defaults to 1/32 of the short side."""
    labels = _check(labels)
    h, w = labels.shape
    spacing = float(spacing_px) if spacing_px else max(1.0, min(h, w) / 32)
    n_lines, length, crossings = 0, 0.0, 0
    for direction in directions:
        for path, step in _lines(labels, direction, spacing):
            n_lines += 1
            length += path.step_count * step
            crossings += _crossings(path.values)
    mean_px = length / crossings if crossings else math.nan
    mm = _mm_per_px(calibration)
    mean_mm = mean_px * mm if mm and crossings else None
    return InterceptCount(
        n_lines=n_lines,
        directions=tuple(directions),
        spacing_px=spacing,
        line_length_px=length,
        n_intersections=crossings,
        mean_intercept_px=mean_px,
        line_length_mm=length * mm if mm else None,
        mean_intercept_mm=mean_mm,
        g=g_from_mean_intercept_mm(mean_mm) if mean_mm else None,
    )


@dataclass(frozen=True)
class _Path:
    values: np.ndarray  # labels met along the line, in order
    step_count: int  # pixels on the line proper (each one step of the line's length)


def _lines(labels: np.ndarray, direction: int, spacing: float):
    """(path, length of one step in px) for each test line of one direction."""
    h, w = labels.shape
    if direction in (0, 90):
        extent = h if direction == 0 else w
        for pos in _positions(0, extent - 1, spacing):
            values = labels[pos] if direction == 0 else labels[:, pos]
            yield _Path(values, values.size), 1.0
    elif direction in (45, 135):
        # 135° runs down-right on screen (row - col = k), 45° up-right (row + col = k)
        lo, hi = (-(w - 1), h - 1) if direction == 135 else (0, h + w - 2)
        for k in _positions(lo, hi, spacing * math.sqrt(2)):
            yield _diagonal(labels, k, direction), math.sqrt(2)
    else:
        raise ValueError(f"test lines run at 0, 45, 90 or 135 degrees, not {direction}")


def _positions(lo: int, hi: int, step: float) -> list[int]:
    """Integer offsets from lo to hi, `step` apart, centred in the range."""
    count = max(1, int((hi - lo + 1) / step))
    start = lo + ((hi - lo) - (count - 1) * step) / 2
    return sorted({int(round(start + i * step)) for i in range(count)})


def _diagonal(labels: np.ndarray, k: int, direction: int) -> _Path:
    """Pixels on a diagonal with, between each pair, the pixel to their right (the staircase)."""
    h, w = labels.shape
    if direction == 135:  # row = col + k
        col0 = max(0, -k)
        n = min(h - max(k, 0), w - col0)
        rows = np.arange(n) + max(k, 0)
        cols = np.arange(n) + col0
    else:  # row = k - col
        col0 = max(0, k - (h - 1))
        n = min(k, w - 1) - col0 + 1
        cols = np.arange(n) + col0
        rows = k - cols
    on_line = labels[rows, cols]
    beside = labels[rows[:-1], cols[:-1] + 1]
    values = np.empty(2 * n - 1, dtype=labels.dtype)
    values[0::2], values[1::2] = on_line, beside
    return _Path(values, n)


def _crossings(values: np.ndarray) -> int:
    """Changes of grain along a path, boundary pixels (0) skipped."""
    grains = values[values > 0]
    return int(np.count_nonzero(grains[1:] != grains[:-1]))


def _check(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "ui":
        raise ValueError(
            f"a grain label image is a 2-D integer array, not {labels.dtype} {labels.shape}"
        )
    return labels
