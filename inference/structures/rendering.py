"""The seam between `matlens structure render` and the VTK renderer that lives in `desktop`.

`inference` never imports VTK or `desktop` (an import-linter contract). The render command is
defined here with its arguments, and the desktop plugs its renderer in at start-up
(`desktop.panes.structure.offscreen.register()`, called by `desktop.launcher`): dependency
inversion, with no import from inference into desktop, static or dynamic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from inference.errors import MatLensError

if TYPE_CHECKING:
    from inference.structures.scene import Scene

Projection = Literal["orthographic", "perspective"]


@dataclass(frozen=True)
class RenderRequest:
    scene: Scene
    out: Path
    size: tuple[int, int] = (1600, 1200)
    view: tuple[float, float, float] | None = None  # look along [uvw]; None: a tilted overview
    projection: Projection = "orthographic"
    labels: bool = False
    background: tuple[float, float, float] = (1.0, 1.0, 1.0)


Renderer = Callable[[RenderRequest], Path]
_renderer: Renderer | None = None


def register_renderer(renderer: Renderer) -> None:
    global _renderer
    _renderer = renderer


def render(request: RenderRequest) -> Path:
    if _renderer is None:
        raise MatLensError(
            "rendering needs the MatLens desktop (VTK): run `matlens structure render` from a "
            "full install (the `matlens` launcher), not `python -m inference.cli`"
        )
    return _renderer(request)
