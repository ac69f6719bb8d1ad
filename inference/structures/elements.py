"""Element colours (VESTA or Jmol schemes) and radii, looked up once per element.

The colour tables are pymatgen's copies of the VESTA and Jmol defaults, so MatLens draws the
colours crystallographers know. Unknown symbols (dummy atoms, 'X') get grey and 1 Å.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path
from typing import Literal

ColorScheme = Literal["VESTA", "Jmol"]
RadiusMode = Literal["atomic", "ionic", "covalent", "vdw"]
COLOR_SCHEMES: tuple[ColorScheme, ...] = ("VESTA", "Jmol")
RADIUS_MODES: tuple[RadiusMode, ...] = ("atomic", "ionic", "covalent", "vdw")
UNKNOWN_COLOR = (160, 160, 160)
BOND_TOLERANCE = 0.45  # Å added to the sum of covalent radii (Jmol's rule)
MIN_BOND = 0.4  # Å: closer pairs are overlapping sites, not bonds (Jmol's rule)


@cache
def _schemes() -> dict[str, dict[str, tuple[int, int, int]]]:
    import pymatgen.vis
    from monty.serialization import loadfn

    path = Path(pymatgen.vis.__file__).with_name("ElementColorSchemes.yaml")
    try:
        raw = loadfn(str(path))
    except Exception:  # noqa: BLE001 - colours are cosmetic: grey beats a crash
        return {}
    return {
        str(scheme): {str(el): (int(rgb[0]), int(rgb[1]), int(rgb[2])) for el, rgb in table.items()}
        for scheme, table in raw.items()
    }


@cache
def _element(symbol: str):
    from pymatgen.core import Element

    try:
        return Element(symbol)
    except (ValueError, KeyError):
        return None


@cache
def color(symbol: str, scheme: ColorScheme = "VESTA") -> tuple[int, int, int]:
    table = _schemes().get(scheme) or _schemes().get("Jmol") or {}
    return table.get(symbol, UNKNOWN_COLOR)


def _angstrom(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


@cache
def radius(symbol: str, mode: RadiusMode = "atomic") -> float:
    """Display radius in Å; falls back to the atomic radius, then to 1 Å."""
    el = _element(symbol)
    if el is None:
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        atomic = _angstrom(el.atomic_radius) or _angstrom(el.atomic_radius_calculated) or 1.0
        if mode == "ionic":
            return _ionic(el) or atomic
        if mode == "vdw":
            return _angstrom(el.van_der_waals_radius) or atomic * 1.3
        if mode == "covalent":
            return covalent_radius(symbol)
    return atomic


def _ionic(el) -> float | None:
    """The radius of the most common ion (Cl⁻ 1.67 Å, not an average over Cl⁻...Cl⁷⁺)."""
    radii = el.ionic_radii or {}
    for state in el.common_oxidation_states:
        if state in radii:
            return _angstrom(radii[state])
    return _angstrom(el.average_ionic_radius)


@cache
def covalent_radius(symbol: str) -> float:
    from pymatgen.analysis.molecule_structure_comparator import CovalentRadius

    value = CovalentRadius.radius.get(symbol)
    return float(value) if value else 1.5


@cache
def is_metal(symbol: str) -> bool:
    el = _element(symbol)
    return bool(el is not None and el.is_metal)


@cache
def electronegativity(symbol: str) -> float:
    el = _element(symbol)
    if el is None:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(el.X)
    return value if value == value else 0.0  # NaN for noble gases
