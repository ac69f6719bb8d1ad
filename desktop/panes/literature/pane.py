"""Literature pane: a PDF page with extracted values highlighted, the records, library search.

Every file read and write (parsing, rendering a page, indexing a folder, embedding a query,
exporting records) runs in a worker, one latest-wins `JobSlot` per purpose shown by one
`JobBar`: opening paper B cancels paper A, and A's answer can never land after B's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.job_bar import JobBar
from desktop.panes.base import AppContext, Pane
from desktop.panes.literature.page_view import PageView
from desktop.panes.literature.records_table import RecordsTable
from desktop.workers import JobSlot
from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.literature.export import write_csv, write_json
from inference.literature.extract import Extraction, PropertyRecord, extract_pdf
from inference.literature.ner import installed as tagger_installed
from inference.literature.render import render_page
from inference.literature.search import passage_spans
from inference.prediction.inputs import fixed_formula
from inference.wording import counted

if TYPE_CHECKING:
    from inference.errors import ErrorReport
    from inference.literature.model import Paper
    from inference.literature.search import Hit, Library, UpdateReport

ALL = "All"
RENDER_SCALE = 2.0


@dataclass(frozen=True)
class OpenedPaper:
    """A parsed paper and its extraction, with where to look first."""

    path: Path
    paper: Paper
    extraction: Extraction
    page: int
    focus: tuple[int, int] | None  # a passage (start, end) to mark; `page` is where it begins


@dataclass(frozen=True)
class IndexedLibrary:
    library: Library
    report: UpdateReport


def _open_paper(
    path: Path,
    page: int,
    focus: tuple[int, int] | None,
    ner: bool,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> OpenedPaper:
    def named(fraction: float, message: str = "") -> None:
        # the bar names the paper at every step ("X.pdf: reading page 3 of 12"), as indexing does
        progress(fraction, f"{path.name}: {message}" if message else path.name)

    read = extract_pdf(path, ner=ner, progress=named, cancel=cancel)
    return OpenedPaper(path, read.paper, read.extraction, page, focus)


def _index_library(
    root: Path, *, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
) -> IndexedLibrary:
    from inference.batch import papers_on_workers
    from inference.literature.search import Library

    library = Library(root)
    if not library.pdfs():  # refused before the open library is replaced by an empty one
        raise MatLensError(_no_papers(root))
    # Worker processes where they pay (several cores); the bar moves paper by paper.
    report = library.update(
        workers=None, on_workers=papers_on_workers, progress=progress, cancel=cancel
    )
    return IndexedLibrary(library, report)


def _no_papers(root: Path) -> str:
    """The line for a folder without PDFs; a folder of micrographs (dropped on the window, it
    came here) is pointed to the Micrographs pane's Batch…."""
    from inference.imaging.formats import SUPPORTED_EXTENSIONS

    images = sum(1 for p in root.iterdir() if p.suffix.lower() in SUPPORTED_EXTENSIONS)
    if images:
        return (
            f"The folder {root.name} holds no PDF papers but {counted(images, 'image')}: to run the "
            "Micrographs pane's settings over a folder of images, use its Measure tab's Batch…"
        )
    return f"The folder {root.name} holds no PDF papers: a library is a folder of PDF files"


def _write_records(extraction: Extraction, records: list[PropertyRecord], path: Path) -> Path:
    """CSV or JSON by the extension (JSON: the `matlens extract --json` document)."""
    if path.suffix.lower() == ".json":
        return write_json(extraction, path, records)
    return write_csv(records, path)


class LiteraturePane(Pane):
    title = "Literature"
    extensions = frozenset({".pdf"})
    file_filter = "PDF papers (*.pdf)"
    # a fixed composition from the selected record, for the composition models (Prediction pane)
    predict_formula_requested = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.paper: Paper | None = None
        self.extraction: Extraction | None = None
        self.library: Library | None = None
        self.selected: PropertyRecord | None = None
        # (start, end) in the paper's text: the search hit shown, marked on every page it spans
        # (a paragraph a page break cuts is one passage) until a record is chosen
        self.passage: tuple[int, int] | None = None
        runner = context.jobs
        self.open_slot = JobSlot(runner, parent=self)
        # one page drawn at a time: holding an arrow key asks for many, only the last is drawn
        self.render_slot = JobSlot(runner, queue_latest=True, parent=self)
        self.index_slot = JobSlot(runner, background=True, parent=self)
        self.search_slot = JobSlot(runner, parent=self)
        self.export_slots = {kind: JobSlot(runner, parent=self) for kind in ("csv", "json")}
        self._build()

    # layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        bar = QHBoxLayout()
        self.open_button = QPushButton("Open PDF…")
        self.folder_button = QPushButton("Open folder…")
        self.prev_button = QToolButton()
        self.prev_button.setText("◀")
        self.next_button = QToolButton()
        self.next_button.setText("▶")
        self.page_spin = QSpinBox()
        self.page_spin.setMinimum(1)
        self.page_label = QLabel("of 0")
        self.property_filter = QComboBox()
        self.material_filter = QComboBox()
        self.ner_check = QCheckBox("Learned tagger")
        # Off by default: trained on fuel-cell and synthesis texts, it reads "Hc2" or author
        # names as materials in superconductor papers (see the model card); rules are precise.
        self.ner_check.setEnabled(tagger_installed())
        self.ner_check.setToolTip(
            "Also find material names no formula rule sees (nickel oxide, yttria-stabilized "
            "zirconia) with the MiniLM tagger fine-tuned on SOFC-Exp and MSPT; about 3× slower"
            if self.ner_check.isEnabled()
            else "The learned tagger's model is not installed (Models ▸ Model manager)"
        )
        self.csv_button = QPushButton("Export CSV…")
        self.json_button = QPushButton("Export JSON…")
        for w in (self.open_button, self.folder_button, QLabel("Page"), self.prev_button):
            bar.addWidget(w)
        for w in (self.page_spin, self.page_label, self.next_button):
            bar.addWidget(w)
        bar.addSpacing(12)
        for w in (
            QLabel("Property"),
            self.property_filter,
            QLabel("Material"),
            self.material_filter,
        ):
            bar.addWidget(w)
        bar.addWidget(self.ner_check)
        bar.addStretch(1)
        bar.addWidget(self.csv_button)
        bar.addWidget(self.json_button)

        search_bar = QHBoxLayout()
        self.search_edit = QLineEdit(
            placeholderText="Search the library, e.g. sintering temperature of LLZO"
        )
        self.search_button = QPushButton("Search")
        search_bar.addWidget(self.search_edit, 1)
        search_bar.addWidget(self.search_button)

        self.library_list = QListWidget()
        self.results_list = QListWidget()
        self.results_list.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Library"))
        left_layout.addWidget(self.library_list, 1)
        left_layout.addWidget(QLabel("Search results"))
        left_layout.addWidget(self.results_list, 2)

        self.view = PageView()
        self.table = RecordsTable()
        self.sentence_label = QLabel()
        self.sentence_label.setWordWrap(True)
        self.sentence_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.summary_label = QLabel("Open a PDF paper or a folder of papers.")
        self.summary_label.setWordWrap(True)
        right_layout.addWidget(self.summary_label)
        right_layout.addWidget(self.table, 1)
        right_layout.addWidget(self.sentence_label)
        self.predict_button = QPushButton("Predict properties")
        self.predict_button.setToolTip(
            "Open the selected record's material in the Prediction pane (composition models)"
        )
        self.predict_button.setEnabled(False)
        right_layout.addWidget(self.predict_button, 0, Qt.AlignmentFlag.AlignLeft)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.view)
        splitter.addWidget(right)
        splitter.setSizes([220, 620, 520])
        self.splitter = splitter

        self.job_bar = JobBar(self)
        self.job_bar.watch(*self._slots)
        # It keeps its height when idle, so the page does not jump as jobs come and go.
        self.job_bar.setMinimumHeight(self.job_bar.cancel_button.sizeHint().height())

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(search_bar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.job_bar)

        self.open_button.clicked.connect(self._choose_pdf)
        self.folder_button.clicked.connect(self._choose_folder)
        self.prev_button.clicked.connect(lambda: self.show_page(self.view.page - 1))
        self.next_button.clicked.connect(lambda: self.show_page(self.view.page + 1))
        self.page_spin.editingFinished.connect(lambda: self.show_page(self.page_spin.value() - 1))
        self.property_filter.currentTextChanged.connect(self._apply_filters)
        self.material_filter.currentTextChanged.connect(self._apply_filters)
        self.csv_button.clicked.connect(lambda: self._export_dialog("csv"))
        self.json_button.clicked.connect(lambda: self._export_dialog("json"))
        self.table.record_activated.connect(self.focus_record)
        self.search_button.clicked.connect(self.search)
        self.search_edit.returnPressed.connect(self.search)
        self.library_list.itemActivated.connect(self._open_library_item)
        self.library_list.itemClicked.connect(self._open_library_item)
        self.results_list.itemClicked.connect(self._open_result)
        self.predict_button.clicked.connect(self._request_prediction)
        self._set_paper_actions(False)

    def _set_paper_actions(self, enabled: bool) -> None:
        for w in (
            self.csv_button,
            self.json_button,
            self.prev_button,
            self.next_button,
            self.page_spin,
        ):
            w.setEnabled(enabled)

    # jobs -------------------------------------------------------------------------------
    @property
    def _slots(self) -> list[JobSlot]:
        return [
            self.open_slot,
            self.render_slot,
            self.index_slot,
            self.search_slot,
            *self.export_slots.values(),
        ]

    def _failed(self, report: ErrorReport) -> None:
        # The header names the paper whose records are shown: a file that failed to open
        # leaves that paper in place, so its name stays (the banner says what failed).
        if self.paper is None:
            self.summary_label.setText(report.message)
        else:  # nor does the library list point at the file that failed
            self._select_in_library(self.paper.path)
        self.report_error(report)

    def _select_in_library(self, path: Path) -> None:
        """Select the library's entry for the paper shown (none when it is not in the list)."""
        self.library_list.blockSignals(True)
        self.library_list.clearSelection()
        for i in range(self.library_list.count()):
            item = self.library_list.item(i)
            if Path(item.data(Qt.ItemDataRole.UserRole)) == Path(path):
                self.library_list.setCurrentItem(item)
        self.library_list.blockSignals(False)

    def _cancelled(self) -> None:
        self.context.show_status("Cancelled")

    def cancel(self) -> None:
        self.job_bar.cancel()

    def shutdown(self) -> None:
        for slot in self._slots:
            slot.discard()

    @property
    def busy(self) -> bool:
        return any(slot.busy for slot in self._slots)

    # opening ----------------------------------------------------------------------------
    def _choose_pdf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a paper", "", self.file_filter)
        if path:
            self.open_path(Path(path))

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of papers")
        if path:
            self.open_path(Path(path))

    @classmethod
    def can_open(cls, path: Path) -> bool:
        return Path(path).is_dir() or super().can_open(path)

    def open_path(self, path: Path) -> None:
        path = Path(path)
        if path.is_dir():
            self.open_library(path)
        else:
            self.open_paper(path)

    def open_paper(self, path: Path, page: int = 0, focus: tuple[int, int] | None = None) -> None:
        """Read and extract `path` (replacing any paper still being read), then show `page`."""
        path = Path(path)
        self.open_slot.submit(
            _open_paper,
            path,
            page,
            focus,
            self.ner_check.isChecked(),
            label=f"Reading {path.name}",
            on_result=self._paper_ready,
            on_error=self._failed,
            on_cancelled=self._cancelled,
            name="open paper",
        )

    def _paper_ready(self, opened: OpenedPaper) -> None:
        self.render_slot.discard()  # a page of the previous paper is of no use now
        self.paper, self.extraction = opened.paper, opened.extraction
        self.selected = None
        self.passage = opened.focus
        self.sentence_label.clear()
        self.view.clear_page()
        self._update_predict_button()
        paper, ex = opened.paper, opened.extraction
        self.page_spin.setMaximum(paper.n_pages)
        self.page_label.setText(f"of {paper.n_pages}")
        self._fill_filters()
        self._apply_filters()
        formulas = sorted({m.name or m.formula for m in ex.materials if m.role == "sample"})
        self.summary_label.setText(
            f"<b>{paper.title or opened.path.name}</b><br>{counted(paper.n_pages, 'page')} · "
            f"{counted(len(ex.records), 'value')} · {counted(len(formulas), 'material')} · "
            f"{counted(len(ex.synthesis), 'synthesis step')} · "
            f"{counted(len(paper.tables), 'table')}"
        )
        self._set_paper_actions(True)
        self._select_in_library(opened.path)
        self.file_opened.emit(opened.path)
        self.show_page(opened.page)

    def open_library(self, root: Path) -> None:
        self.index_slot.submit(
            _index_library,
            Path(root),
            label=f"Indexing {root}",
            on_result=self._library_ready,
            on_error=self._failed,
            on_cancelled=self._cancelled,
            name="index library",
        )

    def _library_ready(self, indexed: IndexedLibrary) -> None:
        self.library, report = indexed.library, indexed.report
        self.search_slot.discard()  # hits from another library would open the wrong files
        self.results_list.clear()  # and so would those already listed (a.pdf in both folders)
        self.library_list.clear()
        for pdf in self.library.pdfs():
            reason = report.failed.get(str(pdf.relative_to(self.library.root)))
            item = QListWidgetItem(f"{pdf.name} (unreadable)" if reason else pdf.name)
            item.setData(Qt.ItemDataRole.UserRole, str(pdf))
            if reason:  # listed, so the folder's contents are all there, but not searched
                item.setToolTip(f"Not searched: {reason}")
                item.setForeground(self.palette().color(self.palette().ColorRole.PlaceholderText))
            self.library_list.addItem(item)
        failed = f", {len(report.failed)} unreadable" if report.failed else ""
        notice = f" ({self.library.notice})" if self.library.notice else ""
        self.context.show_status(
            f"Library: {counted(self.library_list.count(), 'paper')}, "
            f"{len(report.added) + len(report.updated)} "
            f"indexed now{failed}{notice}"
        )

    def _open_library_item(self, item: QListWidgetItem) -> None:
        self.open_paper(Path(item.data(Qt.ItemDataRole.UserRole)))

    # pages and highlights ---------------------------------------------------------------
    def show_page(self, index: int) -> None:
        if self.paper is None or not (0 <= index < self.paper.n_pages):
            return
        self.page_spin.setValue(index + 1)
        self.render_slot.submit(
            render_page,
            self.paper.path,
            index,
            RENDER_SCALE,
            label=f"Drawing page {index + 1}",
            cancellable=False,
            on_result=lambda image: self._page_ready(index, image),
            on_error=self._failed,
            name="render page",
        )

    def _page_ready(self, index: int, image) -> None:
        # Only the latest request arrives: the person may have moved on to another page.
        if self.paper is None:
            return
        self.view.show_image(index, image, RENDER_SCALE)
        self.view.fit_width()
        self._draw_highlights()
        if self.view.selected_item is not None:
            self.view.centerOn(self.view.selected_item)

    def _draw_highlights(self) -> None:
        if self.paper is None or self.extraction is None:
            return
        page = self.view.page
        self.view.clear_highlights()
        for m in self.extraction.materials:
            if m.page - 1 == page:
                for p, box in self.paper.boxes(m.start, m.end):
                    if p == page:
                        self.view.add_highlight(box, "mention")
        for r in self.table.records:
            selected = r is self.selected
            for p, box in self.paper.boxes(r.start, r.end):
                if p == page:
                    self.view.add_highlight(box, "value", selected)
            if r.material_span and selected:
                for p, box in self.paper.boxes(*r.material_span):
                    if p == page:
                        self.view.add_highlight(box, "material", False)
        if self.passage is not None:  # drawn last: the view centres on its last line here
            for piece in passage_spans(self.paper, *self.passage):
                for p, box in self.paper.boxes(*piece):
                    if p == page:
                        self.view.add_highlight(box, "passage", selected=True)

    def focus_record(self, record: PropertyRecord) -> None:
        """Jump to the record's page and centre its highlight."""
        self.selected = record
        self.passage = None  # the person has moved on from the search hit
        self.sentence_label.setText(record.sentence)
        self._update_predict_button()
        if self.view.page == record.page - 1:
            self._draw_highlights()
            if self.view.selected_item is not None:
                self.view.centerOn(self.view.selected_item)
        else:
            self.show_page(record.page - 1)

    # prediction link ---------------------------------------------------------------------
    def selected_formula(self) -> str | None:
        """The selected record's material as a fixed formula: the formula an abbreviation, code
        or doping level stands for ("PCCO" is Pr1.85Ce0.15CuO4-δ), names mapped to theirs."""
        record, ex = self.selected, self.extraction
        if record is None or ex is None or not record.material:
            return None
        formulas = [m.formula for m in ex.materials if record.material in (m.name, m.formula)]
        candidates = [record.material_formula, *formulas, record.material]
        return next(filter(None, map(fixed_formula, filter(None, candidates))), None)

    def _update_predict_button(self) -> None:
        formula = self.selected_formula()
        self.predict_button.setEnabled(formula is not None)
        if formula is not None:
            self.predict_button.setText(f"Predict properties of {formula}")
        else:
            self.predict_button.setText("Predict properties")
            if self.selected is not None:
                self.predict_button.setToolTip(
                    f"{self.selected.material or 'This record'} is not a fixed composition "
                    "(variable or doped formulas and names cannot be predicted)"
                )

    def _request_prediction(self) -> None:
        formula = self.selected_formula()
        if formula is not None:
            self.predict_formula_requested.emit(formula)

    # filters and export -----------------------------------------------------------------
    def _fill_filters(self) -> None:
        records = self.extraction.records if self.extraction else []
        for combo, values in (
            (self.property_filter, sorted({r.property for r in records})),
            (self.material_filter, sorted({r.material or "?" for r in records})),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([ALL, *values])
            combo.blockSignals(False)

    def filtered_records(self) -> list[PropertyRecord]:
        if self.extraction is None:
            return []
        prop, mat = self.property_filter.currentText(), self.material_filter.currentText()
        return [
            r
            for r in self.extraction.records
            if (prop in ("", ALL) or r.property == prop)
            and (mat in ("", ALL) or (r.material or "?") == mat)
        ]

    def _apply_filters(self) -> None:
        self.table.set_records(self.filtered_records())
        if self.view.page >= 0:
            self._draw_highlights()

    def export_records(self, path: Path) -> None:
        """Write the records shown (after filters) as CSV or JSON, by extension, in a worker."""
        if self.extraction is None:
            return
        path = Path(path)
        kind = "json" if path.suffix.lower() == ".json" else "csv"
        self.export_slots[kind].submit(
            _write_records,
            self.extraction,
            self.filtered_records(),
            path,
            label=f"Saving {path.name}",
            cancellable=False,
            on_result=lambda saved: self.context.show_status(f"Saved {saved}"),
            on_error=self.report_error,
            name="export records",
        )

    def _export_dialog(self, kind: str) -> None:
        if self.extraction is None or self.paper is None:
            return
        stem = self.paper.path.with_suffix("").name + "_records"
        filt = "CSV (*.csv)" if kind == "csv" else "JSON (*.json)"
        path, _ = QFileDialog.getSaveFileName(self, "Export records", f"{stem}.{kind}", filt)
        if path:
            self.export_records(Path(path))

    # search -----------------------------------------------------------------------------
    def search(self) -> None:
        query = self.search_edit.text().strip()
        if not query:
            return
        if self.library is None:
            self.context.show_status("Open a folder of papers first: search runs over a library.")
            return
        self.search_slot.submit(
            self.library.search,
            query,
            label="Searching",
            on_result=self._search_ready,
            on_error=self._failed,
            name="search library",
        )

    def _search_ready(self, hits: list[Hit]) -> None:
        self.results_list.clear()
        for hit in hits:
            item = QListWidgetItem(f"{Path(hit.paper).name} · p{hit.page}\n{hit.text[:180]}")
            item.setData(Qt.ItemDataRole.UserRole, hit)
            item.setToolTip(hit.text)
            self.results_list.addItem(item)
        library = self.library
        if hits or library is None:
            mode = library.last_mode if library is not None else "library"
            self.context.show_status(f"{counted(len(hits), 'passage')} ({mode} search)")
        elif not library.n_papers:  # it said "0 passages ( search)"
            self.context.show_status("No paper in this folder could be read, so none was searched.")
        else:
            query = self.search_edit.text().strip()
            self.context.show_status(
                f"No passage of the {counted(library.n_papers, 'paper')} matches '{query}'."
            )

    def _open_result(self, item: QListWidgetItem) -> None:
        hit = item.data(Qt.ItemDataRole.UserRole)
        if self.library is None:
            return
        path = self.library.root / hit.paper
        if self.paper is not None and self.paper.path == path:
            self.passage = (hit.start, hit.end)
            self.show_page(hit.page - 1)  # the page the passage begins on
        else:
            self.open_paper(path, hit.page - 1, (hit.start, hit.end))
