"""Model manager: installed models, their status, the device, and importing a SAM checkpoint.

A damaged model (a file whose checksum differs from its card, a card that cannot be read) is
named under the table in the line `matlens doctor` prints for it, which says how to fix it.

The states come from a job (`check_models` reads every model file for its checksum, hundreds of
MB): the dialog opens at once and says "checking…" until they arrive."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.job_bar import JobBar
from desktop.workers import JobSlot
from inference.runtime.exporting import run_export
from inference.runtime.model_check import ModelsCheck, check_models

if TYPE_CHECKING:
    from desktop.workers import JobRunner, Worker
    from inference.errors import ErrorReport
    from inference.runtime.sessions import DeviceReport

COLUMNS = ("Model", "Task", "Status", "Licence", "Source")
CHECKING = "checking…"  # the Status cells while the check runs


class ModelManager(QDialog):
    models_changed = Signal()

    def __init__(self, jobs: JobRunner, device: DeviceReport | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Model manager")
        self.resize(960, 480)
        self.jobs = jobs
        self.worker: Worker | None = None
        self.check_slot = JobSlot(jobs, parent=self)
        self.checked: ModelsCheck | None = None  # the latest check's answer

        self.device_label = QLabel(self)
        self.set_device(device)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # names and licences run to a sentence ("MIT (trained here on crabnet 2.0.8's copies of
        # ...)"): those two columns share the width left and wrap, so none is pushed out of sight
        for column in ("Model", "Licence"):
            header.setSectionResizeMode(COLUMNS.index(column), QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        # one line per damaged model, with its fix: the words of `matlens doctor`
        self.damage_label = QLabel("", self)
        self.damage_label.setTextFormat(Qt.TextFormat.PlainText)  # paths, not markup
        self.damage_label.setWordWrap(True)
        self.damage_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.damage_label.setStyleSheet("color: #a00")

        self.install_button = QPushButton("Install missing models", self)
        self.install_button.clicked.connect(self.install_missing)
        self.import_button = QPushButton("Import SAM checkpoint…", self)
        self.import_button.clicked.connect(self.ask_import)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.progress = QProgressBar(self)
        self.check_bar = JobBar(self)
        self.check_bar.watch(self.check_slot)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)

        buttons = QHBoxLayout()
        for w in (self.install_button, self.import_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(close)
        job_row = QHBoxLayout()
        job_row.addWidget(self.progress, 1)
        job_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.device_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.damage_label)
        layout.addWidget(self.check_bar)
        layout.addLayout(job_row)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._set_busy(False)
        self.refresh()

    def set_device(self, device: DeviceReport | None) -> None:
        """The device that runs the models; "checking…" until the window has found it (the
        window tells the dialog when it does, so it never stays "checking…")."""
        text = device.label if device else "checking…"
        self.device_label.setText(f"<b>Compute device:</b> {text}")

    @property
    def checking(self) -> bool:
        return self.check_slot.busy

    def refresh(self) -> None:
        """Check every model in a job; until the answer comes the Status cells say "checking…"."""
        status = COLUMNS.index("Status")
        for row in range(self.table.rowCount()):
            self.table.setItem(row, status, QTableWidgetItem(CHECKING))
        self.damage_label.hide()
        self.install_button.setEnabled(False)
        self.check_slot.submit(
            check_models,
            label="Checking the models' files…",
            cancellable=False,
            on_result=self._show_models,
            on_error=self._on_error,
            name="model check",
        )

    def _show_models(self, checked: ModelsCheck) -> None:
        self.checked = checked
        self.table.setRowCount(len(checked.models))
        for row, model in enumerate(checked.models):
            card = model.card
            values = (
                card.name,
                card.task,
                model.state,
                card.licence,
                f"{card.source_package} {card.source_version}".strip(),
            )
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                is_status = col == COLUMNS.index("Status")
                item.setToolTip(model.fix if model.fix and is_status else value)
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        fixes = checked.fixes
        self.damage_label.setText("\n".join(fixes))
        self.damage_label.setVisible(bool(fixes))
        self.install_button.setEnabled(checked.bundled_missing and self.worker is None)

    def done(self, result: int) -> None:
        self.check_slot.discard()  # a check still running has nobody to show its answer to
        super().done(result)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.import_button.setEnabled(not busy)
        if busy:
            self.install_button.setEnabled(False)

    def _run(self, *args: str) -> None:
        self._set_busy(True)
        self.progress.setValue(0)
        self.worker = self.jobs.start(
            run_export,
            *args,
            on_progress=self._on_progress,
            on_result=self._on_done,
            on_error=self._on_error,
            on_cancelled=lambda: self.status.setText("Cancelled."),
            on_finished=self._on_finished,
            name="model export",
        )

    def install_missing(self) -> None:
        self.status.setText("Exporting models…")
        self._run()

    def ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Import a SAM checkpoint",
            "",
            "PyTorch checkpoints (*.pth *.pt *.pth.tar);;All files (*)",
        )
        if path:
            dialog = ImportDialog(Path(path), self)
            if dialog.exec():
                self.import_checkpoint(Path(path), dialog.model_type(), dialog.model_name())

    def import_checkpoint(self, path: Path, model_type: str, name: str) -> None:
        self.status.setText(f"Importing {path.name}…")
        self._run("import-sam", str(path), "--type", model_type, "--name", name or path.stem)

    def cancel_job(self) -> None:
        if self.worker:
            self.worker.cancel()

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 100))
        if message:
            self.status.setText(message)

    def _on_done(self, result: dict) -> None:
        if "id" in result:
            self.status.setText(f"Imported {result['name']}. It is now listed and can be selected.")
        else:
            self.status.setText("All models are installed.")
        self.models_changed.emit()

    def _on_error(self, report: ErrorReport) -> None:
        self.status.setText(f"<span style='color:#a00'>{report.message}</span>")

    def _on_finished(self) -> None:
        self.worker = None
        self._set_busy(False)
        self.refresh()


class ImportDialog(QDialog):
    """Asks what kind of SAM the checkpoint is and what to call it."""

    TYPES = (
        ("ViT-B (sam_vit_b, micro-sam vit_b)", "vit_b"),
        ("ViT-L", "vit_l"),
        ("ViT-H", "vit_h"),
        ("ViT-T (MobileSAM, micro-sam vit_t)", "vit_t"),
    )

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import SAM checkpoint")
        self.type_box = QComboBox(self)
        for label, key in self.TYPES:
            self.type_box.addItem(label, key)
        guess = next((k for _, k in self.TYPES if k in path.name.lower()), "vit_b")
        self.type_box.setCurrentIndex([k for _, k in self.TYPES].index(guess))
        self.name_edit = QLineEdit(path.stem, self)
        ok = QPushButton("Import", self)
        ok.clicked.connect(self.accept)
        form = QFormLayout(self)
        form.addRow("Checkpoint", QLabel(path.name, self))
        form.addRow("Architecture", self.type_box)
        form.addRow("Name", self.name_edit)
        form.addRow(ok)

    def model_type(self) -> str:
        return self.type_box.currentData()

    def model_name(self) -> str:
        return self.name_edit.text().strip()
