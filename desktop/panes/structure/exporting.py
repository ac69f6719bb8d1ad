"""The Structures pane's exports: the view as PNG, the XRD peaks as CSV, the structure as a file.

The pane says what it shows now (`ExportSource`); this asks for a file name and writes it in
a worker, one slot per kind, so a CIF and then a POSCAR are both written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop.panes.structure.jobs import save_png
from desktop.workers import JobSlot
from inference.structures.export import EXPORT_FORMATS, ExportFormat, SavedFile, export_structure
from inference.structures.xrd import write_csv

if TYPE_CHECKING:
    from collections.abc import Callable

    from pymatgen.core import Structure

    from desktop.panes.base import AppContext
    from desktop.panes.structure.view import StructureView
    from inference.structures.xrd import XrdPattern

FILTERS = {  # kind: file filter, default suffix after the file's stem
    "png": ("PNG image (*.png)", ".png"),
    "xrd": ("CSV (*.csv)", "_xrd.csv"),
    "cif-symmetrized": ("CIF (*.cif)", ".cif"),
    "cif-p1": ("CIF (*.cif)", "_P1.cif"),
    "poscar": ("VASP POSCAR (*.vasp)", ".vasp"),
    "xyz": ("Extended XYZ (*.xyz)", ".xyz"),
}


@dataclass(frozen=True)
class ExportSource:
    """What the pane shows now; None where it has nothing of that kind yet."""

    stem: str  # the open file's, for the default file name
    structure: Structure | None  # None until the structure is prepared
    pattern: XrdPattern | None
    view: StructureView | None
    tolerance: float  # the symmetry tolerance the Info tab shows
    path: Path | None = None  # the open file, which an export never writes over
    supercell: tuple[int, int, int] = (1, 1, 1)  # the repeats shown, which an export writes


class StructureExports(QObject):
    def __init__(
        self, context: AppContext, source: Callable[[], ExportSource], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.source = source
        self._dialog_parent = parent
        self.slots = {
            kind: JobSlot(context.jobs, parent=self) for kind in ("png", "xrd", *EXPORT_FORMATS)
        }

    def ask(self, kind: str) -> None:
        """Ask where to save, then export."""
        source = self.source()
        if source.structure is None:
            self.context.show_error("Open a structure first.")
            return
        flt, suffix = FILTERS[kind]
        path, _ = QFileDialog.getSaveFileName(
            self._dialog_parent, "Export", source.stem + suffix, flt
        )
        if path:
            self.export(kind, Path(path))

    def export(self, kind: str, path: Path) -> None:
        """Write the view as PNG (grabbed here: it is OpenGL; written in a worker), the XRD
        peaks or the structure (in a worker)."""
        path = Path(path)
        slot = self.slots[kind]
        source = self.source()
        if kind == "png":
            if source.view is None:
                self.context.show_error("Nothing drawn yet to save as a picture.")
                return
            pixels = source.view.grab_pixels(scale=3)
            slot.submit(save_png, pixels, path, **self._callbacks(path, wrap=True))
            return
        if kind == "xrd":
            if source.pattern is None:
                self.context.show_error("No XRD pattern yet.")
                return
            slot.submit(write_csv, source.pattern, path, **self._callbacks(path, wrap=True))
            return
        if source.structure is None:
            self.context.show_error("Open a structure first.")
            return
        fmt: ExportFormat = kind  # type: ignore[assignment] - a key of EXPORT_FORMATS
        slot.submit(
            export_structure,
            source.structure,
            path,
            fmt,
            source.tolerance,
            source.path,
            source.supercell,
            **self._callbacks(path),
        )

    def _callbacks(self, path: Path, wrap: bool = False) -> dict:
        """Keyword arguments of an export job; `wrap`: the job returns a bare path."""
        return {
            "label": f"Saving {path.name}",
            "cancellable": False,
            "on_result": (lambda p: self._exported(SavedFile(p))) if wrap else self._exported,
            "on_error": self.context.show_error,
            "name": "structure export",
        }

    def _exported(self, saved: SavedFile) -> None:
        notice = f" ({saved.notice})" if saved.notice else ""
        self.context.show_status(f"Saved {saved.path}{notice}")
