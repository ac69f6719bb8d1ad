"""The records table: one row per extracted property value, filterable by property/material."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from inference.literature.schema import link_reason, shown_normalised, shown_value

if TYPE_CHECKING:
    from inference.literature.extract import PropertyRecord

COLUMNS = ("Material", "Property", "Value", "Unit", "Normalised", "Conditions", "Page")


class RecordsTable(QTableWidget):
    record_activated = Signal(object)  # PropertyRecord

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        # Every column as wide as its text (a narrow pane scrolls instead of cutting "Conditions")
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.records: list[PropertyRecord] = []
        self._just_selected: int | None = None
        self.itemSelectionChanged.connect(self._selected)
        self.clicked.connect(self._clicked)

    def set_records(self, records: list[PropertyRecord]) -> None:
        """Show `records`, none selected: a row selected before belongs to other records."""
        self.blockSignals(True)
        self.clearSelection()
        self._just_selected = None
        self.records = list(records)
        self.setRowCount(len(self.records))
        for row, r in enumerate(self.records):
            value = shown_value(r)  # "1.0" as written, not "1": the paper's significant figures
            normal = shown_normalised(r)  # eV for a band gap, K for a temperature
            cond = "; ".join(f"{k} {v}" for k, v in r.conditions.items())
            material = r.material or "?"
            if r.material_kind in ("abbreviation", "doping", "code") and r.material_formula:
                material = f"{material} (= {r.material_formula})"  # what "PCCO" stands for
            prop = f"{r.property} ({r.qualifier})" if r.qualifier else r.property
            cells = (material, prop, value, r.unit, normal, cond, str(r.page))
            tip = f"{r.sentence}\n\nmaterial: {link_reason(r.link)}"
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                if col == 6:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.setItem(row, col, item)
        self.blockSignals(False)

    def _selected(self) -> None:
        rows = {i.row() for i in self.selectedIndexes()}
        if rows:
            self._just_selected = min(rows)
            self.record_activated.emit(self.records[min(rows)])

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._just_selected = None  # set again if this press selects a row
        super().mousePressEvent(event)

    def _clicked(self, index) -> None:
        """A click on the row already selected jumps to it again (the selection does not
        change, so `itemSelectionChanged` is silent); the click that selected it has jumped."""
        row, just = index.row(), self._just_selected
        self._just_selected = None
        if row == just or not 0 <= row < len(self.records):
            return
        if row in {i.row() for i in self.selectedIndexes()}:
            self.record_activated.emit(self.records[row])
