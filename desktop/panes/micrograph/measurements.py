"""The Measure tab: per-class summary, grain size, crack length and a size histogram.

It adapts `workflows.measure_image`, `histogram` and `report` to widgets: after every edit it
waits a moment (edits come in bursts: a brush drag, an undo run), then measures a snapshot of
the annotations in a worker, since thousands of objects take a while. At most one measurement
job runs; edits made meanwhile are measured right after it.

The table has one row per class that has objects (empty classes are left out, as in the report)
and numbers in plain notation (`numbers`): a narrow side panel has room for many rows, not for
many columns. The tab scrolls when the side panel is short.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.panes.micrograph.batch_dialog import BatchDialog
from inference.segmentation.numbers import format_number, format_percent
from inference.segmentation.workflows import MeasuredImage, measure_image

if TYPE_CHECKING:  # slow to import at start-up: scikit-image
    from desktop.job_bar import JobBar
    from desktop.panes.micrograph.state import MicrographState
    from inference.errors import ErrorReport
    from inference.segmentation.histogram import Histogram, Scale
    from inference.segmentation.summary import MeasurementSummary

DEBOUNCE_MS = 250
ALL_CLASSES = "All classes"
# columns of the summary table after the class (one row per class), by index
# (the number density is the count's tooltip: five numbers do not fit beside a class name)
SUMMARY_COLUMNS = ("Count", "Area fraction", "Mean ECD", "Mean area")
# histogram choice -> (name in inference.segmentation.histogram.QUANTITIES, axis title)
QUANTITIES = {
    "Diameter (ECD)": ("equivalent_diameter", "Equivalent circle diameter"),
    "Area": ("area", "Area"),
    "Aspect ratio": ("aspect_ratio", "Aspect ratio"),
    "Perimeter": ("perimeter", "Perimeter"),
}
SCALES: dict[str, Scale] = {"Linear bins": "linear", "Log bins": "log"}
DEFAULT_BINS = 20


def extra_lines(summary: MeasurementSummary) -> list[str]:
    """Grain size (ASTM E112) and crack length, in words, when those classes have objects."""
    lines = []
    g = summary.grain_size
    if g is not None:
        p, i = g.planimetric, g.intercept
        if g.calibrated:
            lines.append(
                f"<b>Grain size</b> (ASTM E112, “{summary.grain_class}”): "
                f"G = {_g(p.g)} planimetric, {_g(i.g)} intercept"
            )
        else:
            lines.append(
                f"<b>Grain size</b>: {p.n_equivalent:g} grains, mean intercept "
                f"{_number(i.mean_intercept_px)} px; G needs a calibration"
            )
    k = summary.cracks
    if k is not None:
        lines.append(
            f"<b>Cracks</b> (“{k.class_name}”): {k.count}, total length "
            f"{_number(k.total_length)} {k.unit}, longest {_number(k.max_length)} {k.unit}, "
            f"{_number(k.length_per_area)} {k.unit} per {k.unit}²"
        )
    notes = [n for n in summary.notes if not n.startswith("Uncalibrated")]
    if notes:
        lines.append("<span style='color:#8a4b00'>" + "; ".join(notes) + "</span>")
    return lines


def _g(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _number(value: float | None) -> str:
    return format_number(value)


class MeasurementsPanel(QWidget):
    """The Measure tab of the side panel."""

    export_requested = Signal(str)  # an export kind of the pane ("csv")

    def __init__(self, state: MicrographState, job_bar: JobBar, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.result: MeasuredImage | None = None
        self.histogram: Histogram | None = None
        self.batch_dialog: BatchDialog | None = None
        self.measure_slot = state.new_slot(queue_latest=True)
        self.report_slot = state.new_slot()
        job_bar.watch(self.report_slot)
        self._dirty = True
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        self._build()
        for signal in (state.objects_changed, state.classes_changed, state.calibration_changed):
            signal.connect(self.schedule)
        state.image_opened.connect(self.schedule)

    # layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.table = QTableWidget(0, 1 + len(SUMMARY_COLUMNS), self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # long names wrap
        self.table.setWordWrap(True)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._set_headers("px", "px²")
        self.table.setToolTip(
            "Per class with objects: the count (its tooltip: objects per unit area of image), "
            "the phase (area) fraction of the image, and the mean equivalent circle diameter "
            "and area of the objects that do not touch the border (cut objects have the wrong "
            "size)"
        )
        self.extras_label = QLabel("", self)
        self.extras_label.setWordWrap(True)
        self.extras_label.hide()
        self.status_label = QLabel("No image yet.", self)

        self.quantity_combo = QComboBox(self)
        self.quantity_combo.addItems(list(QUANTITIES))
        self.quantity_combo.setToolTip("Quantity of the size distribution")
        self.class_combo = QComboBox(self)
        self.class_combo.addItem(ALL_CLASSES)
        self.scale_combo = QComboBox(self)
        self.scale_combo.addItems(list(SCALES))
        self.scale_combo.setToolTip("Log bins suit sizes that span decades")
        self.bins_spin = QSpinBox(self, minimum=3, maximum=200, value=DEFAULT_BINS)
        self.bins_spin.setToolTip("Number of bins")
        for combo in (self.quantity_combo, self.class_combo, self.scale_combo):
            combo.currentIndexChanged.connect(self.draw_histogram)
            # long names must not widen the side panel: the combos elide instead
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(5)
        self.quantity_combo.setMinimumContentsLength(9)
        self.bins_spin.valueChanged.connect(self.draw_histogram)
        self.plot = pg.PlotWidget(self, background="w")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLabel("left", "Objects")
        self.plot.showGrid(x=False, y=True, alpha=0.2)
        self.bars = pg.PlotDataItem(
            [0.0, 1.0],
            [0.0],
            stepMode="center",
            fillLevel=0,
            brush=pg.mkBrush(0, 114, 178, 150),
            pen=pg.mkPen(0, 70, 120, width=1),
        )
        self.plot.addItem(self.bars)
        self.plot.setMinimumHeight(120)

        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setToolTip("One row per object, units in the header")
        self.export_button.clicked.connect(lambda: self.export_requested.emit("csv"))
        self.report_button = QPushButton("Report…", self)
        self.report_button.setToolTip(
            "One HTML page: the overlay, these statistics and the size histograms"
        )
        self.report_button.clicked.connect(self._ask_report)
        self.batch_button = QPushButton("Batch…", self)
        self.batch_button.setToolTip("Apply these settings to a folder of images")
        self.batch_button.clicked.connect(self.open_batch)

        histogram_row = QHBoxLayout()
        histogram_row.addWidget(self.quantity_combo, 2)
        histogram_row.addWidget(self.class_combo, 1)
        histogram_row.addWidget(self.scale_combo, 1)
        histogram_row.addWidget(self.bins_spin)
        buttons = QHBoxLayout()
        for button in (self.export_button, self.report_button, self.batch_button):
            buttons.addWidget(button)
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        layout.addWidget(self.extras_label)
        layout.addLayout(histogram_row)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        # A short side panel scrolls this tab instead of pushing the Objects tab's buttons
        # (the tabs share one height) below the window.
        scroll = QScrollArea(self)
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumHeight(0)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.status_label.setWordWrap(True)

    # refreshing --------------------------------------------------------------------------------
    def schedule(self, *_args) -> None:
        """Called after every edit: measure once the burst of edits is over."""
        self._dirty = True
        self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._dirty:
            self._timer.start()

    def refresh(self) -> None:
        annotations = self.state.workbench.annotations
        if annotations is None or not self.isVisible():
            return  # a hidden tab measures when it is shown
        self._dirty = False
        self.status_label.setText(f"Measuring {len(annotations)} objects…")
        self.measure_slot.submit(
            measure_image,
            annotations.copy(),
            on_result=self._measured,
            on_error=self._failed,
            name="measure",
        )

    @property
    def busy(self) -> bool:
        """Measuring, or about to: tests and the report wait for this to clear."""
        return (
            self.measure_slot.busy or self._timer.isActive() or (self._dirty and self.isVisible())
        )

    def _failed(self, report: ErrorReport) -> None:
        self.status_label.setText(f"Measurements failed: {report.message}")

    def _measured(self, result: MeasuredImage) -> None:
        self.result = result
        summary = result.summary
        self._fill_table(summary)
        extras = extra_lines(summary)
        self.extras_label.setText("<br>".join(extras))
        self.extras_label.setVisible(bool(extras))
        self._fill_class_combo(summary)
        self.draw_histogram()

    def _set_headers(self, unit: str, area_unit: str) -> None:
        self.table.setHorizontalHeaderLabels(
            [
                "Class",
                "Count",
                "Area\nfraction",
                f"Mean ECD\n({unit})",
                f"Mean area\n({area_unit})",
            ]
        )

    def quantity_labels(self) -> list[str]:
        """The quantity columns' titles on one line each ("Mean area (µm²)")."""
        items = [self.table.horizontalHeaderItem(c) for c in range(1, self.table.columnCount())]
        return [item.text().replace("\n", " ") for item in items if item is not None]

    def _fill_table(self, summary: MeasurementSummary) -> None:
        self._set_headers(summary.unit, summary.area_unit)
        shown = [c for c in summary.classes if c.summary.count or c.summary.area_px]
        self.table.setRowCount(len(shown))
        for row, c in enumerate(shown):
            s, z = c.summary, c.sizes
            name = QTableWidgetItem(c.class_name)
            name.setToolTip(c.class_name)
            self.table.setItem(row, 0, name)
            cells = (
                format_number(s.count),
                format_percent(s.area_fraction),
                format_number(z.mean_diameter),
                format_number(z.mean_area),
            )
            density = f"{format_number(s.number_density)} objects per {summary.area_unit}"
            for col, text in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 1:
                    item.setToolTip(density)
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        self._fit_table_height()

    def _fit_table_height(self) -> None:
        """As tall as its rows: the histogram below gets the rest of the tab."""
        table = self.table
        height = table.horizontalHeader().sizeHint().height() + table.verticalHeader().length()
        table.setFixedHeight(height + 2 * table.frameWidth())

    def cell(self, quantity: int, class_name: str) -> str:
        """The table's text for one quantity (index in SUMMARY_COLUMNS) of one class."""
        for row in range(self.table.rowCount()):
            name, item = self.table.item(row, 0), self.table.item(row, 1 + quantity)
            if name is not None and item is not None and name.text() == class_name:
                return item.text()
        raise KeyError(f"no row for class '{class_name}'")

    def _fill_class_combo(self, summary: MeasurementSummary) -> None:
        names = [ALL_CLASSES] + [c.class_name for c in summary.classes if c.summary.count]
        current = self.class_combo.currentText()
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems(names)
        self.class_combo.setCurrentText(current if current in names else ALL_CLASSES)
        self.class_combo.blockSignals(False)

    # histogram ---------------------------------------------------------------------------------
    @property
    def scale(self) -> Scale:
        return SCALES[self.scale_combo.currentText()]

    def draw_histogram(self, *_args) -> None:
        from inference.segmentation.histogram import size_histogram

        result = self.result
        if result is None:
            return
        chosen = self.class_combo.currentText()
        quantity, title = QUANTITIES[self.quantity_combo.currentText()]
        hist = size_histogram(
            result.measurements,
            None if chosen == ALL_CLASSES else chosen,
            quantity,
            bins=self.bins_spin.value(),
            scale=self.scale,
        )
        self.histogram = hist
        log = hist.scale == "log"
        counts = hist.counts.astype(float)
        self.bars.setData(hist.edges, counts)
        # Set the x range in the coordinates of the new mode on the side where it is valid:
        # a log axis given a linear range of thousands overflows (10**1000).
        ends = np.log10(hist.edges[[0, -1]]) if log else hist.edges[[0, -1]]
        low, high = float(ends[0]), float(ends[1])
        view = self.plot.getViewBox()
        if log:
            view.setXRange(low, high, padding=0.02)
        self.plot.setLogMode(x=log, y=False)
        if not log:
            view.setXRange(low, high, padding=0.02)
        view.setYRange(0, max(float(counts.max(initial=0)), 1.0) * 1.05, padding=0)
        # pyqtgraph labels every minor log tick, unreadable in a narrow plot: 1-2-5 ticks instead
        ticks = [[(math.log10(v), f"{v:g}") for v in _log_ticks(*hist.edges[[0, -1]])]]
        self.plot.getAxis("bottom").setTicks(ticks if log else None)
        self.plot.setLabel("bottom", f"{title}{_unit(hist.unit)}")
        self._show_counts(hist, result)

    def _show_counts(self, hist: Histogram, result: MeasuredImage) -> None:
        chosen = self.class_combo.currentText()
        border = sum(
            1
            for m in result.measurements
            if m.touches_border and chosen in (ALL_CLASSES, m.class_name)
        )
        text = f"{hist.total} objects in the histogram"
        if border:
            text += f", {border} on the border left out"
        if not result.summary.calibration.calibrated:
            text += " · uncalibrated: sizes in px"
        self.status_label.setText(text)
        self.status_label.setToolTip(
            "Objects that touch the image border are cut, so their size is left out of the "
            "histogram and the means; counts and fractions include them."
        )

    # report and batch --------------------------------------------------------------------------
    def _ask_report(self) -> None:
        image, annotations = self.state.workbench.image, self.state.workbench.annotations
        if image is None or annotations is None or not len(annotations):
            self.state.report_error("Nothing to report yet: add at least one object.")
            return
        default = image.path.with_suffix("").as_posix() + "_report.html"
        path, _ = QFileDialog.getSaveFileName(self, "Report", default, "HTML (*.html)")
        if path:
            self.write_report(Path(path))

    def write_report(self, path: Path) -> None:
        """The one-page HTML report, written in a worker, with this tab's histogram settings."""
        from inference.segmentation.report import write_report  # slow to import at start-up

        image, annotations = self.state.workbench.image, self.state.workbench.annotations
        if image is None or annotations is None:
            return
        self.report_slot.submit(
            write_report,
            annotations.copy(),
            image.rgb,
            path,
            bins=self.bins_spin.value(),
            scale=self.scale,
            data_bar_rows=image.micrograph.data_bar_rows,
            label=f"Writing {path.name}…",
            cancellable=False,
            on_result=lambda p: self.state.show_status(f"Report written: {p}"),
            on_error=self.state.report_error,
            name="report",
        )

    def open_batch(self) -> BatchDialog:
        """The batch dialog, with a recipe taken from the pane's current settings."""
        if self.batch_dialog is None:
            self.batch_dialog = BatchDialog(self.state, self.window())
        self.batch_dialog.take_recipe_from_pane()
        self.batch_dialog.show()
        self.batch_dialog.raise_()
        return self.batch_dialog


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1, 2, 5 × 10^k inside [lo, hi] (just 1 × 10^k when those would crowd the axis)."""
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    steps = (1, 2, 5) if len(decades) <= 4 else (1,)
    ticks = [m * 10.0**k for k in decades for m in steps]
    return [float(f"{t:.3g}") for t in ticks if lo <= t <= hi]


def _unit(unit: str) -> str:
    return f" ({unit})" if unit else ""
