"""A first click worked out ahead, where the pointer rests (as SAM's own demo does): the pane
outlines what a click there takes, and the click shows that mask without waiting for the
decoder. The answer must be the one the click would get anyway, and working it out must change
nothing the session answers afterwards. Real MobileSAM on a real NASA MicroNet image (Super1
test split) and on the bundled sample; the real window, clicked with QTest."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from conftest import shared
from PySide6.QtCore import Qt
from test_micrograph_pane import open_image, prompts, wait_mask

from desktop.panes.micrograph.clicking import OUTLINE_KEY
from desktop.settings import app_settings
from inference.imaging.display import to_rgb
from inference.segmentation.clicks import ClickSession, click_session
from inference.segmentation.overlay import outline
from inference.segmentation.prompted import answer_ahead, decode_prompt

IMAGE = ("segmentation", "nasa_micronet", "Super1", "test", "spot2_0d_0.tif")


def _masks(candidates) -> list[np.ndarray]:
    return [c.mask for c in candidates]


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(_masks(a), _masks(b), strict=True))


def test_a_click_worked_out_ahead_gives_the_masks_a_plain_click_gives(sam_model):
    rgb = to_rgb(tifffile.imread(shared(*IMAGE)))
    embedding = sam_model.embed(rgb)
    sam_model.prepare_clicks(embedding)
    ahead = ClickSession(sam_model, embedding, pixels=rgb)
    plain = ClickSession(sam_model, embedding, pixels=rgb)
    h, w = ahead.shape
    rng = np.random.default_rng(3)
    rested = [(float(x), float(y)) for x, y in rng.uniform(0, min(h, w) - 1, (6, 2))]
    for x, y in rested:  # the pointer rests on six places; the click comes on the last
        assert answer_ahead(ahead, x, y) is not None
    x, y = rested[-1]
    clicked = ahead.predict([(x, y, 1)])
    assert clicked is ahead.answer_ahead(x, y)  # answered by what was worked out
    assert _same(clicked, plain.predict([(x, y, 1)]))
    assert [c.index for c in clicked] == [c.index for c in plain.predict([(x, y, 1)])]
    # The next click refines the mask shown, as it does without the answer worked out ahead;
    # the places rested on but never clicked left nothing behind that changes it.
    follow = [(x, y, 1), (min(x + 25.0, w - 1), y, 0)]
    assert _same(ahead.predict(follow), plain.predict(follow))


def test_a_later_click_worked_out_ahead_builds_on_the_mask_on_screen(sam_model):
    """A second click refines the mask shown: worked out ahead, it gives what the plain click
    gives, and when the user shows another candidate (Tab) after it was worked out, the click
    is answered afresh from that candidate, not from the one the answer ahead built on."""
    rgb = to_rgb(tifffile.imread(shared(*IMAGE)))
    embedding = sam_model.embed(rgb)
    sam_model.prepare_clicks(embedding)
    ahead = ClickSession(sam_model, embedding, pixels=rgb)
    plain = ClickSession(sam_model, embedding, pixels=rgb)
    first = [(200.0, 260.0, 1)]
    shown_ahead, shown_plain = ahead.predict(first)[0], plain.predict(first)[0]
    second = (230.0, 280.0)
    assert answer_ahead(ahead, *second, first, None, shown_ahead) is not None
    kept = ahead.answer_ahead(*second, first)  # the answer kept (no new decode)
    assert kept is not None
    clicked = decode_prompt(ahead, [*first, (*second, 1)], None, shown_ahead)
    assert clicked[0] is kept[0]  # the click was answered by what was worked out
    assert _same(clicked, decode_prompt(plain, [*first, (*second, 1)], None, shown_plain))

    # A right click worked out ahead (background) is kept beside the left one.
    third, two_points = (260.0, 300.0), [*first, (*second, 1)]
    assert answer_ahead(ahead, *third, two_points, None, clicked[0], label=0) is not None
    kept_right = ahead.answer_ahead(*third, two_points, None, label=0)
    assert kept_right is not None
    right = decode_prompt(ahead, [*two_points, (*third, 0)], None, clicked[0])
    assert right[0] is kept_right[0]
    plain_two = decode_prompt(plain, two_points, None, None)
    assert _same(right, decode_prompt(plain, [*two_points, (*third, 0)], None, plain_two[0]))

    # Tab after the answer was worked out: the second click refines the candidate shown now.
    ahead, plain = (
        ClickSession(sam_model, embedding, pixels=rgb),
        ClickSession(sam_model, embedding, pixels=rgb),
    )
    answers_ahead, answers_plain = ahead.predict(first), plain.predict(first)
    assert answer_ahead(ahead, *second, first, None, answers_ahead[0]) is not None
    two = [*first, (*second, 1)]
    after_tab = decode_prompt(ahead, two, None, answers_ahead[1])
    assert _same(after_tab, decode_prompt(plain, two, None, answers_plain[1]))
    fresh = ClickSession(sam_model, embedding, pixels=rgb)
    on_first = decode_prompt(fresh, two, None, fresh.predict(first)[0])
    assert not _same(after_tab, on_first)  # the candidate shown made a difference here


def test_a_tile_not_embedded_yet_is_not_embedded_for_a_resting_pointer(sam_model):
    """Over a large image whose tiles are embedded on first use (the CLI's way), a resting
    pointer must not start the encoder: there is no answer ahead until a click embeds the tile."""
    rgb = to_rgb(tifffile.imread(shared(*IMAGE)))
    big = np.ascontiguousarray(np.tile(rgb, (3, 3, 1)))  # 1536², in 2 x 2 tiles of 1024²
    session = click_session(sam_model, big, threshold=1024, lazy=True)
    assert session.tiles is not None
    before = session.tiles.embedded
    assert answer_ahead(session, 300.0, 500.0) is None
    assert session.tiles.embedded == before
    clicked = session.predict([(300.0, 500.0, 1)])  # the click embeds the tile it needs
    assert session.tiles.embedded == before + 1
    ahead = answer_ahead(session, 310.0, 505.0)
    assert ahead is not None and ahead.outline.any()
    assert clicked[0].mask.any()


@pytest.fixture
def window(main_window, mobile_sam_exported):
    return main_window


def test_resting_the_pointer_outlines_what_the_click_then_takes(qtbot, window, micrograph_sample):
    pane = open_image(qtbot, window, micrograph_sample)
    canvas, viewport = pane.canvas, pane.canvas.viewport()
    x, y = 300, 200  # on a precipitate of the bundled superalloy micrograph
    pos = canvas.scene_pos_of(x + 0.5, y + 0.5)
    qtbot.mouseMove(viewport, pos)
    qtbot.waitUntil(lambda: canvas.ahead_item.image is not None, timeout=10000)
    drawn = canvas.ahead_item.image
    assert drawn is not None
    promised = drawn[..., 3] > 0  # the outline drawn, as a boolean crop
    rect = canvas.ahead_item.mapRectToParent(canvas.ahead_item.boundingRect())
    offset = (round(rect.top()), round(rect.left()))

    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    shown = wait_mask(qtbot, pane)
    crop, shown_offset = shown.mask_crop()
    assert shown_offset == offset
    assert np.array_equal(outline(crop), promised)  # the outline was the mask the click took
    assert canvas.ahead_item.image is None  # the outline gives way to the mask itself
    assert len(prompts(pane).points) == 1

    # While an object is being made, a resting pointer outlines nothing: the next click
    # refines the mask shown, which is not what a first click there would take.
    second = canvas.scene_pos_of(x + 40.5, y + 30.5)
    qtbot.mouseMove(viewport, second)
    qtbot.wait(300)
    assert canvas.ahead_item.image is None
    # That click was worked out ahead all the same: clicked, it refines the mask as a click
    # answered afresh does.
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, second)
    refined = wait_mask(qtbot, pane, shown)
    clicks = pane.state.workbench.clicks
    assert clicks is not None
    fresh = ClickSession(clicks.model, clicks.embedding, pixels=clicks.pixels)
    points = list(prompts(pane).points)
    assert len(points) == 2
    expected = decode_prompt(fresh, points, None, fresh.predict(points[:1])[0])
    assert np.array_equal(refined.mask, expected[0].mask)
    # and a right click (background) there after a rest, as a fresh decode gives it
    third = canvas.scene_pos_of(x + 20.5, y - 25.5)
    qtbot.mouseMove(viewport, third)
    qtbot.wait(300)
    qtbot.mouseClick(viewport, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, third)
    cut = wait_mask(qtbot, pane, refined)
    points = list(prompts(pane).points)
    assert len(points) == 3 and points[2][2] == 0
    expected = decode_prompt(fresh, points, None, expected[0])
    assert np.array_equal(cut.mask, expected[0].mask)
    qtbot.mouseClick(pane.clicks.clear_button, Qt.MouseButton.LeftButton)

    # Moving on to another pixel hides an outline shown before.
    qtbot.mouseMove(viewport, canvas.scene_pos_of(x + 80.5, y + 60.5))
    qtbot.waitUntil(lambda: canvas.ahead_item.image is not None, timeout=10000)
    qtbot.mouseMove(viewport, canvas.scene_pos_of(x + 180.5, y + 160.5))
    assert canvas.ahead_item.image is None

    # Unticked, the outline is not drawn (and stays off in the next session); the answer is
    # still worked out for the click.
    check = pane.clicks.outline_check
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=check.rect().center())
    assert not check.isChecked()
    assert canvas.ahead_item.image is None
    qtbot.mouseMove(viewport, canvas.scene_pos_of(x + 120.5, y + 90.5))
    qtbot.wait(300)
    assert canvas.ahead_item.image is None
    assert app_settings().value(OUTLINE_KEY, True, type=bool) is False
