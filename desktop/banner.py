"""A one-line message strip at the top of the window: errors never come as tracebacks."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

STYLES = {
    "error": "background:#fde8e8; color:#7a1010; border:1px solid #f5b5b5;",
    "info": "background:#e8f0fd; color:#10306a; border:1px solid #b5c8f5;",
}


class MessageBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error", timeout_ms: int = 20000) -> None:
        self.setStyleSheet(f"QFrame {{{STYLES[kind]} border-radius:4px;}} QLabel {{border:none;}}")
        self.label.setText(text)
        self.kind = kind
        self.show()
        self._timer.start(timeout_ms)

    @property
    def error_text(self) -> str:
        """The error shown now, or "" (an info message is not an error)."""
        return self.text if self.kind == "error" else ""

    def clear_error(self) -> None:
        """Hide the banner if it shows an error (a file opened fine since)."""
        if self.kind == "error":
            self._timer.stop()
            self.hide()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
