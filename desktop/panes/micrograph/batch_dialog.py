"""Batch…: apply the pane's current settings (a recipe) to a folder of micrographs, on this
computer or on a dask cluster.

The recipe is taken from the workbench (model, automatic mode and the parameters its panel
shows, classes, calibration, the phase examples and the smallest phase region:
`MicrographWorkbench.recipe`) or loaded from a file. `inference.batch.run_micrograph_batch`
(the runner `matlens batch` uses) does the work in a job slot; the dialog shows its figures and
each item as it finishes, and Cancel stops the items running, on a cluster too. A batch resumes
where it stopped: images already done with the same recipe are skipped, and a bad file is listed
without stopping the others.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.panes.micrograph.batch_progress import BatchProgressView, BatchRelay, WhereBox
from inference.batch import BatchProgress, ItemEvent, run_micrograph_batch
from inference.errors import ErrorReport, MatLensError
from inference.imaging.calibration import Calibration
from inference.segmentation.recipe import (
    TABLE_UNITS,
    CalibrationRule,
    Recipe,
    load_recipe,
    save_recipe,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from desktop.panes.micrograph.state import MicrographState
    from inference.batch import BatchReport
    from inference.segmentation.workbench import Mode

MODES = {"auto": "Segment everything", "map": "Microstructure map", "phases": "Phases by example"}
FAILED_STYLE = "color: #c0392b"


def rule_text(rule: CalibrationRule) -> str:
    fixed = f"{rule.pixel_size:.4g} {rule.unit}/px" if rule.pixel_size is not None else ""
    if rule.rule == "none":
        return "None: sizes in pixels"
    if rule.rule == "fixed":
        return f"Fixed: {fixed}"
    return "Each file's metadata" + (f", else {fixed}" if fixed else "")


def recipe_text(recipe: Recipe) -> str:
    """A few words on what the recipe will do, for the dialog."""
    auto = recipe.params("auto")
    details = [f"model {recipe.model}", "classes " + ", ".join(recipe.class_names)]
    if auto:
        details.append(
            f"{auto.get('points_per_side', '?')}² points, IoU ≥ {auto.get('pred_iou_thresh', '?')}, "
            f"stability ≥ {auto.get('stability_thresh', '?')}, "
            f"min area {auto.get('min_area_px', '?')} px"
        )
    if recipe.mode == "map":
        details.append(f"map: {recipe.params('map').get('kind', 'phase')}")
    if recipe.mode == "phases":
        n = sum(len(e.get("points", ())) for e in recipe.examples)
        details.append(
            f"{n} example points of {len(recipe.examples)} classes, "
            f"regions ≥ {recipe.min_region_px} px"
        )
    return "; ".join(details)


class BatchDialog(QDialog):
    """Recipe, folders, Start/Cancel, progress and the one-line outcome with the failures."""

    def __init__(self, state: MicrographState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch: measure a folder of micrographs")
        self.state = state
        self.base: Recipe | None = None  # model, parameters, classes, examples (pane or file)
        self.report: BatchReport | None = None
        # not the image's: another image does not stop it
        self.slot = state.lasting_slot(background=True)
        self.recipe_slot = state.lasting_slot()  # recipe files are read and written in a worker
        self.slot.changed.connect(lambda: self._set_running(self.slot.busy))
        self.relay = BatchRelay(self)
        self.relay.progress.connect(self._figures)
        self.relay.item.connect(self._item)
        self._run = 0  # the run whose figures are shown
        self._build()

    # layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        recipe_box = QGroupBox("Recipe", self)
        self.name_edit = QLineEdit(recipe_box)
        self.mode_combo = QComboBox(recipe_box)
        for mode, text in MODES.items():
            self.mode_combo.addItem(text, mode)
        self.mode_combo.activated.connect(self._mode_chosen)
        self.calibration_combo = QComboBox(recipe_box)
        self.calibration_combo.setToolTip("Where each image's pixel size comes from")
        self.unit_combo = QComboBox(recipe_box)
        self.unit_combo.addItems(TABLE_UNITS)
        self.unit_combo.setToolTip("Length unit of the tables: every image is converted to it")
        self.recipe_label = QLabel("", recipe_box)
        self.recipe_label.setWordWrap(True)
        self.from_pane_button = QPushButton("From the pane", recipe_box)
        self.from_pane_button.setToolTip("Take the model, settings, classes and calibration now")
        self.from_pane_button.clicked.connect(self.take_recipe_from_pane)
        self.save_button = QPushButton("Save recipe…", recipe_box)
        self.save_button.clicked.connect(self._ask_save)
        self.load_button = QPushButton("Load recipe…", recipe_box)
        self.load_button.clicked.connect(self._ask_load)
        recipe_buttons = QHBoxLayout()
        for b in (self.from_pane_button, self.save_button, self.load_button):
            recipe_buttons.addWidget(b)
        recipe_buttons.addStretch(1)
        form = QFormLayout(recipe_box)
        form.addRow("Name", self.name_edit)
        form.addRow("Mode", self.mode_combo)
        form.addRow("Calibration", self.calibration_combo)
        form.addRow("Table unit", self.unit_combo)
        form.addRow(self.recipe_label)
        form.addRow(recipe_buttons)

        folders = QGroupBox("Folders", self)
        self.input_edit = QLineEdit(folders)
        self.input_edit.setPlaceholderText("micrographs to measure")
        self.output_edit = QLineEdit(folders)
        self.output_edit.setPlaceholderText("CSV, overlays, label images and summary.csv")
        folder_form = QFormLayout(folders)
        for label, edit in (("Input", self.input_edit), ("Output", self.output_edit)):
            browse = QPushButton("Browse…", folders)
            browse.clicked.connect(lambda _=False, e=edit, t=label: self._ask_folder(e, t))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(browse)
            folder_form.addRow(label, row)

        self.where_box = WhereBox(self)
        self.progress = BatchProgressView(self)
        self.summary_label = QLabel("", self)
        self.summary_label.setWordWrap(True)
        # The report's notes, one line each: e.g. an image left in pixels since its own scale
        # was refused (pixels not square) and the recipe's fallback would be a wrong square pixel.
        self.notes_label = QLabel("", self)
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes_label.hide()
        self.start_button = QPushButton("Start", self)
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(recipe_box)
        layout.addWidget(folders)
        layout.addWidget(self.where_box)
        layout.addWidget(self.progress, 1)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.notes_label)
        layout.addLayout(buttons)
        self.resize(640, 640)

    # the recipe --------------------------------------------------------------------------------
    def take_recipe_from_pane(self) -> None:
        if self.running:
            return
        image = self.state.workbench.image
        if image is None:
            self._show_error("Open a micrograph first: the recipe is taken from its settings.")
            return
        try:
            recipe = self._recipe_from_pane()
        except MatLensError as exc:  # e.g. phases without examples: fall back to everything
            self._show_error(f"{exc}; using “{MODES['auto']}” instead")
            recipe = self._recipe_from_pane("auto")
        else:
            self._show_error("")
        if not self.input_edit.text():
            folder = image.path.parent
            self.input_edit.setText(str(folder))
            self.output_edit.setText(str(folder.with_name(folder.name + "_matlens")))
        self.set_recipe(recipe)

    def _recipe_from_pane(self, mode: Mode | None = None) -> Recipe:
        return self.state.workbench.recipe(self.state.current_class, mode)

    def set_recipe(self, recipe: Recipe) -> None:
        """Show a recipe in the widgets; its other settings are kept as they are."""
        self.base = recipe
        self.name_edit.setText(recipe.name)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(recipe.mode))
        self._fill_calibration(recipe.calibration)
        self.unit_combo.setCurrentText(recipe.unit if recipe.unit in TABLE_UNITS else "µm")
        self.recipe_label.setText(recipe_text(recipe))

    def _fill_calibration(self, chosen: CalibrationRule) -> None:
        rules = [chosen, CalibrationRule("metadata")]
        annotations = self.state.workbench.annotations
        cal = annotations.calibration if annotations is not None else Calibration()
        if cal.calibrated:
            rules += [
                CalibrationRule("fixed", cal.pixel_size, cal.unit),
                CalibrationRule("metadata", cal.pixel_size, cal.unit),
            ]
        rules.append(CalibrationRule("none"))
        self.calibration_combo.clear()
        for rule in dict.fromkeys(rules):  # frozen dataclasses: duplicates drop out
            self.calibration_combo.addItem(rule_text(rule), rule)
        self.calibration_combo.setCurrentIndex(0)

    def _mode_chosen(self) -> None:
        mode = self.mode_combo.currentData()
        if self.base is None or mode == self.base.mode:
            return
        if self.state.workbench.image is not None:
            try:
                base = self._recipe_from_pane(mode)
            except MatLensError as exc:
                self._show_error(str(exc))
                self.mode_combo.setCurrentIndex(self.mode_combo.findData(self.base.mode))
                return
            self.base = dataclasses.replace(base, name=self.name_edit.text())
            self.recipe_label.setText(recipe_text(self.base))
            self._show_error("")

    def recipe(self) -> Recipe:
        """The recipe as the dialog shows it; MatLensError (one line) when it is not valid."""
        if self.base is None:
            raise MatLensError("No recipe yet: open a micrograph or load a recipe.")
        return dataclasses.replace(
            self.base,
            name=self.name_edit.text().strip(),
            mode=self.mode_combo.currentData(),
            calibration=self.calibration_combo.currentData(),
            unit=self.unit_combo.currentText(),
        )

    def _ask_save(self) -> None:
        try:
            self.recipe()  # refuse an invalid recipe before asking where to save it
        except MatLensError as exc:
            self._show_error(str(exc))
            return
        start = self.output_edit.text() or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(
            self, "Save recipe", str(Path(start) / "recipe.json"), "Recipe (*.json)"
        )
        if path:
            self.save_recipe(Path(path))

    def save_recipe(self, path: Path) -> None:
        """Write the recipe shown, in a worker; the line below says where, or why not."""
        try:
            recipe = self.recipe()
        except MatLensError as exc:
            self._show_error(str(exc))
            return
        self.recipe_slot.submit(
            save_recipe,
            recipe,
            Path(path),
            on_result=lambda saved: self._say(f"Recipe saved: {saved}"),
            on_error=lambda r: self._show_error(f"Could not save the recipe: {r.message}"),
            name="save recipe",
        )

    def _ask_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load recipe", "", "Recipe (*.json)")
        if path:
            self.load_recipe(Path(path))

    def load_recipe(self, path: Path) -> None:
        """Read a recipe in a worker and show it; a bad file is one line."""
        self.recipe_slot.submit(
            load_recipe,
            Path(path),
            on_result=lambda recipe: self._recipe_loaded(recipe, Path(path).name),
            on_error=lambda r: self._show_error(r.message),
            name="load recipe",
        )

    def _recipe_loaded(self, recipe: Recipe, name: str) -> None:
        if self.running:
            self._show_error("A batch is running: load the recipe once it has ended.")
            return
        self.set_recipe(recipe)
        self._say(f"Recipe loaded: {name}")

    def _say(self, text: str) -> None:
        self.summary_label.setStyleSheet("")
        self.summary_label.setText(text)

    # running -----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.slot.busy

    def _ask_folder(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"{title} folder", edit.text())
        if folder:
            edit.setText(folder)

    def start(self) -> bool:
        """Run the batch in a worker; False (and one line) when the recipe, the folders or the
        cluster's address are missing."""
        if self.running:
            return False
        input_dir = self.input_edit.text().strip()
        out_dir = self.output_edit.text().strip()
        try:
            recipe = self.recipe()
            if not input_dir:  # whether it exists, the runner says (a worker may wait on a share)
                raise MatLensError("Choose an input folder.")
            if not out_dir:
                raise MatLensError("Choose an output folder.")
            where = self.where_box.where()
        except MatLensError as exc:
            self._show_error(str(exc))
            return False
        self._show_error("")
        self._show_notes(())
        self.report = None
        self._run += 1
        on_progress, on_item = self.relay.callbacks(self._run)
        workbench = self.state.workbench
        model = workbench.model if recipe.model == workbench.model_id else None
        reaching = f"Connecting to {where.scheduler}…" if where.scheduler else "Starting…"
        self.progress.start(reaching)
        # bound here: the job slot's own keywords include `on_progress`
        job = partial(
            run_micrograph_batch, where=where, on_progress=on_progress, on_item=on_item, model=model
        )
        self.slot.submit(
            job,
            recipe,
            Path(input_dir),
            Path(out_dir),
            label="Batch…",
            on_result=self._finished,
            on_error=self._failed,
            on_cancelled=self._cancelled,
            name="batch",
        )
        return True

    def cancel(self) -> None:
        if self.running:
            self.slot.cancel()
            self.progress.figures_label.setText("Cancelling: the images being measured stop…")

    def _figures(self, run: int, figures: BatchProgress) -> None:
        if run == self._run:
            self.progress.show_figures(figures)

    def _item(self, run: int, event: ItemEvent) -> None:
        if run == self._run:
            self.progress.add_item(event)

    def _finished(self, report: BatchReport) -> None:
        self.report = report
        self.progress.finish()
        if self.progress.last is not None:
            self.progress.figures_label.setText(self.progress.last.message)
        self.summary_label.setStyleSheet(FAILED_STYLE if report.failures else "")
        self.summary_label.setText(report.message)
        self._show_notes(report.notes)
        self.state.show_status(f"Batch: {report.message}")

    def _show_notes(self, notes: Sequence[str]) -> None:
        self.notes_label.setText("\n".join(f"Note: {n}" for n in notes))
        self.notes_label.setVisible(bool(notes))

    def _cancelled(self) -> None:
        # the figures of the last update still had a rate and a time left: a run that stopped
        # has neither
        last = self.progress.last
        self.progress.figures_label.setText(f"{last.counts} · cancelled" if last else "Cancelled")
        self.summary_label.setStyleSheet("")
        self.summary_label.setText(
            "Cancelled. Start again to resume: images already done are skipped."
        )

    def _failed(self, report: ErrorReport) -> None:
        self.progress.figures_label.setText("")
        self._show_error(f"Batch stopped: {report.message}")

    def _set_running(self, running: bool) -> None:
        for w in (
            self.start_button,
            self.from_pane_button,
            self.load_button,
            self.mode_combo,
            self.calibration_combo,
            self.unit_combo,
            self.input_edit,
            self.output_edit,
            self.where_box,
        ):
            w.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _show_error(self, message: str) -> None:
        self.summary_label.setStyleSheet(FAILED_STYLE if message else "")
        self.summary_label.setText(message)
