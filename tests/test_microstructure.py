"""Microstructure maps: phase fraction on a real superalloy, grains and cracks on drawn images."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import ndimage as ndi

from inference.errors import MatLensError
from inference.segmentation.automatic import AutoParams, segment_everything
from inference.segmentation.masks import AutoMask
from inference.segmentation.microstructure import MapParams, adjacency, build_map, map_objects

SAMPLE_PARAMS = AutoParams(points_per_side=16)
LEVELS = (50, 95, 140, 185, 230)  # grey levels of drawn grains: neighbours never share one


def cells(seed: int, size: int = 200, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """A drawn grain structure: Voronoi cells (labels 1..n) with a grey level each, coloured
    so that touching grains differ, plus a little noise."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, size, (n, 2))
    yy, xx = np.mgrid[:size, :size]
    dist = (yy[..., None] - centres[:, 0]) ** 2 + (xx[..., None] - centres[:, 1]) ** 2
    truth = np.argmin(dist, axis=2).astype(np.int32) + 1
    touching = {k: set() for k in range(1, n + 1)}
    for a, b in adjacency(truth):
        touching[a].add(b)
        touching[b].add(a)
    level = {}
    for k in range(1, n + 1):  # greedy colouring: five levels are plenty for a planar map
        used = {level.get(j) for j in touching[k]}
        level[k] = next(v for v in LEVELS if v not in used)
    image = np.vectorize(level.get)(truth).astype(float) + rng.normal(0, 3, truth.shape)
    return np.clip(image, 0, 255).astype(np.uint8), truth


def mask_of(region: np.ndarray, erode: int = 0) -> AutoMask:
    """An AutoMask as segment_everything gives it: cropped to its box."""
    if erode:
        region = ndi.binary_erosion(region, iterations=erode)
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    crop = region[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return AutoMask(crop, (int(rows[0]), int(cols[0])), 0.9, 0.95, (float(cols[0]), float(rows[0])))


@pytest.fixture(scope="module")
def superalloy(sam_model):
    from conftest import REPO

    from inference.imaging.display import to_display, to_rgb
    from inference.imaging.io import read_micrograph

    micrograph = read_micrograph(REPO / "resources" / "samples" / "superalloy_precipitates.tif")
    rgb = to_rgb(micrograph)
    masks = segment_everything(sam_model, sam_model.embed(rgb), SAMPLE_PARAMS)
    return to_display(micrograph), masks


def test_phase_fraction_of_a_superalloy_is_close_to_the_ground_truth(superalloy):
    import tifffile
    from conftest import shared

    display, masks = superalloy
    path = shared("segmentation", "nasa_micronet", "Super1", "test_annot", "spot2_0d_0_mask.tif")
    rgb = tifffile.imread(path, key=0)[..., :3].astype(int)
    truth = (rgb == (255, 0, 0)).all(axis=2) | (rgb == (0, 0, 255)).all(axis=2)
    phase = build_map(display, masks, MapParams(kind="phase"))
    assert phase.binary.shape == truth.shape and phase.labels.dtype == np.int32
    assert abs(phase.fraction - truth.mean()) < 0.06, (phase.fraction, truth.mean())
    agree = np.mean(phase.binary == truth)
    assert agree > 0.85
    assert phase.count > 30  # the γ′ particles, one label each
    assert np.array_equal(phase.labels > 0, phase.binary)


def test_map_regions_become_objects(superalloy):
    display, masks = superalloy
    phase = build_map(display, masks, MapParams(kind="phase"))
    objects = map_objects(phase, "precipitate", 1)
    assert len(objects) == phase.count
    assert {o.source for o in objects} == {"map"} and objects[0].class_name == "precipitate"
    assert sum(o.area for o in objects) == np.count_nonzero(phase.binary)


def test_grains_map_has_one_pixel_boundaries_between_all_grains():
    image, truth = cells(seed=1)
    masks = [mask_of(truth == k, erode=2) for k in range(1, truth.max() + 1)]  # thin gaps
    grains = build_map(image, masks, MapParams(kind="grains"))
    assert grains.count == truth.max()
    boundary = grains.binary
    assert boundary.any() and 0.005 < grains.fraction < 0.1
    assert np.all(grains.labels[boundary] == 0) and np.all(grains.labels[~boundary] > 0)
    # every true boundary between two grains is within 2 px of a found boundary
    true_edges = ndi.morphological_gradient(truth, size=2) > 0
    near = ndi.binary_dilation(boundary, iterations=2)
    assert np.mean(near[true_edges]) > 0.95


def test_merge_rules_join_split_grains_of_the_same_grey():
    image, truth = cells(seed=2)
    cell = truth == 1
    rows = np.flatnonzero(cell.any(axis=1))
    half = np.zeros_like(cell)
    half[: (rows[0] + rows[-1]) // 2] = True
    masks = [mask_of(cell & half), mask_of(cell & ~half)]  # one grain, split in two masks
    masks += [mask_of(truth == k) for k in range(2, truth.max() + 1)]
    joined = build_map(image, masks, MapParams(kind="grains", merge="both"))
    apart = build_map(image, masks, MapParams(kind="grains", merge="size"))  # slivers only
    assert joined.count == truth.max()
    assert apart.count == truth.max() + 1


def test_size_rule_absorbs_specks():
    image, truth = cells(seed=3)
    masks = [mask_of(truth == k) for k in range(1, truth.max() + 1)]
    speck = np.zeros(truth.shape, bool)
    speck[40:44, 40:44] = True  # a 16 px fragment, same grey as its grain
    masks.append(mask_of(speck))
    kept = build_map(image, masks, MapParams(kind="grains", merge="none"))
    merged = build_map(image, masks, MapParams(kind="grains", merge="size", min_region_px=64))
    assert kept.count == truth.max() + 1 and merged.count == truth.max()


def test_cracks_map_finds_the_thin_dark_line_and_not_the_pore():
    image = np.full((200, 300), 180.0)
    image += np.random.default_rng(0).normal(0, 3, image.shape)
    yy, xx = np.mgrid[:200, :300]
    crack = (np.abs(yy - (60 + 0.3 * xx)) < 1.5) & (xx > 20) & (xx < 260)
    pore = np.hypot(yy - 150, xx - 60) < 12
    image[crack] = 60
    image[pore] = 40
    image = np.clip(image, 0, 255).astype(np.uint8)
    masks = [mask_of(pore), mask_of(~(crack | pore))]  # SAM outlines the pore and the coating
    found = build_map(image, masks, MapParams(kind="cracks"))
    assert found.count == 1
    assert np.mean(found.binary[crack]) > 0.9
    assert not found.binary[pore].any()
    assert found.fraction < 3 * crack.mean()


def test_bad_map_settings_are_one_line_errors():
    image = np.zeros((20, 20), np.uint8)
    for bad in (dict(kind="pores"), dict(merge="colour"), dict(phase="grey")):
        with pytest.raises(MatLensError) as err:
            build_map(image, [], dataclasses.replace(MapParams(), **bad))
        assert "\n" not in str(err.value)
    with pytest.raises(MatLensError):
        build_map(np.zeros((4, 4, 2)), [], MapParams())


def test_an_image_without_masks_gives_an_empty_or_whole_map():
    image = np.full((50, 60), 128, np.uint8)
    for kind in ("phase", "grains", "cracks"):
        result = build_map(image, [], MapParams(kind=kind))
        assert result.labels.shape == (50, 60) and result.binary.dtype == bool
    assert isinstance(mask_of(np.ones((3, 3), bool)), AutoMask)
