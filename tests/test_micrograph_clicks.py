"""One click on an EBC1 coating cross-section in the Micrographs pane, as a microscopist makes
it: a thin crack comes back as the crack (and `matlens segment` gives the same), and a click
whose answers are scattered over the image says so. Real MobileSAM, real widget, real
test-split image and its ground truth (NASA MicroNet EBC1; no MatLens parameter was chosen on
the test split)."""

from __future__ import annotations

import json
import shutil
from typing import cast

import numpy as np
import pytest
import tifffile
from conftest import shared
from pycocotools.coco import COCO
from PySide6.QtCore import Qt
from scipy import ndimage
from test_cli import matlens
from test_micrograph_pane import click, open_image, prompts, wait_mask

EBC1_TEST = ("segmentation", "nasa_micronet", "EBC1")


@pytest.fixture
def window(main_window, mobile_sam_exported):
    return main_window


def open_ebc1(qtbot, window, tmp_path, name):
    """The test image, copied so the pane's sidecar stays out of ../shared/data."""
    image = shutil.copy(shared(*EBC1_TEST, "test", name + ".tif"), tmp_path / (name + ".tif"))
    truth = tifffile.imread(shared(*EBC1_TEST, "test_annot", name + ".tif"))
    return open_image(qtbot, window, image), truth


def test_a_click_on_a_thin_crack_gives_the_crack(qtbot, window, tmp_path):
    pane, truth = open_ebc1(qtbot, window, tmp_path, "050317_3_S0440016")
    x, y = 364, 596  # the interior-most point of a crack 2-4 px wide (label 2)
    labels, _count = cast(
        "tuple[np.ndarray, int]", ndimage.label(truth == 2, np.ones((3, 3), bool))
    )
    crack = labels == labels[y, x]
    assert labels[y, x] and 150 < crack.sum() < 300

    click(qtbot, pane, x, y)
    shown = wait_mask(qtbot, pane)
    iou = np.count_nonzero(shown.mask & crack) / np.count_nonzero(shown.mask | crack)
    # SAM's own first answer here is a mask of the coating around it (IoU 0.001 before).
    assert iou > 0.5, f"IoU with the crack {iou:.3f}"
    assert "local contrast" in pane.clicks.candidate_label.text()
    assert len(prompts(pane).candidates) == 4  # SAM's three masks stay a Tab away

    # Enter keeps it, and `matlens segment` gives the same crack for the same click
    qtbot.keyClick(pane.canvas, Qt.Key.Key_Return)
    annotations = pane.annotations
    assert annotations is not None
    kept = annotations.objects[0]
    assert kept.source == "contrast" and kept.score is None
    prompts_json = tmp_path / "prompts.json"
    prompts_json.write_text(json.dumps({"objects": [{"points": [[x, y, 1]]}]}), encoding="utf-8")
    coco_path = tmp_path / "objects.json"
    image = tmp_path / "050317_3_S0440016.tif"
    run = matlens(
        "segment", str(image), "--prompts", str(prompts_json), "--coco", str(coco_path), "--json"
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["objects"][0]["score"] is None
    coco = COCO(str(coco_path))
    (ann,) = coco.loadAnns(coco.getAnnIds())
    assert np.array_equal(coco.annToMask(ann).astype(bool), kept.full_mask(truth.shape))


def test_a_click_with_only_scattered_answers_says_it_is_uncertain(qtbot, window, tmp_path):
    pane, _ = open_ebc1(qtbot, window, tmp_path, "040617_2_S127(2)0015")
    click(qtbot, pane, 94, 192)  # in the porous top coat, well away from the oxide band
    shown = wait_mask(qtbot, pane)
    # SAM's favourite (predicted IoU 0.99) is most of the image in a hundred pieces
    assert shown.mask.mean() > 0.5
    text = pane.clicks.candidate_label.text()
    assert text.startswith("Uncertain click.") and "scattered" in text, text
    qtbot.keyClick(pane.canvas, Qt.Key.Key_Tab)
    assert "Uncertain click." in pane.clicks.candidate_label.text()  # the click stays unclear
