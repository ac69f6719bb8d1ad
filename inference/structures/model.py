"""What reading a structure file gives: one or more blocks, each a pymatgen Structure.

A CIF can hold several data blocks (a paper's phases, a temperature series): the caller gets
them all and lets the person choose. Blocks that hold no structure are kept with a one-line
reason, so the GUI and the CLI can say why they were skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from pymatgen.core import Structure


@dataclass(frozen=True)
class ReadOptions:
    """How tolerant reading is; the defaults open most published CIFs."""

    # Sites whose occupancies sum to between 1 and this are scaled to 1 (rounding in the file).
    occupancy_tolerance: float = 1.05
    # Fractional distance under which two atoms from symmetry are one (disordered) site.
    site_tolerance: float = 1e-4
    # Coordinates this close to 1/3, 1/2... are snapped, so symmetry copies coincide.
    frac_tolerance: float = 1e-4
    # When atoms still overlap (a file listing symmetry copies twice), scale and say so,
    # instead of refusing the file.
    lenient_occupancy: bool = True
    # Seconds the parser may run before it is stopped (malformed files can hang pymatgen).
    timeout_s: float = 30.0
    # Frames read from a multi-frame XYZ file.
    max_frames: int = 500


@dataclass(frozen=True)
class StructureBlock:
    """One structure from a file: a CIF data block, a POSCAR, one frame of an XYZ file."""

    name: str
    structure: Structure
    notices: tuple[str, ...] = ()  # what the person should know (scaled occupancies, P1...)
    periodic: bool = True  # False: a molecule boxed for display (no cell, no symmetry)


@dataclass(frozen=True)
class SkippedBlock:
    name: str
    reason: str  # one line


@dataclass(frozen=True)
class StructureFile:
    path: Path
    format: str  # "CIF", "POSCAR", "XYZ", ...
    blocks: tuple[StructureBlock, ...]
    skipped: tuple[SkippedBlock, ...] = field(default=())
    notices: tuple[str, ...] = ()  # about the whole file

    @property
    def block_names(self) -> list[str]:
        return [b.name for b in self.blocks]

    def block(self, choice: str | None) -> StructureBlock:
        """The block named `choice` or numbered from 1; the first for None."""
        from inference.errors import MatLensError

        if choice is None:
            return self.blocks[0]
        if choice.isdigit() and 1 <= int(choice) <= len(self.blocks):
            return self.blocks[int(choice) - 1]
        for block in self.blocks:
            if block.name == choice:
                return block
        names = ", ".join(self.block_names)
        raise MatLensError(f"no block '{choice}' in {self.path.name} (blocks: {names})")
