"""Automatic tools of the Micrographs pane: segment everything, microstructure map, phases.

The panel only adapts `inference.segmentation.{automatic, tiling, microstructure, phases}`: every
model call runs in a Worker, results come back as objects through one undoable AddObjects, so
undo, brush and class work on them as on clicked objects. Phases by example updates a preview
live: at most one classification runs, examples added meanwhile are merged into the next.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
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

from desktop.panes.micrograph.canvas import EXAMPLES, PROMPT
from desktop.panes.micrograph.commands import AddClass, AddObjects
from inference.errors import ErrorReport
from inference.segmentation.annotations import AnnotatedObject

if TYPE_CHECKING:
    from desktop.panes.micrograph.pane import MicrographPane

MAP_KINDS = {
    "phase": "Phase vs matrix",
    "grains": "Grains and boundaries",
    "cracks": "Cracks",
}


# --- worker functions (no Qt; they run on pool threads) ------------------------------------------
def embedded_clicks(session, model_id: str, rgb: np.ndarray):
    """The pane's click session when it holds this image's embedding (or tiles) for this model,
    so automatic tools reuse it instead of embedding again; else None."""
    model = session.model_for(model_id)
    clicks = session.clicks
    if clicks is None or clicks.model is not model or clicks.shape != tuple(rgb.shape[:2]):
        return None
    return clicks


def segment_everything_job(session, model_id: str, rgb: np.ndarray, params, progress, cancel):
    """Automatic masks for the whole image, tiled when it is larger than the model input."""
    from inference.segmentation import automatic, everything

    model = session.model_for(model_id)
    clicks = embedded_clicks(session, model_id, rgb)
    if clicks is not None and clicks.tiles is not None:
        return everything.segment_everything_tiled(
            model, rgb, params, progress, cancel, tiles=clicks.tiles
        )
    if clicks is not None:
        return automatic.segment_everything(model, clicks.embedding, params, progress, cancel)
    return everything.segment_image(model, rgb, params, progress=progress, cancel=cancel)


def map_job(session, model_id, rgb, display, auto_params, map_params, masks, progress, cancel):
    """The microstructure map, reusing the automatic masks of this image when there are some."""
    from inference.segmentation.microstructure import build_map

    if masks is None:
        masks = segment_everything_job(
            session, model_id, rgb, auto_params, lambda f, m="": progress(0.9 * f, m), cancel
        )
    progress(0.92, "merging regions into the map")
    return masks, build_map(display, masks, map_params)


def phase_features_job(session, model_id: str, rgb: np.ndarray, progress, cancel):
    from inference.segmentation.phases import compute_features

    model = session.model_for(model_id)
    clicks = embedded_clicks(session, model_id, rgb)
    embedding = clicks.embedding if clicks is not None else None  # tiled: the whole image's
    return compute_features(model, rgb, embedding, progress=progress, cancel=cancel)


def phase_classify_job(features, examples, params, colours: dict, cancel):
    """The phase map and its RGBA preview in the classes' colours (built here, not on the GUI
    thread: an image-sized look-up)."""
    from inference.segmentation.phases import classify

    result = classify(features, examples, params, cancel=cancel)
    lut = np.zeros((len(result.classes) + 1, 4), np.uint8)
    for k, name in enumerate(result.classes, start=1):
        lut[k] = (*colours.get(name, (255, 255, 255)), 255)
    return result, lut[result.labels]


def renumber(objs: list[AnnotatedObject], first_id: int) -> list[AnnotatedObject]:
    """Ids are given on the GUI thread: the user may have added objects while a job ran."""
    return [dataclasses.replace(o, id=first_id + k) for k, o in enumerate(objs)]


class AutomaticPanel(QTabWidget):
    """Tabs "Everything", "Map", "Phases" in the side panel; the pane owns the data."""

    def __init__(self, pane: MicrographPane) -> None:
        super().__init__(pane)
        self.pane = pane
        self._masks = None  # (generation, AutoParams, masks): the map reuses them
        self._features = None  # (generation, PhaseFeatures)
        self._features_worker = None
        self.examples: dict[str, list[tuple[float, float]]] = {}
        self._classifying = False
        self._classify_again = False
        self.phase_result = None
        self.workers: list = []  # cancellable jobs started here
        self.addTab(self._everything_tab(), "Everything")
        self.addTab(self._map_tab(), "Map")
        self.addTab(self._phases_tab(), "Phases")
        self.setToolTip("Automatic segmentation: results become objects you can edit and undo")

    # layout ------------------------------------------------------------------------------------
    def _everything_tab(self) -> QWidget:
        from inference.segmentation.automatic import AutoParams

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
        self.phases_label = QLabel(
            "Choose a class, paint a few examples of it, then of the other classes. "
            "The map updates as you paint.",
            page,
        )
        self.phases_label.setWordWrap(True)
        layout.addLayout(row)
        layout.addWidget(self.phases_label)
        layout.addStretch(1)
        return page

    # segment everything ------------------------------------------------------------------------
    def auto_params(self):
        from inference.segmentation.automatic import AutoParams

        return dataclasses.replace(
            AutoParams(),
            points_per_side=self.points_spin.value(),
            pred_iou_thresh=self.iou_spin.value(),
            stability_thresh=self.stability_spin.value(),
            min_area_px=self.min_area_spin.value(),
        )

    def _can_run(self) -> bool:
        if self.pane.loaded is None:
            self.pane.context.show_error("Open a micrograph first.")
            return False
        return True

    def segment_everything(self):
        if not self._can_run():
            return None
        pane, params = self.pane, self.auto_params()
        generation, class_name = pane._generation, pane.current_class()
        pane._show_job("Segmenting everything…", cancellable=True)
        self.everything_button.setEnabled(False)
        worker = self._start(
            segment_everything_job,
            pane.sam,
            pane.model_id,
            pane.loaded.rgb,
            params,
            on_result=lambda m, g=generation: self._everything_done(m, params, class_name, g),
            on_cancelled=lambda: pane.context.show_status("Segment everything cancelled"),
            on_finished=lambda: self._finished(self.everything_button),
            name="segment everything",
        )
        return worker

    def _everything_done(self, masks, params, class_name: str, generation: int) -> None:
        from inference.segmentation.automatic import to_objects

        if generation != self.pane._generation:
            return
        self._masks = (generation, params, masks)
        self._add_objects(to_objects(masks, class_name, 1), f"Segment everything ({len(masks)})")

    # microstructure map ------------------------------------------------------------------------
    def map_params(self):
        from inference.segmentation.microstructure import MapParams

        return dataclasses.replace(MapParams(), kind=self.map_kind.currentData())

    def build_map(self):
        if not self._can_run():
            return None
        pane, auto, params = self.pane, self.auto_params(), self.map_params()
        generation = pane._generation
        masks = None
        if self._masks and self._masks[0] == generation and self._masks[1] == auto:
            masks = self._masks[2]
        pane._show_job("Building the microstructure map…", cancellable=True)
        self.map_button.setEnabled(False)
        worker = self._start(
            map_job,
            pane.sam,
            pane.model_id,
            pane.loaded.rgb,
            pane.loaded.display,
            auto,
            params,
            masks,
            on_result=lambda r, g=generation: self._map_done(r, auto, params, g),
            on_cancelled=lambda: pane.context.show_status("Map cancelled"),
            on_finished=lambda: self._finished(self.map_button),
            name="microstructure map",
        )
        return worker

    def _map_done(self, result, auto, params, generation: int) -> None:
        from inference.segmentation.microstructure import map_objects

        if generation != self.pane._generation:
            return
        masks, micro_map = result
        self._masks = (generation, auto, masks)
        class_name = {"grains": "grain", "cracks": "crack"}.get(
            params.kind, self.pane.current_class()
        )
        objs = map_objects(micro_map, class_name, 1)
        self._add_objects(objs, f"{MAP_KINDS[params.kind]} map ({len(objs)})")

    # phases by example -------------------------------------------------------------------------
    def _examples_toggled(self, on: bool) -> None:
        pane = self.pane
        if on and not self._can_run():
            self.examples_button.setChecked(False)
            return
        pane.set_mode(EXAMPLES if on else PROMPT)
        if on:
            self._ensure_features()

    def _ensure_features(self) -> None:
        pane = self.pane
        generation = pane._generation
        if self._features and self._features[0] == generation:
            return
        if self._features_worker is not None and self._features_worker.generation == generation:
            return
        pane._show_job("Computing features for phases…", cancellable=True)
        worker = self._start(
            phase_features_job,
            pane.sam,
            pane.model_id,
            pane.loaded.rgb,
            on_result=lambda f, g=generation: self._features_ready(f, g),
            on_finished=self._features_finished,
            name="phase features",
        )
        worker.generation = generation
        self._features_worker = worker

    def _features_finished(self) -> None:
        self._features_worker = None
        self.pane._hide_job()

    def _features_ready(self, features, generation: int) -> None:
        if generation != self.pane._generation:
            return
        self._features = (generation, features)
        self._request_classification()

    def stroke(self, path: list, erase: bool) -> None:
        """Canvas strokes in examples mode: add points of the current class, or remove."""
        if erase:
            radius = max(self.pane.canvas.brush_radius, 6.0)
            for name, pts in self.examples.items():
                self.examples[name] = [
                    p
                    for p in pts
                    if all((p[0] - x) ** 2 + (p[1] - y) ** 2 > radius**2 for x, y in path)
                ]
        else:
            h, w = self.pane.annotations.shape
            inside = [(float(x), float(y)) for x, y in path if 0 <= x < w and 0 <= y < h]
            self.examples.setdefault(self.pane.current_class(), []).extend(inside)
        self.examples = {k: v for k, v in self.examples.items() if v}
        self._show_examples()
        self._request_classification()

    def example_list(self):
        from inference.segmentation.phases import PhaseExample

        return [PhaseExample(name, tuple(pts)) for name, pts in self.examples.items()]

    def _show_examples(self) -> None:
        annotations = self.pane.annotations
        colours = {c.name: c.colour for c in annotations.classes} if annotations else {}
        self.pane.canvas.set_examples(
            [
                (x, y, colours.get(name, (255, 255, 255)))
                for name, pts in self.examples.items()
                for x, y in pts
            ]
        )

    def clear_examples(self) -> None:
        self.examples = {}
        self.phase_result = None
        self._show_examples()
        self.pane.canvas.set_preview(None)
        self.phases_label.setText("Examples cleared.")

    def _request_classification(self) -> None:
        if self._features is None or self._features[0] != self.pane._generation:
            return
        if len(self.examples) < 2:
            self.pane.canvas.set_preview(None)
            self.phase_result = None
            self.phases_label.setText(
                f"{len(self.examples)} class(es) with examples: paint at least two classes."
            )
            return
        if self._classifying:
            self._classify_again = True
            return
        from inference.segmentation.phases import PhaseParams

        self._classifying = True
        generation = self.pane._generation
        self.pane.context.jobs.start(
            phase_classify_job,
            self._features[1],
            self.example_list(),
            PhaseParams(),
            {c.name: c.colour for c in self.pane.annotations.classes},
            on_result=lambda r, g=generation: self._classified(*r, g),
            on_error=self._failed,
            on_finished=self._classify_finished,
            name="classify phases",
        )

    def _classify_finished(self) -> None:
        self._classifying = False
        if self._classify_again:
            self._classify_again = False
            self._request_classification()

    def _classified(self, result, preview: np.ndarray, generation: int) -> None:
        if generation != self.pane._generation or self._classify_again:
            return
        self.phase_result = result
        self.pane.canvas.set_preview(preview)
        shares = ", ".join(f"{name} {share:.1%}" for name, share in result.fractions().items())
        self.phases_label.setText(f"Preview: {shares}. Apply to keep it as objects.")

    def apply_phases(self) -> None:
        from inference.segmentation.phases import to_objects

        pane = self.pane
        if self.phase_result is None:
            pane.context.show_error("Nothing to apply: paint examples of at least two classes.")
            return
        objs = to_objects(self.phase_result, 1)
        pane.undo_stack.beginMacro("Phases by example")
        known = {c.name for c in pane.annotations.classes}
        for name in self.phase_result.classes:
            if name not in known:
                pane.undo_stack.push(AddClass(pane.annotations, pane._changed, name))
        self._add_objects(objs, f"Phases ({len(objs)} objects)")
        pane.undo_stack.endMacro()
        self.examples_button.setChecked(False)
        self.clear_examples()

    # shared ------------------------------------------------------------------------------------
    def _add_objects(self, objs: list[AnnotatedObject], text: str) -> None:
        pane = self.pane
        if not objs:
            pane.context.show_status("No objects found with these settings.")
            return
        objs = renumber(objs, pane.annotations.next_id())
        pane.undo_stack.push(AddObjects(pane.annotations, pane._changed, objs, text))
        pane.context.show_status(f"{text}: added {len(objs)} objects (Ctrl+Z to undo)")

    def _failed(self, report: ErrorReport) -> None:
        self.pane._job_failed(report)

    def _finished(self, button: QPushButton) -> None:
        button.setEnabled(True)
        self.pane._hide_job()

    def _start(self, fn, *args, on_finished, **kwargs):
        """A cancellable job: the pane's Cancel button and a new image stop it; its errors and
        progress go to the panel's message and the pane's progress bar."""
        kwargs.setdefault("on_error", self._failed)
        kwargs.setdefault("on_progress", self.pane._job_progress)
        holder: list = []

        def finished() -> None:
            if holder and holder[0] in self.workers:
                self.workers.remove(holder[0])
            on_finished()

        worker = self.pane.context.jobs.start(fn, *args, on_finished=finished, **kwargs)
        holder.append(worker)
        self.workers.append(worker)
        return worker

    def cancel(self) -> None:
        for worker in self.workers:
            worker.cancel()  # each leaves `workers` when it has finished

    def image_changed(self) -> None:
        """A new image: examples and cached results belong to the old one."""
        self.cancel()
        self._masks = self._features = None
        self.examples_button.setChecked(False)
        self.clear_examples()


def _fraction(parent: QWidget, value: float, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent, minimum=0.0, maximum=1.0, singleStep=0.01, decimals=2)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin
