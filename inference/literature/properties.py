"""Property names: the words that announce them and the dimensions their values may have."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PropertyKind:
    name: str
    pattern: re.Pattern
    dimensions: frozenset[str]


def _kind(name: str, pattern: str, *dims: str) -> PropertyKind:
    return PropertyKind(name, re.compile(pattern, re.IGNORECASE), frozenset(dims))


PROPERTIES: tuple[PropertyKind, ...] = (
    _kind(
        "Tc",
        r"(?<![A-Za-z])T ?c(?:,? ?(?:onset|zero|mid|on|max))?(?![A-Za-z0-9])|T(?:onset|zero|mid)c"
        r"|critical temperature|transition temperature|superconduct\w*(?: transition)?"
        r"(?: (?:at|below|around|above|of|with|near))|onset of superconductivity",
        "temperature",
    ),
    _kind("critical_field", r"(?<![A-Za-z])H ?c2|upper critical field|critical field", "field"),
    _kind("band_gap", r"band ?gap|optical gap|(?<![A-Za-z])E ?g(?![A-Za-z])", "energy"),
    _kind(
        "yield_strength",
        r"yield (?:strength|stress)|proof stress|(?<![A-Za-z])YS(?![A-Za-z])|σ ?y(?![a-z])",
        "pressure",
    ),
    _kind(
        "tensile_strength",
        r"(?:ultimate )?tensile strength|(?<![A-Za-z])UTS(?![A-Za-z])",
        "pressure",
    ),
    _kind("hardness", r"(?:micro|nano|vickers )?hardness", "pressure"),
    _kind("conductivity", r"conductivit(?:y|ies)", "conductivity"),
    _kind("capacity", r"capacit(?:y|ies)", "capacity"),
    # a power, energy, current, carrier or charge density is another quantity: "the power
    # density increased by 44.5%" says nothing of how dense the material is
    _kind(
        "density",
        r"(?<!current )(?<!power )(?<!energy )(?<!carrier )(?<!charge )densit(?:y|ies)",
        "density",
        "fraction",
    ),
    _kind(
        "lattice_parameter",
        r"lattice (?:parameters?|constants?)|(?<![A-Za-z])[abc] ?=",
        "length",
    ),
    _kind("grain_size", r"(?:grain|particle|crystallite) sizes?", "length"),
    _kind(
        "activation_energy",
        r"activation energ(?:y|ies)|(?<![A-Za-z])E ?a(?![A-Za-z])",
        "energy",
        "molar_energy",
    ),
    _kind("thickness", r"thickness", "length"),
)

# Symbols that name a property only in a table header, where the unit settles the meaning
# ("σ (S cm−1)" is a conductivity, "a (Å)" a lattice parameter).
_HEADER_SYMBOLS: dict[str, str] = {
    "σ": "conductivity",
    "ρ": "density",
    "a": "lattice_parameter",
    "b": "lattice_parameter",
    "c": "lattice_parameter",
    "HV": "hardness",
    "Hv": "hardness",
    "d": "grain_size",
    "t": "thickness",
}


def header_property(name: str, dimension: str) -> str | None:
    """The property a table column header names, given its unit's dimension."""
    name = name.strip()
    symbol = _HEADER_SYMBOLS.get(name) or _HEADER_SYMBOLS.get(name.split("_")[0])
    for kind in PROPERTIES:
        if dimension in kind.dimensions and (kind.name == symbol or kind.pattern.search(name)):
            return kind.name
    return None


METHODS = re.compile(
    r"\b(spark plasma sinter\w*|sinter\w*|anneal\w*|calcin\w*|hydrothermal\w*|solvothermal\w*|"
    r"sol-gel|solid[- ]state reaction|ball[- ]mill\w*|arc[- ]melt\w*|hot[- ]press\w*|quench\w*|"
    r"sputter\w*|pulsed laser deposition|chemical vapou?r deposition|CVD|PLD|heat[- ]treat\w*|"
    r"dried|drying|melt\w*|grown|growth|aged|ageing|aging)\b",
    re.IGNORECASE,
)
_METHOD_NAMES = (
    ("spark plasma", "spark plasma sintering"),
    ("sinter", "sintering"),
    ("anneal", "annealing"),
    ("calcin", "calcination"),
    ("hydrothermal", "hydrothermal"),
    ("solvothermal", "solvothermal"),
    ("sol-gel", "sol-gel"),
    ("solid", "solid-state reaction"),
    ("ball", "ball milling"),
    ("arc", "arc melting"),
    ("hot", "hot pressing"),
    ("quench", "quenching"),
    ("sputter", "sputtering"),
    ("pulsed", "pulsed laser deposition"),
    ("pld", "pulsed laser deposition"),
    ("chemical", "chemical vapour deposition"),
    ("cvd", "chemical vapour deposition"),
    ("heat", "heat treatment"),
    ("dri", "drying"),
    ("dry", "drying"),
    ("melt", "melting"),
    ("grow", "growth"),
    ("aged", "ageing"),
    ("agei", "ageing"),
    ("aging", "ageing"),
)
ATMOSPHERE = re.compile(
    r"\b(?:in|under|with)\s+(?:(?:flowing|a|an|static|dynamic|high|pure)\s+)*"
    r"(air|argon|Ar|nitrogen|N2|oxygen|O2|hydrogen|H2|vacuum|helium|He|5% H2/Ar|H2/Ar|Ar/H2|"
    r"forming gas)\b",
    re.IGNORECASE,
)


def method_name(word: str) -> str:
    low = word.lower()
    for prefix, name in _METHOD_NAMES:
        if low.startswith(prefix):
            return name
    return low
