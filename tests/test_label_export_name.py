"""Export ▸ Label image suggests a TIFF for a calibrated image (a PNG would drop the pixel
size) and a PNG for an uncalibrated one, in the real file dialog the menu opens."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog
from test_micrograph_pane import click, open_image, wait_mask

from inference.runtime.paths import samples_dir

SAMPLE = samples_dir() / "superalloy_precipitates.tif"
PRECIPITATE = (300, 300)  # a click SAM answers with an object of about 6400 px


@pytest.fixture
def window(main_window, mobile_sam_exported):
    return main_window


def _calibrated_copy(folder: Path) -> Path:
    """The sample as an ImageJ TIFF of 5 nm pixels, as Fiji saves a calibrated micrograph."""
    path = folder / "calibrated.tif"
    pixels = tifffile.imread(SAMPLE)[..., 0]  # grey, stored as RGB
    per_um = 1 / 0.005
    tifffile.imwrite(
        path, pixels, imagej=True, resolution=(per_um, per_um), metadata={"unit": "um"}
    )
    return path


def _export_labels_through_the_dialog(qtbot, pane, shot: str) -> tuple[str, Path]:
    """Click Export ▸ Label image…, read the name the dialog suggests, save there."""
    seen: dict[str, str] = {}

    def answer_dialog():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(50, answer_dialog)
            return
        seen["name"] = dialog.selectedFiles()[0]
        if shots := os.environ.get("MATLENS_SHOTS"):
            dialog.grab().save(str(Path(shots) / shot))
        dialog.accept()

    QTimer.singleShot(50, answer_dialog)
    action = next(a for a in pane.export_button.menu().actions() if a.text().startswith("Label"))
    action.trigger()  # returns once the dialog is answered
    target = Path(seen["name"])
    qtbot.waitUntil(target.exists, timeout=20000)
    pane.context.jobs.wait(20000)
    return seen["name"], target


def _one_object(qtbot, window, path: Path):
    pane = open_image(qtbot, window, path)
    click(qtbot, pane, *PRECIPITATE)
    wait_mask(qtbot, pane)
    qtbot.keyClick(pane.canvas, Qt.Key.Key_Return)
    assert pane.annotations is not None and len(pane.annotations) == 1
    return pane


def test_a_calibrated_image_suggests_a_tiff_that_keeps_the_pixel_size(qtbot, window, tmp_path):
    pane = _one_object(qtbot, window, _calibrated_copy(tmp_path))
    assert pane.annotations is not None and pane.annotations.calibration.calibrated
    name, written = _export_labels_through_the_dialog(qtbot, pane, "export_labels_calibrated.png")
    assert name == str(tmp_path / "calibrated_labels.tif")
    with tifffile.TiffFile(written) as tif:  # Fiji measures it in nm (5 nm pixels)
        page = tif.pages[0]
        numerator, denominator = page.tags["XResolution"].value  # type: ignore[union-attr]
        assert (tif.imagej_metadata or {}).get("unit") == "nm"
        assert denominator / numerator == pytest.approx(5.0, rel=1e-4)
        labels = page.asarray()  # type: ignore[union-attr]
    obj = pane.annotations.objects[0]
    assert set(np.unique(labels).tolist()) == {0, obj.id}


def test_an_uncalibrated_image_still_suggests_a_png(qtbot, window, tmp_path):
    path = Path(shutil.copy(SAMPLE, tmp_path / SAMPLE.name))
    pane = _one_object(qtbot, window, path)
    name, written = _export_labels_through_the_dialog(qtbot, pane, "export_labels_uncalibrated.png")
    assert name == str(tmp_path / "superalloy_precipitates_labels.png")
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
