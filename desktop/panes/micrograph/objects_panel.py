"""The Objects tab: every object with its class, area and score; select, hide, delete, reclass.

Areas read as people write them ("27,640 px²", "1.13 µm²": `numbers.format_quantity`). The
class column takes the width left and elides a long name (the full name is its tooltip), so
the list never widens the side panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inference.segmentation.numbers import format_quantity
from inference.segmentation.overlay import SELECTION_COLOUR, crop_rgba, outline

if TYPE_CHECKING:
    from desktop.panes.micrograph.state import MicrographState
    from inference.segmentation.annotations import AnnotatedObject


def selection_outline(objects: list[AnnotatedObject]) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The outlines of the selected objects as an RGBA crop and its (y0, x0), or None."""
    if not objects:
        return None
    x0 = min(o.bbox[0] for o in objects)
    y0 = min(o.bbox[1] for o in objects)
    x1 = max(o.bbox[2] for o in objects)
    y1 = max(o.bbox[3] for o in objects)
    edge = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    for o in objects:
        ox0, oy0, ox1, oy1 = o.bbox
        edge[oy0 - y0 : oy1 - y0, ox0 - x0 : ox1 - x0] |= outline(o.mask)
    return crop_rgba(edge, SELECTION_COLOUR), (y0, x0)


CLASS_COLUMN, AREA_COLUMN, SCORE_COLUMN = 1, 2, 3
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class ObjectsPanel(QWidget):
    def __init__(self, state: MicrographState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["#", "Class", "Area", "Score"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)  # thousands of objects: no per-row size queries
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(CLASS_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.tree.itemChanged.connect(self._item_toggled)
        self.tree.itemSelectionChanged.connect(self._selected)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.clicked.connect(state.delete_selected)
        self.reclass_button = QPushButton("Set class", self)
        self.reclass_button.setToolTip("Give the selected objects the class chosen above")
        self.reclass_button.clicked.connect(state.reclass_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.reclass_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        for signal in (state.objects_changed, state.calibration_changed):
            signal.connect(self.refresh)
        state.image_opened.connect(lambda _: self.refresh())

    def selected_ids(self) -> list[int]:
        return [int(i.text(0)) for i in self.tree.selectedItems()]

    def refresh(self) -> None:
        annotations = self.state.workbench.annotations
        keep = set(self.selected_ids())
        self.tree.blockSignals(True)
        self.tree.clear()
        if annotations is not None:
            cal = annotations.calibration
            for obj in annotations.objects:
                area = format_quantity(cal.area(obj.area), cal.area_unit)
                score = "" if obj.score is None else f"{obj.score:.2f}"
                item = QTreeWidgetItem([str(obj.id), obj.class_name, area, score])
                item.setToolTip(CLASS_COLUMN, obj.class_name)
                for column in (AREA_COLUMN, SCORE_COLUMN):
                    item.setTextAlignment(column, RIGHT)
                checked = Qt.CheckState.Checked if obj.visible else Qt.CheckState.Unchecked
                item.setCheckState(0, checked)
                self.tree.addTopLevelItem(item)
                item.setSelected(obj.id in keep)
        self.tree.blockSignals(False)
        self._selected()

    def _selected(self) -> None:
        self.state.select(self.selected_ids())

    def _item_toggled(self, item: QTreeWidgetItem, column: int) -> None:
        if column == 0:
            visible = item.checkState(0) == Qt.CheckState.Checked
            obj_id = int(item.text(0))
            # later: the list is rebuilt by the edit, not inside its own signal
            QTimer.singleShot(0, lambda: self.state.set_visible(obj_id, visible))
