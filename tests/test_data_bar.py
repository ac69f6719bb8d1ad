"""A microscope's data bar is not specimen: Segment everything, phases by example, the Measure
tab, `matlens auto|phases|measure` and the batch leave it out, and say so in one line.

The file is the real FEI Helios TIFF of rosettasciio's tests (its tags, its 29-row data bar with
HV, mag and its own scale bar) with the bundled superalloy micrograph written into its 442
specimen rows: the test file's own specimen is blank (all zero), which would leave the data bar
as the only thing to find. Every number is checked against one computed here from the label
image, over the specimen rows (the rows above the bar) only. Real MobileSAM, real window, real
`matlens` processes.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from cli_harness import run_matlens
from conftest import shared
from fei_like import write_fei_like
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_micrograph_measure_gui import wait_measured
from test_micrograph_pane import wait_mask

from desktop.panes.micrograph.pane import MicrographPane
from inference.runtime.paths import samples_dir
from inference.segmentation.clicks import ClickSession
from inference.segmentation.domain import MIN_SIDE
from inference.segmentation.numbers import format_percent

if TYPE_CHECKING:
    from inference.segmentation.annotations import AnnotationSet

HELIOS = ("microscope_formats", "rosettasciio", "tiff", "tiff_FEI_Helios.zip")
BAR_ROWS = 29  # PrivateFei.DatabarHeight of the file
HEIGHT, WIDTH = 471, 512
SPECIMEN = HEIGHT - BAR_ROWS
NOTE = "Data bar: bottom 29 rows, left out of automatic segmentation and area fractions"
# Examples a person paints into the data bar (its text and scale bar): never trained on.
IN_THE_BAR = [(120, 455), (300, 460)]
LEFT_OUT = "Examples in the data bar are left out of training"
# In the specimen rows of the superalloy micrograph: the γ' precipitates (dark) and the matrix.
EXAMPLES = {
    "precipitate": [(100, 60), (330, 230), (250, 330)],
    "matrix": [(40, 110), (215, 150), (150, 380)],
}


@pytest.fixture
def fei_image(tmp_path) -> Path:
    """The Helios file with a real specimen above its data bar (its bytes rewritten in place,
    so every tag stays as the microscope wrote it)."""
    with zipfile.ZipFile(shared(*HELIOS)) as archive:
        source = archive.extract("FEI-Helios-Ebeam-8bits.tif", tmp_path / "zip")
    path = tmp_path / "helios_superalloy.tif"
    shutil.copy(source, path)
    grey = tifffile.imread(samples_dir() / "superalloy_precipitates.tif").mean(axis=2)
    pixels = tifffile.memmap(path, mode="r+")
    assert pixels.shape == (HEIGHT, WIDTH) and pixels[SPECIMEN:].any()  # the data bar's text
    pixels[:SPECIMEN] = grey[:SPECIMEN, :WIDTH].astype(np.uint8)
    pixels.flush()
    del pixels
    return path


@pytest.fixture
def short_fei_image(tmp_path) -> Path:
    """An FEI-like file (the Helios tags) 512 px wide whose specimen is 80 rows above a 29-row
    data bar: 109 rows in all, tall enough for SAM, its specimen not."""
    grey = tifffile.imread(samples_dir() / "superalloy_precipitates.tif").mean(axis=2)
    path = tmp_path / "short_fei.tif"
    return write_fei_like(shared(*HELIOS), path, grey[:80, :WIDTH].astype(np.uint8), BAR_ROWS)


SHORT = f"The specimen is {WIDTH} × 80 px above the data bar"


def specimen_fraction(mask: np.ndarray) -> float:
    """The share of the specimen rows that `mask` covers: what an honest fraction is."""
    return float(np.count_nonzero(mask[:SPECIMEN])) / (SPECIMEN * WIDTH)


# --- the window -------------------------------------------------------------------------------
@pytest.fixture
def window(main_window, mobile_sam_exported):
    return main_window


def open_in_window(qtbot, window, path: Path) -> MicrographPane:
    pane = window.panes[0]
    assert isinstance(pane, MicrographPane)
    assert window.open_path(path), window.banner.error_text
    qtbot.waitUntil(lambda: pane.loaded is not None and pane.loaded.path == path, timeout=30000)
    qtbot.waitUntil(lambda: pane.ready, timeout=60000)
    qtbot.waitUntil(lambda: pane.canvas.view.viewRect().width() > 10, timeout=5000)
    return pane


def click(qtbot, pane, x: float, y: float) -> None:
    pos = pane.canvas.scene_pos_of(x + 0.5, y + 0.5)
    qtbot.mouseClick(
        pane.canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos
    )


def drag(pane, start, end, steps: int = 10) -> None:
    viewport = pane.canvas.viewport()
    p0, p1 = pane.canvas.scene_pos_of(*start), pane.canvas.scene_pos_of(*end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p0)
    for k in range(1, steps + 1):
        QTest.mouseMove(viewport, p0 + (p1 - p0) * (k / steps))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p1)


def annotations_of(pane: MicrographPane) -> AnnotationSet:
    annotations = pane.annotations
    assert annotations is not None
    return annotations


def measured_fraction(qtbot, pane, class_name: str, n_objects: int) -> str:
    """The Measure tab's area fraction of a class, once it has measured `n_objects`."""
    panel = pane.measure_panel
    pane.side_tabs.setCurrentWidget(panel)
    wait_measured(qtbot, panel, n_objects, timeout=30000)
    return panel.cell(1, class_name)  # the "Area fraction" column


def test_segment_everything_in_the_window_finds_nothing_in_the_data_bar(qtbot, window, fei_image):
    pane = open_in_window(qtbot, window, fei_image)
    panel = pane.auto_panel
    pane.clicks.class_combo.setCurrentText("precipitate")
    panel.tabs.setCurrentIndex(0)
    before = pane.undo_stack.count()
    qtbot.mouseClick(panel.everything_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: pane.undo_stack.count() > before or bool(window.banner.error_text),
        timeout=120000,
    )
    assert not window.banner.error_text
    objects = annotations_of(pane).objects
    assert len(objects) >= 10, "the superalloy holds dozens of precipitates"
    labels = annotations_of(pane).label_image()
    assert labels.shape == (HEIGHT, WIDTH)  # exports stay image-sized
    assert not labels[SPECIMEN:].any(), "an automatic object lies in the data bar"
    assert NOTE in pane.info_label.text()  # where the box warned before, one line
    text = measured_fraction(qtbot, pane, "precipitate", len(objects))
    assert NOTE in pane.measure_panel.extras_label.text()  # and under the fractions
    fraction = specimen_fraction(labels > 0)
    assert text == format_percent(fraction)
    assert text != format_percent(np.count_nonzero(labels) / labels.size)  # not over the bar
    if shots := os.environ.get("MATLENS_SHOTS"):
        window.grab().save(str(Path(shots) / "segment_everything_fei_data_bar.png"))

    # A person may still paint in the data bar: the object is kept and counted as drawn, but
    # none of its pixels count in the area fraction (its field is the specimen).
    pane.state.set_mode("brush")
    pane.canvas.brush_radius = 4
    pane.objects_panel.tree.clearSelection()
    drag(pane, (60, HEIGHT - 12), (120, HEIGHT - 12))
    pane.state.set_mode("prompt")
    assert len(annotations_of(pane).objects) == len(objects) + 1
    painted = annotations_of(pane).objects[-1]
    assert painted.offset[0] >= SPECIMEN
    assert measured_fraction(qtbot, pane, "precipitate", len(objects) + 1) == text
    assert pane.measure_panel.cell(0, "precipitate") == str(len(objects) + 1)


def test_phases_by_example_give_the_data_bar_no_phase(qtbot, window, fei_image):
    pane = open_in_window(qtbot, window, fei_image)
    panel = pane.auto_panel
    panel.tabs.setCurrentIndex(2)
    qtbot.mouseClick(panel.examples_button, Qt.MouseButton.LeftButton)
    assert pane.canvas.mode == "examples"
    for name, points in EXAMPLES.items():
        pane.clicks.class_combo.setCurrentText(name)
        for x, y in points:
            click(qtbot, pane, x, y)
    qtbot.waitUntil(lambda: panel.phase_result is not None, timeout=120000)
    result = panel.phase_result
    assert result is not None
    assert result.labels.shape == (HEIGHT, WIDTH)
    assert not result.labels[SPECIMEN:].any(), "the data bar was given a phase"
    assert result.labels[:SPECIMEN].all(), "every specimen pixel has a phase"
    shares = [specimen_fraction(result.labels == k) for k in (1, 2)]
    assert sum(shares) == pytest.approx(1.0)
    preview = panel.phases_label.text()
    for name, share in zip(result.classes, shares, strict=True):
        assert f"{name} {share:.1%}" in preview
    if shots := os.environ.get("MATLENS_SHOTS"):
        window.grab().save(str(Path(shots) / "phases_preview_fei_data_bar.png"))
    qtbot.mouseClick(panel.apply_phases_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(annotations_of(pane)) > 0, timeout=30000)
    assert not annotations_of(pane).label_image()[SPECIMEN:].any()
    classes = annotations_of(pane).class_image()
    k = 1 + [c.name for c in annotations_of(pane).classes].index("precipitate")
    text = measured_fraction(qtbot, pane, "precipitate", len(annotations_of(pane)))
    assert text == format_percent(specimen_fraction(classes == k))


def test_segment_everything_names_the_data_bar_when_the_specimen_is_too_short(
    qtbot, window, short_fei_image
):
    pane = open_in_window(qtbot, window, short_fei_image)
    assert pane.loaded is not None and pane.loaded.shape == (80 + BAR_ROWS, WIDTH)
    window.banner.hide()
    before = len(annotations_of(pane))
    qtbot.mouseClick(pane.auto_panel.everything_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(window.banner.text), timeout=60000)
    text = window.banner.text
    assert SHORT in text and f"{MIN_SIDE} px" in text and "\n" not in text, text
    assert len(annotations_of(pane)) == before
    if shots := os.environ.get("MATLENS_SHOTS"):
        qtbot.wait(100)
        window.grab().save(str(Path(shots) / "short_specimen_above_data_bar.png"))


def test_examples_painted_in_the_data_bar_are_not_trained_on(qtbot, window, fei_image):
    pane = open_in_window(qtbot, window, fei_image)
    panel = pane.auto_panel
    panel.tabs.setCurrentIndex(2)
    qtbot.mouseClick(panel.examples_button, Qt.MouseButton.LeftButton)
    for name, points in EXAMPLES.items():
        pane.clicks.class_combo.setCurrentText(name)
        for x, y in points:
            click(qtbot, pane, x, y)
    qtbot.waitUntil(lambda: panel.phase_result is not None, timeout=120000)
    qtbot.waitUntil(lambda: not panel.classify_slot.busy, timeout=60000)
    before = panel.phase_result
    assert before is not None and LEFT_OUT not in panel.phases_label.text()

    # a stroke of "precipitate" across the data bar's text
    pane.clicks.class_combo.setCurrentText("precipitate")
    pane.canvas.brush_radius = 3
    drag(pane, (60, HEIGHT - 14), (260, HEIGHT - 14))
    painted = [p for p in pane.state.workbench.examples["precipitate"] if p[1] >= SPECIMEN]
    assert painted, "the stroke made no examples in the bar"
    qtbot.waitUntil(lambda: panel.phase_result is not before, timeout=120000)
    qtbot.waitUntil(lambda: not panel.classify_slot.busy, timeout=60000)
    after = panel.phase_result
    assert after is not None
    np.testing.assert_array_equal(after.labels, before.labels)  # trained as without the stroke
    lines = panel.phases_label.text().splitlines()
    assert lines[-1] == f"{LEFT_OUT} ({len(painted)} points).", lines
    assert len(pane.state.workbench.examples["precipitate"]) > len(EXAMPLES["precipitate"])
    if shots := os.environ.get("MATLENS_SHOTS"):
        window.grab().save(str(Path(shots) / "phases_examples_in_data_bar.png"))


# A point on the matrix 4 rows above the data bar whose whole-image mask SAM runs into the bar:
# more bar pixels than specimen ones.
NEAR_THE_BAR = (35, SPECIMEN - 4)


def test_a_click_just_above_the_data_bar_gives_a_mask_without_the_bar(
    qtbot, window, fei_image, tmp_path
):
    pane = open_in_window(qtbot, window, fei_image)
    click(qtbot, pane, *NEAR_THE_BAR)
    shown = wait_mask(qtbot, pane)
    clicks = pane.state.workbench.clicks
    assert clicks is not None
    # the same click on a session that does not know the bar: what SAM gives (and gave before)
    unaware = ClickSession(clicks.model, clicks.embedding, pixels=clicks.pixels)
    sam_mask = unaware.predict(shown.points)[0].mask
    assert np.count_nonzero(sam_mask[SPECIMEN:]) > np.count_nonzero(sam_mask[:SPECIMEN])
    assert not shown.mask[SPECIMEN:].any(), "the mask on screen runs into the data bar"
    np.testing.assert_array_equal(shown.mask[:SPECIMEN], sam_mask[:SPECIMEN])
    if shots := os.environ.get("MATLENS_SHOTS"):
        window.grab().save(str(Path(shots) / "click_above_data_bar.png"))

    qtbot.keyClick(pane.canvas, Qt.Key.Key_Return)
    (kept,) = annotations_of(pane).objects
    assert not annotations_of(pane).label_image()[SPECIMEN:].any()
    assert kept.area == np.count_nonzero(shown.mask)

    # `matlens segment` gives the same mask for the same click
    x, y, _ = kept.points[0]
    out = tmp_path / "mask.png"
    run = run_matlens("segment", fei_image, "--point", f"{x},{y}", "--out", out, timeout=120)
    assert run.returncode == 0, run.stderr
    np.testing.assert_array_equal(iio.imread(out) > 0, kept.full_mask((HEIGHT, WIDTH)))


def test_enter_on_an_empty_mask_adds_nothing_and_says_so(qtbot, window, fei_image):
    """A mask cut at the data bar can be left with no pixels; Enter then raised (an object with
    no pixels) instead of saying that there is nothing to accept."""
    pane = open_in_window(qtbot, window, fei_image)
    click(qtbot, pane, 200, 200)
    shown = wait_mask(qtbot, pane)
    # the same answer as if the whole picture were data bar: the cut leaves it no pixels
    emptied = dataclasses.replace(shown, points=(), specimen_rows=0)
    assert not emptied.mask.any()
    pane.state.workbench.set_candidates([emptied])
    qtbot.keyClick(pane.canvas, Qt.Key.Key_Return)
    assert len(annotations_of(pane)) == 0
    assert "the mask on screen is empty" in window.statusBar().currentMessage()


# --- the command line and the batch -------------------------------------------------------------
def test_matlens_auto_names_the_data_bar_when_the_specimen_is_too_short(short_fei_image, tmp_path):
    out = tmp_path / "labels.tif"
    run = run_matlens("auto", short_fei_image, "--out", out, "--json")
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and SHORT in lines[0] and f"{MIN_SIDE} px" in lines[0], lines
    assert "Traceback" not in run.stderr and run.stdout == "" and not out.exists()


def _examples_file(path: Path, extra: dict[str, list[tuple[int, int]]]) -> Path:
    examples = [{"class": n, "points": p + extra.get(n, [])} for n, p in EXAMPLES.items()]
    path.write_text(json.dumps({"examples": examples}), encoding="utf-8")
    return path


def test_matlens_phases_does_not_train_on_examples_in_the_data_bar(fei_image, tmp_path):
    plain, barred = tmp_path / "plain.png", tmp_path / "barred.png"
    examples = _examples_file(tmp_path / "plain.json", {})
    run = run_matlens("phases", fei_image, "--examples", examples, "--out", plain, "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["example_notes"] == []
    examples = _examples_file(tmp_path / "barred.json", {"precipitate": IN_THE_BAR})
    run = run_matlens("phases", fei_image, "--examples", examples, "--out", barred)
    assert run.returncode == 0, run.stderr
    assert f"note: {LEFT_OUT} (2 points)." in run.stdout.splitlines()
    np.testing.assert_array_equal(iio.imread(barred), iio.imread(plain))

    # a class shown only in the bar has nothing to learn from: one line, exit 2
    only = tmp_path / "only.json"
    only.write_text(
        json.dumps(
            {
                "examples": [
                    {"class": "matrix", "points": EXAMPLES["matrix"]},
                    {"class": "text", "points": IN_THE_BAR},
                ]
            }
        ),
        encoding="utf-8",
    )
    run = run_matlens("phases", fei_image, "--examples", only, "--out", tmp_path / "only.png")
    assert run.returncode == 2, run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert "Every example of 'text' lies in the data bar" in line, line


def test_matlens_auto_and_measure_leave_the_data_bar_out(fei_image, tmp_path):
    out = tmp_path / "auto.tif"
    run = run_matlens("auto", fei_image, "--out", out, "--json", timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    labels = tifffile.imread(out)
    assert labels.shape == (HEIGHT, WIDTH)
    assert report["count"] >= 10 and not labels[SPECIMEN:].any()
    assert report["area_fraction"] == pytest.approx(specimen_fraction(labels > 0), abs=1e-6)
    assert report["image_notes"] == [NOTE]

    # measure, with one object a person drew across the top of the data bar (value top + 1)
    drawn = labels.astype(np.uint16)
    top = int(drawn.max())
    drawn[SPECIMEN - 3 : SPECIMEN + 8, 200:260] = top + 1
    path = tmp_path / "drawn.tif"
    tifffile.imwrite(path, drawn)
    csv_path = tmp_path / "objects.csv"
    run = run_matlens("measure", fei_image, path, "--csv", csv_path, "--json", timeout=120)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["image_notes"] == [NOTE]
    (row,) = [c["summary"] for c in summary["classes"] if c["summary"]["count"]]
    assert row["count"] == top + 1  # the drawn object counts as drawn
    assert row["area_fraction"] == pytest.approx(specimen_fraction(drawn > 0), rel=1e-9)
    assert summary["data_bar_rows"] == BAR_ROWS
    with open(csv_path, encoding="utf-8-sig", newline="") as f:
        rows = {int(r["id"]): r for r in csv.DictReader(f)}
    assert rows[top + 1]["touches_border"] == "1"  # the bar cuts it: not in mean sizes
    assert int(rows[top + 1]["area_px"]) == 11 * 60  # measured as drawn, bar rows included
    text = run_matlens("measure", fei_image, path, "--csv", csv_path, timeout=120)
    assert f"note: {NOTE}" in text.stdout


def test_the_map_is_built_above_the_data_bar_and_written_image_sized(fei_image, tmp_path):
    out = tmp_path / "map.tif"
    args = ("auto", fei_image, "--out", out, "--map", "binary", "--kind", "phase", "--json")
    run = run_matlens(*args, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    binary = tifffile.imread(out)
    assert binary.shape == (HEIGHT, WIDTH) and binary[:SPECIMEN].any()
    assert not binary[SPECIMEN:].any()
    assert report["area_fraction"] == pytest.approx(specimen_fraction(binary > 0), abs=1e-6)


def test_matlens_phases_gives_the_data_bar_no_phase(fei_image, tmp_path):
    examples = tmp_path / "examples.json"
    examples.write_text(
        json.dumps({"examples": [{"class": n, "points": p} for n, p in EXAMPLES.items()]}),
        encoding="utf-8",
    )
    out = tmp_path / "phases.png"
    run = run_matlens("phases", fei_image, "--examples", examples, "--out", out, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    labels = iio.imread(out)
    assert labels.shape == (HEIGHT, WIDTH)
    assert not labels[SPECIMEN:].any() and labels[:SPECIMEN].all()
    for entry in report["classes"]:
        share = specimen_fraction(labels == entry["value"])
        assert entry["fraction"] == pytest.approx(share, abs=1e-6)
    assert report["image_notes"] == [NOTE]


def test_a_batch_leaves_the_data_bar_out_and_says_so(fei_image, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.move(fei_image, folder / fei_image.name)
    recipe = tmp_path / "recipe.json"
    recipe.write_text(
        json.dumps(
            {
                "format": "matlens-recipe",
                "version": 1,
                "mode": "auto",
                "classes": ["precipitate"],
                "parameters": {"auto": {"points_per_side": 8}},
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    run = run_matlens("batch", recipe, folder, out, timeout=300)
    assert run.returncode == 0, run.stderr
    assert f"{fei_image.name}: {NOTE}" in run.stdout
    labels = tifffile.imread(out / f"{fei_image.stem}.labels.tif")
    assert labels.shape == (HEIGHT, WIDTH) and labels.any()
    assert not labels[SPECIMEN:].any()
    with open(out / "summary.csv", encoding="utf-8-sig", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert float(row["precipitate_area_fraction"]) == pytest.approx(
        specimen_fraction(labels > 0), rel=1e-6
    )
    assert row["data_bar_rows"] == str(BAR_ROWS)


def test_a_phases_batch_says_when_examples_in_the_data_bar_were_left_out(fei_image, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.move(fei_image, folder / fei_image.name)
    examples = [{"class": n, "points": p} for n, p in EXAMPLES.items()]
    examples[0]["points"] = examples[0]["points"] + IN_THE_BAR  # "precipitate"
    recipe = tmp_path / "recipe.json"
    recipe.write_text(
        json.dumps(
            {
                "format": "matlens-recipe",
                "version": 1,
                "mode": "phases",
                "classes": list(EXAMPLES),
                "examples": examples,
                "parameters": {"phases": {"trees": 8, "sam_examples": False}},
            }
        ),
        encoding="utf-8",
    )
    run = run_matlens("batch", recipe, folder, tmp_path / "out", timeout=300)
    assert run.returncode == 0, run.stderr
    assert f"{fei_image.name}: {LEFT_OUT} (2 points)." in run.stdout, run.stdout
    labels = tifffile.imread(tmp_path / "out" / f"{fei_image.stem}.labels.tif")
    assert labels.any() and not labels[SPECIMEN:].any()
