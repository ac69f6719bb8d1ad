"""Batch…: apply the pane's current settings (a recipe) to a folder of micrographs.

The recipe is taken from the pane (model, automatic mode and the parameters its panel shows,
classes, calibration) or loaded from a file; `inference.segmentation.batch.run_batch` does the
work in a Worker with progress and Cancel. A batch resumes where it stopped: images already
done with the same recipe are skipped, and a bad file is listed without stopping the others.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.panes.micrograph.calibration import UNITS
from desktop.workers import Worker
from inference.errors import ErrorReport, MatLensError
from inference.imaging.calibration import Calibration
from inference.segmentation.recipe import CalibrationRule, Recipe, load_recipe, save_recipe

if TYPE_CHECKING:
    from desktop.panes.micrograph.pane import MicrographPane
    from inference.segmentation.batch import BatchReport

MODES = {"auto": "Segment everything", "map": "Microstructure map", "phases": "Phases by example"}
# the pane's Automatic tabs, in order, and the recipe mode each one stands for
TAB_MODES = ("auto", "map", "phases")
# the parameters the Automatic panel shows: the recipe saves exactly these (see recipe.py)
AUTO_FIELDS = ("points_per_side", "pred_iou_thresh", "stability_thresh", "min_area_px")
MAP_FIELDS = ("kind",)
FAILED_STYLE = "color: #c0392b"


def recipe_from_pane(pane: MicrographPane, mode: str | None = None) -> Recipe:
    """The recipe that repeats what the pane does now, for the mode of its Automatic tab."""
    from inference.segmentation.summary import CRACK_CLASS, GRAIN_CLASS

    panel = pane.auto_panel
    mode = mode or TAB_MODES[max(panel.currentIndex(), 0)]
    auto, map_params = panel.auto_params(), panel.map_params()
    parameters = {
        "auto": {f: getattr(auto, f) for f in AUTO_FIELDS},
        "map": {f: getattr(map_params, f) for f in MAP_FIELDS},
        "measure": {"grain_class": GRAIN_CLASS, "crack_class": CRACK_CLASS},
    }
    classes = list(pane.annotations.classes)
    current = pane.current_class()  # automatic objects take the first class, as in the pane
    classes.sort(key=lambda c: c.name != current)
    cal = pane.annotations.calibration
    examples: tuple[dict, ...] = ()
    reference = None
    if mode == "phases":
        examples = tuple(
            {"class": name, "points": [[float(x), float(y)] for x, y in points]}
            for name, points in panel.examples.items()
        )
        reference = str(pane.loaded.path)
    return Recipe(
        mode=mode,
        classes=tuple(classes),
        model=pane.model_id,
        parameters=parameters,
        calibration=default_rule(cal),
        unit=cal.unit if cal.calibrated and cal.unit in UNITS else "µm",
        examples=examples,
        reference_image=reference,
        name=pane.loaded.path.parent.name,
    )


def default_rule(calibration: Calibration) -> CalibrationRule:
    """Drawn by hand: the same for every image (one microscope setting); else the metadata."""
    if calibration.calibrated and calibration.source == "manual":
        return CalibrationRule("fixed", calibration.pixel_size, calibration.unit)
    return CalibrationRule("metadata")


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
        details.append(f"{n} example points")
    return "; ".join(details)


class BatchDialog(QDialog):
    """Recipe, folders, Start/Cancel, progress and the one-line outcome with the failures."""

    def __init__(self, pane: MicrographPane, parent: QWidget | None = None) -> None:
        super().__init__(parent or pane)
        self.setWindowTitle("Batch: measure a folder of micrographs")
        self.pane = pane
        self.base: Recipe | None = None  # model, parameters, classes, examples (pane or file)
        self.worker: Worker | None = None
        self.report: BatchReport | None = None
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
        self.unit_combo.addItems(UNITS)
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

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.current_label = QLabel("", self)
        self.summary_label = QLabel("", self)
        self.summary_label.setWordWrap(True)
        self.failures_list = QListWidget(self)
        self.failures_list.setToolTip("Images that could not be measured, and why")
        self.failures_list.hide()
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
        layout.addWidget(self.progress)
        layout.addWidget(self.current_label)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.failures_list, 1)
        layout.addLayout(buttons)
        self.resize(620, 520)

    # the recipe --------------------------------------------------------------------------------
    def take_recipe_from_pane(self) -> None:
        if self.running:
            return
        pane = self.pane
        if pane.loaded is None or pane.annotations is None:
            self._show_error("Open a micrograph first: the recipe is taken from its settings.")
            return
        mode = TAB_MODES[max(pane.auto_panel.currentIndex(), 0)]
        try:
            recipe = recipe_from_pane(pane, mode)
        except MatLensError as exc:  # e.g. phases without examples: fall back to everything
            self._show_error(f"{exc}; using “{MODES['auto']}” instead")
            recipe = recipe_from_pane(pane, "auto")
        else:
            self._show_error("")
        if not self.input_edit.text():
            folder = pane.loaded.path.parent
            self.input_edit.setText(str(folder))
            self.output_edit.setText(str(folder.with_name(folder.name + "_matlens")))
        self.set_recipe(recipe)

    def set_recipe(self, recipe: Recipe) -> None:
        """Show a recipe in the widgets; its other settings are kept as they are."""
        self.base = recipe
        self.name_edit.setText(recipe.name)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(recipe.mode))
        self._fill_calibration(recipe.calibration)
        self.unit_combo.setCurrentText(recipe.unit if recipe.unit in UNITS else "µm")
        self.recipe_label.setText(recipe_text(recipe))

    def _fill_calibration(self, chosen: CalibrationRule) -> None:
        rules = [chosen, CalibrationRule("metadata")]
        cal = self.pane.annotations.calibration if self.pane.annotations else Calibration()
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
        if self.pane.loaded is not None:
            try:
                base = recipe_from_pane(self.pane, mode)
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

    def save_recipe(self, path: Path) -> Path | None:
        try:
            saved = save_recipe(self.recipe(), path)
        except (MatLensError, OSError) as exc:
            self._show_error(f"Could not save the recipe: {exc}")
            return None
        self.summary_label.setText(f"Recipe saved: {saved}")
        return saved

    def _ask_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load recipe", "", "Recipe (*.json)")
        if path:
            self.load_recipe(Path(path))

    def load_recipe(self, path: Path) -> Recipe | None:
        """A small file: read on the GUI thread like the other settings dialogs."""
        try:
            recipe = load_recipe(path)
        except MatLensError as exc:
            self._show_error(str(exc))
            return None
        self._show_error("")
        self.set_recipe(recipe)
        self.summary_label.setText(f"Recipe loaded: {path.name}")
        return recipe

    # running -----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def _ask_folder(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"{title} folder", edit.text())
        if folder:
            edit.setText(folder)

    def start(self) -> Worker | None:
        from inference.segmentation.batch import run_batch

        if self.running:
            return None
        input_dir = self.input_edit.text().strip()
        out_dir = self.output_edit.text().strip()
        try:
            recipe = self.recipe()
            if not input_dir or not Path(input_dir).is_dir():
                raise MatLensError(f"Choose an input folder that exists (not '{input_dir}').")
            if not out_dir:
                raise MatLensError("Choose an output folder.")
        except MatLensError as exc:
            self._show_error(str(exc))
            return None
        self._show_error("")
        self.report = None
        self.failures_list.clear()
        self.failures_list.hide()
        self.progress.setValue(0)
        self.current_label.setText("Starting…")
        self._set_running(True)
        self.worker = self.pane.context.jobs.start(
            run_batch,
            recipe,
            Path(input_dir),
            Path(out_dir),
            on_result=self._finished,
            on_error=self._failed,
            on_progress=self._progress,
            on_cancelled=self._cancelled,
            on_finished=self._done,
            name="batch",
        )
        return self.worker

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.current_label.setText("Cancelling after the current image…")

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        if message:
            self.current_label.setText(message)

    def _finished(self, report: BatchReport) -> None:
        self.report = report
        self.progress.setValue(1000)
        self.current_label.setText("")
        self.summary_label.setStyleSheet(FAILED_STYLE if report.failures else "")
        self.summary_label.setText(report.message)
        for failure in report.failures:
            self.failures_list.addItem(f"{failure.file}: {failure.reason}")
        self.failures_list.setVisible(bool(report.failures))
        self.pane.context.show_status(f"Batch: {report.message}")

    def _cancelled(self) -> None:
        self.current_label.setText("")
        self.summary_label.setStyleSheet("")
        self.summary_label.setText(
            "Cancelled. Start again to resume: images already done are skipped."
        )

    def _failed(self, report: ErrorReport) -> None:
        self.current_label.setText("")
        self._show_error(f"Batch stopped: {report.message}")

    def _done(self) -> None:
        self.worker = None
        self._set_running(False)

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
        ):
            w.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _show_error(self, message: str) -> None:
        self.summary_label.setStyleSheet(FAILED_STYLE if message else "")
        self.summary_label.setText(message)
