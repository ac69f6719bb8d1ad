"""PDF reading: formulas rebuilt from subscripts, reading order, sections, tables, bad files."""

from __future__ import annotations

import re

import pytest
from literature_helpers import encrypted_pdf, image_only_pdf, many_pages_pdf, paper, turned_pdf

from inference.errors import JobCancelled, UnreadableFile
from inference.jobs import CancelToken
from inference.literature.pdf import parse_pdf


@pytest.fixture(scope="module")
def prx():
    return parse_pdf(paper("PhysRevX.8.041024-CC.pdf"))


def test_subscripts_rebuild_formulas_and_tc(prx):
    assert "CuxBi2Se3" in prx.text
    assert "Cu Bi Se" not in prx.text
    arxiv = parse_pdf(paper("1609.04957-CC.pdf"))
    assert "LaFeAsO1−xHx" in arxiv.text
    assert re.search(r"\bTc\b", arxiv.text)


def test_two_columns_read_in_order_with_dehyphenation(prx):
    # Left column sentence continues across a line break without running into the right column.
    assert (
        "Majorana fermions and Majorana zero modes (MZMs) [1], may facilitate topological"
        in prx.text
    )
    assert "participatinginformation" not in prx.text


def test_headers_removed_and_sections_found(prx):
    assert prx.text.count("PHYSICAL REVIEW X 8, 041024 (2018)") <= 1  # the running header is gone
    sections = {b.section for b in prx.blocks}
    assert {"introduction", "references"} <= sections
    refs = [b for b in prx.blocks if b.section == "references"]
    assert refs and refs[0].page >= prx.n_pages // 2


def test_every_character_keeps_its_page_and_box(prx):
    start = prx.text.index("CuxBi2Se3 hosts both")
    boxes = prx.boxes(start, start + 9)
    assert len(boxes) == 1
    page, box = boxes[0]
    width, height = prx.page_sizes[page]
    assert page == 0 and 0 <= box.x0 < box.x1 <= width and 0 <= box.top < box.bottom <= height


def test_tables_become_rows():
    doc = parse_pdf(shared_pdf := paper("Suzuki_etal_2015-CC.pdf"))
    assert doc.path == shared_pdf
    for table in doc.tables:
        assert len(table.rows) >= 2 and all(isinstance(c, str) for c in table.rows[0])


def _writer(data: bytes):
    def make(path):
        path.write_bytes(data)
        return path

    return make


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_writer(b""), "empty"),
        (_writer(b"%PDF-1.4\n1 0 obj garbage \x00\x01 trailer"), "damaged"),
        (_writer(b"hello, I am a text file"), "not a PDF"),
        (encrypted_pdf, "password"),
        (image_only_pdf, "no text layer"),
    ],
    ids=["zero-byte", "damaged", "not-pdf", "encrypted", "image-only"],
)
def test_bad_pdfs_get_one_line_messages(tmp_path, make, words):
    path = make(tmp_path / "bad.pdf")
    with pytest.raises(UnreadableFile) as info:
        parse_pdf(path)
    message = str(info.value)
    assert words in message and "\n" not in message and message.startswith("bad.pdf")


def test_long_pdf_reports_progress_and_cancels(tmp_path):
    big = many_pages_pdf(paper("PhysRevX.8.041024-CC.pdf"), tmp_path / "big.pdf", 56)  # 504 pages
    token = CancelToken()
    seen = []

    def progress(fraction, message=""):
        seen.append(message)
        if len(seen) == 20:
            token.cancel()

    with pytest.raises(JobCancelled):
        parse_pdf(big, progress=progress, cancel=token)
    assert "of 504" in seen[0]
    assert len(seen) <= 21


def _truncated(fraction: float):
    def make(path):
        data = paper("Suzuki_etal_2015-CC.pdf").read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])
        return path

    return make


@pytest.mark.parametrize(
    "make",
    [
        _writer(b""),
        encrypted_pdf,
        image_only_pdf,
        _truncated(0.002),  # the header and a few objects
        _truncated(0.5),
        _truncated(0.97),  # only the cross-reference table lost
    ],
    ids=["zero-byte", "encrypted", "image-only", "truncated-header", "truncated-half", "no-xref"],
)
def test_bad_pdfs_through_matlens_extract(tmp_path, make):
    """A user's `matlens extract --json` on a broken PDF: a result or one clear line, exit 2."""
    from cli_harness import assert_clean_outcome, run_matlens

    path = make(tmp_path / "broken paper.pdf")
    run = run_matlens("extract", path, "--json", timeout=120)
    assert_clean_outcome(run, path)


# Papers of the tuning part of supermat_dev (SuperMat, CC BY 4.0; the split is fixed in
# benchmarks/literature_extraction.py) whose text layer puts a long subscript on a baseline of
# its own, leaving a gap in the line wider than a word space.


def _dev(name: str, pages: int):
    from conftest import shared

    return parse_pdf(shared("papers", "supermat_dev", "pdf", name), max_pages=pages, tables=False)


def test_a_gap_filled_by_a_subscript_keeps_the_formula_whole():
    mgb2 = _dev("PHC4320193-CC.pdf", 2)
    # before: "Mg(B1−x x 2" and, in a paragraph of its own, "C ) from a mixture"
    assert "synthesized bulk Mg(B1−xCx)2 from a mixture of elemental Mg" in mgb2.text
    assert "Mg(B1−xCx)2 with x<0.10 has been" in mgb2.text
    assert "Mg(B1−x x 2" not in mgb2.text
    ruthenate = _dev("MCP0750110-CC.pdf", 2)
    # before: "GdSr2Ru1−xCu2+x 8" then "O (x = 0, 0.05, 0.1, 0.2)" as another paragraph
    assert "GdSr2Ru1−xCu2+xO8 (x = 0, 0.05, 0.1, 0.2" in ruthenate.text
    assert "Cu2+x 8" not in ruthenate.text
    cuprate = _dev("P065172501-CC.pdf", 2)
    assert "and Sr0.9La0.1Cu0.97Zn0.03O2 are a = b" in cuprate.text


def test_a_formula_rebuilt_across_a_subscript_gap_highlights_as_one_line():
    paper = _dev("PHC4320193-CC.pdf", 1)
    start = paper.text.index("Mg(B1−xCx)2 from a mixture")
    boxes = paper.boxes(start, start + len("Mg(B1−xCx)2"))
    # base letters and subscripts are separate pieces, all on one ~11 pt line, left to right
    assert {page for page, _ in boxes} == {0}
    top = min(box.top for _, box in boxes)
    assert max(box.bottom for _, box in boxes) - top < 14
    lefts = [box.x0 for _, box in boxes]
    assert lefts == sorted(lefts) and boxes[-1][1].x1 - lefts[0] < 70
    # the "C" of the formula keeps its own box, right of the subscript "1−x" before it
    c, x = paper.char_box[start + 7], paper.char_box[start + 6]
    assert paper.text[start + 6 : start + 8] == "xC" and c[0] >= x[2] - 0.5


def test_a_reference_list_headed_reference_is_not_searched():
    """1903.06952 (arXiv) heads its list "Reference": before, its entries were indexed and
    "superconductivity in twisted bilayer graphene" found a cited title of another paper first."""
    from conftest import shared

    from inference.literature.search import passages_of

    pdf = shared("papers", "grobid_quantities", "pdf", "1903.06952.pdf")
    passages = passages_of(parse_pdf(pdf, tables=False), pdf.name)
    assert not any("Yankowitz" in p.text or "Phys. Rev. Lett." in p.text for p in passages)
    assert any("twisted double bilayer graphene" in p.text for p in passages)
    # the Methods printed after the list are still searched
    assert any(p.section == "experimental" and "exfoliated" in p.text for p in passages)


def test_reference_names_the_list_only_as_a_heading_of_its_own():
    from inference.literature.sections import heading_section

    assert heading_section("Reference") == heading_section("References") == "references"
    assert heading_section("Reference electrode") is None


def test_a_titles_short_last_line_is_part_of_the_title(qapp, tmp_path):
    """A SOFC-Exp paper typeset with its title over three lines, the last one "Cells": before,
    the pane and the search hits called it "… Intermediate-Temperature Solid Oxide Fuel"."""
    from literature_helpers import sofc_exp_pdf

    pdf = sofc_exp_pdf("PMC6427619", tmp_path / "PMC6427619.pdf")
    assert parse_pdf(pdf, max_pages=1, tables=False).title == (
        "Yb-Doped BaCeO3 and Its Composite Electrolyte for Intermediate-Temperature Solid Oxide "
        "Fuel Cells"
    )


def test_symbol_font_glyphs_are_read_as_their_characters():
    """1903.07791 sets the minus of "Sb1−x" in the Symbol font at its private code U+F02D: the
    pane's header, the records' sentences and search hits showed an empty box there."""
    from conftest import shared

    pdf = parse_pdf(shared("papers", "grobid_quantities", "pdf", "1903.07791.pdf"), tables=False)
    assert "NdO0.8F0.2Sb1-xBixSe2 (x = 0.3 and 0.7)" in pdf.title
    assert not [c for c in pdf.text if 0xF000 <= ord(c) <= 0xF0FF]


_DRAW_WHILE_PARSING = """
import sys, threading
from pathlib import Path
from inference.literature.pdf import parse_pdf
from inference.literature.render import render_page
pdf = Path(sys.argv[1])
def draw(k):
    for i in range(40):
        render_page(pdf, (i + k) % 3, 0.5)
def parse():
    for _ in range(3):
        parse_pdf(pdf, tables=False)
threads = [threading.Thread(target=draw, args=(k,)) for k in range(3)]
threads.append(threading.Thread(target=parse))
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def test_pages_drawn_while_a_paper_is_parsed_do_not_kill_the_app():
    """The Literature pane draws a page in one worker while another parses a paper (or draws
    the next page when a person holds the Down arrow in the records). PDFium is not
    thread-safe: three drawing threads and a parsing one killed the process (SIGSEGV, or
    "malloc(): unaligned tcache chunk detected") in 3 of 3 runs. Run in a child process so
    that a crash is this test's failure, not the end of the test run."""
    import subprocess
    import sys

    from inference.runtime.paths import samples_dir

    pdf = samples_dir() / "LaFeAsO1-xHx_NMR_1609.04957.pdf"
    run = subprocess.run(
        [sys.executable, "-c", _DRAW_WHILE_PARSING, str(pdf)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])


@pytest.mark.parametrize(
    ("content_turns", "rotate", "shown_turns"),
    [
        (0, 90, 1),  # a page turned in a viewer and saved: shown sideways
        (0, 180, 2),
        (1, 0, 3),  # text set on its side, no /Rotate: shown sideways (a landscape scan)
        (1, 90, 0),  # a landscape page: text set on its side, shown upright by its /Rotate
    ],
)
def test_a_turned_page_reads_as_the_upright_one_and_highlights_where_it_is_shown(
    tmp_path, content_turns, rotate, shown_turns
):
    """The shipped paper's pages turned four ways. A /Rotate page gave a title pieced from two
    columns ("The phase diagram of the electron-doped high- not been observed so far…") and
    highlights over the arXiv stamp; text set on its side gave no text at all (0 values, no
    word). Each now reads as the upright paper, and a value's highlight covers, on the page as
    drawn, what it covers on the upright page turned the same way."""
    import numpy as np
    from PIL import Image

    from inference.literature.extract import extract_pdf
    from inference.literature.render import render_page
    from inference.runtime.paths import samples_dir

    source = samples_dir() / "LaFeAsO1-xHx_NMR_1609.04957.pdf"
    upright = extract_pdf(source)
    path = turned_pdf(source, tmp_path / "turned.pdf", content_turns=content_turns, rotate=rotate)
    turned = extract_pdf(path)
    assert turned.paper.title == upright.paper.title
    assert turned.paper.text == upright.paper.text
    values = [(r.page, r.value, r.material) for r in turned.extraction.records]
    assert values == [(r.page, r.value, r.material) for r in upright.extraction.records]

    record = upright.extraction.records[0]
    scale = 2.0
    page = record.page - 1
    crops = []
    for extracted, pdf, turns in ((upright, source, 0), (turned, path, shown_turns)):
        image = render_page(pdf, page, scale)
        height, width = image.shape[:2]
        shown = extracted.paper.page_sizes[page]
        assert (width, height) == (round(shown[0] * scale), round(shown[1] * scale))
        (_, box), *_ = extracted.paper.boxes(record.start, record.end)
        crop = image[
            int(box.top * scale) : int(np.ceil(box.bottom * scale)),
            int(box.x0 * scale) : int(np.ceil(box.x1 * scale)),
        ].mean(axis=2)
        crops.append(np.rot90(crop, k=turns))  # turned back counter-clockwise, to compare
    want, got = crops
    assert want.mean() < 235  # the upright highlight covers ink (the value's digits)
    got = np.asarray(Image.fromarray(got).resize(want.shape[::-1]))
    assert np.corrcoef(want.ravel(), got.ravel())[0, 1] > 0.8
