"""Images too small for SAM's automatic segmentation are refused in one line, not reported as
"0 objects, 0 %": the CLI (exit 2), the batch (a failure with the reason) and the pane's Segment
everything button. A large image that genuinely holds nothing still reports 0."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from cli_harness import run_matlens
from conftest import shared
from PySide6.QtCore import Qt

from inference.segmentation.batch import run_batch
from inference.segmentation.domain import MIN_SIDE
from inference.segmentation.recipe import Recipe, recipe_from_dict

FORMATS = ("microscope_formats", "rosettasciio")
TINY = {
    "HAADFscan.mrc": (*FORMATS, "mrc", "HAADFscan.mrc"),  # 16 × 16
    "test_STEM_image.dm3": (*FORMATS, "digitalmicrograph", "2D", "test_STEM_image.dm3"),  # 68²
}
REFUSAL = "out of the model's domain"


def _map_recipe() -> Recipe:
    return recipe_from_dict(
        {
            "format": "matlens-recipe",
            "version": 1,
            "mode": "map",
            "classes": ["phase"],
            "parameters": {"auto": {"points_per_side": 8}, "map": {"kind": "phase"}},
        }
    )


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_cli_refuses_a_tiny_image_in_one_line(name, tmp_path):
    out = tmp_path / "labels.tif"
    run = run_matlens("auto", shared(*TINY[name]), "--map", "labels", "--out", out, "--json")
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and REFUSAL in lines[0] and f"{MIN_SIDE} px" in lines[0], lines
    assert "Traceback" not in run.stderr and run.stdout == "" and not out.exists()


def test_a_large_uniform_image_still_reports_nothing_found(tmp_path):
    image = tmp_path / "blank.png"
    iio.imwrite(image, np.full((128, 160), 120, np.uint8))
    out = tmp_path / "labels.tif"
    run = run_matlens("auto", image, "--map", "labels", "--out", out, "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["masks"] == 0 and summary["area_fraction"] == 0.0, summary


def test_the_batch_lists_tiny_images_as_failed_with_the_reason(tmp_path, sam_model):
    src = tmp_path / "in"
    src.mkdir()
    for name, parts in TINY.items():
        shutil.copy(shared(*parts), src / name)
    iio.imwrite(src / "blank.png", np.full((128, 128), 90, np.uint8))
    report = run_batch(_map_recipe(), src, tmp_path / "out", model=sam_model)
    assert report.done == ("blank.png",)
    failed = {f.file: f.reason for f in report.failures}
    assert set(failed) == set(TINY), failed
    assert all(REFUSAL in m and "\n" not in m for m in failed.values()), failed


def test_segment_everything_in_the_window_refuses_a_tiny_image(qtbot, main_window, tmp_path):
    path = tmp_path / "HAADFscan.mrc"
    shutil.copy(shared(*TINY["HAADFscan.mrc"]), path)
    pane = main_window.panes[0]
    main_window.open_path(path)
    qtbot.waitUntil(lambda: pane.ready, timeout=60000)
    main_window.banner.hide()
    before = len(pane.annotations)
    qtbot.mouseClick(pane.auto_panel.everything_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(main_window.banner.text), timeout=60000)
    text = main_window.banner.text
    assert REFUSAL in text and "16 × 16" in text and "\n" not in text, text
    assert len(pane.annotations) == before
    if shots := os.environ.get("MATLENS_SHOTS"):
        qtbot.wait(100)
        main_window.grab().save(str(Path(shots) / "tiny_image_segment_everything.png"))
