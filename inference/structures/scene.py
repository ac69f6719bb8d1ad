"""A backend-neutral 3D scene of a crystal: atoms, bonds, cell edges and polyhedra as arrays.

Any renderer (VTK in the desktop, a PNG writer, a web view) draws a `Scene` without knowing
pymatgen. Everything is numpy and vectorised, so a 100,000-atom supercell builds in well under a
second: bonds are found once per unit cell (`bonds.find_bonds`) and replicated by looking up each
neighbour's (site, cell) key among the drawn atoms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from inference.errors import MatLensError
from inference.structures import elements
from inference.structures.analysis import site_label
from inference.structures.bonds import NeighborList, majority_symbols

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from inference.structures.elements import ColorScheme, RadiusMode

Style = Literal["ball-and-stick", "space-filling", "sticks", "polyhedral"]
STYLES: tuple[Style, ...] = ("ball-and-stick", "space-filling", "sticks", "polyhedral")
# Radius scale applied to the radius table, and bond radius (Å), per style.
_STYLE_SCALE = {"ball-and-stick": 0.4, "space-filling": 1.0, "sticks": 0.0, "polyhedral": 0.3}
_BOND_RADIUS = {"ball-and-stick": 0.13, "space-filling": 0.0, "sticks": 0.2, "polyhedral": 0.1}
BOUNDARY_TOLERANCE = 1e-3  # fractional: atoms this close to a face get an image on the far face


@dataclass(frozen=True)
class SceneOptions:
    style: Style = "ball-and-stick"
    supercell: tuple[int, int, int] = (1, 1, 1)
    radius_mode: RadiusMode = "atomic"
    color_scheme: ColorScheme = "VESTA"
    hidden_elements: frozenset[str] = frozenset()
    boundary_images: bool = True  # copies of atoms on faces, edges and corners of the cell
    complete_polyhedra: bool = True  # add the neighbours a polyhedron needs outside the cell
    max_atoms: int = 3_000_000  # refuse larger supercells (memory)
    max_bonds: int = 4_000_000  # draw no bonds beyond this, with a notice
    max_polyhedra: int = 200_000


@dataclass(frozen=True)
class Atoms:
    positions: np.ndarray  # (n, 3) float64, Cartesian Å
    radii: np.ndarray  # (n,) float32, display radius Å
    colors: np.ndarray  # (n, 3) uint8
    elements: np.ndarray  # (n,) str: the majority element of the site
    site: np.ndarray  # (n,) int32: index of the site in the structure
    cell: np.ndarray  # (n, 3) int32: lattice translation of this copy
    occupancy: np.ndarray  # (n,) float32: total occupancy of the site
    partial: np.ndarray  # (n,) bool: mixed or partly occupied site (drawn as sectors)
    outside: np.ndarray  # (n,) bool: outside the (super)cell, shown to complete a polyhedron

    def __len__(self) -> int:
        return len(self.positions)


@dataclass(frozen=True)
class Bonds:
    a: np.ndarray  # (m,) int32, atom indices
    b: np.ndarray  # (m,) int32
    radius: float  # Å

    def __len__(self) -> int:
        return len(self.a)


@dataclass(frozen=True)
class Polyhedra:
    vertices: np.ndarray  # (v, 3) float64
    triangles: np.ndarray  # (t, 3) int32 into vertices
    colors: np.ndarray  # (t, 3) uint8: the colour of the centre atom
    centers: np.ndarray  # (p,) int32: atom index of each polyhedron's centre

    def __len__(self) -> int:
        return len(self.centers)

    @classmethod
    def empty(cls) -> Polyhedra:
        return cls(
            np.zeros((0, 3)),
            np.zeros((0, 3), np.int32),
            np.zeros((0, 3), np.uint8),
            np.zeros(0, np.int32),
        )


@dataclass(frozen=True)
class Scene:
    atoms: Atoms
    bonds: Bonds
    cell_edges: np.ndarray  # (k, 2, 3) line segments
    polyhedra: Polyhedra
    lattice: np.ndarray  # (3, 3) rows a, b, c
    site_labels: tuple[str, ...]  # per site: "Na1"
    site_species: tuple[tuple[tuple[str, float], ...], ...]  # per site: (("Fe", 0.5), ("Ni", 0.5))
    element_colors: dict[str, tuple[int, int, int]]
    options: SceneOptions
    periodic: bool = True
    notices: tuple[str, ...] = field(default=())

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3) min and max corners around atoms (with radii) and cell edges."""
        points = [self.atoms.positions - self.atoms.radii[:, None]]
        points.append(self.atoms.positions + self.atoms.radii[:, None])
        if len(self.cell_edges):
            points.append(self.cell_edges.reshape(-1, 3))
        stacked = np.concatenate(points) if points else np.zeros((1, 3))
        if len(stacked) == 0:
            return np.zeros((2, 3))
        return np.stack([stacked.min(axis=0), stacked.max(axis=0)])

    @property
    def center(self) -> np.ndarray:
        if self.periodic:
            return 0.5 * np.asarray(self.options.supercell, float) @ self.lattice
        return self.bounds.mean(axis=0)

    def atom_label(self, index: int) -> str:
        return self.site_labels[int(self.atoms.site[index])]

    def atom_name(self, index: int) -> str:
        """The site's name as the info table gives it: the file's label ('O2'), or for a site
        elements share their symbols ('Cu/Au'; `analysis.site_label`)."""
        return self.atom_label(index)

    def atom_species(self, index: int) -> str:
        species = self.site_species[int(self.atoms.site[index])]
        if len(species) == 1 and abs(species[0][1] - 1) < 1e-6:
            return species[0][0]
        return "".join(f"{el}{occ:.3g}" for el, occ in species)


def build_scene(
    structure: Structure,
    neighbors: NeighborList,
    options: SceneOptions | None = None,
    periodic: bool = True,
) -> Scene:
    """The drawable scene of `structure` repeated `options.supercell` times."""
    options = options or SceneOptions()
    if not periodic:
        options = _molecule_options(options)
    if min(options.supercell) < 1:
        raise MatLensError("supercell repeats must be 1 or more")
    notices: list[str] = []
    symbols = np.array(majority_symbols(structure))
    frac = _wrapped(structure.frac_coords) if periodic else structure.frac_coords
    lattice = np.asarray(structure.lattice.matrix, float)
    site, cell = _copies(frac, options, periodic)
    visible = ~np.isin(symbols[site], list(options.hidden_elements))
    site, cell = site[visible], cell[visible]
    outside = np.zeros(len(site), bool)
    style = options.style
    centers_info = None
    if style == "polyhedral" and len(neighbors):
        centers_info = _polyhedron_sites(structure, symbols, neighbors, options)
        if options.complete_polyhedra and periodic:
            site, cell, outside = _add_polyhedron_neighbors(
                site, cell, outside, neighbors, centers_info, symbols, options
            )
    atoms = _atoms(structure, symbols, frac, lattice, site, cell, outside, options)
    bonds = Bonds(np.zeros(0, np.int32), np.zeros(0, np.int32), _BOND_RADIUS[style])
    polyhedra = Polyhedra.empty()
    if centers_info is not None:
        polyhedra = _polyhedra(atoms, centers_info, options, notices)
    wants_bonds = style in ("ball-and-stick", "sticks") or (
        style == "polyhedral" and len(polyhedra) == 0
    )
    if wants_bonds and len(neighbors):
        bonds = _bonds(atoms, neighbors, len(structure), options, notices)
    return Scene(
        atoms=atoms,
        bonds=bonds,
        cell_edges=_cell_edges(lattice, options.supercell) if periodic else np.zeros((0, 2, 3)),
        polyhedra=polyhedra,
        lattice=lattice,
        site_labels=tuple(site_label(structure, i) for i in range(len(structure))),
        site_species=tuple(
            tuple((getattr(sp, "symbol", str(sp)), float(occ)) for sp, occ in s.species.items())
            for s in structure
        ),
        element_colors={el: elements.color(el, options.color_scheme) for el in set(symbols)},
        options=options,
        periodic=periodic,
        notices=tuple(notices),
    )


def _molecule_options(options: SceneOptions) -> SceneOptions:
    from dataclasses import replace

    return replace(options, supercell=(1, 1, 1), boundary_images=False, complete_polyhedra=False)


def _wrapped(frac: np.ndarray) -> np.ndarray:
    """Fractional coordinates in [0, 1), with 0.99999 snapped to 0 so images stay consistent."""
    wrapped = np.mod(frac, 1.0)
    wrapped[wrapped > 1 - 1e-8] = 0.0
    return wrapped


def _copies(frac: np.ndarray, options: SceneOptions, periodic: bool):
    """(site, cell) of every drawn copy: the supercell, plus images on its far faces."""
    n_sites = len(frac)
    if not periodic:
        return np.arange(n_sites, dtype=np.int32), np.zeros((n_sites, 3), np.int32)
    reps = np.asarray(options.supercell, int)
    extra = 1 if options.boundary_images else 0
    # Counted before any array is made: the grid of a 1000×1000×1000 supercell alone took
    # 24 GB, and the process was killed before this refusal was reached.
    estimate = n_sites * math.prod(int(r) for r in reps)
    if estimate > options.max_atoms:
        raise MatLensError(
            f"a {'×'.join(map(str, reps))} supercell has {estimate:,} atoms; "
            f"MatLens draws at most {options.max_atoms:,}"
        )
    grid = np.stack(
        np.meshgrid(*[np.arange(r + extra) for r in reps], indexing="ij"), axis=-1
    ).reshape(-1, 3)
    site = np.repeat(np.arange(n_sites, dtype=np.int32), len(grid))
    cell = np.tile(grid, (n_sites, 1)).astype(np.int32)
    if extra:
        total = frac[site] + cell
        keep = np.all(total <= reps + BOUNDARY_TOLERANCE, axis=1)
        site, cell = site[keep], cell[keep]
    return site, cell


def _atoms(structure, symbols, frac, lattice, site, cell, outside, options) -> Atoms:
    scale = _STYLE_SCALE[options.style]
    unique = sorted(set(symbols))
    if scale > 0:
        # Never thinner than the bonds: hydrogen (0.25 Å × 0.4) would vanish inside its stick.
        floor = _BOND_RADIUS[options.style] * 1.3
        radius_of = {
            el: max(elements.radius(el, options.radius_mode) * scale, floor) for el in unique
        }
    else:  # sticks: atoms are the joints of the sticks
        radius_of = dict.fromkeys(unique, _BOND_RADIUS["sticks"])
    site_radius = np.array([radius_of[el] for el in symbols], np.float32)
    site_color = np.array([elements.color(el, options.color_scheme) for el in symbols], np.uint8)
    occupancy = np.array([sum(s.species.values()) for s in structure], np.float32)
    partial = np.array(
        [len(s.species) > 1 or abs(sum(s.species.values()) - 1) > 1e-6 for s in structure], bool
    )
    positions = (frac[site] + cell) @ lattice
    return Atoms(
        positions=positions,
        radii=site_radius[site],
        colors=site_color[site].reshape(-1, 3),
        elements=symbols[site],
        site=site.astype(np.int32),
        cell=cell.astype(np.int32),
        occupancy=occupancy[site],
        partial=partial[site],
        outside=outside,
    )


# keys: one int64 per (site, cell) so neighbours are found with a sorted search --------------------
_PAD = 4  # cells below 0 that a key can encode (neighbour images reach -1, -2...)


def _encode(site: np.ndarray, cell: np.ndarray, reps: tuple[int, int, int]) -> np.ndarray:
    dims = np.asarray(reps, np.int64) + 2 * _PAD + 1
    c = np.clip(cell.astype(np.int64) + _PAD, 0, dims - 1)
    inside = np.all((cell + _PAD >= 0) & (cell + _PAD < dims), axis=1)
    key = ((site.astype(np.int64) * dims[0] + c[:, 0]) * dims[1] + c[:, 1]) * dims[2] + c[:, 2]
    return np.where(inside, key, -1)


class _KeyIndex:
    """Find the atom index of (site, cell) keys among the drawn atoms."""

    def __init__(self, site: np.ndarray, cell: np.ndarray, reps) -> None:
        self.reps = reps
        keys = _encode(site, cell, reps)
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]

    def find(self, site: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Atom index for each query, or -1."""
        keys = _encode(site, cell, self.reps)
        if len(self.sorted) == 0:
            return np.full(len(keys), -1, np.int64)
        pos = np.searchsorted(self.sorted, keys)
        pos = np.clip(pos, 0, len(self.sorted) - 1)
        found = (self.sorted[pos] == keys) & (keys >= 0)
        return np.where(found, self.order[pos], -1)


def _grouped(neighbors: NeighborList, n_sites: int):
    order = np.argsort(neighbors.i, kind="stable")
    counts = np.bincount(neighbors.i, minlength=n_sites)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return order, counts, starts


def _walk(sites: np.ndarray, cells: np.ndarray, neighbors: NeighborList, n_sites: int):
    """Every neighbour of every given atom: (source row, neighbour site, neighbour cell)."""
    order, counts, starts = _grouped(neighbors, n_sites)
    degree = counts[sites]
    total = int(degree.sum())
    source = np.repeat(np.arange(len(sites)), degree)
    first = np.repeat(np.cumsum(degree) - degree, degree)
    k = order[starts[sites[source]] + (np.arange(total) - first)]
    return source, neighbors.j[k], cells[source] + neighbors.image[k]


def _bonds(atoms: Atoms, neighbors: NeighborList, n_sites: int, options, notices) -> Bonds:
    counts = np.bincount(neighbors.i, minlength=n_sites)
    expected = int(counts[atoms.site].sum()) // 2
    radius = _BOND_RADIUS[options.style]
    if expected > options.max_bonds:
        notices.append(f"{expected:,} bonds are too many to draw: bonds hidden")
        return Bonds(np.zeros(0, np.int32), np.zeros(0, np.int32), radius)
    index = _KeyIndex(atoms.site, atoms.cell, options.supercell)
    source, j_site, j_cell = _walk(atoms.site, atoms.cell, neighbors, n_sites)
    target = index.find(j_site, j_cell)
    keep = target > source
    return Bonds(source[keep].astype(np.int32), target[keep].astype(np.int32), radius)


# polyhedra -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Centers:
    is_center: np.ndarray  # (n_sites,) bool
    hull: dict[int, tuple[np.ndarray, np.ndarray]]  # site -> (relative vertices, triangles)


def _polyhedron_sites(structure, symbols, neighbors, options) -> _Centers:
    """Cations whose neighbours are all more electronegative, with 4 to 8 of them (tetrahedra,
    octahedra, cubes); larger cages such as SrO12 would hide the framework."""
    from scipy.spatial import ConvexHull, QhullError

    n_sites = len(structure)
    en = np.array([elements.electronegativity(s) for s in symbols])
    lattice = np.asarray(structure.lattice.matrix, float)
    frac = _wrapped(structure.frac_coords)
    is_center = np.zeros(n_sites, bool)
    hull: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    order, counts, starts = _grouped(neighbors, n_sites)
    for s in range(n_sites):
        rows = order[starts[s] : starts[s] + counts[s]]
        if not 4 <= len(rows) <= 8 or symbols[s] in options.hidden_elements:
            continue
        if not np.all(en[neighbors.j[rows]] > en[s]):
            continue
        rel = (frac[neighbors.j[rows]] + neighbors.image[rows] - frac[s]) @ lattice
        try:
            triangles = ConvexHull(rel).simplices.astype(np.int32)
        except (QhullError, ValueError):
            continue  # flat (square-planar) or degenerate
        is_center[s] = True
        hull[s] = (rel, triangles)
    return _Centers(is_center, hull)


def _add_polyhedron_neighbors(site, cell, outside, neighbors, centers, symbols, options):
    """Append the vertex atoms of drawn polyhedra that lie outside the cell."""
    n_sites = len(symbols)
    is_center = centers.is_center[site] & ~outside
    if not is_center.any():
        return site, cell, outside
    _, j_site, j_cell = _walk(site[is_center], cell[is_center], neighbors, n_sites)
    index = _KeyIndex(site, cell, options.supercell)
    missing = index.find(j_site, j_cell) < 0
    missing &= ~np.isin(symbols[j_site], list(options.hidden_elements))
    if not missing.any():
        return site, cell, outside
    extra = np.unique(np.column_stack([j_site[missing], j_cell[missing]]), axis=0)
    return (
        np.concatenate([site, extra[:, 0].astype(np.int32)]),
        np.concatenate([cell, extra[:, 1:].astype(np.int32)]),
        np.concatenate([outside, np.ones(len(extra), bool)]),
    )


def _polyhedra(atoms: Atoms, centers: _Centers, options, notices) -> Polyhedra:
    chosen = np.nonzero(centers.is_center[atoms.site] & ~atoms.outside)[0]
    if len(chosen) > options.max_polyhedra:
        notices.append(f"{len(chosen):,} polyhedra are too many to draw: polyhedra hidden")
        return Polyhedra.empty()
    vertices, triangles, colors, owners = [], [], [], []
    offset = 0
    for s, (rel, tris) in centers.hull.items():
        atoms_of_site = chosen[atoms.site[chosen] == s]
        if len(atoms_of_site) == 0:
            continue
        count = len(atoms_of_site)
        v = (atoms.positions[atoms_of_site][:, None, :] + rel[None, :, :]).reshape(-1, 3)
        shift = (np.arange(count) * len(rel) + offset)[:, None, None]
        t = (tris[None, :, :] + shift).reshape(-1, 3)
        vertices.append(v)
        triangles.append(t)
        colors.append(np.repeat(atoms.colors[atoms_of_site], len(tris), axis=0))
        owners.append(atoms_of_site)
        offset += len(v)
    if not vertices:
        return Polyhedra.empty()
    return Polyhedra(
        np.concatenate(vertices),
        np.concatenate(triangles).astype(np.int32),
        np.concatenate(colors).astype(np.uint8),
        np.concatenate(owners).astype(np.int32),
    )


# the cell ---------------------------------------------------------------------------------------
_CUBE_EDGES = np.array(
    [
        [(0, 0, 0), (1, 0, 0)],
        [(0, 0, 0), (0, 1, 0)],
        [(0, 0, 0), (0, 0, 1)],
        [(1, 0, 0), (1, 1, 0)],
        [(1, 0, 0), (1, 0, 1)],
        [(0, 1, 0), (1, 1, 0)],
        [(0, 1, 0), (0, 1, 1)],
        [(0, 0, 1), (1, 0, 1)],
        [(0, 0, 1), (0, 1, 1)],
        [(1, 1, 0), (1, 1, 1)],
        [(1, 0, 1), (1, 1, 1)],
        [(0, 1, 1), (1, 1, 1)],
    ],
    float,
)


def _cell_edges(lattice: np.ndarray, supercell: tuple[int, int, int]) -> np.ndarray:
    """The supercell's outline, and the first unit cell inside it."""
    outline = (_CUBE_EDGES * np.asarray(supercell, float)) @ lattice
    if tuple(supercell) == (1, 1, 1):
        return outline
    return np.concatenate([outline, _CUBE_EDGES @ lattice])
