"""About MatLens: version, and every bundled model with its licence and source."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from inference import __version__
from inference.runtime.registry import ModelCard, files_present, load_cards


def _presence(card: ModelCard) -> str:
    # presence only: checksums read every model file (hundreds of MB), which the GUI thread
    # must not; Models ▸ Model manager checks them in a job and names a damaged file
    return "installed" if files_present(card) else "missing"


def about_html() -> str:
    rows = (
        "".join(
            f"<tr><td>{html.escape(c.name)}</td><td>{html.escape(c.licence)}</td>"
            f"<td>{html.escape(c.source_package)} {html.escape(c.source_version)}</td>"
            f"<td>{_presence(c)}</td></tr>"
            for c in load_cards()
            if c.bundled
        )
        or "<tr><td colspan=4>No bundled models.</td></tr>"
    )
    return (
        f"<h2>MatLens {__version__}</h2>"
        "<p>An offline workbench for materials labs: micrographs, crystal structures, "
        "literature and property prediction. Models run locally with ONNX Runtime; "
        "nothing leaves this computer.</p>"
        "<h3>Bundled models</h3>"
        "<table cellpadding=4><tr><th align=left>Model</th><th align=left>Licence</th>"
        f"<th align=left>Source</th><th align=left>Status</th></tr>{rows}</table>"
    )


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About MatLens")
        self.label = QLabel(about_html(), self)
        self.label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)
