"""The parsed paper: one text string whose characters keep their page and box on the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np


@dataclass(frozen=True)
class Box:
    """A rectangle in PDF points, origin at the page's top-left corner."""

    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True)
class Block:
    """A paragraph (or heading) in reading order; `start:end` indexes `Paper.text`."""

    page: int  # 0-based
    start: int
    end: int
    box: Box
    section: str  # front, abstract, introduction, experimental, results, ..., references
    heading: bool = False


@dataclass(frozen=True)
class Table:
    page: int
    box: Box
    rows: list[list[str]]
    cells: list[list[Box | None]] = field(default_factory=list)  # boxes of `rows`' cells


@dataclass
class Paper:
    """Reading-order text of a PDF plus, for every character, where it sits on which page.

    Characters the parser added (spaces between words, paragraph breaks) have a NaN box.
    """

    path: Path
    title: str
    page_sizes: list[tuple[float, float]]
    text: str
    char_page: np.ndarray  # int32 (N,)
    char_box: np.ndarray  # float32 (N, 4): x0, top, x1, bottom
    blocks: list[Block]
    tables: list[Table] = field(default_factory=list)

    @property
    def n_pages(self) -> int:
        return len(self.page_sizes)

    def page_of(self, offset: int) -> int:
        if not len(self.char_page):
            return 0
        return int(self.char_page[min(max(offset, 0), len(self.char_page) - 1)])

    def block_at(self, offset: int) -> Block | None:
        for block in self.blocks:
            if block.start <= offset < block.end:
                return block
        return None

    def boxes(self, start: int, end: int) -> list[tuple[int, Box]]:
        """Highlight rectangles for a text span: one per line piece, merged per page."""
        pages = self.char_page[start:end]
        boxes = self.char_box[start:end]
        out: list[tuple[int, Box]] = []
        cur: list[float] | None = None
        cur_page = -1
        for page, (x0, top, x1, bottom) in zip(pages.tolist(), boxes.tolist(), strict=True):
            if x0 != x0:  # NaN: an added space
                continue
            same_line = (
                cur is not None
                and page == cur_page
                and (
                    # one line, read to the right, or to the left on a page shown upside down
                    (abs(top - cur[1]) < 4 and (x0 >= cur[0] - 2 or x1 <= cur[2] + 2))
                    # a line that runs down or up the page as shown (turned by its /Rotate)
                    or (abs(x0 - cur[0]) < 4 and abs(x1 - cur[2]) < 4)
                )
            )
            if cur is not None and same_line:
                cur = [min(cur[0], x0), min(cur[1], top), max(cur[2], x1), max(cur[3], bottom)]
                continue
            if cur is not None:
                out.append((cur_page, Box(*cur)))
            cur, cur_page = [x0, top, x1, bottom], page
        if cur is not None:
            out.append((cur_page, Box(*cur)))
        return out
