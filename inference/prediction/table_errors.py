"""Rows of the shipped tables that are known to be wrong, with the cited value that replaces them.

A wrong number shown as "known" is worse than none: a person reads it before any prediction.
Each entry was found by checking the tables against the cited textbook panel (`panel.py`); a
table value is only replaced where the panel's source and the table disagree beyond the spread
of measurements (AlAs: matbench lists it as a 0 eV metal; it is a 2.16 eV indirect-gap
semiconductor). The models were trained on the tables as shipped, so a prediction for such a
composition can repeat the error; the corrected known value comes first.
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


def table_error(dataset: str, formula: str) -> TableError | None:
    """The correction for this table's row of `formula`, if that row is known to be wrong."""
    return _BY_KEY.get((dataset, formula))
