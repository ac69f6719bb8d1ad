"""The info panel: formula, space group (tolerance adjustable), cell, density and the site table."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inference.structures.analysis import CELL_VARIANTS, CellVariant, StructureInfo

_VARIANT_TEXT = {"as-read": "As read", "primitive": "Primitive", "conventional": "Conventional"}
_COLUMNS = ("Label", "Species", "Wyckoff", "x", "y", "z", "Occ.")


class InfoPanel(QWidget):
    variant_changed = Signal(str)
    symprec_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.variant = QComboBox(self)
        for variant in CELL_VARIANTS:
            self.variant.addItem(_VARIANT_TEXT[variant], variant)
        self.variant.setToolTip("Show the cell as read from the file, or a standard cell")
        self.variant.currentIndexChanged.connect(
            lambda _i: self.variant_changed.emit(self.variant.currentData())
        )
        self.symprec = QDoubleSpinBox(self, decimals=4, minimum=1e-4, maximum=1.0, value=0.01)
        self.symprec.setSingleStep(0.01)
        self.symprec.setSuffix(" Å")
        self.symprec.setToolTip("Distance tolerance of the space-group search (spglib symprec)")
        self.symprec.editingFinished.connect(lambda: self.symprec_changed.emit(self.tolerance))

        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.addRow("Cell", self.variant)
        for key, title in (
            ("formula", "Formula"),
            ("reduced", "Reduced"),
            ("spacegroup", "Space group"),
            ("system", "Crystal system"),
            ("abc", "a, b, c"),
            ("angles", "α, β, γ"),
            ("volume", "Volume"),
            ("density", "Density"),
            ("nsites", "Sites"),
        ):
            label = QLabel("—", self)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            form.addRow(title, label)
        form.addRow("Tolerance", self.symprec)

        self.table = QTableWidget(0, len(_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.notices = QLabel("", self)
        self.notices.setWordWrap(True)
        self.notices.setStyleSheet("color: #8a5a00;")

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.notices)
        layout.addWidget(self.table, 1)

    @property
    def tolerance(self) -> float:
        return float(self.symprec.value())

    @property
    def current_variant(self) -> CellVariant:
        return self.variant.currentData()  # one of CELL_VARIANTS, as the combo was filled

    def clear(self) -> None:
        for label in self.fields.values():
            label.setText("—")
        self.table.setRowCount(0)
        self.notices.setText("")

    def show_info(self, info: StructureInfo, notices: tuple[str, ...] = ()) -> None:
        f = self.fields
        f["formula"].setText(info.formula)
        f["reduced"].setText(info.reduced_formula)
        if info.spacegroup_symbol:
            f["spacegroup"].setText(f"{info.spacegroup_symbol} (No. {info.spacegroup_number})")
        elif info.point_group:
            f["spacegroup"].setText(f"molecule, point group {info.point_group}")
        else:
            f["spacegroup"].setText("not found")
        f["system"].setText(info.crystal_system or "—")
        if info.lattice:
            lat = info.lattice
            f["abc"].setText(f"{lat.a:.4f}, {lat.b:.4f}, {lat.c:.4f} Å")
            f["angles"].setText(f"{lat.alpha:.3f}, {lat.beta:.3f}, {lat.gamma:.3f}°")
            f["volume"].setText(f"{lat.volume:.3f} Å³")
            f["density"].setText(f"{info.density:.4f} g/cm³" if info.density is not None else "—")
        else:
            for key in ("abc", "angles", "volume", "density"):
                f[key].setText("—")
        f["nsites"].setText(str(info.nsites))
        self.notices.setText("\n".join(f"• {n}" for n in notices))
        self._fill_table(info)

    def _fill_table(self, info: StructureInfo) -> None:
        rows = info.sites[:5000]  # a table of 10⁵ rows helps nobody and costs seconds
        self.table.setRowCount(len(rows))
        for r, site in enumerate(rows):
            values = (
                site.label,
                site.species,
                site.wyckoff,
                f"{site.frac[0]:.5f}",
                f"{site.frac[1]:.5f}",
                f"{site.frac[2]:.5f}",
                f"{site.occupancy:.3g}",
            )
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(value))

    def select_site(self, site: int) -> None:
        if 0 <= site < self.table.rowCount():
            self.table.selectRow(site)
            item = self.table.item(site, 0)
            if item is not None:
                self.table.scrollToItem(item)
