"""The Prediction pane: a formula, a structure file or a folder in; a table of properties out.

The pane only gathers input and draws: `inference.prediction.service.run_prediction` does the
work in a worker (progress and Cancel), and its rows fill the table. Plots show the energy
per relaxation step and the E–V curve with its Birch–Murnaghan fit.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.panes.base import AppContext, Pane
from inference.errors import ErrorReport
from inference.prediction.service import PredictionReport, rows_to_csv, run_prediction

COLUMNS = ["Item", "Quantity", "Value", "Uncertainty", "Unit", "Model"]


class PredictionPane(Pane):
    title = "Prediction"
    # Opening files from the menu or by drag-and-drop is the Structures pane's job; this pane
    # takes structures through its own File…/Folder… buttons and predict_structure_file().
    extensions: frozenset[str] = frozenset()
    file_filter = "Structures (*.cif *.vasp *.poscar POSCAR* CONTCAR*)"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.report: PredictionReport | None = None
        self._worker = None
        self._build()

    # layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.input = QLineEdit()
        self.input.setPlaceholderText("Formula (Fe2O3, Al0.5CoCrFeNi) or a structure file / folder")
        self.input.returnPressed.connect(self.predict)
        self.file_button = QPushButton("File…")
        self.file_button.clicked.connect(self._pick_file)
        self.folder_button = QPushButton("Folder…")
        self.folder_button.clicked.connect(self._pick_folder)
        self.relax_box = QCheckBox("Relax first")
        self.eos_box = QCheckBox("E(V) and bulk modulus")
        self.predict_button = QPushButton("Predict")
        self.predict_button.setDefault(True)
        self.predict_button.clicked.connect(self.predict)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export_csv)

        top = QHBoxLayout()
        top.addWidget(self.input, 1)
        for w in (
            self.file_button,
            self.folder_button,
            self.relax_box,
            self.eos_box,
            self.predict_button,
            self.cancel_button,
        ):
            top.addWidget(w)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.device_label = QLabel("Device: not used yet")
        self.device_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        status = QHBoxLayout()
        status.addWidget(self.device_label, 1)
        status.addWidget(self.progress, 1)
        status.addWidget(self.export_button)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        self.relax_plot = pg.PlotWidget(title="Relaxation")
        self.relax_plot.setLabel("bottom", "step")
        self.relax_plot.setLabel("left", "energy", units="eV/atom")
        self.eos_plot = pg.PlotWidget(title="Equation of state")
        self.eos_plot.setLabel("bottom", "volume", units="Å³/atom")
        self.eos_plot.setLabel("left", "energy", units="eV/atom")
        for plot in (self.relax_plot, self.eos_plot):
            plot.setBackground("w")
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.setMinimumHeight(160)
        self.plots = plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.relax_plot)
        plots.addWidget(self.eos_plot)

        self.split = split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(plots)
        plots.setVisible(False)  # shown when there is a relaxation or an E(V) curve
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(status)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)

    # input ----------------------------------------------------------------------------------
    def open_path(self, path: Path) -> None:
        self.input.setText(str(path))
        self.file_opened.emit(Path(path))
        self.predict()

    def predict_structure_file(self, path: Path) -> None:
        """Entry point for other panes (Structures ▸ Predict properties)."""
        self.open_path(path)

    def predict_formula(self, formula: str) -> None:
        """Entry point for other panes (Literature ▸ Predict properties of a material)."""
        self.input.setText(formula)
        self.predict()

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Structure file", "", self.file_filter)
        if path:
            self.open_path(Path(path))

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of structures")
        if path:
            self.input.setText(path)
            self.predict()

    # running --------------------------------------------------------------------------------
    def predict(self) -> None:
        if self._worker is not None:
            return
        text = self.input.text()
        self.message.setText("")
        self._set_busy(True)
        self._worker = self.context.jobs.start(
            run_prediction,
            text,
            relax=self.relax_box.isChecked(),
            eos=self.eos_box.isChecked(),
            on_result=self._show,
            on_error=self._failed,
            on_progress=self._progress,
            on_cancelled=lambda: self.context.show_status("Prediction cancelled"),
            on_finished=self._finished,
            name="prediction",
        )

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(message or "%p%")

    def _set_busy(self, busy: bool) -> None:
        self.predict_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setValue(0 if busy else 1000)
        self.progress.setFormat("working…" if busy else "done")

    def _finished(self) -> None:
        self._worker = None
        self._set_busy(False)

    def _failed(self, report: ErrorReport) -> None:
        self.message.setText(f"<span style='color:#b00020'>{report.message}</span>")
        self.context.show_status(report.message)

    # results --------------------------------------------------------------------------------
    def _show(self, report: PredictionReport) -> None:
        self.report = report
        self.device_label.setText(f"Device: {report.device}")
        errors = [f"{r['file']}: {r['error']}" for r in report.records if "error" in r]
        notes = report.warnings + errors
        self.message.setText("<br>".join(notes))
        self.table.setRowCount(len(report.rows))
        for i, row in enumerate(report.rows):
            values = (row.item, row.quantity, row.value, row.uncertainty, row.unit, row.source)
            for j, text in enumerate(values):
                item = QTableWidgetItem(text)
                if j in (2, 3):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(i, j, item)
        self.export_button.setEnabled(bool(report.rows))
        self._plot(report)
        self.context.show_status(f"{len(report.rows)} values predicted ({report.device})")

    def _plot(self, report: PredictionReport) -> None:
        self.relax_plot.clear()
        self.eos_plot.clear()
        show = bool(report.relax_traces or report.eos_curves)
        if show and not self.plots.isVisible():
            height = max(400, self.split.height())
            self.split.setSizes([int(height * 0.4), int(height * 0.6)])
        self.plots.setVisible(show)
        colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
        for k, (name, energies) in enumerate(report.relax_traces.items()):
            pen = pg.mkPen(colours[k % len(colours)], width=2)
            self.relax_plot.plot(
                list(range(1, len(energies) + 1)),
                energies,
                pen=pen,
                symbol="o",
                symbolSize=4,
                name=name,
            )
        for k, curve in enumerate(report.eos_curves.values()):
            colour = colours[k % len(colours)]
            self.eos_plot.plot(
                curve["volumes_per_atom"],
                curve["energies_per_atom"],
                pen=None,
                symbol="o",
                symbolBrush=colour,
                symbolSize=7,
            )
            self.eos_plot.plot(
                curve["fit_volumes"], curve["fit_energies"], pen=pg.mkPen(colour, width=2)
            )
            self.eos_plot.setTitle(
                f"Equation of state: B₀ = {curve['bulk_modulus_gpa']:.1f} GPa, "
                f"V₀ = {curve['v0_per_atom']:.2f} Å³/atom"
            )

    def _export_csv(self) -> None:
        if not self.report:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export CSV", "predictions.csv", "CSV (*.csv)")
        if path:
            rows_to_csv(self.report.rows, Path(path))
            self.context.show_status(f"Saved {path}")

    def shutdown(self) -> None:
        self.cancel()
