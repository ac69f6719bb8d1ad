"""Read any structure format pymatgen knows, in this process (`io.load_structures` adds the
time limit by running this in a child process).

Every failure leaves as `UnreadableFile` with one line that names the file.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Molecule, Structure

from inference.errors import UnreadableFile
from inference.structures.cif import NO_STRUCTURE, read_cif
from inference.structures.formats import MOLECULE_FORMATS, detect_format
from inference.structures.model import ReadOptions, StructureBlock, StructureFile

_BOX_PADDING = 8.0  # Å of empty space around a molecule, more than any bond cutoff


def read_structures(path: str | Path, options: ReadOptions | None = None) -> StructureFile:
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
    if fmt in MOLECULE_FORMATS:
        return StructureFile(path, fmt, tuple(_read_molecules(path, fmt, options)))
    return StructureFile(path, fmt, (_read_periodic(path, fmt),))


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
    return UnreadableFile(f"{path.name}: not a readable {fmt} file ({text})")


def _read_periodic(path: Path, fmt: str) -> StructureBlock:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structure = Structure.from_file(str(path))
    except Exception as exc:  # noqa: BLE001 - pymatgen raises anything on a broken file
        raise _fail(path, fmt, exc) from exc
    if len(structure) == 0:
        raise UnreadableFile(f"{path.name}: the file has no atoms")
    if abs(structure.volume) < 1e-6:
        raise UnreadableFile(f"{path.name}: the unit cell has no volume")
    return StructureBlock(path.name, structure)


def _read_molecules(path: Path, fmt: str, options: ReadOptions) -> list[StructureBlock]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames = _read_xyz(path) if fmt == "XYZ" else [Molecule.from_file(str(path))]
    except Exception as exc:  # noqa: BLE001
        raise _fail(path, fmt, exc) from exc
    frames = [f for f in frames if len(f)]
    if not frames:
        raise UnreadableFile(f"{path.name}: the file has no atoms")
    notices = ()
    if len(frames) > options.max_frames:
        notices = (f"only the first {options.max_frames} of {len(frames)} frames were read",)
        frames = frames[: options.max_frames]
    names = [path.name] if len(frames) == 1 else [f"frame {i + 1}" for i in range(len(frames))]
    return [_frame_block(name, frame, notices) for name, frame in zip(names, frames, strict=True)]


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
    from ase.io import read
    from ase.io.extxyz import XYZError
    from pymatgen.io.ase import AseAtomsAdaptor

    try:
        frames = read(str(path), index=":", format="extxyz")
    except KeyError as exc:  # ASE looks the symbol up in its table of elements
        raise ValueError(f"unknown element {exc}") from exc
    except XYZError as exc:
        raise ValueError(str(exc).removeprefix("ase.io.extxyz: ")) from exc
    return [
        AseAtomsAdaptor.get_structure(atoms)
        if atoms.pbc.all() and atoms.cell.rank == 3
        else AseAtomsAdaptor.get_molecule(atoms)
        for atoms in frames
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
