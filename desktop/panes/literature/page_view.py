"""One PDF page as a picture with highlight rectangles on top (QGraphicsView).

Pages are rendered by pypdfium2 in a worker; this view only shows the image it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene, QGraphicsView

if TYPE_CHECKING:
    import numpy as np

    from inference.literature.model import Box

COLOURS = {
    "value": QColor(255, 214, 0, 110),
    "material": QColor(60, 140, 255, 80),
    "mention": QColor(60, 200, 120, 60),
    "passage": QColor(255, 140, 0, 60),
}
SELECTED = QColor(230, 60, 30)


class PageView(QGraphicsView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setBackgroundBrush(QColor(90, 90, 90))
        self.scale_factor = 2.0  # image pixels per PDF point
        self.page = -1
        self._pixmap_item = None
        self._highlights: list[QGraphicsRectItem] = []
        self.selected_item: QGraphicsRectItem | None = None

    def show_image(self, page: int, image: np.ndarray, scale: float) -> None:
        h, w, _ = image.shape
        qimage = QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.scene().clear()
        self._highlights.clear()
        self.selected_item = None
        self._pixmap_item = self.scene().addPixmap(QPixmap.fromImage(qimage))
        self.scene().setSceneRect(QRectF(0, 0, w, h))
        self.page, self.scale_factor = page, scale

    def clear_page(self) -> None:
        """No page shown (another paper is open; its page is on the way)."""
        self.scene().clear()
        self._highlights.clear()
        self._pixmap_item = None
        self.selected_item = None
        self.page = -1

    def clear_highlights(self) -> None:
        for item in self._highlights:
            self.scene().removeItem(item)
        self._highlights.clear()
        self.selected_item = None

    def add_highlight(self, box: Box, kind: str, selected: bool = False) -> QGraphicsRectItem:
        s = self.scale_factor
        rect = QRectF(
            box.x0 * s - 1,
            box.top * s - 1,
            (box.x1 - box.x0) * s + 2,
            (box.bottom - box.top) * s + 2,
        )
        item = self.scene().addRect(rect, QPen(Qt.PenStyle.NoPen), QBrush(COLOURS[kind]))
        if selected:
            item.setPen(QPen(SELECTED, 3))
            self.selected_item = item
        item.setZValue(2 if selected else 1)
        self._highlights.append(item)
        return item

    def fit_width(self) -> None:
        rect = self.scene().sceneRect()
        if rect.width() > 0:
            self.resetTransform()
            factor = max(0.1, (self.viewport().width() - 4) / rect.width())
            self.scale(factor, factor)

    def zoom(self, factor: float) -> None:
        self.scale(factor, factor)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
        else:
            super().wheelEvent(event)
