"""Undoable edits of an AnnotationSet: each wraps one model operation and its inverse."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from inference.segmentation.annotations import AnnotatedObject, AnnotationSet


class _Edit(QUndoCommand):
    def __init__(self, annotations: AnnotationSet, changed: Callable[[], None], text: str) -> None:
        super().__init__(text)
        self.annotations = annotations
        self.changed = changed


class AddObject(_Edit):
    def __init__(self, annotations, changed, obj: AnnotatedObject, text: str = "") -> None:
        super().__init__(annotations, changed, text or f"Add {obj.class_name} #{obj.id}")
        self.obj = obj

    def redo(self) -> None:
        self.annotations.add(self.obj)
        self.changed()

    def undo(self) -> None:
        self.annotations.remove(self.obj.id)
        self.changed()


class RemoveObject(_Edit):
    def __init__(self, annotations, changed, obj_id: int) -> None:
        super().__init__(annotations, changed, f"Delete #{obj_id}")
        self.obj_id = obj_id
        self.index: int | None = None
        self.obj: AnnotatedObject | None = None

    def redo(self) -> None:
        self.index, self.obj = self.annotations.remove(self.obj_id)
        self.changed()

    def undo(self) -> None:
        self.annotations.add(self.obj, self.index)
        self.changed()


class ReplaceObject(_Edit):
    """Brush, eraser, reclass and show/hide all swap one version of an object for another."""

    def __init__(self, annotations, changed, new: AnnotatedObject, text: str) -> None:
        super().__init__(annotations, changed, text)
        self.new = new
        self.old: AnnotatedObject | None = None

    def redo(self) -> None:
        self.old = self.annotations.replace(self.new)
        self.changed()

    def undo(self) -> None:
        self.annotations.replace(self.old)
        self.changed()


class AddClass(_Edit):
    """A user-defined class; undo removes it again (no object can use it by then)."""

    def __init__(self, annotations, changed, name: str) -> None:
        super().__init__(annotations, changed, f"Add class {name}")
        self.name = name
        self.cls = None

    def redo(self) -> None:
        if self.cls is None:
            self.cls = self.annotations.add_class(self.name)
        else:
            self.annotations.classes.append(self.cls)
        self.changed()

    def undo(self) -> None:
        self.annotations.classes.remove(self.cls)
        self.changed()


class AddObjects(_Edit):
    """Many objects in one step (segment everything, a map, phases): one undo, one refresh."""

    def __init__(self, annotations, changed, objs: list[AnnotatedObject], text: str) -> None:
        super().__init__(annotations, changed, text)
        self.objs = list(objs)

    def redo(self) -> None:
        for obj in self.objs:
            self.annotations.add(obj)
        self.changed()

    def undo(self) -> None:
        for obj in reversed(self.objs):
            self.annotations.remove(obj.id)
        self.changed()
