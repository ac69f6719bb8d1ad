"""Rows of the shipped tables that are known to be wrong, with the cited value that replaces them.

A wrong number shown as "known" is worse than none: a person reads it before any prediction.
Each entry was found by checking the tables against the cited textbook panel (`panel.py`); a
table value is only replaced where the panel's source and the table disagree beyond the spread
of measurements (AlAs: matbench lists it as a 0 eV metal; it is a 2.16 eV indirect-gap
semiconductor). The models were trained on the tables as shipped, so a prediction for such a
composition can repeat the error; the corrected known value comes first.

Rows with no cited value to replace them are checked against the Materials Project's PBE gaps of
the same composition: an experimental "0 eV" or "metal" is doubtful where PBE, which
underestimates band gaps (typically by 30-50 %), finds a gap above `PBE_GAP_FLOOR` for every
polymorph. In matbench's experimental tables that flags 28 compositions (Na2SO4, P2O5, NdGaO3,
RbF3, ...), all insulators: the 0 there most likely stands for a gap that was not measured. Such
a row is shown as doubtful, without its number. The same check applies to the composition
models' metal calls: a "0 eV" gap prediction (whose calibrated interval for metal calls is 0 to
0) or P(metal) > 0.5 where PBE finds such a gap for every polymorph (NiSO4, CoF2, FeF3, V2O5:
23 of the 2135 compounds of pymatgen's experimental formation-enthalpy list) is doubtful too.
"""

from __future__ import annotations

from dataclasses import dataclass

from inference.prediction.polymorphs import MADELUNG


@dataclass(frozen=True)
class TableError:
    dataset: str  # the shipped table ("expt_gap", "expt_is_metal")
    formula: str  # reduced formula as the table writes it
    table_value: float  # what the table says
    value: float  # the cited value shown instead
    source: str


TABLE_ERRORS: tuple[TableError, ...] = (
    TableError("expt_gap", "AlAs", 0.0, 2.16, MADELUNG),
    TableError("expt_is_metal", "AlAs", 1.0, 0.0, MADELUNG),
)
_BY_KEY = {(e.dataset, e.formula): e for e in TABLE_ERRORS}


# Below 1 eV a PBE(+U) gap does not prove an insulator: +U can open a gap in a correlated metal.
PBE_GAP_FLOOR = 1.0  # eV
_SAYS_METAL = {"expt_gap": 0.0, "expt_is_metal": 1.0}  # the table value that means "a metal"


def contradicted_by_dft(dataset: str, values: list[float], pbe_gaps: list[float]) -> str | None:
    """Why this experimental table's rows are doubtful, or None: they say "a metal" (0 eV) where
    the PBE gap of every polymorph of the same composition is above `PBE_GAP_FLOOR`."""
    metal = _SAYS_METAL.get(dataset)
    if metal is None or not values or not pbe_gaps or any(v != metal for v in values):
        return None
    lowest = min(pbe_gaps)
    if lowest <= PBE_GAP_FLOOR:
        return None
    said = "a 0 eV gap" if dataset == "expt_gap" else "a metal"
    found = (
        f"{lowest:.2f} eV or more for each of its {len(pbe_gaps)} polymorphs"
        if len(pbe_gaps) > 1
        else f"{lowest:.2f} eV"
    )
    return (
        f"doubtful, not shown: the table lists {said}, but DFT (PBE), which underestimates band "
        f"gaps, finds {found}; the 0 most likely stands for a gap that was not measured"
    )


def metal_call_contradicted_by_dft(lowest_pbe_gap: float | None, polymorphs: int) -> str | None:
    """Why a model's "metal" call is doubtful, or None: PBE finds a gap above `PBE_GAP_FLOOR`
    for every one of the composition's `polymorphs` (the lowest is `lowest_pbe_gap`)."""
    if lowest_pbe_gap is None or polymorphs < 1 or lowest_pbe_gap <= PBE_GAP_FLOOR:
        return None
    found = (
        f"{lowest_pbe_gap:.2f} eV or more for each of its {polymorphs} polymorphs"
        if polymorphs > 1
        else f"{lowest_pbe_gap:.2f} eV"
    )
    return (
        "doubtful, not shown: the model calls it a metal, but DFT (PBE), which underestimates "
        f"band gaps, finds {found}"
    )


def table_error(dataset: str, formula: str) -> TableError | None:
    """The correction for this table's row of `formula`, if that row is known to be wrong."""
    return _BY_KEY.get((dataset, formula))
