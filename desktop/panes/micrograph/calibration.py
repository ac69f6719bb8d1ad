"""Calibration in the Micrographs pane: shown beside the image, set by hand.

The user drags a line over the scale bar (the canvas's CALIBRATE mode) and types its length and
unit, or types the pixel size itself (Pixel size…, as Fiji's Set Scale takes a known distance),
and the pixel size becomes part of the annotations through an undoable command, so the sidecar
autosave keeps it and every measurement uses it. "Reset" goes back to the metadata.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QObject, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGraphicsLineItem,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.panes.micrograph.modes import CALIBRATE, PROMPT
from inference.errors import MatLensError
from inference.imaging.calibration import Calibration
from inference.segmentation.recipe import TABLE_UNITS as UNITS

if TYPE_CHECKING:
    from desktop.panes.micrograph.canvas import MicrographCanvas
    from desktop.panes.micrograph.state import MicrographState

MIN_LINE_PX = 2.0  # shorter lines are slips of the mouse, not scale bars
LINE_COLOUR = "#ffd400"


def calibration_text(calibration: Calibration) -> str:
    """One line for the info panel: the pixel size and where it came from."""
    if not calibration.calibrated:
        return "uncalibrated (pixels)"
    origin = (
        "set by hand"
        if calibration.source == "manual"
        else f"from the metadata: {calibration.source}"
    )
    return f"{calibration.pixel_size:.4g} {calibration.unit}/px ({origin})"


def parse_length(text: str, what: str = "the scale bar's length") -> float:
    """A typed length; a decimal comma is accepted, anything else is one line. "1,000" is
    refused: a thousands separator (1000) or a decimal comma (1.0)? It was read as 1.0."""
    text = text.strip()
    if re.fullmatch(r"\d{1,3},\d{3}", text):
        raise MatLensError(
            f"'{text}': {text.replace(',', '')} or {text.replace(',', '.')}? Type it without the "
            "comma, or with a decimal point."
        )
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise MatLensError(f"Type {what} as a positive number, not '{text}'.")
    return value


class CalibrationDialog(QDialog):
    """Asks for the length of the line just drawn, or (`line_px` None) for the size of one
    pixel; refuses bad input in one line, stays open."""

    def __init__(
        self, line_px: float | None, unit: str = "µm", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        typed = line_px is None
        self.setWindowTitle("Set the pixel size" if typed else "Calibrate from the scale bar")
        self.line_px = 1.0 if line_px is None else float(line_px)
        self.what = "the size of one pixel" if typed else "the scale bar's length"
        self.length_edit = QLineEdit(self)
        self.length_edit.setPlaceholderText("e.g. 10")
        self.unit_combo = QComboBox(self)
        self.unit_combo.addItems(UNITS)
        self.unit_combo.setCurrentText(unit if unit in UNITS else "µm")
        self.error_label = QLabel("", self)
        self.error_label.setStyleSheet("color: #c0392b")
        self.error_label.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)

        row = QHBoxLayout()
        row.addWidget(QLabel("Size of one pixel:" if typed else "Length of the scale bar:", self))
        row.addWidget(self.length_edit, 1)
        row.addWidget(self.unit_combo)
        layout = QVBoxLayout(self)
        if not typed:
            layout.addWidget(QLabel(f"The line you drew is {self.line_px:.1f} px long.", self))
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.length_edit.setFocus()
        self.result_calibration: Calibration | None = None

    def accept(self) -> None:
        try:
            length = parse_length(self.length_edit.text(), self.what)
            calibration = Calibration.from_scale_bar(
                self.line_px, length, self.unit_combo.currentText()
            )
        except (MatLensError, ValueError) as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return
        self.result_calibration = calibration
        super().accept()


class ScaleLine:
    """The line being drawn over the scale bar, with its length in pixels beside it."""

    def __init__(self, view: pg.ViewBox) -> None:
        self.line = QGraphicsLineItem()
        self.line.setPen(pg.mkPen(LINE_COLOUR, width=3, cosmetic=True))
        self.line.setZValue(20)
        self.label = pg.TextItem(
            "", color=LINE_COLOUR, fill=pg.mkBrush(0, 0, 0, 160), anchor=(0.5, 1.2)
        )
        self.label.setZValue(21)
        for item in (self.line, self.label):
            view.addItem(item)
            item.hide()

    def show(self, x0: float, y0: float, x1: float, y1: float) -> float:
        """Draw the line and return its length in pixels."""
        length = math.hypot(x1 - x0, y1 - y0)
        self.line.setLine(QLineF(x0, y0, x1, y1))
        self.label.setText(f"{length:.1f} px")
        self.label.setPos((x0 + x1) / 2, min(y0, y1))
        self.line.show()
        self.label.show()
        return length

    def hide(self) -> None:
        self.line.hide()
        self.label.hide()


class CalibrationTool(QObject):
    """Calibrate…: a line-drawing mode on the canvas, then the dialog, then an undoable edit."""

    def __init__(self, state: MicrographState, canvas: MicrographCanvas) -> None:
        super().__init__(state)
        self.state = state
        self.canvas = canvas
        self.scale_line = ScaleLine(canvas.view)
        self.dialog: CalibrationDialog | None = None
        self._previous_mode = PROMPT
        self._image = None  # the image the line was drawn on
        canvas.line_dragged.connect(self._dragged)
        state.mode_changed.connect(self._mode_changed)  # Click/Brush/Eraser end the tool

    def _mode_changed(self, mode: str) -> None:
        if mode != CALIBRATE:
            self.scale_line.hide()
            self.canvas.unsetCursor()

    @property
    def active(self) -> bool:
        return self.state.mode == CALIBRATE

    def start(self) -> None:
        if not self.state.has_image():
            return
        if not self.active:
            self._previous_mode = self.state.mode
        self.state.set_mode(CALIBRATE)
        self.canvas.setCursor(Qt.CursorShape.CrossCursor)
        self.state.show_status("Drag a line along the scale bar, end to end.")

    def stop(self) -> None:
        self._mode_changed(PROMPT)
        if self.active:
            self.state.set_mode(self._previous_mode)

    def _dragged(self, x0: float, y0: float, x1: float, y1: float, finished: bool) -> None:
        if not self.active:
            return
        length = self.scale_line.show(x0, y0, x1, y1)
        if not finished:
            return
        if length < MIN_LINE_PX:
            self.scale_line.hide()
            self.state.show_status("That line is too short: drag along the scale bar.")
            return
        self.ask_length(length)

    def ask_length(self, line_px: float | None) -> CalibrationDialog | None:
        """Open the dialog (window-modal, not blocking) for a line of `line_px` pixels, or
        (None) for the pixel size itself."""
        annotations = self.state.workbench.annotations
        if annotations is None:
            return None
        self._image = self.state.workbench.image  # the line belongs to this image
        self.dialog = CalibrationDialog(line_px, annotations.calibration.unit, self.canvas)
        self.dialog.accepted.connect(self._accepted)
        self.dialog.finished.connect(lambda _: self.stop())
        self.dialog.open()
        return self.dialog

    def _accepted(self) -> None:
        calibration = self.dialog.result_calibration if self.dialog is not None else None
        if calibration is None or self.state.workbench.annotations is None:
            return
        if self._image is not self.state.workbench.image:
            self.state.show_status("Another image was opened: calibrate it anew.")
            return
        self.state.set_calibration(calibration, f"Calibrate: {calibration_text(calibration)}")

    def reset(self) -> None:
        """Back to the calibration in the file's metadata (or to pixels when it has none)."""
        image = self.state.workbench.image
        if image is None:
            return
        metadata = image.micrograph.calibration
        if metadata != image.annotations.calibration:
            self.state.set_calibration(metadata, "Reset calibration to the metadata")


class CalibrationBar(QWidget):
    """The calibration line of the info panel, with Calibrate… and Reset."""

    def __init__(self, state: MicrographState, canvas: MicrographCanvas, parent: QWidget) -> None:
        super().__init__(parent)
        self.state = state
        self.tool = CalibrationTool(state, canvas)
        self.label = QLabel("", self)
        self.label.setWordWrap(True)
        self.calibrate_button = QPushButton("Calibrate…", self)
        self.calibrate_button.setToolTip(
            "Drag a line over the scale bar, then type its length and unit"
        )
        self.calibrate_button.clicked.connect(self.tool.start)
        self.pixel_size_button = QPushButton("Pixel size…", self)
        self.pixel_size_button.setToolTip("Type the size of one pixel (from the microscope)")
        self.pixel_size_button.clicked.connect(lambda: self.tool.ask_length(None))
        self.reset_button = QPushButton("Reset", self)
        self.reset_button.setToolTip("Back to the pixel size in the file's metadata")
        self.reset_button.clicked.connect(self.tool.reset)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.calibrate_button)
        row.addWidget(self.pixel_size_button)
        row.addWidget(self.reset_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(row)
        state.calibration_changed.connect(self.refresh)
        state.image_opened.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args) -> None:
        image = self.state.workbench.image
        self.calibrate_button.setEnabled(image is not None)
        self.pixel_size_button.setEnabled(image is not None)
        self.reset_button.setEnabled(
            image is not None and image.annotations.calibration != image.micrograph.calibration
        )
        text = calibration_text(image.annotations.calibration) if image is not None else "—"
        self.label.setText(f"Calibration: {text}")
