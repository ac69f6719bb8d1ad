"""The Micrographs pane: open an image, click, accept objects, fix them, export.

Layout and wiring only. The state (`state.MicrographState` over the Qt-free workbench) holds the
image and its annotations and runs the work in job slots; the panels change it, and the canvas
draws what its signals say. Every edit is an undo command and is saved at once to the image's
sidecar file, in a worker.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.job_bar import JobBar
from desktop.panes.base import AppContext, Pane
from desktop.panes.micrograph.automatic import AutomaticPanel
from desktop.panes.micrograph.calibration import CalibrationBar
from desktop.panes.micrograph.canvas import MicrographCanvas
from desktop.panes.micrograph.clicking import CurrentObjectBox
from desktop.panes.micrograph.measurements import MeasurementsPanel
from desktop.panes.micrograph.modes import BRUSH, CALIBRATE, ERASER, EXAMPLES, PROMPT
from desktop.panes.micrograph.objects_panel import ObjectsPanel, selection_outline
from desktop.panes.micrograph.state import MicrographState
from inference.imaging.io import SUPPORTED_EXTENSIONS
from inference.runtime.registry import files_present, load_cards
from inference.segmentation.overlay import crop_rgba, objects_rgba

if TYPE_CHECKING:
    from inference.segmentation.annotations import AnnotationSet
    from inference.segmentation.workflows import ExportKind, LoadedImage

EXPORTS: dict[ExportKind, tuple[str, str, str]] = {  # menu text, file filter, default suffix
    "labels": (  # .tif or .png, by the calibration (`export.label_image_suffix`)
        "Label image (16-bit PNG or TIFF)…",
        "Label image (*.tif *.tiff *.png)",
        "_labels",
    ),
    "masks": ("Per-class binary masks…", "", ""),
    "coco": ("COCO JSON…", "COCO JSON (*.json)", "_coco.json"),
    "rois": ("ImageJ/Fiji ROI set…", "ImageJ ROI zip (*.zip)", "_rois.zip"),
    "csv": ("Measurements CSV…", "CSV (*.csv)", "_objects.csv"),
}
NOTE_COLOUR = "#a04000"  # a calibration note: readable on light and dark panels
MODES = (("Click", PROMPT, "P"), ("Brush", BRUSH, "B"), ("Eraser", ERASER, "E"))


class MicrographPane(Pane):
    title = "Micrographs"
    extensions = frozenset(SUPPORTED_EXTENSIONS)
    reads_by_content = True  # the reader tells TIFF, PNG, DM... by the first bytes
    file_filter = "Micrographs (" + " ".join(f"*{e}" for e in sorted(SUPPORTED_EXTENSIONS)) + ")"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.state = MicrographState(context, self.undo_stack, self)
        self.job_bar = JobBar(self)
        self.job_bar.watch(self.state.load_slot, self.state.embed_slot)
        self.job_bar.watch(*self.state.export_slots.values())
        self.canvas = MicrographCanvas(self)
        self._build()
        self._wire()
        self.state.workbench.set_model(self.model_id)

    # what the window and scripts read ---------------------------------------------------------
    @property
    def loaded(self) -> LoadedImage | None:
        return self.state.workbench.image

    @property
    def annotations(self) -> AnnotationSet | None:
        return self.state.workbench.annotations

    @property
    def ready(self) -> bool:
        return self.state.workbench.ready

    @property
    def model_id(self) -> str:
        return self.model_combo.currentData() or "mobile_sam"

    # layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.open_button = QPushButton("Open…", self)
        self.open_button.clicked.connect(self._ask_open)
        self.frame_spin = QSpinBox(self)
        self.frame_spin.setPrefix("Frame ")
        self.frame_spin.setVisible(False)
        # The arrows, a number typed then Enter, or leaving the box load that frame (it only
        # loaded on leaving the box: the arrows changed the number but not the image).
        self.frame_spin.setKeyboardTracking(False)
        self.frame_spin.valueChanged.connect(self._frame_changed)
        self.model_combo = QComboBox(self)
        self.model_combo.setToolTip("Segment-Anything model used for clicks")
        self.refresh_models()
        self.model_combo.currentIndexChanged.connect(lambda _: self.state.set_model(self.model_id))
        self.mode_group = QButtonGroup(self)
        top = QHBoxLayout()
        for w in (self.open_button, self.frame_spin, QLabel("Model:", self), self.model_combo):
            top.addWidget(w)
        for text, mode, key in MODES:
            button = QToolButton(self)
            button.setText(text)
            button.setCheckable(True)
            button.setChecked(mode == PROMPT)
            button.setToolTip(f"{text} mode ({key})")
            button.setProperty("mode", mode)
            self.mode_group.addButton(button)
            top.addWidget(button)
            QShortcut(QKeySequence(key), self).activated.connect(button.click)
        self.mode_group.buttonClicked.connect(lambda b: self.state.set_mode(b.property("mode")))
        self.brush_size = QSpinBox(self)
        self.brush_size.setPrefix("Brush ")
        self.brush_size.setSuffix(" px")
        self.brush_size.setRange(1, 200)
        self.brush_size.setValue(8)
        self.brush_size.valueChanged.connect(
            lambda v: setattr(self.canvas, "brush_radius", float(v))
        )
        top.addWidget(self.brush_size)
        top.addStretch(1)
        self.export_button = self._export_button()
        top.addWidget(self.export_button)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(top)
        left_layout.addWidget(self.canvas, 1)
        left_layout.addWidget(self.job_bar)
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(self._side_panel())
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([880, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        for key, slot in (
            (Qt.Key.Key_Return, self._enter),
            (Qt.Key.Key_Enter, self._enter),
            (Qt.Key.Key_Tab, self.clicks.next_candidate),
            (Qt.Key.Key_N, self.clicks.next_candidate),
            (Qt.Key.Key_Escape, self._escape),
            (Qt.Key.Key_Delete, self.state.delete_selected),
            (Qt.Key.Key_Backspace, self.clicks.undo_last_point),
        ):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _export_button(self) -> QToolButton:
        button = QToolButton(self)
        button.setText("Export")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        for kind, (text, _, _) in EXPORTS.items():
            menu.addAction(text, lambda k=kind: self._ask_export(k))
        button.setMenu(menu)
        return button

    def _side_panel(self) -> QScrollArea:
        panel = QWidget(self)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(6, 0, 0, 0)
        self.info_label = QLabel("Open a micrograph (File ▸ Open, or drop it here).", panel)
        self.info_label.setWordWrap(True)
        info_box = QGroupBox("Image", panel)
        info_layout = QVBoxLayout(info_box)
        info_layout.addWidget(self.info_label)
        self.calibration_bar = CalibrationBar(self.state, self.canvas, info_box)
        info_layout.addWidget(self.calibration_bar)
        self.clicks = CurrentObjectBox(self.state, panel)
        automatic = QGroupBox("Automatic", panel)
        self.auto_panel = AutomaticPanel(self.state, self.job_bar, automatic)
        QVBoxLayout(automatic).addWidget(self.auto_panel)
        self.objects_panel = ObjectsPanel(self.state, panel)
        self.measure_panel = MeasurementsPanel(self.state, self.job_bar, panel)
        self.measure_panel.export_requested.connect(self._ask_export)
        self.side_tabs = _CompactTabs(panel)
        self.side_tabs.addTab(self.objects_panel, "Objects")
        self.side_tabs.addTab(self.measure_panel, "Measure")
        for widget in (info_box, self.clicks, automatic):
            layout.addWidget(widget)
        layout.addWidget(self.side_tabs, 1)
        side = QScrollArea(self)  # small screens scroll the side panel instead of squeezing it
        side.setWidget(panel)
        side.setWidgetResizable(True)
        side.setFrameShape(QFrame.Shape.NoFrame)
        side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scrollbar = side.verticalScrollBar().sizeHint().width()
        side.setMinimumWidth(panel.minimumSizeHint().width() + scrollbar)
        return side

    # wiring: the canvas asks, the state answers, the canvas draws -----------------------------
    def _wire(self) -> None:
        state, canvas = self.state, self.canvas
        canvas.clicked.connect(self.clicks.add_point)
        canvas.pointer_moved.connect(self.clicks.pointer_moved)
        canvas.pointer_left.connect(self.clicks.pointer_left)
        self.clicks.ahead_shown.connect(canvas.set_click_ahead)
        canvas.box_drawn.connect(self._box_drawn)
        canvas.brush_stroke.connect(self.apply_stroke)
        state.image_opened.connect(self._image_opened)
        state.prompts_changed.connect(self._draw_prompts)
        state.prompts_changed.connect(self.undo_first_changed.emit)
        state.candidates_changed.connect(self._draw_candidate)
        state.objects_changed.connect(self._draw_objects)
        state.selection_changed.connect(self._draw_selection)
        state.examples_changed.connect(lambda: canvas.set_examples(state.workbench.example_marks()))
        state.phase_preview_changed.connect(
            lambda p: canvas.set_preview(p.rgba if p is not None else None)
        )
        state.mode_changed.connect(self._mode_changed)
        state.calibration_changed.connect(self._draw_scale_bar)

    def _draw_scale_bar(self) -> None:
        annotations = self.annotations
        if annotations is not None:
            self.canvas.set_calibration(annotations.calibration)

    def _image_opened(self, loaded: LoadedImage) -> None:
        self.canvas.set_image(loaded.display)
        m = loaded.micrograph
        self.canvas.set_data_bar(m.data_bar_rows)
        self.frame_spin.blockSignals(True)
        # Counted from 1, as the Image box says it ("frame 1 of 2") and as Fiji counts slices.
        self.frame_spin.setRange(1, max(m.n_frames, 1))
        self.frame_spin.setSuffix(f" of {m.n_frames}")
        self.frame_spin.setValue(m.frame + 1)
        self.frame_spin.setVisible(m.n_frames > 1)
        self.frame_spin.blockSignals(False)
        frames = f", frame {m.frame + 1} of {m.n_frames}" if m.n_frames > 1 else ""
        # Why the file's own scale was not used (reciprocal space, pixels not square...) and
        # which other signals it holds: a diffraction pattern must not read "uncalibrated"
        # without a reason, nor a Velox file open its first detector without a word.
        note_line = "".join(
            f"<br><span style='color:{NOTE_COLOUR}'>{html.escape(n, quote=False)}</span>"
            for n in m.notes
        )
        self.info_label.setText(  # the calibration is on the line below (calibration_bar)
            f"<b>{html.escape(loaded.path.name)}</b><br>"
            f"{m.shape[1]} × {m.shape[0]} px, {m.data.dtype}{frames}{note_line}"
        )
        self._draw_objects()
        self._draw_scale_bar()
        self.file_opened.emit(loaded.path)

    def _draw_prompts(self) -> None:
        prompts = self.state.workbench.prompts
        self.canvas.set_points(prompts.points if prompts is not None else [])
        if prompts is not None and prompts.box is not None:
            self.canvas.show_box(*prompts.box)
        else:
            self.canvas.box_item.hide()

    def _draw_candidate(self) -> None:
        cand = self.state.workbench.candidate
        if cand is None:
            self.canvas.set_candidate(None)
            return
        crop, offset = cand.mask_crop()
        self.canvas.set_candidate(crop_rgba(crop), offset)

    def _draw_objects(self) -> None:
        annotations = self.annotations
        if annotations is None or not len(annotations):
            self.canvas.set_objects_overlay(None)
        else:
            self.canvas.set_objects_overlay(objects_rgba(annotations))

    def _draw_selection(self) -> None:
        outline = selection_outline(self.state.selected_objects())
        self.canvas.set_selection(*(outline or (None, (0, 0))))

    def _mode_changed(self, mode: str) -> None:
        self.canvas.set_mode(mode)
        for button in self.mode_group.buttons():
            button.setChecked(button.property("mode") == mode)

    def _box_drawn(self, box: tuple) -> None:
        if not self.clicks.set_box(box):
            self.canvas.box_item.hide()

    def apply_stroke(self, path: list, erase: bool) -> None:
        """A brush, eraser or examples stroke on the image (canvas coordinates)."""
        radius = self.canvas.brush_radius
        if self.state.mode == EXAMPLES:
            self.state.paint_examples(path, erase, radius)
        else:
            self.state.stroke(path, erase, radius)

    # models ------------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        current = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for card in load_cards():
            if card.task == "segmentation/sam":
                # presence only: checksums read every model file (an imported ViT-H is 2.5 GB),
                # which the GUI thread must not; a damaged file is named when the model loads
                ok = files_present(card)
                self.model_combo.addItem(card.name + ("" if ok else " (not installed)"), card.id)
        index = self.model_combo.findData(current) if current else 0
        self.model_combo.setCurrentIndex(max(index, 0))
        self.model_combo.blockSignals(False)

    def models_changed(self) -> None:
        self.refresh_models()

    # files -------------------------------------------------------------------------------------
    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open micrograph", "", self.file_filter)
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path, frame: int = 0) -> None:
        self.state.open_path(path, frame)

    def open_by_content(self, path: Path, refusal: str) -> None:
        self.state.open_path(path, refusal=refusal)

    def _escape(self) -> None:
        """Esc clears the prompts; drawing a scale line, it leaves that mode (it stayed there,
        and only a tool button or key got one out)."""
        if self.state.mode == CALIBRATE:
            self.state.set_mode(PROMPT)
            self.state.show_status("Scale line cancelled: click mode.")
            return
        self.clicks.clear()

    def undo_first_text(self) -> str:
        """While an object is being made, Undo takes back its last point (as Backspace does),
        not the object accepted before it."""
        prompts = self.state.workbench.prompts
        if prompts is None or prompts.empty:
            return ""
        return "last point" if prompts.points else "box"

    def undo_first(self) -> None:
        prompts = self.state.workbench.prompts
        if prompts is not None and prompts.points:
            self.clicks.undo_last_point()
        else:  # a box alone
            self.clicks.clear()

    def _enter(self) -> None:
        """Enter accepts the mask on screen; in the frame box it loads the frame typed (the
        pane's shortcut took the key from the box, which said "Nothing to accept")."""
        if self.frame_spin.hasFocus():
            self.frame_spin.interpretText()
            self._frame_changed()
            return
        self.clicks.accept()

    def _frame_changed(self) -> None:
        loaded = self.loaded
        frame = self.frame_spin.value() - 1
        if loaded is not None and frame != loaded.micrograph.frame:
            self.open_path(loaded.path, frame)

    def _ask_export(self, kind: ExportKind) -> None:
        loaded, annotations = self.loaded, self.annotations
        if loaded is None or annotations is None or not len(annotations):
            self.state.report_error("Nothing to export yet: accept at least one object.")
            return
        stem = loaded.path.with_suffix("")
        if kind == "masks":
            folder = QFileDialog.getExistingDirectory(
                self, "Folder for the class masks", str(stem.parent)
            )
            if folder:
                self.state.export(kind, Path(folder))
            return
        text, filt, suffix = EXPORTS[kind]
        if kind == "labels":  # a calibrated image's labels as TIFF, which keeps the pixel size
            # imported here: export.py loads scikit-image, which must wait for the first paint
            from inference.segmentation.export import label_image_suffix

            suffix += label_image_suffix(annotations.calibration)
        path, _ = QFileDialog.getSaveFileName(self, text.rstrip("…"), f"{stem}{suffix}", filt)
        if path:
            self.state.export(kind, Path(path))

    def shutdown(self) -> None:
        self.state.shutdown()


class _CompactTabs(QTabWidget):
    """Tabs that ask only for their minimum height: the side panel's scroll area sizes the
    panel by its size hint, and the Measure tab's hint would push the Objects tab's buttons
    below a 1280 × 800 window. The tabs get the height left over instead."""

    def sizeHint(self):  # noqa: N802 - Qt API
        return self.minimumSizeHint()
