"""Calibration, the Measure tab and the batch dialog of the Micrographs pane, used as a person would.

Real widgets, the bundled superalloy sample (512 × 512, no pixel size in its metadata), real
mouse drags on the canvas; objects are painted with the brush so no model is needed.
"""

from __future__ import annotations

import shutil
import socket
import time
import zipfile

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.panes.micrograph.pane import MicrographPane
from inference.imaging.calibration import Calibration
from inference.runtime.paths import samples_dir
from inference.segmentation import sidecar

SAMPLE = samples_dir() / "superalloy_precipitates.tif"


@pytest.fixture
def sample(micrograph_sample):
    return micrograph_sample


@pytest.fixture
def pane(qtbot, open_pane, sample):
    pane = open_pane(MicrographPane, size=(1300, 800))
    open_image(qtbot, pane, sample)
    return pane


def open_image(qtbot, pane, path):
    pane.open_path(path)
    qtbot.waitUntil(lambda: pane.loaded is not None and pane.loaded.path == path, timeout=30000)
    qtbot.waitUntil(lambda: pane.canvas.view.viewRect().width() > 10, timeout=5000)


def drag(qtbot, pane, start, end, steps=10):
    """A left-button drag on the canvas between two image points."""
    viewport = pane.canvas.viewport()
    p0 = pane.canvas.scene_pos_of(*start)
    p1 = pane.canvas.scene_pos_of(*end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p0)
    for k in range(1, steps + 1):
        QTest.mouseMove(viewport, p0 + (p1 - p0) * (k / steps))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p1)


def calibrate(qtbot, pane, length_text, unit="µm", line=((100, 450), (300, 450))):
    """Calibrate… button, a drag over the 'scale bar', the length typed in the dialog."""
    qtbot.mouseClick(pane.calibration_bar.calibrate_button, Qt.MouseButton.LeftButton)
    drag(qtbot, pane, *line)
    tool = pane.calibration_bar.tool
    qtbot.waitUntil(lambda: tool.dialog is not None and tool.dialog.isVisible(), timeout=5000)
    dialog = tool.dialog
    qtbot.keyClicks(dialog.length_edit, length_text)
    dialog.unit_combo.setCurrentText(unit)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    return dialog


def paint_objects(pane, centres, radius=10):
    """Brush strokes on empty image areas: each starts a new object of the current class."""
    pane.state.set_mode("brush")
    pane.canvas.brush_radius = radius
    for x, y in centres:
        pane.objects_panel.tree.clearSelection()
        pane.apply_stroke([(x, y), (x + 4, y + 2)], erase=False)
    pane.state.set_mode("prompt")


def show_measure_tab(qtbot, pane):
    pane.side_tabs.setCurrentWidget(pane.measure_panel)
    panel = pane.measure_panel
    qtbot.waitUntil(lambda: not panel.busy, timeout=10000)
    return panel


def wait_measured(qtbot, panel, n_objects, timeout=10000):
    qtbot.waitUntil(
        lambda: (
            not panel.busy
            and panel.result is not None
            and len(panel.result.measurements) == n_objects
        ),
        timeout=timeout,
    )


COUNT, FRACTION, ECD, AREA = range(4)  # quantity columns of the summary table


def drawn_counts(panel):
    """Counts per bar as the plot holds them."""
    _, counts = panel.bars.getOriginalDataset()
    return np.asarray(counts)


def row_labels(panel):
    """The quantity columns' titles ("Mean area (µm²)")."""
    return panel.quantity_labels()


def test_a_drawn_scale_bar_calibrates_the_list_panel_and_csv_and_undo_restores_pixels(
    qtbot, pane, tmp_path
):
    assert "uncalibrated (pixels)" in pane.calibration_bar.label.text()
    paint_objects(pane, [(60, 60)])
    panel = show_measure_tab(qtbot, pane)
    wait_measured(qtbot, panel, 1)
    assert "Mean area (px²)" in row_labels(panel)
    assert pane.objects_panel.tree.topLevelItem(0).text(2).endswith("px²")

    calibrate(qtbot, pane, "10", "µm")
    cal = pane.annotations.calibration
    line_px = pane.calibration_bar.tool.dialog.line_px
    assert cal.unit == "µm" and cal.source == "manual"
    assert line_px == pytest.approx(200, abs=2)
    assert cal.pixel_size == pytest.approx(10 / line_px)
    assert "µm/px (set by hand)" in pane.calibration_bar.label.text()
    assert pane.objects_panel.tree.topLevelItem(0).text(2).endswith("µm²")
    qtbot.waitUntil(lambda: "Mean area (µm²)" in row_labels(panel), timeout=10000)
    area_um2 = float(panel.cell(AREA, "precipitate").replace(",", ""))
    assert area_um2 == pytest.approx(pane.annotations.objects[0].area * cal.pixel_size**2, 1e-3)
    assert not pane.calibration_bar.tool.scale_line.line.isVisible()  # the line goes with it

    csv_path = tmp_path / "objects.csv"
    pane.state.export("csv", csv_path)
    qtbot.waitUntil(csv_path.exists, timeout=10000)
    pane.context.jobs.wait(10000)
    head = csv_path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert "area_µm²" in head and "equivalent_diameter_µm" in head

    pane.undo_stack.undo()
    assert not pane.annotations.calibration.calibrated
    assert "uncalibrated (pixels)" in pane.calibration_bar.label.text()
    assert pane.objects_panel.tree.topLevelItem(0).text(2).endswith("px²")
    qtbot.waitUntil(lambda: "Mean area (px²)" in row_labels(panel), timeout=10000)


def test_a_bad_length_is_refused_in_one_line_and_the_dialog_stays(qtbot, pane):
    dialog = calibrate(qtbot, pane, "ten")
    assert dialog.isVisible()
    message = dialog.error_label.text()
    assert dialog.error_label.isVisible() and "positive number" in message and "\n" not in message
    assert not pane.annotations.calibration.calibrated
    dialog.length_edit.setText("-3")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and not pane.annotations.calibration.calibrated
    dialog.length_edit.setText("250")
    dialog.unit_combo.setCurrentText("nm")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert pane.annotations.calibration.unit == "nm"
    assert pane.canvas.mode == "prompt"  # back to clicking once calibrated


def test_a_typed_pixel_size_calibrates_and_an_ambiguous_comma_is_asked_about(qtbot, pane):
    """There was no way to type a pixel size (only to draw a line), and "1,000" typed for a
    length was read as 1.0. Pixel size… takes it; "1,000" is asked about; undo restores px."""
    paint_objects(pane, [(60, 60)])
    qtbot.mouseClick(pane.calibration_bar.pixel_size_button, Qt.MouseButton.LeftButton)
    tool = pane.calibration_bar.tool
    qtbot.waitUntil(lambda: tool.dialog is not None and tool.dialog.isVisible(), timeout=5000)
    dialog = tool.dialog
    assert dialog.windowTitle() == "Set the pixel size"
    qtbot.keyClicks(dialog.length_edit, "1,000")
    dialog.unit_combo.setCurrentText("nm")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and not pane.annotations.calibration.calibrated
    assert dialog.error_label.text() == (
        "'1,000': 1000 or 1.000? Type it without the comma, or with a decimal point."
    )
    dialog.length_edit.setText("2,5")  # a decimal comma
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    cal = pane.annotations.calibration
    assert (cal.pixel_size, cal.unit, cal.source) == (2.5, "nm", "manual")
    assert pane.calibration_bar.label.text() == "Calibration: 2.5 nm/px (set by hand)"
    assert pane.objects_panel.tree.topLevelItem(0).text(2).endswith("nm²")
    pane.undo_stack.undo()
    assert not pane.annotations.calibration.calibrated


def test_the_calibration_comes_back_with_the_image_and_reset_returns_to_metadata(
    qtbot, pane, sample
):
    calibrate(qtbot, pane, "5", "mm")
    pixel_size = pane.annotations.calibration.pixel_size
    path = sidecar.sidecar_path(sample)
    qtbot.waitUntil(
        lambda: path.exists() and sidecar.load(path).calibration.unit == "mm", timeout=10000
    )

    other = sample.with_name("other.tif")
    shutil.copy(sample, other)
    open_image(qtbot, pane, other)
    assert "uncalibrated (pixels)" in pane.calibration_bar.label.text()
    open_image(qtbot, pane, sample)
    cal = pane.annotations.calibration
    assert (cal.unit, cal.source) == ("mm", "manual")
    assert cal.pixel_size == pytest.approx(pixel_size)
    assert "mm/px (set by hand)" in pane.calibration_bar.label.text()

    assert pane.calibration_bar.reset_button.isEnabled()
    qtbot.mouseClick(pane.calibration_bar.reset_button, Qt.MouseButton.LeftButton)
    assert not pane.annotations.calibration.calibrated
    assert not pane.calibration_bar.reset_button.isEnabled()
    pane.undo_stack.undo()
    assert pane.annotations.calibration.unit == "mm"


def test_the_measure_tab_counts_new_objects_and_draws_their_size_histogram(qtbot, pane):
    panel = show_measure_tab(qtbot, pane)
    assert panel.table.rowCount() == 0  # no class has objects: no row
    paint_objects(pane, [(40, 40), (120, 60), (200, 300)], radius=8)
    wait_measured(qtbot, panel, 3)
    assert panel.cell(COUNT, "precipitate") == "3"
    assert float(panel.cell(FRACTION, "precipitate").rstrip("%")) > 0
    assert drawn_counts(panel).sum() == 3

    paint_objects(pane, [(400, 400)], radius=20)  # one bigger object: the sizes now span more
    wait_measured(qtbot, panel, 4)
    assert panel.cell(COUNT, "precipitate") == "4"
    assert drawn_counts(panel).sum() == 4
    panel.scale_combo.setCurrentText("Log bins")
    assert panel.plot.getPlotItem().ctrl.logXCheck.isChecked()
    edges, _ = panel.bars.getOriginalDataset()
    assert np.allclose(edges[1:] / edges[:-1], edges[1] / edges[0])  # evenly spaced in log
    assert drawn_counts(panel).sum() == 4
    panel.bins_spin.setValue(8)
    assert len(drawn_counts(panel)) == 8 and drawn_counts(panel).sum() == 4
    panel.quantity_combo.setCurrentText("Diameter (ECD)")
    assert drawn_counts(panel).sum() == 4
    assert panel.plot.getPlotItem().getAxis("bottom").labelText.endswith("(px)")

    pane.undo_stack.undo()
    wait_measured(qtbot, panel, 3)
    assert panel.cell(COUNT, "precipitate") == "3"
    assert drawn_counts(panel).sum() == 3
    assert np.all(drawn_counts(panel) >= 0)


def test_grain_size_crack_length_and_the_report_follow_the_classes(qtbot, pane, tmp_path):
    panel = show_measure_tab(qtbot, pane)
    pane.clicks.class_combo.setCurrentText("grain")
    paint_objects(pane, [(100, 100), (200, 100), (300, 100)], radius=30)
    pane.clicks.class_combo.setCurrentText("crack")
    pane.state.set_mode("brush")
    pane.canvas.brush_radius = 2
    pane.objects_panel.tree.clearSelection()
    pane.apply_stroke([(100, 300), (300, 300)], erase=False)  # a 200 px straight crack
    wait_measured(qtbot, panel, 4)
    text = panel.extras_label.text()
    assert panel.extras_label.isVisible()
    assert "Grain size" in text and "G needs a calibration" in text
    assert "Cracks" in text and "1, total length" in text
    total_px = panel.result.summary.cracks.total_length
    assert total_px == pytest.approx(200, rel=0.05)

    pane.state.set_calibration(Calibration.from_scale_bar(100, 1, "mm"))  # 10 µm per pixel
    wait_measured(qtbot, panel, 4)
    grains = panel.result.summary.grain_size
    assert grains.calibrated and f"G = {grains.planimetric.g:.2f} planimetric" in (
        panel.extras_label.text()
    )
    assert panel.result.summary.cracks.unit == "mm"
    assert panel.result.summary.cracks.total_length == pytest.approx(total_px / 100)

    report = tmp_path / "report.html"
    panel.write_report(report)
    qtbot.waitUntil(report.exists, timeout=20000)
    pane.context.jobs.wait(10000)
    page = report.read_text(encoding="utf-8")
    assert "data:image/png;base64" in page and "ASTM E112" in page and "crack" in page


def test_the_batch_recipe_comes_from_the_pane_and_saves_and_loads(qtbot, pane, tmp_path):
    pytest.importorskip("inference.segmentation.automatic", reason="segment everything not built")
    pane.auto_panel.points_spin.setValue(12)
    calibrate(qtbot, pane, "10", "µm")
    qtbot.mouseClick(pane.measure_panel.batch_button, Qt.MouseButton.LeftButton)
    dialog = pane.measure_panel.batch_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    recipe = dialog.recipe()
    assert recipe.mode == "auto" and recipe.model == pane.model_id
    assert recipe.params("auto")["points_per_side"] == 12
    assert recipe.classes[0].name == pane.state.current_class
    assert recipe.calibration.rule == "fixed"  # drawn by hand: the same for the whole folder
    assert recipe.calibration.pixel_size == pytest.approx(pane.annotations.calibration.pixel_size)
    assert recipe.unit == "µm"
    assert dialog.input_edit.text() == str(pane.loaded.path.parent)

    saved = tmp_path / "recipe.json"
    dialog.save_recipe(saved)  # written in a worker
    qtbot.waitUntil(lambda: dialog.summary_label.text() == f"Recipe saved: {saved}", timeout=5000)
    dialog.unit_combo.setCurrentText("nm")
    dialog.calibration_combo.setCurrentIndex(dialog.calibration_combo.count() - 1)
    assert dialog.recipe().calibration.rule == "none"
    dialog.load_recipe(saved)
    qtbot.waitUntil(lambda: "Recipe loaded" in dialog.summary_label.text(), timeout=5000)
    assert dialog.recipe() == recipe

    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    dialog.load_recipe(bad)
    qtbot.waitUntil(lambda: "not valid JSON" in dialog.summary_label.text(), timeout=5000)
    assert "\n" not in dialog.summary_label.text()
    assert dialog.recipe() == recipe  # the recipe shown stays

    dialog.input_edit.setText("")
    assert not dialog.start()
    assert dialog.summary_label.text() == "Choose an input folder."
    dialog.input_edit.setText(str(tmp_path / "missing"))
    assert dialog.start()  # whether it exists, the runner says, in one line
    qtbot.waitUntil(lambda: not dialog.running, timeout=20000)
    line = dialog.summary_label.text()
    assert line.startswith("Batch stopped: input folder not found") and "\n" not in line


def test_the_batch_dialog_measures_a_folder_lists_a_bad_file_and_resumes(
    qtbot, pane, tmp_path, mobile_sam_exported
):
    pytest.importorskip("inference.segmentation.automatic", reason="segment everything not built")
    folder = tmp_path / "micrographs"
    folder.mkdir()
    for name in ("a.tif", "b.tif"):
        shutil.copy(SAMPLE, folder / name)
    (folder / "broken.tif").write_bytes(b"this is not a TIFF")
    out = tmp_path / "measured"
    pane.auto_panel.points_spin.setValue(8)  # a coarse grid keeps the test short
    pane.state.set_calibration(Calibration.from_scale_bar(100, 5, "µm"))
    dialog = pane.measure_panel.open_batch()
    dialog.input_edit.setText(str(folder))
    dialog.output_edit.setText(str(out))

    assert dialog.where_box.here_radio.isChecked()  # this computer unless a cluster is chosen
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.running and not dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=180000)
    summary = dialog.summary_label.text()
    assert summary.startswith("3 items on this computer") and "\n" not in summary
    assert "2 done" in summary and "1 failed" in summary
    view = dialog.progress
    assert view.items.isVisible()
    assert sorted(r[:2] for r in view.rows()) == [
        ("a.tif", "done"),
        ("b.tif", "done"),
        ("broken.tif", "failed"),
    ]
    broken = next(r for r in view.rows() if r[0] == "broken.tif")
    assert broken[2] and "\n" not in broken[2]  # why, in one line
    figures = view.figures_label.text()
    assert figures.startswith("2/3 done") and "1 failed" in figures
    assert view.bar.value() == view.bar.maximum()
    assert (out / "a.csv").exists() and (out / "b.overlay.png").exists()
    head = (out / "summary.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(head) == 3 and "pixel_size_µm" in head[0]

    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)  # again: resumes
    qtbot.waitUntil(lambda: not dialog.running, timeout=60000)
    assert "2 already done" in dialog.summary_label.text()
    assert dialog.report.done == ()
    assert ("a.tif", "done before") in [r[:2] for r in view.rows()]


def test_the_batch_dialog_says_why_an_image_kept_its_pixels(
    qtbot, pane, tmp_path, mobile_sam_exported
):
    """ "Each file's metadata, else 0.05 µm/px" over a Helios scan stretched 2:1 (the real FEI
    file with its PixelHeight doubled: 3.3724 µm wide, 6.7448 µm high; the DM stack of the CLI
    test is 68 px, under segment everything's 96 px floor): it stays in pixels and the dialog
    says why under its summary; the file with no scale gets 0.05 µm."""
    pytest.importorskip("inference.segmentation.automatic", reason="segment everything not built")
    from conftest import shared

    folder = tmp_path / "micrographs"
    folder.mkdir()
    stack = "stretched.tif"
    with zipfile.ZipFile(
        shared("microscope_formats", "rosettasciio", "tiff", "tiff_FEI_Helios.zip")
    ) as z:
        data = z.read("FEI-Helios-Ebeam-8bits.tif")
    assert data.count(b"PixelHeight=3.3724e-006") == 2  # [Scan] and [EScan]
    (folder / stack).write_bytes(
        data.replace(b"PixelHeight=3.3724e-006", b"PixelHeight=6.7448e-006")
    )
    shutil.copy(SAMPLE, folder / "no_scale.tif")
    pane.auto_panel.points_spin.setValue(8)
    pane.state.set_calibration(Calibration.from_scale_bar(100, 5, "µm"))
    dialog = pane.measure_panel.open_batch()
    combo = dialog.calibration_combo
    combo.setCurrentIndex(combo.findText("Each file's metadata, else 0.05 µm/px"))
    assert combo.currentIndex() >= 0
    dialog.input_edit.setText(str(folder))
    dialog.output_edit.setText(str(tmp_path / "measured"))
    assert not dialog.notes_label.isVisible()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=180000)
    summary = dialog.summary_label.text()
    assert "2 done" in summary and "\n" not in summary
    assert dialog.notes_label.isVisible()
    note, data_bar = dialog.notes_label.text().splitlines()
    assert note.startswith(f"Note: {stack}: pixels are not square (3.3724 µm wide, 6.7448 µm")
    assert data_bar == (
        f"Note: {stack}: Data bar: bottom 29 rows, left out of automatic segmentation and area "
        "fractions"
    )
    assert "fallback (0.05 µm)" in note and "not used" in note
    rows = (tmp_path / "measured" / "summary.csv").read_text(encoding="utf-8-sig")
    assert "none (pixels not square)" in rows


def test_cancel_in_the_batch_dialog_stops_and_a_new_start_redoes_nothing_done(
    qtbot, pane, tmp_path, mobile_sam_exported
):
    """Cancel after the first image: the figures stop (no rate or time left any more), the
    images finished keep their outputs, and Start again measures only the rest."""
    pytest.importorskip("inference.segmentation.automatic", reason="segment everything not built")
    folder = tmp_path / "micrographs"
    folder.mkdir()
    names = [f"{k}.tif" for k in "abcde"]
    for name in names:
        shutil.copy(SAMPLE, folder / name)
    (folder / "older").mkdir()  # not read, and said so
    (folder / "notes.txt").write_text("furnace log", encoding="utf-8")
    out = folder / "measured"  # inside the input folder: not named as a subfolder left out
    pane.auto_panel.points_spin.setValue(8)  # a coarse grid keeps the test short
    dialog = pane.measure_panel.open_batch()
    dialog.input_edit.setText(str(folder))
    dialog.output_edit.setText(str(out))
    view = dialog.progress

    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(view.rows()) >= 1, timeout=120000)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=60000)
    assert dialog.summary_label.text().startswith("Cancelled. Start again to resume")
    figures = view.figures_label.text()
    assert figures.endswith(" · cancelled") and "left" not in figures and "/s" not in figures
    first = [r[0] for r in view.rows() if r[1] == "done"]
    assert first and len(first) < len(names)
    assert figures.startswith(f"{len(first)}/{len(names)} done")
    for name in first:
        assert (out / name.replace(".tif", ".csv")).is_file()

    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)  # resumes
    qtbot.waitUntil(lambda: not dialog.running, timeout=180000)
    assert sorted(dialog.report.skipped) == sorted(first)
    assert sorted(dialog.report.done) == sorted(set(names) - set(first))
    assert all(view.state_of(name) == "done before" for name in first)
    assert view.figures_label.text().startswith(f"{len(names)}/{len(names)} done")
    assert dialog.notes_label.text().splitlines() == [
        "Note: subfolders not read (the batch reads one folder): older/",
        "Note: files not in a micrograph format, left out: notes.txt",
    ]  # the output folder inside the input folder is not named


def test_the_batch_dialog_says_in_one_line_when_no_cluster_answers(qtbot, pane, tmp_path):
    folder = tmp_path / "micrographs"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "a.tif")
    dialog = pane.measure_panel.open_batch()
    dialog.input_edit.setText(str(folder))
    dialog.output_edit.setText(str(tmp_path / "measured"))
    where = dialog.where_box
    qtbot.mouseClick(where.cluster_radio, Qt.MouseButton.LeftButton)
    assert where.address_edit.isEnabled()

    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)  # no address typed
    assert not dialog.running
    assert dialog.summary_label.text().startswith("Type the address of the cluster's scheduler")

    qtbot.keyClicks(where.address_edit, "lab-machine")  # no scheme, no port
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=20000)
    line = dialog.summary_label.text()
    assert "is not a scheduler address" in line and "\n" not in line

    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    where.address_edit.setText(f"tcp://127.0.0.1:{port}")
    started = time.monotonic()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.running and dialog.progress.figures_label.text().startswith("Connecting to")
    qtbot.waitUntil(lambda: not dialog.running, timeout=40000)
    assert time.monotonic() - started < 30  # the runner gives up after 10 s
    line = dialog.summary_label.text()
    assert line.startswith("Batch stopped: cannot reach the dask scheduler at tcp://127.0.0.1:")
    assert "\n" not in line and "Traceback" not in line
    assert dialog.start_button.isEnabled() and not pane.errors
