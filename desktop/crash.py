"""Unexpected errors are logged to a file and shown as a friendly dialog; the app keeps running."""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

from inference.errors import ErrorReport, describe
from inference.runtime.logs import log_file, send_to_log_file

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger("matlens")


def setup_logging() -> Path:
    """Log records and library warnings go to matlens.log, as for the command line."""
    return send_to_log_file() or log_file()


class CrashHandler(QObject):
    """Installed as sys.excepthook and threading.excepthook; shows errors on the GUI thread."""

    report = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = setup_logging()
        self.last: ErrorReport | None = None
        self.show_dialogs = True
        self.report.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        sys.excepthook = self._excepthook
        threading.excepthook = lambda args: self._excepthook(
            args.exc_type, args.exc_value, args.exc_traceback
        )

    def _excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        if exc is None:
            exc = exc_type()
        exc.__traceback__ = tb
        report = describe(exc)
        log.error("unexpected error: %s\n%s", report.message, report.details)
        self.last = report
        self.report.emit(report)

    @Slot(object)
    def _show(self, report: ErrorReport) -> None:
        if not self.show_dialogs:
            return
        box = QMessageBox(QApplication.activeWindow())
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("MatLens hit a problem")
        box.setText(report.message)
        box.setInformativeText(
            f"Your work is safe and MatLens keeps running.\nDetails were saved to {self.log_path}"
        )
        box.setDetailedText(report.details)
        box.open()
