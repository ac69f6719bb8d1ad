"""PDFs made in tmp_path for the Literature tests (bad files, synthetic papers)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from conftest import shared

from inference.literature.model import Block, Box, Paper

if TYPE_CHECKING:
    from collections.abc import Sequence


def paper(name: str) -> Path:
    """A SuperMat PDF; the CC-BY sample in resources/samples stands in for 1609.04957."""
    from inference.runtime.paths import samples_dir

    sample = samples_dir() / "LaFeAsO1-xHx_NMR_1609.04957.pdf"
    if name == "1609.04957-CC.pdf" and sample.is_file():
        return sample
    return shared("papers", "supermat", "pdf", name)


def text_paper(text: str | Sequence[str], section: str = "results") -> Paper:
    """A one-page paper made of text blocks (one per piece, two newlines apart), as the PDF
    reader would give it, for rules that need no real PDF."""
    pieces = [text] if isinstance(text, str) else list(text)
    whole = "\n\n".join(pieces)
    blocks, start = [], 0
    for piece in pieces:
        blocks.append(Block(0, start, start + len(piece), Box(0, 0, 600, 800), section))
        start += len(piece) + 2
    n = len(whole)
    return Paper(
        path=Path("synthetic.pdf"),
        title="",
        page_sizes=[(600.0, 800.0)],
        text=whole,
        char_page=np.zeros(n, np.int32),
        char_box=np.tile(np.array([[10, 10, 12, 20]], np.float32), (n, 1)),
        blocks=blocks,
    )


def encrypted_pdf(path: Path) -> Path:
    """A PDF whose /Encrypt dictionary needs a password (no pypdf needed)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <"
        + b"11" * 32
        + b"> /U <"
        + b"22" * 32
        + b"> /P -4 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Encrypt 4 0 R "
        f"/ID [<{'ab' * 16}> <{'ab' * 16}>] >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    path.write_bytes(bytes(out))
    return path


def image_only_pdf(path: Path) -> Path:
    """One page holding a picture and no text layer, like a scan."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    doc = pdfium.PdfDocument.new()
    page = doc.new_page(300, 300)
    image = pdfium.PdfImage.new(doc)
    pixels = (np.random.default_rng(0).random((120, 120, 3)) * 255).astype(np.uint8)
    image.set_bitmap(pdfium.PdfBitmap.from_pil(Image.fromarray(pixels)))
    image.set_matrix(pdfium.PdfMatrix().scale(200, 200).translate(50, 50))
    page.insert_obj(image)
    page.gen_content()
    doc.save(str(path))
    return path


def many_pages_pdf(source: Path, path: Path, copies: int) -> Path:
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(source))
    dst = pdfium.PdfDocument.new()
    for _ in range(copies):
        dst.import_pages(src)
    dst.save(str(path))
    return path


def sofc_exp_pdf(name: str, path: Path) -> Path:
    """A SOFC-Exp paper (CC-BY text, one sentence a line, no PDF shipped) typeset as a journal
    PDF would hold it: its title in large type, paragraphs of five sentences, the reference list
    under "References". Needs a QGuiApplication (the qapp fixture)."""
    import html

    root = shared("papers", "sofc_exp")
    titles = {
        row.split("\t")[5]: row.split("\t")[0]
        for row in (root / "SOFC-Exp-Metadata.csv").read_text(encoding="utf-8").splitlines()
        if row.count("\t") > 5
    }
    lines = (root / "texts" / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    references = lines.pop() if len(lines[-1]) > 1500 else ""  # the list, run together
    parts = [f"<h2>{html.escape(titles[name])}</h2>"]
    parts += [f"<p>{html.escape(' '.join(lines[i : i + 5]))}</p>" for i in range(0, len(lines), 5)]
    if references:
        parts += ["<h3>References</h3>", f"<p>{html.escape(references)}</p>"]
    return typeset_pdf("".join(parts), path)


def typeset_pdf(body_html: str, path: Path) -> Path:
    """HTML typeset by Qt into an A4 PDF with a real text layer (embedded fonts)."""
    from PySide6.QtCore import QMarginsF
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

    doc = QTextDocument()
    doc.setDefaultStyleSheet("p { font-size: 10pt; }")
    doc.setHtml(body_html)
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(20, 20, 20, 20), QPageLayout.Unit.Millimeter)
    doc.print_(writer)
    del writer  # the file is complete once the writer is gone
    return path


def precise_values_pdf(path: Path) -> Path:
    """A one-page paper whose values carry trailing zeros a float drops ("7.0 K", "3.30 eV",
    "20.50 ± 0.03 K", and a table's "7.10"). Needs a QGuiApplication (the qapp fixture)."""
    return typeset_pdf(
        "<h2>Superconductivity in NbSe2 films</h2><p>The NbSe2 films become superconducting at "
        "Tc = 7.0 K. The band gap of ZnO is 3.30 eV. The bulk NbN crystal has "
        "Tc = 20.50 ± 0.03 K.</p>"
        "<p>Table 1. Transition temperatures of the films.</p>"
        "<table border='1' cellpadding='4'><tr><th>Sample</th><th>Tc (K)</th></tr>"
        "<tr><td>NbSe2</td><td>7.10</td></tr><tr><td>TaS2</td><td>0.80</td></tr></table>",
        path,
    )


def page_break_pdf(path: Path) -> Path:
    """Two pages whose paragraph runs from one to the next, its word "multi-layered" split by
    a hyphen at the page break. Needs a QGuiApplication (the qapp fixture)."""
    filler = (
        "The perovskite films were grown by pulsed laser deposition on SrTiO3 substrates. "
        "Their thickness was measured by X-ray reflectivity. "
    )
    return typeset_pdf(
        "<h2>Growth of layered oxide films</h2>"
        f"<p>{filler * 3}</p>"
        "<p style='page-break-after: always'>Electron microscopy of the annealed film "
        "shows an ordered, multi-</p>"
        "<p>layered stacking of the perovskite blocks along the growth direction. "
        f"{filler}</p>",
        path,
    )


def turned_pdf(source: Path, path: Path, *, content_turns: int = 0, rotate: int = 0) -> Path:
    """`source` with each page's content drawn turned `content_turns` quarter turns
    counter-clockwise (a landscape page's table set on its side) and the page's /Rotate set to
    `rotate` degrees (what a viewer's "rotate and save" writes)."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(source))
    dst = pdfium.PdfDocument.new()
    for index in range(len(src)):
        width, height = src[index].get_size()
        if content_turns % 2:
            content = src.page_as_xobject(index, dst).as_pageobject()
            # a quarter turn counter-clockwise about the origin, then back onto the page
            content.set_matrix(pdfium.PdfMatrix(0, 1, -1, 0, height, 0))
            page = dst.new_page(height, width)
            page.insert_obj(content)
            page.gen_content()
        else:
            dst.import_pages(src, [index])
            page = dst[index]
        page.set_rotation(rotate)
    dst.save(str(path))
    return path
