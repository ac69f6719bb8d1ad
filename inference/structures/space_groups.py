"""Space-group symbols as CIFs write them, for the ones pymatgen's tables do not hold.

pymatgen reads a symbol only as its tables spell it, so a CIF that gives "P2_1/n" (the short
symbol of P 1 21/n 1, a common setting of No. 14) or the notation used before 1983 for the
cubic groups ("P m 3 m" for Pm-3m, "F d 3 m" for Fd-3m) and no symmetry operations was read as
P1. spglib's table of the 530 Hall settings names each setting by its full symbol; a monoclinic
full symbol without its "1" axes is the short symbol of that setting. A short monoclinic symbol
is read b-unique, as the International Tables read it; any other symbol that names more than
one setting (two origin choices, "F d 3 m"; hexagonal or rhombohedral axes) is not guessed.
The operations come from the same table, so the setting is exact.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

_MONOCLINIC = range(3, 16)
HALL_SETTINGS = 530


@dataclass(frozen=True)
class SpaceGroupSetting:
    number: int  # International Tables number
    hall_number: int  # spglib's serial number of the setting (1-530)
    full_symbol: str  # "P 1 2_1/n 1"
    operations: tuple[str, ...]  # "x+1/2, -y+1/2, z+1/2", as a CIF symmetry loop lists them


def _key(symbol: str) -> str:
    """A symbol without what its spellings differ in: spaces, underscores, quotes, and
    SHELX's brackets around a screw's subscript ("P2(1)/n")."""
    text = re.sub(r"(\d)\((\d)\)", r"\1\2", symbol.strip().strip("'\""))
    return re.sub(r"[\s_]", "", text)


def _old_cubic(key: str) -> str:
    """The pre-1983 cubic symbols wrote -3 as 3 after a mirror or glide ("Pm3m", "Ia3d");
    no current symbol has a 3 right after a mirror or glide letter."""
    return re.sub(r"(?<=[abcdmn])3", "-3", key)


@cache
def _hall_types() -> tuple[tuple[int, Any], ...]:
    """spglib's space-group type of each of its 530 Hall settings, read once."""
    import spglib

    found = []
    for hall in range(1, HALL_SETTINGS + 1):
        with warnings.catch_warnings():  # spglib 2.x warns of its error handling on each call
            warnings.simplefilter("ignore", DeprecationWarning)
            kind = spglib.get_spacegroup_type(hall)
        if kind is not None:
            found.append((hall, kind))
    return tuple(found)


@cache
def _settings_by_key() -> dict[str, int | None]:
    """Symbol key → the one Hall setting it names (None: it names several)."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    for hall, kind in _hall_types():
        # spglib's short symbol names the setting ("Pbnm"), but for a monoclinic group it is
        # the standard one's ("P2_1/c" for P 1 21/n 1 too): the full symbol without its "1"
        # axes is that setting's short symbol.
        names = {kind.international_full, kind.international_short}
        if kind.number in _MONOCLINIC:
            lattice, *axes = kind.international_full.split()
            names.add(" ".join([lattice, *(a for a in axes if a != "1")]))
        for key in {_key(name) for name in names}:
            found.setdefault(key, []).append((hall, kind.number, kind.choice))
    return {key: _one_setting(settings) for key, settings in found.items()}


def _one_setting(settings: list[tuple[int, int, str]]) -> int | None:
    if len(settings) == 1:
        return settings[0][0]
    hall, number, choice = settings[0]  # spglib lists the b-unique settings first
    if all(n == number for _, n, _ in settings) and number in _MONOCLINIC and "b" in choice:
        return hall
    return None


def hall_numbers(number: int) -> tuple[int, ...]:
    """spglib's settings (Hall numbers) of space group `number`, in its order."""
    return tuple(hall for hall, kind in _hall_types() if kind.number == number)


def find_setting(symbol: str) -> SpaceGroupSetting | None:
    """The one setting a Hermann-Mauguin symbol names, with its operations; None when it names
    none or several (the file must then list its operations)."""
    key = _key(symbol)
    if not key:
        return None
    table = _settings_by_key()
    hall = table.get(key) if key in table else table.get(_old_cubic(key))
    return None if hall is None else _setting(hall)


@cache
def _setting(hall: int) -> SpaceGroupSetting:
    import spglib
    from pymatgen.core.operations import SymmOp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        kind = spglib.get_spacegroup_type(hall)
        database = spglib.get_symmetry_from_database(hall)
    assert kind is not None  # hall came from the table built from the same calls
    assert database is not None
    operations = tuple(
        SymmOp.from_rotation_and_translation(rotation, translation).as_xyz_str()
        for rotation, translation in zip(
            database["rotations"], database["translations"], strict=True
        )
    )
    return SpaceGroupSetting(kind.number, hall, kind.international_full, operations)
