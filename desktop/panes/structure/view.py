"""The 3D view: a QVTKRenderWindowInteractor that draws a `Scene` and reports clicked atoms.

Clicks are picked by a ray–sphere test in numpy (`inference.structures.picking`), which is exact
for impostor spheres and works the same offscreen. They are caught as Qt mouse events on the VTK
widget, not as VTK observers: the trackball style grabs VTK's event focus on a press, so an
interactor observer never hears the release (picking did nothing under a real mouse). Heavy scenes hide bonds and polyhedra while
rotating (level of detail), anti-aliasing (FXAA) is off while the view moves, and the pies of
partly occupied sites turn to the camera afterwards. Before every frame, labels go to the atoms
in sight only (`inference.structures.visibility`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import vtkmodules.qt
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

# The Qt binding must be chosen before the VTK widget is imported.
vtkmodules.qt.PyQtImpl = "PySide6"
import vtkmodules.vtkRenderingOpenGL2  # noqa: E402 - registers the OpenGL back end
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor  # noqa: E402
from vtkmodules.vtkCommonCore import vtkCommand  # noqa: E402
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera  # noqa: E402
from vtkmodules.vtkRenderingCore import vtkRenderer  # noqa: E402

from desktop.panes.structure.actors import SceneProps, highlight_props  # noqa: E402
from desktop.panes.structure.camera import (  # noqa: E402
    eye_of,
    place_camera,
    setup_renderer,
    setup_window,
)
from desktop.panes.structure.offscreen import grab_rgb  # noqa: E402
from inference.structures.picking import pick_atom  # noqa: E402

if TYPE_CHECKING:
    from inference.structures.rendering import Projection
    from inference.structures.scene import Scene

CLICK_SLOP = 4  # pixels the mouse may move between press and release for a click


class StructureView(QWidget):
    atom_clicked = Signal(int, bool)  # atom index (-1: empty space), add to the selection

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vtk_widget = QVTKRenderWindowInteractor(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.vtk_widget)
        self.renderer = vtkRenderer()
        setup_renderer(self.renderer)
        self.render_window = self.vtk_widget.GetRenderWindow()
        setup_window(self.render_window)
        self.render_window.AddRenderer(self.renderer)
        self.interactor = self.render_window.GetInteractor()
        self.trackball = vtkInteractorStyleTrackballCamera()
        self.interactor.SetInteractorStyle(self.trackball)
        self.scene: Scene | None = None
        self.props: SceneProps | None = None
        self._highlight: list = []
        self._press: QPointF | None = None
        self.projection: Projection = "orthographic"
        self.view_direction: tuple[float, float, float] | None = None
        self._finalized = False
        # The style announces rotations itself (the interactor does not): level of detail.
        self.trackball.AddObserver(vtkCommand.StartInteractionEvent, self._on_start_interaction)
        self.trackball.AddObserver(vtkCommand.EndInteractionEvent, self._on_end_interaction)
        # Before every frame (a turn, a zoom, a new direction): label only the atoms in sight.
        self.renderer.AddObserver(vtkCommand.StartEvent, self._label_atoms_in_sight)
        self.vtk_widget.installEventFilter(self)
        self.interactor.Initialize()
        app = QApplication.instance()
        if app is not None:  # a window closed without shutdown() still releases OpenGL first
            app.aboutToQuit.connect(self.finalize)

    # scene -------------------------------------------------------------------------------------
    def set_scene(self, scene: Scene | None, camera: str = "reset", labels: bool = False):
        """Draw `scene`. camera: "reset" (default direction, framed), "refit" (keep the
        direction, frame the new scene: a bigger supercell) or "keep" (a style change)."""
        for prop in self._all_props():
            self.renderer.RemoveViewProp(prop)
        self._highlight = []
        self.scene = scene
        self.props = SceneProps(scene, labels=labels) if scene is not None else None
        if self.props is not None and scene is not None:
            for prop in self.props.props:
                self.renderer.AddViewProp(prop)
            if camera != "keep":
                place_camera(
                    self.renderer,
                    scene,
                    self.view_direction,
                    self.projection,
                    keep_orientation=camera == "refit",
                )
            self._face_wedges()
        self.redraw()
        return self.props.notices if self.props else []

    def _all_props(self) -> list:
        return [*(self.props.props if self.props else []), *self._highlight]

    def set_labels(self, visible: bool) -> list[str]:
        if self.props is None:
            return []
        before = len(self.props.notices)
        self.props.set_labels(visible)
        if self.props.labels is not None and not self.renderer.HasViewProp(self.props.labels):
            self.renderer.AddViewProp(self.props.labels)
        self.redraw()
        return self.props.notices[before:]

    def set_highlight(self, picked: list[int]) -> None:
        for prop in self._highlight:
            self.renderer.RemoveViewProp(prop)
        self._highlight = highlight_props(self.scene, picked) if self.scene is not None else []
        for prop in self._highlight:
            self.renderer.AddViewProp(prop)
        self.redraw()

    # camera ------------------------------------------------------------------------------------
    def set_projection(self, projection: Projection) -> None:
        self.projection = projection
        self.reset_view(self.view_direction)

    def reset_view(self, direction: tuple[float, float, float] | None = None) -> None:
        """Look along [uvw] (None: the default overview), fitted to the scene."""
        self.view_direction = direction
        if self.scene is not None:
            place_camera(self.renderer, self.scene, direction, self.projection)
            self._face_wedges()
        self.redraw()

    def redraw(self) -> None:
        if not self._finalized:
            self.render_window.Render()

    # picking -----------------------------------------------------------------------------------
    def pick_at(self, x: float, y: float) -> int | None:
        """The atom under display pixel (x, y), VTK convention (origin bottom left)."""
        if self.scene is None or len(self.scene.atoms) == 0:
            return None
        near = self._world(x, y, 0.0)
        far = self._world(x, y, 1.0)
        atoms = self.scene.atoms
        return pick_atom(near, far - near, atoms.positions, atoms.radii)

    def _world(self, x: float, y: float, depth: float) -> np.ndarray:
        self.renderer.SetDisplayPoint(x, y, depth)
        self.renderer.DisplayToWorld()
        point = np.array(self.renderer.GetWorldPoint(), float)
        return point[:3] / (point[3] if point[3] else 1.0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """A left click (press and release within CLICK_SLOP pixels) on the VTK widget picks;
        the events still go on to VTK, which rotates on a drag."""
        left = isinstance(event, QMouseEvent) and event.button() == Qt.MouseButton.LeftButton
        if watched is self.vtk_widget and left:
            assert isinstance(event, QMouseEvent)
            if event.type() == QEvent.Type.MouseButtonPress:
                self._press = event.position()
            elif event.type() == QEvent.Type.MouseButtonRelease:
                self._released(event)
        return super().eventFilter(watched, event)

    def _released(self, event: QMouseEvent) -> None:
        start, self._press = self._press, None
        end = event.position()
        if start is None or (end - start).manhattanLength() > CLICK_SLOP:
            return
        x, y = self.display_point(end)
        index = self.pick_at(x, y)
        modifiers = event.modifiers()
        add = bool(
            modifiers & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)
        )
        self.atom_clicked.emit(-1 if index is None else index, add)

    def display_point(self, position: QPointF) -> tuple[float, float]:
        """Widget coordinates (origin top left, logical pixels) to VTK display pixels (origin
        bottom left), as QVTKRenderWindowInteractor converts its own events."""
        ratio = self.vtk_widget.devicePixelRatioF()
        return (
            position.x() * ratio,
            (self.vtk_widget.height() - position.y() - 1) * ratio,
        )

    def widget_point(self, x: float, y: float) -> QPointF:
        """VTK display pixels to widget coordinates: where a person clicks to hit (x, y)."""
        ratio = self.vtk_widget.devicePixelRatioF()
        return QPointF(x / ratio, self.vtk_widget.height() - 1 - y / ratio)

    def project(self, point) -> tuple[float, float]:
        """A world point (Å) to VTK display pixels."""
        x, y, z = (float(v) for v in point)
        self.renderer.SetWorldPoint(x, y, z, 1.0)
        self.renderer.WorldToDisplay()
        x, y, _ = self.renderer.GetDisplayPoint()
        return float(x), float(y)

    # level of detail ---------------------------------------------------------------------------
    def _on_start_interaction(self, *_args) -> None:
        # FXAA costs software OpenGL ~50 ms a frame at 1000×800: smooth edges only when still.
        self.renderer.UseFXAAOff()
        if self.props is not None and self.props.heavy:
            self.props.set_detail(False)

    def _on_end_interaction(self, *_args) -> None:
        self.renderer.UseFXAAOn()
        if self.props is not None:
            self.props.set_detail(True)
            self._face_wedges()
            self.redraw()

    def _label_atoms_in_sight(self, *_args) -> None:
        if self.props is not None:
            self.props.label_atoms_in_sight(eye_of(self.renderer))

    def _face_wedges(self) -> None:
        if self.props is not None and self.props.has_wedges:
            camera = self.renderer.GetActiveCamera()
            self.props.face_wedges(np.subtract(camera.GetPosition(), camera.GetFocalPoint()))

    # output and clean-up -----------------------------------------------------------------------
    def grab_pixels(self, scale: int = 2) -> np.ndarray:
        """The current view at `scale` times the window size, as RGB rows from the top
        (vtkWindowToImageFilter); labels grow with it so they stay readable."""
        if self.props is not None:
            self.props.scale_labels(scale)
        try:
            self.redraw()
            return grab_rgb(self.render_window, scale=scale)
        finally:
            if self.props is not None:
                self.props.scale_labels(1)
                self.redraw()

    def finalize(self) -> None:
        """Release the OpenGL context before Qt destroys the widget (avoids crashes at exit)."""
        if self._finalized:
            return
        self._finalized = True
        for prop in self._all_props():
            self.renderer.RemoveViewProp(prop)
        self.props = None
        self.vtk_widget.Finalize()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.finalize()
        super().closeEvent(event)
