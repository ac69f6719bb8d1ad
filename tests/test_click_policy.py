"""Which of SAM's answers to one click is shown first, on real MobileSAM outputs: a mask scattered
over most of an EBC1 cross-section is never shown as a confident answer, while a click on a
clear superalloy precipitate is answered at once; and where a small answer is cut (rule 8)."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import numpy as np
import pytest
import tifffile
from conftest import shared
from scipy import ndimage as ndi

from inference.imaging.display import to_rgb
from inference.imaging.io import read_micrograph
from inference.segmentation.click_policy import (
    ClickChoice,
    ClickPolicy,
    choose,
    choose_sam,
    edge_shift,
    is_fragment,
    scattered,
    shape_of,
)
from inference.segmentation.clicks import ClickSession
from inference.segmentation.edge_level import EdgeLevels, edge_level
from inference.segmentation.fragments import outline_contrast
from inference.segmentation.refine import DEFAULT

EBC1_TOP_COAT = (
    ("segmentation", "nasa_micronet", "EBC1", "test", "040617_2_S127(2)0015.tif"),
    (94.0, 192.0),  # in the porous top coat, well away from the oxide band
)
SUPER1 = ("segmentation", "nasa_micronet", "Super1", "test")


def embedded(sam_model, *parts):
    rgb = to_rgb(read_micrograph(shared(*parts)))
    return rgb, sam_model.embed(rgb)


def shapes(candidates, click, embedding):
    scale = 256 / 1024
    (h, w), (in_h, in_w) = embedding.original_size, embedding.input_size
    valid = (int(np.ceil(in_h * scale)), int(np.ceil(in_w * scale)))
    low = ((click[0] + 0.5) * in_w / w * scale, (click[1] + 0.5) * in_h / h * scale)
    return [shape_of(c.logits_lowres, c.score, low, valid) for c in candidates]


def test_a_scattered_mask_is_not_shown_as_a_confident_answer(sam_model):
    parts, click = EBC1_TOP_COAT
    _, embedding = embedded(sam_model, *parts)
    candidates = sam_model.predict(embedding, [(*click, 1)], multimask=True)
    # What plain SAM shows (best predicted IoU) is most of the image in many pieces.
    top = candidates[0]
    _, pieces = cast("tuple[np.ndarray, int]", ndi.label(top.mask, np.ones((3, 3), bool)))
    assert top.score > 0.9 and top.mask.mean() > 0.5 and pieces > 50

    choice = choose_sam(candidates, click, embedding.original_size, embedding.input_size)
    assert isinstance(choice, ClickChoice)
    assert sorted(choice.order) == [0, 1, 2]
    measured = shapes(candidates, click, embedding)
    assert scattered(measured[0])
    shown = candidates[choice.first]
    if choice.ambiguous:
        assert choice.reason and "\n" not in choice.reason
    else:
        assert not scattered(measured[choice.first])
        assert shown.mask.mean() < 0.5 and shown.mask[int(click[1]), int(click[0])]


def test_a_click_on_a_clear_precipitate_is_answered_at_once(sam_model):
    rgb, embedding = embedded(sam_model, *SUPER1, "spot2_0d_4.tif")
    rgba = tifffile.imread(shared(*SUPER1[:-1], "test_annot", "spot2_0d_4_mask.tif"), key=0)
    blue = (rgba[..., :3].astype(int) == (0, 0, 255)).all(axis=2)
    labels, count = cast("tuple[np.ndarray, int]", ndi.label(blue, np.ones((3, 3), bool)))
    biggest = labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
    depth = cast("np.ndarray", ndi.distance_transform_edt(biggest))
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    candidates = sam_model.predict(embedding, [(float(x), float(y), 1)], multimask=True)
    choice = choose_sam(
        candidates, (float(x), float(y)), embedding.original_size, embedding.input_size
    )
    assert not choice.ambiguous and choice.reason == ""
    mask = candidates[choice.first].mask
    iou = np.count_nonzero(mask & biggest) / np.count_nonzero(mask | biggest)
    assert iou > 0.7, f"IoU {iou:.2f}"


def test_a_mask_that_leaves_the_click_out_is_never_first():
    inside = np.full((64, 64), -5.0, np.float32)
    inside[20:40, 20:40] = 5.0
    outside = np.full((64, 64), -5.0, np.float32)
    outside[0:10, 50:64] = 5.0
    measured = [
        shape_of(outside, 0.99, (30, 30)),  # SAM's favourite, elsewhere
        shape_of(inside, 0.80, (30, 30)),
    ]
    choice = choose(measured)
    assert choice.first == 1 and not choice.ambiguous
    alone = choose(measured[:1])
    assert alone.ambiguous and "clicked point" in alone.reason
    with pytest.raises(ValueError):
        choose([])


def test_only_a_large_mask_is_cut_below_zero():
    """A precipitate of 150 low-res cells (2 400 px of SAM's 1024² frame) is cut at -2 logits,
    so its outline moves out to the edge; a speck of 100 cells keeps SAM's own cut."""
    large = np.full((256, 256), -5.0, np.float32)
    large[100:110, 100:115] = 5.0
    small = np.full((256, 256), -5.0, np.float32)
    small[100:110, 100:110] = 5.0
    assert edge_shift(large) == 2.0
    assert edge_shift(small) == 0.0
    assert edge_shift(large, ClickPolicy(large_shift=0.0)) == 0.0


def test_a_cut_through_one_object_is_a_fragment_a_cut_between_two_is_not():
    """Rule 7 on a drawn image: two touching dark discs (a precipitate and its neighbour) in a
    bright matrix, with noise. Half of one disc, cut where the disc goes on, is a fragment of
    the disc; one disc, cut where it meets its neighbour across a bright line, is not a
    fragment of the pair."""
    rng = np.random.default_rng(7)
    rows, cols = np.mgrid[0:120, 0:200]
    left = np.hypot(rows - 60, cols - 60) < 40
    right = np.hypot(rows - 60, cols - 130) < 40
    line = np.abs(cols - 95) <= 1  # the bright boundary where the two discs meet
    grey = np.where(left | right, 80.0, 180.0)
    grey[line] = 180.0
    grey = np.clip(grey + rng.normal(0, 4, grey.shape), 0, 255).astype(np.uint8)
    click = (60, 40)  # (row, col) in the left disc

    half = left & (cols < 60)
    cut = outline_contrast(grey, half, left, click)
    assert cut is not None and cut.stretch_px >= 60 and cut.ratio < 0.2
    assert is_fragment(cut)

    pair = left | right  # SAM's larger mask: both discs and the line between them
    alone = outline_contrast(grey, left & (cols < 94), pair, click)
    assert alone is not None and alone.stretch_px >= 30 and alone.ratio > 0.6
    assert not is_fragment(alone)
    assert not is_fragment(cut, ClickPolicy(fragment_ratio=0.0))  # 0 turns the rule off


def test_a_small_mask_is_cut_where_the_image_has_its_edge():
    """Rule 8 on a drawn image: a dark disc of radius 6 px (blurred like an SEM edge, with
    noise) and logits that fall by 1 per pixel from the centre, 0 at radius 8: the cut at 0
    lies 2 px outside the disc. The level with the strongest gradient on its outline brings it
    back to the edge; a level that would leave the click out, an answer larger than `max_px`,
    and reach 0 keep SAM's cut."""
    rows, cols = np.mgrid[0:40, 0:40]
    radius = np.hypot(rows - 20, cols - 20)
    grey = np.where(radius < 6, 60.0, 190.0)
    grey = ndi.gaussian_filter(grey, 0.8) + np.random.default_rng(5).normal(0, 3, grey.shape)
    logits = (8.0 - radius).astype(np.float32)
    shift = edge_level(logits, grey, (20, 20))
    assert -2.5 <= shift <= -1.5, shift
    cut = logits + shift > 0
    disc = radius < 6
    assert np.count_nonzero(cut & disc) / np.count_nonzero(cut | disc) > 0.9
    assert edge_level(logits, grey, (20, 20), EdgeLevels(reach=0.0)) == 0.0
    assert edge_level(logits, grey, (20, 20), EdgeLevels(max_px=100)) == 0.0
    # a click just outside the disc, where the logits are 1: the mask must keep it
    assert logits[20, 27] == 1.0
    assert -1.0 < edge_level(logits, grey, (20, 27)) < 0.0


def test_a_small_precipitate_is_cut_on_its_edge(sam_model):
    """Rule 8 on real MobileSAM: a secondary precipitate of ~150 px on a Super1 train image
    (the split its parameters were chosen on: this shows the behaviour, not the accuracy).
    SAM's cut at 0 lies a pixel outside it on part of its outline (IoU 0.88); cut where the
    grey level changes fastest, IoU 0.93."""
    parts = ("segmentation", "nasa_micronet", "Super1")
    rgb, embedding = embedded(sam_model, *parts, "train", "spot6_180d_7.tif")
    rgba = tifffile.imread(shared(*parts, "train_annot", "spot6_180d_7_mask.tif"), key=0)
    red = (rgba[..., :3].astype(int) == (255, 0, 0)).all(axis=2)
    labels, _count = cast("tuple[np.ndarray, int]", ndi.label(red, np.ones((3, 3), bool)))
    x, y = 465, 194  # its interior-most point
    precipitate = labels == labels[y, x]
    assert labels[y, x] and 100 < precipitate.sum() < 200

    def shown(rules: ClickPolicy) -> np.ndarray:
        policy = replace(DEFAULT, clicks=rules)
        return (
            ClickSession(sam_model, embedding, None, policy, pixels=rgb)
            .predict([(x, y, 1)])[0]
            .mask
        )

    def iou(mask):
        return np.count_nonzero(mask & precipitate) / np.count_nonzero(mask | precipitate)

    at_zero = shown(replace(DEFAULT.clicks, edges=EdgeLevels(reach=0.0)))
    on_edge = shown(DEFAULT.clicks)
    assert iou(on_edge) > iou(at_zero) + 0.03 and iou(on_edge) > 0.9, (iou(on_edge), iou(at_zero))
    assert on_edge.sum() < at_zero.sum()
