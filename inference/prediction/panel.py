"""A test panel of textbook compounds with well-established band gaps, each with its source.

Gaps are room-temperature experimental values in eV (0 for metals and metallic compounds) as
quoted in the handbooks named per entry. The panel checks what users try first: no wide-gap
insulator (> 2 eV) predicted under 1 eV, no metal predicted over 0.5 eV. Entries whose
composition is in a model's training table are dropped from that model's score (and marked).

Polymorph-ambiguous formulas. Where a formula's polymorphs have gaps on both sides of the goal
(inference.prediction.polymorphs: C is diamond, 5.47 eV, and graphite, a semimetal), no
composition model can be right for both, so what the user is shown is scored instead. Such an
entry passes only when all three hold:
1. the known values list every polymorph with its experimental gap and source;
2. the prediction says that the model cannot tell the polymorphs apart;
3. the predicted gap meets the goal for at least one polymorph (≤ 0.5 eV for a metal or
   semimetal, ≥ 1 eV for a wide-gap insulator).
A prediction that is wrong for every polymorph (C at 0.8 eV) stays a miss, as does one whose
known values or note are missing. The entry's own gap (diamond's) is still printed and shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inference.prediction.polymorphs import Polymorph

MADELUNG = "O. Madelung, Semiconductors: Data Handbook, 3rd ed. (Springer, 2004)"
STREHLOW = (
    "W. H. Strehlow & E. L. Cook, Compilation of energy band gaps in elemental and binary "
    "compound semiconductors and insulators, J. Phys. Chem. Ref. Data 2, 163 (1973)"
)
CRC = "CRC Handbook of Chemistry and Physics, 97th ed. (2016), Properties of Semiconductors"
KITTEL = "C. Kittel, Introduction to Solid State Physics, 8th ed. (Wiley, 2005)"
WESTBROOK = (
    "J. H. Westbrook & R. L. Fleischer (eds.), Intermetallic Compounds: Principles and "
    "Practice (Wiley, 1995): metallic conductors"
)
TOTH = "L. E. Toth, Transition Metal Carbides and Nitrides (Academic Press, 1971): metallic"
LINES = "M. E. Lines & A. M. Glass, Principles and Applications of Ferroelectrics (OUP, 1977)"
PEARTON = "S. J. Pearton et al., A review of Ga2O3 materials, Appl. Phys. Rev. 5, 011301 (2018)"
ROBERTSON = (
    "J. Robertson, High dielectric constant oxides, Eur. Phys. J. Appl. Phys. 28, 265 (2004)"
)


@dataclass(frozen=True)
class PanelEntry:
    formula: str
    category: str
    gap: float  # eV; 0 for metals
    source: str
    polymorph: str = ""  # the polymorph the gap is for, where the formula has several


PANEL: tuple[PanelEntry, ...] = (
    # semiconductors
    PanelEntry("Si", "semiconductor", 1.12, MADELUNG),
    PanelEntry("Ge", "semiconductor", 0.66, MADELUNG),
    PanelEntry("C", "semiconductor", 5.47, MADELUNG, polymorph="diamond"),
    PanelEntry("SiC", "semiconductor", 3.0, MADELUNG),  # 6H polytype
    PanelEntry("GaAs", "semiconductor", 1.42, MADELUNG),
    PanelEntry("GaP", "semiconductor", 2.26, MADELUNG),
    PanelEntry("GaSb", "semiconductor", 0.73, MADELUNG),
    PanelEntry("InP", "semiconductor", 1.34, MADELUNG),
    PanelEntry("InAs", "semiconductor", 0.35, MADELUNG),
    PanelEntry("InSb", "semiconductor", 0.17, MADELUNG),
    PanelEntry("AlAs", "semiconductor", 2.16, MADELUNG),
    PanelEntry("ZnS", "semiconductor", 3.7, MADELUNG),
    PanelEntry("ZnSe", "semiconductor", 2.7, MADELUNG),
    PanelEntry("ZnTe", "semiconductor", 2.26, MADELUNG),
    PanelEntry("CdS", "semiconductor", 2.42, MADELUNG),
    PanelEntry("CdSe", "semiconductor", 1.74, MADELUNG),
    PanelEntry("CdTe", "semiconductor", 1.5, MADELUNG),
    PanelEntry("PbS", "semiconductor", 0.41, MADELUNG),
    PanelEntry("PbTe", "semiconductor", 0.31, MADELUNG),
    # nitrides
    PanelEntry("GaN", "nitride", 3.4, MADELUNG),
    PanelEntry("AlN", "nitride", 6.2, MADELUNG),
    PanelEntry("TiN", "nitride", 0.0, TOTH),
    PanelEntry("ZrN", "nitride", 0.0, TOTH),
    # oxides
    PanelEntry("ZnO", "oxide", 3.37, MADELUNG),
    PanelEntry("TiO2", "oxide", 3.0, STREHLOW),  # rutile
    PanelEntry("SnO2", "oxide", 3.6, MADELUNG),
    PanelEntry("Cu2O", "oxide", 2.17, MADELUNG),
    PanelEntry("Fe2O3", "oxide", 2.2, STREHLOW),
    PanelEntry("NiO", "oxide", 4.0, STREHLOW),
    PanelEntry("MgO", "oxide", 7.8, STREHLOW),
    PanelEntry("Al2O3", "oxide", 8.8, STREHLOW),
    PanelEntry("SiO2", "oxide", 8.9, STREHLOW),  # quartz
    PanelEntry("CaO", "oxide", 7.0, STREHLOW),
    PanelEntry("ZrO2", "oxide", 5.8, ROBERTSON),
    PanelEntry("HfO2", "oxide", 5.7, ROBERTSON),
    PanelEntry("Ga2O3", "oxide", 4.8, PEARTON),
    PanelEntry("BaTiO3", "oxide", 3.2, LINES),
    PanelEntry("SrTiO3", "oxide", 3.25, ROBERTSON),
    # halides
    PanelEntry("NaCl", "halide", 8.5, STREHLOW),
    PanelEntry("KCl", "halide", 8.4, STREHLOW),
    PanelEntry("KBr", "halide", 7.4, STREHLOW),
    PanelEntry("LiF", "halide", 13.6, STREHLOW),
    PanelEntry("CaF2", "halide", 12.0, STREHLOW),
    PanelEntry("AgCl", "halide", 3.25, STREHLOW),
    PanelEntry("AgBr", "halide", 2.68, STREHLOW),
    PanelEntry("CuCl", "halide", 3.4, MADELUNG),
    # metals
    PanelEntry("Cu", "metal", 0.0, KITTEL),
    PanelEntry("Al", "metal", 0.0, KITTEL),
    PanelEntry("Fe", "metal", 0.0, KITTEL),
    PanelEntry("Ni", "metal", 0.0, KITTEL),
    PanelEntry("Ag", "metal", 0.0, KITTEL),
    PanelEntry("Au", "metal", 0.0, KITTEL),
    PanelEntry("W", "metal", 0.0, KITTEL),
    PanelEntry("Ti", "metal", 0.0, KITTEL),
    PanelEntry("Mg", "metal", 0.0, KITTEL),
    PanelEntry("Zn", "metal", 0.0, KITTEL),
    # intermetallics and carbides
    PanelEntry("NiAl", "intermetallic", 0.0, WESTBROOK),
    PanelEntry("Ni3Al", "intermetallic", 0.0, WESTBROOK),
    PanelEntry("TiAl", "intermetallic", 0.0, WESTBROOK),
    PanelEntry("FeAl", "intermetallic", 0.0, WESTBROOK),
    PanelEntry("CuZn", "intermetallic", 0.0, WESTBROOK),
    PanelEntry("Cu3Au", "intermetallic", 0.0, WESTBROOK),
    PanelEntry("MgZn2", "intermetallic", 0.0, WESTBROOK),
    PanelEntry("NiTi", "intermetallic", 0.0, WESTBROOK),
    PanelEntry("TiC", "carbide", 0.0, TOTH),
    PanelEntry("WC", "carbide", 0.0, TOTH),
)

WIDE_GAP = 2.0  # eV: an insulator above this ...
WIDE_GAP_FLOOR = 1.0  # ... must not be predicted under this
METAL_CEILING = 0.5  # a metal must not be predicted over this


@dataclass(frozen=True)
class PanelRow:
    entry: PanelEntry
    predicted: float
    low: float | None
    high: float | None
    in_training: bool  # the composition is in the model's training table
    in_side_data: bool  # ... or in the DFT table its side model learned from
    polymorphs: tuple[Polymorph, ...] = ()  # where the formula has polymorphs of other gaps
    known_polymorphs: tuple[str, ...] = ()  # polymorphs the known values list with a source
    note: str = ""  # what the prediction says besides its number

    def _miss(self, gap: float) -> str:
        if gap > WIDE_GAP and self.predicted < WIDE_GAP_FLOOR:
            return f"wide-gap insulator predicted at {self.predicted:.2f} eV"
        if gap == 0 and self.predicted > METAL_CEILING:
            return f"metal predicted at {self.predicted:.2f} eV"
        return ""

    @property
    def failure(self) -> str:
        """'' when the goal is met, else why not (the rule for polymorphs: module docstring)."""
        own = self._miss(self.entry.gap)
        if not own or not self.polymorphs:
            return own
        unlisted = [p.name for p in self.polymorphs if p.name not in self.known_polymorphs]
        if unlisted:
            return f"{own}; known values do not list {', '.join(unlisted)}"
        if not self.note:
            return f"{own}; the prediction does not say it cannot tell polymorphs apart"
        if all(self._miss(p.gap) for p in self.polymorphs):
            return f"{own}, wrong for every polymorph"
        return ""

    @property
    def verdict(self) -> str:
        """What the panel table prints in its result column."""
        if self.failure:
            return self.failure
        if self.polymorphs and self._miss(self.entry.gap):
            right = [p.name for p in self.polymorphs if not self._miss(p.gap)]
            return (
                f"polymorph-ambiguous: right for {', '.join(right)}; known values list "
                + ", ".join(f"{p.name} {p.gap:g} eV" for p in self.polymorphs)
            )
        return "ok"

    @property
    def covered(self) -> bool | None:
        if self.low is None or self.high is None:
            return None
        return self.low - 1e-9 <= self.entry.gap <= self.high + 1e-9


def run_panel() -> list[PanelRow]:
    """The band-gap model on every panel entry, with membership in its training tables."""
    from inference.prediction.composition import predict_formulas
    from inference.prediction.known_values import known_values
    from inference.prediction.materials_store import composition_key, open_store
    from inference.prediction.notation import parse_composition
    from inference.prediction.polymorphs import polymorphs_of

    results = predict_formulas([e.formula for e in PANEL], props=["band_gap"])
    db = open_store()
    try:
        rows = []
        for entry, result in zip(PANEL, results, strict=True):
            key = composition_key(parse_composition(entry.formula).fractions)
            tables = {
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT e.dataset FROM entries e JOIN compounds c "
                    "ON c.id = e.compound_id WHERE c.key = ?",
                    (key,),
                )
            }
            p = result.predictions[0]
            fractions = parse_composition(entry.formula).fractions
            polymorphs = polymorphs_of(fractions)
            listed: tuple[str, ...] = ()
            if polymorphs:
                listed = tuple(
                    v.label.removeprefix("band gap (").removesuffix(")")
                    for v in known_values(fractions, n_nearest=0).values
                    if v.dataset == "polymorphs" and v.source
                )
            rows.append(
                PanelRow(
                    entry,
                    p.value,
                    p.low,
                    p.high,
                    "expt_gap" in tables,
                    "mp_gap" in tables,
                    polymorphs,
                    listed,
                    p.note,
                )
            )
    finally:
        db.close()
    return rows
