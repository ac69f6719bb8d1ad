"""What a new user trips over in the Micrographs pane, on files MatLens was not tuned on.

Vendor files opened through the window: what the Image box says must be what the file says (a
scale that was not used, for reciprocal space, pixels not square or no unit, is named there, and
so are an FEI data bar and the signals of a multi-detector file that were not opened), stacks
are counted the same way in the frame box and the Image box, and every extension the reader
takes opens through File ▸ Open.
On a NASA MicroNet test image: accepting the same precipitate twice is said, since it is then
counted twice. Real files (rosettasciio's and atomap's test data, MicroNet), real model, real
window, real widgets.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import cast

import numpy as np
import pytest
import tifffile
from conftest import shared
from model_folders import cut_short, linked_models
from PySide6.QtCore import Qt
from scipy import ndimage
from skimage import measure as skmeasure

from desktop.panes.micrograph.pane import MicrographPane
from inference.segmentation.workflows import SamModels

ROSETTA = ("microscope_formats", "rosettasciio")


@pytest.fixture
def window(main_window, mobile_sam_exported):
    return main_window


def open_copy(qtbot, window, tmp_path, *parts: str) -> MicrographPane:
    """File ▸ Open on a copy (an edit's sidecar must not land in the shared data)."""
    path = shutil.copy(shared(*parts), tmp_path / parts[-1])
    pane = window.panes[0]
    assert isinstance(pane, MicrographPane)
    assert window.open_path(path), window.banner.error_text
    qtbot.waitUntil(lambda: pane.loaded is not None and pane.loaded.path == path, timeout=30000)
    return pane


def image_box(pane: MicrographPane) -> str:
    return f"{pane.info_label.text()} {pane.calibration_bar.label.text()}"


def test_a_stack_with_pixels_not_square_says_so_and_counts_frames_from_one(qtbot, window, tmp_path):
    pane = open_copy(
        qtbot, window, tmp_path, *ROSETTA, "tiff", "test_loading_image_saved_with_DM_stack.tif"
    )
    text = image_box(pane)
    assert "frame 1 of 2" in text
    assert "pixels are not square (0.16867 µm wide, 1.6867 µm high)" in text
    assert "uncalibrated (pixels)" in text
    spin = pane.frame_spin
    assert spin.isVisible() and spin.text() == "Frame 1 of 2"

    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "2")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pane.loaded is not None and pane.loaded.micrograph.frame == 1)
    assert "frame 2 of 2" in image_box(pane) and spin.text() == "Frame 2 of 2"


def test_a_scale_set_on_one_frame_of_a_stack_holds_for_its_other_frames(
    qtbot, window, tmp_path, capsys
):
    """Frame 1 of an uncalibrated stack given a pixel size, then frame 2 shown: it read
    "uncalibrated (pixels)" and measured px² (each frame keeps its own sidecar). Frames share a
    magnification, as Fiji keeps one scale per stack: frame 2 takes it and says so, and
    `matlens measure --frame 1` measures with it too."""
    import imageio.v3 as iio

    from inference.cli import main

    pane = open_copy(
        qtbot, window, tmp_path, *ROSETTA, "tiff", "test_loading_image_saved_with_DM_stack.tif"
    )
    qtbot.mouseClick(pane.calibration_bar.pixel_size_button, Qt.MouseButton.LeftButton)
    tool = pane.calibration_bar.tool
    qtbot.waitUntil(lambda: tool.dialog is not None and tool.dialog.isVisible(), timeout=5000)
    dialog = tool.dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.length_edit, "0.2")
    dialog.unit_combo.setCurrentText("µm")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "0.2 µm/px (set by hand)" in image_box(pane)
    stack = pane.loaded.path if pane.loaded is not None else None
    assert stack is not None
    qtbot.waitUntil(lambda: stack.with_name(stack.name + ".frame0.matlens.json").exists())
    spin = pane.frame_spin
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "2")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pane.loaded is not None and pane.loaded.micrograph.frame == 1)
    assert "Calibration: 0.2 µm/px (set by hand)" in image_box(pane)
    assert "the scale set on frame 1 of this stack is used (0.2 µm/px)" in window.banner.text

    labels = tmp_path / "labels.png"
    blob = np.zeros((68, 68), np.uint16)
    blob[20:30, 20:40] = 1
    iio.imwrite(labels, blob)
    code = main(
        ["measure", str(stack), str(labels), "--frame", "1", "--csv", str(tmp_path / "o.csv")]
    )
    out = capsys.readouterr().out
    assert code == 0 and "calibration set in the Micrographs pane: the scale set on frame 1" in out
    assert out.splitlines()[0].endswith("1 object, 0.2 µm/px (manual)"), out


def test_the_frame_boxs_arrow_and_enter_load_the_frame(qtbot, window, tmp_path):
    """A click on the box's up arrow showed "Frame 2 of 2" over frame 1 (the frame loaded only
    when the box lost focus); Enter typed in the box went to the pane's Enter (accept the
    mask), which said "Nothing to accept"."""
    from PySide6.QtWidgets import QStyle, QStyleOptionSpinBox

    pane = open_copy(
        qtbot, window, tmp_path, *ROSETTA, "tiff", "test_loading_image_saved_with_imageJ_stack.tif"
    )
    window.activateWindow()
    spin = pane.frame_spin
    assert spin.isVisible() and spin.text() == "Frame 1 of 2"
    option = QStyleOptionSpinBox()
    spin.initStyleOption(option)
    up = spin.style().subControlRect(
        QStyle.ComplexControl.CC_SpinBox, option, QStyle.SubControl.SC_SpinBoxUp, spin
    )
    qtbot.mouseClick(spin, Qt.MouseButton.LeftButton, pos=up.center())
    qtbot.waitUntil(lambda: pane.loaded is not None and pane.loaded.micrograph.frame == 1)
    assert "frame 2 of 2" in image_box(pane) and spin.text() == "Frame 2 of 2"

    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "1")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pane.loaded is not None and pane.loaded.micrograph.frame == 0)
    assert "frame 1 of 2" in image_box(pane)
    assert "Nothing to accept" not in window.statusBar().currentMessage()


def test_a_diffraction_pattern_says_why_it_reads_in_pixels(qtbot, window, tmp_path):
    pane = open_copy(
        qtbot, window, tmp_path, *ROSETTA, "digitalmicrograph", "2D", "test_diffraction_pattern.dm3"
    )
    text = image_box(pane)
    assert "uncalibrated (pixels)" in text
    assert "reciprocal space (0.17443 1/nm per pixel): not used" in text


def test_a_hyperspy_hdf5_file_opens_through_the_window(qtbot, window, tmp_path):
    pane = open_copy(
        qtbot, window, tmp_path, "microscope_formats", "atomap", "test_ADF_cropped.hdf5"
    )
    assert not window.banner.error_text
    assert pane.loaded is not None and pane.loaded.micrograph.shape == (400, 380)
    text = image_box(pane)
    assert "380 × 400 px, float16" in text
    assert "0.0093263 per pixel with no unit in the file: not used" in text


def test_a_velox_file_with_several_detectors_names_those_not_opened(qtbot, window, tmp_path):
    pane = open_copy(qtbot, window, tmp_path, *ROSETTA, "emd", "fei_example_dpc_titles.emd")
    assert pane.loaded is not None and pane.loaded.micrograph.title == "B-D"
    text = image_box(pane)
    assert "also in the file, not opened: DPC (image); iDPC (image); DF4-C (image)" in text
    assert "99.62 pm/px (from the metadata: EMD)" in text


def test_an_fei_image_names_its_data_bar(qtbot, window, tmp_path):
    """29 of its 471 rows are the data bar: MatLens leaves them out, and the box says so."""
    with zipfile.ZipFile(shared(*ROSETTA, "tiff", "tiff_FEI_Helios.zip")) as archive:
        path = archive.extract("FEI-Helios-Ebeam-8bits.tif", tmp_path)
    pane = window.panes[0]
    assert window.open_path(path)
    qtbot.waitUntil(lambda: pane.loaded is not None and str(pane.loaded.path) == path)
    text = image_box(pane)
    line = "Data bar: bottom 29 rows, left out of automatic segmentation and area fractions"
    assert line in text
    assert "3.372 µm/px (from the metadata: FEI tags (PixelWidth))" in text


def test_the_scale_bar_sits_above_an_fei_data_bar(qtbot, window, tmp_path):
    """The canvas bar was drawn over the data bar's bottom rows (its HV, mag and own bar): it
    rises above the data bar while that shows, and goes back to the corner when zoomed away."""
    from PySide6.QtCore import QPointF

    with zipfile.ZipFile(shared(*ROSETTA, "tiff", "tiff_FEI_Helios.zip")) as archive:
        path = archive.extract("FEI-Helios-Ebeam-8bits.tif", tmp_path)
    pane = window.panes[0]
    assert window.open_path(path)
    qtbot.waitUntil(lambda: pane.loaded is not None and str(pane.loaded.path) == path)
    canvas, micrograph = pane.canvas, pane.loaded.micrograph
    assert micrograph.data_bar_rows == 29
    view, bar = canvas.view, canvas.scale_bar

    def data_bar_top() -> float:
        return view.mapViewToScene(QPointF(0, micrograph.shape[0] - 29)).y()

    qtbot.waitUntil(lambda: view.viewRect().height() > micrograph.shape[0], timeout=5000)
    assert bar.label == "200 µm"
    assert bar.bar.sceneBoundingRect().bottom() < data_bar_top()
    assert bar.text.sceneBoundingRect().top() > view.sceneBoundingRect().top()

    view.setRange(xRange=(250, 512), yRange=(380, 471), padding=0)  # zoomed on the data bar
    qtbot.wait(50)
    assert bar.isVisible() and bar.bar.sceneBoundingRect().bottom() < data_bar_top()
    view.setRange(xRange=(0, 300), yRange=(0, 200), padding=0)  # the data bar out of sight
    qtbot.wait(50)
    corner = view.sceneBoundingRect().bottom() - bar.bar.sceneBoundingRect().bottom()
    assert 0 < corner < 20  # back in the view's corner


@pytest.mark.parametrize("side", [24, 200])
def test_the_scale_bar_stays_on_an_image_narrower_than_the_view(qtbot, window, tmp_path, side):
    """A square image in the wide canvas has black margins beside it: the bar was placed in the
    view's corner and ran past the image's right edge into them (by 25 screen px at 24 px)."""
    from PySide6.QtCore import QPointF

    from inference.runtime.paths import samples_dir

    grey = tifffile.imread(samples_dir() / "superalloy_precipitates.tif").mean(axis=2)
    path = tmp_path / f"square{side}.tif"
    tifffile.imwrite(
        path,
        grey[:side, :side].astype(np.uint8),
        imagej=True,
        resolution=(1 / 0.05, 1 / 0.05),  # 0.05 µm a pixel
        metadata={"unit": "um"},
    )
    pane = window.panes[0]
    assert window.open_path(path)
    qtbot.waitUntil(lambda: pane.loaded is not None and pane.loaded.path == path, timeout=30000)
    view, bar = pane.canvas.view, pane.canvas.scale_bar
    qtbot.waitUntil(lambda: view.viewRect().width() > side, timeout=5000)
    qtbot.wait(50)
    image_right = view.mapViewToScene(QPointF(side, side)).x()
    image_bottom = view.mapViewToScene(QPointF(side, side)).y()
    assert image_right < view.sceneBoundingRect().right() - 30  # margins beside the image
    assert bar.isVisible()
    drawn = bar.bar.sceneBoundingRect()
    assert drawn.right() < image_right and drawn.bottom() < image_bottom
    assert bar.text.sceneBoundingRect().right() < image_right
    assert 0.1 * side <= bar.size <= 0.2 * side  # about a fifth of the image, not of the view


def test_a_second_image_is_not_called_ready_while_it_is_prepared(qtbot, window, tmp_path):
    """The status bar kept the first image's "Ready: click on an object" while the second was
    still being embedded (clicks then waited without a word of why)."""
    from inference.runtime.paths import samples_dir

    pane = window.panes[0]
    first = Path(shutil.copy(samples_dir() / "superalloy_precipitates.tif", tmp_path / "a.tif"))
    second = tmp_path / "b.tif"  # other pixels: no embedding cached on disk for them
    tifffile.imwrite(second, np.ascontiguousarray(tifffile.imread(first)[::-1]))
    status = window.statusBar()
    assert window.open_path(first)
    qtbot.waitUntil(lambda: pane.ready, timeout=60000)
    assert status.currentMessage().startswith("Ready: click on an object")
    assert window.open_path(second)
    qtbot.waitUntil(lambda: pane.loaded is not None and pane.loaded.path == second, timeout=30000)
    assert not pane.ready  # embedding the 512² image takes some 0.4 s
    assert status.currentMessage() == "Preparing the image for segmentation…"
    qtbot.waitUntil(lambda: pane.ready, timeout=60000)
    assert status.currentMessage().startswith("Ready: click on an object")


def precipitate_points(mask_path) -> list[tuple[int, int]]:
    """The interior-most pixel of each annotated (red) precipitate, largest first."""
    rgba = tifffile.imread(mask_path)
    red = (rgba[..., 0] == 255) & (rgba[..., 1] == 0) & (rgba[..., 2] == 0)
    labels = skmeasure.label(red)
    points = []
    for region in sorted(skmeasure.regionprops(labels), key=lambda r: -r.area):
        depth = cast("np.ndarray", ndimage.distance_transform_edt(labels == region.label))
        y, x = np.unravel_index(np.argmax(depth), depth.shape)
        points.append((int(x), int(y)))
    return points


def click_and_accept(qtbot, pane: MicrographPane, x: int, y: int) -> None:
    prompts = pane.state.workbench.prompts
    assert prompts is not None
    before = prompts.current
    pos = pane.canvas.scene_pos_of(x + 0.5, y + 0.5)
    qtbot.mouseClick(pane.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(
        lambda: (
            prompts.current is not None
            and prompts.current is not before
            and not pane.clicks.decode_slot.busy
        ),
        timeout=20000,
    )
    qtbot.mouseClick(pane.clicks.accept_button, Qt.MouseButton.LeftButton)


def test_accepting_the_same_precipitate_twice_is_said(qtbot, window, tmp_path):
    super1 = ("segmentation", "nasa_micronet", "Super1")
    pane = open_copy(qtbot, window, tmp_path, *super1, "test", "spot2_0d_4.tif")
    qtbot.waitUntil(lambda: pane.ready, timeout=60000)
    first, second = precipitate_points(shared(*super1, "test_annot", "spot2_0d_4_mask.tif"))[:2]
    status = window.statusBar()

    click_and_accept(qtbot, pane, *first)
    click_and_accept(qtbot, pane, *second)
    assert "counted again" not in status.currentMessage()
    click_and_accept(qtbot, pane, *first)
    assert pane.objects_panel.tree.topLevelItemCount() == 3
    message = status.currentMessage()
    assert message.startswith("#3 lies ") and "inside other precipitate objects" in message
    assert "counted again (Ctrl+Z takes it back)" in message


def test_annotations_saved_under_the_old_dm_reading_reopen_with_the_mended_scale(
    qtbot, window, tmp_path
):
    """Before the DM reader was mended this stack read 1.6867 µm/px (its pixel height) and the
    sidecar kept that copy of the metadata; reopened, the file's reading now wins and says so."""
    from inference.imaging.calibration import Calibration
    from inference.segmentation import sidecar
    from inference.segmentation.annotations import AnnotatedObject, AnnotationSet
    from inference.segmentation.workflows import load_image

    name = "test_loading_image_saved_with_DM_stack.tif"
    path = shutil.copy(shared(*ROSETTA, "tiff", name), tmp_path / name)
    fresh = load_image(Path(path), 0)
    old = AnnotationSet(fresh.shape, fresh.annotations.image, Calibration(1.6867, "µm", "DM tags"))
    old.add(AnnotatedObject(1, old.classes[0].name, np.ones((4, 4), bool), (2, 2)))
    sidecar.save(old, sidecar.sidecar_path(fresh.sidecar_key))

    pane = open_copy(qtbot, window, tmp_path, *ROSETTA, "tiff", name)
    assert "uncalibrated (pixels)" in image_box(pane)
    assert pane.loaded is not None and len(pane.loaded.annotations) == 1
    assert "1.687 µm/px, DM tags" in window.banner.error_text
    assert "the file's is used" in window.banner.error_text


def test_a_damaged_model_file_is_said_and_a_click_says_why_nothing_comes(
    qtbot, window, tmp_path, monkeypatch
):
    """A models folder whose SAM decoder was cut short (a copy: the real one stays as it is):
    the banner names the file and the fix in one line, and a click made once the banner is
    gone says that clicks are off and why, not "Preparing the image…" for ever."""
    models = linked_models(tmp_path / "models")
    cut_short(models, "mobile_sam_decoder.onnx", 100_000)
    monkeypatch.setenv("MATLENS_MODELS", str(models))
    # as at the start of the app: no SAM session that an earlier test opened from the good files
    monkeypatch.setattr(
        cast("MicrographPane", window.panes[0]).state.workbench, "models", SamModels()
    )

    super1 = ("segmentation", "nasa_micronet", "Super1")
    pane = open_copy(qtbot, window, tmp_path, *super1, "test", "spot2_0d_4.tif")
    qtbot.waitUntil(lambda: bool(window.banner.error_text), timeout=60000)
    line = window.banner.error_text
    assert "mobile_sam_decoder.onnx is damaged" in line and "make models" in line
    assert "\n" not in line and "Traceback" not in line
    window.banner.clear_error()  # the banner goes after a while; the click must still say why
    pos = pane.canvas.scene_pos_of(200.5, 200.5)
    qtbot.mouseClick(pane.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    hint = pane.clicks.candidate_label.text()
    assert hint.startswith("Clicks are off: ") and "mobile_sam_decoder.onnx is damaged" in hint
    assert not pane.ready
