"""Material mentions: chemical formulas checked with pymatgen, plus a short list of names.

Doped and variable formulas (Ba1-xKxFe2As2, LaFeAsO1-xHx, O3-δ) are validated after putting a
small number in place of each variable; the formula is reported as written.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from inference.literature.quantities import normalise

# name (as written, case-sensitive) → formula or "" (for classes of materials)
NAMED: dict[str, str] = {
    "YBCO": "YBa2Cu3O7",
    "BSCCO": "Bi2Sr2CaCu2O8",
    "LLZO": "Li7La3Zr2O12",
    "LSCF": "La0.6Sr0.4Co0.2Fe0.8O3",
    "BSCF": "Ba0.5Sr0.5Co0.8Fe0.2O3",
    "LSM": "La0.8Sr0.2MnO3",
    "YSZ": "(ZrO2)0.92(Y2O3)0.08",
    "ScSZ": "(ZrO2)0.9(Sc2O3)0.1",
    "GDC": "Ce0.9Gd0.1O1.95",
    "SDC": "Ce0.8Sm0.2O1.9",
    "LFP": "LiFePO4",
    "LCO": "LiCoO2",
    "NMC811": "LiNi0.8Mn0.1Co0.1O2",
    "NMC532": "LiNi0.5Mn0.3Co0.2O2",
    "NMC622": "LiNi0.6Mn0.2Co0.2O2",
    "NMC111": "LiNi0.33Mn0.33Co0.33O2",
    "PZT": "PbZr0.52Ti0.48O3",
    "Ti-6Al-4V": "",
    "Ti6Al4V": "",
    "Inconel 718": "",
    "Inconel 625": "",
    "316L": "",
    "304L": "",
    "stainless steel": "",
    "AA6061": "",
    "AA7075": "",
    "Al 6061": "",
    "Al 7075": "",
    "graphene": "C",
    "graphite": "C",
    "diamond": "C",
    "alumina": "Al2O3",
    "zirconia": "ZrO2",
    "silica": "SiO2",
    "titania": "TiO2",
    "ceria": "CeO2",
    "magnetite": "Fe3O4",
    "hematite": "Fe2O3",
    "perovskite": "",
    "MXene": "",
}
_NAMED = re.compile(
    r"(?<![A-Za-z0-9])("
    + "|".join(re.escape(n) for n in sorted(NAMED, key=len, reverse=True))
    + r")(?![A-Za-z0-9])"
)
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Z(\[][A-Za-z0-9().\[\]\-+δ]*")
_VARIABLE = re.compile(r"(?<=[A-Za-z0-9)])(\d*\.?\d+)?-(\d*\.?\d*)([xyzδ])|(?<=[A-Za-z)])([xyzδ])")
_ELEMENTS_RE = re.compile(r"[A-Z][a-z]?")


@dataclass(frozen=True)
class MaterialSpan:
    formula: str  # as written, minus signs normalised, e.g. "Ba1-xKxFe2As2"
    name: str  # a named material ("LLZO"), else ""
    start: int  # inside the sentence
    end: int


@functools.lru_cache(maxsize=1)
def _elements() -> frozenset[str]:
    from pymatgen.core.periodic_table import Element

    return frozenset(e.symbol for e in Element)


def _substitute(formula: str) -> str:
    """Put numbers in place of variables so pymatgen can parse the formula."""

    def repl(m: re.Match) -> str:
        if m.group(4):
            return "0.1"
        base = float(m.group(1)) if m.group(1) else 1.0
        coeff = float(m.group(2)) if m.group(2) else 1.0
        value = base - coeff * 0.1 if m.group(1) else 0.0
        return f"{value:g}" if value > 0 else ""

    return _VARIABLE.sub(repl, formula)


@functools.lru_cache(maxsize=20000)
def is_formula(token: str) -> bool:
    """A chemical formula with at least two elements (pymatgen Composition parses it)."""
    if len(token) < 2 or not any(ch.islower() or ch.isdigit() for ch in token):
        return False  # "SC", "NMR": all capitals and no digits are acronyms
    elements = _elements()
    parts = [p for p in token.split("-") if p]
    if len(parts) > 1 and "-" in token and not _VARIABLE.search(token):
        # "Cu-PdTe2": an element and a compound joined by a hyphen
        return all(is_formula(p) or p in elements for p in parts) and any(
            is_formula(p) for p in parts
        )
    plain = _substitute(token)
    if (
        re.search(r"[^A-Za-z0-9().\[\]]", plain)
        or not plain[:1].isupper()
        and plain[:1] not in "(["
    ):
        return False
    symbols = _ELEMENTS_RE.findall(plain)
    if len(set(symbols)) < 2 or any(s not in elements for s in symbols):
        return False
    # every letter run must be symbols: "Fig" would read F + "ig"
    if re.sub(r"[A-Z][a-z]?|[\d.()\[\]]", "", plain):
        return False
    try:
        from pymatgen.core import Composition

        comp = Composition(plain.replace("[", "(").replace("]", ")"))
    except Exception:  # noqa: BLE001 - pymatgen raises several types for bad formulas
        return False
    return len(comp.elements) >= 2


def _trim(token: str) -> str:
    token = token.rstrip(".,-+")
    while token and token.count("(") < token.count(")") and token.endswith(")"):
        token = token[:-1]
    while token.startswith("(") and token.count("(") > token.count(")"):
        token = token[1:]
    return token.rstrip(".,-+")


def find_materials(sentence: str) -> list[MaterialSpan]:
    """Formulas and named materials in a sentence, left to right, without overlaps."""
    text = normalise(sentence)
    out: list[MaterialSpan] = []
    for m in _CANDIDATE.finditer(text):
        raw = m.group()
        token = _trim(raw)
        start = m.start() + (len(raw) - len(raw.lstrip("(")) if not token.startswith("(") else 0)
        if not token:
            continue
        start = text.find(token, m.start())
        if is_formula(token):
            out.append(MaterialSpan(token, "", start, start + len(token)))
            continue
        for piece in re.finditer(r"[^-]+", token):  # "PdTe2-doped" → PdTe2
            if text.startswith(("-based", "-type", "-family", "-like"), start + piece.end()):
                continue  # "BiS2-based": a family of compounds, not a sample
            if is_formula(piece.group()):
                s = start + piece.start()
                out.append(MaterialSpan(piece.group(), "", s, s + len(piece.group())))
    for m in _NAMED.finditer(text):
        if any(o.start <= m.start() < o.end for o in out):
            continue
        name = m.group(1)
        out.append(MaterialSpan(NAMED[name] or name, name, m.start(), m.end()))
    out.sort(key=lambda s: s.start)
    return out
