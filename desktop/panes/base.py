"""What the main window expects of a pane: a title, the files it opens, and an undo stack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QWidget

from inference.errors import ErrorReport

if TYPE_CHECKING:
    from collections.abc import Callable

    from desktop.workers import JobRunner


class AppContext:
    """Services the main window lends to every pane: the job runner, the error banner and the
    status bar. Built with the window's callbacks (tests pass lists' `append`)."""

    def __init__(
        self,
        jobs: JobRunner,
        show_error: Callable[[ErrorReport], None],
        show_status: Callable[[str], None],
    ) -> None:
        self.jobs = jobs
        self._show_error = show_error
        self.show_status: Callable[[str], None] = show_status

    def show_error(self, problem: ErrorReport | str) -> None:
        """One line in the error banner: a job's `ErrorReport`, or a sentence of the pane's."""
        report = problem if isinstance(problem, ErrorReport) else ErrorReport(problem, "")
        self._show_error(report)


@runtime_checkable
class PredictionTarget(Protocol):
    """A pane that predicts properties of what other panes hand it (the Prediction pane)."""

    def predict_structure_file(self, path: Path, block: str | None = None) -> None: ...

    def predict_formula(self, formula: str) -> None: ...


class Pane(QWidget):
    """Base class: subclasses set `title` and `extensions` and implement `open_path`."""

    title = "Pane"
    extensions: frozenset[str] = frozenset()
    file_filter = ""  # e.g. "Micrographs (*.tif *.png)"
    # True for the pane whose reader tells a format by the file's first bytes (in its open job):
    # the window hands it a file whose name no pane claims (a TIFF saved without extension),
    # as the CLI reads it, and that job says in one line when the file is no image.
    reads_by_content = False

    file_opened = Signal(Path)  # the main window adds it to recent files
    # what Undo would take back before the undo stack changed (`undo_first_text`)
    undo_first_changed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.undo_stack = QUndoStack(self)

    @classmethod
    def can_open(cls, path: Path) -> bool:
        return Path(path).suffix.lower() in cls.extensions

    def open_path(self, path: Path) -> None:
        raise NotImplementedError

    def open_by_content(self, path: Path, refusal: str) -> None:
        """Open a file whose name no pane claims (only a `reads_by_content` pane gets one);
        `refusal` is the window's line for when the file turns out to be none this pane reads."""
        raise NotImplementedError

    def report_error(self, report: ErrorReport) -> None:
        self.context.show_error(report)

    def undo_first_text(self) -> str:
        """What Edit ▸ Undo takes back before the undo stack ("last point" of an object being
        made), or "" when it is the stack's turn."""
        return ""

    def undo_first(self) -> None:
        """Take back what `undo_first_text` names."""

    def warm_up(self) -> None:
        """Start, in the background, what makes the pane's first use fast (a child process,
        imports); the window calls it once, after its first paint. Nothing a person waits on."""

    def models_changed(self) -> None:
        """A model was installed or imported: refresh model choosers."""

    def shutdown(self) -> None:
        """Cancel jobs and flush unsaved state; called when the window closes."""
