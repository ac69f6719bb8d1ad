"""Compositions whose polymorphs have very different band gaps, each polymorph with its source.

A composition model sees only the formula, so for carbon it cannot tell diamond (an insulator,
5.47 eV) from graphite (a semimetal). The shipped tables cannot either: Materials Project lists
carbon polymorphs under one formula, without their names. For such a formula the known values
list every polymorph here with its experimental gap, and the gap predictions say that the model
cannot tell the polymorphs apart; their interval is widened to span the polymorphs' gaps.
Only formulas whose polymorphs sit on both sides of "metal" (gap ≤ 0.5 eV) and "wide-gap
insulator" (gap > 2 eV) are listed: where all polymorphs are alike (TiO2 rutile 3.0 eV and
anatase 3.2 eV, SiC polytypes), one number serves.
"""

from __future__ import annotations

from dataclasses import dataclass

MADELUNG = "O. Madelung, Semiconductors: Data Handbook, 3rd ed. (Springer, 2004)"
KITTEL_SEMIMETALS = (
    "C. Kittel, Introduction to Solid State Physics, 8th ed. (Wiley, 2005), ch. 8 (semimetals)"
)


@dataclass(frozen=True)
class Polymorph:
    name: str  # "diamond"
    gap: float  # eV, experimental, room temperature (0 for metals and semimetals)
    source: str


# reduced formula → its polymorphs, the widest gap first
POLYMORPHS: dict[str, tuple[Polymorph, ...]] = {
    "C": (
        Polymorph("diamond", 5.47, MADELUNG),
        Polymorph("graphite", 0.0, KITTEL_SEMIMETALS),
    ),
}
GAP_PROPERTIES = ("band_gap", "is_metal")  # the predictions the polymorphs make ambiguous


def polymorphs_of(fractions: dict[str, float]) -> tuple[Polymorph, ...]:
    """The listed polymorphs of a composition (matched on atomic fractions), or ()."""
    from inference.prediction.materials_store import by_composition

    return by_composition(POLYMORPHS, fractions)


def ambiguity_note(formula: str, polymorphs: tuple[Polymorph, ...]) -> str:
    """One line for a prediction of a polymorph-ambiguous composition ('' when it is not)."""
    if not polymorphs:
        return ""
    listed = ", ".join(f"{p.name} {p.gap:g} eV" for p in polymorphs)
    return (
        f"{formula} has polymorphs with different band gaps ({listed}): a composition model "
        "cannot tell them apart; see the known values"
    )
