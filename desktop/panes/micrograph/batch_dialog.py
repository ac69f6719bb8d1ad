"""Batch…: apply the pane's current settings (a recipe) to a folder of micrographs.

The recipe is taken from the workbench (model, automatic mode and the parameters its panel
shows, classes, calibration: `MicrographWorkbench.recipe`) or loaded from a file;
`inference.segmentation.batch.run_batch` does the work in a job slot with progress and Cancel. A batch resumes where it stopped: images already
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

from desktop.panes.micrograph.state import MicrographState
from inference.errors import ErrorReport, MatLensError
from inference.imaging.calibration import Calibration
from inference.segmentation.recipe import (
    TABLE_UNITS,
    CalibrationRule,
    Recipe,
    load_recipe,
    save_recipe,
)
from inference.segmentation.workbench import Mode

if TYPE_CHECKING:  # slow to import at start-up: the exports and summaries
    from inference.segmentation.batch import BatchReport

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
        details.append(f"{n} example points")
    return "; ".join(details)


class BatchDialog(QDialog):
    """Recipe, folders, Start/Cancel, progress and the one-line outcome with the failures."""

    def __init__(self, state: MicrographState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch: measure a folder of micrographs")
        self.state = state
        self.base: Recipe | None = None  # model, parameters, classes, examples (pane or file)
        self.report: BatchReport | None = None
        self.slot = state.lasting_slot()  # not the image's: another image does not stop it
        self.slot.changed.connect(self._progress)
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
        return self.slot.busy

    def _ask_folder(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"{title} folder", edit.text())
        if folder:
            edit.setText(folder)

    def start(self) -> bool:
        """Run the batch in a worker; False (and one line) when the recipe or folders are bad."""
        from inference.segmentation.batch import run_batch  # slow to import at start-up

        if self.running:
            return False
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
            return False
        self._show_error("")
        self.report = None
        self.failures_list.clear()
        self.failures_list.hide()
        self.progress.setValue(0)
        self.current_label.setText("Starting…")
        self.slot.submit(
            run_batch,
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
            self.current_label.setText("Cancelling after the current image…")

    def _progress(self) -> None:
        """The slot changed: progress, or the end of the run."""
        self._set_running(self.slot.busy)
        if self.slot.busy:
            self.progress.setValue(int(round(self.slot.fraction * 1000)))
            if self.slot.message and self.slot.message != self.slot.label:
                self.current_label.setText(self.slot.message)

    def _finished(self, report: BatchReport) -> None:
        self.report = report
        self.progress.setValue(1000)
        self.current_label.setText("")
        self.summary_label.setStyleSheet(FAILED_STYLE if report.failures else "")
        self.summary_label.setText(report.message)
        for failure in report.failures:
            self.failures_list.addItem(f"{failure.file}: {failure.reason}")
        self.failures_list.setVisible(bool(report.failures))
        self.state.show_status(f"Batch: {report.message}")

    def _cancelled(self) -> None:
        self.current_label.setText("")
        self.summary_label.setStyleSheet("")
        self.summary_label.setText(
            "Cancelled. Start again to resume: images already done are skipped."
        )

    def _failed(self, report: ErrorReport) -> None:
        self.current_label.setText("")
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
        ):
            w.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _show_error(self, message: str) -> None:
        self.summary_label.setStyleSheet(FAILED_STYLE if message else "")
        self.summary_label.setText(message)
