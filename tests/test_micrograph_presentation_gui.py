"""What the Micrographs pane shows: plain numbers, a scale bar on the canvas, and a side panel
that fits a 1280 × 800 window after a crack map and a four-class phase map with a long class
name. Real window, real MobileSAM for the maps, real clicks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QScrollArea, QWidget

from desktop.main_window import MainWindow
from desktop.panes.micrograph.pane import MicrographPane
from inference.errors import ModelUnavailable
from inference.imaging.calibration import Calibration
from inference.runtime.paths import samples_dir
from inference.runtime.registry import require

SAMPLE = samples_dir() / "superalloy_precipitates.tif"
LONG_NAME = "gamma prime precipitates (secondary, coarse)"


def open_sample(qtbot, pane, tmp_path, ready=False):
    path = Path(shutil.copy(SAMPLE, tmp_path / SAMPLE.name))
    pane.open_path(path)
    qtbot.waitUntil(lambda: pane.loaded is not None, timeout=30000)
    if ready:
        qtbot.waitUntil(lambda: pane.ready, timeout=60000)
    qtbot.waitUntil(lambda: pane.canvas.view.viewRect().width() > 10, timeout=5000)


def click(qtbot, pane, x, y):
    pos = pane.canvas.scene_pos_of(x + 0.5, y + 0.5)
    qtbot.mouseClick(
        pane.canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos
    )


def test_areas_read_in_plain_numbers_and_the_scale_bar_follows_zoom(qtbot, open_pane, tmp_path):
    pane = open_pane(MicrographPane, size=(1300, 850))
    open_sample(qtbot, pane, tmp_path)
    bar = pane.canvas.scale_bar
    assert not bar.isVisible()  # no pixel size in the sample: a bar in pixels says nothing

    pane.state.set_mode("brush")
    pane.canvas.brush_radius = 95
    pane.apply_stroke([(250, 250), (252, 251)], erase=False)  # one object of about 28,000 px²
    pane.state.set_mode("prompt")
    obj = pane.annotations.objects[0]
    area = pane.objects_panel.tree.topLevelItem(0).text(2)
    assert area == f"{obj.area:,} px²" and "," in area and "e+" not in area

    pane.state.set_calibration(Calibration.from_scale_bar(100, 5, "µm"))  # 0.05 µm/px
    assert pane.objects_panel.tree.topLevelItem(0).text(2) == f"{obj.area * 0.0025:.1f} µm²"
    assert bar.isVisible() and bar.label == "5 µm"  # 100 px: a fifth of the 512 px shown
    assert bar.size == pytest.approx(100)
    pane.canvas.view.setRange(xRange=(100, 150), yRange=(100, 150), padding=0)  # zoom in
    assert bar.isVisible() and bar.label in ("500 nm", "0.5 µm")
    assert bar.size == pytest.approx(10)  # still 0.05 µm a pixel
    pane.undo_stack.undo()  # back to pixels
    assert not bar.isVisible()


def side_scroll(pane) -> QScrollArea:
    return next(
        w for w in pane.findChildren(QScrollArea) if w.widget() is pane.side_tabs.parentWidget()
    )


def side_panel(pane) -> QWidget:
    """The widget inside the side panel's scroll area."""
    inner = side_scroll(pane).widget()
    assert inner is not None
    return inner


def clipped_buttons(pane) -> list[str]:
    """Buttons of the side panel whose text does not fit or that reach past its right edge."""
    side = side_scroll(pane)
    viewport = side.viewport()
    inner = side_panel(pane)
    bad = []
    for button in inner.findChildren(QAbstractButton):
        if not button.isVisibleTo(inner) or not button.text():
            continue
        left = button.mapTo(viewport, QPoint(0, 0)).x()
        if button.sizeHint().width() > button.width() or left + button.width() > viewport.width():
            bad.append(button.text())
    return bad


def below_the_fold(pane, buttons: list[QAbstractButton]) -> list[str]:
    """Buttons whose bottom edge is below the side panel's visible part."""
    viewport = side_scroll(pane).viewport()
    return [
        b.text()
        for b in buttons
        if b.mapTo(viewport, QPoint(0, b.height())).y() > viewport.height()
    ]


def test_the_side_panel_fits_1280_by_800_after_a_crack_map_and_a_long_phase_map(qtbot, tmp_path):
    try:
        require("mobile_sam")
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    window = MainWindow([MicrographPane])
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    pane = window.panes[0]
    assert isinstance(pane, MicrographPane)
    try:
        open_sample(qtbot, pane, tmp_path, ready=True)
        pane.state.set_calibration(Calibration.from_scale_bar(100, 5, "µm"))
        side = side_scroll(pane)
        objects = pane.objects_panel
        assert not clipped_buttons(pane)
        assert not below_the_fold(pane, [objects.delete_button, objects.reclass_button])

        panel = pane.auto_panel  # a crack map
        panel.points_spin.setValue(8)
        panel.tabs.setCurrentIndex(1)
        panel.map_kind.setCurrentIndex(panel.map_kind.findData("cracks"))
        qtbot.mouseClick(panel.map_button, Qt.MouseButton.LeftButton)
        assert panel.map_slot.busy
        qtbot.waitUntil(lambda: not panel.map_slot.busy, timeout=120000)
        assert "map" in window.statusBar().currentMessage() or "No objects" in (
            window.statusBar().currentMessage()
        )

        for name in (LONG_NAME, "tertiary"):  # four classes with examples, one long name
            pane.state.add_class(name)
        panel.tabs.setCurrentIndex(2)
        qtbot.mouseClick(panel.examples_button, Qt.MouseButton.LeftButton)
        places = {
            LONG_NAME: [(60, 60), (200, 300)],
            "matrix": [(20, 20), (300, 30)],
            "tertiary": [(400, 400), (450, 100)],
            "pore": [(250, 250), (100, 450)],
        }
        for name, points in places.items():
            pane.clicks.class_combo.setCurrentText(name)
            for x, y in points:
                click(qtbot, pane, x, y)
        qtbot.waitUntil(
            lambda: panel.phase_result is not None and len(panel.phase_result.classes) == 4,
            timeout=120000,
        )
        assert not clipped_buttons(pane)
        qtbot.mouseClick(panel.apply_phases_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: any(o.source == "phases" for o in pane.annotations or ()), timeout=60000
        )
        qtbot.wait(200)

        # Objects tab: every button fits, Delete and Set class show without scrolling.
        assert side_panel(pane).width() <= side.viewport().width()
        assert side.verticalScrollBar().value() == 0
        assert not clipped_buttons(pane), "a button's text is cut"
        assert not below_the_fold(pane, [objects.delete_button, objects.reclass_button])
        tree = objects.tree
        assert tree.header().length() <= tree.viewport().width()  # no column cut off

        # Measure tab: a row per class with objects, every column inside the table.
        measure = pane.measure_panel
        pane.side_tabs.setCurrentWidget(measure)
        qtbot.waitUntil(lambda: not measure.busy and measure.result is not None, timeout=30000)
        qtbot.wait(200)
        table = measure.table
        cells = [table.item(r, 0) for r in range(table.rowCount())]
        names = [c.text() for c in cells if c is not None]
        assert len(names) == len(cells)  # every row has its name
        assert LONG_NAME in names and "grain" not in names  # empty classes left out
        assert table.horizontalHeader().length() <= table.viewport().width()
        assert not clipped_buttons(pane)
        assert side_panel(pane).width() <= side.viewport().width()
    finally:
        pane.shutdown()
        window.jobs.wait(10000)
        window.close()
