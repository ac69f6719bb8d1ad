"""Material mentions: chemical formulas checked with pymatgen, plus a short list of names.

Doped and variable formulas (Ba1-xKxFe2As2, LaFeAsO1-xHx, O3-δ) are validated after putting a
small number in place of each variable; the formula is reported as written.
"""

from __future__ import annotations

import dataclasses
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
    role: str = "sample"  # sample | precursor | apparatus | unit (see `material_role`)


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
    return [dataclasses.replace(s, role=material_role(text, s.start, s.end)) for s in out]


# What a formula names is often said by the words around it: "PtIr tips", "CuO2 planes",
# "powders of EuS, BiF3 and Bi2S3 were mixed". Only samples are linked to property values.
_APPARATUS_AFTER = re.compile(
    r"\s*(?:(?!(?:in|into|on|onto|at|with|from|inside|within|a|an|the|and|or|to|by|of|was|"
    r"were|is|are)\b)[A-Za-z()-]+\s+){0,3}?(?:tips?|crucibles?|ampoules?|ampules?|anvils?|gaskets?|"
    r"thermocouples?|capsules?|boats?|holders?|containers?|piston\b|(?:pressure|clamp) cells?)\b",
    re.IGNORECASE,
)
_UNIT_AFTER = re.compile(
    r"\s*(?:(?:super)?conducting\s+|blocking\s+|spacer\s+|charge[- ]reservoir\s+)?"
    r"(?:layers|planes?|octahedra|octahedron|tetrahedra|tetrahedron|chains)\b"
    r"|\s*(?:(?:super)?conducting|blocking|spacer|charge[- ]reservoir)\s+layer\b",
    re.IGNORECASE,
)
_PRECURSOR_CUE = re.compile(
    r"\b(?:starting (?:materials?|powders?|reagents?)|raw materials?|precursors?|reagents?|"
    r"powders of|were (?:weighed|mixed|ground|dissolved)|stoichiometric (?:amounts?|"
    r"quantities|ratios?|mixtures?) of|(?:synthesi[sz]ed|prepared|made|grown) from)\b",
    re.IGNORECASE,
)
_TARGET_BEFORE = re.compile(
    r"(?:(?:nominal )?compositions? (?:of|as)|formulated as|to (?:obtain|form|synthesi[sz]e|"
    r"prepare|produce|yield|give)(?: the)?(?: final)?(?: products?)?|synthesis of|targets?"
    r"(?: compounds?| compositions?| phases?)?|samples?(?: of)?|crystals? of|films? of|into)"
    r"\s*:?\s*$",
    re.IGNORECASE,
)
_TARGET_AFTER = re.compile(
    r"\s*(?:\([^)]{0,30}\)\s*)?(?:[A-Za-z-]+\s+){0,3}?(?:was|were|is|are)\s+(?:\w+\s+)?"
    r"(?:synthesi[sz]ed|prepared|grown|obtained|fabricated|made|formed)\b",
    re.IGNORECASE,
)
_AMOUNT_BEFORE = re.compile(
    r"\d\s*(?:g|mg|kg|mmol|mol|µmol|μmol|mL|ml|L|M)\s+(?:of\s+)?(?:the\s+)?$"
)
_REAGENT_AFTER = re.compile(r"\s*(?:powders?\s*)?\([^()]{0,60}(?:\d\s?%|\dN\b|\d N\b|[Pp]urity)")


def material_role(text: str, start: int, end: int) -> str:
    """What the formula at text[start:end] stands for in its sentence.

    "apparatus" (PtIr tips, NiCrAl-CuBe pressure cells, Al2O3 crucibles), "unit" (a structural
    fragment: BiS2 layers, CuO2 planes), "precursor" (weighed out, "0.03 mol of Na2CO3"; with
    a purity, "Bi (99.99%)"; or in a sentence about starting powders, unless it is the target
    there), else "sample".
    """
    after = text[end : end + 60]
    if _APPARATUS_AFTER.match(after):
        return "apparatus"
    if _UNIT_AFTER.match(after):
        return "unit"
    if _AMOUNT_BEFORE.search(text[max(0, start - 20) : start]) or _REAGENT_AFTER.match(after):
        return "precursor"  # "0.03 mol of Na2CO3", "Bi2S3 (99.9%, Kojundo)"
    if _PRECURSOR_CUE.search(text):
        if _TARGET_BEFORE.search(text[max(0, start - 40) : start]) or _TARGET_AFTER.match(after):
            return "sample"
        return "precursor"
    return "sample"
