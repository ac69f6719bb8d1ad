"""The local-contrast region of a first click, on real micrographs: the shortcuts that make a
click cheap (tracing near the click first, tracing only when the policy needs the region's shape
or shows it) never change an answer."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from conftest import shared

import inference.segmentation.local_contrast as local_contrast
from inference.imaging.display import to_rgb
from inference.imaging.io import read_micrograph
from inference.segmentation.click_policy import RegionShape, choose_sam, with_region
from inference.segmentation.clicks import ClickSession, _typicality
from inference.segmentation.local_contrast import (
    ContrastParams,
    click_contrast,
    contrast_region,
    local_patch,
    trace_region,
)
from inference.segmentation.refine import DEFAULT

EBC1 = ("segmentation", "nasa_micronet", "EBC1", "val")
SUPER1 = ("segmentation", "nasa_micronet", "Super1", "val")
PARAMS = ContrastParams(96, 9, 0.5)  # click_policy's


def image_and_cracks(name: str) -> tuple[np.ndarray, np.ndarray]:
    rgb = to_rgb(read_micrograph(shared(*EBC1, name + ".tif")))
    labels = tifffile.imread(shared(*EBC1[:-1], "val_annot", name + ".tif"))
    return rgb, labels == 2


def clicks_on(rgb: np.ndarray, extra: np.ndarray | None = None, n: int = 40) -> list:
    """Random clicks, the image's corners and sides, and every 25th pixel of `extra`."""
    h, w = rgb.shape[:2]
    rng = np.random.default_rng(0)
    points = [tuple(p) for p in rng.uniform(0, 1, (n, 2)) * (w - 1, h - 1)]
    points += [(0, 0), (w - 1, h - 1), (w - 1, 0), (0, h / 2), (w / 2, h - 1)]
    if extra is not None:
        ys, xs = np.nonzero(extra)
        points += list(zip(xs[::25].tolist(), ys[::25].tolist(), strict=True))
    return points


def test_the_region_traced_near_the_click_is_the_whole_windows(monkeypatch):
    """On an EBC1 cross-section (cracks run far beyond the crop around the click) and a Super1
    superalloy: the region traced in a crop first is, pixel for pixel, the one traced in the
    whole window, including clicks at the image's corners and sides."""
    rgb, cracks = image_and_cracks("050317_3_S0440026")
    cases = [(rgb, p) for p in clicks_on(rgb, cracks)]
    super1 = to_rgb(read_micrograph(shared(*SUPER1, "spot1_0d_0.tif")))
    cases += [(super1, p) for p in clicks_on(super1)]
    near, far = 0, 0
    for image, (x, y) in cases:
        patch = local_patch(image, x, y, PARAMS.half_window)
        contrast = click_contrast(patch, PARAMS)
        if contrast is None:
            continue
        fast = trace_region(patch, contrast, PARAMS)
        with monkeypatch.context() as whole_window_only:
            whole_window_only.setattr(local_contrast, "_CROPS", (None,))
            whole = trace_region(patch, contrast, PARAMS)
        assert fast.offset == whole.offset, (x, y)
        assert np.array_equal(fast.mask, whole.mask), (x, y)
        assert (fast.snr, fast.elongation, fast.polarity) == (
            whole.snr,
            whole.elongation,
            whole.polarity,
        )
        reach = max(abs(fast.offset[0] - y), abs(fast.offset[1] - x), *fast.mask.shape)
        near, far = near + (reach < 32), far + (reach >= 48)
    assert near > 20 and far > 5  # both ways were taken


def test_a_colour_window_is_grey_by_the_mean_of_its_channels():
    """The grey of a grey micrograph stored as RGB skips the channel mean; a colour one does not."""
    grey = to_rgb(read_micrograph(shared(*SUPER1, "spot1_0d_0.tif")))
    colour = grey.copy()
    colour[..., 2] = 255 - colour[..., 2]
    for image in (grey, colour):
        mean = image.astype(np.float32).mean(axis=2)
        for x, y in [(10.0, 20.0), (250.0, 300.0), (511.0, 511.0)]:
            ours, reference = local_patch(image, x, y), local_patch(mean, x, y)
            assert np.array_equal(ours.grey, reference.grey)
            assert ours.noise == reference.noise


@pytest.mark.timeout(300)
def test_a_first_click_is_ordered_as_with_the_region_traced_at_once(sam_model):
    """Through ClickSession as the pane makes it: the order of the answers, the ambiguity flag
    and the region's mask are those of the policy given the region's measured shape at once
    (the region is traced lazily only where its shape cannot change the order)."""
    rgb, cracks = image_and_cracks("040617_3_S0410019")
    embedding = sam_model.embed(rgb)
    rules = DEFAULT.clicks
    orders = set()
    for x, y in clicks_on(rgb, cracks, n=20)[::2]:
        session = ClickSession(sam_model, embedding, None, DEFAULT, pixels=rgb)
        shown = session.predict([(float(x), float(y), 1)])
        raw = sam_model.predict(embedding, [(float(x), float(y), 1)])
        sam = choose_sam(raw, (x, y), embedding.original_size, embedding.input_size, rules)
        patch = local_patch(rgb, x, y, rules.region_window)
        found = contrast_region(patch, PARAMS)
        expected = [("sam", raw[i].index) for i in sam.order]
        choice = sam
        if found is not None:
            choice = with_region(
                sam,
                RegionShape(found.snr, found.elongation),
                lambda p=patch, f=session.full, c=raw[sam.first]: _typicality(p, f, c),
                rules,
            )
            expected = [("sam", raw[i].index) if i < len(raw) else ("contrast", -1)
                        for i in choice.order]  # fmt: skip
            region = next(c for c in shown if c.source == "contrast")
            crop, offset = region.mask_crop()
            assert offset == found.offset and np.array_equal(crop, found.mask)
        assert [(c.source, c.index) for c in shown] == expected, (x, y)
        assert (shown[0].ambiguous, shown[0].reason) == (choice.ambiguous, choice.reason)
        orders.add(shown[0].source)
    assert orders == {"sam", "contrast"}  # both kinds of first answer were checked
