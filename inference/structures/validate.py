"""Checks a structure passes before any native code sees it.

spglib (symmetry) and pymatgen's compiled neighbour search trust the cell they are given: a NaN
length, a flat cell or two atoms on one spot make them crash the process (spglib's
`get_symmetry_dataset` segfaults on a NaN cell) or answer nonsense. Each check here gives one
line that says what is wrong and what to do; the reader prefixes the file name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from inference.errors import UnreadableFile

if TYPE_CHECKING:
    from pymatgen.core import Molecule, Structure

MIN_LENGTH_A = 0.1  # Å: no real cell vector is shorter (the shortest bond is 0.74 Å)
# Å: longer cell vectors are a unit mistake (pm, nm) rather than a crystal. pymatgen's compiled
# neighbour search grids the cell in cubes of the bond cutoff: at 1,000 Å it already takes
# 0.9 GB for eight atoms, and at 10⁶ Å it asks for 10¹⁸ bytes.
MAX_LENGTH_A = 500.0
MIN_FLATNESS = 1e-4  # volume / (a·b·c); 0 for a flat cell, 1 for a cube
OVERLAP_A = 0.1  # Å: two fully occupied atoms closer than this are one atom listed twice
_AXES = ("a", "b", "c")


def check_lattice(matrix: np.ndarray) -> None:
    """Finite, non-zero vectors that span a real volume (rows are the cell vectors, Å)."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape != (3, 3) or not np.isfinite(matrix).all():
        raise UnreadableFile(
            "the unit cell has a NaN or infinite number: correct the cell lengths, angles or "
            "vectors in the file"
        )
    lengths = np.linalg.norm(matrix, axis=1)
    for axis, length in zip(_AXES, lengths, strict=True):
        if length < MIN_LENGTH_A:
            raise UnreadableFile(
                f"cell length {axis} is {length:.3g} Å, too short for a crystal: correct the "
                "cell in the file"
            )
        if length > MAX_LENGTH_A:
            raise UnreadableFile(
                f"cell length {axis} is {length:,.6g} Å, longer than MatLens opens "
                f"({MAX_LENGTH_A:g} Å): check the units of the cell in the file"
            )
    volume = abs(float(np.linalg.det(matrix)))
    if volume < MIN_FLATNESS * float(np.prod(lengths)):
        raise UnreadableFile(
            f"the unit cell is flat (volume {volume:.3g} Å³): its angles or vectors cannot "
            "belong to a crystal; correct the cell in the file"
        )


def check_cell_parameters(lengths: dict[str, float], angles: dict[str, float]) -> None:
    """CIF-style a, b, c (Å) and α, β, γ (degrees), each checked by name before a cell is made."""
    for name, value in lengths.items():
        if not np.isfinite(value):
            raise UnreadableFile(f"cell length {name} is {value}: it must be a number")
        if value <= 0:
            raise UnreadableFile(f"cell length {name} is {value:g} Å: it must be positive")
    for name, value in angles.items():
        if not np.isfinite(value):
            raise UnreadableFile(f"cell angle {name} is {value}: it must be a number")
        if not 0 < value < 180:
            raise UnreadableFile(f"cell angle {name} is {value:g}°: it must lie between 0 and 180°")


def check_structure(structure: Structure) -> None:
    """The cell, every coordinate, every element, and no atom listed twice."""
    check_lattice(structure.lattice.matrix)
    frac = np.asarray(structure.frac_coords, dtype=float)
    bad = np.nonzero(~np.isfinite(frac).all(axis=1))[0]
    if len(bad):
        raise UnreadableFile(
            f"atom {_site_name(structure, int(bad[0]))} has a NaN or infinite coordinate: "
            "correct it in the file"
        )
    _check_elements(structure)
    _check_overlaps(structure)


def check_molecule(molecule: Molecule) -> None:
    """Finite coordinates and real elements (a molecule is boxed in a cell made from them)."""
    coords = np.asarray(molecule.cart_coords, dtype=float)
    bad = np.nonzero(~np.isfinite(coords).all(axis=1))[0]
    if len(bad):
        raise UnreadableFile(
            f"atom {int(bad[0]) + 1} has a NaN or infinite coordinate: correct it in the file"
        )
    _check_elements(molecule)


def _site_name(structure: Structure | Molecule, index: int) -> str:
    site = structure[index]
    label = getattr(site, "label", None)
    return f"{index + 1} ({label})" if label else str(index + 1)


def _check_elements(structure: Structure | Molecule) -> None:
    from pymatgen.core.periodic_table import DummySpecies

    for index, site in enumerate(structure):
        for species in site.species:
            if isinstance(species, DummySpecies):
                symbol = str(getattr(species, "symbol", species)).rstrip("+-0123456789.")
                raise UnreadableFile(
                    f"'{symbol}' is not an element (atom {_site_name(structure, index)}): "
                    "use a symbol from the periodic table"
                )


def _check_overlaps(structure: Structure) -> None:
    """Two atoms on one spot whose occupancies add up to more than one: a duplicated line.

    A k-d tree over the atoms and the periodic images of those near a face; not pymatgen's
    neighbour grid, whose memory grows with (cell length / radius)³."""
    from scipy.spatial import KDTree

    if len(structure) < 2:
        return
    matrix = np.asarray(structure.lattice.matrix, dtype=float)
    frac = np.mod(np.asarray(structure.frac_coords, dtype=float), 1.0)
    cart = frac @ matrix
    tree = KDTree(cart)
    pairs = [
        (i, j, float(np.linalg.norm(cart[i] - cart[j]))) for i, j in tree.query_pairs(OVERLAP_A)
    ]
    # An atom at x ≈ 0 meets one at x ≈ 1 through the face: shift the atoms near a face.
    volume = abs(float(np.linalg.det(matrix)))
    widths = np.array(
        [
            volume / np.linalg.norm(np.cross(matrix[(k + 1) % 3], matrix[(k + 2) % 3]))
            for k in range(3)
        ]
    )
    margin = OVERLAP_A / widths
    near = np.nonzero(((frac < margin) | (frac > 1 - margin)).any(axis=1))[0]
    if len(near):
        for shift in np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])).T.reshape(-1, 3):
            if not shift.any():
                continue
            moved = cart[near] + shift @ matrix
            hits = tree.query_ball_point(moved, OVERLAP_A)
            for i, point, found in zip(near, moved, hits, strict=True):
                pairs.extend(
                    (int(i), int(j), float(np.linalg.norm(point - cart[j]))) for j in found
                )
    occupancy = np.array([float(sum(site.species.values())) for site in structure])
    for i, j, distance in pairs:
        if occupancy[i] + occupancy[j] > 1.0 + 1e-6:
            first, second = sorted((i, j))
            raise UnreadableFile(
                f"atoms {_site_name(structure, first)} and {_site_name(structure, second)} "
                f"lie {distance:.3f} Å apart, on one spot: the file lists an atom twice; "
                "remove one"
            )
