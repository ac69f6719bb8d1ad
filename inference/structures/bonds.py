"""Which atoms are bonded, found once per unit cell and replicated for supercells.

Small ordered cells use CrystalNN (chemically sensible coordination, ~5 ms per site). Larger or
disordered cells use covalent radii + 0.45 Å (Jmol's rule) on pymatgen's compiled periodic
neighbour list, which stays fast for thousands of sites. When the structure has non-metals,
metal–metal contacts are not bonds (otherwise Sr–Ti would be bonded in SrTiO3). Large
electropositive cations in cages of more than 8 anions (Sr in SrTiO3, Ba, La, K in feldspars)
are left unbonded, as VESTA shows them: their 12 bonds would hide the framework.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from inference.structures import elements

if TYPE_CHECKING:
    from pymatgen.core import Structure

BondMethod = Literal["auto", "crystalnn", "cutoff", "none"]
CRYSTALNN_MAX_SITES = 64
CAGE_CN = 8  # a cation with more anion neighbours than this is drawn without bonds
CAGE_ELECTRONEGATIVITY = 1.35  # alkali, alkaline-earth and rare-earth metals are below this


@dataclass(frozen=True)
class NeighborList:
    """Site `i` is bonded to site `j` in the cell shifted by `image`; each bond is listed both
    ways, so a supercell can be walked from any atom."""

    i: np.ndarray  # (k,) int32
    j: np.ndarray  # (k,) int32
    image: np.ndarray  # (k, 3) int32
    distance: np.ndarray  # (k,) float64
    method: str

    def __len__(self) -> int:
        return len(self.i)

    @classmethod
    def empty(cls, method: str = "none") -> NeighborList:
        return cls(
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros((0, 3), np.int32),
            np.zeros(0, float),
            method,
        )


def majority_symbols(structure: Structure) -> list[str]:
    """The element drawn for each site: the species with the largest occupancy."""
    out = []
    for site in structure:
        species, _ = max(site.species.items(), key=lambda item: item[1])
        out.append(getattr(species, "symbol", None) or str(species))
    return out


def find_bonds(
    structure: Structure,
    method: BondMethod = "auto",
    periodic: bool = True,
    tolerance: float = elements.BOND_TOLERANCE,
) -> NeighborList:
    if method == "none" or len(structure) == 0:
        return NeighborList.empty()
    use_cnn = method == "crystalnn" or (
        method == "auto"
        and periodic
        and structure.is_ordered
        and len(structure) <= CRYSTALNN_MAX_SITES
    )
    found = None
    if use_cnn:
        try:
            found = _symmetric(_crystalnn(structure))
        except Exception:  # noqa: BLE001 - CrystalNN fails on odd structures: fall back
            found = None
    if found is None:
        found = _symmetric(_cutoff(structure, periodic, tolerance))
    return _without_cages(found, majority_symbols(structure))


def _without_cages(nl: NeighborList, symbols: list[str]) -> NeighborList:
    if len(nl) == 0:
        return nl
    en = np.array([elements.electronegativity(s) for s in symbols])
    cn = np.bincount(nl.i, minlength=len(symbols))
    anion_neighbors = np.bincount(nl.i, weights=(en[nl.j] > en[nl.i]), minlength=len(symbols))
    caged = (cn > CAGE_CN) & (anion_neighbors == cn) & (en > 0) & (en < CAGE_ELECTRONEGATIVITY)
    if not caged.any():
        return nl
    keep = ~(caged[nl.i] | caged[nl.j])
    return NeighborList(nl.i[keep], nl.j[keep], nl.image[keep], nl.distance[keep], nl.method)


def _crystalnn(structure: Structure) -> NeighborList:
    from pymatgen.analysis.local_env import CrystalNN

    cnn = CrystalNN()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in range(len(structure)):
            for info in cnn.get_nn_info(structure, n):
                image = np.rint(np.asarray(info["image"], float)).astype(np.int32)
                j = int(info["site_index"])
                dist = np.linalg.norm(
                    structure.lattice.get_cartesian_coords(
                        structure[j].frac_coords + image - structure[n].frac_coords
                    )
                )
                rows.append((n, j, *image, dist))
    return _from_rows(rows, "CrystalNN")


def _cutoff(structure: Structure, periodic: bool, tolerance: float) -> NeighborList:
    symbols = majority_symbols(structure)
    unique = sorted(set(symbols))
    cov = np.array([elements.covalent_radius(s) for s in symbols])
    r_max = 2 * max(elements.covalent_radius(s) for s in unique) + tolerance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        centers, points, offsets, distances = structure.get_neighbor_list(r_max)
    if len(centers) == 0:
        return NeighborList.empty("cutoff")
    offsets = np.rint(offsets).astype(np.int32)
    keep = (distances >= elements.MIN_BOND) & (distances <= cov[centers] + cov[points] + tolerance)
    metals = np.array([elements.is_metal(s) for s in symbols])
    if not metals.all():
        keep &= ~(metals[centers] & metals[points])
    if not periodic:
        keep &= ~offsets.any(axis=1)
    return NeighborList(
        centers[keep].astype(np.int32),
        points[keep].astype(np.int32),
        offsets[keep],
        distances[keep],
        "cutoff",
    )


def _from_rows(rows, method: str) -> NeighborList:
    if not rows:
        return NeighborList.empty(method)
    arr = np.asarray(rows, float)
    return NeighborList(
        arr[:, 0].astype(np.int32),
        arr[:, 1].astype(np.int32),
        arr[:, 2:5].astype(np.int32),
        arr[:, 5],
        method,
    )


def _symmetric(nl: NeighborList) -> NeighborList:
    """Add the reverse of every bond and drop duplicates (CrystalNN is not always symmetric)."""
    if len(nl) == 0:
        return nl
    i = np.concatenate([nl.i, nl.j])
    j = np.concatenate([nl.j, nl.i])
    image = np.concatenate([nl.image, -nl.image])
    dist = np.concatenate([nl.distance, nl.distance])
    rows = np.column_stack([i, j, image])
    _, first = np.unique(rows, axis=0, return_index=True)
    first.sort()
    return NeighborList(
        i[first].astype(np.int32),
        j[first].astype(np.int32),
        image[first].astype(np.int32),
        dist[first],
        nl.method,
    )
