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
(`benchmarks/prediction_vs_known.py`), 177 of 4160 prediction/table pairs are marked: 93 of
1715 formation energies, 48 and 24 of 1097 bulk and shear moduli, 12 of 251 experimental gaps.
Counting only pairs where the whole range of polymorph values misses the interval gives 90 of
the 3909 pairs of the DFT tables (2.3 %); SiC (polymorphs -0.205 to 0.537) is not among them.
"""

from __future__ import annotations

import re

_TRAINED_ON = re.compile(r"matbench_cv/(\S+) folds")


def trained_on(splits: str) -> str | None:
    """The table a composition model was trained on, from its card's `splits`
    ("crabnet 2.0.8 data/matbench_cv/mp_e_form folds 0-4" -> "mp_e_form"), or None."""
    found = _TRAINED_ON.search(splits or "")
    return found.group(1) if found else None


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
