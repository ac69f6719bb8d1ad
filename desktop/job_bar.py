"""The strip under each pane that says what is running, how far it is, and offers Cancel.

It watches `JobSlot`s and shows the most recently started visible one; Cancel stops every watched
job that can be cancelled. Panes and panels never draw progress themselves.

A step that reports no progress for a while (a model's encoder runs as one call: an imported ViT-H
on the CPU takes minutes) turns the bar busy, an indeterminate bar under the step's message, so it
never looks stuck at a percentage; the next report (a fraction or a message) shows the percentage
again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

if TYPE_CHECKING:
    from desktop.workers import JobSlot


QUIET_MS = 1500  # no progress for this long: the step is shown as busy


class JobBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slots: list[JobSlot] = []
        self._order: list[JobSlot] = []  # visible slots, the most recent last
        self._last_report: tuple[JobSlot, float, str] | None = None  # the bar's latest report
        self._quiet = QTimer(self, singleShot=True, interval=QUIET_MS)
        self._quiet.timeout.connect(self._show_busy)
        self.label = QLabel("", self)
        self.label.setWordWrap(False)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(240)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the running job (Esc does not: it clears the prompts)")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        self._redraw()

    def watch(self, *slots: JobSlot) -> None:
        for slot in slots:
            if slot in self._slots:
                continue
            self._slots.append(slot)
            slot.changed.connect(lambda s=slot: self._slot_changed(s))

    def cancel(self) -> None:
        for slot in self._slots:
            slot.cancel()

    @property
    def busy(self) -> bool:
        """An indeterminate bar: the step shown has reported no progress for a while."""
        return self.progress.isVisible() and self.progress.maximum() == 0

    @property
    def text(self) -> str:
        """What a person reads on the bar now (empty when idle)."""
        return self.label.text() if self.progress.isVisible() else ""

    def _slot_changed(self, slot: JobSlot) -> None:
        if slot.visible:
            if slot not in self._order:
                self._order.append(slot)
        elif slot in self._order:
            self._order.remove(slot)
        self._redraw()

    def _redraw(self) -> None:
        shown = self._order[-1] if self._order else None
        if shown is None:
            self._quiet.stop()
            self._last_report = None
            self.label.setText("")
            self.progress.hide()
            self.cancel_button.hide()
            return
        self.label.setText(shown.message or shown.label)
        report = (shown, shown.fraction, shown.message)
        if self._last_report != report:  # a report (or another job): the percentage again
            self._last_report = report
            self.progress.setRange(0, 100)
            self.progress.setValue(int(round(100 * shown.fraction)))
            self._quiet.start()
        self.progress.show()
        self.cancel_button.setVisible(any(s.cancellable for s in self._order))

    def _show_busy(self) -> None:
        if self._order:
            self.progress.setRange(0, 0)  # Qt's busy indicator
