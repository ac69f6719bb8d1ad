"""ASTM E112 grain size on grain maps whose answer is known by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inference.imaging.calibration import Calibration
from inference.segmentation.annotations import AnnotationSet, ImageIdentity, ObjectClass
from inference.segmentation.grain_size import (
    NEEDS_CALIBRATION,
    g_from_grains_per_mm2,
    g_from_mean_intercept_mm,
    grain_size,
    intercept,
    planimetric,
)
from inference.segmentation.labels import annotations_from_labels
from inference.segmentation.summary import summarise_image

CAL = Calibration(0.5, "µm", "test")  # 0.5 µm per pixel


def square_grains(k: int, side: int, boundary: bool = False) -> np.ndarray:
    """k × k square grains of `side` px, shifted by half a grain so that the field border cuts
    the outer grains in half and the corners in quarters, as a field laid on a real section:
    the field then holds exactly k² grains' worth of area. With `boundary`, one-pixel boundary
    lines (0) separate the grains."""
    n = k * side
    index = (np.arange(n) + side // 2) // side
    labels = (index[:, None] * (k + 1) + index[None, :] + 1).astype(np.int32)
    if boundary:
        line = (np.arange(n) + side // 2) % side == 0
        labels[line, :] = 0
        labels[:, line] = 0
    return labels


def hand_planimetric_g(side_px: int, cal: Calibration) -> float:
    """N_A = one grain per grain area, in grains per mm²."""
    side_mm = side_px * cal.to("mm").pixel_size
    return 3.321928 * math.log10(1 / side_mm**2) - 2.954


def test_formulas_match_the_e112_table():
    # E112 Table 4: G 1 <-> N_A 15.50 per mm²; G 0 <-> ℓ 0.320 mm; G 5 <-> 248.0 and 0.0566 mm
    assert g_from_grains_per_mm2(15.50) == pytest.approx(1.0, abs=0.005)
    assert g_from_mean_intercept_mm(0.320) == pytest.approx(0.0, abs=0.005)
    assert g_from_grains_per_mm2(248.0) == pytest.approx(5.0, abs=0.005)
    assert g_from_mean_intercept_mm(0.0566) == pytest.approx(5.0, abs=0.01)


@pytest.mark.parametrize("side", [20, 40])
def test_planimetric_counts_half_and_quarter_grains_on_the_border(side):
    k = 20
    p = planimetric(square_grains(k, side), CAL)
    assert p.n_corners == 4
    assert p.n_inside == (k - 1) ** 2
    assert p.n_intercepted == 4 * (k - 1)
    assert p.n_equivalent == k * k  # exactly the field's area in grains
    assert p.field_area_mm2 == pytest.approx((k * side * 0.5e-3) ** 2)
    assert p.grains_per_mm2 == pytest.approx(1 / (side * 0.5e-3) ** 2)
    assert p.g == pytest.approx(hand_planimetric_g(side, CAL), abs=1e-6)


def test_g_goes_up_by_two_when_grains_halve_in_size():
    big = planimetric(square_grains(20, 40), CAL).g
    small = planimetric(square_grains(20, 20), CAL).g
    assert big is not None and small is not None  # calibrated: G exists
    assert small - big == pytest.approx(2.0, abs=1e-6)  # N_A × 4 = two G numbers


def test_intercept_along_rows_and_columns_is_the_grain_side():
    side = 20
    heyn = intercept(square_grains(20, side), CAL, directions=(0, 90))
    assert heyn.mean_intercept_px == pytest.approx(side)
    assert heyn.mean_intercept_mm == pytest.approx(side * 0.5e-3)
    assert heyn.g == pytest.approx(g_from_mean_intercept_mm(side * 0.5e-3))
    assert heyn.n_intersections == heyn.n_lines * 20  # 20 boundaries across each line


@pytest.mark.parametrize("boundary", [False, True])
def test_both_methods_agree_within_a_third_of_a_number(boundary):
    labels = square_grains(20, 20, boundary)
    gs = grain_size(labels, CAL)
    assert gs.calibrated and gs.notes == ()
    assert gs.planimetric.g == pytest.approx(hand_planimetric_g(20, CAL), abs=0.05)
    # four directions: diagonals cross squares more often (ℓ = side/√2 there), so G is higher
    # than along rows alone, by 0.2 for squares; E112's equiaxed grains sit in between
    assert gs.intercept.g is not None and gs.planimetric.g is not None
    assert abs(gs.intercept.g - gs.planimetric.g) < 0.3
    assert gs.intercept.directions == (0, 45, 90, 135)
    assert gs.intercept.n_intersections > 1000


def test_diagonal_crossing_a_four_grain_corner_counts_two():
    labels = np.repeat(np.repeat(np.array([[1, 2], [3, 4]], np.int32), 10, axis=0), 10, axis=1)
    heyn = intercept(labels, CAL, spacing_px=100, directions=(135,))  # one line: the diagonal
    assert heyn.n_lines == 1
    assert heyn.line_length_px == pytest.approx(20 * math.sqrt(2))
    assert heyn.n_intersections == 2  # 1 -> 4 across the corner: two boundaries, as on paper


def test_corner_on_a_boundary_takes_the_nearest_grain():
    labels = square_grains(10, 20, boundary=True)
    labels[:2, :2] = 0  # the top-left corner pixel is now boundary
    assert planimetric(labels, CAL).n_corners == 4


def test_uncalibrated_gives_counts_in_pixels_and_says_g_needs_a_calibration():
    gs = grain_size(square_grains(20, 20), Calibration())
    assert gs.planimetric.g is None and gs.intercept.g is None and not gs.calibrated
    assert gs.planimetric.grains_per_mm2 is None and gs.intercept.mean_intercept_mm is None
    assert gs.planimetric.grains_per_px2 == pytest.approx(1 / 400)
    assert NEEDS_CALIBRATION in gs.notes
    assert "calibrat" in NEEDS_CALIBRATION


def test_few_grains_are_flagged():
    gs = grain_size(square_grains(4, 20), CAL)
    assert any("at least 50" in n for n in gs.notes)


def test_summary_gives_grain_size_for_the_grain_class_only():
    labels = square_grains(20, 20)
    image = ImageIdentity("grains.tif", "0" * 64)
    grains = annotations_from_labels(labels, image, CAL, class_name="grain")
    summary = summarise_image(grains)
    assert summary.grain_size is not None
    assert summary.grain_size.planimetric.g == pytest.approx(hand_planimetric_g(20, CAL))
    others = annotations_from_labels(labels, image, CAL, class_name="precipitate")
    assert summarise_image(others).grain_size is None
    empty = AnnotationSet(labels.shape, image, CAL, [ObjectClass("grain", (0, 0, 0))])
    assert summarise_image(empty).grain_size is None
