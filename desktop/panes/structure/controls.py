"""The Structures pane's rows of controls: the toolbar, the view bar and the status row.

Each row only shows and asks: it turns clicks into signals the pane connects, and the pane
tells it what to show. None of them holds the structure or runs a job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from desktop.job_bar import JobBar
from inference.errors import MatLensError
from inference.structures.elements import COLOR_SCHEMES, RADIUS_MODES
from inference.structures.export import EXPORT_FORMATS
from inference.structures.scene import STYLES
from inference.structures.views import AXES, parse_uvw

if TYPE_CHECKING:
    from collections.abc import Iterable

    from desktop.workers import JobSlot
    from inference.structures.rendering import Projection

STYLE_TEXT = {
    "ball-and-stick": "Ball and stick",
    "space-filling": "Space filling",
    "sticks": "Sticks",
    "polyhedral": "Polyhedral",
}
RADIUS_TEXT = {
    "atomic": "Atomic",
    "ionic": "Ionic",
    "covalent": "Covalent",
    "vdw": "van der Waals",
}
PICK_HINT = "Click an atom; Shift+click two or three for a distance or angle."


def _row(widget: QWidget) -> QHBoxLayout:
    """A row flush with the column it sits in, as a layout nested in that column would be."""
    row = QHBoxLayout(widget)
    row.setContentsMargins(0, 0, 0, 0)
    return row


class StructureToolbar(QWidget):
    """Open, data block, style, supercell, elements, labels, Predict and Export."""

    open_requested = Signal()
    block_chosen = Signal(int)
    style_chosen = Signal(str)
    supercell_changed = Signal()
    element_toggled = Signal(str, bool)
    labels_toggled = Signal(bool)
    predict_requested = Signal()
    export_requested = Signal(str)  # "png", "xrd" or a key of EXPORT_FORMATS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.open_button = QPushButton("Open…", self)
        self.open_button.clicked.connect(self.open_requested)
        self.block_combo = QComboBox(self)
        self.block_combo.setToolTip("Data blocks in this file")
        self.block_combo.setVisible(False)
        self.block_combo.currentIndexChanged.connect(self.block_chosen)
        self.style_combo = QComboBox(self)
        for style in STYLES:
            self.style_combo.addItem(STYLE_TEXT[style], style)
        self.style_combo.currentIndexChanged.connect(
            lambda _i: self.style_chosen.emit(self.style_combo.currentData())
        )
        self.repeat_spins: list[QSpinBox] = []
        repeats = QHBoxLayout()
        repeats.setSpacing(2)
        for axis in "abc":
            spin = QSpinBox(self, minimum=1, maximum=60, value=1)
            spin.setToolTip(f"Repeat the cell along {axis}")
            spin.valueChanged.connect(lambda _v: self.supercell_changed.emit())
            self.repeat_spins.append(spin)
            repeats.addWidget(spin)
        self.elements_button = QToolButton(self)
        self.elements_button.setText("Elements")
        self.elements_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.elements_menu = QMenu(self.elements_button)
        self.elements_button.setMenu(self.elements_menu)
        self.labels_check = QCheckBox("Labels", self)
        self.labels_check.toggled.connect(self.labels_toggled)
        self.predict_button = QPushButton("Predict properties", self)
        self.predict_button.setToolTip("Energy, forces, stress and magnetic moments (CHGNet)")
        self.predict_button.clicked.connect(self.predict_requested)
        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("PNG image (high resolution)…", lambda: self.export_requested.emit("png"))
        for fmt, (text, _) in EXPORT_FORMATS.items():
            menu.addAction(f"{text}…", lambda f=fmt: self.export_requested.emit(f))
        menu.addAction("XRD peaks (CSV)…", lambda: self.export_requested.emit("xrd"))
        self.export_button.setMenu(menu)

        bar = _row(self)
        bar.addWidget(self.open_button)
        bar.addWidget(self.block_combo, 1)
        bar.addWidget(self.style_combo)
        bar.addWidget(QLabel("Supercell", self))
        bar.addLayout(repeats)
        bar.addWidget(self.elements_button)
        bar.addWidget(self.labels_check)
        bar.addStretch(1)
        bar.addWidget(self.predict_button)
        bar.addWidget(self.export_button)

    def show_blocks(self, names: list[str]) -> None:
        """List a file's data blocks, the first chosen, without a `block_chosen`."""
        self.block_combo.blockSignals(True)
        self.block_combo.clear()
        for name in names:
            self.block_combo.addItem(name)
        self.block_combo.setCurrentIndex(0)
        self.block_combo.blockSignals(False)
        self.block_combo.setVisible(len(names) > 1)

    @property
    def supercell(self) -> tuple[int, int, int]:
        a, b, c = (spin.value() for spin in self.repeat_spins)
        return (a, b, c)

    def show_supercell(self, repeats: tuple[int, int, int]) -> None:
        """Set the repeats without a `supercell_changed`: the caller rebuilds at once."""
        for spin, value in zip(self.repeat_spins, repeats, strict=True):
            spin.blockSignals(True)
            spin.setValue(int(value))
            spin.blockSignals(False)

    def enable_supercell(self, periodic: bool) -> None:
        for spin in self.repeat_spins:
            spin.setEnabled(periodic)

    def show_elements(self, names: Iterable[str], hidden: frozenset[str]) -> None:
        self.elements_menu.clear()
        for name in names:
            action = QAction(name, self.elements_menu, checkable=True)
            action.setChecked(name not in hidden)
            action.toggled.connect(lambda on, n=name: self.element_toggled.emit(n, on))
            self.elements_menu.addAction(action)


class ViewBar(QWidget):
    """View along a, b, c or [u v w], reset, projection, radii and colours."""

    direction_chosen = Signal(object)  # (u, v, w), or None for the default view
    bad_direction = Signal(str)
    projection_changed = Signal(str)
    radius_mode_chosen = Signal(str)
    color_scheme_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        bar = _row(self)
        bar.addWidget(QLabel("View along", self))
        for axis in "abc":
            button = QPushButton(axis, self)
            button.setFixedWidth(32)
            button.clicked.connect(lambda _c, a=axis: self.direction_chosen.emit(AXES[a]))
            bar.addWidget(button)
        self.uvw_edit = QLineEdit(self)
        self.uvw_edit.setPlaceholderText("[u v w]")
        self.uvw_edit.setMaximumWidth(90)
        self.uvw_edit.returnPressed.connect(self._uvw_entered)
        bar.addWidget(self.uvw_edit)
        reset = QPushButton("Reset", self)
        reset.clicked.connect(lambda: self.direction_chosen.emit(None))
        bar.addWidget(reset)
        self.projection_combo = QComboBox(self)
        self.projection_combo.addItem("Orthographic", "orthographic")
        self.projection_combo.addItem("Perspective", "perspective")
        self.projection_combo.currentIndexChanged.connect(
            lambda _i: self.projection_changed.emit(self.projection)
        )
        bar.addWidget(self.projection_combo)
        bar.addSpacing(12)
        self.radius_combo = QComboBox(self)
        for mode in RADIUS_MODES:
            self.radius_combo.addItem(f"{RADIUS_TEXT[mode]} radii", mode)
        self.radius_combo.currentIndexChanged.connect(
            lambda _i: self.radius_mode_chosen.emit(self.radius_combo.currentData())
        )
        self.color_combo = QComboBox(self)
        for scheme in COLOR_SCHEMES:
            self.color_combo.addItem(f"{scheme} colours", scheme)
        self.color_combo.currentIndexChanged.connect(
            lambda _i: self.color_scheme_chosen.emit(self.color_combo.currentData())
        )
        bar.addWidget(self.radius_combo)
        bar.addWidget(self.color_combo)
        bar.addStretch(1)

    @property
    def projection(self) -> Projection:
        return self.projection_combo.currentData()

    def _uvw_entered(self) -> None:
        try:
            self.direction_chosen.emit(parse_uvw(self.uvw_edit.text()))
        except MatLensError as exc:
            self.bad_direction.emit(str(exc))


class StatusRow(QWidget):
    """What the picked atoms measure, "Try with more time", and the jobs' progress."""

    more_time_requested = Signal()

    def __init__(self, slots: Iterable[JobSlot], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pick_label = QLabel(PICK_HINT, self)
        self.pick_label.setWordWrap(True)
        self.more_time_button = QPushButton("Try with more time", self)
        self.more_time_button.setToolTip(
            "Large cells are slow to read and to search for symmetry: run again with a longer "
            "time limit"
        )
        self.more_time_button.clicked.connect(self.more_time_requested)
        self.more_time_button.hide()
        self.job_bar = JobBar(self)
        self.job_bar.watch(*slots)
        # The bar keeps its height when idle: the 3D view must not jump as jobs come and go.
        self.job_bar.setMinimumHeight(self.job_bar.cancel_button.sizeHint().height())
        row = _row(self)
        row.addWidget(self.pick_label, 1)
        row.addWidget(self.more_time_button)
        row.addWidget(self.job_bar, 1)

    def show_pick(self, text: str | None) -> None:
        """Show what the picked atoms measure; None: no pick, show the hint."""
        self.pick_label.setText(PICK_HINT if text is None else text)

    def offer_more_time(self, minutes: float | None) -> None:
        """Show "Try with more time (N min)"; None hides it."""
        if minutes is not None:
            self.more_time_button.setText(f"Try with more time ({minutes:g} min)")
        self.more_time_button.setVisible(minutes is not None)
