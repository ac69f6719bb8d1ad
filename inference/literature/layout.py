"""Characters with boxes → lines → reading order, with sub/superscripts put back in place.

Plain text extraction breaks formulas: subscripts sit on their own baseline ("Cu Bi Se" over
"x 2 3") and two columns run together. Here small characters are merged into the line they
belong to by position and size, and a page with a gutter is read column by column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Char:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    baseline: float
    size: float  # font size in points (not the box height, which depends on the font's metrics)


@dataclass
class Line:
    chars: list[Char]
    size: float  # median font size of the line's main text
    baseline: float = 0.0
    column: int = 0  # -1 left, 1 right, 0 spanning/single
    text: str = ""
    boxes: list[tuple[float, float, float, float] | None] = field(default_factory=list)

    @property
    def x0(self) -> float:
        return min(c.x0 for c in self.chars)

    @property
    def x1(self) -> float:
        return max(c.x1 for c in self.chars)

    @property
    def top(self) -> float:
        return min(c.top for c in self.chars)

    @property
    def bottom(self) -> float:
        return max(c.bottom for c in self.chars)


def _runs(chars: list[Char]) -> list[list[Char]]:
    """Group characters sharing a baseline, split where a gap is wider than ~1.3 em."""
    chars = sorted(chars, key=lambda c: (round(c.baseline, 0), c.x0))
    rows: list[list[Char]] = []
    for c in chars:
        if rows and abs(rows[-1][-1].baseline - c.baseline) <= 1.0:
            rows[-1].append(c)
        else:
            rows.append([c])
    for row in rows:
        row.sort(key=lambda c: c.x0)
    runs: list[list[Char]] = []
    for i, row in enumerate(rows):
        run = [row[0]]
        scripts: list[Char] | None = None
        for prev, c in zip(row, row[1:], strict=False):
            size = max(prev.size, c.size)
            if c.x0 - prev.x1 > 1.3 * size:
                if scripts is None:
                    scripts = _nearby_rows(rows, i)
                if not _filled_by_scripts(prev, c, size, scripts):
                    runs.append(run)
                    run = []
            run.append(c)
        runs.append(run)
    return runs


def _nearby_rows(rows: list[list[Char]], i: int) -> list[Char]:
    """Characters of the rows whose baseline lies within 0.6 em of row `i` (its scripts)."""
    band = 0.6 * max(c.size for c in rows[i])
    base = rows[i][0].baseline
    out: list[Char] = []
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(rows) and abs(rows[j][0].baseline - base) <= band:
            out.extend(rows[j])
            j += step
    return out


def _filled_by_scripts(prev: Char, nxt: Char, size: float, scripts: list[Char]) -> bool:
    """Whether smaller characters on a nearby baseline fill the gap between `prev` and `nxt`.

    A long subscript ("Cu0.97Zn0.03" in Sr0.9La0.1Cu0.97Zn0.03O2, "1−x" in Mg(B1−xCx)2) sits a
    little below the line, on a row of its own, and leaves a gap wider than a word space in the
    line itself; cutting the line there sends the rest of the formula ("O2", "Cx)2") to a line
    of its own. The gap is kept when the scripts cover it with no hole wider than half an em.
    """
    cover = sorted(
        (k.x0, k.x1)
        for k in scripts
        if k.size < 0.85 * size
        and abs(k.baseline - prev.baseline) <= 0.6 * size
        and k.x1 > prev.x1
        and k.x0 < nxt.x0
    )
    end = prev.x1
    for x0, x1 in cover:
        if x0 - end > 0.5 * size:
            return False
        end = max(end, x1)
    return bool(cover) and nxt.x0 - end <= 0.5 * size


def _median_size(run: list[Char]) -> float:
    return float(np.median([c.size for c in run]))


def _merge_scripts(runs: list[list[Char]]) -> list[list[Char]]:
    """Attach runs of smaller characters (sub/superscripts) to the line whose band they touch."""
    sizes = [_median_size(r) for r in runs]
    order = sorted(range(len(runs)), key=lambda i: -sizes[i])
    hosts: list[tuple[float, float, float, float, list[Char]]] = []
    for i in order:
        run, size = runs[i], sizes[i]
        x0, x1 = run[0].x0, run[-1].x1
        host, best = None, None
        base = float(np.median([c.baseline for c in run]))
        for hx0, hx1, hbase, hs, chars in hosts:
            if size > 0.85 * hs or abs(base - hbase) > 0.6 * hs:
                continue
            distance = max(0.0, hx0 - x1, x0 - hx1)
            if distance <= 0.5 * hs and (best is None or distance < best):
                host, best = chars, distance
        if host is None:
            hosts.append((x0, x1, base, size, list(run)))
        else:
            host.extend(run)
            host.sort(key=lambda c: c.x0)
    return [h[4] for h in hosts]


def _gutter(runs: list[list[Char]], width: float) -> float | None:
    """x of the gap between two columns, or None for a single-column page."""
    spans = [(r[0].x0, r[-1].x1) for r in runs if len(r) > 3]
    if len(spans) < 12:
        return None
    best, best_x = len(spans) + 1, 0.5 * width
    for x in np.arange(0.35 * width, 0.65 * width, 2.0):
        crossing = sum(1 for a, b in spans if a < x < b)
        if crossing < best:
            best, best_x = crossing, float(x)
    left = sum(1 for a, b in spans if b <= best_x)
    right = sum(1 for a, b in spans if a >= best_x)
    if left < 5 or right < 5 or best > left + right:
        return None
    return best_x


def _split_at(run: list[Char], gutter: float) -> list[list[Char]]:
    for k in range(1, len(run)):
        a, b = run[k - 1], run[k]
        if a.x1 <= gutter + 1 and b.x0 >= gutter - 1 and b.x0 - a.x1 > 0.9 * a.size:
            return [run[:k], *_split_at(run[k:], gutter)]
    return [run]


def build_lines(chars: list[Char], width: float) -> list[Line]:
    """Lines of one page in reading order (columns left then right between spanning lines)."""
    if not chars:
        return []
    runs = _runs(chars)
    gutter = _gutter(runs, width)
    if gutter is not None:
        runs = [piece for run in runs for piece in _split_at(run, gutter)]
    lines = [
        Line(run, _main_size(run), baseline=_base(run))
        for run in _rejoin(_merge_scripts(runs), gutter)
    ]
    for line in lines:
        if gutter is not None:
            if line.x1 <= gutter + 2:
                line.column = -1
            elif line.x0 >= gutter - 2:
                line.column = 1
        _compose(line)
    return _reading_order(lines)


def _rejoin(runs: list[list[Char]], gutter: float | None) -> list[list[Char]]:
    """Join pieces of one line split at wide gaps (justified text, long subscripts)."""
    keyed = sorted(runs, key=lambda r: (_base(r), r[0].x0))
    out: list[list[Char]] = []
    for run in keyed:
        if out:
            prev = out[-1]
            size = max(_median_size(prev), _median_size(run))
            gap = run[0].x0 - prev[-1].x1
            across = gutter is not None and prev[-1].x1 <= gutter + 1 and run[0].x0 >= gutter - 1
            if abs(_base(prev) - _base(run)) <= 1.0 and -1 < gap <= 3 * size and not across:
                prev.extend(run)
                continue
        out.append(run)
    return out


def _base(run: list[Char]) -> float:
    top = max(c.size for c in run)
    return float(np.median([c.baseline for c in run if c.size >= 0.85 * top]))


def _main_size(run: list[Char]) -> float:
    return float(max(np.median([c.size for c in run]), 1.0))


def _compose(line: Line) -> None:
    """Text of a line with spaces where gaps are wide; scripts join their base character."""
    parts: list[str] = []
    boxes: list[tuple[float, float, float, float] | None] = []
    prev: Char | None = None
    citations = _citation_marks(line)
    for k, c in enumerate(line.chars):
        if prev is not None:
            gap = c.x0 - prev.x1
            small = min(prev.size, c.size) < 0.85 * line.size
            limit = 0.12 * line.size if not small else 0.18 * line.size
            if gap > limit or k in citations:
                parts.append(" ")
                boxes.append(None)
        parts.append(c.text)
        boxes.extend([(c.x0, c.top, c.x1, c.bottom)] * len(c.text))
        prev = c
    line.text = "".join(parts)
    line.boxes = boxes


def _reading_order(lines: list[Line]) -> list[Line]:
    lines.sort(key=lambda ln: (ln.top, ln.x0))
    out: list[Line] = []
    left: list[Line] = []
    right: list[Line] = []
    for line in lines:
        if line.column == 0 and (left or right) and _spans_both(line, left, right):
            out.extend(left)
            out.extend(right)
            left, right = [], []
        if line.column == -1:
            left.append(line)
        elif line.column == 1:
            right.append(line)
        elif left or right:
            # a short centred line inside a column region (an equation): keep with the left
            (left if line.x0 < _mid(left, right) else right).append(line)
        else:
            out.append(line)
    out.extend(left)
    out.extend(right)
    return out


def _mid(left: list[Line], right: list[Line]) -> float:
    if left and right:
        return (max(ln.x1 for ln in left) + min(ln.x0 for ln in right)) / 2
    return 1e9 if left else -1e9


def _spans_both(line: Line, left: list[Line], right: list[Line]) -> bool:
    """A line crossing the gutter that is wide (a title, a full-width figure caption)."""
    if not (left and right):
        return True
    return line.x0 < min(ln.x1 for ln in left) and line.x1 > max(ln.x0 for ln in right)


_CITATION_CHARS = frozenset("0123456789,–-)")


def _citation_marks(line: Line) -> set[int]:
    """Indices where a superscript reference number glued to a formula starts.

    "Sr2RuO4" followed by a raised "2" (reference 2) would read "Sr2RuO42"; a raised run of
    digits (with ",", "–", ")" as in "3,4,5" or "7)") right after a word holding a capital,
    and not itself followed by a letter or digit, is split off. Charges ("Cu2+") and units
    ("cm−1", all lower case) are left alone.
    """
    chars = line.chars
    size = line.size
    out: set[int] = set()

    def raised(c: Char) -> bool:
        return c.size < 0.85 * size and c.baseline < line.baseline - 0.2 * size

    k = 1
    while k < len(chars):
        c, prev = chars[k], chars[k - 1]
        if not (raised(c) and c.text.isdigit()) or raised(prev):
            k += 1
            continue
        end = k
        while end < len(chars) and raised(chars[end]) and chars[end].text in _CITATION_CHARS:
            end += 1
        glued = c.x0 - prev.x1 <= 0.12 * size
        closed = chars[end - 1].text not in ",–-"
        after = chars[end] if end < len(chars) else None
        free = (
            after is None or not after.text.isalnum() or after.x0 - chars[end - 1].x1 > 0.18 * size
        )
        word = ""
        j = k - 1
        while j >= 0 and (j == k - 1 or chars[j + 1].x0 - chars[j].x1 <= 0.12 * size):
            word = chars[j].text + word
            j -= 1
        run = "".join(ch.text for ch in chars[k:end])
        # a reference after a formula ("Sr2RuO4" + "2"), or after a decimal number or as a
        # list ("x = 0.115" + "28", "0.12" + "1,2"), never an exponent ("10" + "5")
        cited = any(ch.isupper() for ch in word) or (
            word[-1:].isdigit() and ("." in word or "," in run or "–" in run)
        )
        if glued and closed and free and cited:
            out.add(k)
        k = end
    return out
