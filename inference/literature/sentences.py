"""Sentence boundaries inside a paragraph, without splitting "et al.", "Fig. 2" or "0.5"."""

from __future__ import annotations

import re

_ABBREV = {
    "al", "fig", "figs", "ref", "refs", "eq", "eqs", "e.g", "i.e", "vs", "approx", "ca", "no",
    "nos", "cf", "resp", "ed", "eds", "vol", "pp", "sec", "tab", "dr", "mr", "ms", "prof", "st",
    "wt", "at", "mol", "ext", "suppl", "etc", "inc", "co", "ltd", "jpn", "phys", "rev", "lett",
}  # fmt: skip
_END = re.compile(r"[.!?](?=\s+[A-Z0-9(\[])|(?<=[a-z)])\.\d{1,3}(?:[,–-]\d{1,3})*\)?(?=\s+[A-Z])")


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, shifted by `offset`."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        end = m.end()
        # the word before the full stop ("Fig." + "3", "al." + "12" are not sentence ends)
        word = re.search(r"([A-Za-z.]+)\.$", text[max(0, m.start() - 11) : m.start() + 1])
        if word and word.group(1).lower().rstrip(".") in _ABBREV:
            continue
        initial = word and len(word.group(1)) == 1 and word.group(1).isupper()
        if initial and not re.search(r"[\d)°]\s?$", text[: m.start() - 1]):
            # an initial: "J. Smith" (but "at 39 K. The", "(6.37 ± 0.03) K. Such" and
            # "sintered at 800 °C. The" end one)
            continue
        if end - start > 3:
            spans.append((offset + start, offset + end))
            start = end
            while start < len(text) and text[start].isspace():
                start += 1
    if len(text) - start > 0 and text[start:].strip():
        spans.append((offset + start, offset + len(text.rstrip())))
    return spans
