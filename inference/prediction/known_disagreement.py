"""A prediction whose 90 % interval misses the known value of the same quantity is doubtful.

Known values come before predictions, and a wrong number is worse than none. For SiC the
formation-energy model gives +0.44 eV/atom (90 % interval 0.28 to 0.61) while the Materials
Project table, which the model was trained on, gives -0.20 (the lowest of its 28 polymorphs):
the prediction is shown as doubtful, without its number, as a metal call that DFT contradicts
is (`table_errors`), and says to trust the known value. A prediction is compared only with
the table its model was trained on (the experimental gap model with experimental gaps, not with
PBE gaps) and with the value that table's row shows: its one value, over several polymorphs the
lowest formation energy or the median of another property, or a cited correction (AlAs). A known
value withheld as doubtful is not compared.

On the 2135 compounds of pymatgen's experimental formation-enthalpy list
(`benchmarks/prediction_vs_known.py`), 180 of 4178 prediction/known-value pairs are marked: 93
of 1715 formation energies, 48 and 24 of 1097 bulk and shear moduli, 12 of 251 experimental
gaps of the table and 3 of 18 handbook gaps (AlN, MgO, Al2O3).
Counting only pairs where the whole range of polymorph values misses the interval gives 90 of
the 3909 pairs of the DFT tables (2.3 %); SiC (polymorphs -0.205 to 0.537) is not among them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from inference.prediction.known_values import KnownValue

_TRAINED_ON = re.compile(r"matbench_cv/(\S+) folds")

# Where the table a model was trained on has no row for a composition, a measurement of the same
# quantity stands in: the handbook gaps for the experimental gap model (MgO: 5.8 eV predicted,
# interval 4.66 to 6.95, 7.8 measured).
_STAND_INS = {"expt_gap": "handbook_gaps"}


def trained_on(splits: str) -> str | None:
    """The table a composition model was trained on, from its card's `splits`
    ("crabnet 2.0.8 data/matbench_cv/mp_e_form folds 0-4" -> "mp_e_form"), or None."""
    found = _TRAINED_ON.search(splits or "")
    return found.group(1) if found else None


def compared_values(known: Iterable[KnownValue], dataset: str) -> tuple[KnownValue, ...]:
    """The known values a prediction of a model trained on `dataset` is checked against: that
    table's (not withheld ones), or where it has none, its stand-in's (`_STAND_INS`)."""
    known = tuple(v for v in known if not v.doubtful)
    own = tuple(v for v in known if v.dataset == dataset)
    stand_in = _STAND_INS.get(dataset)
    return own or tuple(v for v in known if stand_in is not None and v.dataset == stand_in)


def missed_value(
    values: Iterable[KnownValue], unit: str, low: float | None, high: float | None
) -> KnownValue | None:
    """The known value an interval contradicts: None when one of `values` (in `unit`) lies in it,
    since a compound with several structures (the SiC polytypes) may be any of them; else the
    one nearest the interval."""
    values = [v for v in values if v.unit == unit]
    if low is None or high is None or not values:
        return None
    if any(not outside_interval(v.value, low, high) for v in values):
        return None
    return min(values, key=lambda v: min(abs(v.value - low), abs(v.value - high)))


def outside_interval(value: float, low: float | None, high: float | None) -> bool:
    """Whether a known value lies outside a prediction's interval (None: there is none)."""
    return low is not None and high is not None and not low <= value <= high


def contradicted_by_known(
    known_label: str, known_value: float, unit: str, low: float, high: float
) -> str:
    """The one line a prediction row carries when the known value lies outside its interval."""
    unit = f" {unit}" if unit else ""
    return (
        f"doubtful, not shown: the known {known_label}, {_num(known_value)}{unit}, lies outside "
        f"this model's 90 % interval ({_num(low)} to {_num(high)}{unit}): trust the known value"
    )


def _num(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}" if abs(x) >= 0.01 or x == 0 else f"{x:.2g}"
