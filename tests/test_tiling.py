"""Large images (inference.segmentation.tiling): the tile layout, tiled embedding with cancel,
clicks answered in tiles, and segment-everything stitched across tile seams.

Synthetic micrographs (bright discs on a noisy dark background) with known truth. The model
tests use the real exported MobileSAM on a 1792² image: 2 × 2 tiles, five encoder runs (whole +
tiles), a few seconds on 2 CPU cores.
"""

from __future__ import annotations

import numpy as np
import pytest

from inference.errors import JobCancelled, MatLensError
from inference.jobs import CancelToken
from inference.segmentation.masks import shift
from inference.segmentation.stitching import stitch
from inference.segmentation.tiling import OVERLAP, TILE, TileLayout, embed_tiled, needs_tiling

SIDE = 1792  # 2 x 2 tiles of 1024 with 256 px overlap: the cores meet at 896
SEAM = 896


def discs(shape, specs, seed=0):
    """A grey uint8 RGB image of bright discs (cy, cx, r) on a noisy background, and each
    disc's true mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = rng.normal(60, 8, shape)
    truth = []
    for cy, cx, r in specs:
        disc = np.hypot(yy - cy, xx - cx) <= r
        image[disc] = rng.normal(190, 8, int(disc.sum()))
        truth.append(disc)
    grey = np.clip(image, 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2), truth


def full(mask, shape) -> np.ndarray:
    """An AutoMask or a candidate crop as an image-sized boolean mask."""
    out = np.zeros(shape, bool)
    y0, x0 = mask.offset
    h, w = mask.mask.shape
    out[y0 : y0 + h, x0 : x0 + w] = mask.mask
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


# --- layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1024, 1024), (2500, 2500), (8192, 8192), (700, 3000)])
def test_tiles_cover_the_image_with_overlap_and_cores_partition_it(shape):
    layout = TileLayout.for_image(shape)
    h, w = shape
    seen = np.zeros(shape, np.uint8)
    cores = np.zeros(shape, np.uint8)
    for t in layout.tiles:
        x0, y0, x1, y1 = t.window
        assert 0 <= y0 < y1 <= h and 0 <= x0 < x1 <= w
        assert t.shape == (min(TILE, h), min(TILE, w))  # native resolution, full tiles
        seen[t.slices] += 1
        cx0, cy0, cx1, cy1 = t.core
        assert t.holds(t.core)
        cores[cy0:cy1, cx0:cx1] += 1
    assert seen.min() >= 1 and (cores == 1).all()
    for a, b, common in layout.neighbours():
        if a.y0 == b.y0 or a.x0 == b.x0:  # side by side: the overlap is at least OVERLAP
            assert min(common.width, common.height) >= OVERLAP
    assert len(layout.tiles) == {1024: 1, 2500: 9, 8192: 121, 700: 4}[h]


def test_a_point_belongs_to_the_tile_where_it_is_most_central():
    layout = TileLayout.for_image((2500, 2500))
    rng = np.random.default_rng(1)
    for x, y in rng.uniform(0, 2500, (200, 2)):
        t = layout.tile_at(x, y)
        x0, y0, x1, y1 = t.core
        assert y0 <= y < y1 and x0 <= x < x1
        top, left, bottom, right = layout.inner_edges(t)
        win = t.window
        margins = [y - win.y0 if top else 1e9, x - win.x0 if left else 1e9]
        margins += [win.y1 - y if bottom else 1e9, win.x1 - x if right else 1e9]
        assert min(margins) >= OVERLAP / 2 - 1  # context on every side that has a neighbour


def test_which_images_are_tiled_and_bad_layouts_are_refused():
    assert (
        not needs_tiling((2048, 1536))
        and needs_tiling((2049, 100))
        and needs_tiling((4096, 4096, 3))
    )
    with pytest.raises(MatLensError, match="overlap"):
        TileLayout.for_image((3000, 3000), tile=512, overlap=512)


# --- stitching on synthetic masks (no model) --------------------------------------------------


def _auto_mask(full_mask: np.ndarray, score=0.9, stability=0.95):
    from inference.segmentation.masks import AutoMask

    rows, cols = np.flatnonzero(full_mask.any(axis=1)), np.flatnonzero(full_mask.any(axis=0))
    crop = full_mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    y, x = (rows[0] + rows[-1]) / 2, (cols[0] + cols[-1]) / 2
    return AutoMask(crop, (int(rows[0]), int(cols[0])), score, stability, (float(x), float(y)))


def test_an_object_on_a_seam_is_stitched_into_one():
    """What each tile's SAM would see of every disc, slightly off at the cut edges, plus SAM's
    "group" answer for two neighbouring discs, becomes one mask per disc (image coordinates)."""
    shape = (2500, 2500)
    layout = TileLayout.for_image(shape)
    seam = layout.row_cuts[1]
    specs = [(seam, seam, 220), (seam, 1250, 120), (300, 300, 50), (1250, seam, 90)]
    _, truth = discs(shape, specs)
    group = truth[0] | truth[1]
    per_tile = []
    for t in layout.tiles:
        masks = []
        for k, disc in enumerate([group, *truth]):  # SAM lists them in any order
            seen = disc[t.slices].copy()
            if seen.sum() < 100:
                continue
            seen[:, -3:] &= bool(k % 2)  # tiles disagree a little at their edges
            masks.append(shift(_auto_mask(seen), t.y0, t.x0))
        per_tile.append(masks)
    assert sum(map(len, per_tile)) > 2 * len(specs)  # seam discs are seen by several tiles
    stitched = [full(m, shape) for m in stitch(layout, per_tile)]
    assert len(stitched) == len(specs)  # the group, cut off by every tile, is made of discs
    for disc in truth:
        own = [f for f in stitched if (f & disc).sum() > 0.8 * f.sum()]
        assert len(own) == 1 and iou(own[0], disc) > 0.99


# --- with the real model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def image():
    specs = [
        (SEAM, SEAM, 300),  # on the corner where four tiles meet, wider than the overlap
        (300, SEAM, 200),  # on a vertical seam
        (300, 300, 60),
        (1450, 1400, 45),
        (1500, 500, 30),
    ]
    return discs((SIDE, SIDE), specs, seed=3)


@pytest.fixture(scope="module")
def tiled(sam_model, image):
    from inference.segmentation.clicks import click_session

    session = click_session(sam_model, image[0], threshold=1024)  # as the GUI will embed it
    assert session.tiles is not None
    return session.tiles


def test_tiles_are_embedded_at_native_resolution_in_float16(tiled):
    assert tiled.layout.grid == (2, 2) and tiled.shape == (SIDE, SIDE)
    one = tiled.embedding(3)
    assert one.original_size == one.input_size == (TILE, TILE)  # no resize
    assert one.features.dtype == np.float32
    assert tiled.whole.original_size == (SIDE, SIDE)
    assert tiled.nbytes < 5 * 4 * 2**20  # four float16 tiles + the float32 whole image


def test_cancel_stops_the_tiling(sam_model, image):
    token = CancelToken()
    seen = []

    def progress(fraction, message=""):
        seen.append(message)
        if "tile 2 of" in message:
            token.cancel()

    with pytest.raises(JobCancelled):
        embed_tiled(sam_model, image[0], progress=progress, cancel=token)
    assert not any("tile 3 of" in m for m in seen)


def test_clicks_on_a_tiled_image_come_back_in_image_coordinates(sam_model, tiled, image):
    from inference.segmentation.clicks import ClickSession

    _, truth = image
    session = ClickSession(sam_model, tiled)
    assert session.shape == (SIDE, SIDE) and session.embedding is tiled.whole
    for disc in truth[2:]:  # small discs: answered in their tile
        ys, xs = np.nonzero(disc)
        x, y = float(xs.mean()) + 3, float(ys.mean()) - 2
        shown = session.predict([(x, y, 1)])[0]
        assert shown.zoomed
        assert shown.mask.shape == (SIDE, SIDE) and shown.mask[int(y), int(x)]
        assert iou(shown.mask, disc) > 0.9
        crop, (y0, x0) = shown.mask_crop()
        assert np.array_equal(shown.mask[y0 : y0 + crop.shape[0], x0 : x0 + crop.shape[1]], crop)
        again = session.predict([(x, y, 1), (x + 5, y, 1)])[0]  # a second click stays there
        assert again.zoomed and iou(again.mask, disc) > 0.9
    corner = truth[0]  # cut by every tile's edge: the whole image answers
    shown = session.predict([(SEAM + 10.0, SEAM - 10.0, 1)])[0]
    assert not shown.zoomed and iou(shown.mask, corner) > 0.9
    box = session.predict([], box=(1345.0, 1395.0, 1455.0, 1505.0))[0]  # inside one tile
    assert box.zoomed and iou(box.mask, truth[3]) > 0.9


def test_tiles_embedded_on_demand_answer_as_tiles_embedded_up_front(sam_model, tiled, image):
    """The CLI embeds a tile when a prompt first needs it; the pane embeds all of them on open.
    The same clicks must give the same masks, and the CLI must not embed tiles it never uses."""
    from inference.segmentation.clicks import ClickSession, click_session

    lazy = click_session(sam_model, image[0], threshold=1024, lazy=True)
    assert lazy.tiles is not None and lazy.tiles.embedded == 0
    eager = ClickSession(sam_model, tiled)
    disc = image[1][4]
    ys, xs = np.nonzero(disc)
    click = [(float(xs.mean()), float(ys.mean()), 1)]
    shown_lazy, shown_eager = lazy.predict(click)[0], eager.predict(click)[0]
    assert np.array_equal(shown_lazy.mask, shown_eager.mask) and shown_lazy.zoomed
    assert lazy.tiles.embedded == 1  # one of four


def test_float16_tiles_answer_like_float32(sam_model, tiled, image):
    tile = tiled.layout.tiles[0]
    exact = sam_model.embed(image[0][tile.slices])
    half = tiled.embedding(tile)
    for disc in image[1][2:3]:
        ys, xs = np.nonzero(disc)
        click = [(float(xs.mean()), float(ys.mean()), 1)]
        a = sam_model.predict(half, click)
        b = sam_model.predict(exact, click)
        assert [c.index for c in a] == [c.index for c in b]
        assert all(iou(p.mask, q.mask) > 0.99 for p, q in zip(a, b, strict=True))


def test_segment_everything_on_tiles_gives_one_object_per_seam_disc(sam_model, image):
    from inference.segmentation.automatic import AutoParams
    from inference.segmentation.everything import segment_image

    rgb, truth = image  # segment_image tiles it as the GUI and CLI will (each tile embedded)
    masks = segment_image(sam_model, rgb, AutoParams(points_per_side=8), threshold=1024)
    assert all(min(m.offset) >= 0 and max(np.add(m.offset, m.mask.shape)) <= SIDE for m in masks)
    fulls = [full(m, (SIDE, SIDE)) for m in masks]
    for k, disc in enumerate(truth[:2]):  # on seams, cut by two or four tiles
        # A piece of the disc, or a copy of it, lies (almost) wholly inside it; a mask of both
        # seam discs together (SAM's "group" answer) does not.
        own = [f for f in fulls if (f & disc).sum() > 0.8 * f.sum()]
        assert len(own) == 1, (k, [round(iou(f, disc), 2) for f in own])
        assert iou(own[0], disc) > 0.9


def test_segment_everything_on_tiles_can_be_cancelled(sam_model, tiled, image):
    from inference.segmentation.automatic import AutoParams
    from inference.segmentation.everything import segment_everything_tiled

    token = CancelToken()
    seen = []

    def progress(fraction, message=""):
        seen.append(message)
        if message.startswith("segmenting tile 2"):
            token.cancel()

    with pytest.raises(JobCancelled):
        segment_everything_tiled(
            sam_model, image[0], AutoParams(points_per_side=4), progress, token, tiles=tiled
        )
    assert not any(m.startswith("segmenting tile 3") for m in seen)


def test_small_images_are_not_tiled(sam_model, image):
    from inference.segmentation.automatic import AutoParams
    from inference.segmentation.clicks import click_session
    from inference.segmentation.everything import segment_image

    rgb, truth = image
    crop, disc = rgb[1300:1700, 1200:1600], truth[3][1300:1700, 1200:1600]  # the 45 px disc
    session = click_session(sam_model, crop)
    assert session.tiles is None and session.shape == (400, 400)
    masks = segment_image(sam_model, crop, AutoParams(points_per_side=8))
    assert max(iou(full(m, crop.shape[:2]), disc) for m in masks) > 0.9
