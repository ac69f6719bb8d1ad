"""The Structures pane's worker jobs: Qt-free functions that its job slots run.

Reading and the symmetry search give a time-out back as a result (`OutOfTime`), not as an
error, so that the pane can offer to run them again with more time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.structures.io import (
    ReadOptions,
    StructureFile,
    TooSlow,
    load_structures,
    start_reader,
)
from inference.structures.isolated import prepare_safely
from inference.structures.xrd import load_calculator

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from inference.structures.analysis import CellVariant
    from inference.structures.model import StructureBlock
    from inference.structures.prepared import PreparedStructure


@dataclass(frozen=True)
class OutOfTime:
    """Reading ran out of time: the message, and the longer limit the person may grant."""

    message: str
    more_time_s: float


def read_file(
    path: Path,
    time_limit_s: float,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> StructureFile | OutOfTime:
    """load_structures, with a time-out as a result: the pane then offers more time."""
    try:
        return load_structures(
            path, ReadOptions(timeout_s=time_limit_s), progress=progress, cancel=cancel
        )
    except TooSlow as exc:
        return OutOfTime(str(exc), exc.more_time_s)


def prepare_block(
    block: StructureBlock,
    variant: CellVariant,
    symprec: float,
    path: Path,
    time_limit_s: float,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PreparedStructure | OutOfTime:
    """prepare_safely, with a time-out (even without the symmetry search) as a result."""
    try:
        return prepare_safely(
            block,
            variant,
            symprec,
            path=path,
            time_limit_s=time_limit_s,
            progress=progress,
            cancel=cancel,
        )
    except TooSlow as exc:
        return OutOfTime(str(exc), exc.more_time_s)


def warm_up_reader(
    *, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
) -> None:
    """The child process and this process's pymatgen (start_reader), then the 3D view's module
    (importing VTK takes a moment the first open would otherwise spend on the GUI thread; an
    import only: the view itself is made on the GUI thread), last the XRD code, which the
    first open needs only after the structure is drawn."""
    import importlib

    start_reader(progress=progress, cancel=cancel)
    importlib.import_module("desktop.panes.structure.view")
    if cancel is not None:
        cancel.raise_if_cancelled()
    load_calculator()


def save_png(pixels: np.ndarray, path: Path) -> Path:
    """Write grabbed RGB pixels (a worker job: the grab itself is OpenGL, on the GUI thread)."""
    import imageio.v3 as iio

    try:
        iio.imwrite(path, pixels, extension=".png")
    except OSError as exc:
        raise MatLensError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
