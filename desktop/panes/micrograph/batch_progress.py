"""Where a batch runs and how far it is, for the Batch dialog.

`WhereBox` offers this computer or a dask cluster at an address (`inference.batch.Where`).
`BatchProgressView` shows the figures the CLI's bar shows (items done, failed and found done
already, the rate, the time left) and one row per item with its state. The batch runner calls
its `on_progress` and `on_item` callbacks on the job's worker thread; `BatchRelay` carries them
to the GUI thread as signals before any widget is touched.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QRadioButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inference.batch import BatchProgress, ItemEvent, Where
from inference.errors import MatLensError

DEFAULT_ADDRESS = "tcp://localhost:8786"
STATE_TEXT = {"done": "done", "skipped": "done before", "failed": "failed"}
STATE_COLOUR = {"done": "#1e7b34", "skipped": "#555555", "failed": "#c0392b"}


class BatchRelay(QObject):
    """Carries the runner's callbacks from its worker thread to the GUI thread (queued
    signals), each tagged with the run it belongs to, so a stopped run's late figures are
    told apart from the next run's."""

    progress = Signal(int, object)  # run, BatchProgress
    item = Signal(int, object)  # run, ItemEvent

    def callbacks(self, run: int):
        """(on_progress, on_item) for `run_micrograph_batch`, safe to call from any thread."""

        def on_progress(figures: BatchProgress) -> None:
            self.progress.emit(run, figures)

        def on_item(event: ItemEvent) -> None:
            self.item.emit(run, event)

        return on_progress, on_item


class WhereBox(QGroupBox):
    """ "Run on": this computer, or a cluster at an address."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Run on", parent)
        self.here_radio = QRadioButton("This computer", self)
        self.here_radio.setToolTip("One image after another in this window's process")
        self.cluster_radio = QRadioButton("A cluster at", self)
        self.cluster_radio.setToolTip(
            "A running dask scheduler with workers (`dask scheduler`, `dask worker`) that see "
            "the input and output folders at the same paths"
        )
        self.address_edit = QLineEdit(self)
        self.address_edit.setPlaceholderText(DEFAULT_ADDRESS)
        self.address_edit.setToolTip("The scheduler's address: tcp://HOST:PORT")
        self.group = QButtonGroup(self)
        for radio in (self.here_radio, self.cluster_radio):
            self.group.addButton(radio)
        self.here_radio.setChecked(True)
        self.address_edit.setEnabled(False)
        self.cluster_radio.toggled.connect(self.address_edit.setEnabled)
        self.address_edit.textEdited.connect(lambda _: self.cluster_radio.setChecked(True))
        grid = QGridLayout(self)
        grid.addWidget(self.here_radio, 0, 0, 1, 2)
        grid.addWidget(self.cluster_radio, 1, 0)
        grid.addWidget(self.address_edit, 1, 1)
        grid.setColumnStretch(1, 1)

    def where(self) -> Where:
        """This computer, or the cluster typed; one line (MatLensError) when none is typed."""
        if not self.cluster_radio.isChecked():
            return Where()
        address = self.address_edit.text().strip()
        if not address:
            raise MatLensError(
                f"Type the address of the cluster's scheduler (e.g. {DEFAULT_ADDRESS})."
            )
        return Where.cluster(address)


class BatchProgressView(QWidget):
    """The bar, the figures in one line, and the items as they finish."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.figures_label = QLabel("", self)
        self.figures_label.setToolTip("Items done, failed, the rate and the time left")
        self.items = QTreeWidget(self)
        self.items.setHeaderLabels(["Image", "State", "Details"])
        self.items.setRootIsDecorated(False)
        self.items.setUniformRowHeights(True)
        header = self.items.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.items.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.figures_label)
        layout.addWidget(self.items, 1)
        self.last: BatchProgress | None = None

    def start(self, text: str) -> None:
        self.bar.setValue(0)
        self.figures_label.setText(text)
        self.items.clear()
        self.items.hide()
        self.last = None

    def show_figures(self, figures: BatchProgress) -> None:
        self.last = figures
        self.bar.setValue(int(round(figures.fraction * 1000)))
        self.figures_label.setText(figures.message)

    def add_item(self, event: ItemEvent) -> None:
        details = event.error
        if event.tries > 1:
            details = f"after {event.tries} tries" + (f": {details}" if details else "")
        if event.worker and not details:
            details = f"on {event.worker}"
        row = QTreeWidgetItem([event.label, STATE_TEXT.get(event.state, event.state), details])
        row.setForeground(1, QBrush(QColor(STATE_COLOUR.get(event.state, "#000000"))))
        row.setToolTip(2, details)
        self.items.addTopLevelItem(row)
        self.items.scrollToItem(row)
        self.items.show()

    def finish(self) -> None:
        self.bar.setValue(1000)

    def rows(self) -> list[tuple[str, str, str]]:
        """(image, state, details) of every item listed, in the order they finished."""
        return [
            tuple(self.items.topLevelItem(i).text(c) for c in range(3))  # type: ignore[misc]
            for i in range(self.items.topLevelItemCount())
        ]

    def state_of(self, label: str) -> str:
        for image, state, _details in self.rows():
            if image == label:
                return state
        raise KeyError(label)
