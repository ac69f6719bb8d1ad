"""Write a structure as CIF (with its space group, or P1), POSCAR or extended XYZ."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from inference.errors import MatLensError
from inference.runtime.write_guard import same_file
from inference.structures.analysis import DEFAULT_SYMPREC, compact_formula

if TYPE_CHECKING:
    from pymatgen.core import Structure

ExportFormat = Literal["cif-symmetrized", "cif-p1", "poscar", "xyz"]
EXPORT_FORMATS: dict[ExportFormat, tuple[str, str]] = {
    "cif-symmetrized": ("CIF with space group", "*.cif"),
    "cif-p1": ("CIF in P1 (every atom listed)", "*.cif"),
    "poscar": ("VASP POSCAR", "*.vasp"),
    "xyz": ("Extended XYZ", "*.xyz"),
}


@dataclass(frozen=True)
class SavedFile:
    path: Path
    notice: str | None = None  # e.g. "no space group found: written in P1"


def export_structure(
    structure: Structure,
    path: str | Path,
    fmt: ExportFormat,
    symprec: float = DEFAULT_SYMPREC,
    read_from: Path | None = None,
    repeats: tuple[int, int, int] = (1, 1, 1),
) -> SavedFile:
    """Write the file; says where, and what the person should know (symmetry not found...).
    `read_from`, the file the structure came from, is never written over: the export holds
    less than it (its comments, uncertainties, other data blocks). `repeats`, the supercell
    shown, is what P1 CIF, POSCAR and XYZ hold (a supercell is what one exports one for, to
    start a calculation); a CIF with its space group holds one cell and says so."""
    path = Path(path)
    if read_from is not None and same_file(path, Path(read_from)):
        raise MatLensError(
            f"{path.name} is the file the structure was read from: save the export under "
            "another name (it would replace the file with less than it holds)"
        )
    shown = "×".join(str(r) for r in repeats)
    supercell = None
    if tuple(repeats) != (1, 1, 1):
        if fmt == "cif-symmetrized":
            supercell = (
                f"one cell, not the {shown} supercell shown, which a CIF with its space group "
                "cannot hold: export CIF in P1, POSCAR or XYZ for the supercell"
            )
        else:
            structure = structure * tuple(repeats)
            supercell = f"the {shown} supercell shown, {len(structure)} atoms"
    notice = _written(path, structure, fmt, symprec)
    notice = "; ".join(n for n in (supercell, notice) if n) or None
    return SavedFile(path, notice)


def _written(path: Path, structure: Structure, fmt: ExportFormat, symprec: float) -> str | None:
    """Write `structure` to `path` as `fmt`; what the person should know, or None."""
    notice = None
    moments = "magmom" in structure.site_properties  # a magnetic CIF's
    if fmt == "cif-p1" and moments:
        text = _magnetic_cif(structure)
    elif fmt in ("cif-symmetrized", "cif-p1"):
        text, notice = _cif(structure, fmt == "cif-symmetrized", symprec)
    elif fmt == "poscar":
        text = _poscar(structure)
    elif fmt == "xyz":
        text = extended_xyz(structure)
    else:
        raise MatLensError(f"unknown export format '{fmt}'")
    if moments and fmt != "cif-p1":  # they were dropped without a word
        dropped = "the magnetic moments are not written: export CIF in P1 to keep them"
        notice = f"{notice}; {dropped}" if notice else dropped
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MatLensError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return notice


def _cif(structure: Structure, symmetrized: bool, symprec: float) -> tuple[str, str | None]:
    from pymatgen.io.cif import CifWriter
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if symmetrized:
            try:
                # A CIF with its space group holds the standard conventional cell.
                refined = SpacegroupAnalyzer(structure, symprec).get_refined_structure()
                text = str(CifWriter(refined, symprec=symprec, refine_struct=False))
            except Exception:  # noqa: BLE001 - spglib can fail; P1 is always possible
                return str(CifWriter(structure)), "no space group found: written in P1"
            if len(refined) == len(structure):
                return text, None
            return text, (  # a primitive cell chosen came out as 8 atoms, without a word
                f"written as the conventional cell, {len(refined)} atoms, which a CIF with its "
                f"space group holds; the cell chosen has {len(structure)}: for that cell "
                "export CIF in P1 or POSCAR"
            )
        return str(CifWriter(structure)), None


def _magnetic_cif(structure: Structure) -> str:
    """A P1 magnetic CIF (each atom's moment, as the file read held them)."""
    from pymatgen.io.cif import CifWriter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(CifWriter(structure, write_magmoms=True))


def _poscar(structure: Structure) -> str:
    from pymatgen.io.vasp import Poscar

    if not structure.is_ordered:
        raise MatLensError(
            "POSCAR cannot hold partial occupancies or mixed sites: export a CIF instead"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Poscar(structure, comment=compact_formula(structure)).get_str()


def extended_xyz(structure: Structure) -> str:
    """XYZ whose comment line carries the cell (read by ASE, OVITO and pymatgen alike)."""
    if not structure.is_ordered:
        raise MatLensError("XYZ cannot hold partial occupancies or mixed sites: export a CIF")
    m = structure.lattice.matrix
    lattice = " ".join(f"{v:.8f}" for v in m.reshape(-1))
    lines = [
        str(len(structure)),
        f'Lattice="{lattice}" Properties=species:S:1:pos:R:3 pbc="T T T"',
    ]
    for site in structure:
        x, y, z = site.coords
        lines.append(f"{site.specie.symbol:<3} {x:16.8f} {y:16.8f} {z:16.8f}")
    return "\n".join(lines) + "\n"
