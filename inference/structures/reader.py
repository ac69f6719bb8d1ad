"""Read any structure format pymatgen knows, in this process (`io.load_structures` adds the
time limit by running this in a child process).

Every failure leaves as `UnreadableFile` with one line that names the file.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from pymatgen.core import Lattice, Molecule, Structure

from inference.errors import UnreadableFile
from inference.structures.capacity import count_atom_lines, too_many_atoms
from inference.structures.cif import NO_STRUCTURE, read_cif
from inference.structures.formats import MOLECULE_FORMATS, detect_format
from inference.structures.model import ReadOptions, StructureBlock, StructureFile
from inference.structures.validate import check_molecule, check_structure

if TYPE_CHECKING:
    import os

_BOX_PADDING = 8.0  # Å of empty space around a molecule, more than any bond cutoff
# pymatgen's warning when a POSCAR names no elements and it makes names up
_FALSE_NAMES = "Elements in POSCAR cannot be determined"


def read_structures(
    path: str | os.PathLike[str], options: ReadOptions | None = None
) -> StructureFile:
    """All structures in the file (several for multi-block CIFs and multi-frame XYZ)."""
    path = Path(path)
    options = options or ReadOptions()
    if not path.exists():
        raise UnreadableFile(f"File not found: {path}")
    if path.is_dir():
        raise UnreadableFile(f"{path.name} is a folder, not a structure file")
    if path.stat().st_size == 0:
        raise UnreadableFile(f"{path.name} is empty")
    fmt = detect_format(path)
    if fmt is None:
        raise UnreadableFile(
            f"{path.name}: MatLens cannot tell the structure format from the name "
            "(CIF, POSCAR/CONTCAR, *.vasp, XYZ, XSF, CSSR, RES, vasprun.xml, pymatgen JSON)"
        )
    if fmt == "CIF":
        blocks, skipped = read_cif(path, options)
        if not blocks:
            raise UnreadableFile(_no_structure_message(path, skipped))
        return StructureFile(path, fmt, tuple(blocks), tuple(skipped))
    atoms = count_atom_lines(path)
    refusal = too_many_atoms(atoms, path.name) if atoms else None
    if refusal:
        raise UnreadableFile(refusal)
    if fmt in MOLECULE_FORMATS:
        return StructureFile(path, fmt, tuple(_read_molecules(path, fmt, options)))
    if fmt == "POSCAR":
        _check_poscar_scale(path)
        _check_poscar_counts(path)
    return StructureFile(path, fmt, (_read_periodic(path, fmt),))


def _check_poscar_scale(path: Path) -> None:
    """Line 2 of a POSCAR scales the cell (negative: the cell volume). pymatgen divides by it,
    and a NaN reaches spglib: both get a plain reason here."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            handle.readline()
            fields = handle.readline().split()
    except OSError as exc:
        raise UnreadableFile(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    try:
        values = [float(f) for f in fields]
    except ValueError:
        return  # not numbers: pymatgen says which line is wrong
    if not values:
        return
    if not np.isfinite(values).all():
        raise UnreadableFile(
            f"{path.name}: the scale factor on line 2 is '{' '.join(fields)}': it must be a "
            "number (1.0 keeps the cell as written)"
        )
    if any(v == 0 for v in values):
        raise UnreadableFile(
            f"{path.name}: the scale factor on line 2 is {' '.join(fields)}: it must not be zero "
            "(1.0 keeps the cell as written; a negative number gives the cell volume)"
        )


def _check_poscar_counts(path: Path) -> None:
    """A VASP 5 POSCAR's element line (6) and count line (7) must pair up, as VASP requires:
    "Si O" over "2" was read as Si2 without a word, and "Si" over "1 1" was called cut short."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            lines = [handle.readline() for _ in range(7)]
    except OSError:
        return  # the reader says why
    symbols, counts = lines[5].split(), lines[6].split()
    if not symbols or not all(t[:1].isalpha() for t in symbols):
        return  # VASP 4: line 6 holds the counts
    if not counts or not all(t.isdigit() for t in counts):
        return  # pymatgen says which line is wrong
    if len(symbols) != len(counts):
        raise UnreadableFile(
            f"{path.name}: line 6 names {len(symbols)} element(s) ({' '.join(symbols)}) but "
            f"line 7 gives {len(counts)} atom count(s) ({' '.join(counts)}): give one count "
            "per element"
        )


def _no_structure_message(path: Path, skipped) -> str:
    if len(skipped) == 1:
        return f"{path.name}: {skipped[0].reason}"
    # The block that looks most like a structure gives the reason; publication blocks say little.
    informative = [s for s in skipped if s.reason != NO_STRUCTURE] or skipped
    first = informative[0]
    more = f" (+{len(skipped) - 1} more)" if len(skipped) > 1 else ""
    return (
        f"{path.name}: no data block holds a structure; block '{first.name}': {first.reason}{more}"
    )


def _fail(path: Path, fmt: str, exc: BaseException) -> UnreadableFile:
    lines = str(exc).strip().splitlines()
    text = lines[0][:200] if lines else type(exc).__name__
    if isinstance(exc, IndexError | StopIteration) or "index out of range" in text:
        return UnreadableFile(
            f"{path.name}: not a readable {fmt} file: it ends early or lines are missing "
            "(was it cut short?); check the atom counts and positions"
        )
    if isinstance(exc, ZeroDivisionError):
        return UnreadableFile(f"{path.name}: not a readable {fmt} file: the cell has no size")
    return UnreadableFile(f"{path.name}: not a readable {fmt} file ({text})")


def _checked(path: Path, block: StructureBlock) -> StructureBlock:
    """The block if its cell, coordinates and elements are sound; else one line naming the file."""
    try:
        check_structure(block.structure)
    except UnreadableFile as exc:
        raise UnreadableFile(f"{path.name}: {exc}") from None
    return block


def _read_periodic(path: Path, fmt: str) -> StructureBlock:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            structure = Structure.from_file(str(path))
    except Exception as exc:  # pymatgen raises anything on a broken file
        raise _fail(path, fmt, exc) from exc
    if any(_FALSE_NAMES in str(w.message) for w in caught):
        # pymatgen then names the atoms H, He, Li, ... in order: a made-up compound
        raise UnreadableFile(
            f"{path.name}: the file does not name its elements (a VASP 4 POSCAR with no element "
            "line and no POTCAR beside it); add a line with the element symbols above the atom "
            "counts, as VASP 5 writes it"
        )
    if len(structure) == 0:
        raise UnreadableFile(f"{path.name}: the file has no atoms")
    return _checked(path, StructureBlock(path.name, structure))


def _read_molecules(path: Path, fmt: str, options: ReadOptions) -> list[StructureBlock]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames = _read_xyz(path) if fmt == "XYZ" else [_read_molecule(path)]
    except Exception as exc:
        raise _fail(path, fmt, exc) from exc
    frames = [f for f in frames if len(f)]
    if not frames:
        raise UnreadableFile(f"{path.name}: the file has no atoms")
    for frame in frames:
        try:
            check_molecule(frame) if isinstance(frame, Molecule) else check_structure(frame)
        except UnreadableFile as exc:
            raise UnreadableFile(f"{path.name}: {exc}") from None
    notices = ()
    if len(frames) > options.max_frames:
        notices = (f"only the first {options.max_frames} of {len(frames)} frames were read",)
        frames = frames[: options.max_frames]
    names = [path.name] if len(frames) == 1 else [f"frame {i + 1}" for i in range(len(frames))]
    return [_frame_block(name, frame, notices) for name, frame in zip(names, frames, strict=True)]


def _read_molecule(path: Path) -> Molecule:
    molecule = Molecule.from_file(str(path))
    if not isinstance(molecule, Molecule):  # pymatgen may give its immutable base class
        molecule = Molecule.from_sites(list(molecule))
    return molecule


def _frame_block(
    name: str, frame: Molecule | Structure, notices: tuple[str, ...]
) -> StructureBlock:
    if isinstance(frame, Structure):  # extended XYZ with a cell: kept periodic
        return StructureBlock(name, frame, notices)
    return StructureBlock(name, boxed(frame), notices, periodic=False)


def _read_xyz(path: Path) -> list[Molecule | Structure]:
    """Every frame of a plain or extended XYZ file (gzip too), read by ASE: a Structure where
    the frame has a cell periodic in all three directions, a Molecule otherwise.

    Not pymatgen.io.xyz: it imports pandas, which the installed app then has to carry (21 MB).
    """
    from ase.atoms import Atoms
    from ase.io import read
    from ase.io.extxyz import XYZError
    from pymatgen.io.ase import AseAtomsAdaptor

    try:
        read_back = read(str(path), index=":", format="extxyz")
    except KeyError as exc:  # ASE looks the symbol up in its table of elements
        raise ValueError(f"unknown element {exc}") from exc
    except XYZError as exc:
        raise ValueError(str(exc).removeprefix("ase.io.extxyz: ")) from exc
    frames = read_back if isinstance(read_back, list) else [read_back]
    # cast: pymatgen annotates with a stand-in Atoms class of its own when ASE is missing
    return [
        AseAtomsAdaptor.get_structure(cast("Any", atoms))
        if atoms.pbc.all() and atoms.cell.rank == 3
        else AseAtomsAdaptor.get_molecule(cast("Any", atoms))
        for atoms in frames
        if isinstance(atoms, Atoms)
    ]


def boxed(molecule: Molecule) -> Structure:
    """A molecule in an orthorhombic box with empty space around it (drawn without the box)."""
    coords = np.asarray(molecule.cart_coords, dtype=float)
    low, high = coords.min(axis=0), coords.max(axis=0)
    size = np.maximum(high - low + 2 * _BOX_PADDING, 1.0)
    shifted = coords - low + _BOX_PADDING
    return Structure(
        Lattice.orthorhombic(*size),
        molecule.species_and_occu,
        shifted,
        coords_are_cartesian=True,
        labels=molecule.labels if hasattr(molecule, "labels") else None,
    )
