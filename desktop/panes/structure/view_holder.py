"""Where the Structures pane's 3D view goes: a hint until the first scene, then the view.

The view is made on the first scene, not with the pane: VTK loads only then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from desktop.panes.structure.view import StructureView
    from inference.structures.rendering import Projection

HINT = (
    "Open a crystal structure: CIF, mCIF, POSCAR/CONTCAR, XYZ, XSF, CSSR, RES, "
    "vasprun.xml (File ▸ Open, drag and drop, or the Open button)."
)


class ViewHolder(QWidget):
    atom_clicked = Signal(int, bool)  # the view's: atom index (-1: empty space), add

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: StructureView | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel(HINT, self)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self.placeholder)

    def ensure_view(self, projection: Projection) -> StructureView:
        """The view, made now (in place of the hint) if there is none yet."""
        if self.view is None:
            from desktop.panes.structure.view import StructureView

            self.view = StructureView(self)
            self.view.projection = projection
            self.view.atom_clicked.connect(self.atom_clicked)
            self.placeholder.hide()
            self._layout.addWidget(self.view)
        return self.view
