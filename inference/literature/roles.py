"""Roles of the materials a sentence names: only a sample carries the paper's values.

What a formula names is often said by the words around it: "PtIr tips", "CuO2 planes",
"films grown on SrTiO3 substrates", "powders of EuS, BiF3 and Bi2S3 were mixed", "a Pb
manometer". Substrates, crucibles, precursors and reference materials never carry a sample's
Tc.
"""

from __future__ import annotations

import re
from typing import Protocol


class _Span(Protocol):
    """A material named in a sentence (materials.MaterialSpan, read-only here)."""

    @property
    def formula(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


_APPARATUS_AFTER = re.compile(
    r"\s*(?:(?!(?:in|into|on|onto|at|with|from|inside|within|a|an|the|and|or|to|by|of|was|"
    r"were|is|are)\b)[A-Za-z()-]+\s+){0,3}?(?:tips?|crucibles?|ampoules?|ampules?|anvils?|gaskets?|"
    r"thermocouples?|capsules?|boats?|holders?|containers?|piston\b|(?:pressure|clamp) cells?|"
    r"bolometers?|sensors?|probes?|detectors?|thermometers?|heaters?|windows?|tubes?|crusibles?|"
    r"transducers?|monochromat\w*|lapping|flux|cylinders?)\b",
    re.IGNORECASE,
)
# what a pressure cell or a clamp is made of: "a cell made of hardened CuBe alloy"
_APPARATUS_BEFORE = re.compile(
    r"\b(?:pressure\s+cells?|cylinders?|clamps?|pistons?|anvils?)\b[^.;]{0,40}?\b(?:made of|of)\s+"
    r"(?:(?:hardened|a|an|the)\s+)*$",
    re.IGNORECASE,
)
_UNIT_AFTER = re.compile(
    r"(?:\s*(?:/|,|-|and)\s*\(?[A-Z][A-Za-z0-9()δ]*){0,3}"  # "BiO/SrO layers", "CuO2-planes"
    r"\s*(?:(?:super)?conducting\s+|blocking\s+|spacer\s+|charge[- ]reservoir\s+|rock[- ]salt\s+)?"
    r"(?:layers|planes?|octahedra|octahedron|tetrahedra|tetrahedron|chains?|sheets?|bilayers?|"
    r"trilayers?|slabs?|blocks?|ladders?|plaquettes?|dimers?|clusters?|sublattices?)\b"
    r"|\s*(?:(?:super)?conducting|blocking|spacer|charge[- ]reservoir)\s+layer\b",
    re.IGNORECASE,
)
_PRECURSOR_CUE = re.compile(
    r"\b(?:starting (?:materials?|powders?|reagents?|compounds?|chemicals?)|raw materials?|"
    r"precursors?|reagents?|(?:equal |excess |small )?amounts? of|"
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


_SUBSTRATE_AFTER = re.compile(
    r"\s*(?:\(\d{3}\)\s*)?(?:\(\d{3}\)-oriented\s+|single[- ]crystal(?:line)?\s+)?"
    r"(?:substrates?|buffer(?:[- ]layers?)?|templates?|wafers?)\b",
    re.IGNORECASE,
)
_SUBSTRATE_BEFORE = re.compile(
    r"(?:grow\w*|grown|deposit\w*|fabricat\w*|sputter\w*|evaporat\w*|ablat\w*|films?|layers?|"
    r"epitax\w*|prepared|coat\w*)\b[^.;]{0,60}\b(?:on|onto|upon)\s+(?:(?:a|an|the|single[- ]crystal(?:line)?|"
    r"\(?\d{3}\)?(?:-oriented)?|[a-z]+-cut)\s+){0,2}$",
    re.IGNORECASE,
)
_REFERENCE_AFTER = re.compile(
    r"\s*(?:\([^()]{0,20}\)\s*)?(?:manometers?|thermometers?|standards?|calibrants?|"
    r"(?:as\s+(?:a\s+)?)?references?\b)",
    re.IGNORECASE,
)
_REFERENCE_BEFORE = re.compile(
    r"\b(?:standards?|references?|calibrants?)(?:\s+(?:materials?|samples?|compounds?))?\s*"
    r"(?:of|such as|:)?\s*(?:[A-Z][A-Za-z0-9]*\s*(?:,|and)?\s*){0,3}$",
    re.IGNORECASE,
)
# a binary layer that is a slab of a layered compound even when written in the singular
_LAYER_FORMULAS = frozenset(
    {"BiO", "SrO", "BaO", "CuO", "HgO", "TlO", "LaO", "CaO", "PbO", "CuO2", "FeAs", "FeSe",
     "Fe2As2", "BiS2", "CoO2", "NiO2", "RuO2", "NbO2", "AgO", "LaO2", "Bi2O2", "Tl2O2"}
)  # fmt: skip
_LAYER_AFTER = re.compile(r"\s*(?:-\s*)?(?:layer|plane|sheet|slab|block)\b", re.IGNORECASE)
_CLASS_NAMES = frozenset({"perovskite", "MXene"})
# chemicals of the laboratory, never a sample of these papers
_REAGENTS = frozenset(
    {"H2O", "HCl", "HNO3", "H2SO4", "NH3", "NH4OH", "CO2", "CH4", "C2H5OH", "NaOH", "KOH",
     "H2O2", "HF", "KBr", "CS2", "CCl4", "CHCl3", "C3H6O"}
)  # fmt: skip
# the cuprates' CuO2 plane: written alone it still means the plane, never a compound
_ALWAYS_UNITS = frozenset({"CuO2"})


def material_role(text: str, span: _Span) -> str:
    """What a material named at text[span.start:span.end] stands for in its sentence.

    "apparatus" (PtIr tips, NiCrAl-CuBe pressure cells, Al2O3 crucibles), "unit" (a structural
    fragment: BiS2 layers, CuO2 planes), "substrate" (films grown on SrTiO3, MgO substrates,
    a CeO2 buffer), "reference" (a Pb manometer), "class" (perovskite), "precursor" (weighed
    out, "0.03 mol of Na2CO3"; with a purity, "Bi (99.99%)"; laboratory chemicals; or in a
    sentence about starting powders, unless it is the target there), else "sample".
    """
    start, end = span.start, span.end
    after = text[end : end + 60]
    if span.name in _CLASS_NAMES:
        return "class"
    if span.formula in _REAGENTS:
        return "precursor"
    if span.formula in _ALWAYS_UNITS:
        return "unit"
    if _APPARATUS_AFTER.match(after) or _APPARATUS_BEFORE.search(text[max(0, start - 80) : start]):
        return "apparatus"
    if _UNIT_AFTER.match(after):
        return "unit"
    if _SUBSTRATE_AFTER.match(after) or _SUBSTRATE_BEFORE.search(text[max(0, start - 80) : start]):
        return "substrate"
    if span.formula in _LAYER_FORMULAS and _LAYER_AFTER.match(after):
        return "unit"
    if _REFERENCE_AFTER.match(after) or _REFERENCE_BEFORE.search(text[max(0, start - 60) : start]):
        return "reference"
    if _AMOUNT_BEFORE.search(text[max(0, start - 20) : start]) or _REAGENT_AFTER.match(after):
        return "precursor"  # "0.03 mol of Na2CO3", "Bi2S3 (99.9%, Kojundo)"
    if _PRECURSOR_CUE.search(text):
        if _TARGET_BEFORE.search(text[max(0, start - 40) : start]) or _TARGET_AFTER.match(after):
            return "sample"
        return "precursor"
    return "sample"
