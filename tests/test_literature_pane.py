"""Literature pane: open a PDF, records appear, a click jumps to the highlight, export, search."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from literature_helpers import paper

pytest.importorskip("pytestqt")


@pytest.fixture
def pane(open_pane):
    from desktop.panes.literature.pane import LiteraturePane

    return open_pane(LiteraturePane, size=(1300, 800))


def _idle(qtbot, pane, timeout=60000):
    qtbot.waitUntil(lambda: not pane.busy, timeout=timeout)


def _first_hit_clicked(qtbot, pane, library, query):
    """The library folder opened, `query` searched with the real button and its first hit
    clicked, as a person does; the hit's list item once its paper is shown."""
    from PySide6.QtCore import Qt

    pane.open_path(library)
    qtbot.waitUntil(lambda: pane.library_list.count() == 1, timeout=60000)
    _idle(qtbot, pane)
    pane.search_edit.setText(query)
    qtbot.mouseClick(pane.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.results_list.count() > 0, timeout=30000)
    _idle(qtbot, pane)
    first = pane.results_list.item(0)
    rect = pane.results_list.visualItemRect(first)
    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        qtbot.mouseClick(pane.results_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: pane.view.selected_item is not None and not pane.busy, timeout=30000)
    return first


def _open(qtbot, pane, path):
    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        pane.open_path(path)
    _idle(qtbot, pane)


def test_open_pdf_records_and_jump_to_highlight(qtbot, pane, tmp_path):
    from PySide6.QtCore import Qt

    _open(qtbot, pane, paper("Suzuki_etal_2015-CC.pdf"))
    assert pane.view.page == 0 and pane.table.rowCount() >= 5
    assert pane.table.item(0, 0).text() == "EuFBiS2"
    target = next(i for i, r in enumerate(pane.table.records) if r.page == 3)
    rect = pane.table.visualItemRect(pane.table.item(target, 1))
    qtbot.mouseClick(pane.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: pane.view.page == 2, timeout=30000)
    _idle(qtbot, pane)
    record = pane.table.records[target]
    assert pane.selected is record and pane.view.selected_item is not None
    # the selected highlight sits where the value is on the page, and is in view
    box = pane.paper.boxes(record.start, record.end)[0][1]
    centre = pane.view.selected_item.rect().center()
    assert abs(centre.x() / pane.view.scale_factor - (box.x0 + box.x1) / 2) < 2
    visible = pane.view.mapToScene(pane.view.viewport().rect()).boundingRect()
    assert visible.contains(centre)
    # hovering a row says in words how its material was chosen, not an internal code
    tips = {pane.table.item(i, 0).toolTip().rsplit("material: ", 1)[-1] for i in range(5)}
    assert "the subject of the sentence" in tips or "the only sample the sentence names" in tips
    assert not tips & {"subject", "sentence", "bracket", "for", "paragraph"}
    assert pane.errors == []


def test_holding_the_down_arrow_in_the_records_ends_on_the_last_ones_page(qtbot, pane):
    """Each row asks for its page to be drawn; held down, the arrow asked for many at once and
    two drew inside PDFium together, which is not thread-safe (the app died, SIGSEGV, on a
    300-page paper). Pages are now drawn one at a time, the latest request last."""
    from PySide6.QtCore import Qt

    _open(qtbot, pane, paper("Suzuki_etal_2015-CC.pdf"))
    rect = pane.table.visualItemRect(pane.table.item(0, 1))
    qtbot.mouseClick(pane.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    for _ in range(pane.table.rowCount()):
        qtbot.keyClick(pane.table, Qt.Key.Key_Down)
    last = pane.table.records[pane.table.rowCount() - 1]
    assert pane.selected is last
    qtbot.waitUntil(lambda: not pane.busy and pane.view.page == last.page - 1, timeout=30000)
    assert pane.view.selected_item is not None and pane.errors == []


def test_filters_and_export(qtbot, pane, tmp_path):
    _open(qtbot, pane, paper("Suzuki_etal_2015-CC.pdf"))
    pane.property_filter.setCurrentText("critical_field")
    assert {r.property for r in pane.table.records} == {"critical_field"}
    pane.export_records(tmp_path / "out.csv")  # written by a worker, not the GUI thread
    _idle(qtbot, pane)
    rows = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + pane.table.rowCount()
    pane.property_filter.setCurrentText("All")
    pane.material_filter.setCurrentText("EuFBiS2")
    pane.export_records(tmp_path / "out.json")
    _idle(qtbot, pane)
    assert pane.statuses[-1] == f"Saved {tmp_path / 'out.json'}"
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert data["records"] and {r["material"] for r in data["records"]} == {"EuFBiS2"}


def test_bad_pdf_shows_one_line_error(qtbot, pane, tmp_path):
    bad = tmp_path / "empty.pdf"
    bad.write_bytes(b"")
    pane.open_path(bad)
    qtbot.waitUntil(lambda: bool(pane.errors), timeout=30000)
    assert "empty" in pane.errors[0] and pane.paper is None


def test_library_search_opens_the_passage(qtbot, pane, tmp_path):
    library = tmp_path / "lib"
    library.mkdir()
    shutil.copy(paper("1903.04321-CC.pdf"), library)
    pane.open_path(library)
    qtbot.waitUntil(lambda: pane.library_list.count() == 1, timeout=60000)
    _idle(qtbot, pane)
    pane.search_edit.setText("Cu intercalation PdTe2 tunneling spectroscopy")
    pane.search()
    qtbot.waitUntil(lambda: pane.results_list.count() > 0, timeout=30000)
    _idle(qtbot, pane)
    hit = pane.results_list.item(0).data(0x0100)
    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        pane._open_result(pane.results_list.item(0))
    qtbot.waitUntil(lambda: pane.view.page == hit.page - 1 and not pane.busy, timeout=30000)
    assert pane.view.selected_item is not None


def _click_row(qtbot, pane, row):
    from PySide6.QtCore import Qt

    rect = pane.table.visualItemRect(pane.table.item(row, 1))
    qtbot.mouseClick(pane.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_the_paper_opened_last_wins_through_the_window(qtbot, main_window):
    """Paper A is slow to read, B quick: opened back to back, B must be what the pane shows
    (before JobSlot, A landed last and its rows stayed; a click on them did nothing)."""
    pane = next(p for p in main_window.panes if p.title == "Literature")
    first, slow, last = (
        paper("Suzuki_etal_2015-CC.pdf"),
        paper("PhysRevX.8.041024-CC.pdf"),  # 9 pages: several seconds to read
        paper("1609.04957-CC.pdf"),
    )
    assert main_window.open_path(first)
    qtbot.waitUntil(lambda: pane.paper is not None and not pane.busy, timeout=60000)
    _click_row(qtbot, pane, 0)  # a row of the first paper, selected, its sentence shown
    assert pane.sentence_label.text()

    assert main_window.open_path(slow) and main_window.open_path(last)
    qtbot.waitUntil(lambda: pane.paper is not None and pane.paper.path == last, timeout=60000)
    qtbot.waitUntil(lambda: not pane.busy, timeout=60000)
    qtbot.wait(200)  # anything the slow paper still had to say has arrived by now
    assert pane.paper.path == last and pane.extraction is not None
    assert pane.table.records == pane.extraction.records
    assert pane.table.rowCount() == len(pane.extraction.records) > 3
    assert pane.table.selectedIndexes() == [] and pane.selected is None
    assert pane.sentence_label.text() == ""
    assert main_window.windowTitle().startswith(last.name)

    # a click on a row of B jumps to its page, shows its sentence and its highlight
    row = next(i for i, r in enumerate(pane.table.records) if r.page != 1)
    record = pane.table.records[row]
    _click_row(qtbot, pane, row)
    qtbot.waitUntil(lambda: pane.view.page == record.page - 1 and not pane.busy, timeout=30000)
    assert pane.selected is record
    assert pane.sentence_label.text() == record.sentence
    assert pane.view.selected_item is not None

    # a second click on the same row (after moving away) jumps back to it
    pane.show_page(0)
    qtbot.waitUntil(lambda: pane.view.page == 0 and not pane.busy, timeout=30000)
    _click_row(qtbot, pane, row)
    qtbot.waitUntil(lambda: pane.view.page == record.page - 1 and not pane.busy, timeout=30000)
    assert main_window.banner.text == ""


def _small_library(tmp_path, names):
    from conftest import shared

    library = tmp_path / "papers"
    library.mkdir()
    for name in names:
        shutil.copy(shared("papers", "supermat_dev", "pdf", name), library)
    return library


SMALL_PAPERS = ("JPS0710709-CC.pdf", "L090137001-CC.pdf", "PHC3410729-CC.pdf")


def test_indexing_a_folder_shows_each_paper_and_cancel_keeps_the_finished_ones(
    qtbot, pane, tmp_path, monkeypatch
):
    """Open folder… on three real papers: the job bar names each paper with its number and the
    bar advances; Cancel during the second stops the job, the first paper stays indexed, and
    opening the folder again indexes only the rest."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    from inference.literature.search import Library

    library = _small_library(tmp_path, SMALL_PAPERS)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(library))
    seen: list[tuple[str, int]] = []
    pane.index_slot.changed.connect(
        lambda: seen.append((pane.job_bar.text, pane.job_bar.progress.value()))
    )
    qtbot.mouseClick(pane.folder_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "(paper 2 of 3)" in pane.job_bar.text, timeout=120000)
    assert pane.job_bar.cancel_button.isVisible()
    qtbot.mouseClick(pane.job_bar.cancel_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, pane)
    assert pane.statuses[-1] == "Cancelled" and not pane.errors
    assert pane.library is None and pane.library_list.count() == 0
    texts = [text for text, _ in seen]
    assert any(t.startswith(f"indexing {SMALL_PAPERS[0]} (paper 1 of 3)") for t in texts)
    assert any(t.startswith(f"indexing {SMALL_PAPERS[1]} (paper 2 of 3)") for t in texts)
    assert not any("(paper 3 of 3)" in t for t in texts)  # stopped before the third
    values = [v for text, v in seen if text]
    assert values == sorted(values) and values[-1] >= 33  # the bar moved past one paper
    kept = Library(library)._entries
    assert SMALL_PAPERS[0] in kept and SMALL_PAPERS[2] not in kept

    qtbot.mouseClick(pane.folder_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.library_list.count() == 3, timeout=120000)
    _idle(qtbot, pane)
    indexed_now = 3 - len(kept)
    assert pane.statuses[-1] == f"Library: 3 papers, {indexed_now} indexed now"


def test_a_scan_opened_after_a_paper_leaves_the_papers_header_and_records(
    qtbot, main_window, tmp_path
):
    """Open a fuel-cell paper, then a scanned PDF: one line in the banner, and the header over
    the records still names the paper they come from (before, it said "scan.pdf: no text layer"
    over that paper's records)."""
    from literature_helpers import image_only_pdf, sofc_exp_pdf

    pane = next(p for p in main_window.panes if p.title == "Literature")
    pdf = sofc_exp_pdf("PMC6427619", tmp_path / "PMC6427619.pdf")
    assert main_window.open_path(pdf)
    qtbot.waitUntil(lambda: pane.paper is not None and not pane.busy, timeout=60000)
    header, rows = pane.summary_label.text(), pane.table.rowCount()
    assert "Yb-Doped BaCeO3" in header and rows > 0

    assert main_window.open_path(image_only_pdf(tmp_path / "scan.pdf"))
    qtbot.waitUntil(lambda: "scan.pdf" in main_window.banner.text, timeout=30000)
    _idle(qtbot, pane)
    assert main_window.banner.text.count("\n") == 0 and "OCR" in main_window.banner.text
    assert pane.paper.path == pdf and pane.table.rowCount() == rows
    assert pane.summary_label.text() == header
    assert main_window.windowTitle().startswith(pdf.name)


def test_the_normalised_column_shows_a_range_as_a_range_and_keeps_a_bound(qtbot, pane):
    """1903.06952: "hexagonal boron nitride (20-35nm in thickness)" showed SI 2.75e-08 m, a
    value the paper never states (the midpoint); "~7 K" showed a bare 7 K."""
    from conftest import shared

    _open(qtbot, pane, shared("papers", "grobid_quantities", "pdf", "1903.06952.pdf"))
    cells = [
        [pane.table.item(row, col).text() for col in range(pane.table.columnCount())]
        for row in range(pane.table.rowCount())
    ]
    by_value = {(c[1], c[2]): c[4] for c in cells}
    assert by_value["thickness", "20-35nm"] == "2e-08–3.5e-08 m"
    assert by_value["Tc", "~7 K"] == "~ 7 K"
    assert by_value["thickness", "300"] == "3e-07 m"


def test_a_long_read_names_its_paper_and_cancel_keeps_the_paper_shown(qtbot, main_window, tmp_path):
    """Open a fuel-cell paper, then a 150-page PDF: the bar names that PDF at every step (before,
    it said only "reading page 20 of 152"); Cancel stops it and the first paper stays."""
    from literature_helpers import many_pages_pdf, sofc_exp_pdf
    from PySide6.QtCore import Qt

    pane = next(p for p in main_window.panes if p.title == "Literature")
    first = sofc_exp_pdf("PMC6427619", tmp_path / "PMC6427619.pdf")
    assert main_window.open_path(first)
    qtbot.waitUntil(lambda: pane.paper is not None and not pane.busy, timeout=60000)
    rows = pane.table.rowCount()
    long = many_pages_pdf(sofc_exp_pdf("PMC6445146", tmp_path / "b.pdf"), tmp_path / "long.pdf", 8)
    seen: list[str] = []
    pane.open_slot.changed.connect(lambda: seen.append(pane.job_bar.text))
    assert main_window.open_path(long)
    qtbot.waitUntil(lambda: any("reading page 5 of" in t for t in seen), timeout=60000)
    assert any(t.startswith("long.pdf: reading page 5 of ") for t in seen)
    qtbot.mouseClick(pane.job_bar.cancel_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, pane, timeout=30000)
    assert all(t.startswith(("Reading long.pdf", "long.pdf")) for t in seen if t)
    assert main_window.statusBar().currentMessage() == "Cancelled"
    assert pane.paper.path == first and pane.table.rowCount() == rows
    assert main_window.windowTitle().startswith(first.name) and main_window.banner.text == ""


def test_a_library_marks_the_papers_it_could_not_read(qtbot, pane, tmp_path):
    """A folder with a fuel-cell paper, a scan and an encrypted PDF: all three are listed, the two
    unreadable ones say so and why (before, the status said "2 unreadable" and the list looked
    the same for all three); clicking one is a one-line error, the paper shown stays."""
    from literature_helpers import encrypted_pdf, image_only_pdf, sofc_exp_pdf
    from PySide6.QtCore import Qt

    library = tmp_path / "lib"
    library.mkdir()
    sofc_exp_pdf("PMC6427619", library / "PMC6427619.pdf")
    image_only_pdf(library / "scan.pdf")
    encrypted_pdf(library / "locked.pdf")
    pane.open_path(library)
    qtbot.waitUntil(lambda: pane.library_list.count() == 3, timeout=120000)
    _idle(qtbot, pane)
    items = {pane.library_list.item(i).text(): pane.library_list.item(i) for i in range(3)}
    assert set(items) == {"PMC6427619.pdf", "scan.pdf (unreadable)", "locked.pdf (unreadable)"}
    assert "no text layer" in items["scan.pdf (unreadable)"].toolTip()
    assert "encrypted" in items["locked.pdf (unreadable)"].toolTip()
    assert items["PMC6427619.pdf"].toolTip() == ""
    assert pane.statuses[-1].startswith("Library: 3 papers, 1 indexed now, 2 unreadable")

    def click(text):
        rect = pane.library_list.visualItemRect(items[text])
        qtbot.mouseClick(pane.library_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        click("PMC6427619.pdf")
    _idle(qtbot, pane)
    header = pane.summary_label.text()
    click("scan.pdf (unreadable)")
    qtbot.waitUntil(lambda: bool(pane.errors), timeout=30000)
    _idle(qtbot, pane)
    assert pane.errors == [
        "scan.pdf: no text layer (a scanned or image-only PDF); run OCR on it first"
    ]
    assert pane.paper.path.name == "PMC6427619.pdf" and pane.summary_label.text() == header
    # the list points at the paper shown, not at the file that failed
    assert [i.text() for i in pane.library_list.selectedItems()] == ["PMC6427619.pdf"]


def test_the_value_column_keeps_the_digits_the_paper_writes(qtbot, pane, tmp_path):
    """A new-user audit: "7.0 K" showed as 7 and a table's "0.80" as 0.8, dropping the
    significant figures a scientist reads."""
    from literature_helpers import precise_values_pdf

    _open(qtbot, pane, precise_values_pdf(tmp_path / "precise.pdf"))
    shown = {
        (pane.table.item(row, 0).text(), pane.table.item(row, 2).text())
        for row in range(pane.table.rowCount())
    }
    assert {("NbSe2", "7.0"), ("ZnO", "3.30"), ("NbN", "20.50 ± 0.03")} <= shown
    assert {("NbSe2", "7.10"), ("TaS2", "0.80")} <= shown  # read from the table's cells
    normal = {pane.table.item(row, 2).text(): pane.table.item(row, 4).text() for row in range(5)}
    # the Normalised column: a band gap in eV as the field writes it (it said "5.28718e-19 J"),
    # with its own formatting
    assert pane.table.horizontalHeaderItem(4).text() == "Normalised"
    assert normal["3.30"] == "3.3 eV"
    if shots := os.environ.get("MATLENS_SHOTS"):
        pane.grab().save(str(Path(shots) / "literature_precise_values.png"))


def test_an_activation_energy_is_shown_in_ev_not_joules(qtbot, pane, tmp_path):
    """SOFC-Exp PMC4673446 typeset as a PDF: "the activation energy of PBFM in H2 was 1.02 eV,
    lower than 1.31 eV in air" showed 1.63422e-19 J in the SI column. The Normalised column
    gives eV, the unit the field writes; Value and Unit keep what the paper wrote."""
    from literature_helpers import sofc_exp_pdf

    _open(qtbot, pane, sofc_exp_pdf("PMC4673446", tmp_path / "PMC4673446.pdf"))
    header = [pane.table.horizontalHeaderItem(c).text() for c in range(pane.table.columnCount())]
    value, unit, normal = (header.index(c) for c in ("Value", "Unit", "Normalised"))
    rows = {
        pane.table.item(row, value).text(): (
            pane.table.item(row, unit).text(),
            pane.table.item(row, normal).text(),
        )
        for row in range(pane.table.rowCount())
        if pane.table.records[row].property == "activation_energy"
    }
    assert rows["1.02"] == ("eV", "1.02 eV")
    assert rows["lower than 1.31 eV"] == ("eV", "< 1.31 eV")
    if shots := os.environ.get("MATLENS_SHOTS"):
        row = next(i for i, r in enumerate(pane.table.records) if r.text == "1.02 eV")
        pane.table.selectRow(row)
        pane.table.scrollToItem(pane.table.item(row, normal))  # the column a user looks at
        _idle(qtbot, pane)
        pane.grab().save(str(Path(shots) / "literature_activation_energy_ev.png"))


def test_counts_in_the_header_and_status_take_their_number(qtbot, pane, tmp_path):
    """A new-user audit: a one-page paper's header said "1 pages · ... · 1 tables", and a folder
    of one paper "Library: 1 papers"."""
    from literature_helpers import precise_values_pdf

    library = tmp_path / "lib"
    library.mkdir()
    pdf = precise_values_pdf(library / "precise.pdf")
    _open(qtbot, pane, pdf)
    header = pane.summary_label.text().split("<br>")[1]
    assert header == "1 page · 5 values · 4 materials · 0 synthesis steps · 1 table"
    pane.open_path(library)
    qtbot.waitUntil(lambda: pane.library_list.count() == 1, timeout=60000)
    _idle(qtbot, pane)
    assert pane.statuses[-1].startswith("Library: 1 paper, 1 indexed now")
    if shots := os.environ.get("MATLENS_SHOTS"):
        pane.grab().save(str(Path(shots) / "literature_one_page_header.png"))


def test_a_click_on_a_hit_shows_the_sentence_a_page_break_cuts(qtbot, pane, tmp_path):
    """The sentence "... an ordered, multi-" / "layered stacking ..." runs from page 1 to 2: the
    hit is the whole sentence, and a click on it opens page 1 with the passage marked."""
    from literature_helpers import page_break_pdf

    library = tmp_path / "lib"
    library.mkdir()
    page_break_pdf(library / "break.pdf")
    first = _first_hit_clicked(qtbot, pane, library, "multilayered stacking")
    assert first.text().startswith("break.pdf · p1\n")
    assert "an ordered, multilayered stacking of the perovskite blocks" in first.text()
    assert pane.view.page == 0
    # the mark ends on the sentence's line at the foot of page 1, not on the page number below
    at = pane.paper.text.index("ordered, multi-")
    (page, line), *_ = pane.paper.boxes(at, at + 15)
    marked = pane.view.selected_item.rect()
    assert page == 0 and abs(marked.top() / pane.view.scale_factor - line.top) < 2
    if shots := os.environ.get("MATLENS_SHOTS"):
        pane.grab().save(str(Path(shots) / "literature_hit_across_page_break.png"))


def _passage_marks(pane) -> list:
    """The passage rectangles on the page shown, top to bottom, in PDF points."""
    from PySide6.QtWidgets import QGraphicsRectItem

    from desktop.panes.literature.page_view import COLOURS

    scale = pane.view.scale_factor
    rects = [
        item.rect()
        for item in pane.view.scene().items()
        if isinstance(item, QGraphicsRectItem) and item.brush().color() == COLOURS["passage"]
    ]
    return sorted((r.top() + 1) / scale for r in rects)  # add_highlight pads by 1 px


def test_a_hit_a_page_break_cuts_is_marked_on_both_pages(qtbot, pane, tmp_path):
    """1903.04321 (SuperMat): the passage "... a consequent decrease in the electronic" / "mean
    free path (l) leading to a decreased ξ ..." runs from page 3 to page 4. A click on the hit
    opened page 3 with its part marked, and page 4 showed the rest unmarked."""
    from PySide6.QtCore import Qt

    from inference.literature.search import passage_spans

    library = tmp_path / "lib"
    library.mkdir()
    shutil.copy(paper("1903.04321-CC.pdf"), library)
    query = "decrease in the electronic mean free path leading to a decreased ξ"
    first = _first_hit_clicked(qtbot, pane, library, query)
    assert "electronic mean free path (l) leading to a decreased ξ" in first.toolTip()
    hit = first.data(Qt.ItemDataRole.UserRole)
    pieces = passage_spans(pane.paper, hit.start, hit.end)
    lines = [(p, box.top) for piece in pieces for p, box in pane.paper.boxes(*piece)]
    pages = sorted({p for p, _ in lines})
    assert pages == [2, 3] and pane.view.page == 2  # the view goes to the page it begins on

    def marked_as_written(page):
        tops = [top for p, top in lines if p == page]
        marks = _passage_marks(pane)
        return len(marks) == len(tops) and all(
            abs(m - t) < 1 for m, t in zip(marks, sorted(tops), strict=True)
        )

    assert marked_as_written(2)
    if shots := os.environ.get("MATLENS_SHOTS"):
        pane.grab().save(str(Path(shots) / "literature_passage_across_pages_3.png"))
    qtbot.mouseClick(pane.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.view.page == 3 and not pane.busy, timeout=30000)
    assert marked_as_written(3)  # the rest of the passage, where page 4 begins
    if shots := os.environ.get("MATLENS_SHOTS"):
        pane.grab().save(str(Path(shots) / "literature_passage_across_pages_4.png"))
    # choosing a record ends the search hit's marks
    _click_row(qtbot, pane, 0)
    qtbot.waitUntil(lambda: not pane.busy, timeout=30000)
    assert pane.passage is None and _passage_marks(pane) == []


def test_opening_another_folder_clears_the_last_ones_search_results(qtbot, pane, tmp_path):
    """Folders A and B each hold a different paper named a.pdf. A's results stayed listed
    after B was opened, and a click on one opened B's a.pdf with A's passage highlighted."""
    from PySide6.QtCore import Qt

    for folder, name in (("A", "1903.04321-CC.pdf"), ("B", "Suzuki_etal_2015-CC.pdf")):
        (tmp_path / folder).mkdir()
        shutil.copy(paper(name), tmp_path / folder / "a.pdf")
    pane.open_path(tmp_path / "A")
    qtbot.waitUntil(lambda: pane.library_list.count() == 1, timeout=60000)
    _idle(qtbot, pane)
    pane.search_edit.setText("tunneling spectroscopy")
    qtbot.mouseClick(pane.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.results_list.count() > 0, timeout=30000)
    pane.open_path(tmp_path / "B")
    qtbot.waitUntil(lambda: pane.library is not None and pane.library.root == tmp_path / "B")
    _idle(qtbot, pane)
    assert pane.results_list.count() == 0


def test_a_search_of_a_folder_with_no_readable_paper_says_so(qtbot, pane, tmp_path):
    """It said "0 passages ( search)"."""
    from PySide6.QtCore import Qt

    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "empty.pdf").write_bytes(b"")
    pane.open_path(tmp_path / "scans")
    qtbot.waitUntil(lambda: pane.library_list.count() == 1, timeout=60000)
    _idle(qtbot, pane)
    pane.search_edit.setText("superconductivity")
    qtbot.mouseClick(pane.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "searched" in pane.statuses[-1], timeout=30000)
    assert pane.statuses[-1] == "No paper in this folder could be read, so none was searched."
