"""The Prediction pane: a formula, an alloy, a structure file or a folder in; properties out.

The pane only gathers input and draws: `inference.prediction.service.run_prediction` does the
work in a JobSlot (progress and Cancel in the JobBar), and its rows fill the table: known
values from the shipped tables first, then the models' predictions with 90 % intervals and
out-of-domain notes. Plots show the energy per relaxation step and the E–V curve with its
Birch–Murnaghan fit. The "Materials data" tab searches the tables (materials_search.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.job_bar import JobBar
from desktop.panes.base import AppContext, Pane
from desktop.panes.prediction.materials_search import MaterialsSearch
from desktop.workers import JobSlot
from inference.prediction.service import PredictionReport, rows_to_csv, run_prediction

if TYPE_CHECKING:
    from inference.errors import ErrorReport

COLUMNS = ["Item", "Quantity", "Value", "90 % interval / range", "Unit", "Kind", "Source", "Note"]
SOURCE_WIDTH = 260  # px
KNOWN_COLOUR = QColor("#e8f5e9")  # known values: a pale green a person learns to trust
WARN_COLOUR = QColor("#fff3cd")  # out of domain


class PredictionPane(Pane):
    title = "Prediction"
    # Opening files from the menu or by drag-and-drop is the Structures pane's job; this pane
    # takes structures through its own File…/Folder… buttons and predict_structure_file().
    extensions: frozenset[str] = frozenset()
    file_filter = "Structures (*.cif *.vasp *.poscar POSCAR* CONTCAR*)"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.report: PredictionReport | None = None
        # (path text, block) handed over by Structures; it holds while the field shows that path
        self._block: tuple[str, str] | None = None
        self.predict_slot = JobSlot(context.jobs, parent=self)
        self.search_slot = JobSlot(context.jobs, parent=self)
        self.export_slot = JobSlot(context.jobs, parent=self)
        self._build()

    # layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.input = QLineEdit()
        self.input.setPlaceholderText(
            "Formula (TiO2, Al0.5CoCrFeNi), alloy (Ti-6Al-4V in wt%, 'Ni-50Ti at%', AISI 304) "
            "or a structure file / folder"
        )
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
        ):
            top.addWidget(w)

        self.job_bar = JobBar()
        self.job_bar.watch(self.predict_slot, self.search_slot, self.export_slot)
        self.device_label = QLabel("Device: not used yet")
        self.device_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        status = QHBoxLayout()
        status.addWidget(self.device_label, 1)
        status.addWidget(self.export_button)
        self.conversion = QLabel("")
        self.conversion.setWordWrap(True)
        self.conversion.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.nearest = QLabel("")
        self.nearest.setWordWrap(True)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The sources are long citations and pushed the notes (what a value is: "lowest of 33
        # polymorphs", "PBE underestimates band gaps") out of sight; a source shows its start,
        # its tooltip the whole, and the notes take the rest of the width.
        source = COLUMNS.index("Source")
        header.setSectionResizeMode(source, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(source, SOURCE_WIDTH)
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

        results = QWidget()
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addWidget(self.conversion)
        results_layout.addWidget(self.table, 1)
        results_layout.addWidget(self.nearest)
        self.split = split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(results)
        split.addWidget(plots)
        plots.setVisible(False)  # shown when there is a relaxation or an E(V) curve
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        self.message = QLabel("")
        self.message.setWordWrap(True)
        predict_tab = QWidget()
        predict_layout = QVBoxLayout(predict_tab)
        predict_layout.addLayout(top)
        predict_layout.addLayout(status)
        predict_layout.addWidget(self.message)
        predict_layout.addWidget(split, 1)
        self.search = MaterialsSearch(self.search_slot, self.export_slot)
        self.search.predict_requested.connect(self._predict_from_search)
        self.search.status.connect(self._status)
        self.tabs = QTabWidget()
        self.tabs.addTab(predict_tab, "Predict")
        self.tabs.addTab(self.search, "Materials data")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.job_bar)

    # input ----------------------------------------------------------------------------------
    def open_path(self, path: Path) -> None:
        self.input.setText(str(path))
        self.file_opened.emit(Path(path))
        self.predict()

    def predict_structure_file(self, path: Path, block: str | None = None) -> None:
        """Entry point for other panes (Structures ▸ Predict properties): the file, and the
        block shown there (a CIF can hold several structures)."""
        self._block = (str(path), block) if block else None
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
        """Predict for the text in the field; the latest request wins (JobSlot)."""
        text = self.input.text()
        self.message.setText("")
        block = self._block[1] if self._block and self._block[0] == text else None
        self.predict_slot.submit(
            run_prediction,
            text,
            block=block,
            relax=self.relax_box.isChecked(),
            eos=self.eos_box.isChecked(),
            label=f"Predicting {text.strip()[:40]}",
            on_result=self._show,
            on_error=self._failed,
            on_cancelled=lambda: self._cancelled(text),
            name="prediction",
        )

    def _cancelled(self, text: str) -> None:
        """The table keeps the last results, and says whose they are: the field names the input
        cancelled, and the rows looked like its results."""
        shown = self.report.rows[0].item if self.report is not None and self.report.rows else ""
        said = f"Prediction of {text.strip()[:60]} cancelled"
        if shown:
            said += f"; the table still shows {shown}"
        self.message.setText(said)
        self._status(said)

    def _status(self, text: str) -> None:
        show = self.context.show_status
        if callable(show):
            show(text)

    def cancel(self) -> None:
        self.predict_slot.cancel()
        self.search_slot.cancel()

    def _predict_from_search(self, formula: str) -> None:
        self.tabs.setCurrentIndex(0)
        self.predict_formula(formula)

    def _clear(self) -> None:
        self.report = None
        self.table.setRowCount(0)
        self.conversion.setText("")
        self.nearest.setText("")
        self.export_button.setEnabled(False)
        self.relax_plot.clear()
        self.eos_plot.clear()
        self.plots.setVisible(False)

    def _failed(self, report: ErrorReport) -> None:
        """A bad formula or file: the old results go, one line says why."""
        self._clear()
        self.message.setText(f"<span style='color:#b00020'>{report.message}</span>")
        self._status(report.message)

    # results --------------------------------------------------------------------------------
    def _show(self, report: PredictionReport) -> None:
        self._clear()
        self.report = report
        self.device_label.setText(f"Device: {report.device}")
        errors = [f"{r['file']}: {r['error']}" for r in report.records if "error" in r]
        notes = report.warnings + errors
        self.message.setText("<br>".join(notes))
        source = next((r.get("composition_source") for r in report.records if r), None)
        if report.conversion:
            cite = f"<br><i>Nominal composition: {source}</i>" if source else ""
            self.conversion.setText(f"<b>Composition:</b> {report.conversion}{cite}")
        if report.nearest:
            near = ", ".join(f"{n['formula']} ({n['distance']:.2f})" for n in report.nearest)
            self.nearest.setText(
                f"<b>Nearest known compositions</b> (distance in atomic fractions): {near}"
            )
        self.table.setRowCount(len(report.rows))
        for i, row in enumerate(report.rows):
            values = (
                row.item,
                row.quantity,
                row.value,
                row.uncertainty,
                row.unit,
                row.kind,
                row.source,
                row.note,
            )
            colour = KNOWN_COLOUR if row.kind.startswith("known") else None
            if row.kind.startswith("doubtful") or (row.kind == "prediction" and row.note):
                colour = WARN_COLOUR
            for j, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if j in (2, 3):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if colour is not None:
                    item.setBackground(colour)
                self.table.setItem(i, j, item)
        self.export_button.setEnabled(bool(report.rows))
        self._plot(report)
        self._status(f"{len(report.rows)} values ({report.device})")

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
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write the table (units, kinds and sources included) off the GUI thread."""
        if not self.report:
            return
        self.export_slot.submit(
            rows_to_csv,
            self.report.rows,
            path,
            label=f"Saving {path.name}",
            on_result=lambda _r: self._status(f"Saved {path}"),
            on_error=self._export_failed,
            name="prediction export",
        )

    def _export_failed(self, report: ErrorReport) -> None:
        self.message.setText(f"<span style='color:#b00020'>{report.message}</span>")
        self._status(report.message)

    def shutdown(self) -> None:
        for slot in (self.predict_slot, self.search_slot, self.export_slot):
            slot.discard()
