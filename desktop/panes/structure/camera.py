"""Lights and camera for a structure view: shared by the pane and the offscreen renderer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from inference.structures.views import along
from inference.structures.visibility import Eye

if TYPE_CHECKING:
    from vtkmodules.vtkRenderingCore import vtkRenderer

    from inference.structures.rendering import Projection
    from inference.structures.scene import Scene

# The overview: from the front right and a little above, with the z (c) axis up.
_OVERVIEW_EYE = np.array([0.42, -1.0, 0.38])


def setup_renderer(renderer: vtkRenderer, background=(1.0, 1.0, 1.0)) -> None:
    """White background, VTK's single headlight and FXAA. Each extra light multiplies the
    per-pixel cost of the impostor shaders, which software OpenGL feels (a light kit cost ~30%
    per frame); FXAA smooths edges in one cheap pass instead of multisampling."""
    renderer.SetBackground(*background)
    renderer.UseFXAAOn()


def setup_window(window) -> None:
    """No multisampling, set before the window first renders. VTK asks for 8× MSAA by default,
    which in software OpenGL costs up to 8× per pixel: an empty 1000×800 frame took 61 ms
    with it and 1 ms without (OSMesa, 2 cores)."""
    window.SetMultiSamples(0)


def place_camera(
    renderer: vtkRenderer,
    scene: Scene,
    view: tuple[float, float, float] | None = None,
    projection: Projection = "orthographic",
    margin: float = 1.05,
    keep_orientation: bool = False,
) -> None:
    """Look at the whole scene along [uvw] (or from the overview direction), fitted to the view.
    With `keep_orientation`, only recentre and refit: the way the person turned it stays."""
    camera = renderer.GetActiveCamera()
    if keep_orientation:
        direction = np.subtract(camera.GetFocalPoint(), camera.GetPosition())
        direction /= np.linalg.norm(direction)
        up = np.asarray(camera.GetViewUp(), float)
    elif view is None:
        eye = _OVERVIEW_EYE / np.linalg.norm(_OVERVIEW_EYE)
        direction = -eye
        up = np.array([0.0, 0.0, 1.0])
        up = up - (up @ direction) * direction
        up /= np.linalg.norm(up)
    else:
        v = along(scene.lattice, view)
        direction, up = v.direction, v.up
    bounds = scene.bounds
    center = scene.center if len(scene.atoms) else bounds.mean(axis=0)
    size = float(np.linalg.norm(bounds[1] - bounds[0])) or 10.0
    camera.SetFocalPoint(*center)
    camera.SetPosition(*(center - direction * size * 3))
    camera.SetViewUp(*up)
    camera.SetParallelProjection(projection == "orthographic")
    renderer.ResetCamera(*np.column_stack([bounds[0], bounds[1]]).reshape(-1))
    camera.SetFocalPoint(*center)  # ResetCamera centres on the bounds; keep the cell centred
    _fit(renderer, scene, margin)
    renderer.ResetCameraClippingRange()


def eye_of(renderer: vtkRenderer) -> Eye:
    """Where the renderer's camera is and looks: what decides which atoms are in sight."""
    camera = renderer.GetActiveCamera()
    x, y, z = (float(v) for v in camera.GetPosition())
    fx, fy, fz = (float(v) for v in camera.GetFocalPoint())
    return Eye((x, y, z), (fx - x, fy - y, fz - z), bool(camera.GetParallelProjection()))


def _fit(renderer: vtkRenderer, scene: Scene, margin: float) -> None:
    """Zoom so the projected scene fills the viewport (ResetCamera fits a bounding sphere,
    which leaves a flat cell small)."""
    camera = renderer.GetActiveCamera()
    if not camera.GetParallelProjection():
        return
    points, radii = _extent_points(scene)
    if len(points) == 0:
        return
    focal = np.array(camera.GetFocalPoint())
    up = np.array(camera.GetViewUp())
    forward = focal - np.array(camera.GetPosition())
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    rel = points - focal
    half_h = (np.abs(rel @ up) + radii).max()
    half_w = (np.abs(rel @ right) + radii).max()
    width, height = renderer.GetSize()
    aspect = (width / height) if width and height else 4 / 3
    camera.SetParallelScale(max(half_h, half_w / aspect, 1.0) * margin)


def _extent_points(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """Atom centres with their radii, and cell corners with radius 0."""
    atoms = scene.atoms
    corners = scene.cell_edges.reshape(-1, 3)
    points = np.concatenate([atoms.positions, corners])
    radii = np.concatenate([atoms.radii.astype(float), np.zeros(len(corners))])
    return points, radii
