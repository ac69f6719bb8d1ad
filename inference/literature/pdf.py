"""Read a PDF into a `Paper`: reading-order text whose characters keep their page and box.

pypdfium2 gives character boxes fast (~30 ms a page); pdfplumber is used only for tables, on
pages whose text mentions a table. Encrypted, damaged, empty and image-only files get a
one-line `UnreadableFile` message.
"""

from __future__ import annotations

import ctypes
import dataclasses
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


@dataclasses.dataclass(frozen=True)
class PageFrame:
    """Where a page's text is laid out and where it is shown.

    Text is read in the frame in which most of its characters stand upright: the PDF's own
    (top-down) page space turned `turns` clockwise quarter turns (a landscape table drawn on
    its side and shown upright by the page's /Rotate). The page is shown turned by its
    /Rotate, `display_turns` further quarter turns from the reading frame."""

    size: tuple[float, float]  # width, height of the reading frame, in points
    display_turns: int  # clockwise quarter turns from the reading frame to the page as shown

    @property
    def display_size(self) -> tuple[float, float]:
        w, h = self.size
        return (h, w) if self.display_turns % 2 else (w, h)

    def to_display(self, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) boxes x0, top, x1, bottom in the reading frame → the page as shown."""
        w, h = self.size
        out = np.array(boxes, dtype=np.float64)
        for _ in range(self.display_turns % 4):
            x0, top, x1, bottom = out.T
            out = np.stack([h - bottom, x0, h - top, x1], axis=1)
            w, h = h, w
        return out


def _turned(u: float, v: float, size: tuple[float, float], turns: int) -> tuple[float, float]:
    """A point of a top-down frame of `size` after the frame is turned clockwise `turns`
    quarter turns."""
    w, h = size
    for _ in range(turns % 4):
        u, v = h - v, u
        w, h = h, w
    return u, v


def _upright_turns(a: float, b: float) -> int | None:
    """Clockwise quarter turns of the page that make a character whose text matrix starts
    (a, b) stand upright; None for a slanted one. The direction of writing is (a, -b) in the
    top-down frame; a clockwise turn of the frame takes (du, dv) to (-dv, du)."""
    du, dv = a, -b
    for turns in range(4):
        if du > 0 and abs(dv) <= 0.01 * du + 1e-6:
            return turns
        du, dv = -dv, du
    return None


def _page_chars(page) -> tuple[list[Char], PageFrame]:
    """The page's characters in its reading frame (`PageFrame`), in reading order's units."""
    import pypdfium2.raw as raw

    left_edge, bottom_edge, right_edge, top_edge = page.get_cropbox()
    space = (right_edge - left_edge, top_edge - bottom_edge)  # the PDF's page space, unturned
    textpage = page.get_textpage()
    # Characters upright on the page (nearly all) become `Char`s at once; those standing
    # upright only in a turned frame wait, by their turns, as (character, box, origin, size)
    # in the unturned top-down page space, in case most of the page reads that way.
    upright: list[Char] = []
    turned: dict[int, list[tuple[str, tuple[float, float, float, float], float, float, float]]]
    turned = {1: [], 2: [], 3: []}
    try:
        n = textpage.count_chars()
        x, y = ctypes.c_double(), ctypes.c_double()
        left, right, bottom, top = (ctypes.c_double() for _ in range(4))
        raw_tp = textpage.raw
        matrix = raw.FS_MATRIX()
        for i in range(n):
            code = raw.FPDFText_GetUnicode(raw_tp, i)
            if code == 2:  # pdfium's code for a hyphen at the end of a line
                code = 0x2D
            if code <= 32 or code == 0xFFFE or raw.FPDFText_IsGenerated(raw_tp, i):
                continue
            raw.FPDFText_GetMatrix(raw_tp, i, matrix)
            a, b = matrix.a, matrix.b
            # upright on the page, as nearly all text is (the test of `_upright_turns`, inline)
            turns = 0 if a > 0 and abs(b) <= 0.01 * a + 1e-6 else _upright_turns(a, b)
            if turns is None:  # slanted text
                continue
            size = raw.FPDFText_GetFontSize(raw_tp, i) * abs(a * matrix.d - b * matrix.c) ** 0.5
            raw.FPDFText_GetCharOrigin(raw_tp, i, x, y)
            rect = raw.FS_RECTF()
            raw.FPDFText_GetLooseCharBox(raw_tp, i, rect)
            # a loose box with no height across the line (some fonts): the tight one
            across = rect.top - rect.bottom if turns % 2 == 0 else rect.right - rect.left
            if abs(across) <= 0.5:
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
            x0, y0 = rect.left - left_edge, top_edge - rect.top
            x1, y1 = rect.right - left_edge, top_edge - rect.bottom
            if turns == 0:
                upright.append(Char(ch, x0, y0, x1, y1, top_edge - y.value, size or (y1 - y0)))
            else:
                origin = (x.value - left_edge, top_edge - y.value)
                turned[turns].append((ch, (x0, y0, x1, y1), *origin, size))
    finally:
        textpage.close()  # here, under the lock, not by the garbage collector
    # The frame most characters stand upright in; the others (an arXiv stamp up the margin,
    # a plot's axis title) are left out, as slanted ones are.
    reading = max(turned, key=lambda k: len(turned[k]))
    if len(turned[reading]) <= len(upright):
        chars, reading = upright, 0
    else:
        chars = []
        for ch, (x0, y0, x1, y1), ox, oy, font_size in turned[reading]:
            (x0, y0), (x1, y1) = _turned(x0, y0, space, reading), _turned(x1, y1, space, reading)
            x0, x1, y0, y1 = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
            baseline = _turned(ox, oy, space, reading)[1]
            chars.append(Char(ch, x0, y0, x1, y1, baseline, font_size or (y1 - y0)))
    size = (space[1], space[0]) if reading % 2 else space
    shown = page.get_rotation() // 90  # /Rotate: clockwise quarter turns of the page space
    return chars, PageFrame(size, (shown - reading) % 4)


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

    def paper(self, path: Path, title: str, frames: list[PageFrame], tables) -> Paper:
        """The paper, its boxes where each page is shown (the viewer draws the page turned
        by its /Rotate, and the table reader's boxes are in that frame too)."""
        text = "".join(self.parts)
        nan = (np.nan, np.nan, np.nan, np.nan)
        boxes = np.array([b if b is not None else nan for b in self.boxes], dtype=np.float64)
        boxes = boxes.reshape(-1, 4)
        pages = np.array(self.pages, dtype=np.int32)
        blocks = self.blocks
        for index, frame in enumerate(frames):
            if frame.display_turns:
                on_page = pages == index
                boxes[on_page] = frame.to_display(boxes[on_page])
                blocks = [_block_shown(b, frame) if b.page == index else b for b in blocks]
        return Paper(
            path=path,
            title=title,
            page_sizes=[f.display_size for f in frames],
            text=text,
            char_page=pages,
            char_box=boxes.astype(np.float32),
            blocks=blocks,
            tables=tables,
        )


def _block_shown(block: Block, frame: PageFrame) -> Block:
    b = block.box
    x0, top, x1, bottom = frame.to_display(np.array([[b.x0, b.top, b.x1, b.bottom]]))[0]
    return dataclasses.replace(block, box=Box(float(x0), float(top), float(x1), float(bottom)))


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
        sizes: list[tuple[float, float]] = []  # of each page's reading frame
        frames: list[PageFrame] = []
        for i in range(n):
            if cancel:
                cancel.raise_if_cancelled()
            progress(0.9 * i / n, f"reading page {i + 1} of {n}")
            with PDFIUM_LOCK:
                page = doc[i]
                try:
                    chars, frame = _page_chars(page)
                finally:
                    page.close()
            frames.append(frame)
            sizes.append(frame.size)
            pages.append(build_lines(chars, frame.size[0]))
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
    return builder.paper(path, title, frames, found)


_TABLE_CAPTION = re.compile(r"\bTABLE\s+[IVX\d]+", re.IGNORECASE)


def _tables(path: Path, builder: _Builder, n: int, cancel: CancelToken | None):
    from inference.literature.tables import find_tables

    text = "".join(builder.parts)
    pages = np.array(builder.pages, dtype=np.int32)
    wanted = sorted({int(pages[m.start()]) for m in _TABLE_CAPTION.finditer(text)})
    return find_tables(path, [p for p in wanted if p < n], cancel)
