"""Undoable edits of the micrograph workbench: each wraps one model operation and its inverse.

The workbench emits its events after each operation, so views redraw on redo and undo alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.imaging.calibration import Calibration
    from inference.segmentation.annotations import AnnotatedObject, ObjectClass
    from inference.segmentation.merging import MergeResult
    from inference.segmentation.saved_examples import SavedExample
    from inference.segmentation.workbench import MicrographWorkbench


class AddObjects(QUndoCommand):
    """One or many objects in one step (a click, segment everything, a map, phases)."""

    def __init__(
        self, workbench: MicrographWorkbench, objects: Sequence[AnnotatedObject], text: str
    ) -> None:
        super().__init__(text)
        self.workbench = workbench
        self.objects = list(objects)

    def redo(self) -> None:
        self.workbench.add_objects(self.objects)

    def undo(self) -> None:
        self.workbench.remove_objects([o.id for o in self.objects])


class MergeObjects(QUndoCommand):
    """An automatic result joined to the objects (`merging.MergeResult`): the objects it
    replaces go and the new ones come, in one step; undo puts the old ones back in place."""

    def __init__(self, workbench: MicrographWorkbench, merge: MergeResult, text: str) -> None:
        super().__init__(text)
        self.workbench = workbench
        self.merge = merge
        self.removed: tuple[tuple[int, AnnotatedObject], ...] = ()

    def redo(self) -> None:
        removed = [o.id for o in self.merge.removed]
        self.removed = self.workbench.exchange_objects(removed, self.merge.added)

    def undo(self) -> None:
        added = [o.id for o in self.merge.added]
        self.workbench.exchange_objects(added, restore=self.removed)


class KeepPhaseExamples(QUndoCommand):
    """The examples a phase map was applied with, saved with the annotations."""

    def __init__(self, workbench: MicrographWorkbench, examples: Sequence[SavedExample]) -> None:
        super().__init__("Keep phase examples")
        self.workbench = workbench
        self.examples = tuple(examples)
        self.before: tuple[SavedExample, ...] = ()

    def redo(self) -> None:
        self.before = self.workbench.keep_phase_examples(self.examples)

    def undo(self) -> None:
        self.workbench.keep_phase_examples(self.before)


class ChangeExamples(QUndoCommand):
    """A stroke of phase examples, or Clear: an undo step like any edit (Ctrl+Z after painting
    removed the object accepted before, and Clear could not be taken back). The examples are
    saved with the annotations as they change."""

    def __init__(
        self,
        workbench: MicrographWorkbench,
        before: dict[str, list[tuple[float, float]]],
        after: dict[str, list[tuple[float, float]]],
        text: str,
    ) -> None:
        super().__init__(text)
        self.workbench = workbench
        self.before, self.after = before, after
        self._done = True  # pushed after the stroke was painted: the first redo only saves

    def _show(self, examples: dict[str, list[tuple[float, float]]]) -> None:
        self.workbench.set_examples(examples)

    def redo(self) -> None:
        if not self._done:
            self._show(self.after)
        self._done = False
        self.workbench.keep_phase_examples(self.workbench.examples_to_keep())

    def undo(self) -> None:
        self._show(self.before)
        self.workbench.keep_phase_examples(self.workbench.examples_to_keep())


class RemoveObject(QUndoCommand):
    def __init__(self, workbench: MicrographWorkbench, obj_id: int) -> None:
        super().__init__(f"Delete #{obj_id}")
        self.workbench = workbench
        self.obj_id = obj_id
        self.index = 0
        self.obj: AnnotatedObject | None = None

    def redo(self) -> None:
        self.index, self.obj = self.workbench.remove_object(self.obj_id)

    def undo(self) -> None:
        if self.obj is not None:
            self.workbench.add_objects([self.obj], self.index)


class ReplaceObject(QUndoCommand):
    """Brush, eraser, reclass and show/hide all swap one version of an object for another."""

    def __init__(self, workbench: MicrographWorkbench, new: AnnotatedObject, text: str) -> None:
        super().__init__(text)
        self.workbench = workbench
        self.new = new
        self.old: AnnotatedObject | None = None

    def redo(self) -> None:
        self.old = self.workbench.replace_object(self.new)

    def undo(self) -> None:
        if self.old is not None:
            self.workbench.replace_object(self.old)


class AddClass(QUndoCommand):
    """A user-defined class; undo removes it again (no object can use it by then)."""

    def __init__(self, workbench: MicrographWorkbench, name: str) -> None:
        super().__init__(f"Add class {name}")
        self.workbench = workbench
        self.name = name
        self.cls: ObjectClass | None = None

    def redo(self) -> None:
        self.cls = self.workbench.add_class(self.name, self.cls)

    def undo(self) -> None:
        if self.cls is not None:
            self.workbench.remove_class(self.cls)


class RenameClass(QUndoCommand):
    """A class renamed, its objects and examples with it; undo gives the old name back."""

    def __init__(self, workbench: MicrographWorkbench, old: str, new: str) -> None:
        super().__init__(f"Rename class {old} to {new}")
        self.workbench = workbench
        self.old, self.new = old, new

    def redo(self) -> None:
        self.workbench.rename_class(self.old, self.new)

    def undo(self) -> None:
        self.workbench.rename_class(self.new, self.old)


class RemoveClass(QUndoCommand):
    """A class no object uses removed; undo puts it back where it was."""

    def __init__(self, workbench: MicrographWorkbench, cls: ObjectClass, index: int) -> None:
        super().__init__(f"Remove class {cls.name}")
        self.workbench = workbench
        self.cls, self.index = cls, index

    def redo(self) -> None:
        self.workbench.remove_class(self.cls)

    def undo(self) -> None:
        self.workbench.add_class(self.cls.name, self.cls, self.index)


class SetCalibration(QUndoCommand):
    """Swap the annotations' calibration; undo restores the previous one exactly."""

    def __init__(self, workbench: MicrographWorkbench, calibration: Calibration, text: str) -> None:
        super().__init__(text)
        self.workbench = workbench
        self.new = calibration
        self.old: Calibration | None = None

    def redo(self) -> None:
        self.old = self.workbench.set_calibration(self.new)

    def undo(self) -> None:
        if self.old is not None:
            self.workbench.set_calibration(self.old)
