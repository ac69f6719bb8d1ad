"""Automatic tools of the Micrographs pane: segment everything, microstructure map, phases.

The panel adapts `inference.segmentation.workflows` to widgets: each tool runs in its own job
slot (shown by the pane's job bar, cancellable), and results come back as objects through one
undoable step, so undo, brush and class work on them as on clicked objects. Phases by example
updates a preview live: at most one classification runs, examples added meanwhile are merged
into the next. What the tools are set to is kept in the workbench (`AutomaticSettings`), where
the batch recipe reads it.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.job_bar import JobBar
from desktop.panes.micrograph.modes import EXAMPLES, PROMPT
from desktop.panes.micrograph.state import MicrographState
from desktop.workers import JobSlot
from inference.segmentation.automatic import AutoParams
from inference.segmentation.microstructure import MapParams
from inference.segmentation.phases import to_objects as phase_objects
from inference.segmentation.workbench import AutomaticSettings, Mode
from inference.segmentation.workflows import (
    AutoMasks,
    MapResult,
    PhasePreview,
    auto_masks,
    microstructure_map,
    phase_features,
    preview_phases,
)

MAP_KINDS = {
    "phase": "Phase vs matrix",
    "grains": "Grains and boundaries",
    "cracks": "Cracks",
}
TAB_MODES: tuple[Mode, ...] = ("auto", "map", "phases")  # the tabs, in order
PHASES_HINT = (
    "Choose a class, paint a few examples of it, then of the other classes. "
    "The map updates as you paint."
)


class AutomaticPanel(QTabWidget):
    """Tabs "Everything", "Map", "Phases" in the side panel."""

    def __init__(self, state: MicrographState, job_bar: JobBar, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.everything_slot = state.new_slot()
        self.map_slot = state.new_slot()
        self.features_slot = state.new_slot()
        self.classify_slot = state.new_slot(queue_latest=True)
        job_bar.watch(self.everything_slot, self.map_slot, self.features_slot)
        self.addTab(self._everything_tab(), "Everything")
        self.addTab(self._map_tab(), "Map")
        self.addTab(self._phases_tab(), "Phases")
        self.setToolTip("Automatic segmentation: results become objects you can edit and undo")
        for slot, button in (
            (self.everything_slot, self.everything_button),
            (self.map_slot, self.map_button),
        ):
            slot.changed.connect(lambda s=slot, b=button: b.setEnabled(not s.busy))
        self.currentChanged.connect(self._settings_changed)
        state.image_opened.connect(self._image_opened)
        state.mode_changed.connect(self._mode_changed)
        state.examples_changed.connect(self._request_classification)
        self._settings_changed()

    # layout ------------------------------------------------------------------------------------
    def _everything_tab(self) -> QWidget:
        d = AutoParams()
        page = QWidget(self)
        form = QFormLayout(page)
        self.points_spin = QSpinBox(page, minimum=4, maximum=96, value=d.points_per_side)
        self.points_spin.setToolTip("Grid of point prompts: N × N over the image (or each tile)")
        self.iou_spin = _fraction(page, d.pred_iou_thresh, "Drop masks SAM itself rates below this")
        self.stability_spin = _fraction(
            page, d.stability_thresh, "Drop masks that change when the threshold moves"
        )
        self.min_area_spin = QSpinBox(page, minimum=0, maximum=10**6, value=d.min_area_px)
        self.min_area_spin.setSuffix(" px")
        self.min_area_spin.setToolTip("Remove objects, holes and islands smaller than this")
        form.addRow("Points per side", self.points_spin)
        form.addRow("Predicted IoU ≥", self.iou_spin)
        form.addRow("Stability ≥", self.stability_spin)
        form.addRow("Minimum area", self.min_area_spin)
        for spin in (self.points_spin, self.iou_spin, self.stability_spin, self.min_area_spin):
            spin.valueChanged.connect(self._settings_changed)
        self.everything_button = QPushButton("Segment everything", page)
        self.everything_button.setToolTip("Objects of the current class, one undo step")
        self.everything_button.clicked.connect(self.segment_everything)
        form.addRow(self.everything_button)
        return page

    def _map_tab(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.map_kind = QComboBox(page)
        for kind, text in MAP_KINDS.items():
            self.map_kind.addItem(text, kind)
        self.map_kind.setToolTip("What the binary map separates")
        self.map_kind.currentIndexChanged.connect(self._settings_changed)
        form.addRow("Map", self.map_kind)
        self.map_button = QPushButton("Build map", page)
        self.map_button.setToolTip(
            "Segment everything, then close regions, join neighbours and split phase from matrix"
        )
        self.map_button.clicked.connect(self.build_map)
        form.addRow(self.map_button)
        return page

    def _phases_tab(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        self.examples_button = QPushButton("Paint examples", page)
        self.examples_button.setCheckable(True)
        self.examples_button.setToolTip(
            "Left click or drag: an example of the current class · right click: remove"
        )
        self.examples_button.toggled.connect(self._examples_toggled)
        self.clear_examples_button = QPushButton("Clear", page)
        self.clear_examples_button.clicked.connect(self.clear_examples)
        self.apply_phases_button = QPushButton("Apply as objects", page)
        self.apply_phases_button.clicked.connect(self.apply_phases)
        row = QHBoxLayout()
        for b in (self.examples_button, self.clear_examples_button, self.apply_phases_button):
            row.addWidget(b)
        self.phases_label = QLabel(PHASES_HINT, page)
        self.phases_label.setWordWrap(True)
        layout.addLayout(row)
        layout.addWidget(self.phases_label)
        layout.addStretch(1)
        return page

    # settings ----------------------------------------------------------------------------------
    def settings(self) -> AutomaticSettings:
        auto = AutoParams(
            points_per_side=self.points_spin.value(),
            pred_iou_thresh=self.iou_spin.value(),
            stability_thresh=self.stability_spin.value(),
            min_area_px=self.min_area_spin.value(),
        )
        mode = TAB_MODES[max(self.currentIndex(), 0)]
        return AutomaticSettings(mode, auto, MapParams(kind=self.map_kind.currentData()))

    def _settings_changed(self, *_args) -> None:
        self.state.workbench.set_settings(self.settings())

    # segment everything and the map ------------------------------------------------------------
    def segment_everything(self) -> None:
        state, workbench = self.state, self.state.workbench
        if not state.has_image() or workbench.image is None:
            return
        params, class_name = self.settings().auto, state.current_class
        self._run(
            self.everything_slot,
            "Segmenting everything…",
            auto_masks,
            workbench.model,
            workbench.image.rgb,
            params,
            workbench.clicks,
            on_result=lambda masks: self._everything_done(masks, class_name),
            cancelled="Segment everything cancelled",
        )

    def _everything_done(self, masks: AutoMasks, class_name: str) -> None:
        self.state.workbench.set_auto_masks(masks)
        text = f"Segment everything ({len(masks.masks)})"
        self.state.add_objects(masks.objects(class_name), text)

    def build_map(self) -> None:
        state, workbench = self.state, self.state.workbench
        if not state.has_image() or workbench.image is None:
            return
        settings, class_name = self.settings(), state.current_class
        self._run(
            self.map_slot,
            "Building the microstructure map…",
            microstructure_map,
            workbench.model,
            workbench.image.rgb,
            workbench.image.display,
            settings.auto,
            settings.map,
            workbench.reusable_masks(settings.auto),
            workbench.clicks,
            on_result=lambda result: self._map_done(result, class_name),
            cancelled="Map cancelled",
        )

    def _map_done(self, result: MapResult, class_name: str) -> None:
        self.state.workbench.set_auto_masks(result.masks)
        objects = result.objects(class_name)
        self.state.add_objects(objects, f"{MAP_KINDS[result.map.kind]} map ({len(objects)})")

    def _run(self, slot: JobSlot, label: str, fn, *args, on_result, cancelled: str) -> None:
        slot.submit(
            fn,
            *args,
            label=label,
            on_result=on_result,
            on_error=self.state.report_error,
            on_cancelled=lambda: self.state.show_status(cancelled),
            name=label.rstrip("…").lower(),
        )

    # phases by example -------------------------------------------------------------------------
    @property
    def phase_result(self):
        preview = self.state.workbench.phase_preview
        return preview.result if preview is not None else None

    def _examples_toggled(self, on: bool) -> None:
        self.state.set_mode(EXAMPLES if on else PROMPT)
        if on and self.state.mode == EXAMPLES:
            self._ensure_features()

    def _mode_changed(self, mode: str) -> None:
        self.examples_button.blockSignals(True)
        self.examples_button.setChecked(mode == EXAMPLES)
        self.examples_button.blockSignals(False)

    def _ensure_features(self) -> None:
        workbench = self.state.workbench
        if workbench.image is None or workbench.features is not None or self.features_slot.busy:
            return
        self.features_slot.submit(
            phase_features,
            workbench.model,
            workbench.image.rgb,
            workbench.clicks,
            label="Computing features for phases…",
            on_result=self._features_ready,
            on_error=self.state.report_error,
            name="phase features",
        )

    def _features_ready(self, features) -> None:
        self.state.workbench.set_features(features)
        self._request_classification()

    def _request_classification(self) -> None:
        workbench = self.state.workbench
        if workbench.features is None:
            return
        if len(workbench.examples) < 2:
            self.classify_slot.discard()
            workbench.set_phase_preview(None)
            n = len(workbench.examples)
            self.phases_label.setText(f"{n} class(es) with examples: paint at least two classes.")
            return
        self.classify_slot.submit(
            preview_phases,
            workbench.features,
            workbench.phase_examples(),
            workbench.class_colours(),
            on_result=self._classified,
            on_error=self.state.report_error,
            name="classify phases",
        )

    def _classified(self, preview: PhasePreview) -> None:
        self.state.workbench.set_phase_preview(preview)
        self.phases_label.setText(f"Preview: {preview.fractions_text()}. Apply to keep it.")

    def clear_examples(self) -> None:
        self.classify_slot.discard()
        if self.state.workbench.image is not None:
            self.state.workbench.clear_examples()
        self.phases_label.setText("Examples cleared.")

    def apply_phases(self) -> None:
        result, state = self.phase_result, self.state
        if result is None:
            state.report_error("Nothing to apply: paint examples of at least two classes.")
            return
        objects = phase_objects(result, 1)
        state.undo_stack.beginMacro("Phases by example")
        state.ensure_classes(result.classes)
        state.add_objects(objects, f"Phases ({len(objects)} objects)")
        state.undo_stack.endMacro()
        self.examples_button.setChecked(False)
        self.clear_examples()

    def _image_opened(self, _image) -> None:
        """A new image: the workbench dropped the examples and results of the old one."""
        self.examples_button.setChecked(False)
        self.phases_label.setText(PHASES_HINT)
        self._settings_changed()


def _fraction(parent: QWidget, value: float, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent, minimum=0.0, maximum=1.0, singleStep=0.01, decimals=2)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin
