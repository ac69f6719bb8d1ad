"""One block made ready to show: the chosen cell, its symmetry info and its bonds.

This is the slow part after parsing (spglib, CrystalNN), done once per block, cell choice and
tolerance, in a worker. Scenes for different styles and supercells are then cheap to build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.structures.analysis import (
    DEFAULT_SYMPREC,
    CellVariant,
    StructureInfo,
    analyze,
    cell_variant,
)
from inference.structures.bonds import NeighborList, find_bonds

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from inference.structures.model import StructureBlock


@dataclass(frozen=True)
class PreparedStructure:
    block: StructureBlock
    variant: CellVariant
    structure: Structure  # the cell that is drawn and analysed
    info: StructureInfo
    neighbors: NeighborList
    notices: tuple[str, ...]
    # The space-group search ran out of this many seconds and was skipped (0: it ran).
    symmetry_stopped_s: float = 0.0

    @property
    def periodic(self) -> bool:
        return self.block.periodic


@dataclass(frozen=True)
class AnalysedBlock:
    """One block's chosen cell and its numbers, without bonds (what `structure info` needs)."""

    name: str
    structure: Structure
    info: StructureInfo
    notices: tuple[str, ...]


def analyse_block(
    block: StructureBlock,
    variant: CellVariant = "as-read",
    symprec: float = DEFAULT_SYMPREC,
    symmetry: bool = True,
) -> AnalysedBlock:
    """The cell variant and the info of one block. Runs spglib: call it through
    `inference.structures.isolated` for files a person opened, so a crash costs a message."""
    notices = list(block.notices)
    structure = block.structure
    if block.periodic and variant != "as-read":
        if symmetry:
            structure, notice = cell_variant(structure, variant, symprec)
        else:
            notice = f"no {variant} cell without the symmetry search; shown as read"
        if notice:
            notices.append(notice)
    info = analyze(structure, symprec=symprec, periodic=block.periodic, symmetry=symmetry)
    notices.extend(info.notices)
    return AnalysedBlock(block.name, structure, info, tuple(dict.fromkeys(notices)))


def prepare(
    block: StructureBlock,
    variant: CellVariant = "as-read",
    symprec: float = DEFAULT_SYMPREC,
    symmetry: bool = True,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PreparedStructure:
    progress(0.1, "finding the space group" if symmetry else "reading the cell")
    analysed = analyse_block(block, variant, symprec, symmetry)
    if cancel:
        cancel.raise_if_cancelled()
    progress(0.6, "finding bonds")
    neighbors = find_bonds(analysed.structure, periodic=block.periodic)
    progress(1.0, "")
    return PreparedStructure(
        block, variant, analysed.structure, analysed.info, neighbors, analysed.notices
    )
