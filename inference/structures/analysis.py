"""Symmetry and the numbers of the info panel: formula, space group, cell, density, Wyckoff sites.

spglib (through pymatgen's SpacegroupAnalyzer) finds the space group at an adjustable tolerance;
disordered sites count as their own atom types, so partially occupied structures work too.
Structures whose symmetry cannot be found still get every other number, and a notice.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pymatgen.core import Molecule, Structure

CellVariant = Literal["as-read", "primitive", "conventional"]
CELL_VARIANTS: tuple[CellVariant, ...] = ("as-read", "primitive", "conventional")
DEFAULT_SYMPREC = 0.01  # Å, spglib's distance tolerance
DEFAULT_ANGLE_TOLERANCE = 5.0  # degrees


@dataclass(frozen=True)
class LatticeParameters:
    a: float
    b: float
    c: float
    alpha: float
    beta: float
    gamma: float
    volume: float


@dataclass(frozen=True)
class SiteRow:
    index: int
    label: str
    species: str  # "Na", or "Fe0.5Ni0.5" for a mixed or partly occupied site
    occupancy: float  # total occupancy of the site
    frac: tuple[float, float, float]
    wyckoff: str  # "4a"; "" when the symmetry is unknown
    orbit: int  # index of the first site equivalent to this one


@dataclass(frozen=True)
class StructureInfo:
    formula: str  # full, e.g. "Na4Cl4"
    reduced_formula: str  # e.g. "NaCl"
    nsites: int
    density: float | None  # g/cm³
    lattice: LatticeParameters | None  # None for a molecule
    spacegroup_symbol: str | None
    spacegroup_number: int | None
    crystal_system: str | None
    point_group: str | None
    sites: tuple[SiteRow, ...]
    symprec: float
    is_ordered: bool
    periodic: bool
    notices: tuple[str, ...] = ()

    def to_json(self) -> dict:
        """The stable `matlens structure info --json` record (documented in the README)."""
        return {
            "formula": self.formula,
            "reduced_formula": self.reduced_formula,
            "spacegroup_symbol": self.spacegroup_symbol,
            "spacegroup_number": self.spacegroup_number,
            "crystal_system": self.crystal_system,
            "lattice": (
                {k: round(v, 6) for k, v in asdict(self.lattice).items() if k != "volume"}
                if self.lattice
                else None
            ),
            "volume": round(self.lattice.volume, 6) if self.lattice else None,
            "density": round(self.density, 6) if self.density is not None else None,
            "nsites": self.nsites,
            "is_ordered": self.is_ordered,
            "symprec": self.symprec,
            "notices": list(self.notices),
        }


def _analyzer(structure: Structure, symprec: float, angle_tolerance: float):
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    return SpacegroupAnalyzer(structure, symprec=symprec, angle_tolerance=angle_tolerance)


def _triple(values) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)
    return x, y, z


def compact_formula(structure: Structure | Molecule) -> str:
    """'Na4Cl4', 'SrTiO3' (pymatgen's full formula without spaces and without counts of 1)."""
    text = structure.composition.formula.replace(" ", "")
    return re.sub(r"(?<=[A-Za-z])1(?![\d.])", "", text)


def species_text(site) -> str:
    """'Na' for an ordered site; 'Fe0.5Ni0.5' (occupancies) for a mixed or partial one."""
    items = list(site.species.items())
    if len(items) == 1 and abs(items[0][1] - 1) < 1e-6:
        return _symbol(items[0][0])
    return "".join(f"{_symbol(sp)}{occ:.3g}" for sp, occ in items)


def _symbol(species) -> str:
    return getattr(species, "symbol", None) or str(species)


def site_label(structure: Structure, index: int) -> str:
    """The file's label ('O2'); for a site elements share, their symbols, the most abundant
    first ('Al/Mg'): pymatgen keeps only one of the file's labels for it ('Mg' for a site
    91 % Al). The occupancies are the species text's ('Al0.909Mg0.091')."""
    site = structure[index]
    if len(site.species) > 1:
        ranked = sorted(site.species.items(), key=lambda item: -item[1])
        return "/".join(_symbol(species) for species, _ in ranked)
    label = getattr(site, "label", None)
    return str(label) if label else species_text(site)


# Along a lattice vector, the widest slab without atoms. Bulk crystals stay under ~5 Å (a van
# der Waals gap is 3-4 Å); slab and 2D-layer cells carry 10-30 Å of vacuum (JARVIS 2D cells
# 12-30 Å).
VACUUM_GAP = 8.0  # Å


@dataclass(frozen=True)
class VacuumGap:
    axis: str  # "a", "b" or "c"
    width: float  # Å, across the planes of that axis


def vacuum_gap(structure: Structure) -> VacuumGap | None:
    """The widest gap between atomic planes along a, b or c, when it is vacuum (≥ VACUUM_GAP)."""
    if len(structure) == 0:
        return None
    spacings = structure.lattice.reciprocal_lattice_crystallographic.abc  # 1 / d per axis
    best: VacuumGap | None = None
    for i, axis in enumerate("abc"):
        f = np.sort(np.mod(structure.frac_coords[:, i], 1.0))
        widest = float(np.diff(np.concatenate([f, [f[0] + 1.0]])).max()) / spacings[i]
        if widest >= VACUUM_GAP and (best is None or widest > best.width):
            best = VacuumGap(axis, widest)
    return best


def analyze(
    structure: Structure,
    symprec: float = DEFAULT_SYMPREC,
    angle_tolerance: float = DEFAULT_ANGLE_TOLERANCE,
    periodic: bool = True,
    symmetry: bool = True,
) -> StructureInfo:
    """Everything the info panel and `structure info` show, for one structure. `symmetry=False`
    skips the space-group search (spglib), e.g. after it ran out of time on a huge cell."""
    notices: list[str] = []
    lattice = None
    density = None
    symbol = number = system = point_group = None
    wyckoffs: Sequence[str] = [""] * len(structure)
    orbits = list(range(len(structure)))
    if periodic:
        lat = structure.lattice
        (a, b, c), (alpha, beta, gamma) = lat.abc, lat.angles
        lattice = LatticeParameters(
            float(a), float(b), float(c), float(alpha), float(beta), float(gamma), float(lat.volume)
        )
        density = float(structure.density)
        vacuum = vacuum_gap(structure)
        if vacuum is not None:
            notices.append(
                f"no density: the cell holds {vacuum.width:.1f} Å of vacuum along "
                f"{vacuum.axis} (a slab or 2D layer), so the cell's {density:.2f} g/cm³ is not "
                "the material's"
            )
            density = None
        if symmetry:
            found = _symmetry(structure, symprec, angle_tolerance)
            if found is None:
                notices.append(f"the space group could not be found at tolerance {symprec:g} Å")
            else:
                symbol, number, system = found.symbol, found.number, found.crystal_system
                point_group, orbits, wyckoffs = found.point_group, found.orbits, found.wyckoffs
    else:
        point_group = _molecule_point_group(structure)
    sites = tuple(
        SiteRow(
            index=i,
            label=site_label(structure, i),
            species=species_text(site),
            occupancy=float(sum(site.species.values())),
            frac=_triple(site.frac_coords),
            wyckoff=wyckoffs[i],
            orbit=orbits[i],
        )
        for i, site in enumerate(structure)
    )
    return StructureInfo(
        formula=compact_formula(structure),
        reduced_formula=structure.composition.reduced_formula,
        nsites=len(structure),
        density=density,
        lattice=lattice,
        spacegroup_symbol=symbol,
        spacegroup_number=number,
        crystal_system=system,
        point_group=point_group,
        sites=sites,
        symprec=symprec,
        is_ordered=bool(structure.is_ordered),
        periodic=periodic,
        notices=tuple(notices),
    )


@dataclass(frozen=True)
class _Symmetry:
    symbol: str
    number: int
    crystal_system: str
    point_group: str
    orbits: list[int]
    wyckoffs: list[str]


def _symmetry(structure: Structure, symprec: float, angle_tolerance: float) -> _Symmetry | None:
    """The space group and site orbits, or None when spglib gives up. The caller has validated
    the cell (spglib crashes the process on a NaN cell)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sga = _analyzer(structure, symprec, angle_tolerance)
            dataset = _in_the_files_setting(
                sga.get_symmetry_dataset(), getattr(sga, "_cell", None), symprec, angle_tolerance
            )
        orbits = [int(i) for i in dataset.equivalent_atoms]
        return _Symmetry(
            str(dataset.international),
            int(dataset.number),
            str(sga.get_crystal_system()),
            str(dataset.pointgroup),
            orbits,
            _wyckoff_symbols(structure, dataset, orbits),
        )
    except Exception:  # noqa: BLE001 - spglib gives up on some structures
        return None


def _in_the_files_setting(dataset, cell, symprec: float, angle_tolerance: float):
    """spglib's dataset in the standard setting the file's cell already is in, if any.

    spglib standardises to its default setting of the group (for Fd-3m origin choice 1) and
    there picks any origin the group's normaliser makes equivalent, so its Wyckoff letters can
    be a textbook's swapped: spinel written in origin choice 2, Mg at (1/8, 1/8, 1/8), came out
    8b, not 8a. When another setting of the same group takes the cell as it is (no change of
    axes, no origin shift), that setting's letters are the ones the literature uses."""
    from inference.structures.space_groups import hall_numbers

    if cell is None or not _same_axes(dataset) or _no_shift(dataset):
        return dataset
    import spglib

    for hall in hall_numbers(int(dataset.number)):
        if hall == dataset.hall_number:
            continue
        other = spglib.get_symmetry_dataset(
            cell, symprec=symprec, angle_tolerance=angle_tolerance, hall_number=hall
        )
        if (
            other is not None
            and other.number == dataset.number
            and _same_axes(other)
            and _no_shift(other)
        ):
            return other
    return dataset


def _same_axes(dataset) -> bool:
    return bool(np.allclose(np.asarray(dataset.transformation_matrix), np.eye(3), atol=1e-6))


def _no_shift(dataset) -> bool:
    shift = np.asarray(dataset.origin_shift, dtype=float) % 1.0
    return bool(np.all(np.minimum(shift, 1.0 - shift) < 1e-4))


def _wyckoff_symbols(structure: Structure, dataset, orbits: list[int]) -> list[str]:
    """Multiplicity + letter, e.g. '4a'. The multiplicity is that of the conventional cell, so it
    is right whatever cell the file gives (primitive, conventional, or a supercell)."""
    std_volume = abs(float(np.linalg.det(np.asarray(dataset.std_lattice))))
    ratio = std_volume / float(structure.lattice.volume)
    counts = np.bincount(np.asarray(orbits), minlength=len(structure))
    symbols = []
    for i, letter in enumerate(dataset.wyckoffs):
        multiplicity = round(counts[orbits[i]] * ratio)
        symbols.append(f"{multiplicity}{letter}" if multiplicity >= 1 else str(letter))
    return symbols


def _molecule_point_group(structure: Structure) -> str | None:
    from pymatgen.core import Molecule
    from pymatgen.symmetry.analyzer import PointGroupAnalyzer

    try:
        molecule = Molecule(structure.species_and_occu, structure.cart_coords)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return str(PointGroupAnalyzer(molecule).sch_symbol)
    except Exception:  # noqa: BLE001 - no point group is shown as none, never as a crash
        return None


def cell_variant(
    structure: Structure,
    variant: CellVariant,
    symprec: float = DEFAULT_SYMPREC,
    angle_tolerance: float = DEFAULT_ANGLE_TOLERANCE,
) -> tuple[Structure, str | None]:
    """The structure as read, or its standard primitive or conventional cell (plus a notice when
    the symmetry cannot be found and the structure is returned as read)."""
    if variant == "as-read":
        return structure, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sga = _analyzer(structure, symprec, angle_tolerance)
            if variant == "primitive":
                result = sga.get_primitive_standard_structure()
            else:
                result = sga.get_conventional_standard_structure()
    except Exception:  # noqa: BLE001 - spglib gives up on some structures: shown as read
        return structure, f"no {variant} cell: the symmetry could not be found; shown as read"
    return _relabel(result), None


def _relabel(structure: Structure) -> Structure:
    """Standard cells lose the file's labels: name sites by element and orbit (Na1, Cl1...)."""
    from pymatgen.core import Structure

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sga = _analyzer(structure, DEFAULT_SYMPREC, DEFAULT_ANGLE_TOLERANCE)
            orbits = [int(i) for i in sga.get_symmetry_dataset().equivalent_atoms]
    except Exception:  # noqa: BLE001 - without symmetry, every site is its own orbit
        orbits = list(range(len(structure)))
    counters: dict[str, int] = {}
    names: dict[int, str] = {}
    labels = []
    for i, site in enumerate(structure):
        orbit = orbits[i]
        if orbit not in names:
            base = species_text(site)
            counters[base] = counters.get(base, 0) + 1
            names[orbit] = f"{base}{counters[base]}" if site.is_ordered else base
        labels.append(names[orbit])
    return Structure(
        structure.lattice,
        structure.species_and_occu,
        structure.frac_coords,
        site_properties=structure.site_properties or None,
        labels=labels,
    )
