"""The image view: zoom, pan, contrast, overlays, and clicks turned into image coordinates.

Left click adds a positive point, right click (or Shift+click) a negative one, Ctrl+drag draws a
box. In brush or eraser mode a left drag paints. Plain drags pan and the wheel zooms. A
calibrated image has a scale bar in the bottom-right corner that follows the zoom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsRectItem

from desktop.panes.micrograph.modes import BRUSH, CALIBRATE, ERASER, EXAMPLES, PROMPT
from inference.imaging.calibration import Calibration
from inference.segmentation.scale_bar import choose_scale_bar

if TYPE_CHECKING:
    import numpy as np


def _colour_menu_without_pyplot() -> None:
    """pyqtgraph's histogram builds its colour-map menu when it is made, and to list the
    "matplotlib ▸ Others" maps it imports matplotlib.pyplot: about 0.3 s before the window's
    first paint, for one submenu. Without that submenu the menu imports nothing until it is
    opened (the matplotlib categories still load their maps then)."""
    from pyqtgraph.widgets import ColorMapMenu

    ColorMapMenu.find_mpl_leftovers = lambda: []  # type: ignore[assignment]


pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
_colour_menu_without_pyplot()


class _Marks(pg.ScatterPlotItem):
    """Point marks that let clicks through: a click on a mark is a prompt (or a stroke) there,
    not a click on the mark, which pyqtgraph's scatter would otherwise take and drop."""

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph API
        ev.ignore()


class _PromptViewBox(pg.ViewBox):
    """A ViewBox that reports clicks and modifier-drags instead of panning on them."""

    def __init__(self, canvas: MicrographCanvas) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self.canvas = canvas
        self._drag_start: QPointF | None = None
        self._stroke: list[tuple[float, float]] = []

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph API
        pos = self.mapSceneToView(ev.scenePos())
        canvas = self.canvas
        if canvas.mode == CALIBRATE:  # only a drag draws the scale line
            super().mouseClickEvent(ev)
            return
        if canvas.mode != PROMPT:
            if ev.button() == Qt.MouseButton.LeftButton:
                ev.accept()
                canvas.brush_stroke.emit([(pos.x(), pos.y())], canvas.mode == ERASER)
            elif canvas.mode == EXAMPLES and ev.button() == Qt.MouseButton.RightButton:
                ev.accept()  # right click removes the examples under the cursor
                canvas.brush_stroke.emit([(pos.x(), pos.y())], True)
            return
        if ev.button() == Qt.MouseButton.LeftButton:
            shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            ev.accept()
            canvas.clicked.emit(pos.x(), pos.y(), 0 if shift else 1)
        elif ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            canvas.clicked.emit(pos.x(), pos.y(), 0)
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph API
        canvas = self.canvas
        painting = (
            canvas.mode in (BRUSH, ERASER, EXAMPLES) and ev.button() == Qt.MouseButton.LeftButton
        )
        boxing = (
            canvas.mode == PROMPT
            and ev.button() == Qt.MouseButton.LeftButton
            and bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        )
        measuring = canvas.mode == CALIBRATE and ev.button() == Qt.MouseButton.LeftButton
        if not (painting or boxing or measuring):
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        pos = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            self._drag_start = start
            self._stroke = [(start.x(), start.y())]
        if measuring:
            start = self._drag_start or pos
            canvas.line_dragged.emit(start.x(), start.y(), pos.x(), pos.y(), ev.isFinish())
            return
        if painting:
            self._stroke.append((pos.x(), pos.y()))
            canvas.show_brush_cursor(pos.x(), pos.y())
            if ev.isFinish():
                canvas.brush_stroke.emit(list(self._stroke), canvas.mode == ERASER)
                self._stroke = []
            return
        start = self._drag_start or pos
        rect = QRectF(start, pos).normalized()
        canvas.show_box(rect.left(), rect.top(), rect.right(), rect.bottom())
        if ev.isFinish():
            canvas.box_drawn.emit((rect.left(), rect.top(), rect.right(), rect.bottom()))


BAR_WIDTH = 5  # screen pixels
CORNER_GAP = -16  # from the image's bottom-right corner on screen to the bar's right end and top
DATA_BAR_GAP = 8  # between the bar and the data bar under it
TEXT_ROOM = 40  # the bar never rises so high that its length leaves the view


class ScaleBarItem(pg.ScaleBar):
    """A round length (1, 2 or 5 × 10^k, the rule of the exported pictures' bar:
    `scale_bar.choose_scale_bar`) near a fifth of the image's width shown, in the bottom-right
    corner of the image where it shows (not of the view: an image narrower than the view has
    black margins beside it, and the bar ran past the image's edge into them); chosen again as
    the view zooms. Hidden while the image is uncalibrated or out of sight. Over an FEI/Thermo
    image it sits above the microscope's data bar (its own scale bar and text there) whenever
    the data bar shows in the view."""

    def __init__(self) -> None:
        super().__init__(
            size=1.0,
            width=BAR_WIDTH,
            brush="w",
            pen=pg.mkPen("k", width=1),
            suffix="",
            offset=(CORNER_GAP, CORNER_GAP),
        )
        self.calibration = Calibration()
        self.data_bar_top: int | None = None  # the image row where the data bar starts
        self.image_shape: tuple[int, int] | None = None  # (rows, columns) of the image shown
        self.text.setColor("w")
        self.text.fill = pg.mkBrush(0, 0, 0, 170)
        self.setZValue(30)
        self.hide()

    def set_calibration(self, calibration: Calibration) -> None:
        self.calibration = calibration
        self.updateBar()

    def set_data_bar(self, top_row: int | None) -> None:
        self.data_bar_top = top_row
        self.updateBar()

    def set_image_shape(self, shape: tuple[int, int]) -> None:
        self.image_shape = shape
        self.updateBar()

    @property
    def label(self) -> str:
        """The length written above the bar ("" when hidden)."""
        return self.text.toPlainText() if self.isVisible() else ""

    def updateBar(self) -> None:  # noqa: N802 - pyqtgraph API
        view = self.parentItem()
        if not isinstance(view, pg.ViewBox):
            return
        shown = view.viewRect()
        if self.image_shape is not None:
            rows, columns = self.image_shape
            shown = shown.intersected(QRectF(0, 0, columns, rows))
        bar = None
        if shown.width() > 0 and shown.height() > 0:
            bar = choose_scale_bar(self.calibration, int(shown.width()))
        self.setVisible(bar is not None)
        if bar is None:
            return
        self.size = bar.length_px
        self.text.setText(bar.label)
        super().updateBar()
        # the image's bottom-right corner on screen, as an offset from the view's
        a, b = view.mapFromView(shown.topLeft()), view.mapFromView(shown.bottomRight())
        box = view.boundingRect()
        right = min(max(a.x(), b.x()) - box.width(), 0.0)
        bottom = min(max(a.y(), b.y()) - box.height(), 0.0)
        offset = (right + CORNER_GAP, self._lift(view, bottom + CORNER_GAP))
        self.anchor(itemPos=(1, 1), parentPos=(1, 1), offset=offset)

    def _lift(self, view: pg.ViewBox, corner: float) -> float:
        """The bar's offset from the view's bottom edge: `corner` (the image's bottom-right
        corner), or above the data bar when it shows."""
        height = view.boundingRect().height()
        if self.data_bar_top is not None:
            top = view.mapFromView(QPointF(0, self.data_bar_top)).y()  # the data bar's top edge
            corner = min(corner, top - height - BAR_WIDTH - DATA_BAR_GAP)
        return max(corner, TEXT_ROOM - height)


class MicrographCanvas(pg.GraphicsLayoutWidget):
    clicked = Signal(float, float, int)  # x, y in image pixels; label 1 positive / 0 negative
    box_drawn = Signal(tuple)  # (x0, y0, x1, y1)
    brush_stroke = Signal(list, bool)  # [(x, y), ...], erase
    line_dragged = Signal(float, float, float, float, bool)  # x0, y0, x1, y1, finished
    pointer_moved = Signal(float, float)  # x, y in image pixels, no button held (prompt mode)
    pointer_left = Signal()  # left the view, a button went down, or another mode

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.mode = PROMPT
        self.brush_radius = 8.0
        self.view = _PromptViewBox(self)
        self.ci.addItem(self.view, row=0, col=0)
        self.image_item = pg.ImageItem()
        self.objects_item = pg.ImageItem()
        self.candidate_item = pg.ImageItem()
        self.selection_item = pg.ImageItem()
        layers = (self.image_item, self.objects_item, self.candidate_item, self.selection_item)
        for z, item in enumerate(layers):
            item.setZValue(z)
            self.view.addItem(item)
        # the outline of what a click where the pointer rests will take (worked out ahead)
        self.ahead_item = pg.ImageItem()
        self.ahead_item.setZValue(2.5)
        self.view.addItem(self.ahead_item)
        self.preview_item = pg.ImageItem()  # a live result not yet accepted (phases)
        self.preview_item.setZValue(1.5)
        self.view.addItem(self.preview_item)
        self.preview_item.setOpacity(0.5)
        self.examples_item = _Marks(pxMode=True)
        self.examples_item.setZValue(9)
        self.view.addItem(self.examples_item)
        self.objects_item.setOpacity(0.45)
        self.candidate_item.setOpacity(0.55)
        self.points_item = _Marks(pxMode=True)
        self.points_item.setZValue(10)
        self.view.addItem(self.points_item)
        self.box_item = QGraphicsRectItem()
        self.box_item.setPen(pg.mkPen("#ffd400", width=2, cosmetic=True))
        self.box_item.setZValue(11)
        self.box_item.hide()
        self.view.addItem(self.box_item)
        self.brush_item = QGraphicsEllipseItem()
        pen = QPen(QColor("#ffffff"))
        pen.setCosmetic(True)
        self.brush_item.setPen(pen)
        self.brush_item.setZValue(12)
        self.brush_item.hide()
        self.view.addItem(self.brush_item)
        self.scale_bar = ScaleBarItem()
        self.scale_bar.setParentItem(self.view)
        self.view.sigResized.connect(self.scale_bar.updateBar)  # the data bar moves on screen
        self.histogram = pg.HistogramLUTItem(image=self.image_item)
        self.ci.addItem(self.histogram, row=0, col=1)
        self.image_shape: tuple[int, int] | None = None

    # the pointer, for the click worked out ahead ---------------------------------------------------
    # Read from the widget's own events: pyqtgraph's hover events drop moves closer than 10 ms
    # apart, so the place the pointer came to rest on was often not reported.
    def mouseMoveEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().mouseMoveEvent(ev)
        if ev.buttons() != Qt.MouseButton.NoButton:
            self.pointer_left.emit()  # a drag: panning, a box or a stroke
            return
        self._pointer_at(ev.position())

    def wheelEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().wheelEvent(ev)
        self._pointer_at(ev.position())  # the zoom put another pixel under the pointer

    def leaveEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().leaveEvent(ev)
        self.pointer_left.emit()

    def _pointer_at(self, position: QPointF) -> None:
        if self.mode != PROMPT:
            return
        # The same mapping as a click's: the integer viewport point to the scene, then the image
        pos = self.view.mapSceneToView(self.mapToScene(position.toPoint()))
        self.pointer_moved.emit(pos.x(), pos.y())

    # image and overlays ---------------------------------------------------------------------------
    def set_image(self, display: np.ndarray) -> None:
        """Show a display image (uint8, HxW or HxWx3) and fit it in the view."""
        self.image_item.setImage(display, autoLevels=False, levels=(0, 255))
        self.image_shape = display.shape[:2]
        self.scale_bar.set_image_shape(self.image_shape)
        self.objects_item.clear()
        self.candidate_item.clear()
        self.selection_item.clear()
        self.preview_item.clear()
        self.ahead_item.clear()
        self.examples_item.setData([])
        self.clear_prompts()
        self.view.autoRange(padding=0.02)

    def set_calibration(self, calibration: Calibration) -> None:
        """The image's pixel size, for the scale bar."""
        self.scale_bar.set_calibration(calibration)

    def set_data_bar(self, rows: int) -> None:
        """The image's bottom `rows` are a microscope's data bar: the scale bar stays above."""
        shape = self.image_shape
        self.scale_bar.set_data_bar(shape[0] - rows if rows and shape else None)

    def set_objects_overlay(self, rgba: np.ndarray | None) -> None:
        if rgba is None:
            self.objects_item.clear()
        else:
            self.objects_item.setImage(rgba, autoLevels=False, levels=(0, 255))

    def set_candidate(self, rgba_crop: np.ndarray | None, offset: tuple[int, int] = (0, 0)) -> None:
        """Show the current candidate mask; only its bounding box is uploaded (fast clicks)."""
        _place_crop(self.candidate_item, rgba_crop, offset)

    def set_click_ahead(
        self, rgba_crop: np.ndarray | None, offset: tuple[int, int] = (0, 0)
    ) -> None:
        """Outline what a click where the pointer rests will take, or hide it (None)."""
        _place_crop(self.ahead_item, rgba_crop, offset)

    def set_selection(self, rgba_crop: np.ndarray | None, offset: tuple[int, int] = (0, 0)) -> None:
        """Outline the selected objects (a crop around them, like the candidate)."""
        _place_crop(self.selection_item, rgba_crop, offset)

    def set_points(self, points: list[tuple[float, float, int]]) -> None:
        spots = [
            {
                "pos": (x + 0.5, y + 0.5),
                "symbol": "+" if label else "x",
                "size": 16,
                "brush": pg.mkBrush("#2ecc40" if label else "#ff4136"),
                "pen": pg.mkPen("#000000", width=1),
            }
            for x, y, label in points
        ]
        self.points_item.setData(spots)

    def set_preview(self, rgba: np.ndarray | None) -> None:
        if rgba is None:
            self.preview_item.clear()
        else:
            self.preview_item.setImage(rgba, autoLevels=False, levels=(0, 255))

    def set_examples(self, examples: list[tuple[float, float, tuple[int, int, int]]]) -> None:
        """Example points of phases by example, each in its class colour."""
        spots = [
            {
                "pos": (x + 0.5, y + 0.5),
                "size": 10,
                "brush": pg.mkBrush(*colour),
                "pen": pg.mkPen("#000000", width=1.5),
            }
            for x, y, colour in examples
        ]
        self.examples_item.setData(spots)

    def show_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.box_item.setRect(QRectF(QPointF(x0, y0), QPointF(x1, y1)))
        self.box_item.show()

    def clear_prompts(self) -> None:
        self.points_item.setData([])
        self.box_item.hide()
        self.candidate_item.clear()

    def show_brush_cursor(self, x: float, y: float) -> None:
        r = self.brush_radius
        self.brush_item.setRect(QRectF(x - r, y - r, 2 * r, 2 * r))
        self.brush_item.show()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        if mode == PROMPT:
            self.brush_item.hide()

    # coordinates for tests and tools ------------------------------------------------------------
    def scene_pos_of(self, x: float, y: float):
        """Where image point (x, y) is in viewport pixels (QPoint), for clicks in tests."""
        scene = self.view.mapViewToScene(QPointF(x, y))
        return self.mapFromScene(scene)


def _place_crop(item: pg.ImageItem, rgba_crop: np.ndarray | None, offset: tuple[int, int]) -> None:
    """Show an RGBA crop at its (y0, x0) offset in image coordinates, or clear the item."""
    if rgba_crop is None or rgba_crop.size == 0:
        item.clear()
        return
    y0, x0 = offset
    h, w = rgba_crop.shape[:2]
    item.setImage(rgba_crop, autoLevels=False, levels=(0, 255))
    item.setRect(QRectF(x0, y0, w, h))
