"""Automatic tools of the Micrographs pane: segment everything, microstructure map, phases.

The panel adapts `inference.segmentation.workflows` to widgets: each tool runs in its own job
slot (shown by the pane's job bar, cancellable), and its objects join the annotations under the
one rule of `merging` (each pixel in at most one object of a class): by default the objects
already there are kept and only what is new is added; the user may choose to replace the
objects of the tool's classes instead. Each result is one undo step, so undo, brush and class
work on them as on clicked objects. Phases by example updates a preview live: at most one
classification runs, examples added meanwhile are merged into the next; applied, each
connected region of a phase becomes an object and the examples are saved with the
annotations. What the tools are set to is kept in the workbench (`AutomaticSettings`), where
the batch recipe reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.panes.micrograph.modes import EXAMPLES, PROMPT
from inference.segmentation.automatic import AutoParams
from inference.segmentation.microstructure import MapParams
from inference.segmentation.numbers import format_number, format_percent
from inference.segmentation.phase_objects import MIN_REGION_PX, PhaseObjects
from inference.segmentation.workbench import AutomaticSettings, Mode
from inference.segmentation.workflows import (
    AutoMasks,
    FoundObjects,
    MapResult,
    PhasePreview,
    everything_into,
    map_into,
    phase_features,
    phases_into,
    preview_phases,
)

if TYPE_CHECKING:
    from desktop.job_bar import JobBar
    from desktop.panes.micrograph.state import MicrographState
    from desktop.workers import JobSlot
    from inference.segmentation.merging import Policy

MAP_KINDS = {
    "phase": "Phase vs matrix",
    "grains": "Grains and boundaries",
    "cracks": "Cracks",
}
POLICIES: dict[Policy, tuple[str, str]] = {  # text, tooltip
    "keep": (
        "Keep them, add only new",
        "An automatic object mostly (half or more) covered by an object of its class that is "
        "already there is left out; one partly covered gives up the overlap",
    ),
    "replace": (
        "Replace those of the class",
        "The objects of the classes the tool makes are removed first",
    ),
}
TAB_MODES: tuple[Mode, ...] = ("auto", "map", "phases")  # the tabs, in order
PHASES_HINT = (
    "Choose a class, paint a few examples of it, then of the other classes. "
    "The map updates as you paint."
)


class AutomaticPanel(QWidget):
    """Tabs "Everything", "Map", "Phases" in the side panel, and what happens to the objects
    already there."""

    def __init__(self, state: MicrographState, job_bar: JobBar, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.everything_slot = state.new_slot(background=True)
        self.map_slot = state.new_slot()
        self.features_slot = state.new_slot()
        self.classify_slot = state.new_slot(queue_latest=True)
        self.phases_slot = state.new_slot()
        job_bar.watch(self.everything_slot, self.map_slot, self.features_slot, self.phases_slot)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._everything_tab(), "Everything")
        self.tabs.addTab(self._map_tab(), "Map")
        self.tabs.addTab(self._phases_tab(), "Phases")
        self.tabs.setToolTip("Automatic segmentation: results become objects you can edit and undo")
        self.policy_combo = QComboBox(self)
        for policy, (text, tip) in POLICIES.items():
            self.policy_combo.addItem(text, policy)
            self.policy_combo.setItemData(
                self.policy_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        self.policy_combo.setToolTip(
            "What an automatic result does to the objects already there: each pixel belongs to "
            "at most one object of a class"
        )
        _elide(self.policy_combo, 14)
        self.policy_combo.currentIndexChanged.connect(self._settings_changed)
        policy_row = QHBoxLayout()
        policy_row.addWidget(QLabel("Existing objects:", self))
        policy_row.addWidget(self.policy_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        layout.addLayout(policy_row)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        for slot, button in (
            (self.everything_slot, self.everything_button),
            (self.map_slot, self.map_button),
            (self.phases_slot, self.apply_phases_button),
        ):
            slot.changed.connect(lambda s=slot, b=button: b.setEnabled(not s.busy))
        self.tabs.currentChanged.connect(self._settings_changed)
        state.image_opened.connect(self._image_opened)
        state.mode_changed.connect(self._mode_changed)
        state.examples_changed.connect(self._request_classification)
        self._settings_changed()

    # layout ------------------------------------------------------------------------------------
    def _everything_tab(self) -> QWidget:
        d = AutoParams()
        page = QWidget(self)
        self.points_spin = QSpinBox(page, minimum=4, maximum=96, value=d.points_per_side)
        self.points_spin.setToolTip(
            "Points per side: a grid of N × N point prompts over the image (or each tile), "
            "plus a prompt on each blob of the image"
        )
        self.iou_spin = _fraction(
            page, d.pred_iou_thresh, "Predicted IoU: drop masks SAM itself rates below this"
        )
        self.stability_spin = _fraction(
            page, d.stability_thresh, "Drop masks that change when the threshold moves"
        )
        self.min_area_spin = QSpinBox(page, minimum=0, maximum=10**6, value=d.min_area_px)
        self.min_area_spin.setSuffix(" px")
        self.min_area_spin.setToolTip(
            "Minimum area: remove objects, holes and islands smaller than this"
        )
        grid = QGridLayout(page)  # two settings a row: the side panel is short at 1280 × 800
        rows = (
            ("Points", self.points_spin),
            ("IoU ≥", self.iou_spin),
            ("Stability ≥", self.stability_spin),
            ("Min. area", self.min_area_spin),
        )
        for k, (text, spin) in enumerate(rows):
            label = QLabel(text, page)
            label.setToolTip(spin.toolTip())
            grid.addWidget(label, k // 2, 2 * (k % 2))
            grid.addWidget(spin, k // 2, 2 * (k % 2) + 1)
            spin.valueChanged.connect(self._settings_changed)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.everything_button = QPushButton("Segment everything", page)
        self.everything_button.setToolTip("Objects of the current class, one undo step")
        self.everything_button.clicked.connect(self.segment_everything)
        grid.addWidget(self.everything_button, 2, 0, 1, 4)
        return page

    def _map_tab(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.map_kind = QComboBox(page)
        for kind, text in MAP_KINDS.items():
            self.map_kind.addItem(text, kind)
        self.map_kind.setToolTip("What the binary map separates")
        _elide(self.map_kind, 12)
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
        self.examples_button = QPushButton("Paint examples", page)
        self.examples_button.setCheckable(True)
        self.examples_button.setToolTip(
            "Left click or drag: an example of the current class · right click: remove"
        )
        self.examples_button.toggled.connect(self._examples_toggled)
        self.clear_examples_button = QPushButton("Clear", page)
        self.clear_examples_button.setToolTip("Remove every example of this image")
        self.clear_examples_button.clicked.connect(self.clear_examples)
        self.region_spin = QSpinBox(page, minimum=1, maximum=10**6, value=MIN_REGION_PX)
        self.region_spin.setPrefix("≥ ")
        self.region_spin.setSuffix(" px")
        self.region_spin.setToolTip(
            "Smallest region kept as an object: smaller ones are specks of the classifier "
            "(saved with the batch recipe)"
        )
        self.region_spin.valueChanged.connect(self._settings_changed)
        self.apply_phases_button = QPushButton("Apply as objects", page)
        self.apply_phases_button.setToolTip(
            "Each connected region of a phase becomes an object; the examples are kept"
        )
        self.apply_phases_button.clicked.connect(self.apply_phases)
        self.phases_label = QLabel(PHASES_HINT, page)
        self.phases_label.setWordWrap(True)
        # room for four lines (a preview of four classes): the tab does not grow with its text
        self.phases_label.setMinimumHeight(4 * self.phases_label.fontMetrics().lineSpacing())
        self.phases_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        grid = QGridLayout(page)
        grid.addWidget(self.examples_button, 0, 0)
        grid.addWidget(self.clear_examples_button, 0, 1)
        grid.addWidget(self.region_spin, 1, 0)
        grid.addWidget(self.apply_phases_button, 1, 1)
        grid.addWidget(self.phases_label, 2, 0, 1, 2)
        grid.setRowStretch(3, 1)
        return page

    # settings ----------------------------------------------------------------------------------
    def settings(self) -> AutomaticSettings:
        auto = AutoParams(
            points_per_side=self.points_spin.value(),
            pred_iou_thresh=self.iou_spin.value(),
            stability_thresh=self.stability_spin.value(),
            min_area_px=self.min_area_spin.value(),
        )
        return AutomaticSettings(
            mode=TAB_MODES[max(self.tabs.currentIndex(), 0)],
            auto=auto,
            map=MapParams(kind=self.map_kind.currentData()),
            policy=self.policy_combo.currentData() or "keep",
            phase_min_area=self.region_spin.value(),
        )

    def _settings_changed(self, *_args) -> None:
        self.state.workbench.set_settings(self.settings())

    # segment everything and the map ------------------------------------------------------------
    def segment_everything(self) -> None:
        state, workbench = self.state, self.state.workbench
        if not state.has_image() or workbench.image is None or workbench.annotations is None:
            return
        settings, class_name = self.settings(), state.current_class
        self._run(
            self.everything_slot,
            "Segmenting everything…",
            everything_into,
            workbench.annotations.copy(),
            class_name,
            workbench.model,
            workbench.image.rgb,
            settings.auto,
            workbench.clicks,
            settings.policy,
            apply=self._everything_done,
            cancelled="Segment everything cancelled",
        )

    def _everything_done(self, found: FoundObjects[AutoMasks]) -> None:
        self.state.workbench.set_auto_masks(found.made)
        self.state.apply_merge(found.merged.merge, f"Segment everything ({len(found.made.masks)})")

    def build_map(self) -> None:
        state, workbench = self.state, self.state.workbench
        if not state.has_image() or workbench.image is None or workbench.annotations is None:
            return
        settings, class_name = self.settings(), state.current_class
        self._run(
            self.map_slot,
            "Building the microstructure map…",
            map_into,
            workbench.annotations.copy(),
            class_name,
            workbench.model,
            workbench.image.rgb,
            workbench.image.display,
            settings.auto,
            settings.map,
            workbench.reusable_masks(settings.auto),
            workbench.clicks,
            settings.policy,
            apply=self._map_done,
            cancelled="Map cancelled",
        )

    def _map_done(self, found: FoundObjects[MapResult]) -> None:
        result = found.made
        self.state.workbench.set_auto_masks(result.masks)
        text = f"{MAP_KINDS[result.map.kind]} map ({len(found.merged.found)})"
        self.state.apply_merge(found.merged.merge, text)

    def _run(self, slot: JobSlot, label: str, fn, *args, apply, cancelled: str) -> None:
        """Run a tool in its slot; its merged result goes to `apply` (merged again first when
        the user edited the objects meanwhile)."""
        slot.submit(
            fn,
            *args,
            label=label,
            on_result=lambda found: self.state.when_merged(slot, found, apply),
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
        image = workbench.image
        self.classify_slot.submit(
            preview_phases,
            workbench.features,
            workbench.phase_examples(),
            workbench.class_colours(),
            data_bar_rows=image.micrograph.data_bar_rows if image is not None else 0,
            on_result=self._classified,
            on_error=self.state.report_error,
            name="classify phases",
        )

    def _classified(self, preview: PhasePreview) -> None:
        self.state.workbench.set_phase_preview(preview)
        text = f"Preview: {preview.fractions_text()}. Apply to keep it."
        note = preview.result.examples_note
        self.phases_label.setText(f"{text}\n{note}" if note else text)

    def clear_examples(self) -> None:
        self.classify_slot.discard()
        self.state.clear_examples()
        self.phases_label.setText("Examples cleared.")

    def apply_phases(self) -> None:
        """Each connected region of each phase becomes an object (in a worker), merged with the
        objects already there across classes; the examples are kept with the annotations."""
        state, workbench, result = self.state, self.state.workbench, self.phase_result
        if result is None or workbench.annotations is None:
            state.report_error("Nothing to apply: paint examples of at least two classes.")
            return
        settings = self.settings()
        self._run(
            self.phases_slot,
            "Turning phases into objects…",
            phases_into,
            workbench.annotations.copy(),
            result,
            settings.phase_min_area,
            settings.policy,
            apply=self._phases_done,
            cancelled="Phases not applied",
        )

    def _phases_done(self, found: FoundObjects[PhaseObjects]) -> None:
        state, made = self.state, found.made
        state.undo_stack.beginMacro("Phases by example")
        state.ensure_classes(made.classes)
        merge = found.merged.merge
        changed = state.apply_merge(merge, f"Phases ({len(made.objects)} regions)")
        state.keep_phase_examples()
        state.undo_stack.endMacro()
        self.examples_button.setChecked(False)
        self.classify_slot.discard()
        state.workbench.set_phase_preview(None)  # the objects show it now
        # what was added, not what was found: the status bar's line and this one agree
        self.phases_label.setText(
            f"Applied as {format_number(len(merge.added))} objects; the examples are kept: "
            "paint more to update the map."
            if changed
            else "Nothing applied: the objects there already hold these phases."
        )
        self.phases_label.setToolTip(applied_text(made))

    def _image_opened(self, _image) -> None:
        """A new image: the workbench dropped the examples and results of the old one, and
        brought back the examples saved with this one."""
        self.examples_button.setChecked(False)
        saved = self.state.workbench.examples
        self.phases_label.setText(
            f"Examples of {len(saved)} classes saved with this image: paint to see the map again."
            if saved
            else PHASES_HINT
        )
        self._settings_changed()


def applied_text(made: PhaseObjects) -> str:
    """What "Apply as objects" made: objects per phase, and the exact fractions of the map."""
    counts = ", ".join(f"{name} {format_number(n)}" for name, n in made.counts().items())
    fractions = ", ".join(f"{n} {format_percent(f)}" for n, f in made.fractions().items())
    return (
        f"Regions: {counts} (under {format_number(made.min_area_px)} px left out). "
        f"Phase fractions of the map: {fractions}."
    )


def _fraction(parent: QWidget, value: float, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent, minimum=0.0, maximum=1.0, singleStep=0.01, decimals=2)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


def _elide(combo: QComboBox, characters: int) -> None:
    """A combo as wide as `characters`, not as its longest item: long texts must not widen
    the side panel."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
