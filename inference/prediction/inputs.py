"""What the user typed or picked → structures or a formula, with one-line errors.

A path to a file is one structure; a folder is a batch of every structure file inside it;
anything else is read as a chemical formula.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from inference.errors import MatLensError, UnreadableFile

STRUCTURE_SUFFIXES = {".cif", ".vasp", ".poscar", ".xyz", ".json", ".mcif", ".cssr", ".res"}
STRUCTURE_NAMES = ("POSCAR", "CONTCAR")


@dataclass
class PredictionInput:
    kind: str  # "structures" or "formula"
    formula: str = ""
    paths: list[Path] = field(default_factory=list)


def is_structure_file(path: Path) -> bool:
    return path.suffix.lower() in STRUCTURE_SUFFIXES or path.name.upper().startswith(
        STRUCTURE_NAMES
    )


def classify(text: str) -> PredictionInput:
    """A file, a folder, or a formula (the formula is checked later, when it is parsed)."""
    text = text.strip()
    if not text:
        raise MatLensError("type a formula (e.g. Fe2O3) or choose a structure file or folder")
    path = Path(text).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and is_structure_file(p))
        if not files:
            raise MatLensError(f"no structure files (CIF, POSCAR, .vasp...) in {path}")
        return PredictionInput("structures", paths=files)
    if path.is_file():
        return PredictionInput("structures", paths=[path])
    if "/" in text or "\\" in text or path.suffix.lower() in STRUCTURE_SUFFIXES:
        raise UnreadableFile(f"File not found: {text}")
    return PredictionInput("formula", formula=text)


def fixed_formula(text: str) -> str | None:
    """`text` if it is a composition the composition models can take, else None.

    Variable or doped formulas (Ba1-xKxFe2As2, O3-δ) and names without a formula are None.
    """
    from inference.prediction.featurize import parse_formula

    try:
        parse_formula(text)
    except MatLensError:
        return None
    return text.strip()


def read_structure(path: Path):
    """One periodic structure from a file (the first one in a multi-block CIF)."""
    from pymatgen.core import Structure

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structure = Structure.from_file(str(path))
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - pymatgen raises many types for bad files
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:150]
        raise UnreadableFile(f"cannot read a crystal structure from {path.name}: {first}") from None
    if len(structure) == 0:
        raise UnreadableFile(f"{path.name} has no atoms")
    return structure
