"""Which files are structures, told from the name alone (no pymatgen import, so the window and
drag-and-drop routing stay fast)."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os

# (format name, filename patterns) in the order they are tried; names are matched lower-case.
FORMATS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("CIF", ("*.cif", "*.mcif", "*.cif.gz", "*.cif.bz2", "*.mcif.gz")),
    ("POSCAR", ("*poscar*", "*contcar*", "*.vasp")),
    ("vasprun", ("vasprun*.xml*",)),
    ("CHGCAR", ("chgcar*", "locpot*")),
    ("XYZ", ("*.xyz", "*.xyz.gz")),
    ("Gaussian", ("*.gjf", "*.g03", "*.g09")),
    ("XSF", ("*.xsf",)),
    ("CSSR", ("*.cssr",)),
    ("RES", ("*.res",)),
    ("pymatgen JSON", ("*.json", "*.json.gz")),
    ("ATAT", ("*rndstr.in", "*lat.in", "*bestsqs*")),
    ("PWmat", ("*.config", "*.pwmat")),
)
MOLECULE_FORMATS = frozenset({"XYZ", "Gaussian"})
# What the window routes to the structure pane by name. JSON is left out on purpose: other panes
# write JSON files too, so a pymatgen JSON is opened with the pane's own Open button.
PANE_FORMATS = tuple(f for f, _ in FORMATS if f != "pymatgen JSON")


def detect_format(path: str | os.PathLike[str]) -> str | None:
    name = Path(path).name.lower()
    for fmt, patterns in FORMATS:
        if any(fnmatch(name, p) for p in patterns):
            return fmt
    return None


def is_structure_file(path: str | os.PathLike[str]) -> bool:
    """For drag-and-drop routing: does the name look like a structure format?"""
    return detect_format(path) in PANE_FORMATS


def _dialog_filter() -> str:
    shown = {"*poscar*": "*POSCAR*", "*contcar*": "*CONTCAR*", "chgcar*": "CHGCAR*"}
    patterns = sorted(
        {shown.get(p, p) for _, ps in FORMATS for p in ps if not p.endswith((".gz", ".bz2"))}
    )
    return f"Crystal structures ({' '.join(patterns)})"


FILE_DIALOG_FILTER = _dialog_filter()
