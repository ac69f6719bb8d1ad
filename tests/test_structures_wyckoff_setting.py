"""Site names as the literature gives them: Wyckoff letters in the setting the file uses, and
a site two elements share named by its occupancies, not by one of their labels.

spglib standardises to its default setting (for Fd-3m, origin choice 1) and there picks any of
the origins the group's normaliser makes equivalent. For spinel, written in origin choice 2 as
COD and AMCSD write it, Mg at (1/8, 1/8, 1/8) came out 8b and Al at (1/2, 1/2, 1/2) 16c; every
textbook says 8a and 16d.
"""

from __future__ import annotations

import pytest
from conftest import shared
from pymatgen.core import Lattice, Structure

from inference.structures.analysis import analyze
from inference.structures.model import ReadOptions
from inference.structures.reader import read_structures


def _letters(info) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for site in info.sites:
        found.setdefault(site.species, set()).add(site.wyckoff)
    return found


def test_spinel_in_origin_choice_2_has_the_textbook_letters():
    path = shared("structures", "cod_tools_cifs", "AMCSD", "duplicate_atom_labels", "9002107.cif")
    structure = read_structures(path, ReadOptions(timeout_s=0)).blocks[0].structure
    info = analyze(structure)
    assert info.spacegroup_symbol == "Fd-3m"
    assert _letters(info) == {
        "Mg0.818Al0.182": {"8a"},  # the tetrahedral site at (1/8, 1/8, 1/8)
        "Al0.909Mg0.091": {"16d"},  # the octahedral site at (1/2, 1/2, 1/2)
        "O": {"32e"},
    }


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        # diamond: Si at 8a in both origin choices, whichever the file uses
        ((0.125, 0.125, 0.125), {"Si": {"8a"}}),
        ((0.0, 0.0, 0.0), {"Si": {"8a"}}),
    ],
)
def test_diamond_is_8a_in_either_origin_choice(origin, expected):
    x, y, z = origin
    positions = [
        (x + dx + sx, y + dy + sy, z + dz + sz)
        for (dx, dy, dz) in ((0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0))
        for (sx, sy, sz) in ((0, 0, 0), (0.25, 0.25, 0.25))
    ]
    silicon = Structure(Lattice.cubic(5.431), ["Si"] * 8, positions)
    info = analyze(silicon)
    assert info.spacegroup_number == 227 and _letters(info) == expected


def test_a_cell_in_no_standard_setting_keeps_spglib_letters():
    """Rock salt with its origin moved off any standard origin: spglib's own choice stays."""
    shifted = Structure(
        Lattice.cubic(5.64),
        ["Na"] * 4 + ["Cl"] * 4,
        [
            (0.1 + a, 0.1 + b, 0.1 + c)
            for a, b, c in [(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)]
        ]
        + [
            (0.6 + a, 0.6 + b, 0.6 + c)
            for a, b, c in [(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)]
        ],
    )
    info = analyze(shifted)
    assert info.spacegroup_symbol == "Fm-3m"
    assert {w for ws in _letters(info).values() for w in ws} == {"4a", "4b"}


def test_a_site_two_elements_share_is_not_named_after_one_of_them():
    """pymatgen keeps one file label for a site two elements share: spinel's octahedral site,
    91 % Al, was labelled 'Mg' in the info table and `structure info --sites` (the pick label
    and the standard cells named it by its occupancies). It is 'Al/Mg' everywhere now."""
    from inference.structures.analysis import cell_variant

    path = shared("structures", "cod_tools_cifs", "AMCSD", "duplicate_atom_labels", "9002107.cif")
    structure = read_structures(path, ReadOptions(timeout_s=0)).blocks[0].structure
    as_read = {s.species: s.label for s in analyze(structure).sites}
    assert as_read["Al0.909Mg0.091"] == "Al/Mg"
    assert as_read["Mg0.818Al0.182"] == "Mg/Al"
    assert as_read["O"] == "O"  # one element: the file's label stays
    conventional, _ = cell_variant(structure, "conventional")
    standard = {s.species: s.label for s in analyze(conventional).sites}
    assert standard["Al0.909Mg0.091"] == as_read["Al0.909Mg0.091"]  # the same in every cell
