"""The powder XRD tab: peaks as sticks over a broadened profile, (hkl) shown on hover."""

from __future__ import annotations

from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inference.structures.xrd import DEFAULT_RADIATION, XrdPattern, profile, radiations

CUSTOM = "custom"
HOVER_PIXELS = 8


class XrdPanel(QWidget):
    radiation_changed = Signal(object)  # a radiation name, or a wavelength in Å
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pattern: XrdPattern | None = None
        self.radiation = QComboBox(self)
        for name, wavelength in radiations().items():
            self.radiation.addItem(f"{name}  ({wavelength:.5f} Å)", name)
        self.radiation.addItem("Custom wavelength", CUSTOM)
        self.radiation.setCurrentIndex(self.radiation.findData(DEFAULT_RADIATION))
        self.wavelength = QDoubleSpinBox(self, decimals=5, minimum=0.05, maximum=5.0, value=1.5406)
        self.wavelength.setSuffix(" Å")
        self.wavelength.setVisible(False)
        self.radiation.currentIndexChanged.connect(self._radiation_changed)
        self.wavelength.editingFinished.connect(self._radiation_changed)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.clicked.connect(self.export_requested)
        self.export_button.setEnabled(False)

        self.plot = pg.PlotWidget(self, background="w")
        self.plot.setLabel("bottom", "2θ (°)")
        self.plot.setLabel("left", "Intensity (%)")
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.showGrid(x=True, y=False, alpha=0.2)
        self.curve = self.plot.plot([], [], pen=pg.mkPen((150, 170, 210), width=1))
        self.sticks = self.plot.plot([], [], pen=pg.mkPen((20, 60, 160), width=2), connect="pairs")
        self.marker = pg.ScatterPlotItem(size=9, brush=pg.mkBrush(230, 60, 40))
        self.plot.addItem(self.marker)
        self.hover = QLabel("Hover over a peak to see its (hkl).", self)
        scene = cast("pg.GraphicsScene", self.plot.scene())  # pyqtgraph's, with mouse signals
        scene.sigMouseMoved.connect(self._mouse_moved)

        top = QHBoxLayout()
        top.addWidget(QLabel("Radiation", self))
        top.addWidget(self.radiation, 1)
        top.addWidget(self.wavelength)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.hover)

    @property
    def current_radiation(self) -> str | float:
        data = self.radiation.currentData()
        return float(self.wavelength.value()) if data == CUSTOM else str(data)

    def _radiation_changed(self, *_args) -> None:
        self.wavelength.setVisible(self.radiation.currentData() == CUSTOM)
        self.radiation_changed.emit(self.current_radiation)

    def clear(self) -> None:
        self.pattern = None
        self.curve.setData([], [])
        self.sticks.setData([], [])
        self.marker.setData([], [])
        self.export_button.setEnabled(False)

    def show_notice(self, text: str) -> None:
        """No pattern, and why (e.g. a cell too large to compute one)."""
        self.clear()
        self.hover.setText(text)

    def show_pattern(self, pattern: XrdPattern) -> None:
        self.pattern = pattern
        x, y = pattern.two_theta, pattern.intensity
        self.sticks.setData(np.repeat(x, 2), np.column_stack([np.zeros_like(y), y]).reshape(-1))
        px, py = profile(pattern)
        self.curve.setData(px, py * (y.max() / py.max() if len(y) and py.max() > 0 else 1))
        lo, hi = pattern.two_theta_range
        view = self.plot.getViewBox()
        view.setXRange(lo, hi, padding=0.01)
        view.setYRange(0, 105, padding=0)
        self.export_button.setEnabled(bool(pattern.peaks))
        label = pattern.radiation or "custom"
        self.hover.setText(
            f"{len(pattern.peaks)} peaks, λ = {pattern.wavelength:.5f} Å ({label}). "
            "Hover over a peak to see its (hkl)."
        )

    def peak_near(self, two_theta: float, tolerance: float) -> int | None:
        """Index of the strongest peak within `tolerance` degrees of `two_theta`."""
        if self.pattern is None or not self.pattern.peaks:
            return None
        x = self.pattern.two_theta
        close = np.nonzero(np.abs(x - two_theta) <= tolerance)[0]
        if len(close) == 0:
            return None
        return int(close[np.argmax(self.pattern.intensity[close])])

    def describe_peak(self, index: int) -> str:
        if self.pattern is None:
            return ""
        p = self.pattern.peaks[index]
        return (
            f"{p.hkl_text}   2θ = {p.two_theta:.3f}°   d = {p.d_spacing:.4f} Å   "
            f"I = {p.intensity:.1f}   multiplicity {', '.join(map(str, p.multiplicities))}"
        )

    def _mouse_moved(self, position) -> None:
        item = self.plot.getPlotItem()
        view = item.getViewBox() if item is not None else None
        if self.pattern is None or view is None:
            return
        if not view.sceneBoundingRect().contains(position):
            return
        point = view.mapSceneToView(position)
        pixel = view.viewPixelSize()[0]
        index = self.peak_near(point.x(), HOVER_PIXELS * pixel)
        if index is None:
            self.marker.setData([], [])
            return
        peak = self.pattern.peaks[index]
        self.marker.setData([peak.two_theta], [peak.intensity])
        self.hover.setText(self.describe_peak(index))
