"""Automatic tools in the Micrographs pane: segment everything, the microstructure map, and
phases by example, with the real MobileSAM on real micrographs through real Qt widgets."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import Qt
from scipy import ndimage

from desktop.panes.micrograph.pane import MicrographPane
from inference.runtime.paths import samples_dir

SAMPLE = samples_dir() / "superalloy_precipitates.tif"
SUPER1 = ("segmentation", "nasa_micronet", "Super1")


@pytest.fixture
def pane(open_pane, tmp_path, qtbot, mobile_sam_exported):
    widget = open_pane(MicrographPane, size=(1300, 850))
    path = tmp_path / SAMPLE.name
    shutil.copy(SAMPLE, path)
    widget.open_path(path)
    qtbot.waitUntil(lambda: widget.ready, timeout=60000)
    return widget


def click(qtbot, pane, x, y, button=Qt.MouseButton.LeftButton):
    pos = pane.canvas.scene_pos_of(x + 0.5, y + 0.5)
    qtbot.mouseClick(pane.canvas.viewport(), button, Qt.KeyboardModifier.NoModifier, pos)


def paint_two_classes(qtbot, pane, click):
    """Phases tab ▸ Paint examples, then clicks: 2 examples of precipitate, 1 of matrix (with
    `click`, the caller's click at image coordinates); the automatic panel."""
    panel = pane.auto_panel
    panel.tabs.setCurrentIndex(2)
    qtbot.mouseClick(panel.examples_button, Qt.MouseButton.LeftButton)
    for name, points in (("precipitate", [(100, 100), (300, 200)]), ("matrix", [(50, 400)])):
        pane.clicks.class_combo.setCurrentText(name)
        for x, y in points:
            click(qtbot, pane, x, y)
    return panel


def run_and_wait(qtbot, pane, button) -> None:
    before = pane.undo_stack.count()
    panel = pane.auto_panel
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            pane.undo_stack.count() > before
            or pane.errors
            or not (panel.everything_slot.busy or panel.map_slot.busy)
        ),
        timeout=120000,
    )
    assert not pane.errors


def test_segment_everything_gives_editable_objects_in_one_undo_step(qtbot, pane):
    pane.auto_panel.points_spin.setValue(16)
    pane.clicks.class_combo.setCurrentText("precipitate")
    run_and_wait(qtbot, pane, pane.auto_panel.everything_button)
    objects = pane.annotations.objects
    assert len(objects) >= 10, "the sample holds dozens of precipitates"
    assert {o.class_name for o in objects} == {"precipitate"}
    assert {o.source for o in objects} == {"auto"}
    tree = pane.objects_panel.tree
    assert tree.topLevelItemCount() == len(objects)
    # They are objects like clicked ones: reclass one, then one undo step per action.
    first = objects[0].id
    tree.topLevelItem(0).setSelected(True)
    pane.clicks.class_combo.setCurrentText("pore")
    qtbot.mouseClick(pane.objects_panel.reclass_button, Qt.MouseButton.LeftButton)
    assert pane.annotations.get(first).class_name == "pore"
    pane.undo_stack.undo()
    pane.undo_stack.undo()
    assert len(pane.annotations) == 0
    pane.undo_stack.redo()
    assert len(pane.annotations) == len(objects)


def test_segment_everything_finds_the_same_objects_in_the_pane_cli_and_batch(qtbot, pane, tmp_path):
    """One implementation: the pane merged SAM's masks into its objects (a mask that repeats
    another left out, overlaps trimmed: 88 objects on the sample at 16 points a side), while
    `matlens auto` painted the raw masks (102, nested) and a batch kept them all as objects,
    overlapping (102 rows, 53.7 % against the pane's 52.5 %)."""
    import csv
    import json
    import subprocess
    import sys

    pane.auto_panel.points_spin.setValue(16)
    pane.clicks.class_combo.setCurrentText("precipitate")
    run_and_wait(qtbot, pane, pane.auto_panel.everything_button)
    in_pane = sorted(o.area for o in pane.annotations.objects)
    assert len(in_pane) >= 10

    def matlens(*args: str) -> subprocess.CompletedProcess:
        argv = [sys.executable, "-m", "desktop.launcher", *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=300)

    run = matlens(
        "auto", str(SAMPLE), "--points-per-side", "16", "--out", str(tmp_path / "l.tif"), "--json"
    )
    assert run.returncode == 0, run.stderr
    assert sorted(json.loads(run.stdout)["areas_px"]) == in_pane

    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "a.tif")
    recipe = tmp_path / "recipe.json"
    recipe.write_text(
        json.dumps(
            {
                "format": "matlens-recipe",
                "version": 1,
                "mode": "auto",
                "classes": ["precipitate"],
                "parameters": {"auto": {"points_per_side": 16}},
            }
        )
    )
    run = matlens("batch", str(recipe), str(folder), str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    with open(tmp_path / "out" / "a.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(float(r["area_px"])) for r in rows) == in_pane


def test_cancel_stops_segment_everything_and_adds_nothing(qtbot, pane):
    panel, bar = pane.auto_panel, pane.job_bar
    qtbot.mouseClick(panel.everything_button, Qt.MouseButton.LeftButton)
    assert bar.cancel_button.isVisible() and bar.text.startswith("Segmenting everything")
    assert not panel.everything_button.isEnabled()
    qtbot.mouseClick(bar.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.everything_slot.busy, timeout=60000)
    assert "Segment everything cancelled" in pane.statuses
    assert len(pane.annotations) == 0
    assert panel.everything_button.isEnabled()
    assert not bar.cancel_button.isVisible()


def test_phase_map_matches_the_annotated_precipitates(qtbot, pane, shared_data):
    rgba = tifffile.imread(shared_data(*SUPER1, "test_annot", "spot2_0d_0_mask.tif"))
    # The sample is Super1 spot2_0d_0; pure red and pure blue are the two precipitate classes.
    red = (rgba[..., 0] == 255) & (rgba[..., 1] == 0) & (rgba[..., 2] == 0)
    blue = (rgba[..., 0] == 0) & (rgba[..., 1] == 0) & (rgba[..., 2] == 255)
    truth = red | blue
    pane.auto_panel.points_spin.setValue(16)
    pane.auto_panel.map_kind.setCurrentIndex(pane.auto_panel.map_kind.findData("phase"))
    pane.clicks.class_combo.setCurrentText("precipitate")
    run_and_wait(qtbot, pane, pane.auto_panel.map_button)
    mapped = pane.annotations.class_image() > 0
    iou = (mapped & truth).sum() / (mapped | truth).sum()
    assert iou > 0.7, f"map vs annotated precipitates: IoU {iou:.2f}"
    assert abs(mapped.mean() - truth.mean()) < 0.08, "phase fraction off"
    pane.undo_stack.undo()
    assert len(pane.annotations) == 0


def _super1_painting_examples(qtbot, open_pane, shared_data, tmp_path):
    """A MicroNet Super1 test image open in the pane, the Phases tab painting examples; with its
    annotated precipitates (red) and the other annotated phase (blue)."""
    image = Path(shutil.copy(shared_data(*SUPER1, "test", "spot2_0d_0.tif"), tmp_path))
    rgba = tifffile.imread(shared_data(*SUPER1, "test_annot", "spot2_0d_0_mask.tif"))
    red = (rgba[..., 0] == 255) & (rgba[..., 1] == 0) & (rgba[..., 2] == 0)
    blue = (rgba[..., 0] == 0) & (rgba[..., 1] == 0) & (rgba[..., 2] == 255)
    pane = open_pane(MicrographPane, size=(1300, 850))
    pane.open_path(image)
    qtbot.waitUntil(lambda: pane.ready, timeout=60000)
    qtbot.waitUntil(lambda: pane.canvas.view.viewRect().width() > 10, timeout=5000)
    pane.auto_panel.tabs.setCurrentIndex(2)
    qtbot.mouseClick(pane.auto_panel.examples_button, Qt.MouseButton.LeftButton)
    return pane, red, blue


def test_phases_by_example_previews_live_and_applies_as_classes(
    qtbot, open_pane, shared_data, tmp_path, mobile_sam_exported
):
    pane, red, blue = _super1_painting_examples(qtbot, open_pane, shared_data, tmp_path)
    panel = pane.auto_panel
    assert pane.canvas.mode == "examples"
    # clicks on the image in examples mode: 3 examples of each class
    rng = np.random.default_rng(1)
    for name, where in (("precipitate", red), ("matrix", ~red & ~blue)):
        inner = ndimage.binary_erosion(where, iterations=2)  # a click lands within a pixel
        ys, xs = np.nonzero(inner)
        pane.clicks.class_combo.setCurrentText(name)
        for i in rng.choice(len(xs), 3, replace=False):
            click(qtbot, pane, int(xs[i]), int(ys[i]))
    assert {n: len(p) for n, p in pane.state.workbench.examples.items()} == {
        "precipitate": 3,
        "matrix": 3,
    }
    qtbot.waitUntil(lambda: panel.phase_result is not None, timeout=120000)
    assert pane.canvas.preview_item.image is not None
    result = panel.phase_result
    predicted = result.labels == 1 + result.classes.index("precipitate")
    iou = (predicted & red).sum() / (predicted | red).sum()
    assert iou > 0.4, f"precipitate IoU {iou:.2f} from 3 clicks per class"
    # More examples where it was wrong change the preview.
    wrong = np.argwhere(predicted & ~red)
    if len(wrong):
        y, x = wrong[len(wrong) // 2]
        click(qtbot, pane, int(x), int(y))
        qtbot.waitUntil(lambda: panel.phase_result is not result, timeout=60000)
    qtbot.mouseClick(panel.apply_phases_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(pane.annotations) > 0, timeout=30000)
    classes = {o.class_name for o in pane.annotations.objects}
    assert classes == {"precipitate", "matrix"}
    assert pane.canvas.mode != "examples"
    pane.undo_stack.undo()
    assert len(pane.annotations) == 0


def test_phases_applied_again_after_a_corrected_example_update_the_objects(
    qtbot, open_pane, shared_data, tmp_path, mobile_sam_exported
):
    """Apply as objects, one more example where the map was wrong, Apply again: the panel said
    "Applied as 78 objects" and the status bar "all 78 objects were already there", and the
    objects (and the Measure tab's fractions) stayed those of the first map."""
    pane, red, _ = _super1_painting_examples(qtbot, open_pane, shared_data, tmp_path)
    panel = pane.auto_panel
    rng = np.random.default_rng(1)
    for name, where in (("precipitate", red), ("matrix", ~red)):
        ys, xs = np.nonzero(ndimage.binary_erosion(where, iterations=2))
        pane.clicks.class_combo.setCurrentText(name)
        for i in rng.choice(len(xs), 2, replace=False):
            click(qtbot, pane, int(xs[i]), int(ys[i]))
    qtbot.waitUntil(lambda: panel.phase_result is not None, timeout=120000)
    first_map = panel.phase_result
    qtbot.mouseClick(panel.apply_phases_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(pane.annotations) > 0, timeout=30000)

    def precipitate_pixels() -> int:
        return sum(o.area for o in pane.annotations.objects if o.class_name == "precipitate")

    first = precipitate_pixels()
    qtbot.mouseClick(panel.examples_button, Qt.MouseButton.LeftButton)  # paint again
    predicted = first_map.labels == 1 + first_map.classes.index("precipitate")
    wrong = np.argwhere(ndimage.binary_erosion(predicted & ~red, iterations=2))
    if not len(wrong):  # nothing called precipitate wrongly: correct a missed one instead
        wrong = np.argwhere(ndimage.binary_erosion(~predicted & red, iterations=2))
        pane.clicks.class_combo.setCurrentText("precipitate")
    y, x = wrong[len(wrong) // 2]
    click(qtbot, pane, int(x), int(y))
    qtbot.waitUntil(
        lambda: panel.phase_result is not None and panel.phase_result is not first_map,
        timeout=60000,
    )
    second_map = panel.phase_result
    corrected = int((second_map.labels == 1 + second_map.classes.index("precipitate")).sum())
    qtbot.mouseClick(panel.apply_phases_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: precipitate_pixels() != first, timeout=30000)
    # the objects are the corrected map's: no pixel of the first map's objects is left over
    objects = pane.annotations.objects
    assert {o.source for o in objects} == {"phases"}
    held = np.zeros(pane.annotations.shape, int)
    for o in objects:
        held += o.full_mask(pane.annotations.shape)
    assert held.max() == 1
    assert abs(precipitate_pixels() - corrected) <= 0.02 * corrected  # specks under the min
    assert panel.phases_label.text().startswith("Applied as")
    pane.undo_stack.undo()  # one step back: the first map's objects again
    assert precipitate_pixels() == first


def test_painted_examples_come_back_with_their_image(
    qtbot, open_pane, tmp_path, mobile_sam_exported
):
    """Examples of two classes painted, not applied, then another image opened and the first
    one again: the examples were gone (only "Apply as objects" kept them)."""
    first = Path(shutil.copy(SAMPLE, tmp_path / "first.tif"))
    second = Path(shutil.copy(SAMPLE, tmp_path / "second.tif"))
    pane = open_pane(MicrographPane, size=(1300, 850))
    pane.open_path(first)
    qtbot.waitUntil(lambda: pane.ready, timeout=60000)
    qtbot.waitUntil(lambda: pane.canvas.view.viewRect().width() > 10, timeout=5000)
    panel = paint_two_classes(qtbot, pane, click)
    painted = {n: len(p) for n, p in pane.state.workbench.examples.items()}
    assert painted == {"precipitate": 2, "matrix": 1}
    for path in (second, first):
        pane.open_path(path)
        qtbot.waitUntil(
            lambda p=path: pane.ready and pane.loaded is not None and pane.loaded.path == p,
            timeout=60000,
        )
    assert {n: len(p) for n, p in pane.state.workbench.examples.items()} == painted
    assert panel.phases_label.text().startswith("Examples of 2 classes saved with this image")
