"""Offscreen rendering of a structure scene to PNG: `matlens structure render` and benchmarks.

`register()` plugs `render_request` into `inference.structures.rendering`, so the CLI command
defined in `inference` can draw without importing VTK. VTK is imported only when a picture is
actually drawn, which keeps `matlens structure info` fast.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from pathlib import Path

import numpy as np

from inference.errors import MatLensError
from inference.structures.rendering import RenderRequest, register_renderer


def register() -> None:
    """Make `matlens structure render` use this renderer (called by desktop.launcher)."""
    register_renderer(render_request)


def choose_opengl_window() -> None:
    """Without a display on Linux, VTK must render through OSMesa (with EGL it renders blank
    images, and X without a display segfaults). Set before the first render window is created."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        if ctypes.util.find_library("OSMesa"):
            os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")


def write_png(render_window, path: str | Path, scale: int = 1) -> Path:
    """Save what the window shows (widget.grab() cannot see VTK's OpenGL surface)."""
    from vtkmodules.vtkIOImage import vtkPNGWriter
    from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

    path = Path(path)
    grabber = vtkWindowToImageFilter()
    grabber.SetInput(render_window)
    grabber.SetScale(max(1, int(scale)))
    grabber.SetInputBufferTypeToRGB()
    grabber.ReadFrontBufferOff()
    grabber.Update()
    writer = vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputConnection(grabber.GetOutputPort())
    writer.Write()
    if not path.exists():
        raise MatLensError(f"could not write {path}")
    return path


def grab_rgb(render_window, scale: int = 1) -> np.ndarray:
    """What the window shows, as (height, width, 3) uint8 rows from the top: OpenGL, so on the
    thread that owns the window; writing the pixels to a file can then go to a worker."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

    grabber = vtkWindowToImageFilter()
    grabber.SetInput(render_window)
    grabber.SetScale(max(1, int(scale)))
    grabber.SetInputBufferTypeToRGB()
    grabber.ReadFrontBufferOff()
    grabber.Update()
    image = grabber.GetOutput()
    width, height, _ = image.GetDimensions()
    pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(height, width, -1)
    return np.ascontiguousarray(pixels[::-1, :, :3])  # VTK's first row is the bottom one


def render_request(request: RenderRequest) -> Path:
    choose_opengl_window()
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401 - registers the OpenGL back end
    from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow

    from desktop.panes.structure.actors import SceneProps
    from desktop.panes.structure.camera import eye_of, place_camera, setup_renderer, setup_window

    out = Path(request.out)
    if out.parent and not out.parent.exists():
        raise MatLensError(f"folder not found: {out.parent}")
    renderer = vtkRenderer()
    setup_renderer(renderer, request.background)
    window = vtkRenderWindow()
    window.SetOffScreenRendering(1)
    setup_window(window)
    window.SetSize(*request.size)
    window.AddRenderer(renderer)
    props = SceneProps(request.scene, labels=request.labels)
    for prop in props.props:
        renderer.AddViewProp(prop)
    place_camera(renderer, request.scene, request.view, request.projection)
    camera = renderer.GetActiveCamera()
    props.face_wedges(np.subtract(camera.GetPosition(), camera.GetFocalPoint()))
    props.label_atoms_in_sight(eye_of(renderer))
    try:
        window.Render()
        return write_png(window, out)
    finally:
        window.Finalize()
