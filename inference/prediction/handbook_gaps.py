"""Room-temperature experimental band gaps of common semiconductors and insulators, with sources.

The experimental gap table (matbench expt_gap, after Zhuo et al.) has no row for most textbook
semiconductors: Si, Ge, GaAs, GaN, ZnO, MgO and CdTe are missing from its 4604 compositions. For them the known values showed only Materials Project
PBE gaps, which PBE underestimates (ZnO 0.73 eV, measured 3.37), and the gap prediction had
nothing to be checked against (MgO: 5.8 eV predicted, 7.8 measured). These handbook values fill
that hole and only it: a composition listed here has no experimental-table row (a test keeps it
so). A compound whose common structures differ in gap lists each (the SiC polytypes).
"""

from __future__ import annotations

from dataclasses import dataclass

from inference.prediction.polymorphs import MADELUNG

DATASET = "handbook_gaps"
METHOD = "experiment (handbook)"
NOTE = "room temperature"
WHITED_1973 = "R. C. Whited, C. J. Flaten and W. C. Walker, Solid State Commun. 13, 1903 (1973)"
FRENCH_1990 = "R. H. French, J. Am. Ceram. Soc. 73, 477 (1990)"


@dataclass(frozen=True)
class HandbookGap:
    structure: str  # "wurtzite", "4H"; "" where the compound has one common structure
    gap: float  # eV, room temperature
    source: str


def _one(gap: float, structure: str = "", source: str = MADELUNG) -> tuple[HandbookGap, ...]:
    return (HandbookGap(structure, gap, source),)


# reduced formula → its gaps at room temperature
HANDBOOK_GAPS: dict[str, tuple[HandbookGap, ...]] = {
    "Si": _one(1.12),
    "Ge": _one(0.66),
    "GaAs": _one(1.42),
    "InP": _one(1.34),
    "InAs": _one(0.35),
    "InSb": _one(0.17),
    "GaSb": _one(0.73),
    "AlP": _one(2.45),
    "AlSb": _one(1.62),
    "GaN": _one(3.39, "wurtzite"),
    "AlN": _one(6.2, "wurtzite"),
    "ZnO": _one(3.37, "wurtzite"),
    "ZnSe": _one(2.7),
    "ZnTe": _one(2.26),
    "CdS": _one(2.42, "wurtzite"),
    "CdSe": _one(1.74, "wurtzite"),
    "CdTe": _one(1.5),
    "SiC": (
        HandbookGap("4H", 3.23, MADELUNG),
        HandbookGap("6H", 3.0, MADELUNG),
        HandbookGap("3C", 2.36, MADELUNG),
    ),
    "MgO": _one(7.8, source=WHITED_1973),
    "Al2O3": _one(8.8, "corundum", FRENCH_1990),
}


def handbook_gaps_of(fractions: dict[str, float]) -> tuple[HandbookGap, ...]:
    """The handbook gaps of a composition (matched on atomic fractions), or ()."""
    from inference.prediction.materials_store import by_composition

    return by_composition(HANDBOOK_GAPS, fractions)
