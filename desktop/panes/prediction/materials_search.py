"""The "Materials data" search: element filters and property ranges over the shipped tables.

Only gathers the query and draws the rows: `inference.prediction.materials_query` does the
search in a JobSlot (the first search may build the store). A row can be sent to prediction
(`predict_requested`) and the rows exported to CSV.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inference.errors import ErrorReport, MatLensError
from inference.prediction.materials_query import (
    PROPERTIES,
    MaterialsQuery,
    QueryResult,
    parse_elements,
    query_materials,
    rows_to_csv,
)

if TYPE_CHECKING:
    from desktop.workers import JobSlot

RANGES = {
    "band_gap": "Band gap",
    "formation_energy": "Formation energy",
    "bulk_modulus": "Bulk modulus",
    "shear_modulus": "Shear modulus",
    "yield_strength": "Yield strength",
}
COLUMNS = ["Formula", "Property", "Value", "Unit", "Method", "Table", "Source", "Note"]
LABELS = {
    "band_gap": "band gap",
    "formation_energy": "formation energy",
    "bulk_modulus": "bulk modulus",
    "shear_modulus": "shear modulus",
    "yield_strength": "yield strength",
    "is_metal": "metal (1) or not (0)",
}


class MaterialsSearch(QWidget):
    predict_requested = Signal(str)  # a formula to predict
    status = Signal(str)

    def __init__(self, slot: JobSlot, export_slot: JobSlot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slot, self.export_slot = slot, export_slot
        self.result: QueryResult | None = None
        self._build()

    def _build(self) -> None:
        self.all_of = QLineEdit()
        self.all_of.setPlaceholderText("e.g. Ca, Ti, O")
        self.any_of = QLineEdit()
        self.any_of.setPlaceholderText("e.g. Sr, Ba")
        self.none_of = QLineEdit()
        self.none_of.setPlaceholderText("e.g. Pb")
        grid = QGridLayout()
        grid.addWidget(QLabel("Contains all of"), 0, 0)
        grid.addWidget(self.all_of, 0, 1)
        grid.addWidget(QLabel("any of"), 0, 2)
        grid.addWidget(self.any_of, 0, 3)
        grid.addWidget(QLabel("none of"), 0, 4)
        grid.addWidget(self.none_of, 0, 5)
        self.minimum: dict[str, QLineEdit] = {}
        self.maximum: dict[str, QLineEdit] = {}
        for i, (prop, label) in enumerate(RANGES.items()):
            row, col = 1 + i // 3, (i % 3) * 2
            lo, hi = QLineEdit(), QLineEdit()
            lo.setPlaceholderText("min")
            hi.setPlaceholderText("max")
            for edit in (lo, hi):
                edit.setMaximumWidth(70)
                edit.returnPressed.connect(self.search)
            self.minimum[prop], self.maximum[prop] = lo, hi
            box = QHBoxLayout()
            box.addWidget(lo)
            box.addWidget(QLabel("to"))
            box.addWidget(hi)
            box.addWidget(QLabel(PROPERTIES[prop]))
            box.addStretch(1)
            grid.addWidget(QLabel(label), row, col)
            grid.addLayout(box, row, col + 1)
        for edit in (self.all_of, self.any_of, self.none_of):
            edit.returnPressed.connect(self.search)
        self.method = QComboBox()
        self.method.addItems(["All tables", "Experiment only", "DFT only"])
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.search)
        self.predict_button = QPushButton("Predict selected")
        self.predict_button.setEnabled(False)
        self.predict_button.clicked.connect(self._predict_selected)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export)
        buttons = QHBoxLayout()
        buttons.addWidget(self.method)
        buttons.addWidget(self.search_button)
        buttons.addStretch(1)
        buttons.addWidget(self.predict_button)
        buttons.addWidget(self.export_button)
        self.summary = QLabel("Search the experimental and Materials Project tables offline.")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(
            lambda: self.predict_button.setEnabled(bool(self.table.selectedItems()))
        )
        self.table.itemDoubleClicked.connect(lambda _item: self._predict_selected())
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    # searching ------------------------------------------------------------------------------
    def query(self) -> MaterialsQuery:
        """The query the fields describe (one-line MatLensError for a bad field)."""
        ranges = {}
        for prop in RANGES:
            lo = _number(self.minimum[prop].text(), RANGES[prop])
            hi = _number(self.maximum[prop].text(), RANGES[prop])
            if lo is not None or hi is not None:
                ranges[prop] = (lo, hi)
        method = {0: "", 1: "experiment", 2: "DFT"}[self.method.currentIndex()]
        return MaterialsQuery(
            all_of=parse_elements(self.all_of.text()),
            any_of=parse_elements(self.any_of.text()),
            none_of=parse_elements(self.none_of.text()),
            ranges=ranges,
            method=method,
        )

    def search(self) -> None:
        try:
            query = self.query()
        except MatLensError as exc:
            self._failed(ErrorReport(str(exc), ""))
            return
        self.summary.setText("Searching…")
        self.slot.submit(
            _run_query,
            query,
            label="Searching the materials tables",
            on_result=self._show,
            on_error=self._failed,
            name="materials search",
        )

    def _failed(self, report: ErrorReport) -> None:
        self.result = None
        self.table.setRowCount(0)
        self.export_button.setEnabled(False)
        self.predict_button.setEnabled(False)
        self.summary.setText(f"<span style='color:#b00020'>{report.message}</span>")
        self.status.emit(report.message)

    def _show(self, result: QueryResult) -> None:
        self.result = result
        shown = (
            "" if len(result.rows) == result.total else f"; showing the first {len(result.rows)}"
        )
        self.summary.setText(
            f"{result.total} values for {result.compounds} compositions "
            f"({1000 * result.seconds:.0f} ms){shown}. Double-click a row to predict it."
        )
        self.table.setRowCount(len(result.rows))
        for i, r in enumerate(result.rows):
            cells = [
                r.formula,
                LABELS.get(r.prop, r.prop),
                r.shown,
                r.unit,
                r.method,
                r.dataset,
                r.source,
                r.note,
            ]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j == 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(i, j, item)
        self.export_button.setEnabled(bool(result.rows))
        self.status.emit(f"{result.total} values found")

    def _predict_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        if rows and self.result is not None:
            self.predict_requested.emit(self.result.rows[rows[0]].formula)

    def _export(self) -> None:
        if self.result is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export CSV", "materials.csv", "CSV (*.csv)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        if self.result is None:
            return
        self.export_slot.submit(
            rows_to_csv,
            self.result.rows,
            path,
            label=f"Saving {path.name}",
            on_result=lambda _r: self.status.emit(f"Saved {path}"),
            on_error=lambda report: self.status.emit(report.message),
            name="materials export",
        )


def _run_query(query: MaterialsQuery, progress=None) -> QueryResult:
    return query_materials(query, progress)


def _number(text: str, label: str) -> float | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise MatLensError(f"{label}: '{text}' is not a number") from None
