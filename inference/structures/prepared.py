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
from inference.structures.model import StructureBlock

if TYPE_CHECKING:
    from pymatgen.core import Structure


@dataclass(frozen=True)
class PreparedStructure:
    block: StructureBlock
    variant: CellVariant
    structure: Structure  # the cell that is drawn and analysed
    info: StructureInfo
    neighbors: NeighborList
    notices: tuple[str, ...]

    @property
    def periodic(self) -> bool:
        return self.block.periodic


def prepare(
    block: StructureBlock,
    variant: CellVariant = "as-read",
    symprec: float = DEFAULT_SYMPREC,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PreparedStructure:
    notices = list(block.notices)
    structure = block.structure
    if block.periodic and variant != "as-read":
        progress(0.1, f"finding the {variant} cell")
        structure, notice = cell_variant(structure, variant, symprec)
        if notice:
            notices.append(notice)
    if cancel:
        cancel.raise_if_cancelled()
    progress(0.3, "finding the space group")
    info = analyze(structure, symprec=symprec, periodic=block.periodic)
    notices.extend(info.notices)
    if cancel:
        cancel.raise_if_cancelled()
    progress(0.6, "finding bonds")
    neighbors = find_bonds(structure, periodic=block.periodic)
    progress(1.0, "")
    return PreparedStructure(
        block, variant, structure, info, neighbors, tuple(dict.fromkeys(notices))
    )
