"""Read a PDF into a `Paper`: reading-order text whose characters keep their page and box.

pypdfium2 gives character boxes fast (~30 ms a page); pdfplumber is used only for tables, on
pages whose text mentions a table. Encrypted, damaged, empty and image-only files get a
one-line `UnreadableFile` message.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections import Counter
from pathlib import Path

import numpy as np

from inference.errors import UnreadableFile
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.literature.layout import Char, Line, build_lines
from inference.literature.model import Block, Box, Paper
from inference.literature.quantities import SYMBOL_FONT
from inference.literature.sections import (
    EXCLUDED,
    heading_section,
    looks_like_reference_entry,
    looks_like_reference_list,
)

_HYPHENS = "-\u2010\u00ad"
# PDFium is not thread-safe: two threads inside it at once (a page drawn for the viewer while
# another paper is parsed, or two pages drawn) corrupt its heap and kill the process. Every
# call into it holds this lock, taken per page so that a page can be drawn between two pages of
# a long parse.
PDFIUM_LOCK = threading.RLock()
_DIGITS = re.compile(r"\d+")


def open_document(path: Path):
    """A pypdfium2 document, or a one-line message saying why the file cannot be read."""
    import pypdfium2 as pdfium

    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(f"{path.name}: file not found")
    if path.stat().st_size == 0:
        raise UnreadableFile(f"{path.name}: the file is empty (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF" not in head:
        raise UnreadableFile(f"{path.name}: not a PDF file")
    try:
        with PDFIUM_LOCK:
            return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        text = str(exc).lower()
        if "password" in text:
            raise UnreadableFile(
                f"{path.name}: the PDF is encrypted with a password; save an unlocked copy first"
            ) from None
        raise UnreadableFile(f"{path.name}: the PDF is damaged and cannot be read") from None


def _page_chars(page) -> list[Char]:
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    try:
        height = page.get_height()
        n = textpage.count_chars()
        x, y = ctypes.c_double(), ctypes.c_double()
        left, right, bottom, top = (ctypes.c_double() for _ in range(4))
        raw_tp = textpage.raw
        matrix = raw.FS_MATRIX()
        chars: list[Char] = []
        for i in range(n):
            code = raw.FPDFText_GetUnicode(raw_tp, i)
            if code == 2:  # pdfium's code for a hyphen at the end of a line
                code = 0x2D
            if code <= 32 or code == 0xFFFE or raw.FPDFText_IsGenerated(raw_tp, i):
                continue
            raw.FPDFText_GetMatrix(raw_tp, i, matrix)
            if abs(matrix.b) > 0.01 * abs(matrix.a) + 1e-6:  # rotated text: arXiv stamp, axes
                continue
            size = (
                raw.FPDFText_GetFontSize(raw_tp, i)
                * abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
            )
            raw.FPDFText_GetCharOrigin(raw_tp, i, x, y)
            rect = raw.FS_RECTF()
            raw.FPDFText_GetLooseCharBox(raw_tp, i, rect)
            if rect.top - rect.bottom <= 0.5:
                raw.FPDFText_GetCharBox(raw_tp, i, left, right, bottom, top)
                rect.left, rect.right, rect.bottom, rect.top = (
                    left.value,
                    right.value,
                    bottom.value,
                    top.value,
                )
            ch = "\ufffd" if 0xD800 <= code <= 0xDFFF or code >= 0x110000 else chr(code)
            # a Symbol-font glyph kept at its private code ("\uf02d" for the minus of "Sb1−x"):
            # its Unicode character, so titles, sentences and search hits show no empty box
            ch = ch.translate(SYMBOL_FONT)
            if ch.isspace():
                continue
            chars.append(
                Char(
                    ch,
                    rect.left,
                    height - rect.top,
                    rect.right,
                    height - rect.bottom,
                    height - y.value,
                    size or (rect.top - rect.bottom),
                )
            )
    finally:
        textpage.close()  # here, under the lock, not by the garbage collector
    return chars


def _margin_key(line: Line) -> str:
    return _DIGITS.sub("#", line.text.strip().lower())


def _drop_headers_footers(pages: list[list[Line]], heights: list[float]) -> list[list[Line]]:
    """Remove lines in the top/bottom 7 % that repeat across pages or are bare page numbers."""
    counts: Counter[str] = Counter()
    for lines, h in zip(pages, heights, strict=True):
        for key in {_margin_key(ln) for ln in lines if _in_margin(ln, h)}:
            counts[key] += 1
    repeat = 2 if len(pages) > 2 else 99
    kept = []
    for lines, h in zip(pages, heights, strict=True):
        keep = []
        for ln in lines:
            if _in_margin(ln, h):
                key = _margin_key(ln)
                if counts[key] >= repeat or re.fullmatch(r"[#\s\-–|/pageof.]*", key):
                    continue
            keep.append(ln)
        kept.append(keep)
    return kept


def _in_margin(line: Line, height: float) -> bool:
    return line.bottom < 0.075 * height or line.top > 0.925 * height


class _Builder:
    """Joins lines into paragraphs and the paper text, keeping a box for every character."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pages: list[int] = []
        self.boxes: list[tuple[float, float, float, float] | None] = []
        self.length = 0
        self.blocks: list[Block] = []

    def add(self, text: str, page: int, boxes) -> None:
        self.parts.append(text)
        self.pages.extend([page] * len(text))
        self.boxes.extend(boxes)
        self.length += len(text)

    def block(self, lines: list[Line], page: int, section: str, heading: bool) -> None:
        if self.length:
            self.add("\n\n", page, [None, None])
        start = self.length
        for k, line in enumerate(lines):
            text, boxes = line.text, line.boxes
            if k:
                prev = lines[k - 1].text
                if (
                    len(prev) > 2
                    and prev[-1] in _HYPHENS
                    and prev[-2].islower()
                    and text[:1].islower()
                ):
                    self._unhyphen()
                else:
                    self.add(" ", page, [None])
            self.add(text, page, boxes)
        box = Box(
            min(ln.x0 for ln in lines),
            min(ln.top for ln in lines),
            max(ln.x1 for ln in lines),
            max(ln.bottom for ln in lines),
        )
        self.blocks.append(Block(page, start, self.length, box, section, heading))

    def _unhyphen(self) -> None:
        last = self.parts[-1]
        self.parts[-1] = last[:-1]
        self.pages.pop()
        self.boxes.pop()
        self.length -= 1

    def paper(self, path: Path, title: str, sizes, tables) -> Paper:
        text = "".join(self.parts)
        nan = (np.nan, np.nan, np.nan, np.nan)
        boxes = np.array([b if b is not None else nan for b in self.boxes], dtype=np.float32)
        return Paper(
            path=path,
            title=title,
            page_sizes=sizes,
            text=text,
            char_page=np.array(self.pages, dtype=np.int32),
            char_box=boxes.reshape(-1, 4),
            blocks=self.blocks,
            tables=tables,
        )


def _paragraphs(lines: list[Line]) -> list[list[Line]]:
    """Consecutive lines of one column at the page's usual line pitch form a paragraph."""
    pitches = [
        b.baseline - a.baseline
        for a, b in zip(lines, lines[1:], strict=False)
        if a.column == b.column and 0.5 * a.size < b.baseline - a.baseline < 3 * a.size
    ]
    typical = float(np.median(pitches)) if pitches else 0.0
    groups: list[list[Line]] = []
    for line in lines:
        if groups:
            prev = groups[-1][-1]
            pitch = line.baseline - prev.baseline
            limit = max(1.3 * prev.size, 1.15 * typical)
            same = (
                line.column == prev.column
                and 0.5 * prev.size < pitch <= limit
                and abs(line.size - prev.size) < 0.2 * prev.size
                and heading_section(prev.text) is None
                and heading_section(line.text) is None
            )
            if same:
                groups[-1].append(line)
                continue
        groups.append([line])
    return groups


def _title(lines: list[Line], height: float) -> str:
    top_half = sorted(
        (ln for ln in lines if ln.top < 0.5 * height and not _in_margin(ln, height)),
        key=lambda ln: ln.top,
    )
    long_lines = [ln for ln in top_half if len(ln.text) > 8]
    if not long_lines:
        return ""
    biggest = max(ln.size for ln in long_lines)
    chosen = [ln for ln in long_lines if ln.size > 0.92 * biggest]
    # The title's last line may be one short word ("… Solid Oxide Fuel" / "Cells"): a line of
    # the title's size right under a title line belongs to it.
    for ln in top_half:
        if (
            len(ln.text) <= 8
            and 0.92 * biggest < ln.size < 1.08 * biggest
            and any(0 < ln.top - c.top < 1.6 * biggest for c in chosen)
        ):
            chosen.append(ln)
    return " ".join(ln.text for ln in top_half if any(ln is c for c in chosen))[:300]


def parse_pdf(
    path: Path,
    *,
    max_pages: int | None = None,
    tables: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Paper:
    """Parse a PDF into a `Paper` (raises `UnreadableFile` with a one-line message)."""
    path = Path(path)
    doc = open_document(path)
    try:
        with PDFIUM_LOCK:
            n = len(doc)
        if n == 0:
            raise UnreadableFile(f"{path.name}: the PDF has no pages")
        n = min(n, max_pages) if max_pages else n
        pages: list[list[Line]] = []
        sizes: list[tuple[float, float]] = []
        for i in range(n):
            if cancel:
                cancel.raise_if_cancelled()
            progress(0.9 * i / n, f"reading page {i + 1} of {n}")
            with PDFIUM_LOCK:
                page = doc[i]
                w, h = page.get_size()
                try:
                    chars = _page_chars(page)
                finally:
                    page.close()
            sizes.append((w, h))
            pages.append(build_lines(chars, w))
    finally:
        with PDFIUM_LOCK:
            doc.close()
    if sum(len(p) for p in pages) == 0:
        raise UnreadableFile(
            f"{path.name}: no text layer (a scanned or image-only PDF); run OCR on it first"
        )
    heights = [h for _, h in sizes]
    pages = _drop_headers_footers(pages, heights)
    title = _title(pages[0], heights[0]) if pages[0] else ""
    builder = _Builder()
    section = "front"
    abstract_page = 0
    for i, lines in enumerate(pages):
        for group in _paragraphs(lines):
            first = group[0].text
            opened = heading_section(first) if len(group) == 1 else None
            if opened:
                section = opened
            elif section == "abstract" and i > abstract_page:
                section = "body"
            elif (
                section not in ("references",)
                and i >= n // 2
                and looks_like_reference_list(" ".join(ln.text for ln in group))
            ):
                section = "references"
            if opened == "abstract":
                abstract_page = i
            block_section = section
            if (
                not opened
                and section not in EXCLUDED
                and i >= n // 2
                and looks_like_reference_entry(" ".join(ln.text for ln in group))
            ):
                block_section = "references"  # an entry of a list with no heading over it
            builder.block(group, i, block_section, heading=bool(opened))
    found = []
    if tables:
        progress(0.92, "looking for tables")
        found = _tables(path, builder, n, cancel)
    progress(1.0, "")
    return builder.paper(path, title, sizes, found)


_TABLE_CAPTION = re.compile(r"\bTABLE\s+[IVX\d]+", re.IGNORECASE)


def _tables(path: Path, builder: _Builder, n: int, cancel: CancelToken | None):
    from inference.literature.tables import find_tables

    text = "".join(builder.parts)
    pages = np.array(builder.pages, dtype=np.int32)
    wanted = sorted({int(pages[m.start()]) for m in _TABLE_CAPTION.finditer(text)})
    return find_tables(path, [p for p in wanted if p < n], cancel)
