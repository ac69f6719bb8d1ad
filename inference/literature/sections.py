"""Section headings → section names, so references (and acknowledgements) can be left out."""

from __future__ import annotations

import re

_NUMBERING = re.compile(r"^\s*(?:[IVX]+\.|\d+(?:\.\d+)*\.?|[A-H]\.)\s*")
_KEYWORDS = (
    ("abstract", "abstract"),
    ("introduction", "introduction"),
    ("background", "introduction"),
    ("experimental", "experimental"),
    ("experiment", "experimental"),
    ("materials and methods", "experimental"),
    ("methods", "experimental"),
    ("method", "experimental"),
    ("methodology", "experimental"),
    ("sample preparation", "experimental"),
    ("synthesis", "experimental"),
    ("results", "results"),
    ("discussion", "results"),
    ("conclusion", "conclusions"),
    ("conclusions", "conclusions"),
    ("summary", "conclusions"),
    ("acknowledgments", "acknowledgements"),
    ("acknowledgements", "acknowledgements"),
    ("acknowledgment", "acknowledgements"),
    ("acknowledgement", "acknowledgements"),
    ("references", "references"),
    ("bibliography", "references"),
    ("literature cited", "references"),
    ("figure captions", "captions"),
    ("figures", "captions"),
    ("tables", "captions"),
    ("appendix", "appendix"),
    ("supplementary", "appendix"),
)
# Headings that name a section only when they stand alone ("Reference" over an arXiv reference
# list; "Reference electrode" is not one).
_ALONE = {"reference": "references"}
EXCLUDED = frozenset({"references", "acknowledgements"})
_REFERENCE_START = re.compile(r"^\s*(?:\[1\]|1\.)\s+\S")
_YEAR = re.compile(r"\(?(?:19|20)\d\d\)?")


def heading_section(line: str) -> str | None:
    """The section a heading line opens, or None when the line is not a heading."""
    text = _NUMBERING.sub("", line).strip().rstrip(".:")
    if not text or len(text) > 45 or len(text.split()) > 6:
        return None
    if not (text.isupper() or text[0].isupper()):
        return None
    low = text.lower()
    if low in _ALONE:
        return _ALONE[low]
    for word, section in _KEYWORDS:
        if low == word or low.startswith(word + " ") or low.startswith(word + ":"):
            return section
    return None


# a reference entry without a heading over its list (a letter's references): a journal's
# "volume, page (year)" ("Phys. Rev. B 85, 094501 (2012).", "communications, 3, 943 (2012).")
# or a list of authors by their initials ("N. Fujiwara, S. Tsutsumi, S. Iimura, ...")
_CITATION = re.compile(r"\b\d{1,4},\s*[A-Z]?\d{1,7}\s*\((?:18|19|20)\d\d\)")
_AUTHORS = re.compile(r"^(?:(?:[A-Z]\.\s?-?){1,3}\s?[A-Z][\w'¨-]+,\s+){2}")


def looks_like_reference_entry(block_text: str) -> bool:
    """A block that is one entry of a reference list (or the start of one), by its form."""
    text = block_text.strip()
    if len(text) > 400:
        return False
    return bool(_CITATION.search(text) or _AUTHORS.match(text))


def looks_like_reference_list(block_text: str) -> bool:
    """A block that starts a numbered reference list ('[1] A. Author, ... (2015).')."""
    return bool(_REFERENCE_START.match(block_text)) and bool(_YEAR.search(block_text[:400]))
