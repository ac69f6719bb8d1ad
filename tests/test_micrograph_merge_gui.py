"""One object model in the Micrographs pane: the issue's duplicate case rebuilt through the real
window (clicked precipitates, then Segment everything, then the map), and phases by example that
become measurable objects and repeat in a batch. Real MobileSAM, real widgets, real clicks.

The sample is NASA MicroNet Super1 spot2_0d_0 (bundled); its ground truth (shared data) only
picks where to click.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import cast

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from scipy import ndimage

from desktop.panes.micrograph.pane import MicrographPane
from inference.runtime.paths import samples_dir
from inference.segmentation import sidecar
from inference.segmentation.numbers import format_number, format_percent
from inference.segmentation.recipe import load_recipe
from inference.segmentation.workflows import FoundObjects

SAMPLE = samples_dir() / "superalloy_precipitates.tif"
TRUTH = ("segmentation", "nasa_micronet", "Super1", "test_annot", "spot2_0d_0_mask.tif")
COUNT, FRACTION = 0, 1  # quantity columns of the Measure tab


@pytest.fixture
def red(shared_data):
    """The secondary precipitates the metallographer marked (pure red)."""
    rgba = tifffile.imread(shared_data(*TRUTH))
    return (rgba[..., 0] == 255) & (rgba[..., 1] == 0) & (rgba[..., 2] == 0)


@pytest.fixture
def pane(open_pane, tmp_path, qtbot, mobile_sam_exported):
    widget = open_pane(MicrographPane, size=(1300, 850))
    path = Path(shutil.copy(SAMPLE, tmp_path / SAMPLE.name))
    widget.open_path(path)
    qtbot.waitUntil(lambda: widget.ready, timeout=60000)
    qtbot.waitUntil(lambda: widget.canvas.view.viewRect().width() > 10, timeout=5000)
    return widget


def click(qtbot, pane, x, y, button=Qt.MouseButton.LeftButton):
    pos = pane.canvas.scene_pos_of(x + 0.5, y + 0.5)
    qtbot.mouseClick(pane.canvas.viewport(), button, Qt.KeyboardModifier.NoModifier, pos)


def count_in(pattern: str, status: str) -> int:
    """The number the status line gives in `pattern`'s group."""
    found = re.search(pattern, status)
    assert found is not None, f"{pattern!r} not in {status!r}"
    return int(found.group(1))


def run_tool(qtbot, pane, button, slot) -> str:
    """Click a tool's button, wait until its objects are in; returns the status line."""
    before = len(pane.statuses)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not slot.busy and len(pane.statuses) > before, timeout=180000)
    assert not pane.errors
    return pane.statuses[-1]


def class_pixels(pane, name: str) -> np.ndarray:
    """How many objects of the class hold each pixel."""
    count = np.zeros(pane.annotations.shape, np.int32)
    for o in pane.annotations.objects:
        if o.class_name == name:
            count[o.slices] += o.mask
    return count


def measured(qtbot, pane):
    pane.side_tabs.setCurrentWidget(pane.measure_panel)
    panel = pane.measure_panel
    n = len(pane.annotations)
    qtbot.waitUntil(
        lambda: not panel.busy and panel.result and len(panel.result.measurements) == n,
        timeout=30000,
    )
    return panel


def test_clicks_everything_and_map_count_each_precipitate_once(
    qtbot, pane, red, tmp_path, monkeypatch
):
    regions, _ = cast("tuple[np.ndarray, int]", ndimage.label(red, np.ones((3, 3), bool)))
    sizes = np.bincount(regions.ravel())
    sizes[0] = 0
    for k in np.argsort(-sizes)[:9]:  # a click in the middle of each of the 9 largest
        dist = cast("np.ndarray", ndimage.distance_transform_edt(regions == k))
        y, x = np.unravel_index(np.argmax(dist), dist.shape)
        click(qtbot, pane, int(x), int(y))
        qtbot.waitUntil(
            lambda: pane.state.workbench.candidate is not None and not pane.clicks.decode_slot.busy,
            timeout=20000,
        )
        qtbot.keyClick(pane.canvas, Qt.Key.Key_Return)
    clicked = pane.annotations.objects
    assert len(clicked) == 9

    panel = pane.auto_panel
    assert panel.policy_combo.currentData() == "keep"  # the default
    panel.points_spin.setValue(16)
    steps = pane.undo_stack.count()
    status = run_tool(qtbot, pane, panel.everything_button, panel.everything_slot)
    found = count_in(r"Segment everything \((\d+)\)", status)
    added = count_in(r"added (\d+)", status)
    assert "already there (left out)" in status  # the clicked ones are found again
    assert len(pane.annotations) == 9 + added < 9 + found
    assert pane.undo_stack.count() == steps + 1  # one undo step
    assert all(pane.annotations.get(o.id) is o for o in clicked)  # kept as clicked
    assert class_pixels(pane, "precipitate").max() == 1
    after_everything = len(pane.annotations)

    panel.tabs.setCurrentIndex(1)
    panel.map_kind.setCurrentIndex(panel.map_kind.findData("phase"))
    status = run_tool(qtbot, pane, panel.map_button, panel.map_slot)
    mapped = count_in(r"map \((\d+)\)", status)
    # the map's particles are the precipitates already there: nearly all left out
    assert len(pane.annotations) - after_everything <= 0.2 * mapped
    assert class_pixels(pane, "precipitate").max() == 1
    assert all(pane.annotations.get(o.id) is o for o in clicked)

    # The Measure tab counts each precipitate once and its fraction is the covered area.
    objects = pane.annotations.objects
    panel_m = measured(qtbot, pane)
    assert panel_m.cell(COUNT, "precipitate") == format_number(len(objects))
    covered = (class_pixels(pane, "precipitate") > 0).mean()
    assert covered == pytest.approx(sum(o.area for o in objects) / red.size)
    assert panel_m.cell(FRACTION, "precipitate") == format_percent(covered)

    # The label image from the Export menu holds every object whole, the clicked ones too.
    target = tmp_path / "labels.tif"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    actions = pane.export_button.menu().actions()
    next(a for a in actions if a.text().startswith("Label image")).trigger()
    qtbot.waitUntil(target.exists, timeout=20000)
    pane.context.jobs.wait(20000)
    labels = tifffile.imread(target)
    for obj in objects:
        assert (labels[obj.slices][obj.mask] == obj.id).all(), f"#{obj.id} is covered"
    assert set(np.unique(labels[labels > 0]).tolist()) == {o.id for o in objects}

    # "Replace those of the class": segment everything takes the precipitates' place, in one
    # step that one undo takes back exactly.
    panel.policy_combo.setCurrentIndex(panel.policy_combo.findData("replace"))
    panel.tabs.setCurrentIndex(0)
    status = run_tool(qtbot, pane, panel.everything_button, panel.everything_slot)
    assert f"replaced {len(objects)}" in status
    assert not {o.id for o in objects} & {o.id for o in pane.annotations.objects}
    assert class_pixels(pane, "precipitate").max() == 1
    pane.undo_stack.undo()
    assert pane.annotations.objects == objects


def test_phases_become_objects_keep_their_examples_and_repeat_in_a_batch(
    qtbot, pane, red, tmp_path
):
    panel = pane.auto_panel
    panel.tabs.setCurrentIndex(2)
    qtbot.mouseClick(panel.examples_button, Qt.MouseButton.LeftButton)
    rng = np.random.default_rng(3)
    for name, where in (("precipitate", red), ("matrix", ~red)):
        ys, xs = np.nonzero(ndimage.binary_erosion(where, iterations=3))
        pane.clicks.class_combo.setCurrentText(name)
        for i in rng.choice(len(xs), 4, replace=False):
            click(qtbot, pane, int(xs[i]), int(ys[i]))
    painted = {n: len(p) for n, p in pane.state.workbench.examples.items()}
    assert painted == {"precipitate": 4, "matrix": 4}
    qtbot.waitUntil(lambda: panel.phase_result is not None, timeout=120000)
    panel.region_spin.setValue(20)
    phase_map = panel.phase_result
    regions = {}  # 8-connected regions of at least 20 px, per class, counted here
    for k, name in enumerate(phase_map.classes, start=1):
        labelled, n = cast(
            "tuple[np.ndarray, int]", ndimage.label(phase_map.labels == k, np.ones((3, 3), bool))
        )
        regions[name] = int((np.bincount(labelled.ravel())[1:] >= 20).sum())

    steps = pane.undo_stack.count()
    qtbot.mouseClick(panel.apply_phases_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(pane.annotations) > 0, timeout=60000)
    assert pane.undo_stack.count() == steps + 1  # classes, objects and examples: one step
    per_class = {}
    for o in pane.annotations.objects:
        per_class[o.class_name] = per_class.get(o.class_name, 0) + 1
        assert o.area >= 20
    # one object per region: many precipitates; the matrix channels are one connected network
    assert per_class == regions and per_class["precipitate"] > 10
    assert pane.statuses[-1].startswith("Phases (")
    # The examples stay (painted and saved with the annotations), the preview gives way.
    assert {n: len(p) for n, p in pane.state.workbench.examples.items()} == painted
    saved = {e.class_name: len(e.points) for e in pane.annotations.phase_examples}
    assert saved == painted
    sidecar_path = sidecar.sidecar_path(pane.loaded.path)
    qtbot.waitUntil(
        lambda: sidecar_path.exists() and bool(sidecar.load(sidecar_path).phase_examples),
        timeout=10000,
    )

    # Measure: the precipitates are counted one by one and have a size histogram.
    measure = measured(qtbot, pane)
    assert measure.cell(COUNT, "precipitate") == format_number(per_class["precipitate"])
    measure.class_combo.setCurrentText("precipitate")
    assert measure.histogram.total > 1

    # The Batch dialog repeats the phases by example, with these examples and the minimum area.
    qtbot.mouseClick(measure.batch_button, Qt.MouseButton.LeftButton)
    dialog = measure.batch_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    recipe = dialog.recipe()
    assert recipe.mode == "phases" and recipe.min_region_px == 20
    assert {e["class"]: len(e["points"]) for e in recipe.examples} == painted
    saved_recipe = tmp_path / "phases.json"
    dialog.save_recipe(saved_recipe)
    qtbot.waitUntil(lambda: "Recipe saved" in dialog.summary_label.text(), timeout=5000)
    assert load_recipe(saved_recipe) == recipe

    folder, out = tmp_path / "series", tmp_path / "series_out"
    folder.mkdir()
    for name in ("one.tif", "two.tif"):
        shutil.copy(SAMPLE, folder / name)
    dialog.load_recipe(saved_recipe)
    qtbot.waitUntil(lambda: "Recipe loaded" in dialog.summary_label.text(), timeout=5000)
    dialog.input_edit.setText(str(folder))
    dialog.output_edit.setText(str(out))
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=240000)
    assert dialog.report is not None and len(dialog.report.done) == 2, dialog.summary_label.text()
    assert sorted(r[:2] for r in dialog.progress.rows()) == [
        ("one.tif", "done"),
        ("two.tif", "done"),
    ]
    rows = (out / "one.csv").read_text(encoding="utf-8-sig").splitlines()
    assert sum(",precipitate," in r for r in rows) > 1  # one row per precipitate region

    # Undo takes the objects back in one step; the examples, saved as they were painted (the
    # person's work, not the Apply's), stay.
    pane.undo_stack.undo()
    assert len(pane.annotations) == 0
    assert {e.class_name: len(e.points) for e in pane.annotations.phase_examples} == painted


def test_an_object_drawn_while_segment_everything_runs_is_kept(qtbot, pane, monkeypatch):
    """The merge is computed in a worker against the objects as they were; an edit made
    meanwhile makes the pane merge again, so the new object is not stacked on."""
    again = []
    merged_again = FoundObjects.merged_again
    monkeypatch.setattr(
        FoundObjects, "merged_again", lambda self, a: again.append(1) or merged_again(self, a)
    )
    panel = pane.auto_panel
    panel.points_spin.setValue(16)
    qtbot.mouseClick(panel.everything_button, Qt.MouseButton.LeftButton)
    assert panel.everything_slot.busy
    pane.state.set_mode("brush")
    pane.canvas.brush_radius = 12
    pane.apply_stroke([(170, 170), (176, 172)], erase=False)  # a precipitate, by hand
    pane.state.set_mode("prompt")
    drawn = pane.annotations.objects[0]
    qtbot.waitUntil(lambda: len(pane.annotations) > 1, timeout=180000)
    qtbot.waitUntil(lambda: not panel.everything_slot.busy, timeout=30000)
    assert pane.annotations.get(drawn.id) is drawn
    assert class_pixels(pane, "precipitate").max() == 1
    assert len({o.id for o in pane.annotations.objects}) == len(pane.annotations)
    assert again == [1]  # merged once more, against the objects with the drawn one
