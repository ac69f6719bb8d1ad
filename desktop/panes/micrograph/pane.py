"""The Micrographs pane: open an image, click, accept objects, fix them, export.

Every model call and file access runs in a worker; the GUI thread only draws. Edits go through
the pane's QUndoStack and each one is saved at once to the image's sidecar file.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.panes.base import AppContext, Pane
from desktop.panes.micrograph.automatic import AutomaticPanel
from desktop.panes.micrograph.calibration import CalibrationBar, SetCalibration
from desktop.panes.micrograph.canvas import BRUSH, ERASER, EXAMPLES, PROMPT, MicrographCanvas
from desktop.panes.micrograph.commands import AddClass, AddObject, RemoveObject, ReplaceObject
from desktop.panes.micrograph.loading import LoadedImage, load_image
from desktop.panes.micrograph.measurements import MeasurementsPanel
from desktop.workers import Worker
from inference.errors import ErrorReport, MatLensError
from inference.imaging.io import SUPPORTED_EXTENSIONS
from inference.runtime.registry import FileStatus, card_status, load_cards
from inference.segmentation import sidecar
from inference.segmentation.annotations import AnnotatedObject, AnnotationSet, paint_stroke
from inference.segmentation.overlay import SELECTION_COLOUR, crop_rgba, objects_rgba, outline
from inference.segmentation.prompts import PromptState

EXPORTS = {
    "labels": (
        "Label image (16-bit PNG or TIFF)…",
        "Label image (*.png *.tif *.tiff)",
        "_labels.png",
    ),
    "masks": ("Per-class binary masks…", "", ""),
    "coco": ("COCO JSON…", "COCO JSON (*.json)", "_coco.json"),
    "rois": ("ImageJ/Fiji ROI set…", "ImageJ ROI zip (*.zip)", "_rois.zip"),
    "csv": ("Measurements CSV…", "CSV (*.csv)", "_objects.csv"),
}


class SamSession:
    """The SAM model and the current image's click session; touched only from workers.

    Clicks go through `refine.ClickSession`: the first click's mask is chosen by stability, and
    each later click refines the mask on screen (SAM's mask input). Measured on the shared
    Super1/EBC1 sets (benchmarks/sam_accuracy.py): 1-click mIoU 0.830 -> 0.859 and 0.137 -> 0.148,
    NoC@85 2.96 -> 2.76, at the same ~20 ms per click. Zooming (re-embedding a window, +0.6 s)
    is left to the CLI and scripts so clicks stay live.
    """

    def __init__(self) -> None:
        self.model = None
        self.model_id = ""
        self.clicks = None

    def model_for(self, model_id: str):
        from inference.segmentation.sam import SamModel

        if self.model is None or self.model_id != model_id:
            self.model, self.model_id = SamModel(model_id), model_id
        return self.model

    def embed(self, model_id: str, rgb, progress, cancel):
        """The click session; images above 2048 px are embedded in native-resolution tiles."""
        from inference.segmentation.clicks import click_session

        model = self.model_for(model_id)
        self.clicks = click_session(model, rgb, progress=progress, cancel=cancel)
        return self.clicks.embedding, model.device

    def predict(self, model_id: str, embedding, request, shown=None):
        from inference.segmentation.clicks import ClickSession, RefinedCandidate

        clicks = self.clicks
        if clicks is None or clicks.embedding is not embedding:  # a stale job: answer, keep nothing
            clicks = ClickSession(self.model_for(model_id), embedding)
        if isinstance(shown, RefinedCandidate):
            clicks.remember(shown)  # after Tab, the next click refines the mask on screen
        return clicks.predict(request.points, box=request.box)


def _save_then_signal(snapshot: AnnotationSet, path: Path, idle: threading.Event) -> None:
    """Autosave in a worker; `idle` tells a closing pane the write has finished."""
    try:
        sidecar.save(snapshot, path)
    finally:
        idle.set()


class MicrographPane(Pane):
    title = "Micrographs"
    extensions = frozenset(SUPPORTED_EXTENSIONS)
    file_filter = "Micrographs (" + " ".join(f"*{e}" for e in sorted(SUPPORTED_EXTENSIONS)) + ")"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.loaded: LoadedImage | None = None
        self.annotations: AnnotationSet | None = None
        self.prompts: PromptState | None = None
        self.embedding = None
        self.sam = SamSession()
        self._generation = 0  # results of jobs for an image no longer shown are dropped
        self._predicting = False
        self._predict_again = False
        self._embed_worker: Worker | None = None
        self._load_worker: Worker | None = None
        self._saving = False
        self._save_again = False
        self._save_idle = threading.Event()  # clear while an autosave writes
        self._save_idle.set()
        self._visible_jobs = 0  # jobs shown in the progress bar
        self._build()
        self.undo_stack.indexChanged.connect(self._after_edit)

    # layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.canvas = MicrographCanvas(self)
        self.canvas.clicked.connect(self.add_point)
        self.canvas.box_drawn.connect(self.set_box)
        self.canvas.brush_stroke.connect(self.apply_stroke)

        self.open_button = QPushButton("Open…", self)
        self.open_button.clicked.connect(self._ask_open)
        self.frame_spin = QSpinBox(self, prefix="Frame ")
        self.frame_spin.setVisible(False)
        self.frame_spin.editingFinished.connect(self._frame_changed)
        self.model_combo = QComboBox(self)
        self.model_combo.setToolTip("Segment-Anything model used for clicks")
        self.refresh_models()
        self.model_combo.currentIndexChanged.connect(self._model_changed)

        self.mode_group = QButtonGroup(self)
        mode_row = QHBoxLayout()
        for text, mode, key in (
            ("Click", PROMPT, "P"),
            ("Brush", BRUSH, "B"),
            ("Eraser", ERASER, "E"),
        ):
            button = QToolButton(self, text=text, checkable=True)
            button.setToolTip(f"{text} mode ({key})")
            button.setProperty("mode", mode)
            self.mode_group.addButton(button)
            mode_row.addWidget(button)
            QShortcut(QKeySequence(key), self, activated=button.click)
            if mode == PROMPT:
                button.setChecked(True)
        self.mode_group.buttonClicked.connect(lambda b: self.set_mode(b.property("mode")))
        self.brush_size = QSpinBox(
            self, prefix="Brush ", suffix=" px", minimum=1, maximum=200, value=8
        )
        self.brush_size.valueChanged.connect(
            lambda v: setattr(self.canvas, "brush_radius", float(v))
        )
        mode_row.addWidget(self.brush_size)

        self.export_button = QToolButton(self, text="Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for kind, (text, _, _) in EXPORTS.items():
            menu.addAction(text, lambda k=kind: self._ask_export(k))
        self.export_button.setMenu(menu)

        top = QHBoxLayout()
        for w in (self.open_button, self.frame_spin, QLabel("Model:", self), self.model_combo):
            top.addWidget(w)
        top.addLayout(mode_row)
        top.addStretch(1)
        top.addWidget(self.export_button)

        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(240)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self._cancel_jobs)
        self.job_label = QLabel("", self)
        bottom = QHBoxLayout()
        bottom.addWidget(self.job_label, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.cancel_button)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(top)
        left_layout.addWidget(self.canvas, 1)
        left_layout.addLayout(bottom)

        splitter = QSplitter(self)
        splitter.addWidget(left)
        side = QScrollArea(self)  # small screens scroll the side panel instead of squeezing it
        panel = self._side_panel()
        side.setWidget(panel)
        side.setWidgetResizable(True)
        side.setFrameShape(QFrame.Shape.NoFrame)
        side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scrollbar = side.verticalScrollBar().sizeHint().width()
        side.setMinimumWidth(panel.minimumSizeHint().width() + scrollbar)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([900, 340])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        for key, slot in (
            (Qt.Key.Key_Return, self.accept_object),
            (Qt.Key.Key_Enter, self.accept_object),
            (Qt.Key.Key_Tab, self.next_candidate),
            (Qt.Key.Key_N, self.next_candidate),
            (Qt.Key.Key_Escape, self.clear_prompts),
            (Qt.Key.Key_Delete, self.delete_selected),
            (Qt.Key.Key_Backspace, self.undo_last_point),
        ):
            shortcut = QShortcut(QKeySequence(key), self, activated=slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _side_panel(self) -> QWidget:
        panel = QWidget(self)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(6, 0, 0, 0)

        self.info_label = QLabel("Open a micrograph (File ▸ Open, or drop it here).", panel)
        self.info_label.setWordWrap(True)
        info_box = QGroupBox("Image", panel)
        info_layout = QVBoxLayout(info_box)
        info_layout.addWidget(self.info_label)
        self.calibration_bar = CalibrationBar(self)  # Calibrate… and Reset
        info_layout.addWidget(self.calibration_bar)

        current = QGroupBox("Current object", panel)
        self.class_combo = QComboBox(current)
        self.class_combo.setToolTip("Class given to the next accepted object")
        add_class = QToolButton(current, text="+")
        add_class.setToolTip("Add a class")
        add_class.clicked.connect(self._ask_new_class)
        self.candidate_label = QLabel(
            "Left click: object · Right/Shift click: background · Ctrl+drag: box", current
        )
        self.candidate_label.setWordWrap(True)
        self.next_button = QPushButton("Next mask (Tab)", current)
        self.next_button.clicked.connect(self.next_candidate)
        self.accept_button = QPushButton("Accept (Enter)", current)
        self.accept_button.clicked.connect(self.accept_object)
        self.clear_button = QPushButton("Clear (Esc)", current)
        self.clear_button.clicked.connect(self.clear_prompts)
        row = QHBoxLayout()
        row.addWidget(QLabel("Class:", current))
        row.addWidget(self.class_combo, 1)
        row.addWidget(add_class)
        buttons = QHBoxLayout()
        for b in (self.next_button, self.accept_button, self.clear_button):
            buttons.addWidget(b)
        cur_layout = QVBoxLayout(current)
        cur_layout.addLayout(row)
        cur_layout.addWidget(self.candidate_label)
        cur_layout.addLayout(buttons)

        objects = QWidget(panel)  # shown as the "Objects" tab
        self.object_list = QTreeWidget(objects)
        self.object_list.setHeaderLabels(["#", "Class", "Area", "Score"])
        self.object_list.setRootIsDecorated(False)
        self.object_list.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.object_list.itemChanged.connect(self._item_toggled)
        self.object_list.itemSelectionChanged.connect(self._show_selection)
        self.delete_button = QPushButton("Delete", objects)
        self.delete_button.clicked.connect(self.delete_selected)
        self.reclass_button = QPushButton("Set class", objects)
        self.reclass_button.setToolTip("Give the selected objects the class chosen above")
        self.reclass_button.clicked.connect(self.reclass_selected)
        obj_buttons = QHBoxLayout()
        obj_buttons.addWidget(self.delete_button)
        obj_buttons.addWidget(self.reclass_button)
        obj_layout = QVBoxLayout(objects)
        obj_layout.addWidget(self.object_list, 1)
        obj_layout.addLayout(obj_buttons)

        automatic = QGroupBox("Automatic", panel)
        self.auto_panel = AutomaticPanel(self)
        QVBoxLayout(automatic).addWidget(self.auto_panel)

        layout.addWidget(info_box)
        layout.addWidget(current)
        layout.addWidget(automatic)
        self.measure_panel = MeasurementsPanel(self)  # summary, histogram, report, batch
        self.measure_panel.export_requested.connect(self._ask_export)
        self.side_tabs = QTabWidget(panel)
        self.side_tabs.addTab(objects, "Objects")
        self.side_tabs.addTab(self.measure_panel, "Measure")
        layout.addWidget(self.side_tabs, 1)
        return panel

    # models ------------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        current = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for card in load_cards():
            if card.task == "segmentation/sam":
                ok = card_status(card) is FileStatus.OK
                self.model_combo.addItem(card.name + ("" if ok else " (not installed)"), card.id)
        index = self.model_combo.findData(current) if current else 0
        self.model_combo.setCurrentIndex(max(index, 0))
        self.model_combo.blockSignals(False)

    def models_changed(self) -> None:
        self.refresh_models()

    @property
    def model_id(self) -> str:
        return self.model_combo.currentData() or "mobile_sam"

    def _model_changed(self) -> None:
        if self.loaded is not None:
            self.embedding = None
            self._start_embedding()

    # opening -----------------------------------------------------------------------------------
    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open micrograph", "", self.file_filter)
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path, frame: int = 0) -> None:
        self._flush_save()
        self._generation += 1
        generation = self._generation
        self._cancel_jobs()
        self._show_job(f"Opening {Path(path).name}…")
        self._load_worker = self.context.jobs.start(
            load_image,
            Path(path),
            frame,
            on_result=lambda r, g=generation: self._image_loaded(r, g),
            on_error=self._job_failed,
            on_progress=self._job_progress,
            on_finished=self._hide_job,
            name="open micrograph",
        )

    def _frame_changed(self) -> None:
        if self.loaded and self.frame_spin.value() != self.loaded.micrograph.frame:
            self.open_path(self.loaded.path, self.frame_spin.value())

    def _image_loaded(self, loaded: LoadedImage, generation: int) -> None:
        if generation != self._generation:
            return
        self.loaded, self.annotations = loaded, loaded.annotations
        self.prompts = PromptState(loaded.micrograph.shape)
        self.embedding = None
        self.undo_stack.clear()
        self.auto_panel.image_changed()
        self.canvas.set_image(loaded.display)
        m = loaded.micrograph
        self.frame_spin.blockSignals(True)
        self.frame_spin.setRange(0, max(m.n_frames - 1, 0))
        self.frame_spin.setValue(m.frame)
        self.frame_spin.setVisible(m.n_frames > 1)
        self.frame_spin.blockSignals(False)
        self._refresh_classes()
        self._refresh_objects()
        self._show_info()
        self.file_opened.emit(loaded.path)
        if loaded.notice:
            self.context.show_error(loaded.notice)
        self._start_embedding()

    def _show_info(self) -> None:
        m = self.loaded.micrograph
        frames = f", frame {m.frame + 1} of {m.n_frames}" if m.n_frames > 1 else ""
        self.info_label.setText(  # the calibration is on the line below (calibration_bar)
            f"<b>{self.loaded.path.name}</b><br>{m.shape[1]} × {m.shape[0]} px, "
            f"{m.data.dtype}{frames}"
        )

    # embedding and prediction -----------------------------------------------------------------
    def _start_embedding(self) -> None:
        generation = self._generation
        self._show_job("Preparing the image for segmentation…", cancellable=True)
        self._embed_worker = self.context.jobs.start(
            self.sam.embed,
            self.model_id,
            self.loaded.rgb,
            on_result=lambda r, g=generation: self._embedded(r, g),
            on_error=self._job_failed,
            on_progress=self._job_progress,
            on_cancelled=lambda: self.context.show_status("Embedding cancelled: clicks are off"),
            on_finished=self._hide_job,
            name="image embedding",
        )

    def _embedded(self, result, generation: int) -> None:
        if generation != self._generation:
            return
        self.embedding, device = result
        self.context.show_status(f"Ready: click on an object ({device.label})")
        if self.prompts and not self.prompts.empty:
            self._request_prediction()

    @property
    def ready(self) -> bool:
        return self.embedding is not None

    def add_point(self, x: float, y: float, label: int) -> None:
        if self.prompts is None:
            self.context.show_error("Open a micrograph first.")
            return
        try:
            self.prompts.add_point(x, y, label)
        except MatLensError as exc:
            self.context.show_status(str(exc))
            return
        self.canvas.set_points(self.prompts.points)
        self._request_prediction()

    def set_box(self, box: tuple) -> None:
        if self.prompts is None:
            return
        try:
            self.prompts.set_box(box)
        except MatLensError as exc:
            self.canvas.box_item.hide()
            self.context.show_status(str(exc))
            return
        self.canvas.show_box(*self.prompts.box)
        self._request_prediction()

    def undo_last_point(self) -> None:
        if self.prompts and self.prompts.undo_point():
            self.canvas.set_points(self.prompts.points)
            if self.prompts.empty:
                self.clear_prompts()
            else:
                self._request_prediction()

    def _request_prediction(self) -> None:
        """At most one decoder job at a time; clicks made meanwhile are merged into the next."""
        if not self.ready:
            self.candidate_label.setText("Preparing the image… your clicks will apply when ready.")
            return
        if self._predicting:
            self._predict_again = True
            return
        self._predicting = True
        generation = self._generation
        self.context.jobs.start(
            self.sam.predict,
            self.model_id,
            self.embedding,
            self.prompts.request(),
            self.prompts.current,
            on_result=lambda c, g=generation: self._predicted(c, g),
            on_error=self._job_failed,
            on_finished=self._prediction_done,
            name="decode mask",
        )

    def _prediction_done(self) -> None:
        self._predicting = False
        if self._predict_again:
            self._predict_again = False
            if self.prompts and not self.prompts.empty:
                self._request_prediction()

    def _predicted(self, candidates, generation: int) -> None:
        if generation != self._generation or self.prompts is None or self.prompts.empty:
            return
        if self._predict_again:
            return  # newer clicks are waiting; skip drawing a stale mask
        self.prompts.set_candidates(candidates)
        self._show_candidate()

    def _show_candidate(self) -> None:
        cand = self.prompts.current if self.prompts else None
        if cand is None:
            self.canvas.set_candidate(None)
            return
        crop, offset = cand.mask_crop()
        self.canvas.set_candidate(crop_rgba(crop), offset)
        n = len(self.prompts.candidates)
        self.candidate_label.setText(
            f"Mask {self.prompts.selected + 1} of {n} · predicted IoU {cand.score:.2f}"
            + (" · Tab for the next" if n > 1 else "")
        )

    def next_candidate(self) -> None:
        if self.prompts and self.prompts.candidates:
            self.prompts.cycle()
            self._show_candidate()

    def clear_prompts(self) -> None:
        if self.prompts:
            self.prompts.clear()
        self.canvas.clear_prompts()
        self.candidate_label.setText(
            "Left click: object · Right/Shift click: background · Ctrl+drag: box"
        )

    # edits -------------------------------------------------------------------------------------
    def accept_object(self) -> None:
        cand = self.prompts.current if self.prompts else None
        if cand is None or self.annotations is None:
            self.context.show_status("Nothing to accept: click on an object first.")
            return
        crop, offset = cand.mask_crop()  # not the full mask: 64 MB at 8192²
        obj = AnnotatedObject(
            self.annotations.next_id(),
            self.current_class(),
            crop,
            offset,
            score=cand.score,
            points=tuple(self.prompts.points),
            box=self.prompts.box,
            source="sam",
        )
        self.undo_stack.push(AddObject(self.annotations, self._changed, obj))
        self.clear_prompts()

    def current_class(self) -> str:
        return self.class_combo.currentText() or "precipitate"

    def selected_ids(self) -> list[int]:
        return [int(i.text(0)) for i in self.object_list.selectedItems()]

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        self.undo_stack.beginMacro(f"Delete {len(ids)} object(s)")
        for obj_id in ids:
            self.undo_stack.push(RemoveObject(self.annotations, self._changed, obj_id))
        self.undo_stack.endMacro()

    def reclass_selected(self) -> None:
        ids, name = self.selected_ids(), self.current_class()
        if not ids:
            return
        self.undo_stack.beginMacro(f"Set class {name}")
        for obj_id in ids:
            new = dataclasses.replace(self.annotations.get(obj_id), class_name=name)
            self.undo_stack.push(
                ReplaceObject(self.annotations, self._changed, new, f"Reclass #{obj_id}")
            )
        self.undo_stack.endMacro()

    def set_visible(self, obj_id: int, visible: bool) -> None:
        new = dataclasses.replace(self.annotations.get(obj_id), visible=visible)
        text = f"{'Show' if visible else 'Hide'} #{obj_id}"
        self.undo_stack.push(ReplaceObject(self.annotations, self._changed, new, text))

    def set_mode(self, mode: str) -> None:
        self.canvas.set_mode(mode)
        for button in self.mode_group.buttons():
            button.setChecked(button.property("mode") == mode)
        self.auto_panel.examples_button.blockSignals(True)
        self.auto_panel.examples_button.setChecked(mode == EXAMPLES)
        self.auto_panel.examples_button.blockSignals(False)
        if mode != PROMPT:
            self.clear_prompts()

    def apply_stroke(self, path: list, erase: bool) -> None:
        """Brush/eraser: edit the selected object, else the one under the stroke (or a new one)."""
        if self.annotations is None:
            return
        if self.canvas.mode == EXAMPLES:
            self.auto_panel.stroke(path, erase)
            return
        ids = self.selected_ids()
        target = self.annotations.get(ids[0]) if ids else None
        if target is None and path:
            x, y = path[0]
            target = self.annotations.object_at(int(x), int(y))
        radius = self.canvas.brush_radius
        shape = self.annotations.shape
        if target is None:
            if erase:
                return
            new = paint_stroke(
                None,
                path,
                radius,
                False,
                shape,
                new_id=self.annotations.next_id(),
                class_name=self.current_class(),
            )
            if new is not None:
                self.undo_stack.push(
                    AddObject(self.annotations, self._changed, new, "Brush new object")
                )
            return
        new = paint_stroke(target, path, radius, erase, shape)
        if new is None:
            self.undo_stack.push(RemoveObject(self.annotations, self._changed, target.id))
        elif new is not target:
            text = f"{'Erase' if erase else 'Brush'} #{target.id}"
            self.undo_stack.push(ReplaceObject(self.annotations, self._changed, new, text))

    def set_calibration(self, calibration, text: str = "") -> None:
        """Undoable; the object list, measurements and exports use it from now on."""
        self.undo_stack.push(SetCalibration(self.annotations, self._changed, calibration, text))

    def _ask_new_class(self) -> None:
        if self.annotations is None:
            return
        name, ok = QInputDialog.getText(self, "New class", "Class name:")
        if ok:
            self.add_class(name)

    def add_class(self, name: str) -> bool:
        name = name.strip()
        if not name or any(c.name == name for c in self.annotations.classes):
            self.context.show_error(
                f"A class needs a new, non-empty name ('{name}' is taken or empty)."
            )
            return False
        self.undo_stack.push(AddClass(self.annotations, self._changed, name))
        self.class_combo.setCurrentText(name)
        return True

    # views of the model ------------------------------------------------------------------------
    def _changed(self) -> None:
        """Called by every undo command after it touched the annotations."""
        if self.class_combo.count() != len(self.annotations.classes):
            self._refresh_classes()
        self._refresh_objects()

    def _after_edit(self, _index: int) -> None:
        if self.undo_stack.count():  # clearing the stack for a new image is not an edit
            self._schedule_save()

    def _refresh_classes(self, select: str | None = None) -> None:
        keep = select or self.class_combo.currentText() or "precipitate"
        self.class_combo.clear()
        for cls in self.annotations.classes:
            self.class_combo.addItem(cls.name)
        self.class_combo.setCurrentText(keep)

    def _refresh_objects(self) -> None:
        keep = set(self.selected_ids())
        self.object_list.blockSignals(True)
        self.object_list.clear()
        cal = self.annotations.calibration
        for obj in self.annotations.objects:
            area = cal.area(obj.area)
            item = QTreeWidgetItem(
                [
                    str(obj.id),
                    obj.class_name,
                    f"{area:.4g} {cal.area_unit}",
                    "" if obj.score is None else f"{obj.score:.2f}",
                ]
            )
            item.setCheckState(0, Qt.CheckState.Checked if obj.visible else Qt.CheckState.Unchecked)
            self.object_list.addTopLevelItem(item)
            item.setSelected(obj.id in keep)
        self.object_list.blockSignals(False)
        self.canvas.set_objects_overlay(
            objects_rgba(self.annotations) if len(self.annotations) else None
        )
        self._show_selection()

    def _show_selection(self) -> None:
        """Outline the selected objects on the image, so the list and the picture agree."""
        objs = [self.annotations.get(i) for i in self.selected_ids()] if self.annotations else []
        if not objs:
            self.canvas.set_selection(None)
            return
        x0 = min(o.bbox[0] for o in objs)
        y0 = min(o.bbox[1] for o in objs)
        x1 = max(o.bbox[2] for o in objs)
        y1 = max(o.bbox[3] for o in objs)
        edge = np.zeros((y1 - y0, x1 - x0), dtype=bool)
        for o in objs:
            ox0, oy0, ox1, oy1 = o.bbox
            edge[oy0 - y0 : oy1 - y0, ox0 - x0 : ox1 - x0] |= outline(o.mask)
        self.canvas.set_selection(crop_rgba(edge, SELECTION_COLOUR), (y0, x0))

    def _item_toggled(self, item: QTreeWidgetItem, column: int) -> None:
        if column == 0:
            visible = item.checkState(0) == Qt.CheckState.Checked
            obj_id = int(item.text(0))
            if self.annotations.get(obj_id).visible != visible:
                QTimer.singleShot(0, lambda: self.set_visible(obj_id, visible))

    # saving ------------------------------------------------------------------------------------
    def _schedule_save(self) -> None:
        """Save after every edit, in a worker; edits made during a save trigger one more."""
        if self.annotations is None:
            return
        if self._saving:
            self._save_again = True
            return
        self._saving = True
        snapshot = self._snapshot()
        path = sidecar.sidecar_path(self.loaded.sidecar_key)
        self._save_idle.clear()
        self.context.jobs.start(
            _save_then_signal,
            snapshot,
            path,
            self._save_idle,
            on_error=self._save_failed,
            on_finished=self._save_done,
            name="autosave",
        )

    def _snapshot(self) -> AnnotationSet:
        return self.annotations.copy()

    def _save_done(self) -> None:
        self._saving = False
        if self._save_again:
            self._save_again = False
            self._schedule_save()

    def _save_failed(self, report: ErrorReport) -> None:
        self.context.show_error(f"Could not save annotations: {report.message}")

    def _flush_save(self) -> None:
        """Write the current annotations now (closing, or opening another image).

        An image that was only looked at gets no sidecar: nothing is written beside it.
        """
        if self.annotations is None or self.loaded is None or self.undo_stack.count() == 0:
            return
        self._save_idle.wait(10)  # only the autosave, not a long segmentation job
        try:
            sidecar.save(self._snapshot(), sidecar.sidecar_path(self.loaded.sidecar_key))
        except MatLensError as exc:
            self.context.show_error(f"Could not save annotations: {exc}")

    # export ------------------------------------------------------------------------------------
    def _ask_export(self, kind: str) -> None:
        if self.annotations is None or not len(self.annotations):
            self.context.show_error("Nothing to export yet: accept at least one object.")
            return
        stem = self.loaded.path.with_suffix("")
        if kind == "masks":
            folder = QFileDialog.getExistingDirectory(
                self, "Folder for the class masks", str(stem.parent)
            )
            if folder:
                self.export_to(kind, Path(folder))
            return
        text, filt, suffix = EXPORTS[kind]
        path, _ = QFileDialog.getSaveFileName(self, text.rstrip("…"), f"{stem}{suffix}", filt)
        if path:
            self.export_to(kind, Path(path))

    def export_to(self, kind: str, path: Path) -> Worker:
        from inference.segmentation import (
            export,  # skimage/scipy.signal: slow to import at start-up
        )

        snapshot = self._snapshot()
        writers = {
            "labels": lambda: export.write_label_image(snapshot, path),
            "masks": lambda: export.write_class_masks(snapshot, path),
            "coco": lambda: export.write_coco(snapshot, path, self.loaded.path.name),
            "rois": lambda: export.write_imagej_rois(snapshot, path),
            "csv": lambda: export.write_csv(snapshot, path),
        }
        return self.context.jobs.start(
            writers[kind],
            on_result=lambda _: self.context.show_status(f"Exported {path}"),
            on_error=self._job_failed,
            name=f"export {kind}",
        )

    def measurements(self):
        from inference.segmentation.measure import measure

        return measure(self.annotations) if self.annotations else []

    # job feedback ------------------------------------------------------------------------------
    def _show_job(self, text: str, cancellable: bool = False) -> None:
        self._visible_jobs += 1
        self.job_label.setText(text)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.setVisible(cancellable)

    def _job_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 100))
        if message:
            self.job_label.setText(message)

    def _hide_job(self) -> None:
        self._visible_jobs = max(0, self._visible_jobs - 1)
        if not self._visible_jobs:
            self.progress.hide()
            self.cancel_button.hide()
            self.job_label.setText("")

    def _job_failed(self, report: ErrorReport) -> None:
        self.context.show_error(report)

    def _cancel_jobs(self) -> None:
        for worker in (self._embed_worker, self._load_worker):
            if worker is not None:
                worker.cancel()
        self.auto_panel.cancel()

    def shutdown(self) -> None:
        self._cancel_jobs()
        self._flush_save()
