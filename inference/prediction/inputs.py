"""What the user typed or picked → structures or a formula, with one-line errors.

A path to a file is one structure; a folder is a batch of every structure file inside it;
anything else is read as a chemical formula.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from inference.errors import MatLensError, UnreadableFile

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from inference.jobs import CancelToken

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
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except (OSError, ValueError):  # "File name too long": a long formula is not a path
        is_dir = is_file = False
    if len(text) > 200 and not (is_dir or is_file) and os.sep not in text:
        return PredictionInput("formula", formula=text)  # parse_composition says why not
    if is_dir:
        files = sorted(p for p in path.iterdir() if p.is_file() and is_structure_file(p))
        if not files:
            raise MatLensError(f"no structure files (CIF, POSCAR, .vasp...) in {path}")
        return PredictionInput("structures", paths=files)
    if is_file:
        return PredictionInput("structures", paths=[path])
    if "/" in text or "\\" in text or path.suffix.lower() in STRUCTURE_SUFFIXES:
        raise UnreadableFile(f"File not found: {text}")
    return PredictionInput("formula", formula=text)


def fixed_formula(text: str) -> str | None:
    """`text` if it is a chemical formula the composition models can take, else None.

    Variable or doped formulas (Ba1-xKxFe2As2, O3-δ) and names without a formula are None.
    """
    from inference.prediction.notation import parse_composition

    try:
        parsed = parse_composition(text)
    except MatLensError:
        return None
    return parsed.text if parsed.notation == "formula" else None


@dataclass(frozen=True)
class ReadStructure:
    structure: Structure
    notices: tuple[str, ...]  # what the Structures pane would say about the file
    block: str = ""  # the data block asked for by name or number ("": the first was taken)


def read_structure(
    path: Path, cancel: CancelToken | None = None, block: str | None = None
) -> ReadStructure:
    """The structure named `block` (a data block's name or number), else the first periodic
    one, of a file, read as the Structures pane reads it.

    `inference.structures.io.load_structures` parses in a child process with a time limit and
    is tolerant of common CIF faults (each fix becomes a notice), so the pane and `predict`
    open the same files and say the same things about them.
    """
    from inference.structures.io import load_structures

    loaded = load_structures(path, cancel=cancel)
    if block is not None:
        chosen = loaded.block(block)
        if not chosen.periodic:
            raise UnreadableFile(
                f"{path.name} [{chosen.name}] is a molecule with no cell; CHGNet needs a periodic "
                "crystal"
            )
        notices = [*loaded.notices, *chosen.notices]
        return ReadStructure(chosen.structure, tuple(notices), chosen.name)
    periodic = [b for b in loaded.blocks if b.periodic]
    if not periodic:
        raise UnreadableFile(
            f"{path.name} holds a molecule with no cell; CHGNet needs a periodic crystal"
        )
    block_read = periodic[0]
    notices = [*loaded.notices, *block_read.notices]
    if len(loaded.blocks) > 1:
        notices.append(
            f"the file has {len(loaded.blocks)} structures; the first ('{block_read.name}') was used"
        )
    if len(block_read.structure) == 0:
        raise UnreadableFile(f"{path.name} has no atoms")
    return ReadStructure(block_read.structure, tuple(notices))
