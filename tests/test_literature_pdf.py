"""PDF reading: formulas rebuilt from subscripts, reading order, sections, tables, bad files."""

from __future__ import annotations

import re

import pytest
from literature_helpers import encrypted_pdf, image_only_pdf, many_pages_pdf, paper

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
