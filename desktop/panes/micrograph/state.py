"""The Micrographs pane's state: Qt signals over the Qt-free `MicrographWorkbench`.

As a napari layer's Qt controls follow the layer, the pane and its panels follow this object:
they read the workbench (`state.workbench`), change it through the methods here (every edit is
an undo command), and redraw on the signals. It also owns the work of the image as a whole:
opening, the click session (embedding), autosave and exports, each in a `JobSlot`. Panels make
their own slots with `new_slot`, and opening another image discards them all.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

import shiboken6
from PySide6.QtCore import SIGNAL, QObject, Signal

from desktop.panes.micrograph.commands import (
    AddClass,
    AddObjects,
    ChangeExamples,
    KeepPhaseExamples,
    MergeObjects,
    RemoveClass,
    RemoveObject,
    RenameClass,
    ReplaceObject,
    SetCalibration,
)
from desktop.panes.micrograph.modes import EXAMPLES, PROMPT
from desktop.workers import JobSlot
from inference.segmentation.merging import duplicate_note
from inference.segmentation.workbench import DEFAULT_CLASS, MicrographWorkbench, renamed, shown
from inference.segmentation.workflows import (
    EXPORT_KINDS,
    ExportKind,
    FoundObjects,
    LoadedImage,
    SidecarSaver,
    embed_for_clicks,
    export_annotations,
    load_image,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from PySide6.QtGui import QUndoCommand, QUndoStack

    from desktop.panes.base import AppContext
    from inference.errors import ErrorReport
    from inference.imaging.calibration import Calibration
    from inference.segmentation.annotations import AnnotatedObject
    from inference.segmentation.merging import MergeResult

SAVE_WAIT_MS = 10_000  # closing waits this long at most for the last autosave


class MicrographState(QObject):
    image_opened = Signal(object)  # LoadedImage
    ready_changed = Signal(bool)  # clicks are answered (the click session is there)
    prompts_changed = Signal()  # points or box of the object being made
    candidates_changed = Signal()  # SAM's answers for them, or the one shown
    objects_changed = Signal()
    classes_changed = Signal()
    calibration_changed = Signal()
    examples_changed = Signal()  # phase examples
    phase_preview_changed = Signal(object)  # PhasePreview | None
    mode_changed = Signal(str)  # modes.PROMPT, BRUSH, ...
    current_class_changed = Signal(str)  # the class the next object gets
    selection_changed = Signal()  # the objects selected in the list

    def __init__(self, context: AppContext, undo_stack: QUndoStack, parent: QObject) -> None:
        super().__init__(parent)
        self.context = context
        self.undo_stack = undo_stack
        self.workbench = MicrographWorkbench()
        self.mode = PROMPT
        self.current_class = DEFAULT_CLASS
        self.selected_ids: tuple[int, ...] = ()
        self._discard_on_open: list[JobSlot] = []
        self._all_slots: list[JobSlot] = []
        self.destroyed.connect(partial(_cut_off, self._all_slots, self._discard_on_open))
        self.load_slot = self.new_slot()
        self.embed_slot = self.new_slot()
        self.export_slots = {  # one per kind, not discarded: a started export is finished
            kind: self.lasting_slot() for kind in EXPORT_KINDS
        }
        self._saver: SidecarSaver | None = None
        self._save_slot: JobSlot | None = None
        # why the image has no click session (the model could not be loaded, ...), so that a
        # click says so after the banner is gone instead of waiting for a session never coming
        self.clicks_off = ""
        # its preparation was cancelled: the next click prepares it again (nothing would else)
        self.preparation_cancelled = False
        self._leaving: list[tuple[SidecarSaver, JobSlot]] = []  # images with saves running
        events = self.workbench.events
        events.image.connect(self.image_opened.emit)
        events.clicks.connect(self.ready_changed.emit)
        events.prompts.connect(self.prompts_changed.emit)
        events.candidates.connect(self.candidates_changed.emit)
        events.objects.connect(self.objects_changed.emit)
        events.classes.connect(self.classes_changed.emit)
        events.calibration.connect(self.calibration_changed.emit)
        events.examples.connect(self.examples_changed.emit)
        events.phase_preview.connect(self.phase_preview_changed.emit)
        undo_stack.indexChanged.connect(self._after_edit)

    # --- what panels read -------------------------------------------------------------------------
    @property
    def image(self) -> LoadedImage | None:
        return self.workbench.image

    def new_slot(self, queue_latest: bool = False, background: bool = False) -> JobSlot:
        """A job slot for this image's work: opening another image discards it."""
        slot = self.lasting_slot(queue_latest, background)
        self._discard_on_open.append(slot)
        return slot

    def lasting_slot(self, queue_latest: bool = False, background: bool = False) -> JobSlot:
        """A job slot that outlives the pane (a child of the job runner), so a job that ends
        after the pane is gone finds it; the pane's end cuts it off from the widgets.
        `background`: work that runs for minutes (JobSlot)."""
        slot = JobSlot(self.context.jobs, queue_latest=queue_latest, background=background)
        self._all_slots.append(slot)
        return slot

    def report_error(self, report: ErrorReport | str) -> None:
        show_error = cast("Callable[[ErrorReport | str], None]", self.context.show_error)
        show_error(report)  # AppContext types its callbacks as `object`

    def show_status(self, text: str) -> None:
        cast("Callable[[str], None]", self.context.show_status)(text)

    def has_image(self) -> bool:
        """True with an image open; else says so in one line."""
        if self.workbench.image is None:
            self.report_error("Open a micrograph first.")
            return False
        return True

    # --- opening and the click session -------------------------------------------------------------
    def open_path(self, path: Path, frame: int = 0, *, refusal: str = "") -> None:
        """Read the image in the load job (sniffing its format there, off the GUI thread);
        `refusal` replaces the reader's line when the file is no image (see load_image)."""
        self.load_slot.submit(
            load_image,
            Path(path),
            frame,
            refusal=refusal,
            label=f"Opening {Path(path).name}…",
            on_result=self._loaded,
            on_error=self.report_error,
            name="open micrograph",
        )

    def _loaded(self, loaded: LoadedImage) -> None:
        for slot in self._discard_on_open:
            if slot is not self.load_slot:
                slot.discard()
        self._keep_saving()
        self._saver = SidecarSaver(loaded.sidecar_key)
        self._save_slot = self.lasting_slot(queue_latest=True)
        self.selected_ids = ()
        self.workbench.open(loaded)
        self.undo_stack.clear()
        if loaded.notice:
            self.report_error(loaded.notice)
        self.embed()

    def embed(self) -> None:
        """Make the click session of the image (tiled above 2048 px), cancellable."""
        image = self.workbench.image
        if image is None:
            return
        self.clicks_off = ""
        self.preparation_cancelled = False
        # not the last image's "Ready: click on an object" while this one is prepared
        self.show_status("Preparing the image for segmentation…")
        self.embed_slot.submit(
            embed_for_clicks,
            self.workbench.model,
            image.rgb,
            label="Preparing the image for segmentation…",
            on_result=self._embedded,
            on_error=self._embedding_failed,
            on_cancelled=self._embedding_cancelled,
            name="image embedding",
            data_bar_rows=image.micrograph.data_bar_rows,
        )

    def _embedding_cancelled(self) -> None:
        self.preparation_cancelled = True
        self.show_status("Preparing the image cancelled: a click on it starts it again")

    def _embedding_failed(self, report: ErrorReport) -> None:
        self.clicks_off = report.message
        self.report_error(report)

    def _embedded(self, clicks) -> None:
        self.workbench.set_clicks(clicks)
        self.show_status(f"Ready: click on an object ({clicks.model.device.label})")

    def set_model(self, model_id: str) -> None:
        if model_id != self.workbench.model_id:
            self.workbench.set_model(model_id)
            self.embed()

    # --- choices of the user -----------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode == EXAMPLES and not self.has_image():
            mode = PROMPT
        self.mode = mode
        if mode != PROMPT:
            self.workbench.clear_prompts()
        self.mode_changed.emit(mode)

    def set_current_class(self, name: str) -> None:
        if name and name != self.current_class:
            self.current_class = name
            self.current_class_changed.emit(name)

    def select(self, ids: Sequence[int]) -> None:
        self.selected_ids = tuple(ids)
        self.selection_changed.emit()

    def selected_objects(self) -> list[AnnotatedObject]:
        annotations = self.workbench.annotations
        if annotations is None:
            return []
        present = {o.id for o in annotations.objects}
        return [annotations.get(i) for i in self.selected_ids if i in present]

    # --- edits: each is one undo step -------------------------------------------------------------
    def push(self, command: QUndoCommand) -> None:
        self.undo_stack.push(command)

    def when_merged(
        self, slot: JobSlot, found: FoundObjects, apply: Callable[[FoundObjects], None]
    ) -> None:
        """Hand an automatic result merged in a worker to `apply` once its merge holds for the
        objects as they are now; when the user edited meanwhile, it is merged again (in
        `slot`) first."""
        annotations = self.workbench.annotations
        if annotations is None:
            return
        if found.merged.holds_for(annotations):
            apply(found)
            return
        slot.submit(
            found.merged_again,
            annotations.copy(),
            label="Leaving out objects already there…",
            on_result=lambda again: self.when_merged(slot, again, apply),
            on_error=self.report_error,
            name="merge again",
        )

    def apply_merge(self, merge: MergeResult, text: str) -> bool:
        """Automatic objects joined to the annotations (`merging`) as one undo step; the status
        bar says what happened. False (and nothing pushed) when nothing changes."""
        if self.workbench.annotations is None:
            return False
        if not (merge.added or merge.removed):
            found = merge.dropped + len(merge.added)
            self.show_status(
                f"{text}: all {found} objects were already there"
                if found
                else "No objects found with these settings."
            )
            return False
        self.push(MergeObjects(self.workbench, merge, text))
        self.show_status(f"{text}: {merge.message} (Ctrl+Z to undo)")
        return True

    def keep_phase_examples(self) -> None:
        """The examples painted now are saved with the annotations (undoable)."""
        if self.workbench.annotations is not None:
            self.push(KeepPhaseExamples(self.workbench, self.workbench.examples_to_keep()))

    def accept_candidate(self) -> bool:
        """The candidate on screen becomes an object of the current class."""
        obj = self.workbench.candidate_object(self.current_class)
        if obj is None:
            empty = self.workbench.candidate is not None
            self.show_status(
                "Nothing to accept: the mask on screen is empty; click on the object itself."
                if empty
                else "Nothing to accept: click on an object first."
            )
            return False
        self.push(AddObjects(self.workbench, [obj], f"Add {obj.class_name} #{obj.id}"))
        self.workbench.clear_prompts()
        annotations = self.workbench.annotations
        note = duplicate_note(annotations, obj) if annotations is not None else None
        if note:
            self.show_status(note)
        return True

    def delete_selected(self) -> None:
        ids = [o.id for o in self.selected_objects()]
        if not ids:  # the button or key did nothing without a word
            self.show_status("Nothing selected: choose objects in the list first.")
        if ids:
            self.undo_stack.beginMacro(f"Delete {len(ids)} object(s)")
            for obj_id in ids:
                self.push(RemoveObject(self.workbench, obj_id))
            self.undo_stack.endMacro()

    def reclass_selected(self) -> None:
        objects, name = self.selected_objects(), self.current_class
        if not objects:
            self.show_status("Nothing selected: choose objects in the list first.")
        if objects:
            self.undo_stack.beginMacro(f"Set class {name}")
            for obj in objects:
                self.push(ReplaceObject(self.workbench, renamed(obj, name), f"Reclass #{obj.id}"))
            self.undo_stack.endMacro()

    def set_visible(self, obj_id: int, visible: bool) -> None:
        annotations = self.workbench.annotations
        if annotations is not None and annotations.get(obj_id).visible != visible:
            text = f"{'Show' if visible else 'Hide'} #{obj_id}"
            self.push(ReplaceObject(self.workbench, shown(annotations.get(obj_id), visible), text))

    def add_class(self, name: str) -> bool:
        """A new class, chosen as the current one; one line when the name is empty or taken."""
        annotations = self.workbench.annotations
        name = name.strip()
        if annotations is None:
            return False
        if not name or any(c.name == name for c in annotations.classes):
            self.report_error(f"A class needs a new, non-empty name ('{name}' is taken or empty).")
            return False
        self.push(AddClass(self.workbench, name))
        self.set_current_class(name)
        return True

    def rename_class(self, old: str, new: str) -> bool:
        """Rename a class (its objects and examples follow, one undo step); one line when the
        new name is empty or taken."""
        annotations = self.workbench.annotations
        new = new.strip()
        if annotations is None or new == old:
            return False
        if not new or any(c.name == new for c in annotations.classes):
            self.report_error(f"A class needs a new, non-empty name ('{new}' is taken or empty).")
            return False
        if self.current_class == old:  # first: the class list redrawn keeps it chosen
            self.current_class = new
        self.push(RenameClass(self.workbench, old, new))
        self.current_class_changed.emit(self.current_class)
        return True

    def remove_class(self, name: str) -> bool:
        """Remove a class no object and no example uses (one undo step); else one line why."""
        annotations = self.workbench.annotations
        if annotations is None:
            return False
        used = sum(1 for o in annotations.objects if o.class_name == name)
        if used or name in self.workbench.examples:
            what = f"{used} object(s)" if used else "phase examples"
            self.report_error(f"Class {name} has {what}: give them another class first.")
            return False
        if len(annotations.classes) == 1:
            self.report_error("The last class stays: objects need one.")
            return False
        index = next(i for i, c in enumerate(annotations.classes) if c.name == name)
        self.push(RemoveClass(self.workbench, annotations.classes[index], index))
        if self.current_class == name:
            self.set_current_class(annotations.classes[0].name)
        return True

    def ensure_classes(self, names: Sequence[str]) -> None:
        """Add the classes among `names` the image does not have yet (inside a macro)."""
        annotations = self.workbench.annotations
        known = {c.name for c in annotations.classes} if annotations is not None else set()
        for name in dict.fromkeys(names):
            if name not in known:
                self.push(AddClass(self.workbench, name))

    def set_calibration(self, calibration: Calibration, text: str = "Set calibration") -> None:
        """Undoable; the object list, measurements and exports use it from now on."""
        if self.workbench.annotations is not None:
            self.push(SetCalibration(self.workbench, calibration, text))

    def stroke(self, path: list, erase: bool, radius: float) -> None:
        """Brush or eraser on the selected object, else the one under the stroke (or a new one)."""
        if self.workbench.annotations is None:
            return
        selected = self.selected_objects()
        target = selected[0] if selected else None
        edit = self.workbench.stroke(path, erase, radius, target, self.current_class)
        if edit.obj is None or edit.kind == "none":
            return
        if edit.kind == "add":
            self.push(AddObjects(self.workbench, [edit.obj], "Brush new object"))
        elif edit.kind == "remove":
            self.push(RemoveObject(self.workbench, edit.obj.id))
        else:
            text = f"{'Erase' if erase else 'Brush'} #{edit.obj.id}"
            self.push(ReplaceObject(self.workbench, edit.obj, text))

    def paint_examples(self, path: list, erase: bool, radius: float) -> None:
        """A stroke of examples of the current class (or the eraser's): one undo step, saved
        with the image at once (the examples are the person's work: opening another image
        does not lose them)."""
        if self.workbench.annotations is None:
            return
        before = self._examples_now()
        self.workbench.paint_examples(self.current_class, path, erase, radius)
        after = self._examples_now()
        if after != before:
            text = "Erase examples" if erase else f"Examples of {self.current_class}"
            self.push(ChangeExamples(self.workbench, before, after, text))

    def clear_examples(self) -> None:
        if self.workbench.annotations is None or not self.workbench.examples:
            return
        before = self._examples_now()
        self.workbench.clear_examples()
        self.push(ChangeExamples(self.workbench, before, {}, "Clear examples"))

    def _examples_now(self) -> dict[str, list[tuple[float, float]]]:
        return {k: list(v) for k, v in self.workbench.examples.items()}

    # --- saving and exporting ---------------------------------------------------------------------
    def _after_edit(self, _index: int) -> None:
        """Every edit is saved at once, in a worker; saves queue, each writes the newest state."""
        if not shiboken6.isValid(self.undo_stack):
            return  # the pane is closing: its stack clears itself as it goes
        if self.undo_stack.count():  # clearing the stack for a new image is not an edit
            self._save()

    def _save(self) -> None:
        annotations, saver, slot = self.workbench.annotations, self._saver, self._save_slot
        if annotations is None or saver is None or slot is None:
            return
        saver.snapshot(annotations)
        slot.submit(
            saver.save_latest,
            on_error=lambda r: self.report_error(f"Could not save annotations: {r.message}"),
            name="autosave",
        )

    def _keep_saving(self) -> None:
        """The image being left keeps its save slot until its last edit is written."""
        if self._saver is not None and self._save_slot is not None:
            self._leaving.append((self._saver, self._save_slot))
        self._saver = self._save_slot = None
        done = [slot for s, slot in self._leaving if not slot.busy and s.saved]
        self._leaving = [(s, slot) for s, slot in self._leaving if slot not in done]
        for slot in done:
            self._all_slots.remove(slot)
            slot.deleteLater()

    def export(self, kind: ExportKind, path: Path) -> None:
        """Write a snapshot of the annotations in a worker (`workflows.EXPORT_KINDS`)."""
        image, annotations = self.workbench.image, self.workbench.annotations
        if image is None or annotations is None:
            return
        self.export_slots[kind].submit(
            export_annotations,
            annotations.copy(),
            kind,
            Path(path),
            image.path.name,
            image.path,
            label=f"Exporting {Path(path).name}…",
            cancellable=False,
            on_result=lambda written: self.show_status(f"Exported {written}"),
            on_error=self.report_error,
            name=f"export {kind}",
        )

    def shutdown(self) -> None:
        """Stop the image's jobs; write every edit not on disk yet, in workers, and wait for
        them (at most SAVE_WAIT_MS): nothing the user made is lost, and the GUI thread writes
        nothing. A save queued in a slot would not start while this waits, so each image with
        unsaved edits gets a final save of its own. Only those saves are waited for, not a
        batch or another pane's job (they are short jobs: no long job holds their threads)."""
        for slot in self._discard_on_open:
            slot.discard()
        self._keep_saving()
        finals = []
        for saver, _slot in self._leaving:
            if not saver.saved:
                final = self.lasting_slot()
                final.submit(saver.save_latest, name="final save")
                finals.append(final)
        JobSlot.wait_all(finals, SAVE_WAIT_MS)


def _cut_off(slots: list[JobSlot], discard: list[JobSlot], *_args) -> None:
    """The pane is gone: nothing more reaches its widgets; saves and exports still finish."""
    for slot in discard:
        if shiboken6.isValid(slot):  # the runner, and its slots, may have gone first
            slot.discard()
    for slot in slots:
        if shiboken6.isValid(slot) and slot.receivers(SIGNAL("changed()")):
            slot.changed.disconnect()
